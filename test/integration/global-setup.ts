import { randomBytes } from 'node:crypto';
import { CONNECTION_VARIABLES } from '../../cli/connections';
import { silenceKnownWarnings } from '../../lib/node-warnings';
import { repoRoot } from '../../lib/paths';
import { terminalReporter } from '../../stack/reporter';
import { stackEnv, stackStatus, stackUp } from '../../stack/stack';

/**
 * Servers for the integration tier, from one place:
 * 1. PDM_TEST_EXTERNAL=1: the connection variables already in the environment (an existing stack);
 * 2. a reachable Docker engine: testcontainers runs docker-compose.kafka.yml's servers;
 * 3. otherwise the local stack (`pdmctl stack up`), started if it isn't running.
 * What this setup starts, global-teardown stops.
 */
export interface SetupState {
  mode: 'external' | 'docker' | 'local';
  startedServers: string[];
  compose?: { down(): Promise<unknown> };
}

declare global {
  var __PDM_SETUP__: SetupState | undefined;
}

async function dockerAvailable(): Promise<boolean> {
  if (process.env.PDM_TEST_DOCKER === '0') return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

async function withDocker(): Promise<SetupState> {
  const { DockerComposeEnvironment, Wait } = await import('testcontainers');
  const password = randomBytes(12).toString('hex');
  const compose = await new DockerComposeEnvironment(repoRoot, 'docker-compose.kafka.yml')
    .withEnvironment({ PDM_DB_PASSWORD: password })
    .withWaitStrategy('kafka-1', Wait.forLogMessage(/Kafka Server started/))
    .withWaitStrategy('schema-registry-1', Wait.forHttp('/subjects', 8081))
    .withWaitStrategy('postgres-replica-1', Wait.forLogMessage(/started streaming WAL/))
    .up(['kafka', 'schema-registry', 'postgres', 'postgres-replica', 'mailpit', 'prometheus']);
  Object.assign(process.env, {
    KAFKA_BROKERS: '127.0.0.1:19092',
    SCHEMA_REGISTRY_URL: 'http://127.0.0.1:18081',
    DATABASE_URL: `postgres://pdm:${password}@127.0.0.1:15432/pdm`,
    DATABASE_FOLLOWER_URL: `postgres://pdm:${password}@127.0.0.1:15433/pdm`,
    SMTP_URL: 'smtp://127.0.0.1:11025',
    PDM_INBOX_URL: 'http://127.0.0.1:11080',
    PROMETHEUS_URL: 'http://127.0.0.1:19090',
  });
  return { mode: 'docker', startedServers: [], compose };
}

async function withLocalStack(): Promise<SetupState> {
  const before = await stackStatus();
  const results = await stackUp({ reporter: terminalReporter() });
  const failed = results.filter((r) => r.outcome === 'failed' || r.outcome === 'skipped');
  if (failed.length > 0) throw new Error(`the local stack did not come up:\n${failed.map((f) => `${f.name}: ${f.error}`).join('\n')}`);
  Object.assign(process.env, stackEnv());
  const wasRunning = new Set(before.filter((s) => s.state !== 'stopped').map((s) => s.name));
  return { mode: 'local', startedServers: results.filter((r) => !wasRunning.has(r.name)).map((r) => r.name) };
}

export default async function globalSetup(): Promise<void> {
  silenceKnownWarnings();
  if (process.env.PDM_TEST_EXTERNAL === '1') {
    const missing = CONNECTION_VARIABLES.filter((name) => name !== 'MODELS_DIR' && !process.env[name]);
    if (missing.length > 0) throw new Error(`PDM_TEST_EXTERNAL=1 but ${missing.join(', ')} not set`);
    globalThis.__PDM_SETUP__ = { mode: 'external', startedServers: [] };
    process.env.PDM_TEST_SERVERS = 'external';
    return;
  }
  globalThis.__PDM_SETUP__ = (await dockerAvailable()) ? await withDocker() : await withLocalStack();
  // Test files run in workers that inherit this environment; some tests need to know the mode.
  process.env.PDM_TEST_SERVERS = globalThis.__PDM_SETUP__.mode;
}
