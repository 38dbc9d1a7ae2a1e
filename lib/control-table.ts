import { Counter, Gauge } from 'prom-client';
import { alertControlProblem, applyAlertControl, emptyAlertControlState, activeSilences, type AlertControlState } from './alert-control';
import { PdmError, errorMessage } from './errors';
import { requireTopics } from './kafka/admin';
import type { KafkaConnection } from './kafka/client';
import { openPartitionReader, type PartitionReader } from './kafka/partition-reader';
import type { IncomingRecord } from './kafka/runner';
import type { Logger } from './logger';
import { metricOnce, type Registry } from './metrics';
import { createRegistry as createSchemaRegistry } from './registry';
import { Serde, SerdeError, type Decoder } from './serde';
import { SCHEMA_FILES, avroType, type AlertControl, type MachineControl, type SchemaFile } from '../schemas';

/**
 * A control topic as a table every instance holds in full, as Kafka Streams' GlobalKTable: each
 * instance reads every partition from the beginning, outside any consumer group, then follows new
 * records. One host (`followTopicTable`) serves every such table; what a record does to its table
 * is the table's rule, pure:
 *
 * - pdm.machine-control.v1 (the inference processor): the latest RELEARN request per machine, in
 *   log order (records are keyed by machine id, so one machine's requests share a partition and
 *   their order is the log's);
 * - pdm.alert-control.v1 (the email sink): acknowledgements and silences (lib/alert-control.ts).
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

export interface ControlTable extends TableHost {
  /** The latest RELEARN request for the machine seen so far, if any. */
  latestRelearn(machineId: string): RelearnRequest | undefined;
}

export type ControlTableErrorCode = 'CONTROL_TABLE_STOPPED';

/** What every followed table does: catch up, then follow until stopped. */
export interface TableHost {
  /** Resolves once every partition has been read up to its end offset as it was when reading began. */
  ready(): Promise<void>;
  /** Stops following; a `ready()` still waiting rejects with CONTROL_TABLE_STOPPED. */
  stop(): Promise<void>;
}

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

/** The machine control table's rule, around `applyControl`. */
function relearnRule(table: RelearnTable): TableRule<MachineControl> {
  return {
    metricPrefix: 'pdm_control',
    what: 'machine control',
    apply: (control) => applyControl(table, control),
    action: (control) => control.action,
    fields: ({ machineId, requestId, requestedBy }) => ({ machineId, requestId, requestedBy }),
    gauges: [{ name: 'pdm_control_relearn_machines', help: 'Machines with a relearn request in the control table.', value: () => table.size }],
  };
}

// ---- the host: reads and follows the topic -------------------------------------------------------

/** What a followed table does with its topic's records: the owner's rule, pure. */
export interface TableRule<T> {
  /** Prefix of the host's metrics: `<it>_records_total`, `<it>_records_skipped_total`, `<it>_poll_failures_total`. */
  metricPrefix: string;
  /** What the records are, for the metrics' help: "machine control". */
  what: string;
  /** Applies one record; false when it changes nothing (an action this version does not know, a record that can't be applied). */
  apply(value: T): boolean;
  /** Why a record can't be applied (logged as a warning), or undefined. */
  problem?(value: T): string | undefined;
  /** The record's action: the label of `<prefix>_records_total`. */
  action(value: T): string;
  /** What to log of a record. */
  fields(value: T): Record<string, unknown>;
  /** The table's size, set after every change and every poll (a silence ends with time, not with a record). */
  gauges?: ReadonlyArray<{ name: string; help: string; value(): number }>;
}

/** What a table reads through: the topic's partitions, a reader and a decoder (tests fake them). */
export interface ControlSource<T = MachineControl> {
  topic: string;
  partitions: number;
  reader: Pick<PartitionReader, 'read' | 'close'>;
  decode: Decoder<T>;
}

export interface ControlTableSettings {
  /** Pause between two reads of the topic's new records. */
  pollMs?: number;
  logger: Logger;
  /** Registry for the table's metrics; none when omitted. */
  metrics?: Registry;
}

interface HostMetrics {
  records: Counter<'action'>;
  skipped: Counter<'reason'>;
  failedPolls: Counter;
  gauges: Array<{ gauge: Gauge; value(): number }>;
}

function hostMetrics(registry: Registry, rule: Pick<TableRule<unknown>, 'metricPrefix' | 'what' | 'gauges'>): HostMetrics {
  const { metricPrefix: prefix, what } = rule;
  const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    metricOnce(registry, name, () => new Counter<L>({ name, help, labelNames, registers: [registry] }));
  return {
    records: counter(`${prefix}_records_total`, `${upperFirst(what)} records read into the ${what} table, by action.`, ['action']),
    skipped: counter(`${prefix}_records_skipped_total`, `${upperFirst(what)} records skipped because they could not be decoded, by reason code.`, ['reason']),
    failedPolls: counter(`${prefix}_poll_failures_total`, `Reads of the ${what} topic that failed and are retried on the next poll.`),
    gauges: (rule.gauges ?? []).map(({ name, help, value }) => {
      const gauge = metricOnce(registry, name, () => new Gauge({ name, help, registers: [registry] }));
      return { gauge, value };
    }),
  };
}

const upperFirst = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** A promise `ready()` hands out, settled by the host. */
function deferred() {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A table stopped before it caught up rejects `ready()`; nobody need be waiting on it.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** The host: polls every partition from where it left off, applies what it reads, and says when it has caught up. */
class TableFollower<T> implements TableHost {
  /** Next offset to read, per partition: after the last record applied or skipped. */
  private readonly next: bigint[];
  private stopped = false;
  private caughtUp = false;
  private failuresInARow = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly caught = deferred();

  constructor(
    private readonly source: ControlSource<T>,
    private readonly rule: TableRule<T>,
    private readonly pollMs: number,
    private readonly log: Logger,
    private readonly metrics: HostMetrics | undefined,
  ) {
    this.next = Array.from({ length: source.partitions }, () => 0n);
    this.running = this.tick();
  }

  ready(): Promise<void> {
    return this.caught.promise;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    // Closing the reader first ends a read that waits on an absent broker.
    await this.source.reader.close();
    await this.running;
    if (!this.caughtUp) {
      const message = `the control table on ${this.source.topic} was stopped before it caught up`;
      this.caught.reject(new PdmError<ControlTableErrorCode>('CONTROL_TABLE_STOPPED', message));
    }
  }

  private setGauges(): void {
    this.metrics?.gauges.forEach(({ gauge, value }) => gauge.set(value()));
  }

  private skip(partition: number, record: IncomingRecord, reason: string, message: string): void {
    this.metrics?.skipped.inc({ reason });
    this.log.warn({ partition, offset: record.offset, reason, err: message }, 'control record cannot be read, skipped');
    this.next[partition] = BigInt(record.offset) + 1n;
  }

  private async take(partition: number, record: IncomingRecord): Promise<void> {
    if (record.value === null) return this.skip(partition, record, 'tombstone', 'a record without a value');
    let value: T;
    try {
      value = await this.source.decode(record.value);
    } catch (err) {
      // The registry not answering is not the record's fault: stop here and read it again next poll.
      if (!(err instanceof SerdeError) || !err.poison) throw err;
      return this.skip(partition, record, err.code, err.message);
    }
    const { rule, log } = this;
    this.metrics?.records.inc({ action: rule.action(value) });
    const at = { partition, offset: record.offset, action: rule.action(value), ...rule.fields(value) };
    const problem = rule.problem?.(value);
    if (problem !== undefined) log.warn({ ...at, problem }, 'control record cannot be applied, ignored');
    else if (rule.apply(value)) {
      this.setGauges();
      log.info(at, 'control record applied');
    } else log.debug(at, 'control action unknown to this version, ignored');
    this.next[partition] = BigInt(record.offset) + 1n;
  }

  private async poll(): Promise<void> {
    const { source } = this;
    for (let partition = 0; partition < source.partitions && !this.stopped; partition++) {
      const onRecords = async (records: IncomingRecord[]) => {
        for (const record of records) if (!this.stopped) await this.take(partition, record);
      };
      await source.reader.read(source.topic, partition, onRecords, { fromOffset: this.next[partition] });
    }
  }

  private async tick(): Promise<void> {
    try {
      await this.poll();
      this.failuresInARow = 0;
      this.setGauges();
      if (!this.caughtUp && !this.stopped) {
        this.caughtUp = true;
        this.log.info({ offsets: this.next.map(String) }, 'control table caught up');
        this.caught.resolve();
      }
    } catch (err) {
      if (this.stopped) return;
      this.metrics?.failedPolls.inc();
      // One line per outage, then one every 30 attempts: a registry down for an hour is not 1800 warnings.
      const { pollMs: retryInMs, caughtUp } = this;
      if (this.failuresInARow++ % 30 === 0) this.log.warn({ err: errorMessage(err), retryInMs, caughtUp }, 'reading the control topic failed; retrying');
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => (this.running = this.tick()), this.pollMs);
      this.timer.unref();
    }
  }
}

/** Follows `source` into the table `rule` keeps; reading starts at once. */
export function followTopicTable<T>(source: ControlSource<T>, rule: TableRule<T>, settings: ControlTableSettings): TableHost {
  const log = settings.logger.child({ component: 'control-table', topic: source.topic });
  const metrics = settings.metrics ? hostMetrics(settings.metrics, rule) : undefined;
  return new TableFollower(source, rule, settings.pollMs ?? DEFAULT_CONTROL_POLL_MS, log, metrics);
}

/** Follows the machine control topic `source` into its table; reading starts at once. */
export function followControlTable(source: ControlSource, settings: ControlTableSettings): ControlTable {
  const table: RelearnTable = new Map();
  const host = followTopicTable(source, relearnRule(table), settings);
  return { ready: () => host.ready(), stop: () => host.stop(), latestRelearn: (machineId) => table.get(machineId) };
}

// ---- the alert control table --------------------------------------------------------------------

export interface AlertControlTable extends TableHost {
  /** The acknowledgements and silences read so far; lib/alert-control.ts answers questions about them. */
  readonly state: AlertControlState;
}

/** Follows pdm.alert-control.v1 (`source`) into its table; `clock` dates the active-silences gauge. */
export function followAlertControlTable(source: ControlSource<AlertControl>, settings: ControlTableSettings & { clock?: () => number }): AlertControlTable {
  const state = emptyAlertControlState();
  const clock = settings.clock ?? Date.now;
  const rule: TableRule<AlertControl> = {
    metricPrefix: 'pdm_alert_control',
    what: 'alert control',
    apply: (control) => applyAlertControl(state, control),
    problem: alertControlProblem,
    action: (control) => control.action,
    fields: ({ requestId, requestedBy, machineId, kind, dedupKey, silenceId }) => ({ requestId, requestedBy, machineId, kind, dedupKey, silenceId }),
    gauges: [
      { name: 'pdm_alert_control_active_silences', help: 'Operators\' silences that hold mail now.', value: () => activeSilences(state, clock()).length },
      { name: 'pdm_alert_control_acknowledged_alerts', help: 'Alerts (dedup keys) with an acknowledgement.', value: () => state.acks.size },
    ],
  };
  const host = followTopicTable(source, rule, settings);
  return { ready: () => host.ready(), stop: () => host.stop(), state };
}

export interface ControlTableOptions extends ControlTableSettings {
  /** The control topic, prefix included. */
  topic: string;
  connection: KafkaConnection;
  /** Base URL of the schema registry (SCHEMA_REGISTRY_URL). */
  registryUrl: string;
}

/** The topic's partitions (TOPIC_MISSING says to run `pdmctl topics`), a reader and a decoder into `schema`. */
async function openSource<T>(options: ControlTableOptions, schema: SchemaFile): Promise<ControlSource<T>> {
  const partitions = (await requireTopics(options.connection, [options.topic])).get(options.topic)!;
  const reader = await openPartitionReader(options.connection, { maxBytes: 1024 * 1024 });
  const serde = new Serde(createSchemaRegistry(options.registryUrl).client);
  return { topic: options.topic, partitions, reader, decode: serde.decoder<T>(avroType(schema)) };
}

/** Opens the machine control table on Kafka and the registry; reading starts at once, and `ready()` says when it has caught up. */
export async function openControlTable(options: ControlTableOptions): Promise<ControlTable> {
  return followControlTable(await openSource<MachineControl>(options, SCHEMA_FILES.machineControl), options);
}

/** Opens the alert control table, as `openControlTable`. */
export async function openAlertControlTable(options: ControlTableOptions & { clock?: () => number }): Promise<AlertControlTable> {
  return followAlertControlTable(await openSource<AlertControl>(options, SCHEMA_FILES.alertControl), options);
}
