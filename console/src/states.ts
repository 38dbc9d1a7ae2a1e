import type { MachineStateView } from '../../api/schemas';

/**
 * The machine states as the console shows them: label, meaning and the order of the filter
 * chips (most urgent first). Colours live in styles.css under `.state-<name>`: at-risk red,
 * silent purple-grey, warming-up blue, off dark grey, ok green, unknown light grey.
 */

export interface StateInfo {
  label: string;
  /** What it means, as the API's schema says (the badge's title). */
  meaning: string;
}

/** A Record over the union: a state the API adds fails the type check here until it has a label. */
export const STATE_INFO: Readonly<Record<MachineStateView, StateInfo>> = {
  'at-risk': { label: 'at risk', meaning: 'an alert is active' },
  silent: { label: 'silent', meaning: 'no window for longer than three window lengths while the rest of the fleet reports' },
  'warming-up': { label: 'warming up', meaning: 'learning its normal' },
  off: { label: 'off', meaning: 'it draws no current' },
  ok: { label: 'ok', meaning: 'assessed and normal' },
  unknown: { label: 'unknown', meaning: 'never assessed' },
};

export const STATES = Object.keys(STATE_INFO) as MachineStateView[];

export const isState = (text: string): text is MachineStateView => Object.hasOwn(STATE_INFO, text);

export const SEVERITIES = ['CRITICAL', 'WARNING', 'INFO'] as const;
export const STATUSES = ['FIRING', 'RESOLVED'] as const;

/** The alert a one-line summary names: the most severe, the newest of those (alerts come newest first); unknown severities last. */
export function mostSevere<T extends { severity: string }>(alerts: readonly T[]): T | undefined {
  const rank = (a: T) => ((SEVERITIES as readonly string[]).includes(a.severity) ? (SEVERITIES as readonly string[]).indexOf(a.severity) : SEVERITIES.length);
  return alerts.reduce<T | undefined>((best, a) => (best === undefined || rank(a) < rank(best) ? a : best), undefined);
}
/** The kinds the pipeline raises today; the kind filter also takes any other upper-case name. */
export const KINDS = ['FORECAST_BREACH', 'ANOMALY', 'DEVIATION', 'OTHER'] as const;

/** The CSS class of a severity or status badge. */
export const severityClass = (severity: string): string => `sev-${severity.toLowerCase()}`;
export const statusClass = (status: string): string => `status-${status.toLowerCase()}`;

/** The colour of an alert transition's marker on the charts: its severity while firing, green once resolved. */
export function markerColour(status: string, severity: string): string {
  if (status === 'RESOLVED') return '#2f9e44';
  if (severity === 'CRITICAL') return '#e03131';
  if (severity === 'WARNING') return '#f08c00';
  return '#1c7ed6';
}
