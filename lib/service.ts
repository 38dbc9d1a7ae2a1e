import type { Server } from 'node:http';
import express from 'express';
import type { Logger } from './logger';
import type { Registry } from './metrics';
import { PdmError } from './errors';

/**
 * The lifecycle every long-running service shares: start, serve /health, /ready and /metrics,
 * stop cleanly on SIGTERM or Ctrl-C (drain, flush, commit), exit.
 */

export interface ServiceContext {
  env: NodeJS.ProcessEnv;
  logger: Logger;
  metrics: Registry;
  clock: () => number;
  /** The service can't go on (its consumer gave up): the process stops it and exits non-zero, for a supervisor to restart. */
  fail?: (error: Error) => void;
}

export interface RunningService {
  /** undefined when ready to do its work; otherwise what it is waiting for. */
  ready(): Promise<string | undefined>;
  /** Drains work in flight and releases connections. */
  stop(): Promise<void>;
  /** HTTP routes of its own (the read API), served on the same port after /health, /ready and /metrics. */
  routes?: express.Router;
}

export interface ServiceDefinition {
  name: string;
  start(ctx: ServiceContext): Promise<RunningService>;
}

/** GET /health (the process answers), /ready (it can do its work), /metrics (Prometheus). */
export function healthApp(name: string, metrics: Registry, ready: () => Promise<string | undefined>, startedMs: number, clock: () => number): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', service: name, uptimeSeconds: Math.round((clock() - startedMs) / 1000) });
  });
  app.get('/ready', async (_req, res) => {
    const reason = await ready().catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
    if (reason === undefined) res.json({ status: 'ready', service: name });
    else res.status(503).json({ status: 'not ready', service: name, reason });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  });
  return app;
}

export function listen(app: express.Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new PdmError('CONFIG_INVALID', `port ${port} for /health, /ready and /metrics is taken; set PDM_METRICS_PORT to another`) : err),
    );
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
