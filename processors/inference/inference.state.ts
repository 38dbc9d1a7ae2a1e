import { SCHEMA_FILES, avroType, type WindowFeatures } from '../../schemas';
import type { AlertKind, MachineAlerts, Severity } from './alerts';
import type { MachineState } from './inference.core';
import type { LearnedLimits } from './limits';
import type { MachineBaseline, WatchingBaseline } from './baseline';
import { emptyHistory, rememberRow, reshape, rowOf, slotOf, type HistoryLayout } from './lookback';
import { PdmError } from '../../lib/errors';

/**
 * The inference processor's changelog records, pure: what it keeps per machine and per partition
 * (progress), so another instance can take a partition over. Co-partitioned with
 * pdm.window-features.v1 (whose partitions hold whole machines) and compacted by key:
 * - `M<machineId>` (format 2): the machine's whole state, a snapshot: its history ring (float32
 *   values, the windows held as a bitmap), alert conditions, learned limits and own normal;
 * - `D<machineId>` (format 3): what changed since that snapshot, rewritten with each transaction
 *   that touches the machine until the next snapshot deletes it (inference.journal.ts decides
 *   which is written). A restore reads at most these two records per machine, whatever its
 *   history's length; a delta without its snapshot (never written so) is ignored;
 * - `P`: the input offset the state includes everything before.
 * Format 1, read still and replaced machine by machine as each is next written: a record per
 * window of history (`W<machineId>\0<windowStartMs>`, Avro WindowFeatures), `A` (alert
 * conditions), `L` (learned limits), `B` (own normal, JSON with its memory in base64).
 * Values start with a format byte.
 */

const FORMAT = 1;
const SNAPSHOT_FORMAT = 2;
export const PROGRESS_KEY = Buffer.from('P');

const framed = (body: Buffer): Buffer => Buffer.concat([Buffer.from([FORMAT]), body]);
function body(value: Buffer, what: string): Buffer {
  if (value[0] !== FORMAT) throw new PdmError('STATE_FORMAT', `${what} has format ${value[0]}, this processor reads format ${FORMAT}`);
  return value.subarray(1);
}

export const windowKey = (machineId: string, windowStartMs: number): Buffer => Buffer.from(`W${machineId}\u0000${windowStartMs}`, 'utf8');
export const alertsKey = (machineId: string): Buffer => Buffer.from(`A${machineId}`, 'utf8');
export const limitsKey = (machineId: string): Buffer => Buffer.from(`L${machineId}`, 'utf8');

export const baselineKey = (machineId: string): Buffer => Buffer.from(`B${machineId}`, 'utf8');

export function encodeBaseline(baseline: MachineBaseline): Buffer {
  const stored = baseline.phase === 'watching' ? { ...baseline, memory: Buffer.from(baseline.memory.buffer, baseline.memory.byteOffset, baseline.memory.byteLength).toString('base64') } : baseline;
  return framed(Buffer.from(JSON.stringify(stored), 'utf8'));
}

export function decodeBaseline(value: Buffer): MachineBaseline {
  const stored = JSON.parse(body(value, 'baseline').toString('utf8')) as MachineBaseline & { memory?: string };
  if (stored.phase !== 'watching') return stored;
  const bytes = Buffer.from(stored.memory as unknown as string, 'base64');
  const memory = new Float32Array(bytes.length / 4);
  for (let i = 0; i < memory.length; i++) memory[i] = bytes.readFloatLE(i * 4);
  return { ...stored, memory };
}

export const encodeLimits = (limits: LearnedLimits): Buffer => framed(Buffer.from(JSON.stringify(limits), 'utf8'));
export const decodeLimits = (value: Buffer): LearnedLimits => JSON.parse(body(value, 'learned limits').toString('utf8')) as LearnedLimits;

export const encodeWindow = (window: WindowFeatures): Buffer => framed(avroType(SCHEMA_FILES.windowFeatures).toBuffer(window));
export const decodeWindow = (value: Buffer): WindowFeatures => avroType(SCHEMA_FILES.windowFeatures).fromBuffer(body(value, 'history window')) as WindowFeatures;

export interface StoredCondition {
  key: string;
  kind: AlertKind;
  feature: string | null;
  run: number;
  firing: { severity: Severity; sinceMs: number } | null;
}

export const storedConditions = (alerts: MachineAlerts): StoredCondition[] =>
  [...alerts.conditions.entries()].map(([key, c]) => ({ key, kind: c.kind, feature: c.feature, run: c.run, firing: c.firing }));
export const restoredConditions = (stored: readonly StoredCondition[]): MachineAlerts => ({
  conditions: new Map(stored.map((c) => [c.key, { kind: c.kind, feature: c.feature, run: c.run, firing: c.firing }])),
});

export function encodeAlerts(alerts: MachineAlerts): Buffer | null {
  if (alerts.conditions.size === 0) return null;
  return framed(Buffer.from(JSON.stringify(storedConditions(alerts)), 'utf8'));
}

export function decodeAlerts(value: Buffer): MachineAlerts {
  return restoredConditions(JSON.parse(body(value, 'alert conditions').toString('utf8')) as StoredCondition[]);
}

export const encodeProgress = (nextOffset: bigint): Buffer => framed(Buffer.from(nextOffset.toString(), 'utf8'));
export const decodeProgress = (value: Buffer): bigint => BigInt(body(value, 'progress').toString('utf8'));

export const machineKey = (machineId: string): Buffer => Buffer.from(`M${machineId}`, 'utf8');

/** The snapshot's JSON part: everything but the history's values and the own normal's memory, which follow as raw float32. */
interface SnapshotHeader {
  channels: readonly string[];
  keep: number;
  windowMs: number;
  latestStartMs: number | null;
  alerts: StoredCondition[];
  limits?: LearnedLimits;
  /** The own normal, a watching one without its memory. */
  baseline?: Record<string, unknown>;
  /** Length of the watching normal's memory, which follows the history's values. */
  memory?: number;
}

/**
 * JSON of values that never change once made (a layout's channels, learned limits, a learned
 * normal's centre and scales), by identity: most of a snapshot's header is the same from one
 * window to the next, and stringifying its doubles again was most of the cost of a snapshot.
 */
const frozenJson = new WeakMap<object, string>();
function frozen(key: object, value: () => unknown): string {
  let json = frozenJson.get(key);
  if (json === undefined) frozenJson.set(key, (json = JSON.stringify(value())));
  return json;
}

/** What moves in a watching normal from window to window (EWMA, runs): everything but what it learned and its memory. */
export function baselineMovingJson(baseline: WatchingBaseline): string {
  const { memory: _memory, channels: _channels, center: _center, scale: _scale, residualScale: _residualScale, noisy: _noisy, ...moving } = baseline;
  return JSON.stringify(moving);
}

/** The own normal's JSON without its memory: what a watching normal learned is stringified once, what moves each time. */
function baselineJson(baseline: MachineBaseline): string {
  if (baseline.phase !== 'watching') return JSON.stringify(baseline);
  const { channels, center, scale, residualScale, noisy } = baseline;
  const learned = frozen(center, () => ({ channels, center, scale, residualScale, noisy })).slice(1, -1);
  return `${baselineMovingJson(baseline).slice(0, -1)},${learned}}`;
}

/** A machine's whole state as one changelog value (format 2). */
export function encodeMachine(state: MachineState): Buffer {
  const { history, baseline } = state;
  const { keep, channels } = history.layout;
  const held = Buffer.alloc(Math.ceil(keep / 8));
  for (let s = 0; s < keep; s++) if (!Number.isNaN(history.starts[s]!)) held[s >> 3]! |= 1 << (s & 7);
  const memory = baseline?.phase === 'watching' ? baseline.memory : undefined;
  const moving: Omit<SnapshotHeader, 'channels' | 'limits' | 'baseline'> = {
    keep,
    windowMs: history.windowMs,
    latestStartMs: Number.isFinite(history.latestStartMs) ? history.latestStartMs : null,
    alerts: storedConditions(state.alerts),
    memory: memory?.length,
  };
  // The header is SnapshotHeader's JSON, spliced from the parts that move and the frozen ones.
  let header = `${JSON.stringify(moving).slice(0, -1)},"channels":${frozen(channels, () => channels)}`;
  if (state.limits) header += `,"limits":${frozen(state.limits, () => state.limits)}`;
  if (baseline) header += `,"baseline":${baselineJson(baseline)}`;
  const json = Buffer.from(`${header}}`, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  const floats = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  return Buffer.concat([Buffer.from([SNAPSHOT_FORMAT]), length, json, held, floats(history.values), ...(memory ? [floats(memory)] : [])]);
}

/** A float32 array copied out of a buffer (whose offset need not be aligned). */
function float32At(value: Buffer, offset: number, length: number): Float32Array {
  const out = new Float32Array(length);
  new Uint8Array(out.buffer).set(value.subarray(offset, offset + length * 4));
  return out;
}

export function decodeMachine(value: Buffer): MachineState {
  if (value[0] !== SNAPSHOT_FORMAT) throw new PdmError('STATE_FORMAT', `machine snapshot has format ${value[0]}, this processor reads format ${SNAPSHOT_FORMAT}`);
  const jsonLength = value.readUInt32LE(1);
  const header = JSON.parse(value.subarray(5, 5 + jsonLength).toString('utf8')) as SnapshotHeader;
  const { keep, channels, windowMs } = header;
  const history = emptyHistory({ channels: channels as HistoryLayout['channels'], keep });
  let offset = 5 + jsonLength;
  const held = value.subarray(offset, offset + Math.ceil(keep / 8));
  offset += held.length;
  history.values = float32At(value, offset, keep * channels.length);
  offset += keep * channels.length * 4;
  history.windowMs = windowMs;
  if (header.latestStartMs !== null) {
    history.latestStartMs = header.latestStartMs;
    // Each slot holds the one start on its residue within the `keep` windows up to the latest.
    const latestSlot = slotOf(history, header.latestStartMs);
    for (let s = 0; s < keep; s++) if (held[s >> 3]! & (1 << (s & 7))) history.starts[s] = header.latestStartMs - ((latestSlot - s + keep) % keep) * windowMs;
  }
  const baseline = header.baseline && ((header.memory !== undefined ? { ...header.baseline, memory: float32At(value, offset, header.memory) } : header.baseline) as unknown as MachineBaseline);
  return {
    history,
    alerts: restoredConditions(header.alerts),
    limits: header.limits,
    baseline,
  };
}

const DELTA_FORMAT = 3;
export const deltaKey = (machineId: string): Buffer => Buffer.from(`D${machineId}`, 'utf8');

/** One window as remembered: its start, its length and its row of the layout's channels. */
export interface JournalRow {
  startMs: number;
  windowMs: number;
  row: ArrayLike<number>;
}

interface DeltaHeader {
  alerts: StoredCondition[];
  /** A watching normal's moving part (EWMA, runs), when the machine has one. */
  baseline?: Record<string, unknown>;
  width: number;
  rows: number;
}

/** Bytes of one remembered window in a delta: start and length (float64), then the row (float32). */
export const rowBytes = (width: number): number => 16 + 4 * width;

/** Writes one remembered window at `offset` of `out`, as a delta carries it. Encoded once, when remembered. */
export function encodeRow({ startMs, windowMs, row }: JournalRow, width: number, out: Buffer, offset: number): void {
  out.writeDoubleLE(startMs, offset);
  out.writeDoubleLE(windowMs, offset + 8);
  for (let c = 0; c < width; c++) out.writeFloatLE(row[c]!, offset + 16 + 4 * c);
}

/** A delta: the machine's moving parts now, and the rows remembered since its snapshot (`encodeRow`, in order, back to back). */
export function encodeDelta(state: MachineState, rows: Buffer): Buffer {
  const width = state.history.layout.channels.length;
  const baseline = state.baseline?.phase === 'watching' ? `,"baseline":${baselineMovingJson(state.baseline)}` : '';
  const json = `{"alerts":${JSON.stringify(storedConditions(state.alerts))},"width":${width},"rows":${rows.length / rowBytes(width)}${baseline}}`;
  const head = Buffer.allocUnsafe(5 + Buffer.byteLength(json));
  head[0] = DELTA_FORMAT;
  head.writeUInt32LE(head.length - 5, 1);
  head.write(json, 5, 'utf8');
  return Buffer.concat([head, rows]);
}

/** Replays a delta onto the state of the snapshot it extends (in that snapshot's layout). */
export function applyDelta(state: MachineState, value: Buffer): void {
  if (value[0] !== DELTA_FORMAT) throw new PdmError('STATE_FORMAT', `machine delta has format ${value[0]}, this processor reads format ${DELTA_FORMAT}`);
  const jsonLength = value.readUInt32LE(1);
  const header = JSON.parse(value.subarray(5, 5 + jsonLength).toString('utf8')) as DeltaHeader;
  const width = state.history.layout.channels.length;
  if (header.width !== width) throw new PdmError('STATE_FORMAT', `machine delta has rows of ${header.width} channels, its snapshot ${width}`);
  let offset = 5 + jsonLength;
  const row = new Float64Array(width);
  for (let r = 0; r < header.rows; r++) {
    const startMs = value.readDoubleLE(offset);
    const windowMs = value.readDoubleLE(offset + 8);
    offset += 16;
    for (let c = 0; c < width; c++, offset += 4) row[c] = value.readFloatLE(offset);
    rememberRow(state.history, startMs, windowMs, row);
  }
  state.alerts = restoredConditions(header.alerts);
  if (header.baseline && state.baseline?.phase === 'watching') Object.assign(state.baseline, header.baseline);
}

/** A copy of `value` in an ArrayBuffer of its own (never a slice of a fetched batch or of Buffer's shared pool). */
function ownCopy(value: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(value.length);
  value.copy(copy);
  return copy;
}

/**
 * Rebuilds a partition's machines from its changelog, records in offset order. Each window is
 * reduced to the layout's row as it is read: 10,000 machines' weeks of decoded window records
 * would hold gigabytes for the length of a restore.
 */
export class InferenceRestorer {
  private readonly windows = new Map<string, Map<number, { windowMs: number; row: Float64Array }>>();

  constructor(private readonly layout: HistoryLayout) {}
  private readonly alerts = new Map<string, MachineAlerts>();
  private readonly limits = new Map<string, LearnedLimits>();
  private readonly baselines = new Map<string, MachineBaseline>();
  /**
   * The last snapshot and delta of each machine, as read: decoded at the end, since most records
   * of a changelog not yet compacted are older versions. Copied into memory of their own, so that
   * they do not hold the fetched batches they were read from.
   */
  private readonly snapshots = new Map<string, Buffer>();
  private readonly deltas = new Map<string, Buffer>();
  private nextOffset: bigint | null = null;

  apply(key: Buffer | null, value: Buffer | null): void {
    if (!key || key.length === 0) return;
    const text = key.toString('utf8');
    if (text === 'P') {
      if (value) this.nextOffset = decodeProgress(value);
    } else if (text.startsWith('M')) {
      // A snapshot is the machine's whole state: what format 1 said of it before is superseded.
      const machineId = text.slice(1);
      for (const legacy of [this.windows, this.alerts, this.limits, this.baselines]) legacy.delete(machineId);
      if (value) this.snapshots.set(machineId, ownCopy(value));
      else this.snapshots.delete(machineId);
    } else if (text.startsWith('D')) {
      if (value) this.deltas.set(text.slice(1), ownCopy(value));
      else this.deltas.delete(text.slice(1));
    } else if (text.startsWith('W')) {
      const [machineId, start] = text.slice(1).split('\u0000') as [string, string];
      let machine = this.windows.get(machineId);
      if (!machine) this.windows.set(machineId, (machine = new Map()));
      if (value) {
        const window = decodeWindow(value);
        machine.set(Number(start), { windowMs: window.windowEnd - window.windowStart, row: rowOf(window, this.layout) });
      } else machine.delete(Number(start));
    } else if (text.startsWith('A')) {
      const machineId = text.slice(1);
      if (value) this.alerts.set(machineId, decodeAlerts(value));
      else this.alerts.delete(machineId);
    } else if (text.startsWith('L')) {
      const machineId = text.slice(1);
      if (value) this.limits.set(machineId, decodeLimits(value));
      else this.limits.delete(machineId);
    } else if (text.startsWith('B')) {
      const machineId = text.slice(1);
      if (value) this.baselines.set(machineId, decodeBaseline(value));
      else this.baselines.delete(machineId);
    }
  }

  /**
   * The machines, and for those still in format 1 the keys of their records: the processor deletes
   * them in the transaction that writes the machine's first snapshot.
   */
  result(): { machines: Map<string, MachineState>; nextOffset: bigint | null; legacyKeys: Map<string, Buffer[]> } {
    const machines = new Map<string, MachineState>();
    for (const [machineId, snapshot] of this.snapshots) {
      const state = decodeMachine(snapshot);
      this.snapshots.delete(machineId);
      const delta = this.deltas.get(machineId);
      if (delta) applyDelta(state, delta);
      const { channels, keep } = state.history.layout;
      // Written under the models in use: the history is theirs as it is; else it keeps what both layouts share.
      const same = keep === this.layout.keep && channels.length === this.layout.channels.length && channels.every((c, i) => c === this.layout.channels[i]);
      machines.set(machineId, { ...state, history: same ? { ...state.history, layout: this.layout } : reshape(state.history, this.layout) });
    }
    const legacyKeys = new Map<string, Buffer[]>();
    const ids = new Set([...this.windows.keys(), ...this.alerts.keys(), ...this.limits.keys(), ...this.baselines.keys()]);
    for (const machineId of ids) {
      const history = emptyHistory(this.layout);
      const windows = [...(this.windows.get(machineId)?.entries() ?? [])].sort(([a], [b]) => a - b);
      for (const [start, { windowMs, row }] of windows) rememberRow(history, start, windowMs, row);
      machines.set(machineId, { history, alerts: this.alerts.get(machineId) ?? { conditions: new Map() }, limits: this.limits.get(machineId), baseline: this.baselines.get(machineId) });
      const keys = [...windows.map(([start]) => windowKey(machineId, start)), alertsKey(machineId), limitsKey(machineId), baselineKey(machineId)];
      legacyKeys.set(machineId, keys);
    }
    return { machines, nextOffset: this.nextOffset, legacyKeys };
  }
}
