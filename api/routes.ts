import { performance } from 'node:perf_hooks';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../lib/logger';
import { Counter, Histogram, metricOnce, type Registry } from '../lib/metrics';
import { keyChecker, presentedKey } from './auth';
import { databaseUnavailable, type ApiQueries } from './queries';
import { alertsQuery, ApiError, machineParams, machineQuery, machinesQuery, parseParameters } from './validation';

/**
 * The read API's HTTP routes: GET /machines, /machines/:id, /alerts. JSON in every answer, errors
 * included (`{ error, message, parameter? }`). Mounted by `pdmctl run` after /health, /ready and
 * /metrics (lib/service.ts), which stay open whether or not an API key is configured.
 */

export interface ApiRoutesOptions {
  queries: Pick<ApiQueries, 'machines' | 'machine' | 'alerts'>;
  /** When set, each request must present it (auth.ts). */
  apiKey?: string;
  metrics: Registry;
  logger: Logger;
  /** True once the service is stopping: requests are answered 503 while the last ones finish. */
  stopping?: () => boolean;
  /** Milliseconds from an arbitrary origin, for request durations (tests pass their own). */
  now?: () => number;
}

/** The route label of requests no route matched (a bounded label, never the path itself). */
export const UNMATCHED = 'unmatched';

function apiMetrics(registry: Registry) {
  return {
    requests: metricOnce(registry, 'pdm_api_requests_total', () => new Counter({ name: 'pdm_api_requests_total', help: 'Requests answered by the read API, by route template and status code.', labelNames: ['route', 'status'], registers: [registry] })),
    seconds: metricOnce(
      registry,
      'pdm_api_request_duration_seconds',
      () => new Histogram({ name: 'pdm_api_request_duration_seconds', help: 'Time to answer a read API request, by route template and status code.', labelNames: ['route', 'status'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] }),
    ),
  };
}

export function apiRoutes(options: ApiRoutesOptions): express.Router {
  const { queries, logger } = options;
  const metrics = apiMetrics(options.metrics);
  const now = options.now ?? (() => performance.now());
  const keyMatches = options.apiKey === undefined ? undefined : keyChecker(options.apiKey);
  const router = express.Router();

  router.use((_req: Request, res: Response, next: NextFunction) => {
    const started = now();
    res.on('finish', () => {
      const labels = { route: (res.locals.route as string | undefined) ?? UNMATCHED, status: String(res.statusCode) };
      metrics.requests.inc(labels);
      metrics.seconds.observe(labels, (now() - started) / 1000);
    });
    res.set('Cache-Control', 'no-store');
    next();
  });

  const authorize = (req: Request, _res: Response, next: NextFunction) => {
    if (options.stopping?.()) return next(new ApiError(503, 'stopping', 'the API is stopping; try again shortly'));
    if (keyMatches && !keyMatches(presentedKey(req.headers))) return next(new ApiError(401, 'unauthorized', 'an API key is required: send Authorization: Bearer <key> or X-API-Key: <key>'));
    next();
  };

  /** A GET route, its template named for the metrics, behind the key; any other method is refused. */
  const get = (template: string, handler: (req: Request, res: Response) => Promise<void>) => {
    const named = (_req: Request, res: Response, next: NextFunction) => {
      res.locals.route = template;
      next();
    };
    router.get(template, named, authorize, handler);
    router.all(template, named, (_req: Request, res: Response, next: NextFunction) => {
      res.set('Allow', 'GET, HEAD');
      next(new ApiError(405, 'method_not_allowed', 'only GET is served here'));
    });
  };

  get('/machines', async (req, res) => {
    const query = parseParameters(machinesQuery, { ...req.query });
    const { items, nextCursor } = await queries.machines(query);
    res.json({ machines: items, nextCursor });
  });

  get('/machines/:id', async (req, res) => {
    const { id } = parseParameters(machineParams, { ...req.params });
    const query = parseParameters(machineQuery, { ...req.query });
    const machine = await queries.machine(id, query);
    if (!machine) throw new ApiError(404, 'not_found', `no machine ${JSON.stringify(id)}: it has no window in pdm.window_features`);
    res.json(machine);
  });

  get('/alerts', async (req, res) => {
    const query = parseParameters(alertsQuery, { ...req.query });
    const { items, nextCursor } = await queries.alerts(query);
    res.json({ alerts: items, nextCursor });
  });

  router.use((req: Request, _res: Response, next: NextFunction) => next(new ApiError(404, 'not_found', `no route ${req.method} ${req.path}; the API serves GET /machines, /machines/:id and /alerts`)));

  // Express knows an error handler by its four parameters.
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const error = asApiError(err);
    if (error.status >= 500) logger.warn({ route: res.locals.route ?? UNMATCHED, status: error.status, code: error.code, err: (error.cause as Error | undefined)?.message ?? error.message }, 'a read API request failed');
    res.status(error.status).json(error.body());
  });

  return router;
}

/** What to answer for an error: its own status for an ApiError; 503 when the database is away or busy; 500 otherwise. */
export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  // express.json and friends mark client errors with a status; none is mounted, but a malformed URL reaches here as one.
  const status = (err as { status?: unknown } | undefined)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) return new ApiError(status, 'bad_request', (err as Error).message, [], { cause: err });
  if (databaseUnavailable(err)) return new ApiError(503, 'database_unavailable', 'the database did not answer in time; try again', [], { cause: err });
  return new ApiError(500, 'internal', 'the request failed; the service log says why', [], { cause: err });
}
