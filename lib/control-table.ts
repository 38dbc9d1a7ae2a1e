import { Counter, Gauge } from 'prom-client';
import { PdmError, errorMessage } from './errors';
import { requireTopics } from './kafka/admin';
import type { KafkaConnection } from './kafka/client';
import { openPartitionReader, type PartitionReader } from './kafka/partition-reader';
import type { IncomingRecord } from './kafka/transactional';
import type { Logger } from './logger';
import { metricOnce, type Registry } from './metrics';
import { createRegistry as createSchemaRegistry } from './registry';
import { Serde, SerdeError, type Decoder } from './serde';
import { SCHEMA_FILES, avroType, type MachineControl } from '../schemas';

/**
 * pdm.machine-control.v1 as a table every instance holds in full, as Kafka Streams' GlobalKTable:
 * each instance reads every partition from the beginning, outside any consumer group, then follows
 * new records. The table keeps the latest RELEARN request per machine, in log order (records are
 * keyed by machine id, so one machine's requests share a partition and their order is the log's).
 *
 * A record that cannot be decoded (not Avro, a schema we can't read) is logged and skipped: the
 * topic is an audit trail anyone may write to, and its owners see it there. When the registry does
 * not answer, reading stops at that record and resumes from it on the next poll: nothing is
 * skipped for a reason that is not the record's own.
 */

export interface RelearnRequest {
  requestId: string;
  requestedBy: string;
  requestedAtMs: number;
  reason: string | null;
}

export interface ControlTable {
  /** Resolves once every partition has been read up to its end offset as it was when reading began. */
  ready(): Promise<void>;
  /** The latest RELEARN request for the machine seen so far, if any. */
  latestRelearn(machineId: string): RelearnRequest | undefined;
  /** Stops following; a `ready()` still waiting rejects with CONTROL_TABLE_STOPPED. */
  stop(): Promise<void>;
}

export type ControlTableErrorCode = 'CONTROL_TABLE_STOPPED';

export const DEFAULT_CONTROL_POLL_MS = 2000;

// ---- the rule: pure -----------------------------------------------------------------------------

export type RelearnTable = Map<string, RelearnRequest>;

/**
 * Applies one control record to the table: a RELEARN replaces the machine's entry; an action this
 * reader does not know (UNKNOWN, a later symbol read with today's schema) changes nothing.
 * Returns whether the table changed.
 */
export function applyControl(table: RelearnTable, control: MachineControl): boolean {
  if (control.action !== 'RELEARN') return false;
  table.set(control.machineId, { requestId: control.requestId, requestedBy: control.requestedBy, requestedAtMs: control.requestedAt, reason: control.reason });
  return true;
}

// ---- the host: reads and follows the topic -------------------------------------------------------

/** What the table reads through: the topic's partitions, a reader and a decoder (tests fake them). */
export interface ControlSource {
  topic: string;
  partitions: number;
  reader: Pick<PartitionReader, 'read' | 'close'>;
  decode: Decoder<MachineControl>;
}

export interface ControlTableSettings {
  /** Pause between two reads of the topic's new records. */
  pollMs?: number;
  logger: Logger;
  /** Registry for the table's metrics (pdm_control_*); none when omitted. */
  metrics?: Registry;
}

interface ControlMetrics {
  records: Counter<'action'>;
  skipped: Counter<'reason'>;
  failedPolls: Counter;
  machines: Gauge;
}

function controlMetrics(registry: Registry): ControlMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    metricOnce(registry, name, () => new Counter<L>({ name, help, labelNames, registers: [registry] }));
  return {
    records: counter('pdm_control_records_total', 'Machine control records read into the control table, by action.', ['action']),
    skipped: counter('pdm_control_records_skipped_total', 'Machine control records skipped because they could not be decoded, by reason code.', ['reason']),
    failedPolls: counter('pdm_control_poll_failures_total', 'Reads of the machine control topic that failed and are retried on the next poll.'),
    machines: metricOnce(
      registry,
      'pdm_control_relearn_machines',
      () => new Gauge({ name: 'pdm_control_relearn_machines', help: 'Machines with a relearn request in the control table.', registers: [registry] }),
    ),
  };
}

/** Follows `source` into a table; reading starts at once. */
export function followControlTable(source: ControlSource, settings: ControlTableSettings): ControlTable {
  const pollMs = settings.pollMs ?? DEFAULT_CONTROL_POLL_MS;
  const log = settings.logger.child({ component: 'control-table', topic: source.topic });
  const metrics = settings.metrics ? controlMetrics(settings.metrics) : undefined;
  const table: RelearnTable = new Map();
  // Next offset to read, per partition: after the last record applied or skipped.
  const next: bigint[] = Array.from({ length: source.partitions }, () => 0n);
  let stopped = false;
  let caughtUp = false;
  let failuresInARow = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  let resolveReady!: () => void;
  let rejectReady!: (err: Error) => void;
  const readyPromise = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // A table stopped before it caught up rejects `ready()`; nobody need be waiting on it.
  readyPromise.catch(() => undefined);

  const skip = (partition: number, record: IncomingRecord, reason: string, message: string): void => {
    metrics?.skipped.inc({ reason });
    log.warn({ partition, offset: record.offset, reason, err: message }, 'control record cannot be read, skipped');
    next[partition] = BigInt(record.offset) + 1n;
  };

  const take = async (partition: number, record: IncomingRecord): Promise<void> => {
    if (record.value === null) {
      skip(partition, record, 'tombstone', 'a record without a value');
      return;
    }
    let control: MachineControl;
    try {
      control = await source.decode(record.value);
    } catch (err) {
      // The registry not answering is not the record's fault: stop here and read it again next poll.
      if (!(err instanceof SerdeError) || !err.poison) throw err;
      skip(partition, record, err.code, err.message);
      return;
    }
    metrics?.records.inc({ action: control.action });
    if (applyControl(table, control)) {
      metrics?.machines.set(table.size);
      const { machineId, requestId, requestedBy } = control;
      log.info({ partition, offset: record.offset, machineId, requestId, requestedBy }, 'relearn request read');
    } else {
      log.debug({ partition, offset: record.offset, machineId: control.machineId, action: control.action }, 'control action unknown to this version, ignored');
    }
    next[partition] = BigInt(record.offset) + 1n;
  };

  const poll = async (): Promise<void> => {
    for (let partition = 0; partition < source.partitions && !stopped; partition++) {
      await source.reader.read(
        source.topic,
        partition,
        async (records) => {
          for (const record of records) if (!stopped) await take(partition, record);
        },
        { fromOffset: next[partition] },
      );
    }
  };

  const tick = async (): Promise<void> => {
    try {
      await poll();
      failuresInARow = 0;
      if (!caughtUp && !stopped) {
        caughtUp = true;
        log.info({ machines: table.size, offsets: next.map(String) }, 'control table caught up');
        resolveReady();
      }
    } catch (err) {
      if (stopped) return;
      metrics?.failedPolls.inc();
      // One line per outage, then one every 30 attempts: a registry down for an hour is not 1800 warnings.
      if (failuresInARow++ % 30 === 0) log.warn({ err: errorMessage(err), retryInMs: pollMs, caughtUp }, 'reading the control topic failed; retrying');
    }
    if (!stopped) {
      timer = setTimeout(() => (running = tick()), pollMs);
      timer.unref();
    }
  };
  running = tick();

  return {
    ready: () => readyPromise,
    latestRelearn: (machineId) => table.get(machineId),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      // Closing the reader first ends a read that waits on an absent broker.
      await source.reader.close();
      await running;
      if (!caughtUp) {
        rejectReady(new PdmError<ControlTableErrorCode>('CONTROL_TABLE_STOPPED', `the control table on ${source.topic} was stopped before it caught up`));
      }
    },
  };
}

export interface ControlTableOptions extends ControlTableSettings {
  /** The machine control topic, prefix included. */
  topic: string;
  connection: KafkaConnection;
  /** Base URL of the schema registry (SCHEMA_REGISTRY_URL). */
  registryUrl: string;
}

/**
 * Opens the machine control table on Kafka and the registry. The topic must exist (TOPIC_MISSING
 * says to run `pdmctl topics`); reading starts at once, and `ready()` says when it has caught up.
 */
export async function openControlTable(options: ControlTableOptions): Promise<ControlTable> {
  const partitions = (await requireTopics(options.connection, [options.topic])).get(options.topic)!;
  const reader = await openPartitionReader(options.connection, { maxBytes: 1024 * 1024 });
  const serde = new Serde(createSchemaRegistry(options.registryUrl).client);
  const decode = serde.decoder<MachineControl>(avroType(SCHEMA_FILES.machineControl));
  return followControlTable({ topic: options.topic, partitions, reader, decode }, options);
}
