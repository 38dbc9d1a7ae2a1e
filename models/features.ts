import { FEATURES, type Feature, type WindowFeatures } from '../schemas';

/**
 * From window features to model inputs, pure. Every model names its input channels as
 * `<feature>.<stat>` (`current.mean`, `accX.stddev`), takes the last L windows of one machine on
 * the window grid, and is told which values were missing through a mask. The inference processor
 * and the trainer build their tensors with the same functions, so they cannot disagree.
 */

export const STATS = ['mean', 'stddev', 'min', 'max'] as const;
export type Stat = (typeof STATS)[number];
export type Channel = `${Feature}.${Stat}`;

export const isChannel = (name: string): name is Channel => {
  const [feature, stat, ...rest] = name.split('.');
  return rest.length === 0 && (FEATURES as readonly string[]).includes(feature ?? '') && (STATS as readonly string[]).includes(stat ?? '');
};

/** The value of a channel in a window, or null when the window had none for that feature. */
export function channelValue(window: WindowFeatures, channel: Channel): number | null {
  const [feature, stat] = channel.split('.') as [Feature, Stat];
  const stats = window[feature];
  if (!stats || stats.count === 0) return null;
  const value = stats[stat];
  return value === null || value === undefined || !Number.isFinite(value) ? null : value;
}

/**
 * One machine's windows on the grid `startMs + i * windowMs`: `rows[i]` is the channel values of
 * that window (null where a value is missing), or null when the window is missing altogether (the
 * machine was down, or sent nothing).
 */
export interface MachineSeries {
  machineId: string;
  windowMs: number;
  startMs: number;
  rows: Array<Array<number | null> | null>;
}

/** Groups windows by machine onto each machine's grid, in time order. Duplicated windows: the last one wins. */
export function toSeries(windows: readonly WindowFeatures[], channels: readonly Channel[], windowMs: number): MachineSeries[] {
  const byMachine = new Map<string, WindowFeatures[]>();
  for (const w of windows) {
    if (w.windowEnd - w.windowStart !== windowMs) continue;
    let list = byMachine.get(w.machineId);
    if (!list) byMachine.set(w.machineId, (list = []));
    list.push(w);
  }
  const series: MachineSeries[] = [];
  for (const machineId of [...byMachine.keys()].sort()) {
    const list = byMachine.get(machineId)!.sort((a, b) => a.windowStart - b.windowStart);
    const startMs = list[0]!.windowStart;
    const length = Math.round((list[list.length - 1]!.windowStart - startMs) / windowMs) + 1;
    const rows: MachineSeries['rows'] = new Array(length).fill(null);
    for (const w of list) rows[Math.round((w.windowStart - startMs) / windowMs)] = channels.map((c) => channelValue(w, c));
    series.push({ machineId, windowMs, startMs, rows });
  }
  return series;
}

/** The most common window length of a set of windows (they should all have one). */
export function windowLengthOf(windows: readonly WindowFeatures[]): number {
  const counts = new Map<number, number>();
  for (const w of windows) counts.set(w.windowEnd - w.windowStart, (counts.get(w.windowEnd - w.windowStart) ?? 0) + 1);
  let best = 0;
  let bestCount = -1;
  for (const [length, count] of counts) if (count > bestCount) [best, bestCount] = [length, count];
  return best;
}

/**
 * The input of one lookback, as the model contract states it (manifest `missing.rule`
 * "ffill-bfill-mean"): a missing value takes the last observed value of the same channel before
 * it in the lookback; missing values before the first observation take the first one; a channel
 * with no observation at all takes `fallback` (the training mean). `mask` is 1 where observed.
 * Returns row-major [L x C] arrays.
 */
export function lookbackInput(rows: ReadonlyArray<ReadonlyArray<number | null> | null>, fallback: readonly number[]): { x: Float64Array; mask: Float64Array } {
  const channels = fallback.length;
  const values = new Float64Array(rows.length * channels).fill(Number.NaN);
  rows.forEach((row, t) => {
    for (let c = 0; c < channels; c++) values[t * channels + c] = row?.[c] ?? Number.NaN;
  });
  return lookbackInputFlat(values, fallback);
}

/**
 * `lookbackInput` over a flat [L x C] array, NaN where a value is missing: the inference
 * processor's path, which reads its history ring without building rows. The same fill.
 */
export function lookbackInputFlat(values: Float64Array, fallback: readonly number[]): { x: Float64Array; mask: Float64Array };
/** Into arrays of the caller's (the inference processor's float32 model inputs, as long as `values`). */
export function lookbackInputFlat<T extends Float32Array | Float64Array>(values: Float64Array, fallback: readonly number[], into: { x: T; mask: T }): { x: T; mask: T };
export function lookbackInputFlat(values: Float64Array, fallback: readonly number[], into?: { x: Float32Array | Float64Array; mask: Float32Array | Float64Array }) {
  const channels = fallback.length;
  const length = channels === 0 ? 0 : values.length / channels;
  const { x, mask } = into ?? { x: new Float64Array(length * channels), mask: new Float64Array(length * channels) };
  for (let c = 0; c < channels; c++) {
    let last = Number.NaN;
    let firstIndex = -1;
    for (let t = 0; t < length; t++) {
      const value = values[t * channels + c]!;
      if (!Number.isNaN(value)) {
        mask[t * channels + c] = 1;
        x[t * channels + c] = value;
        last = value;
        if (firstIndex < 0) firstIndex = t;
      } else if (!Number.isNaN(last)) {
        x[t * channels + c] = last;
      }
    }
    const lead = firstIndex < 0 ? fallback[c]! : x[firstIndex * channels + c]!;
    for (let t = 0; t < (firstIndex < 0 ? length : firstIndex); t++) x[t * channels + c] = lead;
  }
  return { x, mask };
}

/** Share of observed values in a mask. */
export const observedShare = (mask: Float32Array | Float64Array): number => {
  let sum = 0;
  for (let i = 0; i < mask.length; i++) sum += mask[i]!;
  return mask.length === 0 ? 0 : sum / mask.length;
};
