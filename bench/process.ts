import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../lib/paths';

/** What the benchmarks share about the processes they measure. */

/** Resident memory of a process, MiB (0 once it is gone). */
export function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Stops a process cleanly (SIGTERM), killing it if it has not exited within a minute. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timeout = setTimeout(() => child.kill('SIGKILL'), 60_000);
  await exited;
  clearTimeout(timeout);
}

/** `pdmctl run <service>` as a process of its own, its output appended to `logFile`. */
export function runService(service: string, env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const log = fs.openSync(logFile, 'a');
  return spawn(process.execPath, [path.join(repoRoot, 'bin', 'pdmctl.js'), 'run', service, '--metrics-port', '0'], { env, stdio: ['ignore', log, log] });
}

export const fmt = (n: number): string => Math.round(n).toLocaleString('en');

/** The `partition restored` lines a processor has logged to `logFile` so far, parsed. */
export function restoredPartitions<T>(logFile: string): T[] {
  return fs
    .readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"partition restored"'))
    .map((line) => JSON.parse(line) as T);
}
