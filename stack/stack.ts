import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PdmError, errorMessage } from '../lib/errors';
import { repoRoot } from '../lib/paths';
import { isOurProcess, processExists, readPid, spawnDetached, stopProcess, tailFile, waitUntilHealthy } from './process';
import { quietReporter, type Reporter } from './reporter';
import { loadSecrets } from './secrets';
import { serverDir, type StackContext, type StackServer } from './server';
import { kafkaServer } from './servers/kafka';
import { PIPELINE_DATABASE, PIPELINE_ROLE, postgresFollower, postgresPrimary } from './servers/postgres';
import { prometheusServer } from './servers/prometheus';
import { registryServer } from './servers/registry';
import { smtpServer } from './servers/smtp';
import { loadStackSettings, type StackSettings } from './settings';

/** Every server of the local stack, in start order (a server's dependencies come before it). */
export const stackServers: readonly StackServer[] = [kafkaServer, registryServer, postgresPrimary, postgresFollower, smtpServer, prometheusServer];

export type ServerState = 'healthy' | 'unhealthy' | 'stopped';

export interface ServerStatus {
  name: string;
  title: string;
  address: string;
  state: ServerState;
  pid?: number;
  detail?: string;
  log: string;
}

export interface UpResult {
  name: string;
  outcome: 'started' | 'running' | 'failed' | 'skipped';
  pid?: number;
  seconds: number;
  error?: string;
}

function context(settings: StackSettings, reporter: Reporter): StackContext {
  return { settings, reporter, secrets: loadSecrets(settings.PDM_STATE_DIR) };
}

const files = (ctx: StackContext, server: StackServer) => {
  const dir = serverDir(ctx, server.name);
  return { dir, pidFile: path.join(dir, 'pid'), logFile: path.join(dir, `${server.name}.log`) };
};

function runningPid(ctx: StackContext, server: StackServer): number | undefined {
  const pid = readPid(files(ctx, server).pidFile);
  return pid !== undefined && isOurProcess(pid, server.marker(ctx)) ? pid : undefined;
}

function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A server killed a moment ago may hold its port for a little longer while the kernel reaps it. */
async function portStaysInUse(host: string, port: number, graceMs = 5000): Promise<boolean> {
  const deadline = Date.now() + graceMs;
  while (await portInUse(host, port)) {
    if (Date.now() >= deadline) return true;
    await sleep(250);
  }
  return false;
}

/**
 * Serialises stack commands across processes (a test run and a person may both call `up`). The
 * lock names its holder's pid; a lock whose holder is gone is taken over.
 */
async function withLock<T>(settings: StackSettings, reporter: Reporter, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(settings.PDM_STATE_DIR, { recursive: true });
  const lock = path.join(settings.PDM_STATE_DIR, 'stack.lock');
  let announced = false;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      const holder = readPid(lock);
      const alive = holder !== undefined && holder !== process.pid && (() => {
        try {
          process.kill(holder, 0);
          return true;
        } catch {
          return false;
        }
      })();
      if (!alive) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (!announced) reporter.info(`waiting for another pdmctl stack command (pid ${holder}) to finish`);
      announced = true;
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

async function upOne(ctx: StackContext, server: StackServer): Promise<UpResult> {
  const started = Date.now();
  const { dir, pidFile, logFile } = files(ctx, server);
  const seconds = () => Math.round((Date.now() - started) / 100) / 10;
  const timeoutMs = ctx.settings.PDM_STACK_TIMEOUT_S * 1000;
  let pid = runningPid(ctx, server);
  let outcome: UpResult['outcome'] = 'running';
  let exitStatus: () => string | undefined = () => undefined;
  try {
    if (pid !== undefined) {
      // Ours and running, or so it seems: a server killed a moment ago still shows until the
      // kernel has finished with it. If it goes away while we wait, it is started like any other.
      const runningPidNow = pid;
      const health = await waitUntilHealthy(() => server.probe(ctx), { timeoutMs, alive: () => isOurProcess(runningPidNow, server.marker(ctx)) });
      if (!health.ok && isOurProcess(runningPidNow, server.marker(ctx))) throw new PdmError('STACK_SERVER_FAILED', health.reason);
      if (!health.ok) pid = undefined;
    }
    if (pid === undefined) {
      for (const port of server.ports(ctx)) {
        if (await portStaysInUse(ctx.settings.PDM_STACK_HOST, port)) {
          throw new PdmError('STACK_SERVER_FAILED', `port ${port} is already taken by another program; stop it or choose another port (see "Configuration" in the README)`);
        }
      }
      fs.mkdirSync(dir, { recursive: true });
      const launch = await server.prepare(ctx);
      const spawned = spawnDetached({ ...launch, cwd: dir, logFile, pidFile, uid: launch.user?.uid, gid: launch.user?.gid });
      pid = spawned.pid;
      exitStatus = spawned.exitStatus;
      outcome = 'started';
      ctx.reporter.progress(`  ${server.name}: started (pid ${pid}), waiting for it to answer`);
      const spawnedPid = pid;
      // A process we just spawned is ours by construction; recognising it by its command line
      // would race with exec (between fork and exec /proc shows our own command line).
      const health = await waitUntilHealthy(() => server.probe(ctx), { timeoutMs, alive: () => processExists(spawnedPid) });
      if (!health.ok) {
        const status = exitStatus();
        throw new PdmError('STACK_SERVER_FAILED', status ? `${health.reason}; it ended with ${status}` : health.reason);
      }
    }
    await server.afterReady?.(ctx);
    return { name: server.name, outcome, pid, seconds: seconds() };
  } catch (err) {
    const reason = errorMessage(err);
    const log = fs.existsSync(logFile) ? `\n--- last lines of ${logFile}:\n${tailFile(logFile)}` : '';
    return { name: server.name, outcome: 'failed', pid, seconds: seconds(), error: `${reason}${log}` };
  }
}

/**
 * Starts every server that is not running (servers are started concurrently, each once its
 * dependencies answer) and returns when all answer or have failed. Running servers are left as
 * they are, so `up` is idempotent and restarts only what died.
 */
export async function stackUp(options: { settings?: StackSettings; reporter?: Reporter } = {}): Promise<UpResult[]> {
  const settings = options.settings ?? loadStackSettings();
  const reporter = options.reporter ?? quietReporter;
  return withLock(settings, reporter, async () => {
    const ctx = context(settings, reporter);
    const results = new Map<string, Promise<UpResult>>();
    for (const server of stackServers) {
      const deps = server.dependsOn.map((name) => results.get(name)!);
      results.set(
        server.name,
        Promise.all(deps).then(async (done) => {
          const failed = done.find((d) => d.outcome === 'failed' || d.outcome === 'skipped');
          if (failed) return { name: server.name, outcome: 'skipped', seconds: 0, error: `needs ${failed.name}, which did not come up` } satisfies UpResult;
          const result = await upOne(ctx, server);
          reporter.done();
          if (result.outcome === 'started') reporter.info(`  ✔ ${server.name.padEnd(18)} started in ${result.seconds} s   ${server.address(ctx)}`);
          if (result.outcome === 'running') reporter.info(`  ✔ ${server.name.padEnd(18)} already running   ${server.address(ctx)}`);
          return result;
        }),
      );
    }
    return Promise.all(results.values());
  });
}

/** Stops the servers this stack started (by pid file and command line), dependants first. */
export async function stackDown(options: { settings?: StackSettings; reporter?: Reporter; only?: string[] } = {}): Promise<Array<{ name: string; outcome: 'stopped' | 'killed' | 'not running' }>> {
  const settings = options.settings ?? loadStackSettings();
  const reporter = options.reporter ?? quietReporter;
  return withLock(settings, reporter, async () => {
    const ctx = context(settings, reporter);
    const results = [];
    const selected = stackServers.filter((s) => !options.only || options.only.includes(s.name));
    // Stop dependants (the follower) first, then the rest concurrently.
    const dependants = selected.filter((s) => s.dependsOn.length > 0);
    const roots = selected.filter((s) => s.dependsOn.length === 0);
    for (const group of [dependants, roots]) {
      results.push(
        ...(await Promise.all(
          group.map(async (server) => {
            const pid = runningPid(ctx, server);
            if (pid === undefined) return { name: server.name, outcome: 'not running' as const };
            const outcome = await stopProcess(pid, server.stopSignal, 30_000);
            fs.rmSync(files(ctx, server).pidFile, { force: true });
            reporter.info(`  ■ ${server.name.padEnd(18)} ${outcome}`);
            return { name: server.name, outcome };
          }),
        )),
      );
    }
    return results;
  });
}

export async function stackStatus(options: { settings?: StackSettings } = {}): Promise<ServerStatus[]> {
  const settings = options.settings ?? loadStackSettings();
  const ctx = context(settings, quietReporter);
  return Promise.all(
    stackServers.map(async (server) => {
      const pid = runningPid(ctx, server);
      const base = { name: server.name, title: server.title(ctx), address: server.address(ctx), log: files(ctx, server).logFile };
      if (pid === undefined) return { ...base, state: 'stopped' as const };
      const problem = await server.probe(ctx).catch((err: unknown) => errorMessage(err));
      return problem === undefined ? { ...base, state: 'healthy' as const, pid } : { ...base, state: 'unhealthy' as const, pid, detail: problem };
    }),
  );
}

/** CONTRACT.md's connection variables for the local stack (plus a few conveniences). */
export function stackEnv(settings: StackSettings = loadStackSettings()): Record<string, string> {
  const { secrets } = context(settings, quietReporter);
  const host = settings.PDM_STACK_HOST;
  const pdm = `${PIPELINE_ROLE}:${encodeURIComponent(secrets.pdmPassword)}`;
  return {
    KAFKA_BROKERS: `${host}:${settings.PDM_KAFKA_PORT}`,
    SCHEMA_REGISTRY_URL: registryServer.address({ settings, secrets, reporter: quietReporter }),
    DATABASE_URL: `postgres://${pdm}@${host}:${settings.PDM_POSTGRES_PORT}/${PIPELINE_DATABASE}`,
    DATABASE_FOLLOWER_URL: `postgres://${pdm}@${host}:${settings.PDM_POSTGRES_FOLLOWER_PORT}/${PIPELINE_DATABASE}`,
    SMTP_URL: `smtp://${host}:${settings.PDM_SMTP_PORT}`,
    MODELS_DIR: path.join(repoRoot, 'models'),
    PDM_INBOX_URL: `http://${host}:${settings.PDM_INBOX_PORT}`,
    PROMETHEUS_URL: `http://${host}:${settings.PDM_PROMETHEUS_PORT}`,
    // sink-postgres' roles: `db migrate` (and the sink at start) set these as their passwords.
    PDM_WRITER_PASSWORD: secrets.writerPassword,
    PDM_ANALYST_PASSWORD: secrets.analystPassword,
  };
}

/** `export NAME='value'` lines, quoted for any POSIX shell. */
export function renderExports(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([name, value]) => `export ${name}='${value.replace(/'/g, `'\\''`)}'`)
    .join('\n');
}
