import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../lib/paths';
import { serviceOf, type InstanceId } from './plan';

/**
 * The pipeline's services as `pdmctl run <name>` child processes, one per instance (`window#2`:
 * the second process of the window processor, in the same group as the first), kept running the
 * way a supervisor (systemd, Kubernetes) keeps them: one that exits on its own is started again
 * after a second, and counted. kill -9 and stop are the suite's own doing and are not restarted
 * here. Each instance logs to its own file (`window-2.log`).
 */

interface Running {
  child: ChildProcess;
  /** Where this process's lines begin in the service's log file. */
  logFrom: number;
  exited: Promise<number | null>;
  /** Set when the suite ends the process itself: its exit is expected. */
  ending: boolean;
}

export class Supervisor {
  private readonly running = new Map<InstanceId, Running>();
  private readonly extraEnv = new Map<InstanceId, Record<string, string>>();
  private closed = false;
  /** kill -9 per instance. */
  readonly kills: Record<string, number> = {};
  /** SIGTERM per instance, at the suite's hand (not counting the final stop), and each one's exit code. */
  readonly stops: Record<string, number> = {};
  readonly stopCodes: Array<{ instance: InstanceId; code: number | null }> = [];
  /** Exits on their own per instance. */
  readonly exits: Record<string, number> = {};

  constructor(
    private readonly options: {
      env: Record<string, string>;
      logDir: string;
      log: (line: string) => void;
    },
  ) {}

  private logFile(name: InstanceId): string {
    return path.join(this.options.logDir, `${name.replace('#', '-')}.log`);
  }

  start(name: InstanceId, extraEnv?: Record<string, string>): void {
    if (this.closed) return;
    const current = this.running.get(name)?.child;
    if (current && current.exitCode === null && current.signalCode === null) throw new Error(`${name} is running already (pid ${current.pid})`);
    if (extraEnv) this.extraEnv.set(name, extraEnv);
    const logFile = this.logFile(name);
    const logFrom = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
    const log = fs.openSync(logFile, 'a');
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'pdmctl.js'), 'run', serviceOf(name), '--metrics-port', '0'], {
      cwd: repoRoot,
      env: { ...this.options.env, ...this.extraEnv.get(name) },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    const entry: Running = { child, logFrom, ending: false, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
    this.running.set(name, entry);
    void entry.exited.then((code) => {
      if (entry.ending || this.closed) return;
      this.exits[name] = (this.exits[name] ?? 0) + 1;
      this.options.log(`${name} exited on its own (code ${code}); starting it again`);
      setTimeout(() => {
        if (this.running.get(name) === entry) this.start(name);
      }, 1000);
    });
  }

  /** Starts the service unless its process runs (it may have been restarted after exiting on its own meanwhile). */
  ensureRunning(name: InstanceId): void {
    const current = this.running.get(name)?.child;
    if (!current || current.exitCode !== null || current.signalCode !== null) this.start(name);
  }

  /** Waits until the service's current process says it started (`pdmctl run` logs `<name> started`); false if it exited first. */
  async started(name: InstanceId, timeoutMs = 120_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const marker = `"msg":"${serviceOf(name)} started"`;
    for (;;) {
      const entry = this.running.get(name);
      if (!entry || entry.child.exitCode !== null || entry.child.signalCode !== null) return false;
      const text = fs.readFileSync(this.logFile(name)).subarray(entry.logFrom).toString('utf8');
      if (text.includes(marker)) return true;
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** kill -9, waiting until the process is gone. */
  async kill(name: InstanceId): Promise<void> {
    const entry = this.running.get(name);
    if (!entry || entry.child.exitCode !== null || entry.child.signalCode !== null) return;
    entry.ending = true;
    entry.child.kill('SIGKILL');
    await entry.exited;
    this.kills[name] = (this.kills[name] ?? 0) + 1;
  }

  /** SIGTERM: the service drains, commits and exits; its exit code (null after 60 s, then killed). */
  async stop(name: InstanceId): Promise<number | null> {
    const entry = this.running.get(name);
    if (!entry) return null;
    if (entry.child.exitCode !== null || entry.child.signalCode !== null) return entry.child.exitCode;
    entry.ending = true;
    entry.child.kill('SIGTERM');
    const timer = setTimeout(() => entry.child.kill('SIGKILL'), 60_000);
    const code = await entry.exited;
    clearTimeout(timer);
    return entry.child.signalCode === 'SIGKILL' ? null : code;
  }

  /** SIGTERM as a fault (counted, its exit code kept for the shutdown check); the caller starts it again. */
  async terminate(name: InstanceId): Promise<number | null> {
    const code = await this.stop(name);
    this.stops[name] = (this.stops[name] ?? 0) + 1;
    this.stopCodes.push({ instance: name, code });
    return code;
  }

  /** Stops every service (SIGTERM) and starts none again; their exit codes. */
  async stopAll(): Promise<Record<string, number | null>> {
    this.closed = true;
    const names = [...this.running.keys()];
    const codes = await Promise.all(names.map((name) => this.stop(name)));
    return Object.fromEntries(names.map((name, i) => [name, codes[i]!]));
  }

  /** Last resort (a failed run): kill -9 whatever still runs. */
  killAll(): void {
    this.closed = true;
    for (const entry of this.running.values()) {
      entry.ending = true;
      if (entry.child.exitCode === null && entry.child.signalCode === null) entry.child.kill('SIGKILL');
    }
  }
}
