import type { WindowFeatures } from '../../schemas';
import type { MachineBaseline } from './baseline';
import type { MachineState } from './inference.core';
import { deltaKey, encodeDelta, encodeMachine, encodeRow, machineKey, rowBytes } from './inference.state';
import type { LearnedLimits } from './limits';
import { rowOf, type HistoryLayout } from './lookback';

/**
 * A machine's changelog between snapshots, pure. A snapshot (`M<machineId>`, inference.state.ts)
 * is about 8 KB, most of it the history ring, yet a window changes one row of it and a few moving
 * numbers. So a window writes a delta instead: `D<machineId>`, the rows remembered since the
 * machine's last snapshot with the alert conditions and the own normal's moving part (about 1 KB
 * on average, against 8). A new snapshot, with the delta deleted in the same transaction, is
 * written when the delta would pass `maxRows` rows, and whenever something a delta does not carry
 * has changed: the layout (a model reload), learned limits, the own normal's memory or the normal
 * itself (learning, relearning). Compaction keeps the last of each key, so a restore reads at most
 * two records per machine: the snapshot, then the delta replayed onto it with `rememberRow`, the
 * same steps the live history took.
 */

/** Rows in a delta at most: about 36 B each against an 8 KB snapshot, 24 keeps the bytes per window near their minimum. */
export const DELTA_ROWS = 24;

/** What the machine's last snapshot holds of what a delta does not carry, by identity. */
interface Journal {
  layout: HistoryLayout;
  limits: LearnedLimits | undefined;
  baseline: MachineBaseline | undefined;
  memory: Float32Array | undefined;
  /**
   * The rows remembered since the snapshot, encoded back to back: `count` of them in a buffer of
   * `maxRows`, made at the first delta. One buffer of its own per machine (Buffer.alloc, never
   * the shared pool): small pooled Buffers kept for hours would each hold an 8 KiB pool slab.
   */
  rows: Buffer | undefined;
  count: number;
}

const memoryOf = (baseline: MachineBaseline | undefined) => (baseline?.phase === 'watching' ? baseline.memory : undefined);

/** Each machine's journal in one partition: which records a batch's changes to a machine become. */
export class ChangelogJournal {
  private readonly journals = new Map<string, Journal>();

  constructor(private readonly maxRows = DELTA_ROWS) {}

  /**
   * The records for a machine the batch touched, `windows` being its windows in this batch (all of
   * them were remembered, in start order). A machine without a journal here (first seen, or
   * restored) gets a snapshot, and a tombstone for any delta an earlier instance left.
   */
  records(machineId: string, state: MachineState, windows: readonly WindowFeatures[]): Array<{ key: Buffer; value: Buffer | null }> {
    const layout = state.history.layout;
    const journal = this.journals.get(machineId);
    const baseline = state.baseline;
    const deltaWill =
      journal !== undefined &&
      journal.layout === layout &&
      journal.limits === state.limits &&
      journal.baseline === baseline &&
      journal.memory === memoryOf(baseline) &&
      baseline?.phase !== 'learning' &&
      journal.count + windows.length <= this.maxRows;
    if (deltaWill) {
      const width = layout.channels.length;
      const sorted = windows.length === 1 ? windows : [...windows].sort((a, b) => a.windowStart - b.windowStart);
      const size = rowBytes(width);
      journal.rows ??= Buffer.alloc(this.maxRows * size);
      for (const w of sorted) encodeRow({ startMs: w.windowStart, windowMs: w.windowEnd - w.windowStart, row: rowOf(w, layout) }, width, journal.rows, size * journal.count++);
      return [{ key: deltaKey(machineId), value: encodeDelta(state, journal.rows.subarray(0, size * journal.count)) }];
    }
    // The rows' buffer is kept for the next deltas while the rows are as wide.
    const rows = journal?.layout.channels.length === layout.channels.length ? journal.rows : undefined;
    this.journals.set(machineId, { layout, limits: state.limits, baseline, memory: memoryOf(baseline), rows, count: 0 });
    const snapshot = { key: machineKey(machineId), value: encodeMachine(state) };
    return journal && journal.count === 0 ? [snapshot] : [snapshot, { key: deltaKey(machineId), value: null }];
  }
}
