import type { WindowFeatures } from '../../schemas';
import type { WatchingBaseline } from './baseline';
import type { MachineState } from './inference.core';
import { ChangelogJournal, DELTA_ROWS } from './inference.journal';
import { InferenceRestorer, encodeMachine } from './inference.state';
import { emptyHistory, historyStarts, remember, reshape, type HistoryLayout } from './lookback';

const HOUR = 3_600_000;
const stats = (mean: number) => ({ count: 10, mean, min: mean - 1, max: mean + 2, stddev: 0.5 });
const window = (i: number, windowMs = HOUR): WindowFeatures => ({
  machineId: 'm', windowStart: i * windowMs, windowEnd: (i + 1) * windowMs, count: 10,
  current: stats(5 + (i % 7) / 10), accX: stats(0.1), accY: stats(0.1 + i / 1000), accZ: stats(0.1), tempA: stats(40 + (i % 5)), tempB: stats(30), extras: {},
});
const layout: HistoryLayout = { channels: ['accX.mean', 'accY.mean', 'accZ.mean', 'current.max', 'current.mean', 'tempA.mean', 'tempB.mean'], keep: 168 };

function watching(): WatchingBaseline {
  return {
    phase: 'watching', windowMs: HOUR, channels: ['current.mean', 'tempA.max'], center: [5, 41], scale: [1, 0.5], residualScale: [1, 1],
    memory: Float32Array.from({ length: 64 }, (_, k) => k / 7), ewma: [0, 0], cleanRun: 0, nextSlot: 0, learnedAtMs: 0, relearn: null, noisy: [],
  };
}

/** The compacted changelog: the last value of each key, in the order the last values were written. */
class Log {
  readonly entries = new Map<string, Buffer | null>();
  bytes = 0;
  write(records: Array<{ key: Buffer; value: Buffer | null }>) {
    for (const { key, value } of records) {
      this.entries.delete(key.toString('latin1'));
      this.entries.set(key.toString('latin1'), value);
      this.bytes += key.length + (value?.length ?? 0);
    }
  }
  restore(into: HistoryLayout): MachineState {
    const restorer = new InferenceRestorer(into);
    for (const [key, value] of this.entries) restorer.apply(Buffer.from(key, 'latin1'), value);
    return restorer.result().machines.get('m')!;
  }
}

function expectSameState(restored: MachineState, live: MachineState) {
  expect(historyStarts(restored.history)).toEqual(historyStarts(live.history));
  expect(Array.from(restored.history.values)).toEqual(Array.from(live.history.values));
  expect(restored.history.latestStartMs).toBe(live.history.latestStartMs);
  expect(restored.history.windowMs).toBe(live.history.windowMs);
  expect(restored.alerts).toEqual(live.alerts);
  expect(restored.limits).toEqual(live.limits);
  expect(restored.baseline).toEqual(live.baseline);
}

describe('the changelog journal: snapshots and deltas on them', () => {
  test('restored at every step, the state is the live one: through rollovers, late windows, a new memory, new limits, a model reload and a new window size', () => {
    const live: MachineState = { history: emptyHistory(layout), alerts: { conditions: new Map() }, baseline: watching() };
    const journal = new ChangelogJournal();
    const log = new Log();
    const written = { snapshots: 0, deltas: 0 };
    let currentLayout = layout;
    for (let step = 0; step < 120; step++) {
      // Mostly one new window a step; now and then a late copy of an older one alongside.
      const windows = step % 11 === 5 ? [window(step), window(step - 3)] : [window(step)];
      const windowMs = step >= 100 ? HOUR / 2 : HOUR;
      const batch = step >= 100 ? [window(2 * step, windowMs)] : windows;
      if (step === 80) {
        currentLayout = { channels: ['current.mean', 'tempA.mean'], keep: 24 };
        live.history = reshape(live.history, currentLayout);
      }
      for (const w of [...batch].sort((a, b) => a.windowStart - b.windowStart)) remember(live.history, w, w.windowEnd - w.windowStart);
      const baseline = live.baseline as WatchingBaseline;
      baseline.ewma = [step / 10, 1 - step / 20];
      baseline.cleanRun = step % 24;
      if (step % 30 === 29) baseline.memory = Float32Array.from(baseline.memory, (v) => v + 1);
      if (step === 60) live.limits = { learnedAtMs: step * HOUR, limits: { 'tempA.mean': { lower: null, upper: 47 } } };
      if (step === 50) live.alerts = { conditions: new Map([['m/DEVIATION/tempA', { kind: 'DEVIATION', feature: 'tempA', run: 3, firing: { severity: 'WARNING', sinceMs: step * HOUR } }]]) };
      const records = journal.records('m', live, batch);
      for (const r of records) if (r.value) written[r.key[0] === 'M'.charCodeAt(0) ? 'snapshots' : 'deltas']++;
      log.write(records);
      expectSameState(log.restore(currentLayout), live);
    }
    expect(written.deltas).toBeGreaterThan(written.snapshots * 3);
  });

  test('a delta holds at most DELTA_ROWS windows, and a window costs a fraction of a snapshot', () => {
    const live: MachineState = { history: emptyHistory(layout), alerts: { conditions: new Map() }, baseline: watching() };
    for (let i = 0; i < 168; i++) remember(live.history, window(i), HOUR);
    const journal = new ChangelogJournal();
    const log = new Log();
    let snapshots = 0;
    const steps = 10 * DELTA_ROWS;
    for (let i = 168; i < 168 + steps; i++) {
      remember(live.history, window(i), HOUR);
      const records = journal.records('m', live, [window(i)]);
      snapshots += records.filter((r) => r.key[0] === 'M'.charCodeAt(0)).length;
      log.write(records);
    }
    // A snapshot after each DELTA_ROWS windows, the first one included.
    expect(snapshots).toBe(Math.ceil(steps / (DELTA_ROWS + 1)));
    expect(log.bytes / steps).toBeLessThan(encodeMachine(live).length / 4);
    expectSameState(log.restore(layout), live);
  });

  test('a learning normal is written whole each time: its samples are not a delta', () => {
    const live: MachineState = { history: emptyHistory(layout), alerts: { conditions: new Map() }, baseline: { phase: 'learning', windowMs: HOUR, learned: 0, stats: {}, flat: {}, samples: [], relearn: null } };
    const journal = new ChangelogJournal();
    for (let i = 0; i < 3; i++) {
      remember(live.history, window(i), HOUR);
      expect(journal.records('m', live, [window(i)]).map((r) => r.key.toString()[0])).toEqual(i === 0 ? ['M', 'D'] : ['M']);
    }
  });
});
