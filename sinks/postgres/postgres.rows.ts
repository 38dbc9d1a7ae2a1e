import { WINDOW_COLUMNS, windowToRow } from '../../models/data/windows-table';
import type { AlertEvent, MachineAssessment, WindowFeatures } from '../../schemas';
import { pgTimestamp } from '../../lib/pg-timestamp';
import { forecastPoints } from '../../schemas/assessments';

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

/**
 * A record as rows of one or more tables, written in one transaction and refused together: an
 * assessment is a row of pdm.assessments and its forecast's rows of pdm.forecasts.
 */
export interface RecordSpec<T> {
  /** Tables in the order their rows are written (a referenced table before the ones referencing it). */
  tables: readonly TableShape[];
  /** The record's rows, per table in `tables` order (a table may get none). */
  toRows(value: T): SqlValue[][][];
  /** The key as one string, to keep the last of several records for one key in a batch. */
  keyOf(value: T): string;
}

/** A one-table spec as a record spec. */
export const oneTable = <T>(spec: TableSpec<T>): RecordSpec<T> => ({ tables: [spec], toRows: (value) => [[spec.toRow(value)]], keyOf: (value) => spec.keyOf(value) });

/** Epoch milliseconds as an ISO timestamp Postgres reads as timestamptz (lib/pg-timestamp.ts); throws RangeError for a time JavaScript can't represent. */
export const iso = (ms: number): string => pgTimestamp(ms);

/** As `iso`, null for null. */
export const isoOrNull = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : iso(ms));

export const windowFeaturesTable: TableSpec<WindowFeatures> = {
  table: 'window_features',
  // The columns `pdmctl train --from-postgres` reads (models/data/windows-table.ts): one definition for both.
  columns: WINDOW_COLUMNS,
  key: ['machine_id', 'window_start'],
  toRow: (w) => windowToRow(w, iso),
  keyOf: (w) => `${w.machineId}\u0000${w.windowStart}`,
};

export const WINDOW_EXTRA_COLUMNS = ['machine_id', 'window_start', 'channel', 'count', 'mean', 'min', 'max', 'stddev'] as const;

/** pdm.window_extras (migration 007): one row per extra channel of a window. */
export const windowExtrasTable: TableShape = { table: 'window_extras', columns: WINDOW_EXTRA_COLUMNS, key: ['machine_id', 'window_start', 'channel'] };

/** The rows of pdm.window_extras of a window, by channel name. */
export function windowExtrasRows(w: WindowFeatures): SqlValue[][] {
  const windowStart = iso(w.windowStart);
  return Object.keys(w.extras)
    .sort()
    .map((channel) => {
      const s = w.extras[channel]!;
      return [w.machineId, windowStart, channel, s.count, s.mean ?? null, s.min ?? null, s.max ?? null, s.stddev ?? null];
    });
}

/** pdm.window-features.v1: a window is a row of pdm.window_features and a row of pdm.window_extras per extra channel, written together. */
export const windowFeaturesRecord: RecordSpec<WindowFeatures> = {
  tables: [windowFeaturesTable, windowExtrasTable],
  toRows: (w) => [[windowFeaturesTable.toRow(w)], windowExtrasRows(w)],
  keyOf: (w) => windowFeaturesTable.keyOf(w),
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
  'drivers',
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
    isoOrNull(a.predictedBreachAt),
    a.score,
    a.threshold,
    a.modelName,
    a.modelVersion,
    a.message,
    iso(a.createdAt),
    JSON.stringify(a.drivers ?? []),
  ],
  keyOf: (a) => a.alertId,
};

export const ASSESSMENT_COLUMNS = [
  'machine_id',
  'window_start',
  'window_end',
  'warming_up',
  'anomaly_score',
  'anomaly_threshold',
  'detector_model',
  'detector_version',
  'forecaster_model',
  'forecaster_version',
  'state',
  'deviation_score',
  'deviation_threshold',
  'drivers',
] as const;

export const FORECAST_COLUMNS = ['machine_id', 'made_at', 'target_start', 'feature', 'mean', 'lower', 'upper', 'limit_lower', 'limit_upper', 'model_version'] as const;

export const assessmentsTable: TableShape = { table: 'assessments', columns: ASSESSMENT_COLUMNS, key: ['machine_id', 'window_end'] };
export const forecastsTable: TableShape = { table: 'forecasts', columns: FORECAST_COLUMNS, key: ['machine_id', 'made_at', 'target_start', 'feature'] };

/** A number a reader can use: NaN and infinities have no place in a score or a forecast. */
function finite(value: number, what: string): number {
  if (!Number.isFinite(value)) throw new RangeError(`${what} is ${value}, not a finite number`);
  return value;
}

const finiteOrNull = (value: number | null | undefined, what: string): number | null => (value === null || value === undefined ? null : finite(value, what));

/**
 * An assessment as one row of pdm.assessments and one row of pdm.forecasts per forecast point, a
 * feature's series expanded step by step (made_at = the assessment's window end). Throws RangeError for what can't be rows: a time
 * JavaScript can't represent, a value that is not a finite number, or two points of one feature
 * and forecast window (one upsert may not touch a row twice).
 */
export function assessmentRows(a: MachineAssessment): { assessment: SqlValue[]; forecasts: SqlValue[][] } {
  const madeAt = iso(a.windowEnd);
  const assessment: SqlValue[] = [
    a.machineId,
    iso(a.windowStart),
    madeAt,
    a.warmingUp ?? null,
    a.anomaly ? finite(a.anomaly.score, 'anomaly.score') : null,
    a.anomaly ? finite(a.anomaly.threshold, 'anomaly.threshold') : null,
    a.anomaly?.modelName ?? null,
    a.anomaly?.modelVersion ?? null,
    a.forecast?.modelName ?? null,
    a.forecast?.modelVersion ?? null,
    a.state ?? null,
    a.deviation ? finite(a.deviation.score, 'deviation.score') : null,
    a.deviation ? finite(a.deviation.threshold, 'deviation.threshold') : null,
    a.deviation ? JSON.stringify(a.deviation.drivers) : null,
  ];
  const seen = new Set<string>();
  const forecasts = forecastPoints(a).map((p): SqlValue[] => {
    const targetStart = iso(p.windowStart);
    const key = `${p.feature}\u0000${p.windowStart}`;
    if (seen.has(key)) throw new RangeError(`the forecast has two points for ${p.feature} at ${targetStart}`);
    seen.add(key);
    const what = `forecast ${p.feature} at ${targetStart}:`;
    return [a.machineId, madeAt, targetStart, p.feature, finite(p.mean, `${what} mean`), finite(p.lower, `${what} lower`), finite(p.upper, `${what} upper`), finiteOrNull(p.limitLower, `${what} limitLower`), finiteOrNull(p.limitUpper, `${what} limitUpper`), a.forecast!.modelVersion];
  });
  return { assessment, forecasts };
}

/** pdm.assessments.v2: one machine and window end is one assessment, with its forecast. */
export const assessmentsRecord: RecordSpec<MachineAssessment> = {
  tables: [assessmentsTable, forecastsTable],
  toRows: (a) => {
    const { assessment, forecasts } = assessmentRows(a);
    return [[assessment], forecasts];
  },
  keyOf: (a) => `${a.machineId}\u0000${a.windowEnd}`,
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

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

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
