import { PdmError } from '../lib/errors';
/**
 * SKAB's own scores, pure: what the benchmark's evaluation code computes, so our figures sit beside
 * its leaderboard on the same terms. Followed, line by line where it matters:
 *
 * - waico/SKAB `core/metrics.py` (the module SKAB imports from waico/tsad, commit f3d94c4):
 *   `confusion_matrix` and `chp_score(metric="binary")` for the point scores,
 *   `single_detecting_boundaries`, `extract_cp_confusion_matrix`, `my_scale` ("improved" scale
 *   function), `single_evaluate_nab` and `chp_score(metric="nab" | "average_time")` for changepoints.
 * - SKAB's scripts and notebooks for how predictions become changepoints:
 *   `prediction_cp = abs(prediction.diff()); prediction_cp.iloc[0] = prediction.iloc[0]`, scored
 *   with `anomaly_window_destination="righter"` on the test part of each file (after its first
 *   400 rows, `core/utils.py::preprocess_skab`, `train_size=400, shuffle=False`).
 * - SKAB's README, "2. Strict Leaderboard": the test part only, detection windows to the right of
 *   each changepoint, "window size for the NAB detection algorithm equal to 30 sec".
 *
 * Every score is pooled as SKAB pools it: point counts summed over files before F1/FAR/MAR; NAB raw
 * scores, null and perfect scores summed over files before normalizing.
 */

// ---------------------------------------------------------------------------------------------
// Outliers: point-wise F1, false and missed alarm rates

export interface PointCounts {
  tp: number;
  tn: number;
  fp: number;
  fn: number;
}

export interface PointScores extends PointCounts {
  /** TP / (TP + (FN + FP) / 2), as `chp_score(metric="binary")`. */
  f1: number;
  /** FP / (FP + TN) * 100. */
  farPct: number;
  /** FN / (FN + TP) * 100. */
  marPct: number;
}

/** One file's confusion counts, row by row (`core/metrics.py::confusion_matrix`). */
export function pointCounts(labels: readonly boolean[], predictions: readonly boolean[]): PointCounts {
  if (labels.length !== predictions.length) throw new PdmError('MODEL_DATA', `labels (${labels.length}) and predictions (${predictions.length}) differ in length`);
  const c: PointCounts = { tp: 0, tn: 0, fp: 0, fn: 0 };
  labels.forEach((label, i) => {
    const alarm = predictions[i]!;
    if (label && alarm) c.tp++;
    else if (label) c.fn++;
    else if (alarm) c.fp++;
    else c.tn++;
  });
  return c;
}

/** F1, FAR and MAR over all files: counts summed first, then the ratios (SKAB's pooling). */
export function pointScores(files: ReadonlyArray<{ labels: readonly boolean[]; predictions: readonly boolean[] }>): PointScores {
  const c: PointCounts = { tp: 0, tn: 0, fp: 0, fn: 0 };
  for (const f of files) {
    const one = pointCounts(f.labels, f.predictions);
    c.tp += one.tp;
    c.tn += one.tn;
    c.fp += one.fp;
    c.fn += one.fn;
  }
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
  return { ...c, f1: ratio(c.tp, c.tp + (c.fn + c.fp) / 2), farPct: 100 * ratio(c.fp, c.fp + c.tn), marPct: 100 * ratio(c.fn, c.fn + c.tp) };
}

// ---------------------------------------------------------------------------------------------
// Changepoints: detection windows, the changepoint confusion, NAB

/**
 * Predicted changepoints from row predictions. `edges` is SKAB's rule, `abs(prediction.diff())`
 * with the first row set to the first prediction: every switch of the alarm, on and off, is a
 * changepoint (SKAB labels both ends of an anomaly, and changes inside it, as changepoints).
 * `starts` counts only the switches on (and an alarm already on at the first row).
 */
export function changepointPredictions(predictions: readonly boolean[], rule: 'edges' | 'starts' = 'edges'): boolean[] {
  return predictions.map((alarm, i) => {
    if (i === 0) return alarm;
    const previous = predictions[i - 1]!;
    return rule === 'edges' ? alarm !== previous : alarm && !previous;
  });
}

export type WindowPlacement = 'righter' | 'lefter' | 'center';

export interface DetectionWindow {
  startMs: number;
  endMs: number;
}

/**
 * One detection window per true changepoint (`single_detecting_boundaries` with a fixed
 * `window_width`): [cp, cp + width] for `righter`, [cp - width, cp] for `lefter`, centred for
 * `center`. Overlaps are resolved by SKAB's default `intersection_mode="cut right window"`: when a
 * window reaches the next one's start, the next one starts where this one ends, in order.
 */
export function detectionWindows(changepointsMs: readonly number[], widthMs: number, placement: WindowPlacement = 'righter'): DetectionWindow[] {
  const windows = changepointsMs.map((cp) => {
    if (placement === 'righter') return { startMs: cp, endMs: cp + widthMs };
    if (placement === 'lefter') return { startMs: cp - widthMs, endMs: cp };
    return { startMs: cp - widthMs / 2, endMs: cp + widthMs / 2 };
  });
  for (let i = 0; i + 1 < windows.length; i++) {
    if (windows[i]!.endMs >= windows[i + 1]!.startMs) windows[i + 1]!.startMs = windows[i]!.endMs;
  }
  return windows;
}

export interface ChangepointConfusion {
  /** Windows with a predicted changepoint inside (bounds inclusive), with the first one. */
  detected: Array<DetectionWindow & { index: number; detectedMs: number }>;
  /** Predicted changepoints outside every window. */
  falseMs: number[];
  /** Indices of windows with no predicted changepoint. */
  missed: number[];
}

/**
 * `extract_cp_confusion_matrix(point=0)`: a window is detected by its first prediction in
 * [start, end]; predictions before the first window, strictly between two windows, or after the
 * last are false. A prediction on a boundary shared by two cut windows counts for both, as there.
 */
export function changepointConfusion(windows: readonly DetectionWindow[], predictedMs: readonly number[]): ChangepointConfusion {
  const times = [...predictedMs].sort((a, b) => a - b);
  if (windows.length === 0) return { detected: [], falseMs: times, missed: [] };
  const out: ChangepointConfusion = { detected: [], falseMs: times.filter((t) => t < windows[0]!.startMs), missed: [] };
  windows.forEach((w, i) => {
    const first = times.find((t) => t >= w.startMs && t <= w.endMs);
    if (first === undefined) out.missed.push(i);
    else out.detected.push({ ...w, index: i, detectedMs: first });
    const next = windows[i + 1];
    if (next) out.falseMs.push(...times.filter((t) => t > w.endMs && t < next.startMs));
  });
  const last = windows[windows.length - 1]!;
  out.falseMs.push(...times.filter((t) => t > last.endMs));
  return out;
}

/** NAB's application profiles, SKAB's `table_of_coef` (A_tn is unused there, so left out). */
export const NAB_PROFILES = {
  standard: { aTp: 1, aFp: -0.11, aFn: -1 },
  lowFP: { aTp: 1, aFp: -0.22, aFn: -1 },
  lowFN: { aTp: 1, aFp: -0.11, aFn: -2 },
} as const;

export type NabProfile = keyof typeof NAB_PROFILES;

const DETAIL = 1000;

/**
 * The reward of a detection inside its window, SKAB's "improved" `my_scale` (clear-anomalies mode,
 * detalization 1000): a tanh from A_tp at the window's start down to A_fp at its end, sampled at
 * int(1000 * (detected - start) / (end - start)). A window cut to zero length scores its start.
 */
export function scaledReward(w: DetectionWindow & { detectedMs: number }, aTp: number, aFp: number, koef = 1): number {
  const span = w.endMs - w.startMs;
  const event = span > 0 ? Math.min(DETAIL - 1, Math.trunc(((w.detectedMs - w.startMs) / span) * DETAIL)) : 0;
  const x = -Math.PI / 2 + (event * Math.PI) / (DETAIL - 1);
  const half = (aTp - aFp) / 2;
  return (-half * Math.tanh(koef * x)) / Math.tanh((Math.PI * koef) / 2) + half + aFp;
}

export interface ChangepointSeries {
  /** True changepoints' times (the `changepoint` column's 1s in the scored rows). */
  changepointsMs: readonly number[];
  /** Predicted changepoints' times. */
  predictedMs: readonly number[];
}

export interface ChangepointScores {
  /** NAB per profile, 100 * (score - null) / (perfect - null), pooled over files. */
  nab: Record<NabProfile, number>;
  changepoints: number;
  /** True changepoints whose window holds no prediction (`average_time`'s "missed CPs"). */
  missed: number;
  /** Predicted changepoints outside every window (`average_time`'s "FPs"). */
  falsePositives: number;
  /** Mean of detected - window start over detected windows (`average_time`, righter); null if none. */
  meanDelayMs: number | null;
}

export interface ChangepointOptions {
  windowMs: number;
  placement?: WindowPlacement;
  /** `scale_koef`: 1 in SKAB. */
  koef?: number;
}

/** `chp_score(metric="nab")` and `chp_score(metric="average_time")` over all files. */
export function changepointScores(files: readonly ChangepointSeries[], options: ChangepointOptions): ChangepointScores {
  const profiles = Object.keys(NAB_PROFILES) as NabProfile[];
  type Sums = { score: number; nil: number; perfect: number };
  const raw = Object.fromEntries(profiles.map((p) => [p, { score: 0, nil: 0, perfect: 0 }])) as Record<NabProfile, Sums>;
  let changepoints = 0;
  let missed = 0;
  let falsePositives = 0;
  const delays: number[] = [];
  for (const file of files) {
    const windows = detectionWindows(file.changepointsMs, options.windowMs, options.placement ?? 'righter');
    const c = changepointConfusion(windows, file.predictedMs);
    changepoints += windows.length;
    missed += c.missed.length;
    falsePositives += c.falseMs.length;
    for (const d of c.detected) delays.push(delayOf(d, options.placement ?? 'righter'));
    for (const p of profiles) {
      const { aTp, aFp, aFn } = NAB_PROFILES[p];
      raw[p].score += aFp * c.falseMs.length + aFn * c.missed.length + c.detected.reduce((s, d) => s + scaledReward(d, aTp, aFp, options.koef ?? 1), 0);
      raw[p].nil += windows.length * aFn;
      raw[p].perfect += windows.length * aTp;
    }
  }
  const normalized = ({ score, nil, perfect }: Sums) => (perfect === nil ? Number.NaN : (100 * (score - nil)) / (perfect - nil));
  const nab = Object.fromEntries(profiles.map((p) => [p, normalized(raw[p])])) as Record<NabProfile, number>;
  const meanDelayMs = delays.length === 0 ? null : delays.reduce((a, b) => a + b, 0) / delays.length;
  return { nab, changepoints, missed, falsePositives, meanDelayMs };
}

/** `single_average_delay`'s `average_time` per placement. */
function delayOf(d: DetectionWindow & { detectedMs: number }, placement: WindowPlacement): number {
  if (placement === 'righter') return d.detectedMs - d.startMs;
  if (placement === 'lefter') return d.endMs - d.detectedMs;
  return d.detectedMs - (d.startMs + (d.endMs - d.startMs) / 2);
}

// ---------------------------------------------------------------------------------------------
// The published leaderboard

export interface LeaderboardOutlier {
  algorithm: string;
  f1: number;
  farPct: number;
  marPct: number;
}

export interface LeaderboardChangepoint {
  algorithm: string;
  nab: Record<NabProfile, number>;
  missed: number;
  falsePositives: number;
}

/**
 * SKAB's README, "2. Strict Leaderboard" (test part of each file only, detection windows to the
 * right of each changepoint, 30 s), as stored by the code search index (waico/SKAB README with the
 * "1. Proposed" and "2. Strict" leaderboards; the README of commit 80bac4a has only the older
 * tables). Its figures as printed; two typos read as meant ("69,05" is 69.05, "0,99" is 0.99).
 * All detectors see all eight SKAB columns. 127 changepoints lie in the scored rows.
 */
export const SKAB_LEADERBOARD = {
  source: 'waico/SKAB README, "2. Strict Leaderboard": test part only, detection windows of 30 s right of each changepoint',
  outliers: [
    { algorithm: 'Conv-AE', f1: 0.78, farPct: 13.55, marPct: 28.02 },
    { algorithm: 'MSET', f1: 0.78, farPct: 39.73, marPct: 14.13 },
    { algorithm: 'T-squared+Q (PCA-based)', f1: 0.76, farPct: 26.62, marPct: 24.92 },
    { algorithm: 'LSTM-AE', f1: 0.74, farPct: 29.96, marPct: 25.92 },
    { algorithm: 'T-squared', f1: 0.66, farPct: 19.21, marPct: 42.6 },
    { algorithm: 'LSTM-VAE', f1: 0.56, farPct: 9.13, marPct: 55.03 },
    { algorithm: 'Vanilla LSTM', f1: 0.54, farPct: 12.54, marPct: 59.53 },
    { algorithm: 'MSCRED', f1: 0.4, farPct: 31.04, marPct: 69.05 },
    { algorithm: 'Vanilla AE', f1: 0.39, farPct: 2.59, marPct: 75.15 },
    { algorithm: 'Isolation forest', f1: 0.29, farPct: 2.56, marPct: 82.89 },
  ] satisfies LeaderboardOutlier[],
  changepoints: [
    { algorithm: 'LSTM-AE', nab: { standard: 17.44, lowFP: 13.28, lowFN: 20.03 }, missed: 76, falsePositives: 39 },
    { algorithm: 'Isolation forest', nab: { standard: 13.74, lowFP: 5.82, lowFN: 18.08 }, missed: 60, falsePositives: 74 },
    { algorithm: 'T-squared+Q (PCA-based)', nab: { standard: 13.57, lowFP: -0.22, lowFN: 19.55 }, missed: 67, falsePositives: 121 },
    { algorithm: 'T-squared', nab: { standard: 11.98, lowFP: 0.99, lowFN: 16.65 }, missed: 70, falsePositives: 106 },
    { algorithm: 'Conv-AE', nab: { standard: 10.69, lowFP: 8.35, lowFN: 12.38 }, missed: 82, falsePositives: 18 },
    { algorithm: 'Vanilla AE', nab: { standard: 5.95, lowFP: -0.91, lowFN: 8.69 }, missed: 101, falsePositives: 64 },
    { algorithm: 'Vanilla LSTM', nab: { standard: 3.83, lowFP: -14.95, lowFN: 10.95 }, missed: 79, falsePositives: 165 },
    { algorithm: 'MSET', nab: { standard: 2.26, lowFP: -2.19, lowFN: 4.92 }, missed: 90, falsePositives: 23 },
    { algorithm: 'MSCRED', nab: { standard: 1.28, lowFP: -54.72, lowFN: 22.99 }, missed: 19, falsePositives: 644 },
    { algorithm: 'ArimaFD', nab: { standard: 0.27, lowFP: -2.55, lowFN: 1.75 }, missed: 100, falsePositives: 40 },
  ] satisfies LeaderboardChangepoint[],
} as const;
