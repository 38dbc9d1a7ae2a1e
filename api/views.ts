import { rowToWindow } from '../models/data/windows-table';
import { FEATURES, type FeatureStats } from '../schemas';
import type { MachineState } from './machine-state';

/**
 * Table rows as the API's JSON. Pure. Field names and meanings are the Avro records' (schemas/),
 * with times as ISO-8601 strings in UTC instead of epoch milliseconds.
 */

export type Row = Record<string, unknown>;

export type WindowView = { machineId: string; windowStart: string; windowEnd: string; count: number } & Record<(typeof FEATURES)[number], FeatureStats> & {
  /** Each extra channel's statistics, by name (WindowFeatures.extras); {} for a machine with only the six. */
  extras: Record<string, FeatureStats>;
};

export interface AlertView {
  alertId: string;
  dedupKey: string;
  machineId: string;
  status: string;
  severity: string;
  kind: string;
  feature: string | null;
  windowEnd: string;
  predictedBreachAt: string | null;
  score: number;
  threshold: number;
  modelName: string;
  modelVersion: string;
  message: string;
  createdAt: string;
  /** The channels that drove the transition, strongest first. */
  drivers: Array<{ channel: string; contribution: number; value: number | null; expected: number | null }>;
}

export interface AssessmentView {
  windowStart: string;
  windowEnd: string;
  /** Why not every model could assess the machine yet, or null. */
  warmingUp: string | null;
  anomaly: AnomalyView | null;
  forecaster: { modelName: string; modelVersion: string } | null;
  /** The machine's state after the window (ok, at-risk, warming-up, off), or null from before the per-machine detector. */
  state: string | null;
  /** The per-machine detector: how far the window is from the machine's own normal, and which channels drove it. */
  deviation: { score: number; threshold: number; drivers: AlertView['drivers'] } | null;
}

export interface AnomalyView {
  score: number;
  threshold: number;
  /** The score is above the threshold. */
  anomalous: boolean;
  modelName: string;
  modelVersion: string;
}

export interface ForecastView {
  /** When it was made: the end of the window it was made on; the forecast starts there. */
  madeAt: string;
  modelName: string | null;
  modelVersion: string;
  points: Array<{ feature: string; windowStart: string; mean: number; lower: number; upper: number; limitLower: number | null; limitUpper: number | null }>;
}

export interface MachineSummary {
  machineId: string;
  state: MachineState;
  lastWindow: WindowView;
  latestAssessment: AssessmentView | null;
  activeAlerts: AlertView[];
}

/** A timestamptz as pg hands it over (a Date), or epoch milliseconds, as ISO-8601. */
export function isoTime(value: unknown): string {
  const at = value instanceof Date ? value : typeof value === 'number' ? new Date(value) : new Date(String(value));
  if (Number.isNaN(at.getTime())) throw new RangeError(`${String(value)} is not a time`);
  return at.toISOString();
}

const isoOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : isoTime(value));
const numberOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
const textOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

/**
 * A row of pdm.window_features (its count columns are bigint, which pg hands over as text), with
 * `extras`, its rows of pdm.window_extras as one jsonb object by channel (queries.ts windowSelect).
 */
export function windowView(row: Row): WindowView {
  const w = rowToWindow(row, 'pdm.window_features');
  const view = { machineId: w.machineId, windowStart: isoTime(w.windowStart), windowEnd: isoTime(w.windowEnd), count: w.count } as WindowView;
  for (const feature of FEATURES) view[feature] = w[feature];
  view.extras = {};
  const extras = (row.extras ?? {}) as Record<string, Record<string, unknown>>;
  for (const channel of Object.keys(extras).sort()) {
    const s = extras[channel]!;
    const stat = (name: 'mean' | 'min' | 'max' | 'stddev') => numberOrNull(s[name]);
    view.extras[channel] = { count: Number(s.count), mean: stat('mean'), min: stat('min'), max: stat('max'), stddev: stat('stddev') };
  }
  return view;
}

export function alertView(row: Row): AlertView {
  return {
    alertId: String(row.alert_id),
    dedupKey: String(row.dedup_key),
    machineId: String(row.machine_id),
    status: String(row.status),
    severity: String(row.severity),
    kind: String(row.kind),
    feature: textOrNull(row.feature),
    windowEnd: isoTime(row.window_end),
    predictedBreachAt: isoOrNull(row.predicted_breach_at),
    score: Number(row.score),
    threshold: Number(row.threshold),
    modelName: String(row.model_name),
    modelVersion: String(row.model_version),
    message: String(row.message),
    createdAt: isoTime(row.created_at),
    drivers: Array.isArray(row.drivers) ? (row.drivers as AlertView['drivers']) : [],
  };
}

/** The anomaly score of a row of pdm.assessments, or null when the detector did not score that window. */
export function anomalyView(row: Row): AnomalyView | null {
  const score = numberOrNull(row.anomaly_score);
  const threshold = numberOrNull(row.anomaly_threshold);
  if (score === null || threshold === null) return null;
  return { score, threshold, anomalous: score > threshold, modelName: String(row.detector_model), modelVersion: String(row.detector_version) };
}

export function assessmentView(row: Row): AssessmentView {
  return {
    windowStart: isoTime(row.window_start),
    windowEnd: isoTime(row.window_end),
    warmingUp: textOrNull(row.warming_up),
    anomaly: anomalyView(row),
    forecaster: row.forecaster_version === null || row.forecaster_version === undefined ? null : { modelName: String(row.forecaster_model), modelVersion: String(row.forecaster_version) },
    state: textOrNull(row.state),
    deviation:
      row.deviation_score === null || row.deviation_score === undefined
        ? null
        : { score: Number(row.deviation_score), threshold: Number(row.deviation_threshold), drivers: Array.isArray(row.drivers) ? (row.drivers as AlertView['drivers']) : [] },
  };
}

/** The rows of pdm.forecasts of one machine and made_at (with its assessment's forecaster_model), or null when there are none. */
export function forecastView(rows: readonly Row[]): ForecastView | null {
  const first = rows[0];
  if (!first) return null;
  return {
    madeAt: isoTime(first.made_at),
    modelName: textOrNull(first.forecaster_model),
    modelVersion: String(first.model_version),
    points: rows.map((r) => ({
      feature: String(r.feature),
      windowStart: isoTime(r.target_start),
      mean: Number(r.mean),
      lower: Number(r.lower),
      upper: Number(r.upper),
      limitLower: numberOrNull(r.limit_lower),
      limitUpper: numberOrNull(r.limit_upper),
    })),
  };
}
