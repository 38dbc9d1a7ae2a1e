import type { AlertEvent, MachineAssessment } from '../../schemas';
import { forecastPoints } from '../../schemas/assessments';
import { alertFromRow, assessmentFromRows, canonicalAlert, canonicalAssessment, compareKeyed } from './records';

const T0 = Date.UTC(2026, 2, 5, 8);
const HOUR = 3_600_000;

const alert: AlertEvent = {
  drivers: [],
  alertId: 'a1',
  dedupKey: 'lathe-9/FORECAST_BREACH/tempA',
  machineId: 'lathe-9',
  status: 'FIRING',
  severity: 'CRITICAL',
  kind: 'FORECAST_BREACH',
  feature: 'tempA',
  windowEnd: T0,
  predictedBreachAt: T0 + 2 * HOUR,
  score: 81.12345678901235,
  threshold: 80,
  modelName: 'pdm-forecaster',
  modelVersion: 'v1',
  message: 'tempA heads for its limit',
  createdAt: T0,
};

/** pdm.alerts as the pg driver hands it over: timestamps as Date, doubles as numbers. */
const alertRow = (a: AlertEvent) => ({
  alert_id: a.alertId,
  dedup_key: a.dedupKey,
  machine_id: a.machineId,
  status: a.status,
  severity: a.severity,
  kind: a.kind,
  feature: a.feature,
  window_end: new Date(a.windowEnd),
  predicted_breach_at: a.predictedBreachAt === null ? null : new Date(a.predictedBreachAt),
  score: a.score,
  threshold: a.threshold,
  model_name: a.modelName,
  model_version: a.modelVersion,
  message: a.message,
  created_at: new Date(a.createdAt),
});

const assessment: MachineAssessment = {
  machineId: 'lathe-9',
  windowStart: T0 - HOUR,
  windowEnd: T0,
  warmingUp: null,
  state: null,
  deviation: null,
  anomaly: { score: 0.5, threshold: 1.35, modelName: 'pdm-anomaly', modelVersion: 'v2' },
  forecast: {
    modelName: 'pdm-forecaster',
    modelVersion: 'v1',
    stepMillis: HOUR,
    series: [
      { feature: 'tempA', mean: [41], lower: [40], upper: [42], limitLower: null, limitUpper: 60 },
      { feature: 'current', mean: [10, 10.5], lower: [9, 9], upper: [11, 12], limitLower: 1, limitUpper: 20 },
    ],
  },
};

const forecastRows = (a: MachineAssessment) =>
  forecastPoints(a).map((p) => ({ machine_id: a.machineId, made_at: new Date(a.windowEnd), target_start: new Date(p.windowStart), feature: p.feature, mean: p.mean, lower: p.lower, upper: p.upper, limit_lower: p.limitLower, limit_upper: p.limitUpper, model_version: a.forecast!.modelVersion }));

const assessmentRow = (a: MachineAssessment) => ({
  machine_id: a.machineId,
  window_start: new Date(a.windowStart),
  window_end: new Date(a.windowEnd),
  warming_up: a.warmingUp,
  anomaly_score: a.anomaly?.score ?? null,
  anomaly_threshold: a.anomaly?.threshold ?? null,
  detector_model: a.anomaly?.modelName ?? null,
  detector_version: a.anomaly?.modelVersion ?? null,
  forecaster_model: a.forecast?.modelName ?? null,
  forecaster_version: a.forecast?.modelVersion ?? null,
});

describe('records read back from the follower', () => {
  test('an alert row is the alert, field for field', () => {
    expect(canonicalAlert(alertFromRow(alertRow(alert)))).toBe(canonicalAlert(alert));
    expect(canonicalAlert(alertFromRow(alertRow({ ...alert, feature: null, predictedBreachAt: null })))).toBe(canonicalAlert({ ...alert, feature: null, predictedBreachAt: null }));
  });

  test('an assessment and its forecast rows are the assessment, whatever order the rows come in', () => {
    expect(canonicalAssessment(assessmentFromRows(assessmentRow(assessment), forecastRows(assessment).reverse()))).toBe(canonicalAssessment(assessment));
    const warming: MachineAssessment = { ...assessment, warmingUp: 'forecaster: 12 of 168 windows', anomaly: null, forecast: null };
    expect(canonicalAssessment(assessmentFromRows(assessmentRow(warming), []))).toBe(canonicalAssessment(warming));
  });

  test('a row that lost a forecast point or a digit differs', () => {
    const lost = assessmentFromRows(assessmentRow(assessment), forecastRows(assessment).slice(1));
    expect(canonicalAssessment(lost)).not.toBe(canonicalAssessment(assessment));
    expect(canonicalAlert(alertFromRow({ ...alertRow(alert), score: 81.12345678901237 }))).not.toBe(canonicalAlert(alert));
  });

  test('missing, extra, repeated and different records are each named', () => {
    const b = { ...alert, alertId: 'b1' };
    const c = { ...alert, alertId: 'c1' };
    const key = (a: AlertEvent) => a.alertId;
    expect(compareKeyed('alert', [b, alert], [alert, b], key, canonicalAlert)).toEqual([]);
    expect(compareKeyed('alert', [alert, alert, { ...b, severity: 'INFO' }, c], [alert, b], key, canonicalAlert)).toEqual([
      'alert a1: twice in what was read',
      expect.stringMatching(/^alert b1: differs: .*"INFO".* != expected .*"CRITICAL"/),
      'alert c1: not expected',
    ]);
    expect(compareKeyed('alert', [], [alert], key, canonicalAlert)).toEqual(['alert a1: missing']);
  });
});
