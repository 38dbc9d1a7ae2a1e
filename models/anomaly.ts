import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { quantile } from './forecaster';
import { pointCounts, type PointCounts } from './skab-metrics';

/**
 * The anomaly detector, pure: PCA's Hotelling T² and Q (squared prediction error) statistics,
 * learned from normal operation (MacGregor & Kourti, 1995). A window sequence is averaged over
 * its L windows, optionally log-transformed per channel, standardised with the training mean
 * and spread, and projected on the k principal components that carry the normal variation: T²
 * measures how far it is inside that subspace, Q how far it is off it. The score is the larger
 * of T² and Q, each divided by its limit, so 1 is the edge of normal; the threshold on the score
 * is calibrated on held-out normal data for a chosen false-alarm rate.
 *
 * `score` is the reference the ONNX graph (onnx/graphs.ts) must reproduce.
 */

export interface AnomalyParams {
  lookback: number;
  channels: number;
  /** Per channel: 1 where the value is log-transformed (log(max(v, 0) + logOffset)). */
  logChannels: number[];
  logOffset: number[];
  /** Standardisation of the transformed values; weight 0 drops a channel the training data never varied. */
  mean: number[];
  sd: number[];
  weight: number[];
  /** Row-major [channels, k]: the retained principal directions. */
  components: Float64Array;
  k: number;
  /** Variance along each retained direction. */
  eigenvalues: number[];
  t2Limit: number;
  qLimit: number;
  /** Alarm when score > threshold. */
  threshold: number;
}

export interface AnomalyFitOptions {
  lookback: number;
  logChannels: number[];
  /** Share of variance the retained components carry, e.g. 0.9. */
  explained: number;
  /** Quantile of the training T² and Q taken as their limits, e.g. 0.99. */
  limitQuantile: number;
}

/** The mean of each channel over a lookback ([L x C] row-major). */
export function lookbackMean(x: Float64Array, lookback: number, channels: number): Float64Array {
  const out = new Float64Array(channels);
  for (let t = 0; t < lookback; t++) for (let c = 0; c < channels; c++) out[c]! += x[t * channels + c]!;
  for (let c = 0; c < channels; c++) out[c]! /= lookback;
  return out;
}

const transform = (v: number, log: number, offset: number) => (log ? Math.log(Math.max(v, 0) + offset) : v);

function standardised(params: Pick<AnomalyParams, 'lookback' | 'channels' | 'logChannels' | 'logOffset' | 'mean' | 'sd' | 'weight'>, x: Float64Array): Float64Array {
  const m = lookbackMean(x, params.lookback, params.channels);
  const z = new Float64Array(params.channels);
  for (let c = 0; c < params.channels; c++) z[c] = ((transform(m[c]!, params.logChannels[c]!, params.logOffset[c]!) - params.mean[c]!) / params.sd[c]!) * params.weight[c]!;
  return z;
}

export interface AnomalyScore {
  score: number;
  t2: number;
  q: number;
}

export function score(params: AnomalyParams, x: Float64Array): AnomalyScore {
  const z = standardised(params, x);
  const { channels, k, components } = params;
  let t2 = 0;
  const projected = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    let p = 0;
    for (let c = 0; c < channels; c++) p += z[c]! * components[c * k + j]!;
    projected[j] = p;
    t2 += (p * p) / params.eigenvalues[j]!;
  }
  let q = 0;
  for (let c = 0; c < channels; c++) {
    let reconstructed = 0;
    for (let j = 0; j < k; j++) reconstructed += projected[j]! * components[c * k + j]!;
    q += (z[c]! - reconstructed) ** 2;
  }
  return { score: Math.max(t2 / params.t2Limit, q / params.qLimit), t2, q };
}

/**
 * Fits the detector on lookbacks of normal operation ([L x C] each). The threshold starts at 1
 * (both statistics at their training limits); calibrateThreshold moves it on held-out data.
 */
export function fitAnomaly(train: readonly Float64Array[], channels: number, options: AnomalyFitOptions): AnomalyParams {
  const { lookback } = options;
  const means = train.map((x) => lookbackMean(x, lookback, channels));
  const logOffset = new Array<number>(channels).fill(0);
  for (let c = 0; c < channels; c++) {
    if (!options.logChannels[c]) continue;
    // A small offset keeps log finite for zeros: 1 % of the channel's median level.
    logOffset[c] = Math.max(1e-9, 0.01 * quantile(means.map((m) => Math.max(0, m[c]!)), 0.5));
  }
  const transformed = means.map((m) => Array.from(m, (v, c) => transform(v, options.logChannels[c]!, logOffset[c]!)));
  const mean = new Array<number>(channels).fill(0);
  const sd = new Array<number>(channels).fill(1);
  const weight = new Array<number>(channels).fill(1);
  for (let c = 0; c < channels; c++) {
    const values = transformed.map((t) => t[c]!);
    const mu = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
    const variance = values.reduce((a, b) => a + (b - mu) ** 2, 0) / Math.max(1, values.length - 1);
    mean[c] = mu;
    // A channel that never varied (a missing sensor) carries no information: it is dropped.
    if (!(variance > 1e-12 * Math.max(1, mu * mu))) {
      weight[c] = 0;
      sd[c] = 1;
    } else sd[c] = Math.sqrt(variance);
  }
  const base = { lookback, channels, logChannels: options.logChannels.slice(), logOffset, mean, sd, weight };
  const Z = new Matrix(transformed.map((t) => t.map((v, c) => ((v - mean[c]!) / sd[c]!) * weight[c]!)));
  const covariance = Z.transpose().mmul(Z).div(Math.max(1, Z.rows - 1));
  const eig = new EigenvalueDecomposition(covariance, { assumeSymmetric: true });
  const order = eig.realEigenvalues.map((value, index) => ({ value: Math.max(value, 0), index })).sort((a, b) => b.value - a.value || a.index - b.index);
  const total = order.reduce((a, b) => a + b.value, 0);
  let k = 0;
  let carried = 0;
  while (k < order.length - 1 && carried < options.explained * total) carried += order[k++]!.value;
  k = Math.max(1, k);
  const components = new Float64Array(channels * k);
  const vectors = eig.eigenvectorMatrix;
  for (let j = 0; j < k; j++) {
    // Sign convention: the largest entry of each direction is positive, so refits agree.
    let largest = 0;
    for (let c = 0; c < channels; c++) if (Math.abs(vectors.get(c, order[j]!.index)) > Math.abs(largest)) largest = vectors.get(c, order[j]!.index);
    const sign = largest < 0 ? -1 : 1;
    for (let c = 0; c < channels; c++) components[c * k + j] = sign * vectors.get(c, order[j]!.index);
  }
  const eigenvalues = order.slice(0, k).map((o) => Math.fround(Math.max(o.value, 1e-9)));
  // The ONNX graph holds float32 constants: the parameters are rounded to them here, so the
  // trainer's reference and the graph compute with the same numbers.
  const f32 = (values: number[]) => values.map(Math.fround);
  const params: AnomalyParams = { ...base, logOffset: f32(base.logOffset), mean: f32(base.mean), sd: f32(base.sd), components: components.map(Math.fround), k, eigenvalues, t2Limit: 1, qLimit: 1, threshold: 1 };
  const stats = train.map((x) => score(params, x));
  params.t2Limit = Math.fround(Math.max(1e-9, quantile(stats.map((s) => s.t2), options.limitQuantile)));
  params.qLimit = Math.fround(Math.max(1e-9, quantile(stats.map((s) => s.q), options.limitQuantile)));
  return params;
}

/** The threshold at which held-out normal data alarms at `falseAlarmRate` (never below 1). */
export function calibrateThreshold(params: AnomalyParams, normal: readonly Float64Array[], falseAlarmRate: number): number {
  if (normal.length === 0) return params.threshold;
  return Math.max(1, quantile(normal.map((x) => score(params, x).score), 1 - falseAlarmRate));
}

/** Confusion counts of alarms (score > threshold) against labels: SKAB's point counts (skab-metrics.ts). */
export type Confusion = PointCounts;

export const confusion = (alarms: readonly boolean[], labels: readonly boolean[]): Confusion => pointCounts(labels, alarms);

export function alarmMetrics(c: Confusion): { f1: number; far: number; mar: number; precision: number; recall: number } {
  const precision = c.tp + c.fp === 0 ? 0 : c.tp / (c.tp + c.fp);
  const recall = c.tp + c.fn === 0 ? 0 : c.tp / (c.tp + c.fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { f1, far: c.fp + c.tn === 0 ? 0 : c.fp / (c.fp + c.tn), mar: c.tp + c.fn === 0 ? 0 : c.fn / (c.tp + c.fn), precision, recall };
}
