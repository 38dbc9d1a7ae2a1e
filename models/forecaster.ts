import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { PdmError } from '../lib/errors';

/**
 * The forecaster, pure: a linear map from a machine's last L windows to its next H windows, of
 * the NLinear family (Zeng et al., "Are Transformers Effective for Time Series Forecasting?",
 * 2023): every lookback is shifted by its own last value and divided by a per-channel scale, a
 * ridge regression maps it (with an optional calendar one-hot) to the next H windows in the same
 * units, and the shift and scale are undone. Prediction intervals come from held-out residual
 * quantiles per horizon step and channel, in the same scaled units, so they widen with the
 * machine's own variability.
 *
 * `predict` is the reference the ONNX graph (onnx/graphs.ts) must reproduce.
 */

export type Scaling = 'global' | 'instance';

export interface ForecasterParams {
  lookback: number;
  horizon: number;
  channels: number;
  scaling: Scaling;
  /** Per channel: the global scale (scaling global) or the floor added to the lookback's own spread (instance). */
  scale: number[];
  /** Length of the calendar input (0: none; 31: hour-of-day and day-of-week one-hots). */
  calendar: number;
  /** 0: the forecast is anchored on the last value (NLinear); P: on the value P windows before each target (seasonal naive). */
  period: number;
  /** The ridge penalty chosen. */
  ridge: number;
  /** Row-major [lookback * channels + calendar + 1, horizon * channels]; the last row is the intercept. */
  weights: Float64Array;
  /** Residual quantiles in scaled units, [horizon * channels] each. */
  lowerQuantile: Float64Array;
  upperQuantile: Float64Array;
}

export interface ForecastSample {
  /** Row-major [L x C]. */
  x: Float64Array;
  /** Row-major [H x C] (training and evaluation only). */
  y?: Float64Array;
  /** [calendar] one-hot, or empty. */
  calendar: Float64Array;
}

export const CALENDAR_LENGTH = 31;

/** Hour-of-day (24) and day-of-week (7) one-hots of a time (UTC): the shift plan's clock. */
export function calendarOneHot(timeMs: number): Float64Array {
  const out = new Float64Array(CALENDAR_LENGTH);
  const date = new Date(timeMs);
  out[date.getUTCHours()] = 1;
  out[24 + date.getUTCDay()] = 1;
  return out;
}

/** Shift (the last value) and scale of every channel of one lookback. */
export function shiftAndScale(x: Float64Array, lookback: number, channels: number, scaling: Scaling, scale: readonly number[]): { shift: Float64Array; scale: Float64Array } {
  const shift = new Float64Array(channels);
  const out = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    shift[c] = x[(lookback - 1) * channels + c]!;
    if (scaling === 'global') {
      out[c] = scale[c]!;
      continue;
    }
    let mean = 0;
    for (let t = 0; t < lookback; t++) mean += x[t * channels + c]!;
    mean /= lookback;
    let variance = 0;
    for (let t = 0; t < lookback; t++) variance += (x[t * channels + c]! - mean) ** 2;
    variance /= lookback;
    out[c] = Math.sqrt(variance + scale[c]! * scale[c]!);
  }
  return { shift, scale: out };
}

/** What the regression's output is added to: the last value, or the seasonal naive value, per step and channel. */
export function anchorOf(x: Float64Array, lookback: number, channels: number, horizon: number, period: number): Float64Array {
  const out = new Float64Array(horizon * channels);
  for (let h = 0; h < horizon; h++) for (let c = 0; c < channels; c++) out[h * channels + c] = x[(period > 0 ? lookback - period + h : lookback - 1) * channels + c]!;
  return out;
}

/** The regression's input row: the shifted, scaled lookback, the calendar, and 1. */
function designRow(sample: ForecastSample, shift: Float64Array, scale: Float64Array, lookback: number, channels: number, calendar: number): Float64Array {
  const row = new Float64Array(lookback * channels + calendar + 1);
  for (let t = 0; t < lookback; t++) for (let c = 0; c < channels; c++) row[t * channels + c] = (sample.x[t * channels + c]! - shift[c]!) / scale[c]!;
  for (let k = 0; k < calendar; k++) row[lookback * channels + k] = sample.calendar[k] ?? 0;
  row[row.length - 1] = 1;
  return row;
}

export interface FitOptions {
  lookback: number;
  horizon: number;
  channels: number;
  scaling: Scaling;
  calendar: boolean;
  /** Anchor the forecast on the seasonal naive value of this period (0: on the last value). */
  period: number;
  /** Ridge penalty, relative to the mean diagonal of X'X; several: the best on the calibration split. */
  ridge: number | number[];
  /** Per-channel standard deviation of the training data (the global scale, and 5 % of it the instance floor). */
  channelSd: number[];
  /** Two-sided coverage of the prediction interval, e.g. 0.9. */
  coverage: number;
}

/** Fits the weights by ridge least squares on `train`, then the interval quantiles on `calibrate`. */
export function fitForecaster(train: readonly ForecastSample[], calibrate: readonly ForecastSample[], options: FitOptions): ForecasterParams {
  const { lookback, horizon, channels, scaling, period } = options;
  if (period > 0 && (period < horizon || period > lookback)) throw new PdmError('USAGE', `the seasonal period ${period} must lie between the horizon ${horizon} and the lookback ${lookback}`);
  const calendar = options.calendar ? CALENDAR_LENGTH : 0;
  const scale = options.channelSd.map((sd) => Math.fround((scaling === 'global' ? sd : 0.05 * sd) || 1e-9));
  const width = lookback * channels + calendar + 1;
  const outputs = horizon * channels;
  const X = new Matrix(train.length, width);
  const Y = new Matrix(train.length, outputs);
  train.forEach((sample, i) => {
    const ss = shiftAndScale(sample.x, lookback, channels, scaling, scale);
    X.setRow(i, Array.from(designRow(sample, ss.shift, ss.scale, lookback, channels, calendar)));
    const anchor = anchorOf(sample.x, lookback, channels, horizon, period);
    const target = new Array<number>(outputs);
    for (let j = 0; j < outputs; j++) target[j] = (sample.y![j]! - anchor[j]!) / ss.scale[j % channels]!;
    Y.setRow(i, target);
  });
  const Xt = X.transpose();
  const XtX = Xt.mmul(X);
  const XtY = Xt.mmul(Y);
  let trace = 0;
  for (let j = 0; j < width; j++) trace += XtX.get(j, j);
  // Every weight is shrunk, the intercept too: a large penalty tends to the anchor itself (the
  // seasonal naive forecast), so the fit can only improve on it where the data says so. The
  // penalty is chosen on the calibration split.
  const solve = (ridge: number) => {
    const A = XtX.clone();
    const penalty = (ridge * trace) / width;
    for (let j = 0; j < width; j++) A.set(j, j, A.get(j, j) + penalty);
    return Float64Array.from(new CholeskyDecomposition(A).solve(XtY).to1DArray(), Math.fround);
  };
  const ridges = Array.isArray(options.ridge) ? options.ridge : [options.ridge];
  let best: { ridge: number; weights: Float64Array; error: number } | null = null;
  for (const ridge of ridges) {
    const weights = solve(ridge);
    const candidate: ForecasterParams = { lookback, horizon, channels, scaling, scale, calendar, period, weights, ridge, lowerQuantile: new Float64Array(outputs), upperQuantile: new Float64Array(outputs) };
    let error = 0;
    for (const sample of calibrate) {
      const { mean, scale: s } = predictScaled(candidate, sample);
      for (let j = 0; j < outputs; j++) error += Math.abs(sample.y![j]! - mean[j]!) / s[j % channels]!;
    }
    if (!best || error < best.error) best = { ridge, weights, error };
  }
  const weights = best!.weights;

  const partial: ForecasterParams = { lookback, horizon, channels, scaling, scale, calendar, period, weights, ridge: best!.ridge, lowerQuantile: new Float64Array(outputs), upperQuantile: new Float64Array(outputs) };
  const residuals: number[][] = Array.from({ length: outputs }, () => []);
  for (const sample of calibrate) {
    const { mean, scale: s } = predictScaled(partial, sample);
    for (let j = 0; j < outputs; j++) residuals[j]!.push((sample.y![j]! - mean[j]!) / s[j % channels]!);
  }
  const alpha = (1 - options.coverage) / 2;
  for (let j = 0; j < outputs; j++) {
    partial.lowerQuantile[j] = Math.fround(quantile(residuals[j]!, alpha));
    partial.upperQuantile[j] = Math.fround(quantile(residuals[j]!, 1 - alpha));
  }
  return partial;
}

function predictScaled(params: ForecasterParams, sample: ForecastSample): { mean: Float64Array; scale: Float64Array } {
  const { lookback, horizon, channels, calendar } = params;
  const ss = shiftAndScale(sample.x, lookback, channels, params.scaling, params.scale);
  const row = designRow(sample, ss.shift, ss.scale, lookback, channels, calendar);
  const outputs = horizon * channels;
  const anchor = anchorOf(sample.x, lookback, channels, horizon, params.period);
  const mean = new Float64Array(outputs);
  for (let j = 0; j < outputs; j++) {
    let sum = 0;
    for (let i = 0; i < row.length; i++) sum += row[i]! * params.weights[i * outputs + j]!;
    mean[j] = sum * ss.scale[j % channels]! + anchor[j]!;
  }
  return { mean, scale: ss.scale };
}

export interface Forecast {
  /** Row-major [H x C]. */
  mean: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
}

export function predict(params: ForecasterParams, sample: ForecastSample): Forecast {
  const { mean, scale } = predictScaled(params, sample);
  const lower = new Float64Array(mean.length);
  const upper = new Float64Array(mean.length);
  for (let j = 0; j < mean.length; j++) {
    const s = scale[j % params.channels]!;
    lower[j] = mean[j]! + s * params.lowerQuantile[j]!;
    upper[j] = mean[j]! + s * params.upperQuantile[j]!;
  }
  return { mean, lower, upper };
}

/** The naive baselines: the last value repeated, and the value one season (period windows) earlier. */
export function lastValueForecast(x: Float64Array, lookback: number, channels: number, horizon: number): Float64Array {
  const out = new Float64Array(horizon * channels);
  for (let h = 0; h < horizon; h++) for (let c = 0; c < channels; c++) out[h * channels + c] = x[(lookback - 1) * channels + c]!;
  return out;
}

/** Seasonal naive: step h repeats the window `period` before it (period must be at least H and at most L). */
export function seasonalNaiveForecast(x: Float64Array, lookback: number, channels: number, horizon: number, period: number): Float64Array {
  const out = new Float64Array(horizon * channels);
  for (let h = 0; h < horizon; h++) for (let c = 0; c < channels; c++) out[h * channels + c] = x[(lookback - period + h) * channels + c]!;
  return out;
}

/** Mean absolute error per horizon step and channel, [H x C], over samples with targets. */
export function maeByStep(predictions: readonly Float64Array[], targets: readonly Float64Array[], horizon: number, channels: number): Float64Array {
  const sums = new Float64Array(horizon * channels);
  predictions.forEach((p, i) => {
    const y = targets[i]!;
    for (let j = 0; j < sums.length; j++) sums[j]! += Math.abs(p[j]! - y[j]!);
  });
  for (let j = 0; j < sums.length; j++) sums[j]! /= Math.max(1, predictions.length);
  return sums;
}

/** Share of targets inside [lower, upper]. */
export function coverage(forecasts: readonly Forecast[], targets: readonly Float64Array[]): number {
  let inside = 0;
  let total = 0;
  forecasts.forEach((f, i) => {
    const y = targets[i]!;
    for (let j = 0; j < y.length; j++) {
      total++;
      if (y[j]! >= f.lower[j]! && y[j]! <= f.upper[j]!) inside++;
    }
  });
  return total === 0 ? 0 : inside / total;
}

/** Linear-interpolated quantile (type 7, as numpy's default). */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * Math.min(1, Math.max(0, p));
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

