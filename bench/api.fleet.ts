import { FEATURES, type AlertControl, type AlertEvent, type FeatureStats, type MachineAssessment, type WindowFeatures } from '../schemas';
import type { SqlValue, TableShape } from '../sinks/postgres/postgres.rows';
import { syntheticWindow } from './inference.bench';

/**
 * The fleet `pdmctl bench api` seeds: what the sinks would have written for `machines` machines
 * over `hours` hourly windows, ending at `endMs`. Pure and deterministic: a machine's rows depend
 * on its index and the options only, so they can be made one machine at a time.
 *
 * Every machine has its hourly windows (the values of bench inference's synthetic machines) and
 * an assessment per window: the first WARM_UP_WINDOWS warming up, then scored by both detectors.
 * Its latest assessment carries a forecast (six features, FORECAST_STEPS windows). Beside the
 * ordinary machines, by index:
 *   m % 10  = 3   two extra channels (flow, pressure) in every window        10 %
 *   m % 50  = 5   an active DEVIATION alert (half escalated to CRITICAL)       2 %
 *                 and a FORECAST_BREACH that fired and resolved earlier
 *   m % 50  = 30  an ANOMALY that fired and resolved                           2 %
 *   m % 50  = 17  switched off: its last OFF_WINDOWS assessments say 'off'    2 %
 *   m % 100 = 29  new: only its last NEW_MACHINE_HOURS windows, warming up    1 %
 *   m % 200 = 11  silent: no window for SILENT_FOR_HOURS                      0.5 %
 * and a few acknowledgements, silences (active, ended early, over, to come) and mails.
 */

export const HOUR = 3_600_000;
export const WARM_UP_WINDOWS = 24;
export const FORECAST_STEPS = 6;
export const OFF_WINDOWS = 4;
export const NEW_MACHINE_HOURS = 12;
export const SILENT_FOR_HOURS = 6;
export const EXTRA_CHANNELS = ['flow', 'pressure'] as const;
export const OPERATOR = 'ana@plant-7';
export const RECIPIENT = 'oncall@plant.example';

const TYPES = ['compressor', 'fan', 'press', 'pump'] as const;

export interface FleetOptions {
  machines: number;
  hours: number;
  /** End of the fleet's newest window (on the hour, at most now). */
  endMs: number;
}

export interface MachinePlan {
  index: number;
  id: string;
  /** Its first window's start and the number of its windows. */
  fromMs: number;
  windows: number;
  extras: readonly string[];
  off: boolean;
  alerts: 'active' | 'resolved' | null;
}

/** `pump-00042`: the type, then the index; ids sort by type first, as a real fleet's names do. */
export const machineName = (m: number): string => `${TYPES[m % TYPES.length]}-${String(m).padStart(5, '0')}`;

export function machinePlan(m: number, { hours, endMs }: FleetOptions): MachinePlan {
  const silent = m % 200 === 11;
  const windows = m % 100 === 29 ? Math.min(hours, NEW_MACHINE_HOURS) : silent ? Math.max(1, hours - SILENT_FOR_HOURS) : hours;
  const lastEndMs = silent ? endMs - SILENT_FOR_HOURS * HOUR : endMs;
  return {
    index: m,
    id: machineName(m),
    fromMs: lastEndMs - windows * HOUR,
    windows,
    extras: m % 10 === 3 ? EXTRA_CHANNELS : [],
    off: m % 50 === 17,
    alerts: m % 50 === 5 ? 'active' : m % 50 === 30 ? 'resolved' : null,
  };
}

/** A deterministic value in [0, 1) from integers. */
function unit(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x2545f491, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77) ^ Math.imul(c + 0x165667b1, 0xc2b2ae3d);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
}

const stats = (mean: number, spread: number): FeatureStats => ({ count: 1800, mean, min: mean - 2 * spread, max: mean + 2 * spread, stddev: spread });

/** Window `i` (0 is its first) of a machine. */
export function windowOf(plan: MachinePlan, i: number): WindowFeatures {
  const w = { ...syntheticWindow(plan.index, i, plan.fromMs, null), machineId: plan.id };
  if (plan.extras.length === 0) return w;
  const level = (k: number, base: number) => base * (1 + 0.05 * (unit(plan.index, i, k) - 0.5));
  return { ...w, extras: { flow: stats(level(1, 31), 1.2), pressure: stats(level(2, 4.2), 0.1) } };
}

/** Whether window `i` of a machine is in its active alert's episode (the last ten hours). */
const deviating = (plan: MachinePlan, i: number): boolean => plan.alerts === 'active' && i >= plan.windows - 10;

/** The assessment of window `i`; the machine's last one carries its forecast. */
export function assessmentOf(plan: MachinePlan, i: number): MachineAssessment {
  const windowStart = plan.fromMs + i * HOUR;
  const windowEnd = windowStart + HOUR;
  const base = { machineId: plan.id, windowStart, windowEnd };
  if (i < WARM_UP_WINDOWS) {
    const warmingUp = `pdm-forecaster: too little history (${i + 1} of ${WARM_UP_WINDOWS} windows)`;
    return { ...base, warmingUp, anomaly: null, forecast: null, state: 'warming-up', deviation: null };
  }
  const high = deviating(plan, i);
  const deviation = high ? 1.2 + 0.1 * (i - plan.windows + 10) : 0.2 + 0.5 * unit(plan.index, i, 3);
  const tempA = 47 + 3 * unit(plan.index, i, 4);
  return {
    ...base,
    warmingUp: null,
    anomaly: { score: 2 + 3 * unit(plan.index, i, 5) + (high ? 4 : 0), threshold: 7, modelName: 'pdm-anomaly', modelVersion: 'v2' },
    forecast: i === plan.windows - 1 ? forecastAt(plan.index) : null,
    state: high ? 'at-risk' : plan.off && i >= plan.windows - OFF_WINDOWS ? 'off' : 'ok',
    deviation: {
      score: deviation,
      threshold: 1,
      modelName: 'pdm-deviation',
      modelVersion: 'v1',
      drivers: [
        { channel: 'tempA.mean', contribution: 0.7, value: tempA + (high ? 12 : 0), expected: tempA },
        { channel: 'current.mean', contribution: 0.3, value: 11.2, expected: 11 },
      ],
    },
  };
}

export function forecastAt(m: number): MachineAssessment['forecast'] {
  const series = FEATURES.map((feature, f) => {
    const steps = Array.from({ length: FORECAST_STEPS }, (_, k) => k);
    const mean = steps.map((k) => 10 * (f + 1) + unit(m, k, f));
    const width = steps.map((k) => 1 + k / 10);
    const limitUpper = feature === 'tempA' ? 80 : null;
    return { feature, mean, lower: mean.map((v, k) => v - width[k]!), upper: mean.map((v, k) => v + width[k]!), limitLower: null, limitUpper };
  });
  return { modelName: 'pdm-forecaster', modelVersion: 'v1', stepMillis: HOUR, series };
}

/** A machine's alert transitions, oldest first: none for most. */
export function alertsOf(plan: MachinePlan): AlertEvent[] {
  if (plan.alerts === null) return [];
  const lastEndMs = plan.fromMs + plan.windows * HOUR;
  // Hours before its last window's end, kept inside its windows.
  const at = (hoursAgo: number) => lastEndMs - Math.min(hoursAgo, plan.windows - 1) * HOUR;
  type Kind = AlertEvent['kind'];
  type Status = AlertEvent['status'];
  const event = (kind: Kind, feature: string | null, n: number, status: Status, severity: AlertEvent['severity'], createdAt: number): AlertEvent => ({
    alertId: `${plan.id}-${kind.toLowerCase()}-${n}-${status.toLowerCase()}-${severity.toLowerCase()}-${createdAt}`,
    dedupKey: `${plan.id}/${kind}/${feature ?? ''}`,
    machineId: plan.id,
    status,
    severity,
    kind,
    feature,
    windowEnd: createdAt,
    predictedBreachAt: kind === 'FORECAST_BREACH' ? createdAt + 3 * HOUR : null,
    score: kind === 'DEVIATION' ? 1.4 : 8.2,
    threshold: kind === 'DEVIATION' ? 1 : 7,
    modelName: kind === 'ANOMALY' ? 'pdm-anomaly' : kind === 'DEVIATION' ? 'pdm-deviation' : 'pdm-forecaster',
    modelVersion: 'v1',
    message: `${kind.toLowerCase().replace('_', ' ')} on ${plan.id}${feature ? ` (${feature})` : ''}`,
    createdAt,
    drivers: [
      { channel: `${feature ?? 'tempA'}.mean`, contribution: 0.8, value: 61.5, expected: 48.2 },
      { channel: 'current.mean', contribution: 0.2, value: 11.9, expected: 11 },
    ],
  });
  if (plan.alerts === 'resolved') return [event('ANOMALY', null, 1, 'FIRING', 'WARNING', at(30)), event('ANOMALY', null, 1, 'RESOLVED', 'WARNING', at(27))];
  const out = [
    event('FORECAST_BREACH', 'current', 1, 'FIRING', 'WARNING', at(60)),
    event('FORECAST_BREACH', 'current', 1, 'RESOLVED', 'WARNING', at(55)),
    event('DEVIATION', 'tempA', 1, 'FIRING', 'WARNING', at(10)),
  ];
  if (plan.index % 100 === 5) out.push(event('DEVIATION', 'tempA', 1, 'FIRING', 'CRITICAL', at(4)));
  return out;
}

/** `00000000-0000-4000-8000-<n>`: a request id of the bench's own (silence ids are UUIDs). */
const requestId = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/**
 * Operators' actions: the active DEVIATION alert of one alerting machine in four acknowledged,
 * and six silences: a pattern and a machine on now, ANOMALY everywhere ended early, one over, one
 * to come, one for a kind on a pattern.
 */
export function actionsOf(alerts: readonly AlertEvent[], { endMs }: FleetOptions): AlertControl[] {
  const none = { machineId: null, kind: null, alertId: null, dedupKey: null, silenceId: null, startsAt: null, endsAt: null, reason: null };
  const firstFiring = new Map<string, AlertEvent>();
  for (const a of alerts) if (a.kind === 'DEVIATION' && a.status === 'FIRING' && !firstFiring.has(a.dedupKey)) firstFiring.set(a.dedupKey, a);
  const acks = [...firstFiring.values()]
    .filter((_, k) => k % 4 === 0)
    .map((a, k): AlertControl => {
      const acked = { machineId: a.machineId, alertId: a.alertId, dedupKey: a.dedupKey };
      return { ...none, ...acked, requestId: requestId(1000 + k), action: 'ACK', requestedBy: OPERATOR, requestedAt: a.createdAt + HOUR / 4, reason: 'on it' };
    });
  const silence = (n: number, machineId: string | null, kind: string | null, fromHours: number, toHours: number, reason: string): AlertControl => ({
    ...none,
    requestId: requestId(n),
    action: 'SILENCE',
    machineId,
    kind,
    startsAt: endMs + fromHours * HOUR,
    endsAt: endMs + toHours * HOUR,
    requestedBy: OPERATOR,
    requestedAt: endMs + Math.min(fromHours, 0) * HOUR,
    reason,
  });
  const someone = alerts[0]?.machineId ?? machineName(0);
  return [
    ...acks,
    silence(1, 'pump-001*', null, -2, 22, 'line 1 pumps: seal replacement'),
    silence(2, someone, null, -1, 5, 'bearing change'),
    silence(3, null, 'ANOMALY', -5, 24, 'retraining the fleet detector'),
    { ...none, requestId: requestId(4), action: 'UNSILENCE', silenceId: requestId(3), requestedBy: OPERATOR, requestedAt: endMs - 3 * HOUR, reason: 'done' },
    silence(5, 'fan-0*', null, -50, -40, 'fan firmware update'),
    silence(6, machineName(42), null, 24, 30, 'planned stop'),
    silence(7, 'compressor-*', 'FORECAST_BREACH', -4, 20, 'new limits being set'),
  ];
}

/** pdm.notifications (migration 003), as sink-email writes it. */
export const notificationsTable: TableShape = {
  table: 'notifications',
  columns: [
    ...['dedup_key', 'transition', 'recipient', 'alert_id', 'machine_id', 'kind', 'severity', 'digest'],
    ...['outcome', 'attempts', 'subject', 'message_id', 'error', 'claimed_at', 'sent_at', 'updated_at'],
  ],
  key: ['dedup_key', 'transition', 'recipient'],
};

/** The mail of each transition of `alerts` (one machine's, oldest first): fired, escalated, resolved. */
export function notificationRows(alerts: readonly AlertEvent[]): SqlValue[][] {
  const fired = new Set<string>();
  return alerts.map((a) => {
    const kind = a.status === 'RESOLVED' ? 'RESOLVED' : fired.has(a.dedupKey) ? 'ESCALATED' : 'FIRING';
    fired.add(a.dedupKey);
    const transition = kind === 'ESCALATED' ? `ESCALATED:${a.severity}:${a.alertId}` : `${kind}:${a.alertId}`;
    const claimed = new Date(a.createdAt + 5_000).toISOString();
    const sent = new Date(a.createdAt + 7_000).toISOString();
    const subject = `[${a.severity}] ${a.machineId}: ${a.kind}`;
    const mail = [subject, `<${a.alertId}@pdm.example>`, null, claimed, sent, sent];
    return [a.dedupKey, transition, RECIPIENT, a.alertId, a.machineId, kind, a.severity, 'false', 'sent', 1, ...mail];
  });
}
