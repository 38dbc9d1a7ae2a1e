import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { deleteTopics, ensureTopics } from '../../lib/kafka/admin';
import type { KafkaConnection } from '../../lib/kafka/client';
import { repoRoot } from '../../lib/paths';
import { createRegistry, registerTopicSchemas } from '../../lib/registry';
import { topicSpecs, type TopicSpec } from '../../lib/topics';

/**
 * What integration tests share: the connection settings global-setup put into the environment,
 * and unique names so tests never see each other's topics, groups or rows.
 */
export function testEnv(): { kafkaBrokers: string[]; registryUrl: string; databaseUrl: string; followerUrl: string; smtpUrl: string } {
  const need = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: integration tests run through jest's global setup (npm test)`);
    return value;
  };
  return {
    kafkaBrokers: need('KAFKA_BROKERS').split(','),
    registryUrl: need('SCHEMA_REGISTRY_URL'),
    databaseUrl: need('DATABASE_URL'),
    followerUrl: need('DATABASE_FOLLOWER_URL'),
    smtpUrl: need('SMTP_URL'),
  };
}

/** A name no other test run uses: `t-<label>-<8 hex>`. */
export const uniqueName = (label: string): string => `t-${label}-${randomUUID().slice(0, 8)}`;

/**
 * The contract's topics under a prefix of this test file's own, created (with schemas
 * registered) before its tests and deleted after them.
 */
export function useIsolatedTopics(label: string, partitions = 3): { prefix: string; specs: TopicSpec[]; connection: KafkaConnection } {
  const env = testEnv();
  const prefix = `${uniqueName(label)}.`;
  const specs = topicSpecs({ prefix, partitions });
  const connection: KafkaConnection = { brokers: env.kafkaBrokers, clientId: `${label}-test` };
  beforeAll(async () => {
    await ensureTopics(connection, specs);
    await registerTopicSchemas(createRegistry(env.registryUrl), specs);
  });
  afterAll(() => deleteTopics(connection, specs.map((s) => s.name)));
  return { prefix, specs, connection };
}

/** Polls `condition` until it holds; past `timeoutMs` fails with what it waited for. */
export async function waitFor(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 60_000, intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The line a service logs once its metrics server listens; its port in the first group. */
const METRICS_LINE = /"metrics":"http:\/\/127\.0\.0\.1:(\d+)\/metrics"/;

/** Services this test file started that still run (jest gives each test file its own copy of this module). */
const running = new Set<ChildProcess>();

export interface RunningService {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with its exit code. */
  exited: Promise<number | null>;
  /** Its metrics port, once it has logged it; throws with its output if it exits first or does not start within timeoutMs. */
  metricsPort(timeoutMs?: number): Promise<string>;
}

/** Starts `pdmctl <args>` (bin/pdmctl.js) as a child process with `env`; it is remembered until it exits, for killServices. */
export function startService(args: string[], env: NodeJS.ProcessEnv): RunningService {
  const name = `pdmctl ${args.join(' ')}`;
  let output = '';
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'pdmctl.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  running.add(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('exit', () => running.delete(child));

  const findPort = async (timeoutMs: number): Promise<string> => {
    await waitFor(`${name} to log its metrics port`, () => METRICS_LINE.test(output) || child.exitCode !== null || child.signalCode !== null, timeoutMs).catch((err: Error) => {
      throw new Error(`${err.message}:\n${output}`);
    });
    const port = METRICS_LINE.exec(output)?.[1];
    if (!port) throw new Error(`${name} did not start:\n${output}`);
    return port;
  };
  // Found once, then reused; a failed search is not kept, so a later call looks again.
  let port: Promise<string> | undefined;
  const metricsPort = (timeoutMs = 90_000): Promise<string> =>
    (port ??= findPort(timeoutMs).catch((err: unknown) => {
      port = undefined;
      throw err;
    }));

  return { child, output: () => output, exited, metricsPort };
}

/** SIGKILLs every service this test file started that still runs (for afterAll / afterEach). */
export function killServices(): void {
  for (const child of running) child.kill('SIGKILL');
}

/**
 * A Postgres schema of the test file's own (a service it starts migrates it) and a client on the
 * primary that owns it; after the tests the services are killed and the schema dropped.
 */
export function useOwnSchema(label: string): { schema: string; owner: pg.Client } {
  const schema = uniqueName(label).replace(/-/g, '_');
  const owner = new pg.Client({ connectionString: testEnv().databaseUrl });
  beforeAll(() => owner.connect());
  afterAll(async () => {
    killServices();
    await owner.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await owner.end();
  });
  return { schema, owner };
}
