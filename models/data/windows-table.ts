import fs from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import { FEATURES, type FeatureStats, type WindowFeatures } from '../../schemas';
import { ModelError } from '../contract';

/**
 * Window features as a flat table: the CSV format of `pdmctl train --from-csv` and the columns of
 * `pdm.window_features` (sinks/postgres/migrations/001_window_features.sql) are the same:
 * machine_id, window_start, window_end, count, then <feature>_<stat> for each feature (lower-cased)
 * and stat (count, mean, min, max, stddev). Times are ISO-8601 or epoch milliseconds; an empty
 * cell is null.
 */

const STAT_COLUMNS = ['count', 'mean', 'min', 'max', 'stddev'] as const;
export const featureColumn = (feature: string, stat: string) => `${feature.toLowerCase()}_${stat}`;
export const WINDOW_COLUMNS = ['machine_id', 'window_start', 'window_end', 'count', ...FEATURES.flatMap((f) => STAT_COLUMNS.map((s) => featureColumn(f, s)))];

const toMs = (value: unknown, where: string): number => {
  if (value instanceof Date) return value.getTime();
  const text = String(value ?? '').trim();
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
  if (!Number.isFinite(ms)) throw new ModelError('MODEL_DATA', `${where}: ${JSON.stringify(text)} is not a time`);
  return ms;
};

const toNumber = (value: unknown): number | null => {
  if (value === null || value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
};

/** One row (CSV record or database row, keyed by column name) as WindowFeatures. */
export function rowToWindow(row: Record<string, unknown>, where: string): WindowFeatures {
  const machineId = String(row.machine_id ?? '');
  if (!machineId) throw new ModelError('MODEL_DATA', `${where}: machine_id is empty`);
  const w = { machineId, windowStart: toMs(row.window_start, where), windowEnd: toMs(row.window_end, where), count: toNumber(row.count) ?? 0, extras: {} } as WindowFeatures;
  for (const feature of FEATURES) {
    const stats: FeatureStats = { count: toNumber(row[featureColumn(feature, 'count')]) ?? 0, mean: null, min: null, max: null, stddev: null };
    for (const stat of ['mean', 'min', 'max', 'stddev'] as const) stats[stat] = toNumber(row[featureColumn(feature, stat)]);
    if (stats.mean === null) stats.count = 0;
    w[feature] = stats;
  }
  return w;
}

/** A window as a row of WINDOW_COLUMNS, its times as `time` writes them (ISO for a CSV file; the Postgres sink's own form for the database). */
export function windowToRow(w: WindowFeatures, time: (ms: number) => string = (ms) => new Date(ms).toISOString()): Array<string | number | null> {
  const row: Array<string | number | null> = [w.machineId, time(w.windowStart), time(w.windowEnd), w.count];
  for (const feature of FEATURES) for (const stat of STAT_COLUMNS) row.push(w[feature][stat] ?? null);
  return row;
}

export function readWindowsCsv(file: string): WindowFeatures[] {
  if (!fs.existsSync(file)) throw new ModelError('MODEL_DATA', `${file} does not exist`);
  const records = parseCsv(fs.readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, trim: true }) as Array<Record<string, string>>;
  const missing = ['machine_id', 'window_start', 'window_end'].filter((c) => records.length > 0 && !(c in records[0]!));
  if (missing.length > 0) throw new ModelError('MODEL_DATA', `${file} lacks column(s) ${missing.join(', ')} (header: ${WINDOW_COLUMNS.join(',')})`);
  return records.map((r, i) => rowToWindow(r, `${file}:${i + 2}`));
}

export function windowsCsv(windows: readonly WindowFeatures[]): string {
  const lines = [WINDOW_COLUMNS.join(',')];
  for (const w of windows) lines.push(windowToRow(w).map((v) => (v === null ? '' : typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v))).join(','));
  return `${lines.join('\n')}\n`;
}
