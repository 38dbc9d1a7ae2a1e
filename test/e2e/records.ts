import type { AlertEvent, MachineAssessment, MachineAssessmentV1 } from '../../schemas';
import { forecastPoints } from '../../schemas/assessments';

/**
 * Records as an analyst reads them back from the follower, and the comparison of two sets of
 * records by key. Written apart from the sink's own row mapping (sinks/postgres/postgres.rows.ts):
 * a mapping bug there must show here as a difference, not cancel out.
 */

type Row = Record<string, unknown>;

const ms = (value: unknown): number => (value instanceof Date ? value.getTime() : Number.NaN);
const msOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : ms(value));
const num = (value: unknown): number => (typeof value === 'number' ? value : Number(value));
const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : num(value));
const str = (value: unknown): string => String(value);
const strOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

/** A row of pdm.alerts (timestamps as the driver's Date) as the AlertEvent it came from. */
export function alertFromRow(row: Row): AlertEvent {
  return {
    drivers: Array.isArray(row.drivers) ? (row.drivers as AlertEvent['drivers']) : [],
    alertId: str(row.alert_id),
    dedupKey: str(row.dedup_key),
    machineId: str(row.machine_id),
    status: str(row.status) as AlertEvent['status'],
    severity: str(row.severity) as AlertEvent['severity'],
    kind: str(row.kind) as AlertEvent['kind'],
    feature: strOrNull(row.feature),
    windowEnd: ms(row.window_end),
    predictedBreachAt: msOrNull(row.predicted_breach_at),
    score: num(row.score),
    threshold: num(row.threshold),
    modelName: str(row.model_name),
    modelVersion: str(row.model_version),
    message: str(row.message),
    createdAt: ms(row.created_at),
  };
}

/** A row of pdm.assessments and its rows of pdm.forecasts as the assessment they came from, its forecast as points (as pdm.forecasts keeps it). */
export function assessmentFromRows(row: Row, forecasts: readonly Row[]): MachineAssessmentV1 {
  const anomaly = row.anomaly_score === null ? null : { score: num(row.anomaly_score), threshold: num(row.anomaly_threshold), modelName: str(row.detector_model), modelVersion: str(row.detector_version) };
  const forecast =
    row.forecaster_model === null
      ? null
      : {
          modelName: str(row.forecaster_model),
          modelVersion: str(row.forecaster_version),
          points: forecasts.map((f) => ({ feature: str(f.feature), windowStart: ms(f.target_start), mean: num(f.mean), lower: num(f.lower), upper: num(f.upper), limitLower: numOrNull(f.limit_lower), limitUpper: numOrNull(f.limit_upper) })),
        };
  return { machineId: str(row.machine_id), windowStart: ms(row.window_start), windowEnd: ms(row.window_end), warmingUp: strOrNull(row.warming_up), anomaly, forecast, state: null, deviation: null };
}

/** An alert with its fields in schema order, as plain data. */
export const canonicalAlert = (a: AlertEvent): string =>
  JSON.stringify([a.alertId, a.dedupKey, a.machineId, a.status, a.severity, a.kind, a.feature ?? null, a.windowEnd, a.predictedBreachAt ?? null, a.score, a.threshold, a.modelName, a.modelVersion, a.message, a.createdAt]);

/** An assessment as plain data, its forecast as points in (window, feature) order, which a table does not keep. */
export function canonicalAssessment(a: MachineAssessment | MachineAssessmentV1): string {
  const points = (a.forecast && 'points' in a.forecast ? [...a.forecast.points] : forecastPoints(a as MachineAssessment))
    .map((p) => [p.windowStart, p.feature, p.mean, p.lower, p.upper, p.limitLower ?? null, p.limitUpper ?? null] as const)
    .sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
  const anomaly = a.anomaly ? [a.anomaly.score, a.anomaly.threshold, a.anomaly.modelName, a.anomaly.modelVersion] : null;
  const forecast = a.forecast ? [a.forecast.modelName, a.forecast.modelVersion, points] : null;
  return JSON.stringify([a.machineId, a.windowStart, a.windowEnd, a.warmingUp ?? null, anomaly, forecast]);
}

/**
 * Differences between what a reader found and what it should have found, both keyed: keys
 * missing, not expected, found twice (on either side), or found with other content.
 */
export function compareKeyed<T>(label: string, actual: readonly T[], expected: readonly T[], keyOf: (item: T) => string, canonical: (item: T) => string): string[] {
  const problems: string[] = [];
  const index = (items: readonly T[], side: string) => {
    const map = new Map<string, string>();
    for (const item of items) {
      const key = keyOf(item);
      if (map.has(key)) problems.push(`${label} ${key}: twice in ${side}`);
      map.set(key, canonical(item));
    }
    return map;
  };
  const found = index(actual, 'what was read');
  const wanted = index(expected, 'the expectation');
  for (const [key, value] of wanted) {
    const got = found.get(key);
    if (got === undefined) problems.push(`${label} ${key}: missing`);
    else if (got !== value) problems.push(`${label} ${key}: differs: ${got} != expected ${value}`);
  }
  for (const key of found.keys()) if (!wanted.has(key)) problems.push(`${label} ${key}: not expected`);
  return problems;
}
