import { FEATURES, type FeatureStats, type SensorReading, type WindowFeatures } from '../schemas';

/**
 * The window job computed offline, the slow obvious way, to check the streaming processor
 * against: no Welford, no incremental state. For each input partition, in offset order, a
 * reading is late when its window's end plus grace is at or before the highest event time seen
 * before it on that partition; the first reading of a machine and timestamp counts, later
 * copies don't; every other window is final once the input is exhausted (the processor closes
 * them when the partitions go idle). Statistics are two-pass: the mean, then the mean squared
 * deviation; extra channels likewise, each named channel of the window's readings (one named only
 * with nulls has count 0).
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

/** One window of the readings counted in it (duplicates already left out), two-pass. */
export function windowOf(rows: readonly SensorReading[], windowStart: number, sizeMs: number): WindowFeatures {
  const first = rows[0]!;
  const window = { machineId: first.machineId, windowStart, windowEnd: windowStart + sizeMs, count: rows.length } as WindowFeatures;
  for (const feature of FEATURES) window[feature] = stats(rows.map((r) => r[feature]).filter((v): v is number => v !== null));
  const names = new Set(rows.flatMap((r) => Object.keys(r.extras)));
  window.extras = {};
  for (const name of names) window.extras[name] = stats(rows.map((r) => r.extras[name]).filter((v): v is number => v !== null && v !== undefined));
  return window;
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
    windows.set(key, windowOf(rows, Math.floor(rows[0]!.timestamp / config.sizeMs) * config.sizeMs, config.sizeMs));
  }
  return { windows, late, duplicates };
}

const relativelyEqual = (a: number | null, b: number | null, tolerance: number): boolean =>
  a === null || b === null ? a === b : a === b || Math.abs(a - b) <= tolerance * Math.max(Math.abs(a), Math.abs(b), Number.MIN_VALUE);

function compareStats(what: string, actual: FeatureStats, expected: FeatureStats, tolerance: number): string[] {
  const problems: string[] = [];
  for (const stat of ['count', 'mean', 'min', 'max'] as const) {
    if (!relativelyEqual(actual[stat], expected[stat], tolerance)) problems.push(`${what}.${stat} ${actual[stat]}, expected ${expected[stat]}`);
  }
  // A spread is relative to the size of the values it spreads: for constant values the exact
  // answer is 0, which a two-pass sum misses by rounding (1e-14 of the mean), so the tolerance
  // scales with the mean and extremes too.
  const a = actual.stddev;
  const b = expected.stddev;
  const scale = Math.max(Math.abs(a ?? 0), Math.abs(b ?? 0), Math.abs(expected.mean ?? 0), Math.abs(expected.min ?? 0), Math.abs(expected.max ?? 0));
  if ((a === null) !== (b === null) || (a !== null && b !== null && Math.abs(a - b) > tolerance * scale)) problems.push(`${what}.stddev ${a}, expected ${b}`);
  return problems;
}

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
    for (const feature of FEATURES) problems.push(...compareStats(`${key}: ${feature}`, w[feature], e[feature], tolerance));
    const actualNames = Object.keys(w.extras ?? {}).sort();
    const expectedNames = Object.keys(e.extras).sort();
    if (actualNames.join() !== expectedNames.join()) problems.push(`${key}: extra channels ${actualNames.join(',')}, expected ${expectedNames.join(',')}`);
    else for (const name of expectedNames) problems.push(...compareStats(`${key}: extras.${name}`, w.extras[name]!, e.extras[name]!, tolerance));
  }
  for (const key of expected.keys()) if (!seen.has(key)) problems.push(`${key}: missing`);
  return problems;
}
