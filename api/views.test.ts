import { alertView, assessmentView, forecastView, windowView } from './views';

const at = (iso: string) => new Date(iso);

describe('views: rows as pg hands them over, as JSON', () => {
  test('a window: the Avro record\'s fields, ISO times, bigint counts as numbers, missing stats null', () => {
    const row: Record<string, unknown> = { machine_id: 'lathe-1', window_start: at('2026-01-05T08:00:00Z'), window_end: at('2026-01-05T09:00:00Z'), count: '1800' };
    for (const f of ['current', 'accx', 'accy', 'tempa', 'tempb']) Object.assign(row, { [`${f}_count`]: '1800', [`${f}_mean`]: 5, [`${f}_min`]: 4, [`${f}_max`]: 6, [`${f}_stddev`]: 0.5 });
    Object.assign(row, { accz_count: '0', accz_mean: null, accz_min: null, accz_max: null, accz_stddev: null });
    expect(windowView(row)).toEqual({
      machineId: 'lathe-1',
      windowStart: '2026-01-05T08:00:00.000Z',
      windowEnd: '2026-01-05T09:00:00.000Z',
      count: 1800,
      current: { count: 1800, mean: 5, min: 4, max: 6, stddev: 0.5 },
      accX: { count: 1800, mean: 5, min: 4, max: 6, stddev: 0.5 },
      accY: { count: 1800, mean: 5, min: 4, max: 6, stddev: 0.5 },
      accZ: { count: 0, mean: null, min: null, max: null, stddev: null },
      tempA: { count: 1800, mean: 5, min: 4, max: 6, stddev: 0.5 },
      tempB: { count: 1800, mean: 5, min: 4, max: 6, stddev: 0.5 },
      extras: {},
    });
  });

  test('a window\'s extra channels, from the jsonb of its window_extras rows, by name', () => {
    const row: Record<string, unknown> = { machine_id: 'pump-1', window_start: at('2026-01-05T08:00:00Z'), window_end: at('2026-01-05T09:00:00Z'), count: '1800' };
    for (const f of ['current', 'accx', 'accy', 'accz', 'tempa', 'tempb']) Object.assign(row, { [`${f}_count`]: '0', [`${f}_mean`]: null });
    row.extras = { pressure: { count: 1790, mean: 4.2, min: 3.5, max: 4.9, stddev: 0.25 }, flow: { count: 0, mean: null, min: null, max: null, stddev: null } };
    const view = windowView(row);
    expect(view.extras).toEqual({ flow: { count: 0, mean: null, min: null, max: null, stddev: null }, pressure: { count: 1790, mean: 4.2, min: 3.5, max: 4.9, stddev: 0.25 } });
    expect(Object.keys(view.extras)).toEqual(['flow', 'pressure']);
  });

  test('an alert: the AlertEvent\'s fields, nullable ones null', () => {
    const row = { alert_id: 'a-1', dedup_key: 'lathe-1/ANOMALY/', machine_id: 'lathe-1', status: 'FIRING', severity: 'WARNING', kind: 'ANOMALY', feature: null, window_end: at('2026-01-05T09:00:00Z'), predicted_breach_at: null, score: 8.5, threshold: 7, model_name: 'pdm-anomaly', model_version: 'v2', message: 'm', created_at: at('2026-01-05T09:00:00Z'), drivers: [{ channel: 'tempA.mean', contribution: 0.8, value: 71.5, expected: 44 }] };
    expect(alertView(row)).toEqual({ alertId: 'a-1', dedupKey: 'lathe-1/ANOMALY/', machineId: 'lathe-1', status: 'FIRING', severity: 'WARNING', kind: 'ANOMALY', feature: null, windowEnd: '2026-01-05T09:00:00.000Z', predictedBreachAt: null, score: 8.5, threshold: 7, modelName: 'pdm-anomaly', modelVersion: 'v2', message: 'm', createdAt: '2026-01-05T09:00:00.000Z', drivers: [{ channel: 'tempA.mean', contribution: 0.8, value: 71.5, expected: 44 }] });
  });

  test.each([
    [
      'scored and forecast',
      { window_start: at('2026-01-05T08:00:00Z'), window_end: at('2026-01-05T09:00:00Z'), warming_up: null, anomaly_score: 8.5, anomaly_threshold: 7, detector_model: 'pdm-anomaly', detector_version: 'v2', forecaster_model: 'pdm-forecaster', forecaster_version: 'v4' },
      { windowStart: '2026-01-05T08:00:00.000Z', windowEnd: '2026-01-05T09:00:00.000Z', warmingUp: null, anomaly: { score: 8.5, threshold: 7, anomalous: true, modelName: 'pdm-anomaly', modelVersion: 'v2' }, forecaster: { modelName: 'pdm-forecaster', modelVersion: 'v4' }, state: null, deviation: null },
    ],
    [
      'a score at its threshold is not anomalous',
      { window_start: at('2026-01-05T08:00:00Z'), window_end: at('2026-01-05T09:00:00Z'), warming_up: 'pdm-forecaster: 10 of 168 windows', anomaly_score: 7, anomaly_threshold: 7, detector_model: 'd', detector_version: 'v1', forecaster_model: null, forecaster_version: null },
      { windowStart: '2026-01-05T08:00:00.000Z', windowEnd: '2026-01-05T09:00:00.000Z', warmingUp: 'pdm-forecaster: 10 of 168 windows', anomaly: { score: 7, threshold: 7, anomalous: false, modelName: 'd', modelVersion: 'v1' }, forecaster: null, state: null, deviation: null },
    ],
    [
      'warming up, nothing scored',
      { window_start: at('2026-01-05T08:00:00Z'), window_end: at('2026-01-05T09:00:00Z'), warming_up: 'too little history', anomaly_score: null, anomaly_threshold: null, detector_model: null, detector_version: null, forecaster_model: null, forecaster_version: null },
      { windowStart: '2026-01-05T08:00:00.000Z', windowEnd: '2026-01-05T09:00:00.000Z', warmingUp: 'too little history', anomaly: null, forecaster: null, state: null, deviation: null },
    ],
    [
      "judged by the machine's own normal: its state, score and drivers",
      { window_start: at('2026-01-05T08:00:00Z'), window_end: at('2026-01-05T09:00:00Z'), warming_up: null, anomaly_score: null, anomaly_threshold: null, detector_model: null, detector_version: null, forecaster_model: null, forecaster_version: null, state: 'at-risk', deviation_score: 1.6, deviation_threshold: 1, drivers: [{ channel: 'flow.mean', contribution: 0.7, value: 6.2, expected: 23.3 }] },
      { windowStart: '2026-01-05T08:00:00.000Z', windowEnd: '2026-01-05T09:00:00.000Z', warmingUp: null, anomaly: null, forecaster: null, state: 'at-risk', deviation: { score: 1.6, threshold: 1, drivers: [{ channel: 'flow.mean', contribution: 0.7, value: 6.2, expected: 23.3 }] } },
    ],
  ])('an assessment, %s', (_name, row, view) => {
    expect(assessmentView(row)).toEqual(view);
  });

  test('a forecast: when made, by which model, its points in the order given; none is null', () => {
    const point = (feature: string, start: string, mean: number) => ({ made_at: at('2026-01-05T09:00:00Z'), target_start: at(start), feature, mean, lower: mean - 1, upper: mean + 1, limit_lower: null, limit_upper: 80, model_version: 'v4', forecaster_model: 'pdm-forecaster' });
    expect(forecastView([point('tempA', '2026-01-05T09:00:00Z', 44), point('tempA', '2026-01-05T10:00:00Z', 45)])).toEqual({
      madeAt: '2026-01-05T09:00:00.000Z',
      modelName: 'pdm-forecaster',
      modelVersion: 'v4',
      points: [
        { feature: 'tempA', windowStart: '2026-01-05T09:00:00.000Z', mean: 44, lower: 43, upper: 45, limitLower: null, limitUpper: 80 },
        { feature: 'tempA', windowStart: '2026-01-05T10:00:00.000Z', mean: 45, lower: 44, upper: 46, limitLower: null, limitUpper: 80 },
      ],
    });
    expect(forecastView([])).toBeNull();
  });
});
