import { anomalySeverity, assessWindow, breachSeverity, emptyMachineAlerts, transitionId, type AlertPolicy, type WindowAssessment, resolveAll } from './alerts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 8);
const policy: AlertPolicy = { forWindows: 3, clearWindows: 2, anomalyRatio: { warning: 1.3, critical: 2 }, breachLeadMs: { warning: 6 * HOUR, critical: 2 * HOUR } };
const model = { name: 'pdm-anomaly', version: 'v2' };

const anomaly = (i: number, score: number | undefined): WindowAssessment => ({
  machineId: 'lathe-1',
  windowEndMs: T0 + i * HOUR,
  models: { anomaly: model },
  anomaly: score === undefined ? undefined : { score, threshold: 1 },
  breaches: [],
  forecastFeatures: [],
});

/** Feeds scores window by window (undefined: the window is missing) and lists the transitions as `i:STATUS:SEVERITY`. */
function run(scores: Array<number | undefined>, p = policy): string[] {
  const state = emptyMachineAlerts();
  const out: string[] = [];
  scores.forEach((score, i) => {
    if (score === undefined) return; // a missing window is never assessed
    for (const t of assessWindow(state, anomaly(i, score), p)) out.push(`${i}:${t.status}:${t.severity}`);
  });
  return out;
}

describe('anomaly alerts: for, hysteresis, severity', () => {
  test.each([
    ['below the threshold: nothing', [0.5, 0.9, 1.0, 0.2], []],
    ['fires on the third window in a row above', [1.1, 1.1, 1.1, 1.1], ['2:FIRING:INFO']],
    ['a dip below resets the run', [1.1, 1.1, 0.9, 1.1, 1.1, 1.1], ['5:FIRING:INFO']],
    ['a missing window neither continues nor breaks the run', [1.1, 1.1, undefined, 1.1], ['3:FIRING:INFO']],
    ['resolves only after two clear windows in a row', [1.1, 1.1, 1.1, 0.5, 1.2, 0.5, 0.5, 0.5], ['2:FIRING:INFO', '6:RESOLVED:INFO']],
    ['a rise in severity is a new FIRING of the same alert; a fall is not', [1.1, 1.1, 1.1, 1.5, 2.5, 1.1, 0.1, 0.1], ['2:FIRING:INFO', '3:FIRING:WARNING', '4:FIRING:CRITICAL', '7:RESOLVED:CRITICAL']],
    ['fires again after resolving, as a new episode', [2, 2, 2, 0, 0, 2, 2, 2], ['2:FIRING:CRITICAL', '4:RESOLVED:CRITICAL', '7:FIRING:CRITICAL']],
    ['exactly at the threshold is not above it', [1, 1, 1, 1], []],
  ])('%s', (_label, scores, expected) => {
    expect(run(scores)).toEqual(expected);
  });

  test('forWindows 1 and clearWindows 1 turn hysteresis off', () => {
    expect(run([1.1, 0.5, 1.1], { ...policy, forWindows: 1, clearWindows: 1 })).toEqual(['0:FIRING:INFO', '1:RESOLVED:INFO', '2:FIRING:INFO']);
  });

  test('severity from score over threshold', () => {
    expect([1.1, 1.3, 1.99, 2, 10].map((s) => anomalySeverity(s, 1, policy))).toEqual(['INFO', 'WARNING', 'WARNING', 'CRITICAL', 'CRITICAL']);
  });

  test('a transition says what, where and which model, and replays to the same id', () => {
    const first = () => {
      const state = emptyMachineAlerts();
      return [0, 1, 2].flatMap((i) => assessWindow(state, anomaly(i, 1.5), policy));
    };
    const [fired] = first();
    expect(fired).toMatchObject({
      dedupKey: 'lathe-1/ANOMALY/*',
      machineId: 'lathe-1',
      status: 'FIRING',
      severity: 'WARNING',
      kind: 'ANOMALY',
      feature: null,
      windowEnd: T0 + 2 * HOUR,
      predictedBreachAt: null,
      score: 1.5,
      threshold: 1,
      modelName: 'pdm-anomaly',
      modelVersion: 'v2',
      message: 'lathe-1: anomaly score 1.50 against threshold 1.00',
      createdAt: T0 + 2 * HOUR,
    });
    expect(fired!.alertId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(first()).toEqual([fired]);
  });

  test('transition ids differ between transitions of one alert', () => {
    const ids = new Set([transitionId(['k', 1, 'FIRING', 'INFO', 1]), transitionId(['k', 1, 'FIRING', 'WARNING', 2]), transitionId(['k', 1, 'RESOLVED', 'WARNING', 3])]);
    expect(ids.size).toBe(3);
  });
});

describe('forecast breach severity and conditions', () => {

  test('severity from how soon, capped at WARNING when only the interval crosses', () => {
    const at = (hours: number, pointCrosses = true) => breachSeverity({ feature: 'f', atMs: T0 + hours * HOUR, value: 1, limit: 0, direction: 'above', pointCrosses }, T0, policy);
    expect([at(0), at(2), at(3), at(6), at(7)]).toEqual(['CRITICAL', 'CRITICAL', 'WARNING', 'WARNING', 'INFO']);
    expect(at(0, false)).toBe('WARNING');
  });

  test('a breach fires after forWindows windows, carries the predicted time, and resolves when the forecast is back within limits', () => {
    const state = emptyMachineAlerts();
    const assess = (i: number, value: number | null) =>
      assessWindow(
        state,
        {
          machineId: 'pump-3',
          windowEndMs: T0 + i * HOUR,
          models: { forecast: { name: 'pdm-forecaster', version: 'v1' } },
          breaches: value === null ? [] : [{ feature: 'tempA', atMs: T0 + (i + 4) * HOUR, value, limit: 50, direction: 'above', pointCrosses: true }],
          forecastFeatures: ['tempA', 'current'],
        },
        policy,
      );
    expect([assess(0, 51), assess(1, 52)].flat()).toEqual([]);
    const [fired] = assess(2, 53);
    expect(fired).toMatchObject({ dedupKey: 'pump-3/FORECAST_BREACH/tempA', kind: 'FORECAST_BREACH', feature: 'tempA', severity: 'WARNING', predictedBreachAt: T0 + 6 * HOUR, score: 53, threshold: 50, modelName: 'pdm-forecaster', modelVersion: 'v1' });
    expect(fired!.message).toBe(`pump-3: tempA forecast rises above its limit 50.00 at ${new Date(T0 + 6 * HOUR).toISOString()} (53.00)`);
    expect(assess(3, null)).toEqual([]);
    const [resolved] = assess(4, null);
    expect(resolved).toMatchObject({ status: 'RESOLVED', dedupKey: 'pump-3/FORECAST_BREACH/tempA', predictedBreachAt: null });
    expect(state.conditions.size).toBe(0);
  });
});

describe("the machine's own normal: deviation alerts and corroboration", () => {
  const drivers = [{ channel: 'tempA.mean', contribution: 0.7, value: 41.2, expected: 27.5 }];
  const deviation = (i: number, score: number): WindowAssessment => ({
    machineId: 'pump-4',
    windowEndMs: T0 + i * HOUR,
    models: { deviation: { name: 'pdm-baseline', version: 'v1' } },
    deviation: { score, threshold: 1, drivers },
    breaches: [],
    forecastFeatures: [],
  });

  test('a deviation fires after `for` windows, names its strongest sensor and its drivers, and resolves', () => {
    const state = emptyMachineAlerts();
    const out = [0.4, 1.2, 1.5, 1.7, 0.6, 0.5].flatMap((s, i) => assessWindow(state, deviation(i, s), policy));
    expect(out.map((t) => `${t.status}:${t.kind}:${t.feature}`)).toEqual(['FIRING:DEVIATION:tempA', 'RESOLVED:DEVIATION:tempA']);
    expect(out[0]!.dedupKey).toBe('pump-4/DEVIATION/*');
    expect(out[0]!.drivers).toEqual(drivers);
    expect(out[0]!.message).toContain('tempA.mean 41.20 (normal 27.50), 70 %');
  });

  test("a fleet anomaly the machine's own normal does not corroborate does not hold", () => {
    const state = emptyMachineAlerts();
    const uncorroborated = [5, 5, 5, 5].flatMap((score, i) => assessWindow(state, { ...anomaly(i, score), anomaly: { score, threshold: 1, corroborated: false } }, policy));
    expect(uncorroborated).toEqual([]);
    const corroborated = [5, 5, 5].flatMap((score, i) => assessWindow(state, { ...anomaly(i, score), anomaly: { score, threshold: 1, corroborated: true } }, policy));
    expect(corroborated.map((t) => t.status)).toEqual(['FIRING']);
  });

  test('an operator reset resolves every firing condition at once, with who asked', () => {
    const state = emptyMachineAlerts();
    [2, 2, 2].forEach((s, i) => assessWindow(state, deviation(i, s), policy));
    const resolved = resolveAll(state, 'pump-4', T0 + 5 * HOUR, 'baseline reset by ana@plant');
    expect(resolved.map((t) => `${t.status}:${t.kind}`)).toEqual(['RESOLVED:DEVIATION']);
    expect(resolved[0]!.message).toBe('pump-4: baseline reset by ana@plant');
    expect(state.conditions.size).toBe(0);
  });
});
