import { parse as parseCsv } from 'csv-parse/sync';
import type { WindowFeatures } from '../../schemas';
import { latestPerKey } from './topic';
import { rowToWindow, WINDOW_COLUMNS, windowsCsv } from './windows-table';

const T0 = Date.UTC(2026, 0, 5, 8);
const stats = (mean: number | null) => ({ count: mean === null ? 0 : 1800, mean, min: mean === null ? null : mean - 1, max: mean === null ? null : mean + 1, stddev: mean === null ? null : 0.5 });
const window: WindowFeatures = { machineId: 'lathe-1-spindle', windowStart: T0, windowEnd: T0 + 3_600_000, count: 1800, current: stats(11.5), accX: stats(0.021), accY: stats(0.018), accZ: stats(null), tempA: stats(44.2), tempB: stats(37), extras: {} };

describe('window features as a table (CSV and pdm.window_features)', () => {
  test('the columns are the contract table\'s, <feature>_<stat> lower-cased', () => {
    expect(WINDOW_COLUMNS.slice(0, 5)).toEqual(['machine_id', 'window_start', 'window_end', 'count', 'current_count']);
    expect(WINDOW_COLUMNS).toContain('accx_stddev');
    expect(WINDOW_COLUMNS).toHaveLength(4 + 6 * 5);
  });

  test('a window survives CSV and back, null stats included', () => {
    const [record] = parseCsv(windowsCsv([window]), { columns: true }) as Array<Record<string, string>>;
    expect(rowToWindow(record!, 'test')).toEqual(window);
  });

  test.each([
    ['ISO-8601', '2026-01-05T08:00:00.000Z'],
    ['epoch milliseconds', String(T0)],
    ['a database timestamp', new Date(T0)],
    ['a zone-less time, as UTC', '2026-01-05 08:00:00'],
  ])('times may be %s', (_name, value) => {
    expect(rowToWindow({ machine_id: 'm', window_start: value, window_end: T0 + 1, count: '1' }, 'test').windowStart).toBe(T0);
  });

  test('a bad time is refused with where it was', () => {
    expect(() => rowToWindow({ machine_id: 'm', window_start: 'yesterday', window_end: T0 }, 'f.csv:7')).toThrow(/f.csv:7/);
  });
});

describe('latestPerKey (a compacted topic read from the beginning)', () => {
  test('the last record of a key wins and a tombstone deletes it', () => {
    const a1 = { ...window, count: 1 };
    const a2 = { ...window, count: 2 };
    const b = { ...window, machineId: 'b' };
    expect(latestPerKey([{ key: 'a', value: a1 }, { key: 'b', value: b }, { key: 'a', value: a2 }, { key: 'b', value: null }])).toEqual([a2]);
  });
});
