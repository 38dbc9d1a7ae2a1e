import { FEATURES, type WindowFeatures } from '../../schemas';
import { channelValue, type Channel } from '../../models/features';
import type { RelearnRequest } from '../../lib/control-table';

/**
 * Each machine's own normal, pure: what the per-machine detector knows of one machine, how it
 * learns it and how it adapts. No model, no Kafka, no clock; the core (inference.core.ts) feeds it
 * the machine's final windows in event-time order and runs the scoring graph (baseline.graph.ts)
 * on onnxruntime with the parameters kept here as inputs.
 *
 * Phase I (a control chart's): the machine's first `warmupWindows` windows of operation are its
 * baseline. From them it keeps, for each channel it actually reports (`<feature>.mean` and
 * `<feature>.max` of every feature it sends, one feature is enough), a centre and a scale, and a
 * memory of up to `memorySize` baseline windows spread over the states the warm-up went through.
 *
 * Phase II: each window is compared with the memory by auto-associative kernel regression (AAKR,
 * the MSET family; Hines & Garvey): the expected value of each channel is the kernel-weighted mean
 * of the memory windows nearest to this one over all the machine's channels, so a machine's load
 * cycle (idle at night, full in a shift) is its normal, not an anomaly. Each channel's residual,
 * in units of its own residual spread on the baseline (leave-one-out), goes into an EWMA control
 * chart (Roberts, 1959), two-sided: a value collapsing is news as much as one rising. A channel's
 * score is |EWMA| over its control limit; the machine's score is its largest channel's, and the
 * channels that drove it are named with their share.
 *
 * The memory adapts slowly: after every `adaptEvery` clean windows (all channels well inside their
 * limits and no alert open), the newest window replaces the memory window nearest to it. Windows the machine
 * is alerting on never teach it. A machine that reports `current` and draws (next to) none is off:
 * reported as such, neither scored nor learned from.
 */

export const BASELINE_STATS = ['mean', 'max'] as const;

/** The feature (or extra channel) a channel belongs to: `tempA` for `tempA.mean`. */
export const featureOfChannel = (channel: string): string => channel.split('.')[0]!;

export interface BaselinePolicy {
  /** Windows of operation learned before the machine is watched; 0: about a day's worth (`warmupWindowsFor`). */
  warmupWindows: number;
  /** Baseline windows kept as the AAKR memory (K). */
  memorySize: number;
  /** Kernel bandwidth, in baseline standard deviations (root mean square over the channels). */
  bandwidth: number;
  /** EWMA weight of the newest residual. */
  lambda: number;
  /** Control limit in EWMA standard deviations: a channel scores 1 at |EWMA| = limit * sqrt(lambda / (2 - lambda)). */
  limit: number;
  /** Smallest residual spread, in baseline standard deviations (a memory that fits itself perfectly would alarm on noise). */
  residualFloor: number;
  /** Smallest scale of a channel, as a share of its level: a change smaller than a sensor's accuracy (about 1 % of reading) is not news. */
  relativeFloor: number;
  /** Clean windows between two memory refreshes; 0 never adapts. */
  adaptEvery: number;
  /** A window is clean when every channel scores below this. */
  cleanBelow: number;
  /** A machine that reports current is off when its window mean is at or below this (A)... */
  offCurrent: number;
  /** ...or below this share of its baseline current. */
  offShare: number;
}

export const DEFAULT_BASELINE_POLICY: BaselinePolicy = {
  warmupWindows: 0,
  memorySize: 32,
  bandwidth: 0.5,
  lambda: 0.3,
  limit: 5,
  residualFloor: 0.1,
  relativeFloor: 1e-3,
  adaptEvery: 24,
  cleanBelow: 0.5,
  offCurrent: 0.05,
  offShare: 0.05,
};

const DAY_MS = 86_400_000;

/**
 * A day of windows by default (24 hourly, 1,440 of a minute): a day holds a machine's shifts and
 * idle hours, its daily normal. At least 14 windows for windows longer than an hour and a half.
 * The memory samples the warm-up evenly, so a long warm-up costs no state.
 */
export function warmupWindowsFor(policy: Pick<BaselinePolicy, 'warmupWindows'>, windowMs: number): number {
  if (policy.warmupWindows > 0) return policy.warmupWindows;
  return Math.max(14, Math.round(DAY_MS / windowMs));
}

const BASELINE_CHANNELS: readonly Channel[] = FEATURES.flatMap((f) => BASELINE_STATS.map((s) => `${f}.${s}` as Channel));
export const baselineChannels = (): Channel[] => [...BASELINE_CHANNELS];

interface Welford {
  n: number;
  mean: number;
  m2: number;
}

export type { RelearnRequest };

export interface LearningBaseline {
  phase: 'learning';
  windowMs: number;
  /** Windows of operation learned so far. */
  learned: number;
  /** Every channel seen so far, by name. */
  stats: Record<string, Welford>;
  /** Per feature, the windows in which it did not vary at all (a sensor's noise is its sign of life). */
  flat: Record<string, number>;
  /** The memory to be (raw values): windows spread over the states seen so far (`remember`). */
  samples: Array<Record<string, number>>;
  /** The reset that started this learning, if an operator asked for one. */
  relearn: RelearnRequest | null;
}

export interface WatchingBaseline {
  phase: 'watching';
  windowMs: number;
  channels: string[];
  center: number[];
  scale: number[];
  residualScale: number[];
  /** [K x C], standardised (value - center) / scale, float32 as the graph reads it. */
  memory: Float32Array;
  /** The EWMA of each channel's standardised residual. */
  ewma: number[];
  /** Clean windows since the last memory refresh, and the slot refreshed last. */
  cleanRun: number;
  nextSlot: number;
  learnedAtMs: number;
  relearn: RelearnRequest | null;
  /** Features that always varied in the warm-up: one that reads the same value a whole window is stuck. */
  noisy: string[];
}

export type MachineBaseline = LearningBaseline | WatchingBaseline;

export const startLearning = (windowMs: number, relearn: RelearnRequest | null = null): LearningBaseline => ({ phase: 'learning', windowMs, learned: 0, stats: {}, flat: {}, samples: [], relearn });

/** Share of its warm-up windows a feature may have read flat and still count as noisy. */
const NOISY_FLAT_SHARE = 0.05;

/** Features of `window` with at least three values, all the same (a stuck sensor reads like this). */
export function flatFeatures(window: WindowFeatures): string[] {
  const flat: string[] = [];
  const isFlat = (stats: WindowFeatures['accX'] | undefined) => !!stats && stats.count >= 3 && stats.min !== null && stats.min === stats.max;
  for (const feature of FEATURES) if (isFlat(window[feature])) flat.push(feature);
  for (const [name, stats] of Object.entries(window.extras ?? {})) if (isFlat(stats)) flat.push(name);
  return flat;
}

/** The values without the channels of features stuck in this window: a noisy sensor that read one value all window. */
export function withoutStuck(baseline: WatchingBaseline, values: Record<string, number>, flat: readonly string[]): { values: Record<string, number>; stuck: string[] } {
  const stuck = flat.filter((f) => baseline.noisy?.includes(f));
  if (stuck.length === 0) return { values, stuck };
  const kept: Record<string, number> = {};
  for (const [channel, value] of Object.entries(values)) if (!stuck.includes(featureOfChannel(channel))) kept[channel] = value;
  return { values: kept, stuck };
}

/** The channels of `window` the detector reads, with their values (channels with no value are left out): the six features' and every extra channel's. */
export function channelValues(window: WindowFeatures): Record<string, number> {
  const out: Record<string, number> = {};
  for (const channel of BASELINE_CHANNELS) {
    const value = channelValue(window, channel);
    if (value !== null) out[channel] = value;
  }
  for (const [name, stats] of Object.entries(window.extras ?? {})) {
    if (!stats || stats.count === 0) continue;
    for (const stat of BASELINE_STATS) {
      const value = stats[stat];
      if (value !== null && value !== undefined && Number.isFinite(value)) out[`${name}.${stat}`] = value;
    }
  }
  return out;
}

/** Whether the machine is switched off in this window: it reports current, and draws (next to) none. */
export function isOff(values: Record<string, number>, baseline: MachineBaseline | undefined, policy: BaselinePolicy): boolean {
  const current = values['current.mean'];
  if (current === undefined) return false;
  let normal = 0;
  if (baseline?.phase === 'watching') {
    const c = baseline.channels.indexOf('current.mean');
    if (c >= 0) normal = baseline.center[c]!;
  }
  return current <= Math.max(policy.offCurrent, policy.offShare * normal);
}

/** Learns one window of normal operation (mutates `baseline`); true once the warm-up is complete. */
export function learnWindow(baseline: LearningBaseline, values: Record<string, number>, policy: BaselinePolicy, flat: readonly string[] = []): boolean {
  const warmup = warmupWindowsFor(policy, baseline.windowMs);
  const flatCounts = (baseline.flat ??= {});
  for (const feature of flat) flatCounts[feature] = (flatCounts[feature] ?? 0) + 1;
  for (const [channel, value] of Object.entries(values)) {
    const s = (baseline.stats[channel] ??= { n: 0, mean: 0, m2: 0 });
    s.n += 1;
    const delta = value - s.mean;
    s.mean += delta / s.n;
    s.m2 += delta * (value - s.mean);
  }
  remember(baseline, values, policy.memorySize);
  baseline.learned += 1;
  return baseline.learned >= warmup;
}

/**
 * Keeps the memory spread over the states the machine went through, not over time: once full, a
 * new window replaces one of the two closest memory windows when it is farther from all of them
 * than they are from each other (a streaming k-centre rule). A 20-minute ramp at shift start is a
 * state of its own at one-minute windows, which a memory sampled every 45 minutes would miss.
 * Distances are in the running standard deviations of the warm-up so far.
 */
function remember(baseline: LearningBaseline, values: Record<string, number>, size: number): void {
  const samples = baseline.samples;
  if (samples.length < size) {
    samples.push({ ...values });
    return;
  }
  const sd: Record<string, number> = {};
  for (const [channel, s] of Object.entries(baseline.stats)) sd[channel] = Math.max(Math.sqrt(s.m2 / Math.max(1, s.n - 1)), 1e-9);
  const distance = (a: Record<string, number>, b: Record<string, number>): number => {
    let sum = 0;
    let n = 0;
    for (const channel of Object.keys(a)) {
      const other = b[channel];
      if (other === undefined) continue;
      sum += ((a[channel]! - other) / sd[channel]!) ** 2;
      n += 1;
    }
    return n === 0 ? Number.POSITIVE_INFINITY : sum / n;
  };
  let nearestNew = Number.POSITIVE_INFINITY;
  for (const sample of samples) nearestNew = Math.min(nearestNew, distance(values, sample));
  let closest = Number.POSITIVE_INFINITY;
  let replace = -1;
  for (let i = 0; i < samples.length; i++) {
    for (let j = i + 1; j < samples.length; j++) {
      const d = distance(samples[i]!, samples[j]!);
      if (d < closest) [closest, replace] = [d, i];
    }
  }
  if (nearestNew > closest && replace >= 0) samples[replace] = { ...values };
}

/** Kernel-regression estimate of `z` from `memory` rows other than `skip`, over the channels `present`. Float64, for learning only. */
function estimate(memory: Float32Array, K: number, C: number, z: ArrayLike<number>, present: ArrayLike<number>, bandwidth: number, skip = -1): Float64Array {
  const weights = new Float64Array(K);
  let count = 0;
  for (let c = 0; c < C; c++) count += present[c]!;
  let best = Number.POSITIVE_INFINITY;
  const d2 = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    if (k === skip) continue;
    let sum = 0;
    for (let c = 0; c < C; c++) if (present[c]) sum += (z[c]! - memory[k * C + c]!) ** 2;
    d2[k] = sum / Math.max(1, count);
    best = Math.min(best, d2[k]!);
  }
  let total = 0;
  for (let k = 0; k < K; k++) {
    if (k === skip) continue;
    weights[k] = Math.exp(-(d2[k]! - best) / (2 * bandwidth * bandwidth));
    total += weights[k]!;
  }
  const out = new Float64Array(C);
  for (let k = 0; k < K; k++) for (let c = 0; c < C; c++) out[c]! += (weights[k]! / total) * memory[k * C + c]!;
  return out;
}

/**
 * Ends phase I: the channels seen in at least half of the warm-up, their centre and scale, the
 * memory, and each channel's residual spread when a memory window is estimated from the others.
 */
export function finishLearning(baseline: LearningBaseline, policy: BaselinePolicy, windowEndMs: number): WatchingBaseline | null {
  const channels = Object.keys(baseline.stats)
    .filter((c) => baseline.stats[c]!.n >= Math.max(2, baseline.learned / 2))
    .sort();
  if (channels.length === 0 || baseline.samples.length < 2) return null;
  const C = channels.length;
  const center = channels.map((c) => baseline.stats[c]!.mean);
  const scale = channels.map((c, i) => {
    const s = baseline.stats[c]!;
    return Math.max(Math.sqrt(s.m2 / Math.max(1, s.n - 1)), policy.relativeFloor * Math.abs(center[i]!), 1e-9);
  });
  const K = baseline.samples.length;
  const memory = new Float32Array(K * C);
  baseline.samples.forEach((row, k) => channels.forEach((c, j) => (memory[k * C + j] = row[c] === undefined ? 0 : (row[c]! - center[j]!) / scale[j]!)));
  const present = new Float64Array(C).fill(1);
  const sq = new Float64Array(C);
  for (let k = 0; k < K; k++) {
    const row = memory.subarray(k * C, (k + 1) * C);
    const est = estimate(memory, K, C, row, present, policy.bandwidth, k);
    for (let c = 0; c < C; c++) sq[c]! += (row[c]! - est[c]!) ** 2;
  }
  const residualScale = Array.from(sq, (s) => Math.max(Math.sqrt(s / K), policy.residualFloor));
  const features = [...new Set(channels.map(featureOfChannel))];
  const noisy = features.filter((f) => (baseline.flat?.[f] ?? 0) <= NOISY_FLAT_SHARE * (baseline.stats[`${f}.mean`] ?? baseline.stats[`${f}.max`])!.n).sort();
  return { phase: 'watching', windowMs: baseline.windowMs, channels, center, scale, residualScale, memory, ewma: new Array<number>(C).fill(0), cleanRun: 0, nextSlot: 0, learnedAtMs: windowEndMs, relearn: baseline.relearn, noisy };
}

/** One row of the scoring graph's inputs for a watched machine's window. */
export interface ScoringRow {
  x: Float32Array;
  present: Float32Array;
  center: Float32Array;
  scale: Float32Array;
  memory: Float32Array;
  residualScale: Float32Array;
  previous: Float32Array;
  channels: number;
  memorySize: number;
}

export function scoringRow(baseline: WatchingBaseline, values: Record<string, number>): ScoringRow | null {
  const C = baseline.channels.length;
  const x = new Float32Array(C);
  const present = new Float32Array(C);
  baseline.channels.forEach((c, j) => {
    const v = values[c];
    if (v !== undefined) {
      x[j] = v;
      present[j] = 1;
    } else x[j] = baseline.center[j]!;
  });
  if (!present.some((p) => p === 1)) return null;
  return {
    x,
    present,
    center: Float32Array.from(baseline.center),
    scale: Float32Array.from(baseline.scale),
    memory: baseline.memory,
    residualScale: Float32Array.from(baseline.residualScale),
    previous: Float32Array.from(baseline.ewma),
    channels: C,
    memorySize: baseline.memory.length / C,
  };
}

/** What the graph said of one window: per channel the expected value, the EWMA and the score. */
export interface ScoredRow {
  expected: Float32Array;
  ewma: Float32Array;
  channelScore: Float32Array;
  score: number;
}

export interface Driver {
  channel: string;
  value: number | null;
  expected: number;
  score: number;
  /** Share of the machine's summed channel scores. */
  contribution: number;
}

/** The channels that drove a score, strongest first: those within half of the strongest, at most three. */
export function driversOf(baseline: WatchingBaseline, values: Record<string, number>, scored: ScoredRow): Driver[] {
  let total = 0;
  for (const s of scored.channelScore) total += s;
  if (!(total > 0)) return [];
  const top = Math.max(...scored.channelScore);
  return baseline.channels
    .map((channel, j) => ({ channel, value: values[channel] ?? null, expected: scored.expected[j]!, score: scored.channelScore[j]!, contribution: scored.channelScore[j]! / total }))
    .filter((d) => d.score >= top / 2)
    .sort((a, b) => b.score - a.score || (a.channel < b.channel ? -1 : 1))
    .slice(0, 3);
}

/**
 * Takes the graph's answer into the baseline (mutating it): the EWMA moves on, and a clean window
 * of a machine not alerting counts towards the next memory refresh.
 */
export function applyScore(baseline: WatchingBaseline, row: ScoringRow, scored: ScoredRow, alerting: boolean, policy: BaselinePolicy): void {
  baseline.ewma = Array.from(scored.ewma);
  const clean = !alerting && scored.channelScore.every((s) => s < policy.cleanBelow);
  if (!clean || policy.adaptEvery === 0) {
    if (!clean) baseline.cleanRun = 0;
    return;
  }
  baseline.cleanRun += 1;
  if (baseline.cleanRun < policy.adaptEvery) return;
  // The clean window refreshes the memory window nearest to it: the state it represents stays
  // represented (replacing the oldest slot instead would let idle nights, which are clean more
  // often, crowd the working hours out of the memory over weeks).
  const C = baseline.channels.length;
  const K = baseline.memory.length / C;
  const z = Array.from({ length: C }, (_, j) => (row.x[j]! - baseline.center[j]!) / baseline.scale[j]!);
  let nearest = 0;
  let best = Number.POSITIVE_INFINITY;
  for (let k = 0; k < K; k++) {
    let d = 0;
    for (let j = 0; j < C; j++) if (row.present[j] === 1) d += (z[j]! - baseline.memory[k * C + j]!) ** 2;
    if (d < best) [best, nearest] = [d, k];
  }
  const memory = Float32Array.from(baseline.memory);
  for (let j = 0; j < C; j++) if (row.present[j] === 1) memory[nearest * C + j] = z[j]!;
  baseline.memory = memory;
  baseline.nextSlot = nearest;
  baseline.cleanRun = 0;
}
