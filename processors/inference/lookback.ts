import type { Manifest } from '../../models/contract';
import { channelValue, lookbackInput, observedShare } from '../../models/features';
import type { WindowFeatures } from '../../schemas';

/**
 * What the inference processor remembers of one machine, pure: its most recent windows on the
 * window grid, as many as the largest lookback of the models in use needs, and from them a
 * model's input. Built with the trainer's own functions (models/features.ts), so the model sees in
 * production exactly what it saw in training: gaps filled by the manifest's rule, a mask saying
 * what was filled, and no guess at all for a machine with too little history ("warming up").
 */

export interface MachineHistory {
  /** By window start; at most `keep` windows, the newest `latestStartMs`. */
  windows: Map<number, WindowFeatures>;
  latestStartMs: number;
}

export const emptyHistory = (): MachineHistory => ({ windows: new Map(), latestStartMs: Number.NEGATIVE_INFINITY });

export type Remembered = 'added' | 'replaced' | 'too-old';

/**
 * Adds a final window to the history and forgets windows that have fallen out of the last `keep`.
 * A window older than that is of no use to any lookback: it is reported, not kept.
 */
export function remember(history: MachineHistory, window: WindowFeatures, keep: number, windowMs: number): Remembered {
  const oldestKept = Math.max(history.latestStartMs, window.windowStart) - (keep - 1) * windowMs;
  if (window.windowStart < oldestKept) return 'too-old';
  const replaced = history.windows.has(window.windowStart);
  history.windows.set(window.windowStart, window);
  if (window.windowStart > history.latestStartMs) {
    history.latestStartMs = window.windowStart;
    for (const start of history.windows.keys()) if (start < oldestKept) history.windows.delete(start);
  }
  return replaced ? 'replaced' : 'added';
}

export type ModelInput = { ready: true; x: Float32Array; mask: Float32Array; observed: number } | { ready: false; observed: number; reason: string };

/**
 * The input of `manifest`'s model for the lookback ending with the window that starts at
 * `lastStartMs`: [L x C] values and mask, row-major, oldest window first. Not ready while the
 * observed share is below the manifest's `minObserved` (a machine warming up, or back from a
 * long silence), or when the window length is not the model's.
 */
export function modelInput(history: MachineHistory, manifest: Pick<Manifest, 'channels' | 'lookback' | 'windowMs' | 'missing'>, lastStartMs: number, windowMs: number): ModelInput {
  if (windowMs !== manifest.windowMs) return { ready: false, observed: 0, reason: `windows of ${windowMs} ms, the model takes ${manifest.windowMs} ms` };
  const channels = manifest.channels;
  const rows: Array<Array<number | null> | null> = [];
  for (let i = manifest.lookback - 1; i >= 0; i--) {
    const window = history.windows.get(lastStartMs - i * windowMs);
    rows.push(window ? channels.map((c) => channelValue(window, c)) : null);
  }
  const fallback = manifest.missing.fallback;
  const { x, mask } = lookbackInput(rows, fallback);
  const observed = observedShare(mask);
  if (observed < manifest.missing.minObserved) {
    return { ready: false, observed, reason: `warming up: ${(observed * 100).toFixed(0)} % of the last ${manifest.lookback} windows observed, the model needs ${(manifest.missing.minObserved * 100).toFixed(0)} %` };
  }
  return { ready: true, x: Float32Array.from(x), mask: Float32Array.from(mask), observed };
}
