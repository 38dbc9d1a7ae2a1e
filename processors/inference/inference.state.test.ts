import type { WindowFeatures } from '../../schemas';
import { InferenceRestorer, alertsKey, encodeAlerts, encodeLimits, encodeMachine, encodeWindow, limitsKey, machineKey, windowKey } from './inference.state';
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

describe('the machine snapshot (format 2)', () => {
  const layout: HistoryLayout = { channels: ['current.mean', 'tempA.max'], keep: 5 };
  const watching = {
    phase: 'watching' as const, windowMs: HOUR, channels: ['current.mean', 'tempA.max'], center: [5, 41], scale: [1, 0.5], residualScale: [1, 1],
    memory: Float32Array.from([0.1, -0.2, 0.3, 1 / 3]), ewma: [0.01, -0.02], cleanRun: 3, nextSlot: 1, learnedAtMs: 7 * HOUR, relearn: null, noisy: ['tempA'],
  };
  const stateAfter = (indices: number[]) => {
    const history = emptyHistory(layout);
    for (const i of indices) remember(history, window(i, i / 3), HOUR);
    const alerts = { conditions: new Map([['m/DEVIATION/tempA', { kind: 'DEVIATION' as const, feature: 'tempA', run: 2, firing: { severity: 'WARNING' as const, sinceMs: 9 * HOUR } }]]) };
    return { history, alerts, limits: { learnedAtMs: 3, limits: { 'tempA.mean': { lower: null, upper: 74.5 } } }, baseline: watching };
  };

  test.each([
    ['a full ring', [0, 1, 2, 3, 4, 5, 6, 7]],
    ['gaps and a late window', [0, 2, 6, 5, 9]],
    ['one window', [3]],
  ])('restores exactly the state it was written from: %s', (_label, indices) => {
    const state = stateAfter(indices);
    const restorer = new InferenceRestorer(layout);
    restorer.apply(machineKey('m'), encodeMachine(state));
    const restored = restorer.result().machines.get('m')!;
    expect(historyStarts(restored.history)).toEqual(historyStarts(state.history));
    expect(Array.from(restored.history.starts)).toEqual(Array.from(state.history.starts));
    expect(Array.from(restored.history.values)).toEqual(Array.from(state.history.values));
    expect(restored.history.latestStartMs).toBe(state.history.latestStartMs);
    expect(restored.alerts).toEqual(state.alerts);
    expect(restored.limits).toEqual(state.limits);
    expect(restored.baseline).toEqual(state.baseline);
    expect(Array.from((restored.baseline as typeof watching).memory)).toEqual(Array.from(watching.memory));
  });

  test('the next snapshot of the same machine carries what moved since the last one (the learned parts are stringified once)', () => {
    const state = stateAfter([0, 1, 2]);
    state.baseline = { ...watching, ewma: [...watching.ewma] };
    encodeMachine(state);
    Object.assign(state.baseline, { ewma: [0.5, 0.25], cleanRun: 4, nextSlot: 0, relearn: null });
    remember(state.history, window(3, 7), HOUR);
    state.limits = { learnedAtMs: 11, limits: { 'tempA.mean': { lower: 20 as unknown as null, upper: 80 } } };
    const restorer = new InferenceRestorer(layout);
    restorer.apply(machineKey('m'), encodeMachine(state));
    const restored = restorer.result().machines.get('m')!;
    expect(restored.baseline).toEqual(state.baseline);
    expect(restored.limits).toEqual(state.limits);
    expect(Array.from(restored.history.values)).toEqual(Array.from(state.history.values));
  });

  test('a machine that has seen nothing yet, and a learning normal, restore too', () => {
    const state = { history: emptyHistory(layout), alerts: { conditions: new Map() }, baseline: { phase: 'learning' as const, windowMs: HOUR, learned: 2, stats: {}, flat: { tempA: 1 }, samples: [{ 'tempA.max': 41 }], relearn: null } };
    const restorer = new InferenceRestorer(layout);
    restorer.apply(machineKey('m'), encodeMachine(state));
    const restored = restorer.result().machines.get('m')!;
    expect(historyStarts(restored.history)).toEqual([]);
    expect(restored.baseline).toEqual(state.baseline);
    expect(restored.limits).toBeUndefined();
  });

  test('a snapshot supersedes format-1 records of its machine; machines only in format 1 name their keys for deletion', () => {
    const restorer = new InferenceRestorer(layout);
    for (let i = 0; i < 3; i++) restorer.apply(windowKey('old', i * HOUR), encodeWindow(window(i, i)));
    restorer.apply(limitsKey('old'), encodeLimits({ learnedAtMs: 5, limits: {} }));
    for (let i = 0; i < 3; i++) restorer.apply(windowKey('moved', i * HOUR), encodeWindow(window(i, 50)));
    restorer.apply(machineKey('moved'), encodeMachine(stateAfter([7, 8])));
    restorer.apply(machineKey('gone'), encodeMachine(stateAfter([1])));
    restorer.apply(machineKey('gone'), null);
    const { machines, legacyKeys } = restorer.result();
    expect([...machines.keys()].sort()).toEqual(['moved', 'old']);
    expect(historyStarts(machines.get('moved')!.history)).toEqual([7 * HOUR, 8 * HOUR]);
    expect(historyStarts(machines.get('old')!.history)).toEqual([0, HOUR, 2 * HOUR]);
    expect([...legacyKeys.keys()]).toEqual(['old']);
    expect(legacyKeys.get('old')!.map(String)).toEqual([...[0, 1, 2].map((i) => String(windowKey('old', i * HOUR))), 'Aold', 'Lold', 'Bold']);
  });

  test('a snapshot written under other channels is reshaped to the models in use', () => {
    const restorer = new InferenceRestorer({ channels: ['tempA.max'], keep: 3 });
    restorer.apply(machineKey('m'), encodeMachine(stateAfter([0, 1, 2, 3])));
    const { history } = restorer.result().machines.get('m')!;
    expect(history.layout.channels).toEqual(['tempA.max']);
    expect(historyStarts(history)).toEqual([HOUR, 2 * HOUR, 3 * HOUR]);
    expect(historyStarts(history).map((start) => history.values[(start / HOUR) % 3])).toEqual([1, 2, 3].map((i) => Math.fround(41 + i / 3)));
  });
});
