import { FEATURES, type AlertEvent, type WindowFeatures } from '../../schemas';
import { alertsTable, chunks, flatten, lastPerKey, MAX_PARAMETERS, rowsPerStatement, upsertStatement, windowFeaturesTable } from './postgres.rows';

const t0 = Date.UTC(2026, 0, 5, 8);

const window = (machineId: string, windowStart: number, mean: number | null = 5): WindowFeatures => {
  const w = { machineId, windowStart, windowEnd: windowStart + 3_600_000, count: 3 } as WindowFeatures;
  for (const f of FEATURES) w[f] = mean === null ? { count: 0, mean: null, min: null, max: null, stddev: null } : { count: 3, mean, min: mean - 1, max: mean + 1, stddev: 0.5 };
  return w;
};

const alert = (over: Partial<AlertEvent> = {}): AlertEvent => ({
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

  test('flatten checks every row has a value per column', () => {
    expect(flatten([[1, 'a'], [2, null]], 2)).toEqual([1, 'a', 2, null]);
    expect(() => flatten([[1]], 2)).toThrow('1 values for 2 columns');
  });
});
