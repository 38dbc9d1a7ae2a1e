import type { Manifest } from '../../models/contract';
import type { OnnxModel } from '../../models/runtime';

/**
 * Batching without changing a single bit. onnxruntime's float32 kernels (MLAS) work on rows in
 * small groups, and a row's sums come out in a different order depending on its position in the
 * group: the same window scores 2.143355369567871 at one position of a batch and
 * 2.143355131149292 at another. A decision at the threshold could then flip on replay, when a
 * crash has changed which windows arrived together, and a transition would not repeat exactly.
 *
 * The order is a property of the kernel and the position, not of the data, so it can be measured:
 * when a model is loaded, probe rows are run alone and at every position of a batch, and the
 * positions that reproduce the lone run bit for bit are the batch's stable slots. Real rows go
 * only there (the others are padding). On this project's two-core x86 machine, in float32, the
 * detector's runs of 32 have 8 stable positions and the forecaster's (a much wider matrix) only the
 * first, so its windows would run one at a time; the inference processor therefore runs its fleet
 * models' graphs in float64 (models/onnx/widen.ts), where all 64 positions of a run are stable.
 */

export interface StableRunner {
  /** Stable positions of a run of `batch` rows. */
  readonly slots: readonly number[];
  readonly batch: number;
  /** One run: `rows` (at most slots.length) in, each row's outputs by role out. */
  run(rows: ReadonlyArray<{ x: Float32Array; mask: Float32Array; calendar?: Float32Array }>): Promise<Array<Record<string, Float32Array>>>;
  /** The input tensors of one run, zeroed, for a caller to write its rows into in place (no per-row arrays). */
  newBatch(): StableBatch;
  /** Runs a batch whose first `rows` rows (at most slots.length) were written at their `rowOffset`s; each row's outputs by role (views on the run's output). */
  runBatch(batch: StableBatch, rows: number): Promise<Array<Record<string, Float32Array>>>;
}

/** A run's input tensors: row j's [L x C] values and mask start at `rowOffset(j)`, its calendar at `j`'s slot × 31. */
export interface StableBatch {
  x: Float32Array;
  mask: Float32Array;
  calendar?: Float32Array;
  /** Where row j's values begin in `x` and `mask` (its stable slot's). */
  rowOffset(j: number): number;
  /** Where row j's calendar begins. */
  calendarOffset(j: number): number;
}

const CALENDAR = 31;

export async function stableRunner(model: OnnxModel, manifest: Pick<Manifest, 'lookback' | 'channels' | 'normalization' | 'calendar'>, batch = 32): Promise<StableRunner> {
  const size = manifest.lookback * manifest.channels.length;
  const withCalendar = manifest.calendar !== null;

  const emptyBatch = (positions: readonly number[], n: number): StableBatch & { n: number; positions: readonly number[] } => ({
    n,
    positions,
    x: new Float32Array(n * size),
    mask: new Float32Array(n * size),
    ...(withCalendar ? { calendar: new Float32Array(n * CALENDAR) } : {}),
    rowOffset: (j) => positions[j]! * size,
    calendarOffset: (j) => positions[j]! * CALENDAR,
  });
  const runFilled = async (inputs: ReturnType<typeof emptyBatch>, rows: number) => {
    const out = await model.run({ x: inputs.x, mask: inputs.mask, calendar: inputs.calendar, batch: inputs.n });
    const roles = Object.entries(out);
    return inputs.positions.slice(0, rows).map((p) => {
      const rowOut: Record<string, Float32Array> = {};
      for (const [role, values] of roles) {
        const per = values.length / inputs.n;
        rowOut[role] = values.subarray(p * per, (p + 1) * per);
      }
      return rowOut;
    });
  };
  const runAt = async (rows: ReadonlyArray<{ x: Float32Array; mask: Float32Array; calendar?: Float32Array }>, positions: readonly number[], n: number) => {
    const inputs = emptyBatch(positions, n);
    rows.forEach((row, j) => {
      inputs.x.set(row.x, inputs.rowOffset(j));
      inputs.mask.set(row.mask, inputs.rowOffset(j));
      if (inputs.calendar && row.calendar) inputs.calendar.set(row.calendar, inputs.calendarOffset(j));
    });
    return runFilled(inputs, rows.length);
  };

  // Probe rows near the training data, deterministic.
  let seed = 12345;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const probe = () => {
    const x = new Float32Array(size);
    const C = manifest.channels.length;
    for (let i = 0; i < size; i++) x[i] = manifest.normalization.channelMean[i % C]! + (random() - 0.5) * 2 * (manifest.normalization.channelSd[i % C]! || 1);
    const calendar = new Float32Array(CALENDAR);
    calendar[Math.floor(random() * 24)] = 1;
    calendar[24 + Math.floor(random() * 7)] = 1;
    return { x, mask: new Float32Array(size).fill(1), calendar };
  };
  const probes = [probe(), probe(), probe()];
  const filler = Array.from({ length: batch }, probe);
  const alone = await Promise.all(probes.map(async (p) => (await runAt([p], [0], 1))[0]!));
  const same = (a: Record<string, Float32Array>, b: Record<string, Float32Array>) => Object.keys(a).every((role) => a[role]!.every((v, i) => Object.is(v, b[role]![i])));

  const slots: number[] = [];
  for (let position = 0; position < batch; position++) {
    let stable = true;
    for (let k = 0; k < probes.length && stable; k++) {
      const rows = filler.map((f, i) => (i === position ? probes[k]! : f));
      const out = await runAt(rows, Array.from({ length: batch }, (_, i) => i), batch);
      stable = same(out[position]!, alone[k]!);
    }
    if (stable) slots.push(position);
  }
  // One stable position or none: a batch would carry one window anyway, so run them one at a
  // time (always the lone path) and spare the padding.
  const useSlots = slots.length > 1 ? slots : [0];
  const runBatch = slots.length > 1 ? batch : 1;

  return {
    slots: useSlots,
    batch: runBatch,
    run: (rows) => runAt(rows, useSlots, runBatch),
    newBatch: () => emptyBatch(useSlots, runBatch),
    runBatch: async (batch, rows) => {
      if (rows > useSlots.length) throw new RangeError(`a run takes ${useSlots.length} rows, not ${rows}`);
      return runFilled(batch as ReturnType<typeof emptyBatch>, rows);
    },
  };
}
