import { lookbackFromMs, windowSelect } from './latest.queries';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const t = Date.UTC(2026, 11, 1);

describe('lookbackFromMs', () => {
  test.each([
    ['168 hourly windows: 169 of them and a quarter more, plus a day', { beforeMs: t, windowMs: HOUR, limit: 168 }, t - Math.ceil(169 * HOUR * 1.25) - DAY],
    ['one window of 10 minutes', { beforeMs: t, windowMs: 10 * 60_000, limit: 1 }, t - 2 * 10 * 60_000 * 1.25 - DAY],
    ['a request from earlier than the lookback: it narrows', { beforeMs: t, windowMs: HOUR, limit: 10, fromMs: t - 30 * DAY }, t - Math.ceil(11 * HOUR * 1.25) - DAY],
    ['a request from within the lookback: no bound (it would not narrow)', { beforeMs: t, windowMs: HOUR, limit: 10, fromMs: t - HOUR }, undefined],
    ['from exactly at the bound: no bound', { beforeMs: t, windowMs: HOUR, limit: 10, fromMs: t - Math.ceil(11 * HOUR * 1.25) - DAY }, undefined],
    ['no window length known: an hour', { beforeMs: t, windowMs: NaN, limit: 10 }, t - Math.ceil(11 * HOUR * 1.25) - DAY],
    ['a negative window length: an hour', { beforeMs: t, windowMs: -5, limit: 10 }, t - Math.ceil(11 * HOUR * 1.25) - DAY],
    ['no upper end (Infinity): no bound', { beforeMs: Infinity, windowMs: HOUR, limit: 10 }, undefined],
  ])('%s', (_name, input, expected) => {
    expect(lookbackFromMs(input)).toBe(expected);
  });
});

describe('windowSelect', () => {
  test('without a bound, the extras are correlated by key alone', () => {
    expect(windowSelect('"pdm"', 'f')).toContain('FROM "pdm".window_extras x WHERE x.machine_id = f.machine_id AND x.window_start = f.window_start) AS extras');
  });

  test('a bound is added on x.window_start, so the planner keeps only those days of window_extras', () => {
    expect(windowSelect('"pdm"', 'f', '= ANY($2::timestamptz[])')).toContain(
      'x.window_start = f.window_start AND x.window_start = ANY($2::timestamptz[])) AS extras',
    );
  });
});
