import type { SensorReading, WindowFeatures } from '../../schemas';
import { oracleKey, windowOf } from '../window-oracle';

/**
 * test/window-oracle.ts's `windowOracle`, fed one reading at a time so that 52 million readings
 * need not sit in memory at once: the same rule (per input partition in offset order, a reading
 * is late when its window's end plus grace is at or before the highest event time seen before it
 * on that partition; the first reading of a machine and timestamp counts) and the same two-pass
 * statistics. A window is computed and its readings dropped as soon as no reading can join it any
 * more (stream time has passed its end plus grace: a later one would be late). The unit test holds
 * it equal to `windowOracle` on streams with disorder, duplicates and late readings.
 */

interface PartitionState {
  streamTimeMs: number;
  open: Map<string, Map<number, SensorReading>>;
  /** The earliest end plus grace among the open windows: nothing closes before stream time gets there. */
  nextCloseMs: number;
}

export interface StreamingOracleResult {
  windows: Map<string, WindowFeatures>;
  /** `machine@timestamp` of every late reading, in the order they came per partition. */
  late: string[];
  duplicates: number;
  readings: number;
}

export class StreamingWindowOracle {
  private readonly partitions = new Map<number, PartitionState>();
  private readonly windows = new Map<string, WindowFeatures>();
  private readonly late: string[] = [];
  private duplicates = 0;
  private readings = 0;

  constructor(private readonly config: { sizeMs: number; graceMs: number }) {}

  /** The next reading of `partition`, in offset order. */
  add(partition: number, reading: SensorReading): void {
    const { sizeMs, graceMs } = this.config;
    let state = this.partitions.get(partition);
    if (!state) this.partitions.set(partition, (state = { streamTimeMs: -Infinity, open: new Map(), nextCloseMs: Infinity }));
    this.readings++;
    const start = Math.floor(reading.timestamp / sizeMs) * sizeMs;
    if (start + sizeMs + graceMs <= state.streamTimeMs) {
      this.late.push(oracleKey(reading.machineId, reading.timestamp));
      return;
    }
    state.streamTimeMs = Math.max(state.streamTimeMs, reading.timestamp);
    const key = oracleKey(reading.machineId, start);
    let group = state.open.get(key);
    if (!group) {
      state.open.set(key, (group = new Map()));
      state.nextCloseMs = Math.min(state.nextCloseMs, start + sizeMs + graceMs);
    }
    if (group.has(reading.timestamp)) this.duplicates++;
    else group.set(reading.timestamp, reading);
    if (state.streamTimeMs >= state.nextCloseMs) this.closeUpTo(state, state.streamTimeMs);
  }

  /** Every window still open is final: the input is exhausted. */
  finish(): StreamingOracleResult {
    for (const state of this.partitions.values()) this.closeUpTo(state, Infinity);
    return { windows: this.windows, late: this.late, duplicates: this.duplicates, readings: this.readings };
  }

  private closeUpTo(state: PartitionState, streamTimeMs: number): void {
    const { sizeMs, graceMs } = this.config;
    let next = Infinity;
    for (const [key, group] of state.open) {
      const first = group.values().next().value as SensorReading;
      const start = Math.floor(first.timestamp / sizeMs) * sizeMs;
      if (start + sizeMs + graceMs > streamTimeMs) {
        next = Math.min(next, start + sizeMs + graceMs);
        continue;
      }
      state.open.delete(key);
      this.windows.set(key, windowOf([...group.values()], start, sizeMs));
    }
    state.nextCloseMs = next;
  }
}
