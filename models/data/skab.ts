import fs from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { FEATURES, type Feature } from '../../schemas';

/**
 * The Skoltech Anomaly Benchmark (../shared/data/README.md), read in place. Each labelled file
 * becomes one series of 1-second rows in the pipeline's six features (accZ has no SKAB channel
 * and is null), with the rows' anomaly labels.
 */

export const SKAB_COLUMNS: Record<Feature, string | null> = {
  current: 'Current',
  accX: 'Accelerometer1RMS',
  accY: 'Accelerometer2RMS',
  accZ: null,
  tempA: 'Temperature',
  tempB: 'Thermocouple',
};

/** All eight sensor columns, as the leaderboard's detectors see them (not what the pipeline carries). */
export const SKAB_ALL_COLUMNS = ['Accelerometer1RMS', 'Accelerometer2RMS', 'Current', 'Pressure', 'Temperature', 'Thermocouple', 'Voltage', 'Volume Flow RateRMS'] as const;

export interface SkabFile {
  /** Relative to the SKAB folder, e.g. valve1/0.csv. */
  name: string;
  timesMs: number[];
  /** Per row, the six features in FEATURES order (null where SKAB has no channel), or the eight columns. */
  rows: Array<Array<number | null>>;
  anomaly: boolean[];
}

/** The protocol's labelled files: valve1, valve2 and other, in a stable order (anomaly-free has no labels). */
export function skabFiles(dir: string): string[] {
  const out: string[] = [];
  for (const group of ['valve1', 'valve2', 'other']) {
    const folder = path.join(dir, group);
    if (!fs.existsSync(folder)) continue;
    const files = fs.readdirSync(folder).filter((f) => f.endsWith('.csv')).sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
    for (const f of files) out.push(path.join(group, f));
  }
  return out;
}

export function readSkabFile(dir: string, name: string, columns: 'pipeline' | 'all' = 'pipeline'): SkabFile {
  const text = fs.readFileSync(path.join(dir, name), 'utf8');
  const records = parseCsv(text, { delimiter: ';', columns: true, skip_empty_lines: true, trim: true }) as Array<Record<string, string>>;
  const timesMs: number[] = [];
  const rows: SkabFile['rows'] = [];
  const anomaly: boolean[] = [];
  for (const record of records) {
    // SKAB's times carry no zone; they are read as UTC, which only matters for calendars.
    timesMs.push(Date.parse(`${record.datetime!.replace(' ', 'T')}Z`));
    const names: Array<string | null> = columns === 'all' ? [...SKAB_ALL_COLUMNS] : FEATURES.map((feature) => SKAB_COLUMNS[feature]);
    rows.push(
      names.map((column) => {
        if (column === null) return null;
        const value = Number(record[column]);
        return Number.isFinite(value) ? value : null;
      }),
    );
    anomaly.push(Number(record.anomaly) === 1);
  }
  return { name, timesMs, rows, anomaly };
}
