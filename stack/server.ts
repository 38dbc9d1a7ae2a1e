import path from 'node:path';
import type { Reporter } from './reporter';
import type { StackSecrets } from './secrets';
import type { StackSettings } from './settings';

export interface StackContext {
  readonly settings: StackSettings;
  readonly secrets: StackSecrets;
  readonly reporter: Reporter;
}

/** How to launch a server: what `spawnDetached` needs, minus the log and pid files. */
export interface LaunchSpec {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Run unprivileged as this user when the stack is started by root. */
  user?: { uid: number; gid: number };
}

/** One server of the local stack. Every method is idempotent. */
export interface StackServer {
  readonly name: string;
  /** Servers that must be healthy before this one is prepared. */
  readonly dependsOn: readonly string[];
  readonly stopSignal: NodeJS.Signals;
  title(ctx: StackContext): string;
  /** host:port or URL a person or client uses. */
  address(ctx: StackContext): string;
  /** Ports it listens on, checked to be free before it starts. */
  ports(ctx: StackContext): number[];
  /** A string (a path under the state folder) that appears in this server's command line only. */
  marker(ctx: StackContext): string;
  /** Fetches what is missing, initialises data on first use, and says how to launch it. */
  prepare(ctx: StackContext): Promise<LaunchSpec>;
  /** undefined when the server really answers; otherwise what is still missing. */
  probe(ctx: StackContext): Promise<string | undefined>;
  /** Runs once the server answers (users, databases, …); idempotent. */
  afterReady?(ctx: StackContext): Promise<void>;
}

export const serverDir = (ctx: { readonly settings: Pick<StackSettings, 'PDM_STATE_DIR'> }, name: string): string => path.join(ctx.settings.PDM_STATE_DIR, 'stack', name);
