import avro from 'avsc';
import { FEATURES, type Feature } from '../../schemas';
import type { FeatureAggregate, OpenWindow, PartitionWindows, WindowConfig } from './window';
import { windowKey } from './window';
import { PdmError } from '../../lib/errors';

/**
 * The window processor's changelog records: pure encoding of one partition's open windows and its
 * progress, so the state can be rebuilt from Kafka after a crash or on another instance.
 *
 * The changelog is co-partitioned with the input (input partition p writes changelog partition p)
 * and compacted, so it holds one record per open window plus one progress record per partition:
 * - key `W<machineId>\0<windowStartMs>`: the window's running aggregates and the event times it
 *   has counted (for duplicates), or a tombstone once the window has closed;
 * - key `P`: stream time, the input offset the state includes everything before, and the window
 *   size and grace the state was built with;
 * - key `C<name>`: an extra channel name the partition has taken (its cap counts them), written
 *   once, never deleted.
 *
 * Internal to the processor (not a contract topic): values are raw Avro behind a format byte,
 * and the schemas live here rather than in schemas/.
 */

/** Format 2 adds the extra channels to a window; format 1 (before them) is still read, as a window without extras. */
const FORMAT = 2;
const FORMAT_WITHOUT_EXTRAS = 1;

const aggregateSchema = { type: 'record', name: 'Aggregate', fields: ['n', 'mean', 'm2', 'min', 'max'].map((name) => ({ name, type: name === 'n' ? 'long' : 'double' })) };

const windowFields = [
  { name: 'machineId', type: 'string' },
  { name: 'windowStartMs', type: 'long' },
  { name: 'windowEndMs', type: 'long' },
  { name: 'count', type: 'long' },
  { name: 'features', type: { type: 'array', items: aggregateSchema } },
  // Ascending event times as differences (the first from the window start): zig-zag varints,
  // two bytes per reading at a few seconds' spacing.
  { name: 'timestampDeltas', type: { type: 'array', items: 'long' } },
];

const windowTypeV1 = avro.Type.forSchema({ type: 'record', name: 'WindowState', namespace: 'io.pdmstream.internal', fields: windowFields } as avro.Schema);
const windowType = avro.Type.forSchema({
  type: 'record',
  name: 'WindowState',
  namespace: 'io.pdmstream.internal',
  // An array of pairs, not a map: the channels' order (first seen first) is the window's.
  fields: [
    ...windowFields,
    { name: 'extras', type: { type: 'array', items: { type: 'record', name: 'Extra', fields: [{ name: 'name', type: 'string' }, { name: 'aggregate', type: 'Aggregate' }] } } },
  ],
} as avro.Schema);

const progressType = avro.Type.forSchema({
  type: 'record',
  name: 'PartitionProgress',
  namespace: 'io.pdmstream.internal',
  fields: [
    { name: 'streamTimeMs', type: ['null', 'long'] },
    { name: 'nextOffset', type: 'long' },
    { name: 'sizeMs', type: 'long' },
    { name: 'graceMs', type: 'long' },
  ],
} as avro.Schema);

export interface PartitionProgress {
  /** null before the partition's first reading. */
  streamTimeMs: number | null;
  /** The state includes input records up to, not including, this offset. */
  nextOffset: bigint;
  sizeMs: number;
  graceMs: number;
}

export const PROGRESS_KEY = Buffer.from('P');
const CHANNEL_PREFIX = 'C'.charCodeAt(0);

export const windowStateKey = (machineId: string, windowStartMs: number): Buffer => Buffer.from(`W${windowKey(machineId, windowStartMs)}`, 'utf8');

export const channelStateKey = (name: string): Buffer => Buffer.from(`C${name}`, 'utf8');

const framed = (body: Buffer): Buffer => Buffer.concat([Buffer.from([FORMAT]), body]);

function body(value: Buffer, what: string, formats: readonly number[] = [FORMAT]): Buffer {
  if (!formats.includes(value[0]!)) throw new PdmError('STATE_FORMAT', `${what} has format ${value[0]}, this processor reads format ${formats.join(' or ')}`);
  return value.subarray(1);
}

/** A channel record's value: its key says it all, a value only tells it from a tombstone. */
export const encodeChannel = (): Buffer => Buffer.from([FORMAT]);

export function encodeWindow(window: OpenWindow): Buffer {
  const deltas = new Array<number>(window.timestamps.length);
  let previous = window.windowStartMs;
  for (let i = 0; i < window.timestamps.length; i++) {
    deltas[i] = window.timestamps[i]! - previous;
    previous = window.timestamps[i]!;
  }
  return framed(
    windowType.toBuffer({
      machineId: window.machineId,
      windowStartMs: window.windowStartMs,
      windowEndMs: window.windowEndMs,
      count: window.count,
      features: FEATURES.map((f) => window.features[f]),
      timestampDeltas: deltas,
      extras: [...window.extras].map(([name, aggregate]) => ({ name, aggregate })),
    }),
  );
}

export function decodeWindow(value: Buffer): OpenWindow {
  const type = value[0] === FORMAT_WITHOUT_EXTRAS ? windowTypeV1 : windowType;
  const raw = type.fromBuffer(body(value, 'window state', [FORMAT, FORMAT_WITHOUT_EXTRAS])) as {
    machineId: string;
    windowStartMs: number;
    windowEndMs: number;
    count: number;
    features: FeatureAggregate[];
    timestampDeltas: number[];
    extras?: Array<{ name: string; aggregate: FeatureAggregate }>;
  };
  const features = {} as Record<Feature, FeatureAggregate>;
  FEATURES.forEach((f, i) => (features[f] = raw.features[i]!));
  const timestamps = new Array<number>(raw.timestampDeltas.length);
  let t = raw.windowStartMs;
  for (let i = 0; i < raw.timestampDeltas.length; i++) timestamps[i] = t += raw.timestampDeltas[i]!;
  const extras = new Map((raw.extras ?? []).map((e) => [e.name, e.aggregate]));
  return { machineId: raw.machineId, windowStartMs: raw.windowStartMs, windowEndMs: raw.windowEndMs, count: raw.count, features, extras, timestamps };
}

export function encodeProgress(progress: PartitionProgress): Buffer {
  return framed(progressType.toBuffer({ ...progress, nextOffset: Number(progress.nextOffset) }));
}

export function decodeProgress(value: Buffer): PartitionProgress {
  const raw = progressType.fromBuffer(body(value, 'partition progress', [FORMAT, FORMAT_WITHOUT_EXTRAS])) as { streamTimeMs: number | null; nextOffset: number; sizeMs: number; graceMs: number };
  return { ...raw, nextOffset: BigInt(raw.nextOffset) };
}

/** A partition's state as rebuilt from its changelog: records applied in offset order, last one wins. */
export class StateRestorer {
  private readonly open = new Map<string, OpenWindow>();
  private readonly channels = new Set<string>();
  private progress: PartitionProgress | undefined;

  apply(key: Buffer | null, value: Buffer | null): void {
    if (!key || key.length === 0) return;
    if (key.equals(PROGRESS_KEY)) {
      if (value) this.progress = decodeProgress(value);
      return;
    }
    if (key[0] === CHANNEL_PREFIX) {
      if (value) this.channels.add(key.subarray(1).toString('utf8'));
      return;
    }
    const id = key.subarray(1).toString('utf8');
    if (value === null) this.open.delete(id);
    else this.open.set(id, decodeWindow(value));
  }

  /** The restored windows, progress and extra channel names; undefined progress means the partition has no state yet. */
  result(): { windows: PartitionWindows; progress: PartitionProgress | undefined; channels: Set<string> } {
    const streamTimeMs = this.progress?.streamTimeMs ?? Number.NEGATIVE_INFINITY;
    return { windows: { streamTimeMs, open: this.open }, progress: this.progress, channels: this.channels };
  }
}

/** Why a restored state can't be used with this configuration, or undefined. */
export function configMismatch(progress: PartitionProgress, config: WindowConfig): string | undefined {
  if (progress.sizeMs === config.sizeMs && progress.graceMs === config.graceMs) return undefined;
  return `the state was built with windows of ${progress.sizeMs} ms and ${progress.graceMs} ms grace, this processor is set to ${config.sizeMs} ms and ${config.graceMs} ms`;
}
