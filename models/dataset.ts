import { calendarOneHot, type ForecastSample } from './forecaster';
import { lookbackInput, observedShare, type MachineSeries } from './features';

/**
 * Training samples from machine series, pure. A forecast sample is the lookback ending at one
 * window and the H windows after it; an anomaly sample is a lookback alone. Samples keep the
 * machine and the time of the first forecast window, which splits and labels use.
 */

export interface TimedSample extends ForecastSample {
  machineId: string;
  /** Start of the first window after the lookback (the forecast origin). */
  originMs: number;
  mask: Float64Array;
}

export interface SampleOptions {
  lookback: number;
  horizon: number;
  /** Lookbacks with a smaller share of observed values are skipped. */
  minObserved: number;
  /** Training means, for channels never observed in a lookback. */
  fallback: number[];
  /** Take every stride-th origin (1: all). */
  stride?: number;
}

/** Lookbacks followed by H complete windows (every target value observed). */
export function forecastSamples(series: readonly MachineSeries[], options: SampleOptions): TimedSample[] {
  const samples: TimedSample[] = [];
  const { lookback, horizon } = options;
  for (const s of series) {
    const channels = options.fallback.length;
    for (let origin = lookback; origin + horizon <= s.rows.length; origin += options.stride ?? 1) {
      const target = s.rows.slice(origin, origin + horizon);
      if (target.some((row) => row === null || row.some((v) => v === null))) continue;
      const { x, mask } = lookbackInput(s.rows.slice(origin - lookback, origin), options.fallback);
      if (observedShare(mask) < options.minObserved || s.rows[origin - 1] === null) continue;
      const y = new Float64Array(horizon * channels);
      target.forEach((row, h) => row!.forEach((v, c) => (y[h * channels + c] = v!)));
      const originMs = s.startMs + origin * s.windowMs;
      samples.push({ machineId: s.machineId, originMs, x, y, mask, calendar: calendarOneHot(originMs) });
    }
  }
  return samples;
}

/** Lookbacks ending at every present window (the window scored is the last one). */
export function anomalySamples(series: readonly MachineSeries[], options: Omit<SampleOptions, 'horizon'>): TimedSample[] {
  const samples: TimedSample[] = [];
  for (const s of series) {
    for (let end = 0; end < s.rows.length; end += options.stride ?? 1) {
      if (s.rows[end] === null) continue;
      const rows = s.rows.slice(Math.max(0, end - options.lookback + 1), end + 1);
      while (rows.length < options.lookback) rows.unshift(null);
      const { x, mask } = lookbackInput(rows, options.fallback);
      if (observedShare(mask) < options.minObserved) continue;
      // For an anomaly sample the "origin" is the end of the scored window.
      samples.push({ machineId: s.machineId, originMs: s.startMs + (end + 1) * s.windowMs, x, mask, calendar: new Float64Array(0) });
    }
  }
  return samples;
}

/** Per-channel mean and standard deviation of every observed value. */
export function channelMoments(series: readonly MachineSeries[], channels: number): { mean: number[]; sd: number[] } {
  const sum = new Array<number>(channels).fill(0);
  const sum2 = new Array<number>(channels).fill(0);
  const n = new Array<number>(channels).fill(0);
  for (const s of series)
    for (const row of s.rows) {
      if (!row) continue;
      row.forEach((v, c) => {
        if (v === null) return;
        sum[c]! += v;
        sum2[c]! += v * v;
        n[c]!++;
      });
    }
  const mean = sum.map((s, c) => (n[c]! > 0 ? s / n[c]! : 0));
  const sd = sum2.map((s2, c) => (n[c]! > 1 ? Math.sqrt(Math.max(0, s2 / n[c]! - mean[c]! ** 2)) : 1));
  return { mean, sd };
}

/** Time cut points: the first `train` share of the time range trains, the next `validation` share validates, the rest tests. */
export function timeSplit(fromMs: number, toMs: number, train: number, validation: number): { validationFromMs: number; testFromMs: number } {
  const span = toMs - fromMs;
  return { validationFromMs: fromMs + Math.round(span * train), testFromMs: fromMs + Math.round(span * (train + validation)) };
}
