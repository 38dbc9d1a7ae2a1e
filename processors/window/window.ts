import { FEATURES, type Feature, type FeatureStats, type SensorReading, type WindowFeatures } from '../../schemas';

/**
 * The windowing rule, pure: tumbling event-time windows per machine, closed by stream time plus
 * grace (Kafka Streams' `TimeWindows.ofSizeAndGrace`). No I/O, no clock: the processor feeds
 * readings and, for idle partitions, an explicit close.
 *
 * - A reading belongs to [start, start + size) with start = floor(timestamp / size) * size.
 * - Stream time is the highest event time seen on the partition.
 * - A window closes when stream time reaches its end plus grace; only then is it emitted, once.
 * - A reading whose window has closed is late: it is returned as such, never silently dropped.
 * - A second reading of the same machine and timestamp is a duplicate and counts once.
 * - Null features are skipped and counted (count of the window minus count of the feature).
 * - Extra channels (`extras`) get the same statistics, by name; a channel named only with nulls
 *   is in the window with count 0.
 */

export interface WindowConfig {
  sizeMs: number;
  graceMs: number;
}

/** Welford's running moments: stable for long windows, exact enough to match a two-pass mean. */
export interface FeatureAggregate {
  n: number;
  mean: number;
  m2: number;
  min: number;
  max: number;
}

export interface OpenWindow {
  machineId: string;
  windowStartMs: number;
  windowEndMs: number;
  count: number;
  features: Record<Feature, FeatureAggregate>;
  /** Extra channels by name, in the order they first appeared. */
  extras: Map<string, FeatureAggregate>;
  /** Event times already counted, ascending: duplicates are found by binary search. */
  timestamps: number[];
}

export interface PartitionWindows {
  streamTimeMs: number;
  open: Map<string, OpenWindow>;
}

export type ReadingOutcome = 'added' | 'duplicate' | 'late';

export const emptyPartition = (): PartitionWindows => ({ streamTimeMs: Number.NEGATIVE_INFINITY, open: new Map() });

export function windowStartOf(timestampMs: number, sizeMs: number): number {
  return Math.floor(timestampMs / sizeMs) * sizeMs;
}

export const windowKey = (machineId: string, windowStartMs: number): string => `${machineId}\u0000${windowStartMs}`;

const emptyAggregate = (): FeatureAggregate => ({ n: 0, mean: 0, m2: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY });

function addValue(agg: FeatureAggregate, value: number): void {
  agg.n += 1;
  const delta = value - agg.mean;
  agg.mean += delta / agg.n;
  agg.m2 += delta * (value - agg.mean);
  if (value < agg.min) agg.min = value;
  if (value > agg.max) agg.max = value;
}

/** Inserts `t` into the ascending array unless present; false when it was a duplicate. */
function insertTimestamp(sorted: number[], t: number): boolean {
  const last = sorted[sorted.length - 1];
  if (last === undefined || t > last) {
    sorted.push(t);
    return true;
  }
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! < t) low = mid + 1;
    else high = mid;
  }
  if (sorted[low] === t) return false;
  sorted.splice(low, 0, t);
  return true;
}

export function featureStats(agg: FeatureAggregate): FeatureStats {
  if (agg.n === 0) return { count: 0, mean: null, min: null, max: null, stddev: null };
  return { count: agg.n, mean: agg.mean, min: agg.min, max: agg.max, stddev: Math.sqrt(Math.max(0, agg.m2 / agg.n)) };
}

export function finalize(window: OpenWindow): WindowFeatures {
  const result = { machineId: window.machineId, windowStart: window.windowStartMs, windowEnd: window.windowEndMs, count: window.count } as WindowFeatures;
  for (const feature of FEATURES) result[feature] = featureStats(window.features[feature]);
  result.extras = {};
  for (const [name, agg] of window.extras) result.extras[name] = featureStats(agg);
  return result;
}

/** Removes and returns every window whose end plus grace stream time has reached, oldest first. */
function closeDue(state: PartitionWindows, config: WindowConfig): WindowFeatures[] {
  const due: OpenWindow[] = [];
  for (const [key, window] of state.open) {
    if (window.windowEndMs + config.graceMs <= state.streamTimeMs) {
      due.push(window);
      state.open.delete(key);
    }
  }
  return due.sort((a, b) => a.windowEndMs - b.windowEndMs || (a.machineId < b.machineId ? -1 : 1)).map(finalize);
}

/**
 * Applies one reading to a partition's windows (mutating `state`, which the processor owns) and
 * returns what happened to it and the windows that closed because stream time moved.
 */
export function processReading(state: PartitionWindows, reading: SensorReading, config: WindowConfig): { outcome: ReadingOutcome; closed: WindowFeatures[] } {
  const windowStartMs = windowStartOf(reading.timestamp, config.sizeMs);
  const windowEndMs = windowStartMs + config.sizeMs;
  if (windowEndMs + config.graceMs <= state.streamTimeMs) return { outcome: 'late', closed: [] };

  const key = windowKey(reading.machineId, windowStartMs);
  let window = state.open.get(key);
  if (!window) {
    const features = {} as Record<Feature, FeatureAggregate>;
    for (const feature of FEATURES) features[feature] = emptyAggregate();
    window = { machineId: reading.machineId, windowStartMs, windowEndMs, count: 0, features, extras: new Map(), timestamps: [] };
    state.open.set(key, window);
  }
  let outcome: ReadingOutcome = 'duplicate';
  if (insertTimestamp(window.timestamps, reading.timestamp)) {
    outcome = 'added';
    window.count += 1;
    for (const feature of FEATURES) {
      const value = reading[feature];
      if (value !== null) addValue(window.features[feature], value);
    }
    for (const [name, value] of Object.entries(reading.extras)) {
      let agg = window.extras.get(name);
      if (!agg) window.extras.set(name, (agg = emptyAggregate()));
      if (value !== null) addValue(agg, value);
    }
  }
  if (reading.timestamp > state.streamTimeMs) state.streamTimeMs = reading.timestamp;
  return { outcome, closed: closeDue(state, config) };
}

/**
 * The partition has been idle for the wall-clock timeout: close every open window now, so a
 * machine that stopped talking still gets its last window. Stream time moves to the latest
 * closing point, so a reading that arrives later for one of these windows is late, as it would be
 * had the data kept flowing.
 */
export function closeIdle(state: PartitionWindows, config: WindowConfig): WindowFeatures[] {
  let latest = state.streamTimeMs;
  for (const window of state.open.values()) latest = Math.max(latest, window.windowEndMs + config.graceMs);
  state.streamTimeMs = latest;
  return closeDue(state, config);
}
