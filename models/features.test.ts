import type { WindowFeatures } from '../schemas';
import { channelValue, isChannel, lookbackInput, toSeries, windowLengthOf } from './features';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);
const stats = (mean: number | null) => ({ count: mean === null ? 0 : 10, mean, min: mean, max: mean, stddev: mean === null ? null : 0 });
const win = (machineId: string, i: number, current: number | null, tempA: number | null = 40): WindowFeatures => ({
  machineId, windowStart: T0 + i * HOUR, windowEnd: T0 + (i + 1) * HOUR, count: 10,
  current: stats(current), accX: stats(0.1), accY: stats(0.2), accZ: stats(0.3), tempA: stats(tempA), tempB: stats(30), extras: {},
});

describe('channels', () => {
  test.each([
    ['current.mean', true],
    ['tempB.stddev', true],
    ['current', false],
    ['current.median', false],
    ['speed.mean', false],
    ['current.mean.x', false],
  ])('%s is a channel: %s', (name, expected) => expect(isChannel(name)).toBe(expected));

  test('a feature with no values reads null, whatever its stats say', () => {
    const w = win('m', 0, null);
    expect(channelValue(w, 'current.mean')).toBeNull();
    expect(channelValue(w, 'tempA.mean')).toBe(40);
  });
});

describe('toSeries', () => {
  test('puts each machine on its own grid, with null for a missing window, in time order', () => {
    const series = toSeries([win('b', 2, 3), win('a', 0, 1), win('b', 0, 2), win('a', 1, 5)], ['current.mean'], HOUR);
    expect(series.map((s) => s.machineId)).toEqual(['a', 'b']);
    expect(series[1]!.rows).toEqual([[2], null, [3]]);
    expect(series[0]!.startMs).toBe(T0);
  });

  test('windows of another length are left out', () => {
    const odd = { ...win('a', 1, 9), windowEnd: T0 + HOUR + 60_000 };
    expect(toSeries([win('a', 0, 1), odd], ['current.mean'], HOUR)[0]!.rows).toEqual([[1]]);
    expect(windowLengthOf([win('a', 0, 1), odd, win('a', 2, 1)])).toBe(HOUR);
  });
});

describe('lookbackInput (ffill-bfill-mean)', () => {
  test.each([
    ['all observed', [[1], [2], [3]], [1, 2, 3], [1, 1, 1]],
    ['a gap takes the last value before it', [[1], null, [3]], [1, 1, 3], [1, 0, 1]],
    ['a null value likewise', [[1], [null], [null]], [1, 1, 1], [1, 0, 0]],
    ['leading gaps take the first observed value', [null, [null], [5]], [5, 5, 5], [0, 0, 1]],
    ['never observed takes the fallback', [null, [null], null], [7, 7, 7], [0, 0, 0]],
  ] as const)('%s', (_name, rows, x, mask) => {
    const input = lookbackInput(rows as never, [7]);
    expect(Array.from(input.x)).toEqual(x);
    expect(Array.from(input.mask)).toEqual(mask);
  });

  test('channels are imputed independently, row-major [L x C]', () => {
    const input = lookbackInput([[1, null], [null, 4]], [0, 0]);
    expect(Array.from(input.x)).toEqual([1, 4, 1, 4]);
    expect(Array.from(input.mask)).toEqual([1, 0, 0, 1]);
  });
});
