import type { AlertControl } from '../schemas';
import { machineIdOf, matches, requestEnvelope, type RequestInput } from './control-request';
import { parseDuration } from './duration';
import { PdmError } from './errors';

/**
 * Operators' actions on alert mail (pdm.alert-control.v1) as pure code: the requests, checked
 * where they are made (the CLI, the API), and the table a reader folds them into. No I/O, no
 * clock: every question about time takes `nowMs`.
 *
 * - An ACK names a FIRING transition (`alertId`) of an alert (`dedupKey`). It holds for that
 *   alert's firing episode, as in Alertmanager and PagerDuty: until the alert resolves. A later
 *   FIRING of the same dedup key is a new episode and is not acknowledged. The table keeps the
 *   latest ACK per dedup key; whether it covers the episode firing now is the reader's to tell,
 *   since only the reader knows which transitions the episode had (`acknowledges`).
 * - A SILENCE holds the mail of a machine (id or `*` pattern), an alert kind, or both, from
 *   `startsAt` (inclusive) to `endsAt` (exclusive).
 * - An UNSILENCE ends the SILENCE whose request id it names, at its own `requestedAt`. The two
 *   may sit on different partitions (their keys differ when the UNSILENCE does not carry the
 *   silence's pattern), so a reader may see the UNSILENCE first: it is kept and applied when the
 *   SILENCE arrives.
 */

/** Longest silence: a month. A longer one is a forgotten maintenance window. */
export const MAX_SILENCE_MS = 31 * 86_400_000;

/** An AlertEvent kind: upper case, as the schema's symbols (ANOMALY, FORECAST_BREACH, ...). */
export const KIND = /^[A-Z][A-Z0-9_]{0,63}$/;

const NOTHING = { machineId: null, kind: null, alertId: null, dedupKey: null, silenceId: null, startsAt: null, endsAt: null };

const invalid = (message: string): PdmError => new PdmError('CONFIG_INVALID', message);

// ---- the requests -------------------------------------------------------------------------------

/** The alert an ACK is about: one of its FIRING transitions (lib/alert-lookup.ts finds it). */
export interface AckTarget {
  alertId: string;
  dedupKey: string;
  machineId: string;
}

export function ackRequest(input: RequestInput & { alert: AckTarget }): AlertControl {
  const { alertId, dedupKey } = input.alert;
  if (alertId.trim() === '' || dedupKey.trim() === '') throw invalid('an acknowledgement names the alert (its dedup key) and the FIRING transition');
  const machineId = machineIdOf(input.alert.machineId);
  return { ...NOTHING, ...requestEnvelope(input), action: 'ACK', machineId, alertId: alertId.trim(), dedupKey: dedupKey.trim() };
}

export interface SilenceInput extends RequestInput {
  /** A machine id or glob pattern (`*` any characters; `*` alone: every machine). */
  machine?: string | null;
  /** An alert kind (ANOMALY, FORECAST_BREACH, ...), any case. */
  kind?: string | null;
  /** How long, as lib/duration.ts reads it (2h, 1d12h). Exactly one of `for` and `until`. */
  for?: string | null;
  /** Until when: an ISO-8601 time or epoch milliseconds. */
  until?: string | number | null;
  /** When it begins; default now. */
  startsAtMs?: number;
}

function silenceEndMs(input: SilenceInput, startsAtMs: number): number {
  const given = (value: unknown) => value !== undefined && value !== null && value !== '';
  if (given(input.for) === given(input.until)) throw invalid('a silence lasts --for a duration (2h) or --until a time, one of the two');
  if (given(input.for)) {
    try {
      return startsAtMs + parseDuration(input.for!);
    } catch (cause) {
      throw new PdmError('CONFIG_INVALID', `--for: ${(cause as Error).message}`, { cause });
    }
  }
  const untilMs = typeof input.until === 'number' ? input.until : Date.parse(input.until!);
  if (!Number.isSafeInteger(untilMs)) throw invalid(`--until: ${JSON.stringify(input.until)} is not an ISO-8601 time`);
  return untilMs;
}

/** A SILENCE: of a machine or pattern, a kind, or both; for a duration or until a time, at most MAX_SILENCE_MS; always with a reason. */
export function silenceRequest(input: SilenceInput): AlertControl {
  const machineId = input.machine ? machineIdOf(input.machine, { pattern: true }) : null;
  const kind = input.kind?.trim().toUpperCase() || null;
  if (machineId === null && kind === null) throw invalid('a silence names a machine (an id, a pattern with *, or * for all), an alert kind, or both');
  if (kind !== null && !KIND.test(kind)) throw invalid(`${JSON.stringify(input.kind)} is not an alert kind (such as ANOMALY or FORECAST_BREACH)`);
  const envelope = requestEnvelope(input);
  if (envelope.reason === null) throw invalid('a silence needs a reason (maintenance, a known fault, ...)');
  const startsAt = input.startsAtMs ?? input.nowMs;
  const endsAt = silenceEndMs(input, startsAt);
  if (endsAt <= startsAt) throw invalid(`the silence would end (${new Date(endsAt).toISOString()}) before it begins (${new Date(startsAt).toISOString()})`);
  if (endsAt - startsAt > MAX_SILENCE_MS) throw invalid('a silence lasts at most 31 days');
  return { ...NOTHING, ...envelope, action: 'SILENCE', machineId, kind, startsAt, endsAt };
}

/** An UNSILENCE of the silence `silenceId` (its request id); `machine`, the silence's pattern when known, keys it beside the silence. */
export function unsilenceRequest(input: RequestInput & { silenceId: string; machine?: string | null }): AlertControl {
  const silenceId = input.silenceId.trim();
  if (silenceId === '' || /\s/.test(silenceId)) throw invalid(`${JSON.stringify(input.silenceId)} is not a silence id (the request id of a SILENCE)`);
  const machineId = input.machine ? machineIdOf(input.machine, { pattern: true }) : null;
  return { ...NOTHING, ...requestEnvelope(input), action: 'UNSILENCE', machineId, silenceId };
}

/**
 * The record's key: the machine it is about (an ACK's machine id, a silence's pattern), `*` when
 * it names none (a kind on every machine, an UNSILENCE that does not know its silence's pattern).
 * One machine's actions then share a partition and keep their order.
 */
export const controlKey = (control: AlertControl): string => control.machineId ?? '*';

/** Why a record can't be applied (written by some other tool), or undefined. UNKNOWN is not a problem: it is ignored. */
export function alertControlProblem(c: AlertControl): string | undefined {
  switch (c.action) {
    case 'ACK':
      return c.alertId && c.dedupKey ? undefined : 'an ACK without the alertId and dedupKey it acknowledges';
    case 'SILENCE':
      if (c.machineId === null && c.kind === null) return 'a SILENCE that names neither a machine nor a kind';
      if (c.startsAt === null || c.endsAt === null) return 'a SILENCE without startsAt and endsAt';
      return c.endsAt > c.startsAt ? undefined : 'a SILENCE that ends before it begins';
    case 'UNSILENCE':
      return c.silenceId ? undefined : 'an UNSILENCE without the silenceId it ends';
    default:
      return undefined;
  }
}

// ---- the table ----------------------------------------------------------------------------------

/** Who did it, when (their clock), why. */
export interface Action {
  requestId: string;
  by: string;
  atMs: number;
  reason: string | null;
}

export interface Silence extends Action {
  /** The silence's id: its SILENCE's request id. */
  silenceId: string;
  /** Machine id or pattern; null: every machine (of `kind`). */
  machine: string | null;
  /** Alert kind; null: every kind. */
  kind: string | null;
  startsAtMs: number;
  endsAtMs: number;
  /** The UNSILENCE that ended it, if one did. */
  ended?: Action;
}

export interface Acknowledgement extends Action {
  /** The FIRING transition acknowledged. */
  alertId: string;
  machineId: string | null;
}

export interface AlertControlState {
  silences: Map<string, Silence>;
  /** UNSILENCEs by the silence id they end, kept for a SILENCE not read yet. */
  endings: Map<string, Action>;
  /** The latest ACK per dedup key, in log order. */
  acks: Map<string, Acknowledgement>;
}

export const emptyAlertControlState = (): AlertControlState => ({ silences: new Map(), endings: new Map(), acks: new Map() });

const actionOf = (c: AlertControl): Action => ({ requestId: c.requestId, by: c.requestedBy, atMs: c.requestedAt, reason: c.reason });

/**
 * Applies one record. Returns whether the table changed: an action this reader does not know
 * (UNKNOWN) or a record that can't be applied (alertControlProblem) changes nothing.
 */
export function applyAlertControl(state: AlertControlState, control: AlertControl): boolean {
  if (alertControlProblem(control) !== undefined) return false;
  switch (control.action) {
    case 'ACK':
      state.acks.set(control.dedupKey!, { ...actionOf(control), alertId: control.alertId!, machineId: control.machineId });
      return true;
    case 'SILENCE': {
      const { requestId, machineId, kind, startsAt, endsAt } = control;
      const silence: Silence = { ...actionOf(control), silenceId: requestId, machine: machineId, kind, startsAtMs: startsAt!, endsAtMs: endsAt! };
      const ended = state.endings.get(requestId) ?? state.silences.get(requestId)?.ended;
      state.endings.delete(requestId);
      state.silences.set(requestId, ended ? { ...silence, ended } : silence);
      return true;
    }
    case 'UNSILENCE': {
      const silence = state.silences.get(control.silenceId!);
      // The first UNSILENCE of a silence ends it; a second one changes nothing.
      if (silence?.ended || state.endings.has(control.silenceId!)) return false;
      if (silence) silence.ended = actionOf(control);
      else state.endings.set(control.silenceId!, actionOf(control));
      return true;
    }
    default:
      return false;
  }
}

/** Whether the silence holds mail at `nowMs`: begun, not over, not ended by an UNSILENCE. */
export const isActive = (s: Silence, nowMs: number): boolean => s.startsAtMs <= nowMs && nowMs < Math.min(s.endsAtMs, s.ended?.atMs ?? Infinity);

/** The silences that hold mail at `nowMs`, the most recently requested first. */
export function activeSilences(state: AlertControlState, nowMs: number): Silence[] {
  return [...state.silences.values()].filter((s) => isActive(s, nowMs)).sort((a, b) => b.atMs - a.atMs || a.silenceId.localeCompare(b.silenceId));
}

/** The active silence (the most recently requested) that holds `kind` alerts of `machineId` at `nowMs`, if any. */
export function silenceFor(state: AlertControlState, machineId: string, kind: string, nowMs: number): Silence | undefined {
  return activeSilences(state, nowMs).find((s) => (s.machine === null || matches(s.machine, machineId)) && (s.kind === null || s.kind === kind));
}

/** The latest acknowledgement of the alert `dedupKey`, whichever episode it was for. */
export const acknowledgement = (state: AlertControlState, dedupKey: string): Acknowledgement | undefined => state.acks.get(dedupKey);

/** Whether `ack` covers the firing episode whose FIRING transitions are `episodeAlertIds`. */
export const acknowledges = (ack: Acknowledgement | undefined, episodeAlertIds: readonly string[]): boolean =>
  ack !== undefined && episodeAlertIds.includes(ack.alertId);
