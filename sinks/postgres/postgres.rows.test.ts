import { FEATURES, type AlertEvent, type MachineAssessment, type WindowFeatures } from '../../schemas';
import { alertsTable, assessmentRows, assessmentsRecord, assessmentsTable, chunks, flatten, forecastsTable, lastPerKey, MAX_PARAMETERS, oneTable, rowsPerStatement, upsertStatement, windowExtrasTable, windowFeaturesRecord, windowFeaturesTable } from './postgres.rows';

const t0 = Date.UTC(2026, 0, 5, 8);

const window = (machineId: string, windowStart: number, mean: number | null = 5): WindowFeatures => {
  const w = { machineId, windowStart, windowEnd: windowStart + 3_600_000, count: 3, extras: {} } as unknown as WindowFeatures;
  for (const f of FEATURES) w[f] = mean === null ? { count: 0, mean: null, min: null, max: null, stddev: null } : { count: 3, mean, min: mean - 1, max: mean + 1, stddev: 0.5 };
  return w;
};

const alert = (over: Partial<AlertEvent> = {}): AlertEvent => ({
  drivers: [],
  alertId: 'a-1',
  dedupKey: 'lathe-1:tempA:FORECAST_BREACH',
  machineId: 'lathe-1',
  status: 'FIRING',
  severity: 'WARNING',
  kind: 'FORECAST_BREACH',
  feature: 'tempA',
  windowEnd: t0,
  predictedBreachAt: t0 + 7_200_000,
  score: 81.5,
  threshold: 80,
  modelName: 'pdm-forecaster',
  modelVersion: 'v3',
  message: 'tempA of lathe-1 will pass 80 in 2 h',
  createdAt: t0 + 1000,
  ...over,
});

describe('row mapping', () => {
  test('a window is one row of pdm.window_features, <feature>_<stat> columns, nulls kept', () => {
    const row = windowFeaturesTable.toRow(window('pump-1', t0, null));
    expect(row).toHaveLength(windowFeaturesTable.columns.length);
    const byColumn = Object.fromEntries(windowFeaturesTable.columns.map((c, i) => [c, row[i]]));
    expect(byColumn).toMatchObject({ machine_id: 'pump-1', window_start: '2026-01-05T08:00:00.000Z', window_end: '2026-01-05T09:00:00.000Z', count: 3, current_count: 0, current_mean: null, tempb_stddev: null });
    expect(windowFeaturesTable.columns.slice(0, 5)).toEqual(['machine_id', 'window_start', 'window_end', 'count', 'current_count']);
  });

  test('a window\'s extra channels are rows of pdm.window_extras, by channel, written with its window_features row', () => {
    const w = { ...window('pump-1', t0), extras: { pressure: { count: 3, mean: 4.2, min: 4, max: 4.5, stddev: 0.2 }, flow: { count: 0, mean: null, min: null, max: null, stddev: null } } };
    expect(windowFeaturesRecord.tables.map((t) => t.table)).toEqual(['window_features', 'window_extras']);
    const [features, extras] = windowFeaturesRecord.toRows(w);
    expect(features).toEqual([windowFeaturesTable.toRow(w)]);
    expect(windowExtrasTable.columns).toEqual(['machine_id', 'window_start', 'channel', 'count', 'mean', 'min', 'max', 'stddev']);
    expect(extras).toEqual([
      ['pump-1', '2026-01-05T08:00:00.000Z', 'flow', 0, null, null, null, null],
      ['pump-1', '2026-01-05T08:00:00.000Z', 'pressure', 3, 4.2, 4, 4.5, 0.2],
    ]);
    expect(windowFeaturesRecord.toRows(window('lathe-1', t0))[1]).toEqual([]);
    expect(windowFeaturesRecord.keyOf(w)).toBe(windowFeaturesTable.keyOf(w));
  });

  test.each([
    ['a forecast breach', alert(), { alert_id: 'a-1', status: 'FIRING', severity: 'WARNING', kind: 'FORECAST_BREACH', feature: 'tempA', window_end: '2026-01-05T08:00:00.000Z', predicted_breach_at: '2026-01-05T10:00:00.000Z', created_at: '2026-01-05T08:00:01.000Z', model_version: 'v3' }],
    ['an anomaly with no feature and no breach time', alert({ kind: 'ANOMALY', feature: null, predictedBreachAt: null, status: 'RESOLVED', severity: 'INFO' }), { kind: 'ANOMALY', feature: null, predicted_breach_at: null, status: 'RESOLVED', severity: 'INFO' }],
  ])('%s is one row of pdm.alerts', (_name, value, expected) => {
    const row = alertsTable.toRow(value);
    expect(row).toHaveLength(alertsTable.columns.length);
    expect(Object.fromEntries(alertsTable.columns.map((c, i) => [c, row[i]]))).toMatchObject(expected);
  });

  test('a time JavaScript cannot represent is refused while mapping (the record is dead-lettered)', () => {
    expect(() => alertsTable.toRow(alert({ createdAt: 9e15 }))).toThrow(RangeError);
  });

  test('keys: one machine and window start; one alert id', () => {
    expect(windowFeaturesTable.keyOf(window('m', t0))).toBe(windowFeaturesTable.keyOf(window('m', t0, 9)));
    expect(windowFeaturesTable.keyOf(window('m', t0))).not.toBe(windowFeaturesTable.keyOf(window('m', t0 + 1)));
    expect(alertsTable.keyOf(alert())).toBe('a-1');
  });
});

const HOUR = 3_600_000;

const assessment = (over: Partial<MachineAssessment> = {}): MachineAssessment => ({
  machineId: 'lathe-1',
  windowStart: t0 - HOUR,
  windowEnd: t0,
  warmingUp: null,
  state: null,
  deviation: null,
  anomaly: { score: 3.5, threshold: 7.25, modelName: 'pdm-anomaly', modelVersion: 'v2' },
  forecast: {
    modelName: 'pdm-forecaster',
    modelVersion: 'v4',
    stepMillis: HOUR,
    series: [
      { feature: 'tempA', mean: [44, 44.5], lower: [42.5, 42], upper: [45.5, 47], limitLower: null, limitUpper: 80 },
      { feature: 'current', mean: [11.8], lower: [10.9], upper: [12.7], limitLower: 2, limitUpper: 20 },
    ],
  },
  ...over,
});

const byColumn = (columns: readonly string[], row: ReadonlyArray<unknown>) => Object.fromEntries(columns.map((c, i) => [c, row[i]]));

describe('assessment mapping', () => {
  test('an assessment is one row of pdm.assessments and one row of pdm.forecasts per point, made at its window end', () => {
    const { assessment: row, forecasts } = assessmentRows(assessment());
    expect(row).toHaveLength(assessmentsTable.columns.length);
    expect(byColumn(assessmentsTable.columns, row)).toEqual({
      machine_id: 'lathe-1',
      window_start: '2026-01-05T07:00:00.000Z',
      window_end: '2026-01-05T08:00:00.000Z',
      warming_up: null,
      anomaly_score: 3.5,
      anomaly_threshold: 7.25,
      detector_model: 'pdm-anomaly',
      detector_version: 'v2',
      forecaster_model: 'pdm-forecaster',
      forecaster_version: 'v4',
      state: null,
      deviation_score: null,
      deviation_threshold: null,
      drivers: null,
    });
    const deviating = assessmentRows(assessment({ state: 'at-risk', deviation: { score: 1.4, threshold: 1, modelName: 'pdm-baseline', modelVersion: 'v1', drivers: [{ channel: 'tempA.mean', contribution: 0.9, value: 71.5, expected: 44 }] } })).assessment;
    expect(byColumn(assessmentsTable.columns, deviating)).toMatchObject({ state: 'at-risk', deviation_score: 1.4, deviation_threshold: 1, drivers: '[{"channel":"tempA.mean","contribution":0.9,"value":71.5,"expected":44}]' });
    expect(forecasts.map((f) => byColumn(forecastsTable.columns, f))).toEqual([
      { machine_id: 'lathe-1', made_at: '2026-01-05T08:00:00.000Z', target_start: '2026-01-05T08:00:00.000Z', feature: 'tempA', mean: 44, lower: 42.5, upper: 45.5, limit_lower: null, limit_upper: 80, model_version: 'v4' },
      { machine_id: 'lathe-1', made_at: '2026-01-05T08:00:00.000Z', target_start: '2026-01-05T09:00:00.000Z', feature: 'tempA', mean: 44.5, lower: 42, upper: 47, limit_lower: null, limit_upper: 80, model_version: 'v4' },
      { machine_id: 'lathe-1', made_at: '2026-01-05T08:00:00.000Z', target_start: '2026-01-05T08:00:00.000Z', feature: 'current', mean: 11.8, lower: 10.9, upper: 12.7, limit_lower: 2, limit_upper: 20, model_version: 'v4' },
    ]);
  });

  test('a machine still warming up: the reason, no score, no forecast, so no forecast rows', () => {
    const { assessment: row, forecasts } = assessmentRows(assessment({ warmingUp: 'pdm-forecaster: 12 of 168 windows', anomaly: null, forecast: null }));
    expect(byColumn(assessmentsTable.columns, row)).toMatchObject({ warming_up: 'pdm-forecaster: 12 of 168 windows', anomaly_score: null, anomaly_threshold: null, detector_model: null, detector_version: null, forecaster_model: null, forecaster_version: null });
    expect(forecasts).toEqual([]);
  });

  test('one model ready, the other warming up: both said', () => {
    const { assessment: row, forecasts } = assessmentRows(assessment({ warmingUp: 'pdm-forecaster: 100 of 168 windows', forecast: null }));
    expect(byColumn(assessmentsTable.columns, row)).toMatchObject({ warming_up: 'pdm-forecaster: 100 of 168 windows', anomaly_score: 3.5, forecaster_model: null });
    expect(forecasts).toEqual([]);
  });

  test('as a record spec: the assessment table first (the forecasts reference it), one key per machine and window end', () => {
    expect(assessmentsRecord.tables.map((t) => t.table)).toEqual(['assessments', 'forecasts']);
    const rows = assessmentsRecord.toRows(assessment());
    expect(rows.map((r) => r.length)).toEqual([1, 3]);
    expect(assessmentsRecord.keyOf(assessment())).toBe(assessmentsRecord.keyOf(assessment({ anomaly: null })));
    expect(assessmentsRecord.keyOf(assessment())).not.toBe(assessmentsRecord.keyOf(assessment({ windowEnd: t0 + HOUR })));
    expect(assessmentsRecord.keyOf(assessment())).not.toBe(assessmentsRecord.keyOf(assessment({ machineId: 'lathe-2' })));
  });

  test.each([
    ['a NaN score', assessment({ anomaly: { score: NaN, threshold: 7, modelName: 'd', modelVersion: 'v1' } }), 'anomaly.score is NaN'],
    ['an infinite threshold', assessment({ anomaly: { score: 1, threshold: Infinity, modelName: 'd', modelVersion: 'v1' } }), 'anomaly.threshold is Infinity'],
    ['a NaN forecast bound', assessment({ forecast: { modelName: 'f', modelVersion: 'v1', stepMillis: HOUR, series: [{ feature: 'accX', mean: [1], lower: [NaN], upper: [2], limitLower: null, limitUpper: null }] } }), 'forecast accX at 2026-01-05T08:00:00.000Z: lower is NaN'],
    ['an infinite limit', assessment({ forecast: { modelName: 'f', modelVersion: 'v1', stepMillis: HOUR, series: [{ feature: 'accX', mean: [1], lower: [0], upper: [2], limitLower: -Infinity, limitUpper: null }] } }), 'limitLower is -Infinity'],
    ['two series of one feature', assessment({ forecast: { modelName: 'f', modelVersion: 'v1', stepMillis: HOUR, series: [assessment().forecast!.series[0]!, { ...assessment().forecast!.series[0]!, mean: [50, 51] }] } }), 'two points for tempA at 2026-01-05T08:00:00.000Z'],
    ['a series shorter than its bounds', assessment({ forecast: { modelName: 'f', modelVersion: 'v1', stepMillis: HOUR, series: [{ feature: 'accX', mean: [1], lower: [0, 0], upper: [2, 2], limitLower: null, limitUpper: null }] } }), 'the forecast of accX has 1 means, 2 lower and 2 upper bounds'],
    ['a time JavaScript cannot represent', assessment({ windowEnd: 9e15 }), 'Invalid time value'],
  ])('%s is refused while mapping (the record is dead-lettered)', (_name, value, message) => {
    expect(() => assessmentRows(value)).toThrow(RangeError);
    expect(() => assessmentRows(value)).toThrow(message);
  });
});

describe('batching', () => {
  test.each([
    ['no duplicates', ['a', 'b', 'c'], ['a', 'b', 'c'], []],
    ['a repeated key keeps its last record, where that came', ['a1', 'b1', 'a2'], ['b1', 'a2'], ['a1']],
    ['three of one key', ['a1', 'a2', 'a3'], ['a3'], ['a1', 'a2']],
    ['empty', [], [], []],
  ])('lastPerKey: %s', (_name, items, kept, superseded) => {
    const result = lastPerKey(items, (s) => s[0]!);
    expect(result.kept).toEqual(kept);
    expect(result.superseded).toEqual(superseded);
  });

  test.each([
    [[1, 2, 3, 4, 5], 2, [[1, 2], [3, 4], [5]]],
    [[1, 2], 5, [[1, 2]]],
    [[], 3, []],
  ])('chunks(%j, %d)', (items, size, expected) => {
    expect(chunks(items, size)).toEqual(expected);
  });

  test('rows per statement stay under the 65535 parameters of one statement', () => {
    expect(rowsPerStatement(34, 500)).toBe(500);
    expect(rowsPerStatement(34, 10_000)).toBe(Math.floor(MAX_PARAMETERS / 34));
    expect(rowsPerStatement(34, 10_000) * 34).toBeLessThanOrEqual(MAX_PARAMETERS);
    expect(rowsPerStatement(100_000, 10)).toBe(1);
  });

  test('the upsert: numbered parameters per row, conflict on the natural key, writes only what changed', () => {
    const sql = upsertStatement('pdm', { table: 'alerts', columns: ['alert_id', 'status', 'score'], key: ['alert_id'] }, 2);
    expect(sql).toBe(
      'INSERT INTO "pdm"."alerts" AS t ("alert_id", "status", "score") VALUES ($1, $2, $3), ($4, $5, $6) ' +
        'ON CONFLICT ("alert_id") DO UPDATE SET "status" = EXCLUDED."status", "score" = EXCLUDED."score" ' +
        'WHERE (t."status", t."score") IS DISTINCT FROM (EXCLUDED."status", EXCLUDED."score")',
    );
  });

  test('a one-table spec is a record of one row of that table', () => {
    const spec = oneTable(alertsTable);
    expect(spec.tables).toEqual([alertsTable]);
    expect(spec.toRows(alert())).toEqual([[alertsTable.toRow(alert())]]);
    expect(spec.keyOf(alert())).toBe('a-1');
  });

  test('the assessment upserts conflict on their natural keys and never rewrite a key column', () => {
    const forecasts = upsertStatement('pdm', forecastsTable, 1);
    expect(forecasts).toContain('ON CONFLICT ("machine_id", "made_at", "target_start", "feature") DO UPDATE SET "mean" = EXCLUDED."mean"');
    expect(forecasts).not.toMatch(/SET .*"made_at" = /);
    expect(upsertStatement('pdm', assessmentsTable, 1)).toContain('ON CONFLICT ("machine_id", "window_end") DO UPDATE SET "window_start" = EXCLUDED."window_start"');
  });

  test('flatten checks every row has a value per column', () => {
    expect(flatten([[1, 'a'], [2, null]], 2)).toEqual([1, 'a', 2, null]);
    expect(() => flatten([[1]], 2)).toThrow('1 values for 2 columns');
  });
});
