import fs from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { FEATURES, type AlertEvent, type SensorReading, type WindowFeatures } from '../schemas';
import { closeIdle, emptyPartition, processReading, windowStartOf } from '../processors/window/window';
import { episodesOf } from '../processors/inference/inference.evaluate';
import { SKAB_ALL_COLUMNS, SKAB_COLUMNS, readSkabFile, skabFiles, type SkabFile } from './data/skab';
import { changepointPredictions, changepointScores, pointScores, type ChangepointScores, type PointScores } from './skab-metrics';
import { PdmError } from '../lib/errors';

/**
 * SKAB through the pipeline's own code: each labelled file is one machine whose rows become
 * readings, windowed by the window processor's rule, then handed to a replay of the inference
 * step; the alerts it raises are turned back into per-row alarms and scored with SKAB's metrics
 * (skab-metrics.ts) on the rows after the file's first 400, the benchmark's protocol.
 *
 * From alerts to rows. A transition carries the end of the window it was decided on. A FIRING
 * opens an episode for its dedupKey and the RESOLVED of that key closes it (`episodesOf`); the
 * machine is in alarm while any of its episodes is open. An episode fired at window end F and
 * resolved at window end R covers the rows with F <= timestamp < R: the decision exists only
 * once its window has closed, so the rows it covers are those that arrive after it (a window is
 * [start, end), so a row at exactly F is the first of the next window), up to the end of the
 * window that cleared it. An episode never resolved covers every later row of the file. Marking
 * the deciding window's own rows would credit the detector with hindsight it does not have live.
 */

/** Replays one machine's windows through the inference step; `warmupWindows` cover its baseline rows. */
export type SkabReplay = (windows: WindowFeatures[], options: { warmupWindows: number }) => Promise<AlertEvent[]>;

export type ChangepointRule = 'edges' | 'starts';

export interface SkabPipelineOptions {
  /** Window length the readings are aggregated over. */
  windowMs: number;
  /** Rows of each file that form its baseline and are not scored (the protocol: 400). */
  fitRows: number;
  /** Width of NAB's detection window right of each true changepoint (the strict leaderboard: 30 s). */
  nabWindowMs: number;
  /** `pipeline`: the five columns the six named features carry; `all`: Pressure, Voltage and Volume Flow RateRMS too, as extra channels. */
  columns: 'pipeline' | 'all';
  /** Only the files of these folders (`valve1`, `valve2`, `other`): a development part apart from the part reported. */
  folders?: readonly string[];
}

export const SKAB_PIPELINE_DEFAULTS: Readonly<SkabPipelineOptions> = Object.freeze({ windowMs: 5000, fitRows: 400, nabWindowMs: 30_000, columns: 'pipeline' as const });

/** SKAB's three columns the six named features do not carry, as the extra channels a replay gives them (`replay --preset skab`). */
export const SKAB_EXTRA_CHANNELS: Readonly<Record<string, string>> = Object.freeze({ Pressure: 'pressure', Voltage: 'voltage', 'Volume Flow RateRMS': 'flow' });

/** A file's machine id: `skab-valve1-0` for valve1/0.csv. */
export const skabMachineId = (name: string): string => `skab-${name.replace(/\.csv$/, '').replace(/[\\/]/g, '-')}`;

/**
 * The file's rows as the pipeline's readings, with the rows' own timestamps (accZ null: SKAB has no
 * such column). A file read with `columns: 'all'` (rows in SKAB_ALL_COLUMNS order) also carries
 * Pressure, Voltage and Volume Flow RateRMS as the extra channels pressure, voltage and flow.
 */
export function skabReadings(file: SkabFile, machineId: string, columns: 'pipeline' | 'all' = 'pipeline'): SensorReading[] {
  return file.rows.map((row, i) => {
    const reading = { machineId, timestamp: file.timesMs[i]!, extras: {} } as SensorReading;
    if (columns === 'pipeline') FEATURES.forEach((feature, c) => (reading[feature] = row[c] ?? null));
    else {
      FEATURES.forEach((feature) => {
        const column = SKAB_COLUMNS[feature];
        reading[feature] = column === null ? null : (row[SKAB_ALL_COLUMNS.indexOf(column as (typeof SKAB_ALL_COLUMNS)[number])] ?? null);
      });
      for (const [column, channel] of Object.entries(SKAB_EXTRA_CHANNELS)) reading.extras[channel] = row[SKAB_ALL_COLUMNS.indexOf(column as (typeof SKAB_ALL_COLUMNS)[number])] ?? null;
    }
    return reading;
  });
}

/** Windows exactly as the window processor closes them: its pure rule, no grace needed in time order, the last windows closed at the end. */
export function windowReadings(readings: readonly SensorReading[], windowMs: number): WindowFeatures[] {
  const config = { sizeMs: windowMs, graceMs: 0 };
  const state = emptyPartition();
  const windows: WindowFeatures[] = [];
  for (const reading of readings) windows.push(...processReading(state, reading, config).closed);
  windows.push(...closeIdle(state, config));
  return windows;
}

/** Windows that hold any of the first `fitRows` rows: the one holding the last baseline row and all before it. */
export function warmupWindowCount(windows: readonly WindowFeatures[], timesMs: readonly number[], fitRows: number, windowMs: number): number {
  if (timesMs.length === 0 || fitRows <= 0) return 0;
  const lastStart = windowStartOf(timesMs[Math.min(fitRows, timesMs.length) - 1]!, windowMs);
  return windows.filter((w) => w.windowStart <= lastStart).length;
}

export interface AlarmSpan {
  /** Window end of the FIRING: the first alarmed instant. */
  fromMs: number;
  /** Window end of the RESOLVED (not alarmed any more), or null when it never resolved. */
  toMs: number | null;
}

/** A machine's alarm episodes from its transitions, every dedupKey alike. */
export function alarmSpans(transitions: readonly AlertEvent[]): AlarmSpan[] {
  return episodesOf(transitions).map((e) => ({ fromMs: e.firedMs, toMs: e.resolvedMs }));
}

/** Per row: alarmed when its timestamp lies in a span [fromMs, toMs). */
export function alarmedRows(timesMs: readonly number[], spans: readonly AlarmSpan[]): boolean[] {
  return timesMs.map((t) => spans.some((s) => s.fromMs <= t && (s.toMs === null || t < s.toMs)));
}

/**
 * The `changepoint` column, which `readSkabFile` does not carry (SKAB marks 1 at changes of the
 * rig's state: the anomaly's start and end and changes inside it).
 */
export function readSkabChangepoints(dir: string, name: string): boolean[] {
  const text = fs.readFileSync(path.join(dir, name), 'utf8');
  const records = parseCsv(text, { delimiter: ';', columns: true, skip_empty_lines: true, trim: true }) as Array<Record<string, string>>;
  return records.map((r) => Number(r.changepoint) === 1);
}

export interface SkabFileResult {
  name: string;
  machineId: string;
  rows: number;
  windows: number;
  warmupWindows: number;
  transitions: number;
  spans: AlarmSpan[];
  /** The scored rows (after the first `fitRows`): times, labels and our alarms. */
  timesMs: number[];
  anomaly: boolean[];
  changepoint: boolean[];
  alarmed: boolean[];
}

export interface SkabScores {
  points: PointScores;
  /** Changepoints as SKAB derives them (every switch of the alarm), and as episode starts only. */
  changepoints: Record<ChangepointRule, ChangepointScores>;
}

export interface SkabPipelineReport {
  options: SkabPipelineOptions;
  files: SkabFileResult[];
  scoredRows: number;
  anomalousRows: number;
  pipeline: SkabScores;
  /** The same scores for an alarm on every scored row. */
  alwaysAlarm: SkabScores;
}

/** One file through windows and the replay, its rows' alarms. */
export async function replaySkabFile(dir: string, name: string, replay: SkabReplay, options: SkabPipelineOptions): Promise<SkabFileResult> {
  const file = readSkabFile(dir, name, options.columns);
  const changepoint = readSkabChangepoints(dir, name);
  if (changepoint.length !== file.rows.length) throw new PdmError('MODEL_DATA', `${name}: ${changepoint.length} changepoint labels for ${file.rows.length} rows`);
  const machineId = skabMachineId(name);
  const windows = windowReadings(skabReadings(file, machineId, options.columns), options.windowMs);
  const warmupWindows = warmupWindowCount(windows, file.timesMs, options.fitRows, options.windowMs);
  const transitions = (await replay(windows, { warmupWindows })).filter((t) => t.machineId === machineId);
  const spans = alarmSpans(transitions);
  const timesMs = file.timesMs.slice(options.fitRows);
  return {
    name,
    machineId,
    rows: file.rows.length,
    windows: windows.length,
    warmupWindows,
    transitions: transitions.length,
    spans,
    timesMs,
    anomaly: file.anomaly.slice(options.fitRows),
    changepoint: changepoint.slice(options.fitRows),
    alarmed: alarmedRows(timesMs, spans),
  };
}

/** SKAB's scores of per-row alarms over the scored rows of all files. */
export function scoreSkab(
  files: ReadonlyArray<Pick<SkabFileResult, 'timesMs' | 'anomaly' | 'changepoint'>>,
  alarms: ReadonlyArray<readonly boolean[]>,
  nabWindowMs: number,
): SkabScores {
  const points = pointScores(files.map((f, i) => ({ labels: f.anomaly, predictions: alarms[i]! })));
  const byRule = (rule: ChangepointRule) =>
    changepointScores(
      files.map((f, i) => {
        const predicted = changepointPredictions(alarms[i]!, rule);
        return { changepointsMs: f.timesMs.filter((_, j) => f.changepoint[j]), predictedMs: f.timesMs.filter((_, j) => predicted[j]) };
      }),
      { windowMs: nabWindowMs, placement: 'righter' },
    );
  return { points, changepoints: { edges: byRule('edges'), starts: byRule('starts') } };
}

/** Every labelled file (valve1, valve2, other) through the pipeline, scored as the strict leaderboard is. */
export async function evaluateSkabPipeline(
  dir: string,
  replay: SkabReplay,
  options: SkabPipelineOptions = SKAB_PIPELINE_DEFAULTS,
  onProgress?: (done: number, total: number, file: string) => void,
): Promise<SkabPipelineReport> {
  const names = skabFiles(dir).filter((name) => !options.folders || options.folders.some((folder) => name.startsWith(`${folder}/`)));
  if (names.length === 0) throw new PdmError('MODEL_DATA', `no SKAB files under ${dir} (valve1/, valve2/, other/)${options.folders ? ` in ${options.folders.join(', ')}` : ''}`);
  const files: SkabFileResult[] = [];
  for (const [index, name] of names.entries()) {
    files.push(await replaySkabFile(dir, name, replay, options));
    onProgress?.(index + 1, names.length, name);
  }
  return {
    options,
    files,
    scoredRows: files.reduce((n, f) => n + f.timesMs.length, 0),
    anomalousRows: files.reduce((n, f) => n + f.anomaly.filter(Boolean).length, 0),
    pipeline: scoreSkab(files, files.map((f) => f.alarmed), options.nabWindowMs),
    alwaysAlarm: scoreSkab(files, files.map((f) => f.timesMs.map(() => true)), options.nabWindowMs),
  };
}
