import { acknowledgementView, actionView, alertView, assessmentPoint, assessmentView, forecastView, notificationView, silenceView, windowView } from './views';

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
    expect(alertView(row)).toEqual({ alertId: 'a-1', dedupKey: 'lathe-1/ANOMALY/', machineId: 'lathe-1', status: 'FIRING', severity: 'WARNING', kind: 'ANOMALY', feature: null, windowEnd: '2026-01-05T09:00:00.000Z', predictedBreachAt: null, score: 8.5, threshold: 7, modelName: 'pdm-anomaly', modelVersion: 'v2', message: 'm', createdAt: '2026-01-05T09:00:00.000Z', drivers: [{ channel: 'tempA.mean', contribution: 0.8, value: 71.5, expected: 44 }], acknowledgement: null, notifications: [] });
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

describe('views of the score history, actions, silences and mails', () => {
  const at = (iso: string) => new Date(iso);

  test('an assessment point: each score with its threshold, or null when that detector did not score the window', () => {
    expect(assessmentPoint({ window_start: at('2026-01-05T08:00:00Z'), window_end: at('2026-01-05T09:00:00Z'), state: 'ok', anomaly_score: 2.5, anomaly_threshold: 7, deviation_score: null, deviation_threshold: 5 })).toEqual({
      windowStart: '2026-01-05T08:00:00.000Z',
      windowEnd: '2026-01-05T09:00:00.000Z',
      state: 'ok',
      anomaly: { score: 2.5, threshold: 7 },
      deviation: null,
    });
  });

  test('a silence is active from its start until its end or its early end, whichever comes first', () => {
    const row = { request_id: 's-1', machine_id: 'lathe-*', kind: null, starts_at: at('2026-01-05T08:00:00Z'), ends_at: at('2026-01-05T12:00:00Z'), reason: 'bearing change', requested_by: 'ana', requested_at: at('2026-01-05T07:59:00Z'), ended_at: null, ended_by: null };
    const t = (iso: string) => Date.parse(iso);
    expect(silenceView(row, t('2026-01-05T07:59:59Z')).active).toBe(false);
    expect(silenceView(row, t('2026-01-05T08:00:00Z'))).toMatchObject({ silenceId: 's-1', machine: 'lathe-*', kind: null, active: true, endedAt: null });
    expect(silenceView(row, t('2026-01-05T12:00:00Z')).active).toBe(false);
    const ended = { ...row, ended_at: at('2026-01-05T09:00:00Z'), ended_by: 'bo' };
    expect(silenceView(ended, t('2026-01-05T09:30:00Z'))).toMatchObject({ active: false, endedAt: '2026-01-05T09:00:00.000Z', endedBy: 'bo' });
  });

  test('an action this reader does not know is UNKNOWN; an acknowledgement and a mail as recorded', () => {
    const base = { request_id: 'r-1', machine_id: 'm-1', kind: null, alert_id: 'a-1', dedup_key: 'm-1/ANOMALY/', silence_id: null, starts_at: null, ends_at: null, requested_by: 'ana', requested_at: at('2026-01-05T10:00:00Z'), reason: null };
    expect(actionView({ ...base, action: 'ESCALATE' }).action).toBe('UNKNOWN');
    expect(actionView({ ...base, action: 'ACK' })).toMatchObject({ action: 'ACK', alertId: 'a-1', by: 'ana', requestedAt: '2026-01-05T10:00:00.000Z', startsAt: null });
    expect(acknowledgementView({ ...base, action: 'ACK', reason: 'on it' })).toEqual({ requestId: 'r-1', alertId: 'a-1', by: 'ana', at: '2026-01-05T10:00:00.000Z', reason: 'on it' });
    const mail = { recipient: 'oncall@plant', kind: 'FIRING', outcome: 'sent', claimed_at: at('2026-01-05T10:00:00Z'), sent_at: at('2026-01-05T10:00:02Z'), subject: '[WARNING] m-1', error: null };
    expect(notificationView(mail)).toEqual({ recipient: 'oncall@plant', kind: 'FIRING', outcome: 'sent', at: '2026-01-05T10:00:02.000Z', subject: '[WARNING] m-1', error: null });
    expect(notificationView({ ...mail, outcome: 'failed', sent_at: null, error: 'SMTP refused' }).at).toBe('2026-01-05T10:00:00.000Z');
  });
});
