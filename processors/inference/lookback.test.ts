import fs from 'node:fs';
import path from 'node:path';
import { manifestSchema } from '../../models/contract';
import { lookbackInput, type Channel } from '../../models/features';
import type { WindowFeatures } from '../../schemas';
import { emptyHistory, historyStarts, modelInput, remember, reshape, type HistoryLayout } from './lookback';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 0);
const stats = (mean: number | null) => (mean === null ? { count: 0, mean: null, min: null, max: null, stddev: null } : { count: 10, mean, min: mean - 1, max: mean + 1, stddev: 0.5 });
const window = (i: number, current: number | null, tempA: number | null = 40): WindowFeatures => ({
  machineId: 'lathe-1',
  windowStart: T0 + i * HOUR,
  windowEnd: T0 + (i + 1) * HOUR,
  count: 10,
  current: stats(current),
  accX: stats(0.1),
  accY: stats(0.1),
  accZ: stats(0.1),
  tempA: stats(tempA),
  tempB: stats(30),
  extras: {},
});
const layout = (keep: number, channels: Channel[] = ['current.mean', 'tempA.max']): HistoryLayout => ({ channels, keep });
const manifest = { channels: ['current.mean', 'tempA.max'] as Channel[], lookback: 4, windowMs: HOUR, missing: { rule: 'ffill-bfill-mean' as const, description: '', fallback: [7, 35], minObserved: 0.5 } };

describe('machine history', () => {
  test('keeps the last `keep` windows on the grid and reports what is too old to matter', () => {
    const h = emptyHistory(layout(3));
    expect([0, 1, 2, 3, 4].map((i) => remember(h, window(i, i), HOUR))).toEqual(['added', 'added', 'added', 'added', 'added']);
    expect(historyStarts(h).map((s) => (s - T0) / HOUR)).toEqual([2, 3, 4]);
    expect(remember(h, window(1, 9), HOUR)).toBe('too-old');
    expect(remember(h, window(3, 9), HOUR)).toBe('replaced');
    // An out-of-order window inside the span is kept; a jump ahead evicts what falls behind.
    expect(remember(h, window(10, 1), HOUR)).toBe('added');
    expect(historyStarts(h).map((s) => (s - T0) / HOUR)).toEqual([10]);
  });

  test('keeps only the layout\'s channels; a new layout keeps what both share, a channel it lacks is never observed', () => {
    const h = emptyHistory(layout(4));
    for (let i = 0; i < 4; i++) remember(h, window(i, 10 + i, 40 + i), HOUR);
    expect(h.values).toHaveLength(4 * 2);
    const wider = reshape(h, layout(6, ['current.mean', 'accX.mean', 'tempA.max']));
    expect(historyStarts(wider)).toEqual(historyStarts(h));
    const input = modelInput(wider, { ...manifest, channels: ['current.mean', 'accX.mean'], missing: { ...manifest.missing, fallback: [7, 0.5] } }, T0 + 3 * HOUR, HOUR);
    if (!input.ready) throw new Error(input.reason);
    expect([...input.x]).toEqual([10, 0.5, 11, 0.5, 12, 0.5, 13, 0.5]);
    expect([...input.mask]).toEqual([1, 0, 1, 0, 1, 0, 1, 0]);
    // Shrinking the lookback lets the oldest go.
    expect(historyStarts(reshape(h, layout(2))).map((s) => (s - T0) / HOUR)).toEqual([2, 3]);
  });

  test('windows of another length start the history afresh', () => {
    const h = emptyHistory(layout(4));
    remember(h, window(0, 10), HOUR);
    remember(h, { ...window(2, 11), windowEnd: T0 + 2 * HOUR + 600_000 }, 600_000);
    expect(historyStarts(h)).toEqual([T0 + 2 * HOUR]);
  });
});

describe('model input', () => {
  const full = () => {
    const h = emptyHistory(layout(8));
    for (let i = 0; i < 6; i++) remember(h, window(i, 10 + i), HOUR);
    return h;
  };

  test('the last L windows, oldest first, channels in the manifest order, row-major', () => {
    const input = modelInput(full(), manifest, T0 + 5 * HOUR, HOUR);
    expect(input.ready).toBe(true);
    if (!input.ready) return;
    expect([...input.x]).toEqual([12, 41, 13, 41, 14, 41, 15, 41]);
    expect([...input.mask]).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(input.x).toBeInstanceOf(Float32Array);
  });

  test('a missing window and a null feature are filled forward and masked', () => {
    const h = emptyHistory(layout(8));
    for (const w of [window(0, 10), window(1, null), window(3, 13)]) remember(h, w, HOUR);
    const input = modelInput(h, manifest, T0 + 3 * HOUR, HOUR);
    if (!input.ready) throw new Error(input.reason);
    // rows: 0 (10, 41), 1 (null -> 10, 41), 2 missing (10, 41), 3 (13, 41)
    expect([...input.x]).toEqual([10, 41, 10, 41, 10, 41, 13, 41]);
    expect([...input.mask]).toEqual([1, 1, 0, 1, 0, 0, 1, 1]);
    expect(input.observed).toBe(5 / 8);
  });

  test('a machine with too little history is warming up, never guessed at', () => {
    const h = emptyHistory(layout(8));
    remember(h, window(5, 10), HOUR);
    const input = modelInput(h, manifest, T0 + 5 * HOUR, HOUR);
    expect(input).toEqual({ ready: false, observed: 0.25, reason: 'warming up: 25 % of the last 4 windows observed, the model needs 50 %' });
  });

  test('windows of another length are refused', () => {
    expect(modelInput(full(), manifest, T0 + 5 * HOUR, 600_000)).toMatchObject({ ready: false, reason: 'windows of 600000 ms, the model takes 3600000 ms' });
  });

  test('the shipped detector\'s manifest builds an input of its own shape', () => {
    const root = path.join(__dirname, '..', '..', 'models', 'pdm-anomaly');
    const version = fs.readFileSync(path.join(root, 'current'), 'utf8').trim();
    const shipped = manifestSchema.parse(JSON.parse(fs.readFileSync(path.join(root, version, 'manifest.json'), 'utf8')));
    const h = emptyHistory(layout(shipped.lookback, shipped.channels));
    for (let i = 0; i < shipped.lookback; i++) remember(h, window(i, 10 + (i % 3)), shipped.windowMs);
    const input = modelInput(h, shipped, T0 + (shipped.lookback - 1) * HOUR, HOUR);
    if (!input.ready) throw new Error(input.reason);
    expect(input.x).toHaveLength(shipped.lookback * shipped.channels.length);
  });
});

describe('the fast paths agree with the plain definitions', () => {
  /** A deterministic generator, so a failure names its seed. */
  const generator = (seed: number) => () => (seed = (seed * 48271) % 2147483647) / 2147483647;

  test.each([1, 2, 3, 4, 5])('historyStarts is every held start in time order (seed %i)', (seed) => {
    const random = generator(seed);
    const h = emptyHistory(layout(7));
    for (let k = 0; k < 60; k++) {
      // Mostly forward, sometimes late, sometimes a jump past the whole ring.
      const i = Math.floor(k * 1.3 + (random() < 0.2 ? -5 * random() : 0) + (random() < 0.05 ? 12 : 0));
      remember(h, window(i, random() < 0.2 ? null : random() * 10), HOUR);
      const plain = Array.from(h.starts).filter((s) => !Number.isNaN(s)).sort((a, b) => a - b);
      expect(historyStarts(h)).toEqual(plain);
    }
  });

  test.each([1, 2, 3])('modelInput fills as lookbackInput does over rows (seed %i)', (seed) => {
    const random = generator(seed);
    const h = emptyHistory(layout(8, ['current.mean', 'tempA.max', 'tempB.mean']));
    for (let i = 0; i < 12; i++) if (random() < 0.7) remember(h, window(i, random() < 0.3 ? null : 5 + random(), random() < 0.3 ? null : 40 + random()), HOUR);
    const m = { ...manifest, channels: ['tempA.max', 'accX.mean', 'current.mean'] as Channel[], lookback: 6, missing: { ...manifest.missing, fallback: [35, 0.1, 7], minObserved: 0 } };
    const input = modelInput(h, m, T0 + 11 * HOUR, HOUR);
    const rows = Array.from({ length: 6 }, (_, t) => {
      const start = T0 + (6 + t) * HOUR;
      if (!historyStarts(h).includes(start)) return null;
      const slot = h.starts.indexOf(start);
      return m.channels.map((c) => {
        const column = h.layout.channels.indexOf(c);
        const v = column < 0 ? Number.NaN : h.values[slot * h.layout.channels.length + column]!;
        return Number.isNaN(v) ? null : v;
      });
    });
    const plain = lookbackInput(rows, m.missing.fallback);
    expect(input).toMatchObject({ ready: true, x: Float32Array.from(plain.x), mask: Float32Array.from(plain.mask) });
  });
});
