import type { AlertView, AssessmentPoint, FeatureStatsView, ForecastView, WindowView } from '../../api/schemas';
import { toMs } from './format';

/**
 * From the API's windows, forecast and assessments to the column arrays uPlot draws. Pure.
 *
 * Every chart of a machine shares one x axis: a regular grid of window starts (epoch seconds, as
 * uPlot's time scale wants) from the start of the range to the last forecast step. A window that
 * is missing (the machine was silent) is null in every series, so the line breaks there instead
 * of bridging the gap. A channel is absent from a window when its count is 0 or its mean null.
 */

/** The six channels every window has a column for, in the order the charts show them. */
export const BASE_CHANNELS = ['current', 'accX', 'accY', 'accZ', 'tempA', 'tempB'] as const;
type BaseChannel = (typeof BASE_CHANNELS)[number];

export const HOUR_MS = 3_600_000;
/** Most grid steps a chart draws; a range longer than this many windows is drawn from its windows alone. */
export const MAX_GRID = 20_000;

/** The channel part of a feature or driver name: `tempA.mean` → `tempA`, `pressure` → `pressure`. */
export const channelOf = (feature: string): string => feature.split('.')[0]!;

const isBase = (channel: string): channel is BaseChannel => (BASE_CHANNELS as readonly string[]).includes(channel);

/** A window's statistics of `channel`, or undefined when it has none. */
export function statsOf(window: WindowView, channel: string): FeatureStatsView | undefined {
  const stats = isBase(channel) ? window[channel] : window.extras[channel];
  return stats && stats.count > 0 && stats.mean !== null ? stats : undefined;
}

/** The channels that have a value in any of `windows`: the six first (those present), then the extras by name. */
export function channelsOf(windows: readonly WindowView[]): string[] {
  const present = new Set<string>();
  for (const w of windows) {
    for (const c of BASE_CHANNELS) if (statsOf(w, c)) present.add(c);
    for (const c of Object.keys(w.extras)) if (statsOf(w, c)) present.add(c);
  }
  const base = BASE_CHANNELS.filter((c) => present.has(c));
  const extras = [...present].filter((c) => !isBase(c)).sort();
  return [...base, ...extras];
}

/** The windows' length: the most common end − start, an hour when there are none. */
export function windowLengthMs(windows: readonly WindowView[]): number {
  const counts = new Map<number, number>();
  for (const w of windows) {
    const ms = Date.parse(w.windowEnd) - Date.parse(w.windowStart);
    if (ms > 0) counts.set(ms, (counts.get(ms) ?? 0) + 1);
  }
  let best = HOUR_MS;
  let most = 0;
  for (const [ms, n] of counts) if (n > most) [best, most] = [ms, n];
  return best;
}

/**
 * The x grid in epoch ms: every step of `stepMs` from `fromMs` (moved onto the windows' phase) up
 * to `toMs` exclusive, joined with the times given in `extra` (window and forecast starts), sorted
 * and without repeats.
 */
export function timeGrid(fromMs: number, toMs: number, stepMs: number, extra: readonly number[] = []): number[] {
  const times = new Set<number>(extra);
  const phase = extra.length > 0 ? ((extra[0]! % stepMs) + stepMs) % stepMs : 0;
  const first = Math.ceil((fromMs - phase) / stepMs) * stepMs + phase;
  if ((toMs - first) / stepMs <= MAX_GRID) for (let t = first; t < toMs; t += stepMs) times.add(t);
  return [...times].sort((a, b) => a - b);
}

export type Column = (number | null)[];

export interface ChannelSeries {
  /** Epoch seconds. */
  x: number[];
  mean: Column;
  min: Column;
  max: Column;
  /** The latest forecast of the channel's mean, joined to the last window's mean so the line continues. */
  forecast: Column;
  forecastLower: Column;
  forecastUpper: Column;
  /** The machine's limits for the channel across the whole chart; all null when it has none. */
  limitLower: Column;
  limitUpper: Column;
  /** Windows drawn (non-null means). */
  points: number;
  /** Forecast steps drawn. */
  forecastPoints: number;
}

/** The forecast points of `channel` (its mean's, or a statistic's such as `tempA.max` when that is all there is). */
function forecastOf(forecast: ForecastView | null, channel: string): ForecastView['points'] {
  if (!forecast) return [];
  const mine = forecast.points.filter((p) => channelOf(p.feature) === channel);
  const mean = mine.filter((p) => p.feature === channel || p.feature === `${channel}.mean`);
  if (mean.length > 0) return mean;
  const first = mine[0]?.feature;
  return mine.filter((p) => p.feature === first);
}

/** A column over `grid` (ms) with `value(t)` where it is defined, null elsewhere. */
const column = (grid: readonly number[], value: (t: number) => number | null | undefined): Column => grid.map((t) => value(t) ?? null);

export function channelSeries(windows: readonly WindowView[], channel: string, grid: readonly number[], forecast: ForecastView | null): ChannelSeries {
  const byStart = new Map<number, FeatureStatsView>();
  const madeAtMs = toMs(forecast?.madeAt);
  // The forecast starts where the window it was made on ends: joined to that window's mean, it reads as a continuation.
  let joinAt: { startMs: number; mean: number } | undefined;
  for (const w of windows) {
    const stats = statsOf(w, channel);
    if (!stats) continue;
    const start = Date.parse(w.windowStart);
    byStart.set(start, stats);
    if (Date.parse(w.windowEnd) === madeAtMs) joinAt = { startMs: start, mean: stats.mean! };
  }
  const steps = forecastOf(forecast, channel);
  const stepAt = new Map(steps.map((p) => [Date.parse(p.windowStart), p]));
  const joined = (t: number, pick: (p: ForecastView['points'][number]) => number) => {
    const step = stepAt.get(t);
    if (step) return pick(step);
    return steps.length > 0 && t === joinAt?.startMs ? joinAt.mean : null;
  };
  // The limits of any of the channel's forecast features: a limit on tempA.max is still a line on tempA's chart.
  const withLimits = (forecast?.points ?? []).filter((p) => channelOf(p.feature) === channel);
  const limitLower = withLimits.find((p) => p.limitLower !== null)?.limitLower ?? null;
  const limitUpper = withLimits.find((p) => p.limitUpper !== null)?.limitUpper ?? null;
  const mean = column(grid, (t) => byStart.get(t)?.mean);
  return {
    x: grid.map((t) => t / 1000),
    mean,
    min: column(grid, (t) => byStart.get(t)?.min),
    max: column(grid, (t) => byStart.get(t)?.max),
    forecast: column(grid, (t) => joined(t, (p) => p.mean)),
    forecastLower: column(grid, (t) => joined(t, (p) => p.lower)),
    forecastUpper: column(grid, (t) => joined(t, (p) => p.upper)),
    limitLower: grid.map(() => limitLower),
    limitUpper: grid.map(() => limitUpper),
    points: mean.filter((v) => v !== null).length,
    forecastPoints: grid.filter((t) => stepAt.has(t)).length,
  };
}

export interface ScoreSeries {
  x: number[];
  score: Column;
  threshold: Column;
  points: number;
}

/** One score of the assessments (anomaly or deviation) and its threshold over `grid`. */
export function scoreSeries(assessments: readonly AssessmentPoint[], which: 'anomaly' | 'deviation', grid: readonly number[]): ScoreSeries {
  const byStart = new Map<number, { score: number; threshold: number }>();
  for (const a of assessments) {
    const s = a[which];
    if (s) byStart.set(Date.parse(a.windowStart), s);
  }
  const score = column(grid, (t) => byStart.get(t)?.score);
  return { x: grid.map((t) => t / 1000), score, threshold: column(grid, (t) => byStart.get(t)?.threshold), points: score.filter((v) => v !== null).length };
}

/** The grid of a machine's charts: its range, every window and assessment start in it, and the forecast steps after it. */
export function machineGrid(input: {
  fromMs: number;
  toMs: number;
  windowMs: number;
  windows: readonly WindowView[];
  assessments: readonly AssessmentPoint[];
  forecast: ForecastView | null;
}): number[] {
  const { fromMs, toMs, windowMs } = input;
  const inRange = (t: number) => t >= fromMs && t < toMs;
  const starts = [...input.windows.map((w) => Date.parse(w.windowStart)), ...input.assessments.map((a) => Date.parse(a.windowStart))].filter(inRange);
  const forecast = (input.forecast?.points ?? []).map((p) => Date.parse(p.windowStart)).filter((t) => t >= fromMs);
  const end = Math.max(toMs, ...forecast.map((t) => t + windowMs));
  return timeGrid(fromMs, end, windowMs, [...starts, ...forecast]);
}

export interface AlertMarker {
  alertId: string;
  /** Epoch seconds: the start of the window the transition was decided on, so it sits on that window's point. */
  x: number;
  status: string;
  severity: string;
  kind: string;
  /** The channel the alert is about, when it names one. */
  channel: string | null;
}

/** The alert transitions inside [fromMs, endMs) as chart markers, oldest first. */
export function alertMarkers(alerts: readonly AlertView[], windowMs: number, fromMs: number, endMs: number): AlertMarker[] {
  return alerts
    .map((a) => ({ a, t: (toMs(a.windowEnd) ?? 0) - windowMs }))
    .filter(({ t }) => t >= fromMs && t < endMs)
    .sort((p, q) => p.t - q.t)
    .map(({ a, t }) => ({
      alertId: a.alertId,
      x: t / 1000,
      status: a.status,
      severity: a.severity,
      kind: a.kind,
      channel: a.feature ? channelOf(a.feature) : null,
    }));
}
