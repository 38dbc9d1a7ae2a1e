import type { OpenWindow } from './window';

/**
 * Which machines of a partition have gone silent, judged in stream time: a machine whose newest
 * reading is `silentAfterMs` behind the partition's stream time while other machines of the
 * partition kept reporting. Pure, like the windowing rule; the processor keeps one map per
 * partition and exports only the counts (`pdm_window_machines{partition,state}`), so no metric
 * carries a machine id: which machines they are is a query on pdm.window_features.
 *
 * Stream time, not the wall clock, so a replay of history judges as live data would have. A
 * partition whose every machine stops has no stream time moving at all: that is for an alert on
 * the partition's stream time (stack/prometheus/rules.yml), not for this count.
 */

export interface SilenceConfig {
  /** No reading for this long (stream time) while the partition moves on: silent. */
  silentAfterMs: number;
  /** No reading for this long: decommissioned, no longer counted at all. */
  forgetAfterMs: number;
}

export const FORGET_AFTER_MS = 7 * 24 * 3_600_000;

/** machine id → its newest event time seen. */
export type LastSeen = Map<string, number>;

export function noteReading(lastSeen: LastSeen, machineId: string, timestampMs: number): void {
  const before = lastSeen.get(machineId);
  if (before === undefined || timestampMs > before) lastSeen.set(machineId, timestampMs);
}

/**
 * What a restored partition knows: the machines with an open window, at their newest reading.
 * A machine that was already silent when the state was written has no open window and is not
 * known until it reports again.
 */
export function lastSeenOf(open: Iterable<OpenWindow>): LastSeen {
  const lastSeen: LastSeen = new Map();
  for (const window of open) {
    const newest = window.timestamps[window.timestamps.length - 1];
    if (newest !== undefined) noteReading(lastSeen, window.machineId, newest);
  }
  return lastSeen;
}

/** Reporting and silent machines of a partition; forgets machines past `forgetAfterMs` (mutates). */
export function machineStates(lastSeen: LastSeen, streamTimeMs: number, config: SilenceConfig): { reporting: number; silent: number } {
  let reporting = 0;
  let silent = 0;
  if (!Number.isFinite(streamTimeMs)) return { reporting: lastSeen.size, silent };
  for (const [machineId, seenMs] of lastSeen) {
    const quietMs = streamTimeMs - seenMs;
    if (quietMs >= config.forgetAfterMs) lastSeen.delete(machineId);
    else if (quietMs >= config.silentAfterMs) silent++;
    else reporting++;
  }
  return { reporting, silent };
}
