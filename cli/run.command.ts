import type { Command } from 'commander';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../lib/logger';
import { createRegistry } from '../lib/metrics';
import { closeServer, healthApp, listen, type RunningService, type ServiceDefinition } from '../lib/service';
import { pipelineServices, type PipelineServiceName } from '../lib/services';
import { onShutdown } from '../lib/shutdown';
import { connectionEnv } from './connections';

/**
 * The long-running services and where their code lives. Loaded lazily, so `pdmctl run window`
 * does not load the ONNX runtime. A service without an entry here is not built yet.
 */
export const serviceDefinitions: Partial<Record<PipelineServiceName, () => ServiceDefinition>> = {
  window: () => (require('../processors/window/window.service') as typeof import('../processors/window/window.service')).windowService,
  inference: () => (require('../processors/inference/inference.service') as typeof import('../processors/inference/inference.service')).inferenceService,
  'sink-postgres': () => (require('../sinks/postgres/postgres.service') as typeof import('../sinks/postgres/postgres.service')).postgresSinkService,
  'sink-email': () => (require('../sinks/email/email.service') as typeof import('../sinks/email/email.service')).emailService,
  api: () => (require('../api/api.service') as typeof import('../api/api.service')).apiService,
  'mqtt-bridge': () => (require('../producers/mqtt/mqtt-bridge.service') as typeof import('../producers/mqtt/mqtt-bridge.service')).mqttBridgeService,
};

const RUNNABLE = pipelineServices.filter((s) => s.name !== 'simulate').map((s) => s.name);

interface RunFlags {
  metricsPort?: string;
}

export async function runServices(names: PipelineServiceName[], flags: RunFlags = {}): Promise<void> {
  const env = connectionEnv();
  const host = env.PDM_METRICS_HOST ?? '127.0.0.1';
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
      const defaultPort = pipelineServices.find((s) => s.name === name)!.metricsPort;
      const port = Number(names.length === 1 ? (flags.metricsPort ?? env.PDM_METRICS_PORT ?? defaultPort) : defaultPort);
      const app = healthApp(name, metrics, () => service.ready(), startedMs, clock);
      if (service.routes) app.use(service.routes);
      const server = await listen(app, port, host);
      started.push({ name, service, server });
      // Port 0 asks for any free port: name the one we got.
      const bound = (server.address() as AddressInfo).port;
      logger.info({ health: `http://${host}:${bound}/health`, metrics: `http://${host}:${bound}/metrics` }, `${name} started`);
    }
  } catch (err) {
    await stopAll();
    release();
    throw err;
  }
}

export function registerRunCommand(program: Command): void {
  program
    .command('run <service>')
    .description(`run ${[...RUNNABLE, 'all'].join('|')} until SIGTERM or Ctrl-C, then stop cleanly`)
    .option('--metrics-port <port>', 'port for /health, /ready and /metrics (default: the service\'s own, or PDM_METRICS_PORT)')
    .action(async (name: string, flags: RunFlags) => {
      const built = RUNNABLE.filter((n) => serviceDefinitions[n]);
      if (name !== 'all' && !(RUNNABLE as readonly string[]).includes(name)) {
        console.error(`pdmctl run: unknown service ${JSON.stringify(name)}; one of ${[...RUNNABLE, 'all'].join(', ')}`);
        process.exitCode = 2;
        return;
      }
      const names = name === 'all' ? built : [name as PipelineServiceName];
      const missing = names.filter((n) => !serviceDefinitions[n]);
      if (missing.length > 0 || names.length === 0) {
        console.error(`pdmctl run ${name} is not built yet: ${name === 'all' ? 'no service is' : 'it arrives with its issue'}.`);
        process.exitCode = 2;
        return;
      }
      await runServices(names, flags);
    });
}
