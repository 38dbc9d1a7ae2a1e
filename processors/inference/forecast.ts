import type { IoPdmstreamV2 as AssessmentTypes } from '../../schemas/types/machine-assessment-v2';
import type { ForecastBreach } from './alerts';
import { featureOfChannel } from './baseline';
import type { Limit } from './limits';

/**
 * What a forecaster's output says about one machine, without I/O: the forecast series the
 * assessment carries (one per channel, an array over the steps), and for each bounded feature the earliest step at which it crosses its limit.
 */

export type ForecastSeries = AssessmentTypes.ForecastSeries;

/** The forecaster's outputs for one machine: [horizon * channels] each, step-major (`h * C + c`). */
export interface ForecastOutput {
  forecast: ArrayLike<number>;
  lower: ArrayLike<number>;
  upper: ArrayLike<number>;
}

export interface ForecastShape {
  channels: readonly string[];
  horizon: number;
  windowMs: number;
}

/** A channel's name on a forecast point: a window mean is its feature (`tempA.mean` is `tempA`), any other statistic keeps its name. */
export const forecastName = (channel: string): string => (channel.endsWith('.mean') ? featureOfChannel(channel) : channel);

const bounded = (l: Limit | undefined): l is Limit => l !== undefined && (l.lower !== null || l.upper !== null);

/** The features a forecaster can raise a breach on: those with a bounded channel among `limits`. */
export function boundedFeatures(channels: readonly string[], limits: Record<string, Limit>): string[] {
  return [...new Set(channels.filter((channel) => bounded(limits[channel])).map(featureOfChannel))];
}

/**
 * The first forecast step at which a feature crosses its limit: the point forecast, or failing
 * that the edge of its prediction interval (upper bound for an upper limit, lower for a lower).
 * `forecast`, `lower` and `upper` are [H] for one feature; step h covers the window starting at
 * `windowEndMs + h * windowMs`.
 */
export function firstBreach(
  feature: string,
  series: { forecast: ArrayLike<number>; lower: ArrayLike<number>; upper: ArrayLike<number> },
  limit: { lower: number | null; upper: number | null },
  windowEndMs: number,
  windowMs: number,
): ForecastBreach | undefined {
  for (let h = 0; h < series.forecast.length; h++) {
    const atMs = windowEndMs + h * windowMs;
    const point = series.forecast[h]!;
    if (limit.upper !== null && point > limit.upper) return { feature, atMs, value: point, limit: limit.upper, direction: 'above', pointCrosses: true };
    if (limit.lower !== null && point < limit.lower) return { feature, atMs, value: point, limit: limit.lower, direction: 'below', pointCrosses: true };
  }
  for (let h = 0; h < series.forecast.length; h++) {
    const atMs = windowEndMs + h * windowMs;
    if (limit.upper !== null && series.upper[h]! > limit.upper) return { feature, atMs, value: series.upper[h]!, limit: limit.upper, direction: 'above', pointCrosses: false };
    if (limit.lower !== null && series.lower[h]! < limit.lower) return { feature, atMs, value: series.lower[h]!, limit: limit.lower, direction: 'below', pointCrosses: false };
  }
  return undefined;
}

const namesOf = new WeakMap<readonly string[], string[]>();
/** `forecastName` of each channel, once per channel list (a deployed model's is one array for its life). */
function seriesNames(channels: readonly string[]): string[] {
  let names = namesOf.get(channels);
  if (!names) namesOf.set(channels, (names = channels.map(forecastName)));
  return names;
}

/**
 * One machine's forecast read against its limits: a series per channel (step h of each is the
 * window starting at `windowEndMs + h * windowMs`), and one breach per feature, the earliest among
 * its channels.
 */
export function interpretForecast(output: ForecastOutput, shape: ForecastShape, limits: Record<string, Limit>, windowEndMs: number): { breaches: ForecastBreach[]; series: ForecastSeries[] } {
  const { channels, horizon: H, windowMs } = shape;
  const C = channels.length;
  const breaches: ForecastBreach[] = [];
  const series: ForecastSeries[] = [];
  const names = seriesNames(channels);
  for (let c = 0; c < C; c++) {
    const channel = channels[c]!;
    const limit = limits[channel];
    const one = { mean: new Array<number>(H), lower: new Array<number>(H), upper: new Array<number>(H) };
    for (let h = 0; h < H; h++) {
      one.mean[h] = output.forecast[h * C + c]!;
      one.lower[h] = output.lower[h * C + c]!;
      one.upper[h] = output.upper[h * C + c]!;
    }
    series.push({ feature: names[c]!, ...one, limitLower: limit?.lower ?? null, limitUpper: limit?.upper ?? null });
    if (!bounded(limit)) continue;
    const breach = firstBreach(featureOfChannel(channel), { forecast: one.mean, lower: one.lower, upper: one.upper }, limit, windowEndMs, windowMs);
    if (!breach) continue;
    const existing = breaches.findIndex((b) => b.feature === breach.feature);
    if (existing < 0) breaches.push(breach);
    else if (breach.atMs < breaches[existing]!.atMs) breaches[existing] = breach;
  }
  return { breaches, series };
}
