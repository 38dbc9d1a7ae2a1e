import type { Command } from 'commander';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../lib/logger';
import { createRegistry } from '../lib/metrics';
import { closeServer, healthApp, listen, type RunningService, type ServiceDefinition } from '../lib/service';
import { pipelineServices, type PipelineServiceName } from '../lib/services';
import { parseEnv } from '../lib/config';
import { serviceSettings } from '../lib/shared.settings';
import { onShutdown } from '../lib/shutdown';
import { retrainEnabled } from '../models/retrain.settings';
import { connectionEnv } from './connections';

/**
 * Scheduled jobs: run like the pipeline's services (/health, /ready, /metrics), but off unless
 * configured, so `run all` and `npm start` start them only when switched on.
 */
export const scheduledJobs = [{ name: 'retrain', enabled: retrainEnabled }] as const;

export type ServiceName = PipelineServiceName;

/**
 * The long-running services and where their code lives. Loaded lazily, so `pdmctl run window`
 * does not load the ONNX runtime. A service without an entry here is not built yet.
 */
export const serviceDefinitions: Partial<Record<ServiceName, () => ServiceDefinition>> = {
  window: () => (require('../processors/window/window.service') as typeof import('../processors/window/window.service')).windowService,
  inference: () => (require('../processors/inference/inference.service') as typeof import('../processors/inference/inference.service')).inferenceService,
  'sink-postgres': () => (require('../sinks/postgres/postgres.service') as typeof import('../sinks/postgres/postgres.service')).postgresSinkService,
  'sink-email': () => (require('../sinks/email/email.service') as typeof import('../sinks/email/email.service')).emailService,
  api: () => (require('../api/api.service') as typeof import('../api/api.service')).apiService,
  'mqtt-bridge': () => (require('../producers/mqtt/mqtt-bridge.service') as typeof import('../producers/mqtt/mqtt-bridge.service')).mqttBridgeService,
  retrain: () => (require('../models/retrain.service') as typeof import('../models/retrain.service')).retrainService,
};

const RUNNABLE: ServiceName[] = pipelineServices.filter((s) => s.name !== 'simulate').map((s) => s.name);

const metricsPortOf = (name: ServiceName): number => pipelineServices.find((s) => s.name === name)!.metricsPort;

/** The scheduled jobs switched on in `env`. */
export const enabledJobs = (env: NodeJS.ProcessEnv): ServiceName[] => scheduledJobs.filter((j) => j.enabled(env)).map((j) => j.name);

interface RunFlags {
  metricsPort?: string;
}

export async function runServices(names: ServiceName[], flags: RunFlags = {}): Promise<void> {
  const env = connectionEnv();
  const serviceEnv = parseEnv(serviceSettings, env);
  const host = serviceEnv.PDM_METRICS_HOST;
  const started: Array<{ name: string; service: RunningService; server: Server }> = [];
  const stopAll = async () => {
    for (const { name, service, server } of started.reverse()) {
      await service.stop().catch((err: unknown) => console.error(`${name}: stopping failed: ${(err as Error).message}`));
      await closeServer(server);
    }
  };
  let stopping: Promise<void> | undefined;
  const stopOnce = () => (stopping ??= stopAll());
  const release = onShutdown(async () => {
    await stopOnce();
    release();
    // Everything is stopped and committed: a connection a library failed to close must not keep
    // the process (and whoever waits for it) hanging.
    setTimeout(() => process.exit(), 2000).unref();
  });
  // A service that can't go on stops the process with it, non-zero, for a supervisor to restart.
  const fail = (name: string) => (error: Error) => {
    console.error(`${name}: ${error.message}; stopping`);
    process.exitCode = 1;
    void stopOnce().finally(() => {
      release();
      setTimeout(() => process.exit(), 2000).unref();
    });
  };
  try {
    for (const name of names) {
      const definition = serviceDefinitions[name]!();
      const logger = createLogger({ name });
      const metrics = createRegistry(name);
      const clock = Date.now;
      const startedMs = clock();
      const service = await definition.start({ env, logger, metrics, clock, fail: fail(name) });
      const defaultPort = metricsPortOf(name);
      const port = Number(names.length === 1 ? (flags.metricsPort ?? serviceEnv.PDM_METRICS_PORT ?? defaultPort) : defaultPort);
      const app = healthApp(name, metrics, () => service.ready(), startedMs, clock);
      if (service.routes) app.use(service.routes);
      const server = await listen(app, port, host);
      started.push({ name, service, server });
      // Port 0 asks for any free port: name the one we got.
      const bound = (server.address() as AddressInfo).port;
      logger.info({ health: `http://${host}:${bound}/health`, metrics: `http://${host}:${bound}/metrics` }, `${name} started`);
    }
  } catch (err) {
    // A start that failed halfway (Kafka went away between two consumers) stops what it started;
    // the process then exits non-zero even if a library left a timer or socket behind.
    await stopAll();
    release();
    setTimeout(() => process.exit(), 2000).unref();
    throw err;
  }
}

export function registerRunCommand(program: Command): void {
  program
    .command('run <service>')
    .description(`run ${[...RUNNABLE, 'all'].join('|')} until SIGTERM or Ctrl-C, then stop cleanly`)
    .option('--metrics-port <port>', 'port for /health, /ready and /metrics (default: the service\'s own, or PDM_METRICS_PORT)')
    .action(async (name: string, flags: RunFlags) => {
      // `all`: every built service, and the scheduled jobs that are switched on.
      const jobs = scheduledJobs.map((j): ServiceName => j.name);
      const on = enabledJobs(connectionEnv());
      const built = RUNNABLE.filter((n) => serviceDefinitions[n] && (!jobs.includes(n) || on.includes(n)));
      if (name !== 'all' && !(RUNNABLE as readonly string[]).includes(name)) {
        console.error(`pdmctl run: unknown service ${JSON.stringify(name)}; one of ${[...RUNNABLE, 'all'].join(', ')}`);
        process.exitCode = 2;
        return;
      }
      const names = name === 'all' ? built : [name as ServiceName];
      const missing = names.filter((n) => !serviceDefinitions[n]);
      if (missing.length > 0 || names.length === 0) {
        console.error(`pdmctl run ${name} is not built yet: ${name === 'all' ? 'no service is' : 'it arrives with its issue'}.`);
        process.exitCode = 2;
        return;
      }
      await runServices(names, flags);
    });
}
