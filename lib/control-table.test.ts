import pino from 'pino';
import type { AlertControl, MachineControl } from '../schemas';
import { silenceFor, silenceRequest, unsilenceRequest } from './alert-control';
import { applyControl, followAlertControlTable, followControlTable, type ControlSource, type RelearnTable } from './control-table';
import type { IncomingRecord } from './kafka/runner';
import { createRegistry } from './metrics';
import { SerdeError } from './serde';

const T0 = Date.UTC(2026, 11, 1, 9, 0);

const control = (overrides: Partial<MachineControl> = {}): MachineControl => ({
  requestId: 'r-1',
  machineId: 'lathe-1',
  action: 'RELEARN',
  requestedBy: 'ana@plant-7',
  requestedAt: T0,
  reason: null,
  ...overrides,
});

describe('applyControl, the rule of the control table', () => {
  test('a RELEARN becomes the machine\'s entry; a later one replaces it; other machines keep theirs', () => {
    const table: RelearnTable = new Map();
    expect(applyControl(table, control())).toBe(true);
    expect(applyControl(table, control({ requestId: 'r-2', machineId: 'press-2', requestedAt: T0 + 1 }))).toBe(true);
    const later = control({ requestId: 'r-3', requestedBy: 'bo@plant-7', requestedAt: T0 + 60_000, reason: 'spindle bearing replaced' });
    expect(applyControl(table, later)).toBe(true);
    expect(table.get('lathe-1')).toEqual({ requestId: 'r-3', requestedBy: 'bo@plant-7', requestedAtMs: T0 + 60_000, reason: 'spindle bearing replaced' });
    expect(table.get('press-2')).toEqual({ requestId: 'r-2', requestedBy: 'ana@plant-7', requestedAtMs: T0 + 1, reason: null });
  });

  test('log order decides, not the requester\'s clock: a request read later wins even with an earlier requestedAt', () => {
    const table: RelearnTable = new Map();
    applyControl(table, control({ requestId: 'r-1', requestedAt: T0 }));
    applyControl(table, control({ requestId: 'r-2', requestedAt: T0 - 5000 }));
    expect(table.get('lathe-1')?.requestId).toBe('r-2');
  });

  test('an action this version does not know (read as UNKNOWN) changes nothing', () => {
    const table: RelearnTable = new Map();
    applyControl(table, control());
    expect(applyControl(table, control({ requestId: 'r-9', action: 'UNKNOWN' }))).toBe(false);
    expect(table.get('lathe-1')?.requestId).toBe('r-1');
    expect(applyControl(table, control({ machineId: 'new-1', action: 'UNKNOWN' }))).toBe(false);
    expect(table.has('new-1')).toBe(false);
  });
});

/**
 * A topic in memory: partitions of records whose values are JSON (or the words `garbage` and
 * `registry-down`, which the fake decoder refuses as the registry serde would).
 */
function fakeSource<T = MachineControl>(partitions: number) {
  const log: IncomingRecord[][] = Array.from({ length: partitions }, () => []);
  const reads: Array<{ partition: number; fromOffset: bigint | undefined }> = [];
  let registryUp = true;
  let closed = false;
  const append = (partition: number, value: T | string | null) => {
    const records = log[partition]!;
    const bytes = value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
    records.push({ key: null, value: bytes, headers: {}, offset: String(records.length), timestampMs: T0 });
  };
  const source: ControlSource<T> = {
    topic: 'pdm.machine-control.v1',
    partitions,
    reader: {
      async read(_topic, partition, onRecords, options = {}) {
        if (closed) throw new Error('reader closed');
        reads.push({ partition, fromOffset: options.fromOffset });
        const from = Number(options.fromOffset ?? 0n);
        const records = log[partition]!.slice(from);
        if (records.length > 0) await onRecords(records);
        return { records: records.length, endOffset: String(log[partition]!.length), fetches: 1, skipped: 0 };
      },
      async close() {
        closed = true;
      },
    },
    async decode(buffer) {
      const text = buffer.toString();
      if (text === 'garbage') throw new SerdeError('SERDE_MAGIC_BYTE', 'magic byte is 103, expected 0 (not Confluent wire format)');
      if (text === 'registry-down' || !registryUp) throw new SerdeError('SERDE_REGISTRY_UNAVAILABLE', 'the registry did not answer for schema id 7');
      return JSON.parse(text) as T;
    },
  };
  return { source, append, reads, setRegistryUp: (up: boolean) => (registryUp = up) };
}

function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, warnings: () => lines.filter((l) => l.level === 40) };
}

const waitFor = async (what: string, condition: () => boolean, timeoutMs = 2000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};

describe('followControlTable', () => {
  test('is ready once every partition is read to its end, with the latest request of each machine', async () => {
    const { source, append } = fakeSource(3);
    append(0, control({ requestId: 'r-1' }));
    append(1, control({ requestId: 'r-2', machineId: 'press-2', reason: 'new tooling' }));
    append(0, control({ requestId: 'r-3', requestedBy: 'bo@plant-7', requestedAt: T0 + 1000 }));
    const table = followControlTable(source, { pollMs: 5, logger: capturingLogger().logger });
    try {
      await table.ready();
      expect(table.latestRelearn('lathe-1')).toEqual({ requestId: 'r-3', requestedBy: 'bo@plant-7', requestedAtMs: T0 + 1000, reason: null });
      expect(table.latestRelearn('press-2')).toEqual({ requestId: 'r-2', requestedBy: 'ana@plant-7', requestedAtMs: T0, reason: 'new tooling' });
      expect(table.latestRelearn('mill-3')).toBeUndefined();
    } finally {
      await table.stop();
    }
  });

  test('follows new records from where it stopped, without reading a partition from the start again', async () => {
    const { source, append, reads } = fakeSource(2);
    append(1, control({ requestId: 'r-1' }));
    const table = followControlTable(source, { pollMs: 5, logger: capturingLogger().logger });
    try {
      await table.ready();
      append(1, control({ requestId: 'r-2', reason: 'after the repair' }));
      await waitFor('the second request', () => table.latestRelearn('lathe-1')?.requestId === 'r-2');
      expect(table.latestRelearn('lathe-1')?.reason).toBe('after the repair');
      const later = reads.filter((r) => r.partition === 1).slice(1);
      expect(later.length).toBeGreaterThan(0);
      expect(later.every((r) => r.fromOffset! >= 1n)).toBe(true);
    } finally {
      await table.stop();
    }
  });

  test('skips a record it cannot decode with one warning and a metric, and carries on behind it', async () => {
    const { source, append } = fakeSource(1);
    const { logger, warnings } = capturingLogger();
    const metrics = createRegistry('test', false);
    append(0, 'garbage');
    append(0, null);
    append(0, control({ requestId: 'r-after' }));
    const table = followControlTable(source, { pollMs: 5, logger, metrics });
    try {
      await table.ready();
      expect(table.latestRelearn('lathe-1')?.requestId).toBe('r-after');
      expect(warnings().map((w) => [w.offset, w.reason])).toEqual([
        ['0', 'SERDE_MAGIC_BYTE'],
        ['1', 'tombstone'],
      ]);
      const text = await metrics.metrics();
      expect(text).toContain('pdm_control_records_skipped_total{reason="SERDE_MAGIC_BYTE",service="test"} 1');
      expect(text).toContain('pdm_control_records_total{action="RELEARN",service="test"} 1');
      expect(text).toContain('pdm_control_relearn_machines{service="test"} 1');
    } finally {
      await table.stop();
    }
  });

  test('while the registry does not answer it skips nothing: not ready, then reads the record once it does', async () => {
    const { source, append, setRegistryUp } = fakeSource(1);
    const { logger, warnings } = capturingLogger();
    append(0, control({ requestId: 'r-1' }));
    setRegistryUp(false);
    const table = followControlTable(source, { pollMs: 5, logger });
    try {
      let ready = false;
      void table.ready().then(() => (ready = true));
      await waitFor('a failed poll to be logged', () => warnings().length > 0);
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(ready).toBe(false);
      expect(table.latestRelearn('lathe-1')).toBeUndefined();
      // Several failed polls, one warning.
      expect(warnings()).toHaveLength(1);
      expect(warnings()[0]!.msg).toBe('reading the control topic failed; retrying');
      setRegistryUp(true);
      await table.ready();
      expect(table.latestRelearn('lathe-1')?.requestId).toBe('r-1');
    } finally {
      await table.stop();
    }
  });

  test('stop ends the polling; a ready() still waiting rejects with CONTROL_TABLE_STOPPED', async () => {
    const { source, append, setRegistryUp, reads } = fakeSource(1);
    append(0, control());
    setRegistryUp(false);
    const table = followControlTable(source, { pollMs: 5, logger: capturingLogger().logger });
    await waitFor('a first read', () => reads.length > 0);
    await table.stop();
    await expect(table.ready()).rejects.toMatchObject({ code: 'CONTROL_TABLE_STOPPED' });
    const readsAtStop = reads.length;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(reads).toHaveLength(readsAtStop);
  });
});

describe('followAlertControlTable', () => {
  const who = { requestedBy: 'ana@plant-7', nowMs: T0 };

  test('applies silences and their ends live, warns about a record it can not apply, and counts what it read', async () => {
    const { source, append } = fakeSource<AlertControl>(2);
    const { logger, warnings } = capturingLogger();
    const metrics = createRegistry('test', false);
    let now = T0 + 60_000;
    append(0, silenceRequest({ ...who, requestId: 's-1', machine: 'lathe-*', for: '2h', reason: 'spindle swap' }));
    append(1, { ...silenceRequest({ ...who, requestId: 's-bad', kind: 'ANOMALY', for: '1h', reason: 'r' }), endsAt: null });
    const table = followAlertControlTable(source, { pollMs: 5, logger, metrics, clock: () => now });
    try {
      await table.ready();
      expect(silenceFor(table.state, 'lathe-1', 'ANOMALY', now)?.silenceId).toBe('s-1');
      expect(warnings().map((w) => [w.msg, w.problem])).toEqual([['control record cannot be applied, ignored', 'a SILENCE without startsAt and endsAt']]);
      const text = await metrics.metrics();
      expect(text).toContain('pdm_alert_control_records_total{action="SILENCE",service="test"} 2');
      expect(text).toContain('pdm_alert_control_active_silences{service="test"} 1');

      // Ended early, from another partition: the table follows it without a restart.
      now = T0 + 2 * 60_000;
      append(1, unsilenceRequest({ ...who, nowMs: now, requestId: 'u-1', silenceId: 's-1' }));
      await waitFor('the silence to end', () => silenceFor(table.state, 'lathe-1', 'ANOMALY', now) === undefined);
      const after = await metrics.metrics();
      expect(after).toContain('pdm_alert_control_records_total{action="UNSILENCE",service="test"} 1');
      expect(after).toContain('pdm_alert_control_active_silences{service="test"} 0');
    } finally {
      await table.stop();
    }
  });
});
