import { InferenceRestorer, alertsKey, encodeAlerts, encodeLimits, limitsKey } from './inference.state';

describe('the inference changelog', () => {
  test('learned limits survive a restore, and a tombstone forgets them', () => {
    const learned = { learnedAtMs: 1_000, limits: { 'tempA.mean': { lower: null, upper: 74.5 } } };
    const restorer = new InferenceRestorer();
    restorer.apply(limitsKey('pump-04'), encodeLimits(learned));
    restorer.apply(limitsKey('lathe-01'), encodeLimits(learned));
    restorer.apply(limitsKey('lathe-01'), null);
    const { machines } = restorer.result({ channels: [], keep: 168 });
    expect(machines.get('pump-04')!.limits).toEqual(learned);
    expect(machines.has('lathe-01')).toBe(false);
  });

  test('conditions and limits of one machine restore together', () => {
    const restorer = new InferenceRestorer();
    const alerts = { conditions: new Map([['m/ANOMALY/*', { kind: 'ANOMALY' as const, feature: null, run: 1, firing: null }]]) };
    restorer.apply(alertsKey('m'), encodeAlerts(alerts));
    restorer.apply(limitsKey('m'), encodeLimits({ learnedAtMs: 5, limits: {} }));
    const state = restorer.result({ channels: [], keep: 10 }).machines.get('m')!;
    expect(state.alerts).toEqual(alerts);
    expect(state.limits).toEqual({ learnedAtMs: 5, limits: {} });
  });
});
