import { rowToWindow } from '../models/data/windows-table';
import { FEATURES } from '../schemas';
import { ALERT_ACTIONS } from './schemas';
import type { AcknowledgementView, ActionView, AlertView, AnomalyView, AssessmentPoint, AssessmentView, ForecastView, NotificationView, SilenceView, WindowView } from './schemas';

/**
 * Table rows as the API's JSON. Pure. Field names and meanings are the Avro records' (schemas/),
 * with times as ISO-8601 strings in UTC instead of epoch milliseconds.
 */

export type Row = Record<string, unknown>;

export type { AlertView, AnomalyView, AssessmentView, ForecastView, MachineSummary, WindowView } from './schemas';

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
    // Filled in by the queries from pdm.alert_actions and pdm.notifications.
    acknowledgement: null,
    notifications: [],
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

/** A window's row of pdm.assessments as a point of the score history. */
export function assessmentPoint(row: Row): AssessmentPoint {
  const pair = (score: unknown, threshold: unknown) => (score === null || score === undefined || threshold === null || threshold === undefined ? null : { score: Number(score), threshold: Number(threshold) });
  return {
    windowStart: isoTime(row.window_start),
    windowEnd: isoTime(row.window_end),
    state: textOrNull(row.state),
    anomaly: pair(row.anomaly_score, row.anomaly_threshold),
    deviation: pair(row.deviation_score, row.deviation_threshold),
  };
}

/** An ACK row of pdm.alert_actions. */
export function acknowledgementView(row: Row): AcknowledgementView {
  return { requestId: String(row.request_id), alertId: String(row.alert_id), by: String(row.requested_by), at: isoTime(row.requested_at), reason: textOrNull(row.reason) };
}

/** A row of pdm.notifications: the transition column names the kind (FIRING:<id>, REMINDER:<n>:<id>, ...). */
export function notificationView(row: Row): NotificationView {
  return {
    recipient: String(row.recipient),
    kind: String(row.kind) as NotificationView['kind'],
    outcome: String(row.outcome) as NotificationView['outcome'],
    at: isoTime(row.sent_at ?? row.claimed_at),
    subject: textOrNull(row.subject),
    error: textOrNull(row.error),
  };
}

/** A SILENCE row of pdm.alert_actions with its UNSILENCE (ended_at, ended_by), active at `nowMs`. */
export function silenceView(row: Row, nowMs: number): SilenceView {
  const startsAt = isoTime(row.starts_at);
  const endsAt = isoTime(row.ends_at);
  const endedAt = isoOrNull(row.ended_at);
  const until = Math.min(Date.parse(endsAt), endedAt === null ? Infinity : Date.parse(endedAt));
  return {
    silenceId: String(row.request_id),
    machine: textOrNull(row.machine_id),
    kind: textOrNull(row.kind),
    startsAt,
    endsAt,
    reason: textOrNull(row.reason),
    by: String(row.requested_by),
    requestedAt: isoTime(row.requested_at),
    endedAt,
    endedBy: textOrNull(row.ended_by),
    active: Date.parse(startsAt) <= nowMs && nowMs < until,
  };
}

/** A row of pdm.alert_actions, as the audit trail shows it. */
export function actionView(row: Row): ActionView {
  const action = String(row.action);
  return {
    requestId: String(row.request_id),
    action: ((ALERT_ACTIONS as readonly string[]).includes(action) ? action : 'UNKNOWN') as ActionView['action'],
    machine: textOrNull(row.machine_id),
    kind: textOrNull(row.kind),
    alertId: textOrNull(row.alert_id),
    dedupKey: textOrNull(row.dedup_key),
    silenceId: textOrNull(row.silence_id),
    startsAt: isoOrNull(row.starts_at),
    endsAt: isoOrNull(row.ends_at),
    by: String(row.requested_by),
    requestedAt: isoTime(row.requested_at),
    reason: textOrNull(row.reason),
  };
}
