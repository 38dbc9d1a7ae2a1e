import type { MachineStateView } from './schemas';

/**
 * What a machine's state is, from what the tables say about it. Pure.
 *
 * An alert (one dedup key: machine, kind, feature) is active while its latest transition is
 * FIRING; the queries find those. A machine with an active alert is at risk, whatever else is
 * true. One that has sent no window for longer than `SILENT_AFTER_WINDOWS` window lengths while
 * the rest of the fleet still reports is silent: its readings stopped (a dead gateway, a cut
 * cable), and nothing watches it until they come back. "Still reports" means the fleet's newest
 * window is itself that recent by the wall clock: when the whole stream stands still (a replay of
 * history, the pipeline stopped), no machine is singled out; the fleet's own last window says so.
 * Otherwise its latest assessment decides: switched off (it draws no current), still warming up
 * (learning its normal), or ok. An assessment from before the per-machine detector has no state:
 * warming up while any model was, else ok. A machine the inference processor has not assessed
 * yet is unknown.
 */

export type MachineState = MachineStateView;

/** Silent after this many window lengths without a new window (one late window is no news: grace and wall-clock windows). */
export const SILENT_AFTER_WINDOWS = 3;

export interface StateInputs {
  /** Active alerts of the machine. */
  activeAlerts: number;
  /** The machine's latest assessment, if it has one: its `warmingUp` reason, or null. */
  latestAssessment?: { warmingUp: string | null; state?: string | null };
  /** Its last window (start and end, epoch ms), the end of the fleet's newest window and the time now: without them, never silent. */
  lastWindow?: { startMs: number; endMs: number };
  fleetLastEndMs?: number;
  nowMs?: number;
}

function silent({ lastWindow, fleetLastEndMs, nowMs }: StateInputs): boolean {
  if (!lastWindow || fleetLastEndMs === undefined || nowMs === undefined) return false;
  const limitMs = SILENT_AFTER_WINDOWS * (lastWindow.endMs - lastWindow.startMs);
  return nowMs - fleetLastEndMs <= limitMs && nowMs - lastWindow.endMs > limitMs;
}

export function machineState(inputs: StateInputs): MachineState {
  const { activeAlerts, latestAssessment } = inputs;
  if (activeAlerts > 0) return 'at-risk';
  if (silent(inputs)) return 'silent';
  if (!latestAssessment) return 'unknown';
  const state = latestAssessment.state ?? null;
  if (state === 'off' || state === 'warming-up') return state;
  if (state !== null) return 'ok';
  return latestAssessment.warmingUp === null ? 'ok' : 'warming-up';
}
