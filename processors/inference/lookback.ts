import type { Manifest } from '../../models/contract';
import { channelValue, lookbackInputFlat, observedShare, type Channel } from '../../models/features';
import type { WindowFeatures } from '../../schemas';

/**
 * What the inference processor remembers of one machine, pure: its most recent windows on the
 * window grid, as many as the largest lookback of the models in use needs, and from them a
 * model's input. Built with the trainer's own functions (models/features.ts), so the model sees in
 * production exactly what it saw in training: gaps filled by the manifest's rule, a mask saying
 * what was filled, and no guess at all for a machine with too little history ("warming up").
 *
 * Only the channels the models read are kept, in a ring of `keep` rows of float32 (slot = window
 * number modulo `keep`): with a week of hourly windows and seven channels, a machine's history is
 * about 6 KiB instead of the 160 KiB of 168 decoded window records. A model that reads other
 * channels fills its lookback from the windows that come after it is deployed.
 */

/** The channels kept and how many windows: the union of the models' channels, their longest lookback. */
export interface HistoryLayout {
  channels: readonly Channel[];
  keep: number;
}

export interface MachineHistory {
  layout: HistoryLayout;
  /** Window length of the rows (0 before the first window). */
  windowMs: number;
  /** Start of the window in each slot, NaN for an empty slot. */
  starts: Float64Array;
  /**
   * [keep x channels], row-major by slot; NaN where the window had no value. Float32: the models
   * read float32, and the lookback only copies values (forward and backward fill), so a value
   * rounded here is the value the model would have been given; half the memory of doubles.
   */
  values: Float32Array;
  latestStartMs: number;
}

export function emptyHistory(layout: HistoryLayout): MachineHistory {
  return { layout, windowMs: 0, starts: new Float64Array(layout.keep).fill(Number.NaN), values: new Float32Array(layout.keep * layout.channels.length).fill(Number.NaN), latestStartMs: Number.NEGATIVE_INFINITY };
}

/** The ring slot of the window starting at `startMs`: its window number modulo `keep`. */
export const slotOf = (history: MachineHistory, startMs: number): number => {
  const keep = history.layout.keep;
  return ((Math.floor(startMs / history.windowMs) % keep) + keep) % keep;
};

/** The starts of the windows held, oldest first. */
export function historyStarts(history: MachineHistory): number[] {
  const out: number[] = [];
  if (history.windowMs === 0 || !Number.isFinite(history.latestStartMs)) return out;
  // Every start held lies within the `keep` windows up to the latest, one per slot: walking the
  // slots from the one after the latest's, around the ring, visits them oldest first.
  const keep = history.layout.keep;
  const first = (slotOf(history, history.latestStartMs) + 1) % keep;
  for (let i = 0; i < keep; i++) {
    const start = history.starts[(first + i) % keep]!;
    if (!Number.isNaN(start)) out.push(start);
  }
  return out;
}

/** The value of `channel` in the window starting at `startMs`: undefined when the window is not held, null when it had no value. */
function valueAt(history: MachineHistory, startMs: number, column: number): number | null | undefined {
  const slot = slotOf(history, startMs);
  if (history.starts[slot] !== startMs) return undefined;
  if (column < 0) return null;
  const value = history.values[slot * history.layout.channels.length + column]!;
  return Number.isNaN(value) ? null : value;
}

export type Remembered = 'added' | 'replaced' | 'too-old';

function write(history: MachineHistory, startMs: number, row: ArrayLike<number>): void {
  const slot = slotOf(history, startMs);
  history.starts[slot] = startMs;
  history.values.set(row, slot * history.layout.channels.length);
}

/**
 * Adds a final window to the history and forgets windows that have fallen out of the last `keep`.
 * A window older than that is of no use to any lookback: it is reported, not kept. A window of
 * another length than the history's starts the history afresh.
 */
export function remember(history: MachineHistory, window: WindowFeatures, windowMs: number): Remembered {
  return rememberRow(history, window.windowStart, windowMs, rowOf(window, history.layout));
}

/** A window's values of the layout's channels, NaN where it has none. */
export const rowOf = (window: WindowFeatures, layout: HistoryLayout): Float64Array => Float64Array.from(layout.channels, (c) => channelValue(window, c) ?? Number.NaN);

/** `remember` for a window already reduced to the layout's row (`rowOf`). */
export function rememberRow(history: MachineHistory, startMs: number, windowMs: number, row: ArrayLike<number>): Remembered {
  const { keep } = history.layout;
  if (history.windowMs !== windowMs) {
    Object.assign(history, emptyHistory(history.layout), { windowMs });
  }
  const oldestKept = Math.max(history.latestStartMs, startMs) - (keep - 1) * windowMs;
  if (startMs < oldestKept) return 'too-old';
  const replaced = history.starts[slotOf(history, startMs)] === startMs;
  if (startMs > history.latestStartMs) {
    history.latestStartMs = startMs;
    for (let s = 0; s < keep; s++) if (history.starts[s]! < oldestKept) history.starts[s] = Number.NaN;
  }
  write(history, startMs, row);
  return replaced ? 'replaced' : 'added';
}

/** The history under another layout (models with other channels or a longer lookback): what both share is kept. */
export function reshape(history: MachineHistory, layout: HistoryLayout): MachineHistory {
  if (history.layout === layout) return history;
  const next = emptyHistory(layout);
  if (history.windowMs === 0) return next;
  next.windowMs = history.windowMs;
  next.latestStartMs = history.latestStartMs;
  const columns = layout.channels.map((c) => history.layout.channels.indexOf(c));
  const oldestKept = history.latestStartMs - (layout.keep - 1) * history.windowMs;
  for (const start of historyStarts(history)) {
    if (start < oldestKept) continue;
    write(
      next,
      start,
      columns.map((column) => valueAt(history, start, column) ?? Number.NaN),
    );
  }
  return next;
}

export type ModelInput = { ready: true; x: Float32Array; mask: Float32Array; observed: number } | { ready: false; observed: number; reason: string };

/**
 * The input of `manifest`'s model for the lookback ending with the window that starts at
 * `lastStartMs`: [L x C] values and mask, row-major, oldest window first. Not ready while the
 * observed share is below the manifest's `minObserved` (a machine warming up, or back from a
 * long silence), or when the window length is not the model's. A channel the history does not
 * keep counts as never observed. `into`: written into a run's tensors at `offset` (a view on them
 * is returned) instead of arrays of its own.
 */
export function modelInput(
  history: MachineHistory,
  manifest: Pick<Manifest, 'channels' | 'lookback' | 'windowMs' | 'missing'>,
  lastStartMs: number,
  windowMs: number,
  into?: { x: Float32Array; mask: Float32Array; offset: number },
): ModelInput {
  if (windowMs !== manifest.windowMs) return { ready: false, observed: 0, reason: `windows of ${windowMs} ms, the model takes ${manifest.windowMs} ms` };
  const columns = columnsOf(history.layout, manifest.channels);
  const C = columns.length;
  const L = manifest.lookback;
  const width = history.layout.channels.length;
  // [L x C], oldest window first, NaN where the history holds no value (or not the window at all).
  const values = scratchOf(L * C);
  values.fill(Number.NaN);
  if (history.windowMs === windowMs) {
    const keep = history.layout.keep;
    const firstStart = lastStartMs - (L - 1) * windowMs;
    let slot = slotOf(history, firstStart);
    for (let t = 0; t < L; t++, slot = slot + 1 === keep ? 0 : slot + 1) {
      if (history.starts[slot] !== firstStart + t * windowMs) continue;
      for (let c = 0; c < C; c++) if (columns[c]! >= 0) values[t * C + c] = history.values[slot * width + columns[c]!]!;
    }
  }
  const target = into
    ? { x: into.x.subarray(into.offset, into.offset + L * C), mask: into.mask.subarray(into.offset, into.offset + L * C).fill(0) }
    : { x: new Float32Array(L * C), mask: new Float32Array(L * C) };
  const { x, mask } = lookbackInputFlat(values, manifest.missing.fallback, target);
  const observed = observedShare(mask);
  if (observed < manifest.missing.minObserved) {
    return { ready: false, observed, reason: `warming up: ${(observed * 100).toFixed(0)} % of the last ${manifest.lookback} windows observed, the model needs ${(manifest.missing.minObserved * 100).toFixed(0)} %` };
  }
  return { ready: true, x, mask, observed };
}

/** Each of a model's channels' column in the history, -1 where it keeps none; per layout and channel list, computed once. */
const columnCache = new WeakMap<HistoryLayout, WeakMap<readonly string[], Int32Array>>();
function columnsOf(layout: HistoryLayout, channels: readonly string[]): Int32Array {
  let byChannels = columnCache.get(layout);
  if (!byChannels) columnCache.set(layout, (byChannels = new WeakMap()));
  let columns = byChannels.get(channels);
  if (!columns) byChannels.set(channels, (columns = Int32Array.from(channels, (c) => layout.channels.indexOf(c as Channel))));
  return columns;
}

/** One scratch array per length: modelInput is synchronous, and its values are copied out before it returns. */
const scratch = new Map<number, Float64Array>();
function scratchOf(length: number): Float64Array {
  let array = scratch.get(length);
  if (!array) scratch.set(length, (array = new Float64Array(length)));
  return array;
}
