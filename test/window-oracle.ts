import { FEATURES, type FeatureStats, type SensorReading, type WindowFeatures } from '../schemas';

/**
 * The window job computed offline, the slow obvious way, to check the streaming processor
 * against: no Welford, no incremental state. For each input partition, in offset order, a
 * reading is late when its window's end plus grace is at or before the highest event time seen
 * before it on that partition; the first reading of a machine and timestamp counts, later
 * copies don't; every other window is final once the input is exhausted (the processor closes
 * them when the partitions go idle). Statistics are two-pass: the mean, then the mean squared
 * deviation.
 */

export interface OracleResult {
  windows: Map<string, WindowFeatures>;
  late: SensorReading[];
  duplicates: number;
}

export const oracleKey = (machineId: string, windowStartMs: number): string => `${machineId}@${windowStartMs}`;

/** Two-pass statistics of a feature's values in one window (population stddev). */
export function stats(values: number[]): FeatureStats {
  if (values.length === 0) return { count: 0, mean: null, min: null, max: null, stddev: null };
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { count: values.length, mean, min, max, stddev: Math.sqrt(squares / values.length) };
}

export function windowOracle(partitions: ReadonlyArray<readonly SensorReading[]>, config: { sizeMs: number; graceMs: number }): OracleResult {
  const groups = new Map<string, Map<number, SensorReading>>();
  const late: SensorReading[] = [];
  let duplicates = 0;
  for (const readings of partitions) {
    let streamTime = -Infinity;
    for (const r of readings) {
      const start = Math.floor(r.timestamp / config.sizeMs) * config.sizeMs;
      if (start + config.sizeMs + config.graceMs <= streamTime) {
        late.push(r);
        continue;
      }
      streamTime = Math.max(streamTime, r.timestamp);
      const key = oracleKey(r.machineId, start);
      let group = groups.get(key);
      if (!group) groups.set(key, (group = new Map()));
      if (group.has(r.timestamp)) duplicates++;
      else group.set(r.timestamp, r);
    }
  }
  const windows = new Map<string, WindowFeatures>();
  for (const [key, group] of groups) {
    const rows = [...group.values()];
    const first = rows[0]!;
    const start = Math.floor(first.timestamp / config.sizeMs) * config.sizeMs;
    const window = { machineId: first.machineId, windowStart: start, windowEnd: start + config.sizeMs, count: rows.length } as WindowFeatures;
    for (const feature of FEATURES) window[feature] = stats(rows.map((r) => r[feature]).filter((v): v is number => v !== null));
    windows.set(key, window);
  }
  return { windows, late, duplicates };
}

const relativelyEqual = (a: number | null, b: number | null, tolerance: number): boolean =>
  a === null || b === null ? a === b : a === b || Math.abs(a - b) <= tolerance * Math.max(Math.abs(a), Math.abs(b), Number.MIN_VALUE);

/**
 * Differences between windows a processor emitted and the oracle's, as readable lines (empty when
 * they agree): windows missing, extra, emitted twice, or with a statistic off by more than
 * `tolerance` relative.
 */
export function compareWindows(actual: readonly WindowFeatures[], expected: Map<string, WindowFeatures>, tolerance = 1e-9): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const w of actual) {
    const key = oracleKey(w.machineId, w.windowStart);
    if (seen.has(key)) problems.push(`${key}: emitted more than once`);
    seen.add(key);
    const e = expected.get(key);
    if (!e) {
      problems.push(`${key}: not expected`);
      continue;
    }
    if (w.windowEnd !== e.windowEnd || w.count !== e.count) problems.push(`${key}: end/count ${w.windowEnd}/${w.count}, expected ${e.windowEnd}/${e.count}`);
    for (const feature of FEATURES) {
      for (const stat of ['count', 'mean', 'min', 'max'] as const) {
        if (!relativelyEqual(w[feature][stat], e[feature][stat], tolerance)) problems.push(`${key}: ${feature}.${stat} ${w[feature][stat]}, expected ${e[feature][stat]}`);
      }
      // A spread is relative to the size of the values it spreads: for constant values the exact
      // answer is 0, which a two-pass sum misses by rounding (1e-14 of the mean), so the tolerance
      // scales with the mean and extremes too.
      const a = w[feature].stddev;
      const b = e[feature].stddev;
      const scale = Math.max(Math.abs(a ?? 0), Math.abs(b ?? 0), Math.abs(e[feature].mean ?? 0), Math.abs(e[feature].min ?? 0), Math.abs(e[feature].max ?? 0));
      if ((a === null) !== (b === null) || (a !== null && b !== null && Math.abs(a - b) > tolerance * scale)) problems.push(`${key}: ${feature}.stddev ${a}, expected ${b}`);
    }
  }
  for (const key of expected.keys()) if (!seen.has(key)) problems.push(`${key}: missing`);
  return problems;
}
