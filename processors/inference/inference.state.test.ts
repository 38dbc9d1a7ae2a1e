import type { WindowFeatures } from '../../schemas';
import { InferenceRestorer, alertsKey, encodeAlerts, encodeLimits, encodeWindow, limitsKey, windowKey } from './inference.state';
import { emptyHistory, historyStarts, remember, type HistoryLayout } from './lookback';

const HOUR = 3_600_000;
const stats = (mean: number) => ({ count: 10, mean, min: mean - 1, max: mean + 1, stddev: 0.5 });
const window = (i: number, v: number): WindowFeatures => ({ machineId: 'm', windowStart: i * HOUR, windowEnd: (i + 1) * HOUR, count: 10, current: stats(v), accX: stats(0.1), accY: stats(0.1), accZ: stats(0.1), tempA: stats(40 + v), tempB: stats(30), extras: {} });

describe('the inference changelog', () => {
  test('learned limits survive a restore, and a tombstone forgets them', () => {
    const learned = { learnedAtMs: 1_000, limits: { 'tempA.mean': { lower: null, upper: 74.5 } } };
    const restorer = new InferenceRestorer({ channels: [], keep: 168 });
    restorer.apply(limitsKey('pump-04'), encodeLimits(learned));
    restorer.apply(limitsKey('lathe-01'), encodeLimits(learned));
    restorer.apply(limitsKey('lathe-01'), null);
    const { machines } = restorer.result();
    expect(machines.get('pump-04')!.limits).toEqual(learned);
    expect(machines.has('lathe-01')).toBe(false);
  });

  test('conditions and limits of one machine restore together', () => {
    const restorer = new InferenceRestorer({ channels: [], keep: 168 });
    const alerts = { conditions: new Map([['m/ANOMALY/*', { kind: 'ANOMALY' as const, feature: null, run: 1, firing: null }]]) };
    restorer.apply(alertsKey('m'), encodeAlerts(alerts));
    restorer.apply(limitsKey('m'), encodeLimits({ learnedAtMs: 5, limits: {} }));
    const state = restorer.result().machines.get('m')!;
    expect(state.alerts).toEqual(alerts);
    expect(state.limits).toEqual({ learnedAtMs: 5, limits: {} });
  });

  test('windows restore into the same history as remembering them, tombstones and rewrites applied in order', () => {
    const layout: HistoryLayout = { channels: ['current.mean', 'tempA.max'], keep: 4 };
    const restorer = new InferenceRestorer(layout);
    for (let i = 0; i < 6; i++) restorer.apply(windowKey('m', i * HOUR), encodeWindow(window(i, i)));
    restorer.apply(windowKey('m', 0), null);
    restorer.apply(windowKey('m', 4 * HOUR), encodeWindow(window(4, 99)));
    const restored = restorer.result().machines.get('m')!.history;
    const direct = emptyHistory(layout);
    for (const i of [1, 2, 3, 4, 5]) remember(direct, window(i, i === 4 ? 99 : i), HOUR);
    expect(historyStarts(restored)).toEqual([2, 3, 4, 5].map((i) => i * HOUR));
    expect(historyStarts(restored)).toEqual(historyStarts(direct));
    expect(Array.from(restored.values)).toEqual(Array.from(direct.values));
    expect(Array.from(restored.starts)).toEqual(Array.from(direct.starts));
  });
});
