import { SCHEMA_FILES, avroType, type WindowFeatures } from '../../schemas';
import type { AlertKind, MachineAlerts, Severity } from './alerts';
import type { MachineState } from './inference.core';
import type { LearnedLimits } from './limits';
import type { MachineBaseline } from './baseline';
import { emptyHistory, rememberRow, rowOf, type HistoryLayout } from './lookback';
import { PdmError } from '../../lib/errors';

/**
 * The inference processor's changelog records, pure: what it keeps per machine (recent windows,
 * alert conditions) and per partition (progress), so another instance can take a partition over.
 * Co-partitioned with pdm.window-features.v1 (whose partitions hold whole machines) and
 * compacted:
 * - `W<machineId>\0<windowStartMs>`: a window in the machine's history (Avro WindowFeatures),
 *   a tombstone once it falls out of the longest lookback;
 * - `A<machineId>`: the machine's alert conditions (JSON), a tombstone when none is open;
 * - `L<machineId>`: the limits the machine learned from its normal operation (JSON);
 * - `B<machineId>`: the machine's own normal for the per-machine detector (JSON, its memory as
 *   base64 float32), learning or learned;
 * - `P`: the input offset the state includes everything before.
 * Values start with a format byte.
 */

const FORMAT = 1;
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

interface StoredCondition {
  key: string;
  kind: AlertKind;
  feature: string | null;
  run: number;
  firing: { severity: Severity; sinceMs: number } | null;
}

export function encodeAlerts(alerts: MachineAlerts): Buffer | null {
  if (alerts.conditions.size === 0) return null;
  const stored: StoredCondition[] = [...alerts.conditions.entries()].map(([key, c]) => ({ key, kind: c.kind, feature: c.feature, run: c.run, firing: c.firing }));
  return framed(Buffer.from(JSON.stringify(stored), 'utf8'));
}

export function decodeAlerts(value: Buffer): MachineAlerts {
  const stored = JSON.parse(body(value, 'alert conditions').toString('utf8')) as StoredCondition[];
  return { conditions: new Map(stored.map((c) => [c.key, { kind: c.kind, feature: c.feature, run: c.run, firing: c.firing }])) };
}

export const encodeProgress = (nextOffset: bigint): Buffer => framed(Buffer.from(nextOffset.toString(), 'utf8'));
export const decodeProgress = (value: Buffer): bigint => BigInt(body(value, 'progress').toString('utf8'));

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
  private nextOffset: bigint | null = null;

  apply(key: Buffer | null, value: Buffer | null): void {
    if (!key || key.length === 0) return;
    const text = key.toString('utf8');
    if (text === 'P') {
      if (value) this.nextOffset = decodeProgress(value);
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

  result(): { machines: Map<string, MachineState>; nextOffset: bigint | null } {
    const machines = new Map<string, MachineState>();
    const ids = new Set([...this.windows.keys(), ...this.alerts.keys(), ...this.limits.keys(), ...this.baselines.keys()]);
    for (const machineId of ids) {
      const history = emptyHistory(this.layout);
      const windows = [...(this.windows.get(machineId)?.entries() ?? [])].sort(([a], [b]) => a - b);
      for (const [start, { windowMs, row }] of windows) rememberRow(history, start, windowMs, row);
      machines.set(machineId, { history, alerts: this.alerts.get(machineId) ?? { conditions: new Map() }, limits: this.limits.get(machineId), baseline: this.baselines.get(machineId) });
    }
    return { machines, nextOffset: this.nextOffset };
  }
}
