import type { SensorReading, WindowFeatures } from '../../schemas';
import { closeIdle, emptyPartition, processReading, windowStartOf, type WindowConfig } from './window';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 8); // an hour boundary
const config: WindowConfig = { sizeMs: HOUR, graceMs: 5 * 60_000 };

const reading = (machineId: string, timestamp: number, current: number | null = 1, rest: Partial<SensorReading> = {}): SensorReading => ({
  machineId, timestamp, current, accX: 0.1, accY: 0.2, accZ: 0.3, tempA: 40, tempB: 30, extras: {}, ...rest,
});

/** Feeds readings in order; returns each one's outcome and every window emitted, in order. */
function run(readings: SensorReading[], cfg = config) {
  const state = emptyPartition();
  const outcomes: string[] = [];
  const emitted: WindowFeatures[] = [];
  for (const r of readings) {
    const { outcome, closed } = processReading(state, r, cfg);
    outcomes.push(outcome);
    emitted.push(...closed);
  }
  return { state, outcomes, emitted };
}

describe('windowStartOf', () => {
  test.each([
    [T0, T0],
    [T0 + HOUR - 1, T0],
    [T0 + HOUR, T0 + HOUR],
    [T0 - 1, T0 - HOUR],
  ])('%i starts its window at %i (start inclusive, end exclusive)', (t, start) => expect(windowStartOf(t, HOUR)).toBe(start));
});

describe('processReading', () => {
  test('a window is emitted once, only when stream time passes its end plus grace', () => {
    const { emitted, outcomes } = run([reading('m', T0), reading('m', T0 + 10 * 60_000), reading('m', T0 + HOUR + 4 * 60_000)]);
    expect(outcomes).toEqual(['added', 'added', 'added']);
    expect(emitted).toEqual([]); // 5 minutes of grace not yet over
    const more = run([reading('m', T0), reading('m', T0 + HOUR + 5 * 60_000)]);
    expect(more.emitted.map((w) => [w.windowStart, w.windowEnd, w.count])).toEqual([[T0, T0 + HOUR, 1]]);
  });

  test('out-of-order readings inside the grace period still count in their window', () => {
    const { emitted, outcomes } = run([reading('m', T0 + 30 * 60_000, 2), reading('m', T0 + HOUR + 60_000, 9), reading('m', T0 + 59 * 60_000, 4), reading('m', T0 + 2 * HOUR)]);
    expect(outcomes).toEqual(['added', 'added', 'added', 'added']);
    expect(emitted[0]).toMatchObject({ windowStart: T0, count: 2, current: { count: 2, mean: 3, min: 2, max: 4, stddev: 1 } });
  });

  test('a reading for a window already closed is late, changes nothing, and is reported', () => {
    const { emitted, outcomes, state } = run([reading('m', T0), reading('m', T0 + HOUR + 5 * 60_000), reading('m', T0 + 30 * 60_000, 100)]);
    expect(outcomes).toEqual(['added', 'added', 'late']);
    expect(emitted).toHaveLength(1);
    expect(emitted[0]!.current.max).toBe(1);
    expect([...state.open.values()].map((w) => w.windowStartMs)).toEqual([T0 + HOUR]);
  });

  test('a duplicate (same machine and timestamp) counts once, even out of order', () => {
    const { emitted, outcomes } = run([reading('m', T0 + 1000, 1), reading('m', T0 + 3000, 3), reading('m', T0 + 1000, 1), reading('m', T0 + 2 * HOUR)]);
    expect(outcomes).toEqual(['added', 'added', 'duplicate', 'added']);
    expect(emitted[0]).toMatchObject({ count: 2, current: { count: 2, mean: 2 } });
  });

  test('the same timestamp from two machines is two readings', () => {
    const { emitted } = run([reading('a', T0), reading('b', T0), reading('a', T0 + 2 * HOUR)]);
    expect(emitted.map((w) => [w.machineId, w.count])).toEqual([['a', 1], ['b', 1]]);
  });

  test('missing features are skipped and counted: the feature count falls short of the window count', () => {
    const { emitted } = run([reading('m', T0, null, { accZ: null }), reading('m', T0 + 1000, 5, { accZ: null }), reading('m', T0 + 2 * HOUR)]);
    expect(emitted[0]).toMatchObject({ count: 2, current: { count: 1, mean: 5, min: 5, max: 5, stddev: 0 }, accZ: { count: 0, mean: null, min: null, max: null, stddev: null } });
  });

  test.each([
    ['each extra channel gets count, mean, min, max and stddev as the six do', [{ pressure: 2, flow: 10 }, { pressure: 4, flow: null }], { pressure: { count: 2, mean: 3, min: 2, max: 4, stddev: 1 }, flow: { count: 1, mean: 10, min: 10, max: 10, stddev: 0 } }],
    ['a channel named only with nulls is in the window with count 0', [{ speed: null }, {}], { speed: { count: 0, mean: null, min: null, max: null, stddev: null } }],
    ['a channel some readings lack counts only the readings that have it', [{}, { rpm: 1500 }], { rpm: { count: 1, mean: 1500, min: 1500, max: 1500, stddev: 0 } }],
    ['no extras: an empty map', [{}, {}], {}],
  ] as const)('extras: %s', (_label, extras, expected) => {
    const { emitted } = run([...extras.map((e, i) => reading('m', T0 + i * 1000, 1, { extras: { ...e } })), reading('m', T0 + 2 * HOUR)]);
    expect(emitted[0]!.extras).toEqual(expected);
  });

  test('extras of a duplicate reading do not count, as its features do not', () => {
    const { emitted } = run([reading('m', T0, 1, { extras: { pressure: 2 } }), reading('m', T0, 1, { extras: { pressure: 99, flow: 1 } }), reading('m', T0 + 2 * HOUR)]);
    expect(emitted[0]!.extras).toEqual({ pressure: { count: 1, mean: 2, min: 2, max: 2, stddev: 0 } });
  });

  test('gaps: empty windows are not invented, and one reading far ahead closes everything before it', () => {
    const { emitted } = run([reading('m', T0), reading('m', T0 + HOUR), reading('m', T0 + 10 * HOUR)]);
    expect(emitted.map((w) => w.windowStart)).toEqual([T0, T0 + HOUR]);
  });

  test('stream time is per partition: one machine moving on closes another machine\'s windows', () => {
    const { emitted } = run([reading('quiet', T0), reading('busy', T0 + HOUR + 10 * 60_000)]);
    expect(emitted.map((w) => w.machineId)).toEqual(['quiet']);
  });

  test('window size and grace are settable down to seconds', () => {
    const { emitted, outcomes } = run([reading('m', T0), reading('m', T0 + 999), reading('m', T0 + 2500), reading('m', T0 + 500)], { sizeMs: 1000, graceMs: 1000 });
    expect(outcomes).toEqual(['added', 'added', 'added', 'late']);
    expect(emitted.map((w) => [w.windowStart - T0, w.count])).toEqual([[0, 2]]);
  });
});

describe('closeIdle', () => {
  test('closes every open window at once, and later readings for them are late', () => {
    const state = emptyPartition();
    processReading(state, reading('a', T0 + 10_000), config);
    processReading(state, reading('b', T0 + HOUR + 10_000), config);
    const closed = closeIdle(state, config);
    expect(closed.map((w) => [w.machineId, w.windowStart])).toEqual([['a', T0], ['b', T0 + HOUR]]);
    expect(state.open.size).toBe(0);
    expect(processReading(state, reading('b', T0 + HOUR + 20_000), config).outcome).toBe('late');
    expect(processReading(state, reading('b', T0 + 2 * HOUR + 20_000), config).outcome).toBe('added');
  });
});

describe('the statistics against an independent two-pass computation', () => {
  test('mean, min, max and population stddev agree to 1e-9 relative on random data with repeats and disorder', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const readings: SensorReading[] = [];
    for (let i = 0; i < 5000; i++) {
      const t = T0 + Math.floor(rand() * 3 * HOUR);
      readings.push(reading(`m${i % 4}`, t, rand() < 0.05 ? null : 1000 + rand() * 50, { tempA: 60 + rand() }));
    }
    readings.push(...readings.slice(0, 200)); // redeliveries
    const cfg = { sizeMs: HOUR, graceMs: 10 * HOUR };
    const state = emptyPartition();
    const emitted: WindowFeatures[] = [];
    for (const r of readings) emitted.push(...processReading(state, r, cfg).closed);
    emitted.push(...closeIdle(state, cfg));

    const groups = new Map<string, Map<number, SensorReading>>();
    for (const r of readings) {
      const key = `${r.machineId}|${windowStartOf(r.timestamp, HOUR)}`;
      if (!groups.has(key)) groups.set(key, new Map());
      if (!groups.get(key)!.has(r.timestamp)) groups.get(key)!.set(r.timestamp, r);
    }
    expect(emitted).toHaveLength(groups.size);
    const close = (a: number | null, b: number) => expect(Math.abs(a! - b) / Math.max(1, Math.abs(b))).toBeLessThan(1e-9);
    for (const w of emitted) {
      const rows = [...groups.get(`${w.machineId}|${w.windowStart}`)!.values()];
      expect(w.count).toBe(rows.length);
      for (const feature of ['current', 'tempA'] as const) {
        const values = rows.map((r) => r[feature]).filter((v): v is number => v !== null);
        const mean = values.reduce((s, v) => s + v, 0) / values.length;
        const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
        expect(w[feature].count).toBe(values.length);
        close(w[feature].mean, mean);
        close(w[feature].stddev, Math.sqrt(variance));
        expect(w[feature].min).toBe(Math.min(...values));
        expect(w[feature].max).toBe(Math.max(...values));
      }
    }
  });
});
