import { REPAIR_HOURS, fleetIds, type FaultRequest, type MachineFaultKind } from '../producers/simulate/fleet';

/**
 * What `npm start` simulates, pure: on a first start, a history that a newcomer can read within
 * minutes. A healthy fleet from a fixed seed, and its first machine developing one fault that the
 * per-machine detector names (a DEVIATION alert driven by the channel the fault heats) some hours
 * before the history ends, and that is still developing when it ends, so the machine is at risk
 * when the newcomer looks and the alert is young enough to be mailed (PDM_EMAIL_MAX_AGE, 24h).
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const START_HISTORY = {
  /** At least this much history; it begins at the midnight before (see historyStartMs). */
  minDays: 8,
  /** `pdmctl simulate --scenario`: no planned faults, so nothing alerts but the one below. */
  scenario: 'normal',
  seed: 1,
  fault: {
    kind: 'overheating' as MachineFaultKind,
    /** The fleet's first machine (lathe-1-spindle), whatever --machines says. */
    machineIndex: 0,
    /**
     * Onset and failure around the start: 72 hours of development, the longest overheating
     * takes (DEVELOPMENT_HOURS). Halfway through, the motor runs 15 °C hot; the detector fires
     * on tempA 9 to 18 hours before the history ends (start.history.test.ts replays it), and
     * the machine fails a day and a half after the start, then stands for REPAIR_HOURS.
     */
    onsetBeforeStartMs: 36 * HOUR,
    failureAfterStartMs: 36 * HOUR,
  },
  /** The detector should watch the machine for at least this long before the fault begins. */
  watchedBeforeOnsetMs: DAY,
} as const;

/**
 * The start of the history: midnight (UTC, the simulator's shift plan) of a weekday, at least
 * `minDays` before now. The per-machine detector learns each machine's normal from its first day of
 * windows: a weekday from midnight holds the idle night, the ramp, both shifts with their breaks,
 * and the cool-down after the late shift. Started on a Sunday (idle all day), or after the late
 * shift (no cool-down seen), it finds every machine abnormal within its first working day.
 */
export function historyStartMs(nowMs: number, minDays: number = START_HISTORY.minDays): number {
  let startMs = Math.floor((nowMs - minDays * DAY) / DAY) * DAY;
  while ([0, 6].includes(new Date(startMs).getUTCDay())) startMs -= DAY;
  return startMs;
}

export interface StartHistory {
  fromMs: number;
  /** The one fault of the history, or null with the reason it does not fit. */
  fault: FaultRequest | null;
  skipped?: string;
}

/**
 * The first start's history, `nowMs` being the start. `warmupMs` is the detector's warm-up
 * (warmupWindowsFor x the window size): the fault begins only on a machine watched for a while,
 * or not at all.
 */
export function firstStartHistory(nowMs: number, warmupMs: number): StartHistory {
  const fromMs = historyStartMs(nowMs);
  const { fault } = START_HISTORY;
  const minute = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;
  const onsetMs = minute(nowMs - fault.onsetBeforeStartMs);
  const watchedFromMs = fromMs + warmupMs + START_HISTORY.watchedBeforeOnsetMs;
  if (onsetMs < watchedFromMs) {
    const skipped = `the detector's warm-up (${Math.round(warmupMs / HOUR)} h) leaves it no day of watching before the fault would begin`;
    return { fromMs, fault: null, skipped };
  }
  const machineId = fleetIds(fault.machineIndex + 1)[fault.machineIndex]!;
  return { fromMs, fault: { machineId, kind: fault.kind, onsetMs, failureMs: minute(nowMs + fault.failureAfterStartMs) } };
}

/** A later start goes on with the first start's fault until its repair is done, then the fleet is healthy. */
export function continuingFault(fault: FaultRequest | null, nowMs: number): FaultRequest | null {
  if (!fault || fault.failureMs === undefined) return null;
  return nowMs < fault.failureMs + REPAIR_HOURS * HOUR ? fault : null;
}

/** The `pdmctl simulate` flags of a start: the history's beginning on a first one, the fault while it lasts. */
export function simulateFlags(fromMs: number | undefined, fault: FaultRequest | null): string[] {
  const flags = ['--scenario', START_HISTORY.scenario, '--seed', String(START_HISTORY.seed)];
  if (fromMs !== undefined) flags.push('--from', new Date(fromMs).toISOString());
  if (fault) flags.push('--fault', faultFlag(fault));
  return flags;
}

/** `--fault MACHINE:KIND:ONSET:FAILURE` as `pdmctl simulate` reads it. */
export const faultFlag = (f: FaultRequest): string =>
  `${f.machineId}:${f.kind}:${new Date(f.onsetMs).toISOString()}${f.failureMs === undefined ? '' : `:${new Date(f.failureMs).toISOString()}`}`;
