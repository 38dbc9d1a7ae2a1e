/**
 * What a machine's state is, from what the tables say about it. Pure.
 *
 * An alert (one dedup key: machine, kind, feature) is active while its latest transition is
 * FIRING; the queries find those. A machine with an active alert is at risk, whatever else is
 * true; otherwise its latest assessment decides: still warming up (too little history for every
 * model), or ok. A machine the inference processor has not assessed yet is unknown.
 */

export type MachineState = 'at-risk' | 'warming-up' | 'ok' | 'unknown';

export interface StateInputs {
  /** Active alerts of the machine. */
  activeAlerts: number;
  /** The machine's latest assessment, if it has one: its `warmingUp` reason, or null. */
  latestAssessment?: { warmingUp: string | null };
}

export function machineState({ activeAlerts, latestAssessment }: StateInputs): MachineState {
  if (activeAlerts > 0) return 'at-risk';
  if (!latestAssessment) return 'unknown';
  return latestAssessment.warmingUp === null ? 'ok' : 'warming-up';
}
