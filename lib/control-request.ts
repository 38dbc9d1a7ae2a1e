import os from 'node:os';
import { PdmError } from './errors';

/**
 * What every operator request on a control topic shares (pdm.machine-control.v1,
 * pdm.alert-control.v1): a request id, who asked, when, why; and the machine ids and glob patterns
 * they name. Pure, but for `defaultRequester`'s look at the user.
 */

/** A machine id as readings carry it; anything else names no machine. */
export const MAX_MACHINE_ID = 128;

/** The fields of a request record that say who asked what when, and why. */
export interface RequestEnvelope {
  requestId: string;
  requestedBy: string;
  requestedAt: number;
  reason: string | null;
}

export interface RequestInput {
  requestId: string;
  requestedBy: string;
  nowMs: number;
  reason?: string | null;
}

/** The envelope of a request: names trimmed, an empty reason is no reason. */
export function requestEnvelope(input: RequestInput): RequestEnvelope {
  const requestedBy = input.requestedBy.trim();
  if (requestedBy === '') throw new PdmError('CONFIG_INVALID', '--by must name who asks');
  return { requestId: input.requestId, requestedBy, requestedAt: input.nowMs, reason: input.reason?.trim() || null };
}

/** `by <who> at <ISO time> (<label> <id>, reason: "<why>")`: the part of a command's line every request has. */
export function describeEnvelope(envelope: RequestEnvelope, label = 'request'): string {
  const reason = envelope.reason === null ? '' : `, reason: ${JSON.stringify(envelope.reason)}`;
  return `by ${envelope.requestedBy} at ${new Date(envelope.requestedAt).toISOString()} (${label} ${envelope.requestId}${reason})`;
}

/**
 * The machine id (or, with `pattern`, a glob pattern with `*`) trimmed; refuses what can't be one:
 * empty, a space in it, too long.
 */
export function machineIdOf(text: string, options: { pattern?: boolean } = {}): string {
  const id = text.trim();
  if (id === '' || id.length > MAX_MACHINE_ID || /\s/.test(id)) {
    const shown = JSON.stringify(text.slice(0, 40));
    const what = options.pattern ? 'a machine id or pattern' : 'a machine id';
    throw new PdmError('CONFIG_INVALID', `${shown} is not ${what} (no spaces, at most ${MAX_MACHINE_ID} characters)`);
  }
  return id;
}

/** `*` matches any run of characters; everything else is literal. */
export function matches(pattern: string, machineId: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
  return regex.test(machineId);
}

/** `$USER@hostname`, as an operator is known on the plant's machines. */
export function defaultRequester(env: NodeJS.ProcessEnv, hostname: string): string {
  let user = env.USER || env.LOGNAME;
  if (!user) {
    try {
      user = os.userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  return `${user}@${hostname}`;
}
