import { pgTimestamp } from '../../lib/pg-timestamp';
import type { SqlValue, TableShape } from './postgres.rows';

/**
 * Day partitions of the tables that grow with the fleet (migration 009): which days a batch's rows
 * need, which days to make ahead, and which days a retention drops. Pure: days are `YYYY-MM-DD`
 * strings of UTC days, times are epoch milliseconds passed in.
 */

export const DAY_MS = 86_400_000;

/** Each partitioned table and the time column it is partitioned by (one partition per UTC day of it). */
export const PARTITION_COLUMNS: Readonly<Record<string, string>> = Object.freeze({
  window_features: 'window_start',
  window_extras: 'window_start',
  assessments: 'window_end',
  forecasts: 'made_at',
});

export const PARTITIONED_TABLES = Object.freeze(Object.keys(PARTITION_COLUMNS));

/** Days made ahead of the clock: today and the next ones, so the usual day's first rows find their partitions made. */
export const DAYS_AHEAD = 2;

/**
 * Days are written as Postgres writes a date: `2026-01-05`, `12000-01-01` past year 9999,
 * `0101-01-01 BC` before year 1; `$1::date` reads each of them.
 */
const TIMESTAMP_DAY = /^(\d{4,})-(\d{2})-(\d{2})T[^ ]*( BC)?$/;
const DAY = /^(\d{4,})-(\d{2})-(\d{2})( BC)?$/;

/** The day of a timestamp as the sink writes it (lib/pg-timestamp.ts), or undefined for a value that is not one. */
export function dayOfTimestamp(value: SqlValue): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TIMESTAMP_DAY.exec(value);
  if (!m) return undefined;
  return `${m[1]}-${m[2]}-${m[3]}${m[4] ?? ''}`;
}

/** The UTC day of epoch milliseconds. */
export const dayOfMs = (ms: number): string => dayOfTimestamp(pgTimestamp(Math.floor(ms / DAY_MS) * DAY_MS))!;

/** The first millisecond of a day (NaN for what is not a day). */
export function dayStartMs(day: string): number {
  const m = DAY.exec(day);
  if (!m) return Number.NaN;
  const year = m[4] ? 1 - Number(m[1]) : Number(m[1]);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0 to 99 as 1900 to 1999.
  return new Date(0).setUTCFullYear(year, Number(m[2]) - 1, Number(m[3]));
}

const byTime = (a: string, b: string): number => dayStartMs(a) - dayStartMs(b);

/** A day's partition of `table`: `window_features_p20260105`, `window_features_p120000101`, `window_features_pbc01010101`. */
export function partitionName(table: string, day: string): string {
  const m = DAY.exec(day);
  if (!m) throw new RangeError(`not a day: ${JSON.stringify(day)}`);
  return `${table}_p${m[4] ? 'bc' : ''}${m[1]}${m[2]}${m[3]}`;
}

const PARTITION_SUFFIX = /^_p(bc)?(\d{4,})(\d{2})(\d{2})$/;

/** The day of a partition of `table` named as partitionName does; undefined for another name. */
export function dayOfPartition(table: string, partition: string): string | undefined {
  if (!partition.startsWith(table)) return undefined;
  const m = PARTITION_SUFFIX.exec(partition.slice(table.length));
  if (!m) return undefined;
  return `${m[2]}-${m[3]}-${m[4]}${m[1] ? ' BC' : ''}`;
}

/** The days the rows of `records` fall on, in the partitioned ones of `tables`, sorted. */
export function daysOfRows(tables: readonly TableShape[], records: ReadonlyArray<{ rows: SqlValue[][][] }>): string[] {
  const days = new Set<string>();
  tables.forEach((spec, t) => {
    const column = PARTITION_COLUMNS[spec.table];
    if (!column) return;
    const at = spec.columns.indexOf(column);
    if (at < 0) return;
    for (const record of records) {
      for (const row of record.rows[t] ?? []) {
        const day = dayOfTimestamp(row[at] ?? null);
        if (day) days.add(day);
      }
    }
  });
  return [...days].sort(byTime);
}

/** Every day from the one of `fromMs` to the one of `toMs`, both included. */
export function daysBetween(fromMs: number, toMs: number): string[] {
  const days: string[] = [];
  for (let ms = Math.floor(fromMs / DAY_MS) * DAY_MS; ms <= toMs; ms += DAY_MS) days.push(dayOfMs(ms));
  return days;
}

/** Today (UTC, by `nowMs`) and the `ahead` days after it. */
export function daysAhead(nowMs: number, ahead: number = DAYS_AHEAD): string[] {
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  return Array.from({ length: ahead + 1 }, (_, i) => dayOfMs(today + i * DAY_MS));
}

/**
 * The days of `days` a retention of `retentionMs` drops at `nowMs`: those whose every row is older
 * than the retention (the day ended at or before now - retention). Never today or yesterday, whatever
 * the retention (the database's drop function refuses them too). Sorted, without repeats.
 */
export function daysToDrop(days: Iterable<string>, nowMs: number, retentionMs: number): string[] {
  const cutoffMs = Math.min(nowMs - retentionMs, Math.floor(nowMs / DAY_MS) * DAY_MS - DAY_MS);
  return [...new Set(days)].filter((day) => dayStartMs(day) + DAY_MS <= cutoffMs).sort(byTime);
}
