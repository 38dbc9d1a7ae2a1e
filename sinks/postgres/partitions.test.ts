import { assessmentsRecord, iso, windowFeaturesTable, windowExtrasTable, alertsTable } from './postgres.rows';
import { DAY_MS, dayOfMs, dayOfPartition, dayOfTimestamp, dayStartMs, daysAhead, daysBetween, daysOfRows, daysToDrop, partitionName } from './partitions';
import { retentionMsOf } from './postgres.settings';

const at = (text: string): number => Date.parse(text);

describe('day partitions: names and days', () => {
  test.each([
    ['an ordinary window', iso(at('2026-01-05T08:00:00Z')), '2026-01-05'],
    ['the last millisecond of a day', iso(at('2026-01-05T23:59:59.999Z')), '2026-01-05'],
    ['midnight starts the next day', iso(at('2026-01-06T00:00:00Z')), '2026-01-06'],
    ['the epoch', iso(0), '1970-01-01'],
    ['a time before the epoch', iso(-1), '1969-12-31'],
    ['year 9999', iso(at('9999-12-31T12:00:00Z')), '9999-12-31'],
    ['year 12000', iso(at('+012000-01-01T00:00:00Z')), '12000-01-01'],
    ['year 0, which is 1 BC', iso(at('0000-06-01T00:00:00Z')), '0001-06-01 BC'],
    ['101 BC', iso(at('-000100-01-01T13:00:00Z')), '0101-01-01 BC'],
    ['a date, not a timestamp', '2026-01-05', undefined],
    ['not a string', 42, undefined],
    ['null', null, undefined],
  ])('%s: %s is on %s', (_name, value, day) => {
    expect(dayOfTimestamp(value)).toBe(day);
  });

  test.each([
    ['2026-01-05', 'window_features_p20260105'],
    ['12000-01-01', 'window_features_p120000101'],
    ['0101-01-01 BC', 'window_features_pbc01010101'],
  ])('the partition of %s is %s, and its name gives the day back', (day, name) => {
    expect(partitionName('window_features', day)).toBe(name);
    expect(dayOfPartition('window_features', name)).toBe(day);
  });

  test.each([
    ['another table', 'window_extras_p20260105'],
    ['a date too short', 'window_features_p2026010'],
    ['not a partition of ours', 'window_features_old'],
  ])('%s: %s has no day', (_name, partition) => {
    expect(dayOfPartition('window_features', partition)).toBeUndefined();
  });

  test.each([
    ['2026-01-05', '2026-01-05T00:00:00.000Z'],
    ['0050-03-01', '0050-03-01T00:00:00.000Z'],
    ['12000-01-01', '+012000-01-01T00:00:00.000Z'],
    ['0101-01-01 BC', '-000100-01-01T00:00:00.000Z'],
  ])('the day %s starts at %s', (day, start) => {
    expect(new Date(dayStartMs(day)).toISOString()).toBe(start);
    expect(dayOfMs(dayStartMs(day) + DAY_MS - 1)).toBe(day);
  });

  test('the days of a batch: each partitioned table by its own column; other tables add none', () => {
    const row = (table: typeof windowFeaturesTable | typeof windowExtrasTable, column: string, text: string) =>
      table.columns.map((c) => (c === column ? iso(at(text)) : null));
    const windows = [
      { rows: [[row(windowFeaturesTable, 'window_start', '2026-01-05T23:00:00Z')], [row(windowExtrasTable, 'window_start', '2026-01-05T23:00:00Z')]] },
      { rows: [[row(windowFeaturesTable, 'window_start', '2026-01-04T10:00:00Z')], []] },
      { rows: [[row(windowFeaturesTable, 'window_start', '+020000-01-01T00:00:00Z')], []] },
      { rows: [[row(windowFeaturesTable, 'window_start', '-000010-01-01T00:00:00Z')], []] },
    ];
    // In time order, not text order.
    expect(daysOfRows([windowFeaturesTable, windowExtrasTable], windows)).toEqual(['0011-01-01 BC', '2026-01-04', '2026-01-05', '20000-01-01']);
    // An assessment of the window 23:00-24:00 is on the next day: assessments go by window_end, forecasts by made_at (the same time).
    const assessment = assessmentsRecord.tables[0]!;
    const times: Record<string, string> = { window_end: iso(at('2026-01-06T00:00:00Z')), window_start: iso(at('2026-01-05T23:00:00Z')) };
    const endingAtMidnight = assessment.columns.map((c) => times[c] ?? null);
    expect(daysOfRows(assessmentsRecord.tables, [{ rows: [[endingAtMidnight], []] }])).toEqual(['2026-01-06']);
    expect(daysOfRows([alertsTable], [{ rows: [[alertsTable.columns.map(() => iso(at('2026-01-05T08:00:00Z')))]] }])).toEqual([]);
  });

  test('days made ahead: today and the next two, by the clock', () => {
    expect(daysAhead(at('2026-12-31T22:15:00Z'))).toEqual(['2026-12-31', '2027-01-01', '2027-01-02']);
    expect(daysAhead(at('2026-03-01T00:00:00Z'), 0)).toEqual(['2026-03-01']);
    expect(dayOfMs(at('2024-02-29T23:59:59.999Z'))).toBe('2024-02-29');
    expect(daysBetween(at('2024-02-28T23:00:00Z'), at('2024-03-01T00:00:00Z'))).toEqual(['2024-02-28', '2024-02-29', '2024-03-01']);
    expect(daysBetween(at('2024-02-28T23:00:00Z'), at('2024-02-28T23:30:00Z'))).toEqual(['2024-02-28']);
  });
});

describe('retention: which days are dropped', () => {
  const days = ['2026-09-01', '2026-09-03', '2026-09-02', '2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04'];
  const now = at('2026-12-03T10:00:00Z');

  test.each([
    // 90 days before now is 2026-09-04T10:00: the days that ended by then go.
    ['90 days', 90 * DAY_MS, ['2026-09-01', '2026-09-02', '2026-09-03']],
    // 91 days before now is 2026-09-03T10:00: 09-03 still has rows inside the retention.
    ['91 days', 91 * DAY_MS, ['2026-09-01', '2026-09-02']],
    ['a year: nothing', 365 * DAY_MS, []],
    // 2 days before now is 12-01T10:00: 11-30 ended before it, 12-01 not.
    ['2 days', 2 * DAY_MS, ['2026-09-01', '2026-09-02', '2026-09-03', '2026-11-30']],
    // 1 day before now is 12-02T10:00, inside yesterday: yesterday is never dropped, the day before it is.
    ['1 day: never yesterday or today', DAY_MS, ['2026-09-01', '2026-09-02', '2026-09-03', '2026-11-30', '2026-12-01']],
  ])('%s', (_name, retentionMs, dropped) => {
    expect(daysToDrop(days, now, retentionMs)).toEqual(dropped);
  });

  test('a day is dropped only once its end is past the retention, to the millisecond', () => {
    const end = at('2026-09-02T00:00:00Z');
    expect(daysToDrop(['2026-09-01'], end + 90 * DAY_MS - 1, 90 * DAY_MS)).toEqual([]);
    expect(daysToDrop(['2026-09-01'], end + 90 * DAY_MS, 90 * DAY_MS)).toEqual(['2026-09-01']);
    expect(daysToDrop(['2026-09-01', '2026-09-01'], end + 100 * DAY_MS, 90 * DAY_MS)).toEqual(['2026-09-01']);
    expect(daysToDrop(['12000-01-01', '1970-01-01', '0101-01-01 BC'], end, 90 * DAY_MS)).toEqual(['0101-01-01 BC', '1970-01-01']);
  });
});

describe('PDM_POSTGRES_RETENTION', () => {
  test.each([
    [undefined, undefined],
    ['forever', undefined],
    ['90d', 90 * DAY_MS],
    ['26w', 182 * DAY_MS],
    ['1d', DAY_MS],
  ])('%s keeps %s ms', (text, ms) => {
    expect(retentionMsOf(text)).toBe(ms);
  });

  test.each([
    ['12h', 'is less than a day'],
    ['ninety days', 'is not a duration'],
    ['0d', 'must be longer than zero'],
  ])('%s is refused: %s', (text, why) => {
    expect(() => retentionMsOf(text)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(why) }));
  });
});
