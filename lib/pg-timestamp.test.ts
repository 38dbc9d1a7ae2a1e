import { pgTimestamp } from './pg-timestamp';

describe('timestamps as Postgres reads them', () => {
  test.each([
    ['an ordinary time', Date.UTC(2026, 0, 5, 8), '2026-01-05T08:00:00.000Z'],
    ['the epoch', 0, '1970-01-01T00:00:00.000Z'],
    ['year 9999', Date.UTC(9999, 11, 31, 23, 59, 59, 999), '9999-12-31T23:59:59.999Z'],
    ['year 12000: no sign, no leading zero', Date.parse('+012000-01-01T00:00:00Z'), '12000-01-01T00:00:00.000Z'],
    ['the last time JavaScript has', 8.64e15, '275760-09-13T00:00:00.000Z'],
    ['year 1', Date.parse('0001-01-01T00:00:00Z'), '0001-01-01T00:00:00.000Z'],
    ['year 0 is 1 BC', Date.parse('0000-06-01T00:00:00Z'), '0001-06-01T00:00:00.000Z BC'],
    ['astronomical year -100 is 101 BC', Date.parse('-000100-01-01T00:00:00Z'), '0101-01-01T00:00:00.000Z BC'],
  ])('%s', (_name, ms, text) => {
    expect(pgTimestamp(ms)).toBe(text);
  });

  test('a time JavaScript cannot represent is a RangeError', () => {
    expect(() => pgTimestamp(9e15)).toThrow(RangeError);
  });
});
