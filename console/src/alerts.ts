import type { ActionView, AlertView, SilenceView } from '../../api/schemas';
import { formatSpan } from './format';

/** How the console words alerts, silences and recorded actions. Pure. */

/**
 * The FIRING transitions of `alerts` (newest first, as the API lists them) that a newer transition
 * of the same alert follows: they are over, and there is nothing to acknowledge on them.
 */
export function supersededFirings(alerts: readonly AlertView[]): Set<string> {
  const seen = new Set<string>();
  const superseded = new Set<string>();
  for (const a of alerts) {
    if (a.status === 'FIRING' && seen.has(a.dedupKey)) superseded.add(a.alertId);
    seen.add(a.dedupKey);
  }
  return superseded;
}

/** What a silence covers: "pump-* · DEVIATION", "pump-3 (every kind)", "every machine · ANOMALY". */
export function silenceTarget(s: Pick<SilenceView, 'machine' | 'kind'>): string {
  if (s.machine && s.kind) return `${s.machine} · ${s.kind}`;
  if (s.machine) return `${s.machine} (every kind)`;
  return `every machine · ${s.kind ?? 'every kind'}`;
}

/** A recorded action in a line: "acknowledged pump-3/DEVIATION/*", "silenced pump-* for 2 h", "ended silence 1f2e…". */
export function actionSummary(a: ActionView): string {
  switch (a.action) {
    case 'ACK':
      return `acknowledged ${a.dedupKey ?? a.alertId ?? 'an alert'}`;
    case 'SILENCE': {
      const span = a.startsAt && a.endsAt ? ` for ${formatSpan(Date.parse(a.endsAt) - Date.parse(a.startsAt))}` : '';
      return `silenced ${silenceTarget(a)}${span}`;
    }
    case 'UNSILENCE':
      return `ended silence of ${a.machine || a.kind ? silenceTarget(a) : (a.silenceId ?? 'a silence')}`;
    default:
      return 'an action this console does not know';
  }
}

/** The durations the silence form offers, shortest first. */
export const SILENCE_DURATIONS = ['30m', '1h', '2h', '4h', '8h', '12h', '1d', '2d', '3d', '1w'] as const;

/** Whether a silence's machine (an id, a glob with `*`, or null for every machine) covers `machineId`. */
export function silenceCovers(machine: string | null, machineId: string): boolean {
  if (machine === null) return true;
  const pattern = machine
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`).test(machineId);
}
