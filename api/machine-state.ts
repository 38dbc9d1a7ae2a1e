/**
 * What a machine's state is, from what the tables say about it. Pure.
 *
 * An alert (one dedup key: machine, kind, feature) is active while its latest transition is
 * FIRING; the queries find those. A machine with an active alert is at risk, whatever else is
 * true; otherwise its latest assessment decides: switched off (it draws no current), still warming
 * up (learning its normal), or ok. An assessment from before the per-machine detector has no
 * state: warming up while any model was, else ok. A machine the inference processor has not
 * assessed yet is unknown.
 */

export type MachineState = 'at-risk' | 'warming-up' | 'off' | 'ok' | 'unknown';

export interface StateInputs {
  /** Active alerts of the machine. */
  activeAlerts: number;
  /** The machine's latest assessment, if it has one: its `warmingUp` reason, or null. */
  latestAssessment?: { warmingUp: string | null; state?: string | null };
}

export function machineState({ activeAlerts, latestAssessment }: StateInputs): MachineState {
  if (activeAlerts > 0) return 'at-risk';
  if (!latestAssessment) return 'unknown';
  const state = latestAssessment.state ?? null;
  if (state === 'off' || state === 'warming-up') return state;
  if (state !== null) return 'ok';
  return latestAssessment.warmingUp === null ? 'ok' : 'warming-up';
}
