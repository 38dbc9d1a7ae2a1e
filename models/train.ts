import { FEATURES, type WindowFeatures } from '../schemas';
import { alarmMetrics, calibrateThreshold, confusion, fitAnomaly, score, type AnomalyParams } from './anomaly';
import { CONTRACT, type Manifest } from './contract';
import { anomalySamples, channelMoments, forecastSamples, timeSplit, type TimedSample } from './dataset';
import { channelValue, toSeries, windowLengthOf, type Channel, type MachineSeries } from './features';
import { fitForecaster, lastValueForecast, maeByStep, predict, quantile, seasonalNaiveForecast, coverage, type ForecasterParams, type Scaling } from './forecaster';
import { inFaultDevelopment, touchedByFault, type TruthFault } from './events';
import { anomalyGraph, anomalySpec, forecasterGraph, forecasterSpec, type GraphSpec } from './onnx/graphs';
import { OPSET } from './onnx/builder';
import { PdmError } from '../lib/errors';

export { OPSET };

/**
 * The training job, pure: window features (and, when known, the ground truth of their faults) in;
 * fitted parameters, their ONNX bytes, manifests and metrics out. Writing folders and promoting
 * versions is the model store's business (store.ts); reading sources is data/'s.
 */

export interface ForecasterOptions {
  lookback: number;
  horizon: number;
  scaling: Scaling;
  calendar: boolean;
  period: number;
  ridge: number[];
  coverage: number;
  minObserved: number;
}

export interface AnomalyOptions {
  channels: Channel[];
  lookback: number;
  explained: number;
  limitQuantile: number;
  falseAlarmRate: number;
  consecutive: number;
  minObserved: number;
}

export interface TrainOptions {
  forecaster: ForecasterOptions;
  anomaly: AnomalyOptions;
  /** Shares of the time range for training and validation; the rest is the test split. */
  trainShare: number;
  validationShare: number;
  /** How the data was obtained, for the manifest (a command line, a file, a table). */
  source: string;
  names: { forecaster: string; anomaly: string };
  producerVersion: string;
}

export const FORECAST_CHANNELS: Channel[] = FEATURES.map((f) => `${f}.mean` as Channel);

/**
 * The detector's channels: the six means, and the current's maximum. An electrical fault raises
 * the current by a few percent and, more and more often, spikes it to 1.4-2.2 times its level for
 * a reading: the hourly mean barely moves, the hourly maximum does (models/README.md).
 */
export const DETECTOR_CHANNELS: Channel[] = [...FORECAST_CHANNELS, 'current.max'];

/** The shipped default's settings (models/README.md says why). */
export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  forecaster: { lookback: 168, horizon: 6, scaling: 'instance', calendar: true, period: 168, ridge: [0.001, 0.01, 0.1, 1, 10000], coverage: 0.9, minObserved: 0.75 },
  anomaly: { channels: DETECTOR_CHANNELS, lookback: 1, explained: 0.99, limitQuantile: 0.99, falseAlarmRate: 0.001, consecutive: 3, minObserved: 0.5 },
  trainShare: 0.7,
  validationShare: 0.15,
  source: 'unknown',
  names: { forecaster: 'pdm-forecaster', anomaly: 'pdm-anomaly' },
  producerVersion: '0.1.0',
};

/** Channels that are log-transformed by the detector: current and vibration scale with the machine. */
export const logChannel = (c: Channel): number => (c.startsWith('temp') ? 0 : 1);

export interface Candidate {
  kind: 'forecaster' | 'anomaly';
  onnx: Uint8Array;
  /** The manifest without version and checksum (the store sets them). */
  manifest: Omit<Manifest, 'version' | 'onnx'>;
  /** Validation samples, for comparing this candidate with the current version on the same data. */
  validation: TimedSample[];
  params: ForecasterParams | AnomalyParams;
}

export interface TrainResult {
  windowMs: number;
  fromMs: number;
  toMs: number;
  forecaster: Candidate;
  anomaly: Candidate;
}

const round = (v: number, digits = 6) => Number(v.toPrecision(digits));
const roundAll = (values: ArrayLike<number>, digits = 6) => Array.from(values, (v) => round(v, digits));

/** Per step: the mean over channels of MAE divided by the channel's spread (comparable across channels). */
export function scaledMaeByStep(mae: Float64Array, horizon: number, sd: readonly number[]): number[] {
  const channels = sd.length;
  const out: number[] = [];
  for (let h = 0; h < horizon; h++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += mae[h * channels + c]! / (sd[c]! || 1);
    out.push(sum / channels);
  }
  return out;
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

function dataRange(windows: readonly WindowFeatures[]): { fromMs: number; toMs: number; machines: number } {
  let fromMs = Infinity;
  let toMs = -Infinity;
  const machines = new Set<string>();
  for (const w of windows) {
    fromMs = Math.min(fromMs, w.windowStart);
    toMs = Math.max(toMs, w.windowEnd);
    machines.add(w.machineId);
  }
  return { fromMs, toMs, machines: machines.size };
}

/** Forecast metrics of the model's and the baselines' forecasts on samples: MAE per step and channel. */
export function forecastMetrics(samples: readonly TimedSample[], forecasts: ReadonlyArray<{ mean: Float64Array; lower: Float64Array; upper: Float64Array }>, o: { lookback: number; horizon: number; period: number }, sd: readonly number[]) {
  const C = sd.length;
  const targets = samples.map((s) => s.y!);
  const table = (predictions: Float64Array[]) => {
    const mae = maeByStep(predictions, targets, o.horizon, C);
    const perStep: Record<string, number[]> = {};
    FORECAST_CHANNELS.forEach((channel, c) => (perStep[channel] = Array.from({ length: o.horizon }, (_, h) => round(mae[h * C + c]!))));
    return { scaledMaePerStep: roundAll(scaledMaeByStep(mae, o.horizon, sd)), maePerStep: perStep };
  };
  const baselines: Record<string, ReturnType<typeof table>> = { lastValue: table(samples.map((s) => lastValueForecast(s.x, o.lookback, C, o.horizon))) };
  for (const period of [...new Set([24, 168, o.period])].filter((p) => p >= o.horizon && p <= o.lookback && p > 0)) {
    baselines[`seasonalNaive${period}`] = table(samples.map((s) => seasonalNaiveForecast(s.x, o.lookback, C, o.horizon, period)));
  }
  return { samples: samples.length, model: table(forecasts.map((f) => f.mean)), baselines, intervalCoverage: round(coverage(forecasts as never, targets), 4) };
}

/** What both models' training shares: the data and its truth, the window length, the split and the manifests' training data. */
interface TrainingRun {
  windows: readonly WindowFeatures[];
  truth: readonly TruthFault[] | null;
  windowMs: number;
  split: { validationFromMs: number; testFromMs: number };
  trainingData: Manifest['trainingData'];
  onStep?: (step: string) => void;
}

/** A model as train fits it: its parameters, validation samples and manifest (its ONNX bytes are made last). */
type Fitted<P> = Pick<Candidate, 'validation' | 'manifest'> & { params: P };

export function train(windows: readonly WindowFeatures[], truth: readonly TruthFault[] | null, options: TrainOptions, onStep?: (step: string) => void): TrainResult {
  if (windows.length === 0) throw new PdmError('MODEL_DATA', 'no window features to train on');
  const windowMs = windowLengthOf(windows);
  const range = dataRange(windows);
  const split = timeSplit(range.fromMs, range.toMs, options.trainShare, options.validationShare);
  const trainingData = { source: options.source, fromMs: range.fromMs, toMs: range.toMs, machines: range.machines, windows: windows.length, split };
  const run: TrainingRun = { windows, truth, windowMs, split, trainingData, onStep };
  const forecaster = trainForecaster(run, options.forecaster, options.names.forecaster);
  const anomaly = trainAnomaly(run, options.anomaly, options.names.anomaly);
  const meta = { producerVersion: options.producerVersion };
  return {
    windowMs,
    fromMs: range.fromMs,
    toMs: range.toMs,
    forecaster: { kind: 'forecaster', params: forecaster.params, validation: forecaster.validation, onnx: forecasterGraph(forecaster.params, { ...meta, name: options.names.forecaster }), manifest: forecaster.manifest },
    anomaly: { kind: 'anomaly', params: anomaly.params, validation: anomaly.validation, onnx: anomalyGraph(anomaly.params, { ...meta, name: options.names.anomaly }), manifest: anomaly.manifest },
  };
}

/** The forecaster: samples, the ridge fit, its metrics against the baselines, limits and manifest. */
function trainForecaster(run: TrainingRun, fo: ForecasterOptions, name: string): Fitted<ForecasterParams> {
  const { windows, truth, windowMs, split, trainingData, onStep } = run;
  onStep?.('forecaster: samples');
  const series = toSeries(windows, FORECAST_CHANNELS, windowMs);
  const trainSeries = clipSeries(series, split.validationFromMs);
  const moments = channelMoments(trainSeries, FORECAST_CHANNELS.length);
  const samples = forecastSamples(series, { lookback: fo.lookback, horizon: fo.horizon, minObserved: fo.minObserved, fallback: moments.mean });
  const horizonMs = fo.horizon * windowMs;
  const trainSet = samples.filter((s) => s.originMs + horizonMs <= split.validationFromMs);
  const validation = samples.filter((s) => s.originMs >= split.validationFromMs && s.originMs + horizonMs <= split.testFromMs);
  const test = samples.filter((s) => s.originMs >= split.testFromMs);
  if (trainSet.length < 10 || validation.length < 1) throw new PdmError('MODEL_DATA', `too little data for a lookback of ${fo.lookback} and a horizon of ${fo.horizon} windows: ${trainSet.length} training and ${validation.length} validation samples`);
  onStep?.(`forecaster: ridge fit on ${trainSet.length} samples`);
  const fParams = fitForecaster(trainSet, validation, { ...fo, channels: FORECAST_CHANNELS.length, channelSd: moments.sd });
  const fValidation = forecastMetrics(validation, validation.map((s) => predict(fParams, s)), fo, moments.sd);
  const fTest = test.length > 0 ? forecastMetrics(test, test.map((s) => predict(fParams, s)), fo, moments.sd) : null;
  const limits: Manifest['limits'] = {};
  FORECAST_CHANNELS.forEach((channel, c) => {
    const values = windows.filter((w) => w.windowEnd <= split.validationFromMs && !(truth && inFaultDevelopment(truth, w.machineId, w.windowEnd))).map((w) => channelValue(w, channel)).filter((v): v is number => v !== null);
    if (values.length > 0) limits[channel] = { lower: null, upper: round(quantile(values, 0.999) + 0.1 * moments.sd[c]!) };
  });
  const manifest = {
    contract: CONTRACT,
    name,
    kind: 'forecaster' as const,
    description: `Linear forecaster of the NLinear family: the next ${fo.horizon} windows of the six features' means from the last ${fo.lookback}, anchored on ${fo.period > 0 ? `the value ${fo.period} windows earlier (seasonal naive)` : 'the last value'}, ${fo.scaling} scaling, ${fo.calendar ? 'with' : 'without'} a calendar input, ridge ${fParams.ridge} (chosen on validation from ${fo.ridge.join(', ')}); ${Math.round(fo.coverage * 100)} % intervals from validation residual quantiles.`,
    windowMs,
    channels: FORECAST_CHANNELS,
    lookback: fo.lookback,
    horizon: fo.horizon,
    ...tensors(forecasterSpec(fParams)),
    missing: missingRule(moments.mean, fo.minObserved),
    calendar: fo.calendar ? { encoding: 'utc-hour-of-day-24+day-of-week-7' as const, of: 'first-forecast-window-start' as const } : null,
    normalization: { description: fo.scaling === 'instance' ? 'per lookback and channel: minus the last value, divided by sqrt(variance over the lookback + floor^2), floor = 5 % of the training spread' : 'per channel: minus the last value, divided by the training spread', channelMean: roundAll(moments.mean, 8), channelSd: roundAll(moments.sd, 8) },
    thresholds: { intervalCoverage: fo.coverage },
    limits,
    trainingData,
    metrics: { validationScaledMae: round(mean(fValidation.model.scaledMaePerStep)), validation: fValidation, test: fTest },
  };
  return { params: fParams, validation, manifest };
}

/** The anomaly detector, from normal operation only: samples, the PCA fit, its threshold, metrics and manifest. */
function trainAnomaly(run: TrainingRun, ao: AnomalyOptions, name: string): Fitted<AnomalyParams> {
  const { windows, truth, windowMs, split, trainingData, onStep } = run;
  onStep?.('anomaly: samples');
  const aSeries = toSeries(windows, ao.channels, windowMs);
  const aMoments = channelMoments(clipSeries(aSeries, split.validationFromMs), ao.channels.length);
  const aSamples = anomalySamples(aSeries, { lookback: ao.lookback, minObserved: ao.minObserved, fallback: aMoments.mean });
  const normal = (s: TimedSample) => !truth || !touchedByFault(truth, s.machineId, s.originMs, windowMs * ao.lookback);
  const aTrain = aSamples.filter((s) => s.originMs <= split.validationFromMs && normal(s));
  const aValidation = aSamples.filter((s) => s.originMs > split.validationFromMs && s.originMs <= split.testFromMs);
  const fitOptions = { lookback: ao.lookback, logChannels: ao.channels.map(logChannel), explained: ao.explained, limitQuantile: ao.limitQuantile };
  onStep?.(`anomaly: PCA on ${aTrain.length} normal windows`);
  let aParams = fitAnomaly(aTrain.map((s) => s.x), ao.channels.length, fitOptions);
  if (!truth) {
    // Unlabelled data may hold faults: drop what the first fit finds beyond its limits, fit again.
    const kept = aTrain.filter((s) => score(aParams, s.x).score <= 1);
    aParams = fitAnomaly(kept.map((s) => s.x), ao.channels.length, fitOptions);
  }
  aParams.threshold = round(calibrateThreshold(aParams, aValidation.filter(normal).map((s) => s.x), ao.falseAlarmRate), 6);
  const aMetrics = anomalyValidationMetrics(aParams, aValidation, truth);
  const manifest = {
    contract: CONTRACT,
    name,
    kind: 'anomaly' as const,
    description: `PCA T²+Q detector on ${ao.channels.join(', ')} (log of current and vibration channels), averaged over the last ${ao.lookback} window(s); ${aParams.k} components carry ${Math.round(ao.explained * 100)} % of normal variance; T² and Q limits at their ${ao.limitQuantile} training quantile; threshold for a ${ao.falseAlarmRate} false-alarm rate on validation windows.`,
    windowMs,
    channels: ao.channels,
    lookback: ao.lookback,
    horizon: 0,
    ...tensors(anomalySpec(aParams)),
    missing: missingRule(aMoments.mean, ao.minObserved),
    calendar: null,
    normalization: { description: 'mean over the lookback; log(max(v, 0) + offset) for current and vibration channels; standardised by the training mean and spread', channelMean: roundAll(aParams.mean, 8), channelSd: roundAll(aParams.sd, 8) },
    thresholds: { score: aParams.threshold, consecutive: ao.consecutive },
    limits: {},
    trainingData: { ...trainingData, windows: aTrain.length },
    metrics: { components: aParams.k, t2Limit: round(aParams.t2Limit), qLimit: round(aParams.qLimit), validation: aMetrics },
  };
  return { params: aParams, validation: aValidation, manifest };
}

/** Window-level validation figures of a detector: F1 against fault development when the truth is known, else the alarm rate. */
export function anomalyValidationMetrics(params: Pick<AnomalyParams, 'threshold'> & Partial<AnomalyParams>, samples: readonly TimedSample[], truth: readonly TruthFault[] | null, scores?: readonly number[]) {
  const s = scores ?? samples.map((x) => score(params as AnomalyParams, x.x).score);
  const alarms = s.map((v) => v > params.threshold);
  if (!truth) return { windows: samples.length, alarmRate: round(mean(alarms.map((a) => (a ? 1 : 0))), 4) };
  const labels = samples.map((x) => inFaultDevelopment(truth, x.machineId, x.originMs));
  const m = alarmMetrics(confusion(alarms, labels));
  return { windows: samples.length, positives: labels.filter(Boolean).length, f1: round(m.f1, 4), far: round(m.far, 4), mar: round(m.mar, 4) };
}

/** The graph's tensors as the manifest lists them; each output's role is its name, input x carries the values. */
function tensors(spec: GraphSpec): Pick<Manifest, 'inputs' | 'outputs'> {
  const role = (name: string) => name as Manifest['inputs'][number]['role'];
  const inputRole = (name: string) => (name === 'x' ? 'values' : name);
  return {
    inputs: spec.inputs.map((t) => ({ name: t.name, role: role(inputRole(t.name)), dtype: 'float32' as const, shape: t.shape })),
    outputs: spec.outputs.map((t) => ({ name: t.name, role: role(t.name), dtype: 'float32' as const, shape: t.shape })),
  };
}

function missingRule(fallback: number[], minObserved: number): Manifest['missing'] {
  return {
    rule: 'ffill-bfill-mean',
    description: 'The lookback is the L windows on the grid ending with the newest one. A missing window or null value takes the last observed value of its channel before it in the lookback; values before the first observation take the first observed one; a channel never observed takes `fallback`. `mask` is 1 where a value was observed, 0 where imputed.',
    fallback: roundAll(fallback, 8),
    minObserved,
  };
}

/** The part of each series before `toMs` (the training split's statistics). */
function clipSeries(series: readonly MachineSeries[], toMs: number): MachineSeries[] {
  return series.map((s) => ({ ...s, rows: s.rows.slice(0, Math.max(0, Math.floor((toMs - s.startMs) / s.windowMs))) }));
}

