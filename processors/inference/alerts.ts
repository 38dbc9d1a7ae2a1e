import { createHash } from 'node:crypto';
import type { AlertEvent } from '../../schemas';
import { featureOfChannel } from './baseline';

/**
 * The alert decisions of the inference processor, pure: one machine's conditions, one window at
 * a time, with event time passed in. No model, no Kafka, no clock: the processor feeds each
 * window's anomaly score and forecast breach (or their absence) and writes the transitions.
 *
 * Conditions follow Prometheus' alerting rules: a condition must hold for `forWindows` windows
 * in a row before it fires (`for:`), and, as Alertmanager-style hysteresis, must be clear for
 * `clearWindows` windows in a row before it resolves (`keep_firing_for:`). While it fires, a rise
 * in severity is a new FIRING transition of the same alert (same dedupKey); a fall is not (the
 * engineer already knows the worse news). A missing window (the machine was silent) neither
 * continues nor breaks a run.
 *
 * Every transition is a pure function of the inputs, including its id and time (the window's
 * end): a crash and replay produce the same alert events, byte for byte, so exactly-once output
 * can be checked by comparing sets.
 */

export type Severity = AlertEvent['severity'];
export type AlertKind = 'ANOMALY' | 'FORECAST_BREACH' | 'DEVIATION';
export type AlertDriver = AlertEvent['drivers'][number];

const SEVERITY_RANK: Record<Severity, number> = { INFO: 0, WARNING: 1, CRITICAL: 2 };

export interface AlertPolicy {
  /** Windows in a row a condition must hold before it fires. */
  forWindows: number;
  /** Windows in a row a firing condition must be clear before it resolves. */
  clearWindows: number;
  /** Anomaly severity from score / threshold: at or above `critical` CRITICAL, above `warning` WARNING, else INFO. */
  anomalyRatio: { warning: number; critical: number };
  /** Forecast-breach severity from the time to the breach: within `criticalMs` CRITICAL, within `warningMs` WARNING, else INFO. */
  breachLeadMs: { warning: number; critical: number };
}

/** What the models said about one window of one machine. */
export interface ModelRef {
  name: string;
  version: string;
}

export interface WindowAssessment {
  machineId: string;
  windowEndMs: number;
  /** The models that made this window's decisions: each alert names the one that raised it. */
  models: { anomaly?: ModelRef; forecast?: ModelRef; deviation?: ModelRef };
  /** The per-machine detector's score (1 at its control limit) and the channels that drove it. */
  deviation?: { score: number; threshold: number; drivers: AlertDriver[] };
  /** The detector's score and threshold, when it scored this window; `corroborated: false` when the machine's own normal saw nothing. */
  anomaly?: { score: number; threshold: number; corroborated?: boolean };
  /** Per feature, the first forecast step that crosses a limit, when one does. */
  breaches: ForecastBreach[];
  /** Features the forecaster assessed this window (a breach absent for one of these means clear). */
  forecastFeatures: string[];
}

export interface ForecastBreach {
  feature: string;
  /** When the forecast crosses the limit: the start of the first breaching window. */
  atMs: number;
  /** The forecast value (or interval bound) that crosses. */
  value: number;
  limit: number;
  direction: 'above' | 'below';
  /** Whether the point forecast crosses, or only the edge of its prediction interval. */
  pointCrosses: boolean;
}

interface ConditionState {
  kind: AlertKind;
  feature: string | null;
  /** Consecutive windows the condition held (while not firing) or was clear (while firing). */
  run: number;
  firing: { severity: Severity; sinceMs: number } | null;
}

export interface MachineAlerts {
  /** By dedupKey. */
  conditions: Map<string, ConditionState>;
}

export const emptyMachineAlerts = (): MachineAlerts => ({ conditions: new Map() });

export const dedupKey = (machineId: string, kind: AlertKind, feature: string | null): string => `${machineId}/${kind}/${feature ?? '*'}`;

/** A UUID (v5 layout) from the transition's content, so a replay yields the same id. */
export function transitionId(parts: readonly (string | number)[]): string {
  const hex = createHash('sha1').update(parts.join('\u0000')).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function anomalySeverity(score: number, threshold: number, policy: AlertPolicy): Severity {
  const ratio = score / threshold;
  if (ratio >= policy.anomalyRatio.critical) return 'CRITICAL';
  if (ratio >= policy.anomalyRatio.warning) return 'WARNING';
  return 'INFO';
}

export function breachSeverity(breach: ForecastBreach, windowEndMs: number, policy: AlertPolicy): Severity {
  const leadMs = breach.atMs - windowEndMs;
  // Only the interval's edge crossing is a heads-up, not an emergency.
  const cap: Severity = breach.pointCrosses ? 'CRITICAL' : 'WARNING';
  const bySoon: Severity = leadMs <= policy.breachLeadMs.critical ? 'CRITICAL' : leadMs <= policy.breachLeadMs.warning ? 'WARNING' : 'INFO';
  return SEVERITY_RANK[bySoon] <= SEVERITY_RANK[cap] ? bySoon : cap;
}

interface Observation {
  kind: AlertKind;
  feature: string | null;
  /** Whether the condition holds in this window (conditions not assessed in a window are left as they are). */
  holds: boolean;
  severity: Severity;
  score: number;
  threshold: number;
  predictedBreachAt: number | null;
  message: string;
  /** The feature the event names (the condition's own, or the deviation's strongest driver). */
  eventFeature: string | null;
  drivers: AlertDriver[];
}

const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3));


/** "tempA.mean 21.0 (normal 40.1), current.max ..." */
export function describeDrivers(drivers: readonly AlertDriver[]): string {
  return drivers
    .map((d) => `${d.channel} ${d.value === null ? 'missing' : fmt(d.value)}${d.expected === null ? '' : ` (normal ${fmt(d.expected)})`}, ${Math.round(d.contribution * 100)} %`)
    .join('; ');
}

function observations(a: WindowAssessment, policy: AlertPolicy): Observation[] {
  const out: Observation[] = [];
  // The fleet detector names no channel itself: the machine's own deviation says where to look.
  const ownDrivers = a.deviation?.drivers ?? [];
  if (a.deviation) {
    const { score, threshold, drivers } = a.deviation;
    out.push({
      kind: 'DEVIATION',
      feature: null,
      eventFeature: drivers[0] ? featureOfChannel(drivers[0].channel) : null,
      drivers,
      holds: score > threshold,
      severity: anomalySeverity(score, threshold, policy),
      score,
      threshold,
      predictedBreachAt: null,
      message: `${a.machineId}: ${score > threshold ? 'left' : 'within'} its own normal (score ${fmt(score)} against ${fmt(threshold)})${drivers.length > 0 ? `: ${describeDrivers(drivers)}` : ''}`,
    });
  }
  if (a.anomaly) {
    const { score, threshold, corroborated } = a.anomaly;
    out.push({
      kind: 'ANOMALY',
      feature: null,
      eventFeature: ownDrivers[0] ? featureOfChannel(ownDrivers[0].channel) : null,
      drivers: ownDrivers,
      holds: score > threshold && corroborated !== false,
      severity: anomalySeverity(score, threshold, policy),
      score,
      threshold,
      predictedBreachAt: null,
      message: `${a.machineId}: anomaly score ${fmt(score)} against threshold ${fmt(threshold)}${ownDrivers.length > 0 ? `: ${describeDrivers(ownDrivers)}` : ''}`,
    });
  }
  for (const feature of a.forecastFeatures) {
    const breach = a.breaches.find((b) => b.feature === feature);
    out.push({
      kind: 'FORECAST_BREACH',
      feature,
      eventFeature: feature,
      drivers: breach ? [{ channel: `${feature}.mean`, contribution: 1, value: breach.value, expected: null }] : [],
      holds: breach !== undefined,
      severity: breach ? breachSeverity(breach, a.windowEndMs, policy) : 'INFO',
      score: breach?.value ?? 0,
      threshold: breach?.limit ?? 0,
      predictedBreachAt: breach?.atMs ?? null,
      message: breach
        ? `${a.machineId}: ${feature} forecast ${breach.pointCrosses ? '' : '(interval) '}${breach.direction === 'above' ? 'rises above' : 'falls below'} its limit ${fmt(breach.limit)} at ${new Date(breach.atMs).toISOString()} (${fmt(breach.value)})`
        : `${a.machineId}: ${feature} forecast within its limits`,
    });
  }
  return out;
}

/**
 * Applies one window's assessment to a machine's conditions (mutating `state`, which the
 * processor owns) and returns the transitions it causes, in a stable order.
 */
export function assessWindow(state: MachineAlerts, assessment: WindowAssessment, policy: AlertPolicy): AlertEvent[] {
  const transitions: AlertEvent[] = [];
  for (const o of observations(assessment, policy)) {
    const key = dedupKey(assessment.machineId, o.kind, o.feature);
    let condition = state.conditions.get(key);
    if (!condition) {
      if (!o.holds) continue;
      state.conditions.set(key, (condition = { kind: o.kind, feature: o.feature, run: 0, firing: null }));
    }
    const model = (o.kind === 'ANOMALY' ? assessment.models.anomaly : o.kind === 'DEVIATION' ? assessment.models.deviation : assessment.models.forecast) ?? { name: 'unknown', version: 'unknown' };
    const emit = (status: 'FIRING' | 'RESOLVED', severity: Severity, message: string) => {
      const episodeMs = condition!.firing?.sinceMs ?? assessment.windowEndMs;
      transitions.push({
        alertId: transitionId([key, episodeMs, status, severity, assessment.windowEndMs]),
        dedupKey: key,
        machineId: assessment.machineId,
        status,
        severity,
        kind: o.kind,
        feature: o.eventFeature,
        windowEnd: assessment.windowEndMs,
        predictedBreachAt: status === 'FIRING' ? o.predictedBreachAt : null,
        score: o.score,
        threshold: o.threshold,
        modelName: model.name,
        modelVersion: model.version,
        message,
        createdAt: assessment.windowEndMs,
        drivers: o.drivers,
      });
    };
    if (!condition.firing) {
      condition.run = o.holds ? condition.run + 1 : 0;
      if (condition.run >= policy.forWindows) {
        condition.firing = { severity: o.severity, sinceMs: assessment.windowEndMs };
        condition.run = 0;
        emit('FIRING', o.severity, o.message);
      } else if (condition.run === 0) state.conditions.delete(key);
      continue;
    }
    if (o.holds) {
      condition.run = 0;
      if (SEVERITY_RANK[o.severity] > SEVERITY_RANK[condition.firing.severity]) {
        condition.firing.severity = o.severity;
        emit('FIRING', o.severity, `${o.message} (severity raised to ${o.severity})`);
      }
      continue;
    }
    condition.run += 1;
    if (condition.run >= policy.clearWindows) {
      emit('RESOLVED', condition.firing.severity, `${o.message}: clear for ${condition.run} window${condition.run === 1 ? '' : 's'}, resolved`);
      state.conditions.delete(key);
    }
  }
  return transitions;
}

/**
 * Resolves every open condition of a machine at once (an operator reset its baseline): RESOLVED
 * transitions at `windowEndMs` with `reason`, in dedupKey order; conditions not firing are dropped.
 */
export function resolveAll(state: MachineAlerts, machineId: string, windowEndMs: number, reason: string): AlertEvent[] {
  const transitions: AlertEvent[] = [];
  for (const [key, condition] of [...state.conditions.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (condition.firing) {
      transitions.push({
        alertId: transitionId([key, condition.firing.sinceMs, 'RESOLVED', condition.firing.severity, windowEndMs]),
        dedupKey: key,
        machineId,
        status: 'RESOLVED',
        severity: condition.firing.severity,
        kind: condition.kind,
        feature: condition.feature,
        windowEnd: windowEndMs,
        predictedBreachAt: null,
        score: 0,
        threshold: 0,
        modelName: 'operator',
        modelVersion: 'relearn',
        message: `${machineId}: ${reason}`,
        createdAt: windowEndMs,
        drivers: [],
      });
    }
  }
  state.conditions.clear();
  return transitions;
}
