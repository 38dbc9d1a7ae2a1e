import type { WindowFeatures } from '../schemas';
import { alarmMetrics, confusion, fitAnomaly, type AnomalyFitOptions } from './anomaly';
import type { Manifest } from './contract';
import { anomalySamples, channelMoments, forecastSamples, type TimedSample } from './dataset';
import { lookbackInput, toSeries, type Channel } from './features';
import { alertEpisodes, eventReport, type EventReport, type TruthFault } from './events';
import { anomalyGraph } from './onnx/graphs';
import type { ModelInputs, OnnxModel } from './runtime';
import { forecastMetrics } from './train';
import { readSkabFile, skabFiles } from './data/skab';

/**
 * Evaluation through the production path: every score and forecast here comes from the ONNX
 * graph run by onnxruntime-node, on inputs built by the contract's rules.
 */

/** Packs samples into the graph's float32 tensors. */
export function packInputs(samples: readonly TimedSample[], withCalendar: boolean): ModelInputs {
  const lc = samples[0]?.x.length ?? 0;
  const x = new Float32Array(samples.length * lc);
  const mask = new Float32Array(samples.length * lc);
  const calendarLength = samples[0]?.calendar.length ?? 0;
  const calendar = withCalendar ? new Float32Array(samples.length * calendarLength) : undefined;
  samples.forEach((s, i) => {
    x.set(s.x, i * lc);
    mask.set(s.mask, i * lc);
    calendar?.set(s.calendar, i * calendarLength);
  });
  return { x, mask, calendar, batch: samples.length };
}

/** Runs a model over samples in batches. */
export async function runBatches(model: OnnxModel, samples: readonly TimedSample[], onProgress?: (done: number) => void, batchSize = 2048): Promise<Record<string, Float32Array[]>> {
  const out: Record<string, Float32Array[]> = {};
  const withCalendar = model.manifest.inputs.some((t) => t.role === 'calendar');
  for (let i = 0; i < samples.length; i += batchSize) {
    const batch = samples.slice(i, i + batchSize);
    const result = await model.run(packInputs(batch, withCalendar));
    for (const [role, data] of Object.entries(result)) {
      const per = data.length / batch.length;
      const list = (out[role] ??= []);
      for (let j = 0; j < batch.length; j++) list.push(data.subarray(j * per, (j + 1) * per));
    }
    onProgress?.(Math.min(samples.length, i + batchSize));
  }
  return out;
}

/** Anomaly samples of windows as the manifest asks for them. */
export function anomalyInputs(manifest: Manifest, windows: readonly WindowFeatures[]): TimedSample[] {
  const series = toSeries(windows, manifest.channels as Channel[], manifest.windowMs);
  return anomalySamples(series, { lookback: manifest.lookback, minObserved: manifest.missing.minObserved, fallback: manifest.missing.fallback });
}

export function forecastInputs(manifest: Manifest, windows: readonly WindowFeatures[]): TimedSample[] {
  const series = toSeries(windows, manifest.channels as Channel[], manifest.windowMs);
  return forecastSamples(series, { lookback: manifest.lookback, horizon: manifest.horizon, minObserved: manifest.missing.minObserved, fallback: manifest.missing.fallback });
}

/** A detector on simulated windows with their truth: per-fault detection and lead time, false alerts per machine-month. */
export async function evaluateDetectorOnTruth(model: OnnxModel, windows: readonly WindowFeatures[], truth: readonly TruthFault[], spanMs: number, onProgress?: (done: number, total: number) => void): Promise<EventReport & { threshold: number; consecutive: number }> {
  const m = model.manifest;
  const samples = anomalyInputs(m, windows);
  const { score } = await runBatches(model, samples, (done) => onProgress?.(done, samples.length));
  const scored = samples.map((s, i) => ({ machineId: s.machineId, timeMs: s.originMs, score: score![i]![0]! }));
  const threshold = m.thresholds.score!;
  const consecutive = m.thresholds.consecutive ?? 1;
  const machines = [...new Set(windows.map((w) => w.machineId))].sort();
  return { ...eventReport(alertEpisodes(scored, threshold, consecutive), truth, machines, spanMs), threshold, consecutive };
}

/** A forecaster on windows: MAE per step and channel against the naive baselines. */
export async function evaluateForecaster(model: OnnxModel, windows: readonly WindowFeatures[], onProgress?: (done: number, total: number) => void) {
  const m = model.manifest;
  const samples = forecastInputs(m, windows);
  const result = await runBatches(model, samples, (done) => onProgress?.(done, samples.length));
  const forecasts = samples.map((_, i) => ({ mean: Float64Array.from(result.forecast![i]!), lower: Float64Array.from(result.lower![i]!), upper: Float64Array.from(result.upper![i]!) }));
  const sd = channelMoments(toSeries(windows, m.channels as Channel[], m.windowMs), m.channels.length).sd;
  return forecastMetrics(samples, forecasts, { lookback: m.lookback, horizon: m.horizon, period: 0 }, sd);
}

export interface SkabOptions extends Omit<AnomalyFitOptions, 'logChannels'> {
  /** Rows each file's detector is fitted on (the protocol: 400). */
  fitRows: number;
  /** pipeline: the five SKAB columns mapped onto the six features; all: the eight sensor columns. */
  columns: 'pipeline' | 'all';
  /** Alarm when the score exceeds this (1: T² or Q at its training limit). */
  threshold: number;
}

export const SKAB_DEFAULTS: SkabOptions = { lookback: 10, explained: 0.9, limitQuantile: 0.99, fitRows: 400, columns: 'pipeline', threshold: 1 };

/** Published leaderboard (outlier detection, test part), from ../shared/data/README.md. */
export const SKAB_LEADERBOARD: Array<[string, number, number, number]> = [
  ['Conv-AE', 0.78, 13.55, 28.02],
  ['MSET', 0.78, 39.73, 14.13],
  ['T²+Q (PCA)', 0.76, 26.62, 24.92],
  ['LSTM-AE', 0.74, 29.96, 25.92],
  ['T²', 0.66, 19.21, 42.6],
  ['Vanilla LSTM', 0.54, 12.54, 59.53],
  ['Vanilla AE', 0.39, 2.59, 75.15],
  ['Isolation Forest', 0.29, 2.56, 82.89],
];


/**
 * The SKAB protocol: for each labelled file, fit the detector on its first `fitRows` rows, export
 * it to ONNX, and score every later row with onnxruntime; F1 and alarm rates over all scored rows.
 * Rows are 1-second windows (one reading each); the detector sees the last `lookback` of them.
 */
export async function evaluateSkab(dir: string, options: SkabOptions, open: (bytes: Uint8Array, channels: number) => Promise<OnnxModel>, onProgress?: (done: number, total: number, file: string) => void) {
  const files = skabFiles(dir);
  if (files.length === 0) throw new Error(`no SKAB files under ${dir} (valve1/, valve2/, other/)`);
  const alarms: boolean[] = [];
  const labels: boolean[] = [];
  const perFile: Array<{ file: string; rows: number; f1: number }> = [];
  for (const [index, name] of files.entries()) {
    const file = readSkabFile(dir, name, options.columns);
    const channels = file.rows[0]?.length ?? 0;
    const fallback = channelMoments([{ machineId: name, windowMs: 1000, startMs: 0, rows: file.rows.slice(0, options.fitRows) }], channels).mean;
    const lookbackAt = (t: number) => {
      const rows = file.rows.slice(Math.max(0, t - options.lookback + 1), t + 1);
      while (rows.length < options.lookback) rows.unshift(null as never);
      return lookbackInput(rows, fallback);
    };
    const train = Array.from({ length: Math.min(options.fitRows, file.rows.length) }, (_, t) => lookbackAt(t).x);
    const params = fitAnomaly(train, channels, { ...options, logChannels: new Array<number>(channels).fill(0) });
    params.threshold = options.threshold;
    const model = await open(anomalyGraph(params, { name: 'skab', producerVersion: '0' }), channels);
    const samples: TimedSample[] = [];
    for (let t = options.fitRows; t < file.rows.length; t++) {
      const { x, mask } = lookbackAt(t);
      samples.push({ machineId: name, originMs: file.timesMs[t]!, x, mask, calendar: new Float64Array(0) });
    }
    const { score } = await runBatches(model, samples);
    await model.close();
    const fileAlarms = score!.map((s) => s[0]! > params.threshold);
    const fileLabels = file.anomaly.slice(options.fitRows);
    alarms.push(...fileAlarms);
    labels.push(...fileLabels);
    perFile.push({ file: name, rows: samples.length, f1: alarmMetrics(confusion(fileAlarms, fileLabels)).f1 });
    onProgress?.(index + 1, files.length, name);
  }
  const pooled = alarmMetrics(confusion(alarms, labels));
  const positives = labels.filter(Boolean).length;
  const alwaysAlarm = alarmMetrics(confusion(labels.map(() => true), labels));
  return { files: files.length, rows: labels.length, positives, ...pooled, alwaysAlarmF1: alwaysAlarm.f1, perFile };
}
