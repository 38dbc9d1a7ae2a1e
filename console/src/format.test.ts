import { formatLocal, formatNumber, formatShare, formatSpan, formatUtc, relativeTime, tickLabels, toMs } from './format';

const T = Date.parse('2026-01-05T13:04:05Z');

describe('times', () => {
  it('writes a local time in the zone asked for, and UTC for the hover', () => {
    expect(formatLocal(T, { timeZone: 'Europe/Berlin' })).toBe('2026-01-05 14:04');
    expect(formatLocal(T, { timeZone: 'America/New_York', seconds: true })).toBe('2026-01-05 08:04:05');
    expect(formatUtc(T)).toBe('2026-01-05 13:04:05 UTC');
  });

  it.each([
    [0, 'just now'],
    [9_000, 'just now'],
    [40_000, '40 s ago'],
    [5 * 60_000 + 59_000, '5 min ago'],
    [3 * 3_600_000, '3 h ago'],
    [2 * 86_400_000 + 5, '2 d ago'],
    [-5 * 60_000, 'in 5 min'],
  ])('%d ms before now is %s', (ago, text) => {
    expect(relativeTime(T - ago, T)).toBe(text);
  });

  it('reads ISO times, and nothing else', () => {
    expect(toMs('2026-01-05T13:04:05Z')).toBe(T);
    expect(toMs(null)).toBeNull();
    expect(toMs('soon')).toBeNull();
  });

  it.each([
    [45 * 60_000, '45 min'],
    [150 * 60_000, '2 h 30 min'],
    [2 * 3_600_000, '2 h'],
    [76 * 3_600_000, '3 d 4 h'],
    [7 * 86_400_000, '7 d'],
  ])('a span of %d ms is %s', (ms, text) => {
    expect(formatSpan(ms)).toBe(text);
  });
});

describe('numbers', () => {
  it.each([
    [null, '—'],
    [Number.NaN, '—'],
    [0, '0'],
    [42.123456, '42.12'],
    [-0.0123456, '-0.01235'],
    [1234.5, '1235'],
    [0.00001234, '1.23e-5'],
    [12_345_678, '1.23e+7'],
  ])('%p is %s', (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });

  it('writes a share as a whole percentage', () => {
    expect(formatShare(0.416)).toBe('42%');
  });
});

describe('tickLabels', () => {
  const day = Date.parse('2026-01-05T00:00:00Z');
  it('writes days across a long span and hours within a short one, the day at midnight', () => {
    expect(tickLabels([day, day + 86_400_000], 7 * 86_400_000, 'UTC')).toEqual(['01-05', '01-06']);
    expect(tickLabels([day - 6 * 3_600_000, day, day + 6 * 3_600_000], 86_400_000, 'UTC')).toEqual(['18:00', '01-05', '06:00']);
  });
});
