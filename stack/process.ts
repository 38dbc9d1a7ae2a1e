import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { PdmError } from '../lib/errors';

/**
 * Plain-process supervision for the local stack: start a server detached with its output in a log
 * file, remember its pid, recognise it again later (pid plus a marker in its command line, so a
 * recycled pid is never mistaken for ours) and stop it.
 */

export function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** True when `pid` runs and its command line contains `marker` (a path unique to that server). */
export function isOurProcess(pid: number, marker: string): boolean {
  if (!processExists(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((arg) => arg.includes(marker));
  } catch {
    return false;
  }
}

export interface SpawnSpec {
  command: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  logFile: string;
  pidFile: string;
  /** Run as this user (the stack runs Postgres unprivileged when started by root). */
  uid?: number;
  gid?: number;
}

export interface Spawned {
  pid: number;
  /** How the process ended (`exit code 1`, `signal SIGKILL`), once this process has seen it end. */
  exitStatus(): string | undefined;
}

export function spawnDetached(spec: SpawnSpec): Spawned {
  const out = fs.openSync(spec.logFile, 'a');
  fs.writeSync(out, `\n----- started ${new Date().toISOString()}: ${spec.command} ${spec.args.join(' ')}\n`);
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    detached: true,
    stdio: ['ignore', out, out],
    uid: spec.uid,
    gid: spec.gid,
  });
  fs.closeSync(out);
  if (child.pid === undefined) throw new PdmError('STACK_SERVER_FAILED', `could not start ${spec.command}`);
  let status: string | undefined;
  child.once('exit', (code, signal) => {
    status = signal ? `signal ${signal}` : `exit code ${code}`;
  });
  child.unref();
  fs.writeFileSync(spec.pidFile, `${child.pid}\n`);
  return { pid: child.pid, exitStatus: () => status };
}

/** Sends `signal`, waits up to `timeoutMs` for the process to go, then kills it. */
export async function stopProcess(pid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<'stopped' | 'killed'> {
  try {
    process.kill(pid, signal);
  } catch {
    return 'stopped';
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!processExists(pid)) return 'stopped';
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
  while (processExists(pid)) await sleep(50);
  return 'killed';
}

/** True while `pid` runs (a zombie, exited but not yet reaped, does not count). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped by its parent) still answers signal 0.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** The last `lines` lines of a log file, for error messages. */
export function tailFile(file: string, lines = 25): string {
  try {
    const fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, size - length);
    fs.closeSync(fd);
    return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export type Probe = () => Promise<string | undefined>;

/**
 * Polls `probe` (undefined means healthy, a string says what is missing) until it passes. Fails at
 * once when `alive` says the process died, and after `timeoutMs` otherwise.
 */
export async function waitUntilHealthy(
  probe: Probe,
  options: { timeoutMs: number; alive: () => boolean; intervalMs?: number },
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const deadline = Date.now() + options.timeoutMs;
  let last = 'not checked yet';
  let interval = options.intervalMs ?? 200;
  for (;;) {
    if (!options.alive()) return { ok: false, reason: `the process exited (last check: ${last})` };
    last = (await probe().catch((err: unknown) => (err instanceof Error ? err.message : String(err)))) ?? '';
    if (last === '') return { ok: true };
    if (Date.now() >= deadline) return { ok: false, reason: `no answer within ${Math.round(options.timeoutMs / 1000)} s (last check: ${last})` };
    await sleep(interval);
    interval = Math.min(interval * 1.5, 2000);
  }
}
