import { performance } from 'node:perf_hooks';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Logger } from '../lib/logger';
import { Counter, Histogram, metricOnce, type Registry } from '../lib/metrics';
import { keyChecker, presentedKey } from './auth';
import { ENDPOINTS, type Endpoint } from './endpoints';
import type { ChangeFeed } from './events';
import { databaseUnavailable, type ApiQueries } from './queries';
import type { AckTarget } from '../lib/alert-control';
import type { Accepted, SilenceView } from './schemas';
import { ApiError, parseBody, parseParameters, type SilenceBody } from './validation';

/**
 * The API's HTTP routes (endpoints.ts lists them), the console at / and the API's description at
 * /openapi.json and /docs. JSON in every answer, errors included (`{ error, message, parameter? }`).
 * Mounted by `pdmctl run` after /health, /ready and /metrics (lib/service.ts), which stay open
 * whether or not an API key is configured; so do the console's files and the description (they
 * hold no data: the console asks for the key when the API answers 401).
 */

/** The writes: control events on pdm.alert-control.v1 (api.service.ts wires the producer). */
export interface ApiWrites {
  ack(alert: AckTarget, body: { by: string; reason?: string }): Promise<Accepted>;
  silence(body: SilenceBody): Promise<Accepted>;
  endSilence(silence: SilenceView, body: { by: string; reason?: string }): Promise<Accepted>;
}

export interface ApiRoutesOptions {
  queries: Pick<ApiQueries, 'fleet' | 'machines' | 'machine' | 'assessments' | 'alerts' | 'alertToAck' | 'actions'>;
  /** Where acknowledgements and silences go; without it, writes are answered 503. */
  writes?: ApiWrites;
  /** GET /events; without it, 404. */
  changes?: ChangeFeed;
  /** The built console (console/dist), served at /; absent: / says how to build it. */
  consoleDir?: string;
  /** The OpenAPI document, served at /openapi.json. */
  openApi?: unknown;
  /** When set, each request must present it (auth.ts). */
  apiKey?: string;
  metrics: Registry;
  logger: Logger;
  /** True once the service is stopping: requests are answered 503 while the last ones finish. */
  stopping?: () => boolean;
  /** Milliseconds from an arbitrary origin, for request durations (tests pass their own). */
  now?: () => number;
  /** Epoch milliseconds, for silences' and acknowledgements' "now". */
  clock?: () => number;
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

/** What a handler gets: the request's parameters, query and body as its endpoint's schemas made them. */
interface Input {
  params: Record<string, string>;
  query: unknown;
  body: unknown;
}

type Handler = (input: Input, res: Response) => Promise<unknown>;

/** The handlers of ENDPOINTS, by `method path`. */
function handlers(options: ApiRoutesOptions): Record<string, Handler> {
  const { queries } = options;
  const clock = options.clock ?? Date.now;
  const writes = () => options.writes ?? unavailable('kafka_unavailable', 'writes are not configured: the API has no Kafka connection');
  return {
    'get /fleet': () => queries.fleet(),
    'get /machines': async ({ query }) => {
      const { items, nextCursor } = await queries.machines(query as never);
      return { machines: items, nextCursor };
    },
    'get /machines/:id': async ({ params, query }) => {
      const machine = await queries.machine(params.id!, query as never);
      if (!machine) throw new ApiError(404, 'not_found', `no machine ${JSON.stringify(params.id)}: it has no window in pdm.window_features`);
      return machine;
    },
    'get /machines/:id/assessments': async ({ params, query }) => {
      const { items, nextCursor } = await queries.assessments(params.id!, query as never);
      return { assessments: items, nextCursor };
    },
    'get /alerts': async ({ query }) => {
      const { items, nextCursor } = await queries.alerts(query as never);
      return { alerts: items, nextCursor };
    },
    'post /alerts/:id/ack': async ({ params, body }) => {
      const alert = await queries.alertToAck(params.id!);
      if (!alert) throw new ApiError(404, 'not_found', `no alert ${JSON.stringify(params.id)} in pdm.alerts`);
      if (!alert.firing) throw new ApiError(409, 'conflict', `alert ${alert.dedupKey} has resolved: there is nothing to acknowledge`);
      return writes().ack(alert, body as never);
    },
    'get /silences': async ({ query }) => ({ silences: await queries.actions.silences(clock(), (query as { active?: boolean }).active) }),
    'post /silences': ({ body }) => writes().silence(body as SilenceBody),
    'post /silences/:id/end': async ({ params, body }) => {
      const silence = await queries.actions.silence(params.id!, clock());
      if (!silence) throw new ApiError(404, 'not_found', `no silence ${params.id} in pdm.alert_actions`);
      if (!silence.active && Date.parse(silence.startsAt) <= clock()) throw new ApiError(409, 'conflict', `silence ${silence.silenceId} is already over`);
      return writes().endSilence(silence, body as never);
    },
    'get /actions': async ({ query }) => {
      const { items, nextCursor } = await queries.actions.actions(query as never);
      return { actions: items, nextCursor };
    },
    'get /events': async (_input, res) => {
      if (!options.changes) throw new ApiError(404, 'not_found', 'live changes are not served here');
      options.changes.subscribe(res);
      return STREAMING;
    },
  };
}

/** A handler's answer when it has taken the response over (a stream). */
const STREAMING = Symbol('streaming');

function unavailable(code: 'kafka_unavailable', message: string): never {
  throw new ApiError(503, code, message);
}

export function apiRoutes(options: ApiRoutesOptions): express.Router {
  const { logger } = options;
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
    next();
  });

  mountPublic(router, options);

  const authorize = (req: Request, _res: Response, next: NextFunction) => {
    if (options.stopping?.()) return next(new ApiError(503, 'stopping', 'the API is stopping; try again shortly'));
    if (keyMatches && !keyMatches(presentedKey(req.headers))) return next(new ApiError(401, 'unauthorized', 'an API key is required: send Authorization: Bearer <key> or X-API-Key: <key>'));
    next();
  };
  const json = express.json({ limit: '16kb', strict: true });
  const byRoute = handlers(options);
  const methods = new Map<string, string[]>();
  for (const endpoint of ENDPOINTS) methods.set(endpoint.path, [...(methods.get(endpoint.path) ?? []), endpoint.method.toUpperCase()]);

  for (const endpoint of ENDPOINTS) {
    const handler = byRoute[`${endpoint.method} ${endpoint.path}`]!;
    const named = (_req: Request, res: Response, next: NextFunction) => {
      res.locals.route = endpoint.path;
      res.set('Cache-Control', 'no-store');
      next();
    };
    const serve = async (req: Request, res: Response) => {
      const answer = await handler(input(endpoint, req), res);
      if (answer !== STREAMING) res.status(endpoint.response.status).json(answer);
    };
    router[endpoint.method](endpoint.path, named, authorize, ...(endpoint.body ? [json] : []), serve);
  }
  for (const [template, allowed] of methods) {
    const allow = allowed.includes('GET') ? [...allowed, 'HEAD'] : allowed;
    router.all(template, (_req: Request, res: Response, next: NextFunction) => {
      res.locals.route = template;
      res.set('Allow', allow.join(', '));
      next(new ApiError(405, 'method_not_allowed', `only ${allow.join(', ')} is served here`));
    });
  }

  router.use((req: Request, _res: Response, next: NextFunction) =>
    next(new ApiError(404, 'not_found', `no route ${req.method} ${req.path}; the routes are listed at /openapi.json and described at /docs`)),
  );

  // Express knows an error handler by its four parameters.
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const error = asApiError(err);
    if (error.status >= 500) logger.warn({ route: res.locals.route ?? UNMATCHED, status: error.status, code: error.code, err: (error.cause as Error | undefined)?.message ?? error.message }, 'an API request failed');
    res.set('Cache-Control', 'no-store');
    res.status(error.status).json(error.body());
  });

  return router;
}

/** A request's parameters, query and body, checked by its endpoint's schemas (400 naming each bad one otherwise). */
function input(endpoint: Endpoint, req: Request): Input {
  return {
    params: endpoint.params ? (parseParameters(endpoint.params, { ...req.params }) as Record<string, string>) : {},
    query: endpoint.query ? parseParameters(endpoint.query, { ...(req.query as Record<string, unknown>) }) : parseParameters(EMPTY_QUERY, { ...(req.query as Record<string, unknown>) }),
    body: endpoint.body ? parseBody(endpoint.body, req.body) : undefined,
  };
}

const EMPTY_QUERY = z.strictObject({});

/** The console's files at /, the OpenAPI document at /openapi.json and its reference page at /docs: no data, no key. */
function mountPublic(router: express.Router, options: ApiRoutesOptions): void {
  const named = (route: string) => (_req: Request, res: Response, next: NextFunction) => {
    res.locals.route = route;
    next();
  };
  if (options.openApi) router.get('/openapi.json', named('/openapi.json'), (_req, res) => void res.json(options.openApi));
  router.get('/docs', named('/docs'), (_req, res) => void res.type('html').send(DOCS_PAGE));
  router.get('/docs/init.js', named('/docs'), (_req, res) => void res.type('js').send(DOCS_INIT));
  // Static files are labelled when served: a path they do not have falls through to the 404 of no route.
  router.use('/docs', express.static(swaggerUiDir(), { index: false, maxAge: '1h', setHeaders: (res) => void (res.locals.route = '/docs') }));
  if (options.consoleDir) {
    // index.html revalidates (it names the bundle); the bundle's own files may be cached a while.
    const setHeaders = (res: Response, file: string) => {
      res.locals.route = '/';
      res.set('Cache-Control', file.endsWith('.html') ? 'no-cache' : 'public, max-age=300');
    };
    router.use(express.static(options.consoleDir, { index: 'index.html', setHeaders }));
  } else {
    router.get('/', named('/'), (_req, res) =>
      void res.status(503).type('text').send('The console is not built: run `npm run build:console` (npm ci builds it), then reload. The API itself answers: see /docs.'),
    );
  }
}

function swaggerUiDir(): string {
  return path.dirname(require.resolve('swagger-ui-dist/package.json'));
}

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pdm-stream API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="docs"></div><script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/init.js"></script></body></html>`;

const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#docs', deepLinking: true, tryItOutEnabled: true, persistAuthorization: true });`;

/** What to answer for an error: its own status for an ApiError; 503 when the database is away or busy; 500 otherwise. */
export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  // express.json and friends mark client errors with a status; none is mounted, but a malformed URL reaches here as one.
  const status = (err as { status?: unknown } | undefined)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) return new ApiError(status, 'bad_request', (err as Error).message, [], { cause: err });
  if (databaseUnavailable(err)) return new ApiError(503, 'database_unavailable', 'the database did not answer in time; try again', [], { cause: err });
  return new ApiError(500, 'internal', 'the request failed; the service log says why', [], { cause: err });
}
