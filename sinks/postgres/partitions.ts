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

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})T/;

/**
 * The day of a timestamp as the sink writes it (lib/pg-timestamp.ts), or undefined when no day
 * partition takes it: years past 9999 (`12000-...`) and before 1 (`... BC`), which go to the
 * DEFAULT partition, or a value that is not such a timestamp.
 */
export function dayOfTimestamp(value: SqlValue): string | undefined {
  if (typeof value !== 'string' || value.endsWith(' BC')) return undefined;
  const m = ISO_DAY.exec(value);
  if (!m || m[1] === '0000') return undefined;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

/** The UTC day of epoch milliseconds. */
export const dayOfMs = (ms: number): string => new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);

/** The first millisecond of a day. */
export const dayStartMs = (day: string): number => Date.parse(`${day}T00:00:00.000Z`);

/** A day's partition of `table`: `window_features_p20260105`. */
export const partitionName = (table: string, day: string): string => `${table}_p${day.replace(/-/g, '')}`;

const PARTITION_SUFFIX = /_p(\d{4})(\d{2})(\d{2})$/;

/** The day of a partition of `table` named as partitionName does; undefined for the DEFAULT partition or another name. */
export function dayOfPartition(table: string, partition: string): string | undefined {
  if (!partition.startsWith(`${table}_p`)) return undefined;
  const m = PARTITION_SUFFIX.exec(partition);
  if (!m || partition.length !== table.length + 10) return undefined;
  return `${m[1]}-${m[2]}-${m[3]}`;
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
  return [...days].sort();
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
  return [...new Set(days)].filter((day) => dayStartMs(day) + DAY_MS <= cutoffMs).sort();
}
