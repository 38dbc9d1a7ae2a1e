import { WINDOW_COLUMNS, windowToRow } from '../../models/data/windows-table';
import type { AlertEvent, WindowFeatures } from '../../schemas';

/**
 * Records as table rows, and batches as upsert statements. Pure: no I/O, no clock.
 *
 * An upsert writes a row only when something in it differs (`WHERE (t.cols) IS DISTINCT FROM
 * (EXCLUDED.cols)`): a replay of the same records leaves every row as it was, not even a new
 * row version.
 */

export type SqlValue = string | number | null;

export interface TableSpec<T> {
  /** Table name without schema. */
  table: string;
  columns: readonly string[];
  /** The natural key: the conflict target. */
  key: readonly string[];
  toRow(value: T): SqlValue[];
  /** The key as one string, to keep the last of several records for one row in a batch. */
  keyOf(value: T): string;
}

/** What a statement needs to know of a table. */
export type TableShape = Pick<TableSpec<unknown>, 'table' | 'columns' | 'key'>;

/** Epoch milliseconds as an ISO timestamp Postgres reads as timestamptz; throws RangeError for a time JavaScript can't represent. */
const iso = (ms: number): string => new Date(ms).toISOString();

export const windowFeaturesTable: TableSpec<WindowFeatures> = {
  table: 'window_features',
  // The columns `pdmctl train --from-postgres` reads (models/data/windows-table.ts): one definition for both.
  columns: WINDOW_COLUMNS,
  key: ['machine_id', 'window_start'],
  toRow: (w) => windowToRow(w),
  keyOf: (w) => `${w.machineId}\u0000${w.windowStart}`,
};

export const ALERT_COLUMNS = [
  'alert_id',
  'dedup_key',
  'machine_id',
  'status',
  'severity',
  'kind',
  'feature',
  'window_end',
  'predicted_breach_at',
  'score',
  'threshold',
  'model_name',
  'model_version',
  'message',
  'created_at',
] as const;

export const alertsTable: TableSpec<AlertEvent> = {
  table: 'alerts',
  columns: ALERT_COLUMNS,
  key: ['alert_id'],
  toRow: (a) => [
    a.alertId,
    a.dedupKey,
    a.machineId,
    a.status,
    a.severity,
    a.kind,
    a.feature ?? null,
    iso(a.windowEnd),
    a.predictedBreachAt === null || a.predictedBreachAt === undefined ? null : iso(a.predictedBreachAt),
    a.score,
    a.threshold,
    a.modelName,
    a.modelVersion,
    a.message,
    iso(a.createdAt),
  ],
  keyOf: (a) => a.alertId,
};

/** Postgres takes at most 65535 bind parameters in one statement. */
export const MAX_PARAMETERS = 65_535;

/** Rows per statement: the setting, bounded by the parameter limit for this many columns. */
export const rowsPerStatement = (columns: number, maxRows: number): number => Math.max(1, Math.min(maxRows, Math.floor(MAX_PARAMETERS / columns)));

/** Consecutive slices of at most `size` items. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  if (!(size >= 1)) throw new RangeError(`chunk size must be at least 1, not ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The last item of each key, in the order those last items came. One INSERT ... ON CONFLICT DO
 * UPDATE may not touch a row twice, and the later record of a key is the one that counts.
 * Returns the kept items and the superseded ones.
 */
export function lastPerKey<T>(items: readonly T[], keyOf: (item: T) => string): { kept: T[]; superseded: T[] } {
  const last = new Map<string, number>();
  items.forEach((item, i) => last.set(keyOf(item), i));
  const kept: T[] = [];
  const superseded: T[] = [];
  items.forEach((item, i) => (last.get(keyOf(item)) === i ? kept : superseded).push(item));
  return { kept, superseded };
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** `INSERT ... VALUES (...), ... ON CONFLICT (key) DO UPDATE ... WHERE changed` for `rows` rows. */
export function upsertStatement(schema: string, spec: TableShape, rows: number): string {
  if (rows < 1) throw new RangeError('an upsert needs at least one row');
  const n = spec.columns.length;
  const values: string[] = [];
  for (let r = 0; r < rows; r++) values.push(`(${spec.columns.map((_, c) => `$${r * n + c + 1}`).join(', ')})`);
  const rest = spec.columns.filter((c) => !spec.key.includes(c));
  const cols = (prefix: string) => rest.map((c) => `${prefix}${quoteIdent(c)}`).join(', ');
  return (
    `INSERT INTO ${quoteIdent(schema)}.${quoteIdent(spec.table)} AS t (${spec.columns.map(quoteIdent).join(', ')}) VALUES ${values.join(', ')} ` +
    `ON CONFLICT (${spec.key.map(quoteIdent).join(', ')}) DO UPDATE SET ${rest.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(', ')} ` +
    `WHERE (${cols('t.')}) IS DISTINCT FROM (${cols('EXCLUDED.')})`
  );
}

/** A row's values in column order, checked against the column count. */
export function flatten(rows: ReadonlyArray<readonly SqlValue[]>, columns: number): SqlValue[] {
  const out: SqlValue[] = [];
  for (const row of rows) {
    if (row.length !== columns) throw new RangeError(`a row has ${row.length} values for ${columns} columns`);
    out.push(...row);
  }
  return out;
}
