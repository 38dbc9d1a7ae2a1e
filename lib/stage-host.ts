import { PdmError } from './errors';
import { ensureTopics, requireTopics } from './kafka/admin';
import { kafkaConnectionFromEnv, type KafkaConnection } from './kafka/client';
import { openPartitionReader, type PartitionReader } from './kafka/partition-reader';
import { runStage, type Delivery, type IncomingRecord, type StageCallbacks, type StageRunner } from './kafka/runner';
import type { Logger } from './logger';
import { metricOnce, Counter, Histogram, type Registry } from './metrics';
import { kafkaProbe, readiness, registryProbe, type Probe } from './readiness';
import { createRegistry, registryUrlFromEnv } from './registry';
import { Serde } from './serde';
import type { RunningService, ServiceContext } from './service';
import type { TopicSpec } from './topics';

/**
 * The host of every consuming service (window, inference, sink-postgres, sink-email): what Kafka
 * Streams' runtime does around a Processor's `init/process/close`, and Quix's state-and-checkpoint
 * wrapper around a function. A stage says what it does with a partition; the host owns the rest:
 *
 * - the topic checks (inputs and outputs must exist) and the co-partitioned changelog (created
 *   when missing, refused when its partition count differs from the input's);
 * - restoring a partition's state when it is assigned: its restore source read to the end, chunk
 *   by chunk with a heartbeat between chunks, timed in `<metrics>_restore_duration_seconds`,
 *   counted in `<metrics>_restored_records_total`, and logged as `partition restored`;
 * - one stage runner per input, from the runner settings it is given;
 * - /ready (a dead consumer, what the stage says blocks it, its servers' probes), a fatal error
 *   passed to the process, and stop: the runners first, then the stage's resources in reverse
 *   order of acquisition; a start that fails half-way releases what it had acquired.
 */

type LogFields = Record<string, unknown>;

/** What a stage does with the partitions of one input. */
export interface Stage {
  /** One chunk of the partition's restore source, in offset order, before `open`. */
  restore?(partition: number, records: readonly IncomingRecord[]): void | Promise<void>;
  /**
   * The partition's state is whole (its restore source read to `endOffset`, `records` of them;
   * both 0 without a restore source): the task opens. What it returns joins the log line.
   */
  open?(partition: number, restored: { records: number; endOffset: bigint }): LogFields | void | Promise<LogFields | void>;
  process: StageCallbacks['process'];
  punctuate?: StageCallbacks['punctuate'];
  close?(partition: number): void;
}

/** Rebuilds one partition's state from its changelog records, one at a time. */
export interface Restorer<S> {
  apply(key: Buffer | null, value: Buffer | null): void;
  result(): S;
}

/**
 * A stage whose partition state is rebuilt by a `Restorer`: each changelog record applied in
 * turn, then `open` given the result.
 */
export function restoredStage<S>(restorer: () => Restorer<S>, stage: Omit<Stage, 'restore' | 'open'> & { open(partition: number, state: S): LogFields | Promise<LogFields> }): Stage {
  const restorers = new Map<number, Restorer<S>>();
  const restorerOf = (partition: number) => restorers.get(partition) ?? restorers.set(partition, restorer()).get(partition)!;
  return {
    ...stage,
    restore(partition, records) {
      const r = restorerOf(partition);
      for (const record of records) r.apply(record.key, record.value);
    },
    open(partition) {
      const state = restorerOf(partition).result();
      restorers.delete(partition);
      return stage.open(partition, state);
    },
    close(partition) {
      restorers.delete(partition);
      stage.close?.(partition);
    },
  };
}

export interface StageInput {
  topic: string;
  groupId: string;
  delivery: Delivery;
  stage: Stage;
  /**
   * Where a partition's state is rebuilt from when it is assigned: the changelog partition of the
   * same number, or the input partition itself (a sink whose state is its input's history).
   * Unset: the stage keeps nothing across assignments.
   */
  restoreFrom?: 'changelog' | 'input';
}

export interface RunnerSettings {
  sessionTimeoutMs: number;
  transactionTimeoutMs?: number;
  maxBytesPerPartition?: number;
  partitionsConcurrently?: number;
}

/** What `wire` is given: the service's context, its connections, and a place for its clean-ups. */
export interface StageScope extends ServiceContext {
  /** The service's logger, its component the stage's name. */
  log: Logger;
  connection: KafkaConnection;
  registryUrl: string;
  serde: Serde;
  /** Partition counts of the checked topics. */
  partitions: ReadonlyMap<string, number>;
  /** The last stable offset of a partition now (a stage measuring how far it is behind). */
  endOffset(topic: string, partition: number): Promise<bigint>;
  /** Releases `resource` when the service stops (after its consumers) or its start fails; the last acquired is released first. */
  defer(release: () => unknown): void;
  /** Gives up: /ready says why and the process stops with an error, for a supervisor to see. */
  fail(error: Error): void;
}

/** What a service wires: its inputs and what it reports. */
export interface Wiring {
  inputs: StageInput[];
  /** Servers the stage needs besides Kafka and the schema registry (a database). */
  probes?: Probe[];
  /** What keeps the stage from its work, besides a dead consumer and its servers (a database away, mail not going out). */
  blocked?(): string | undefined;
  /** Called first when the service stops (or its start fails), before the consumers drain: work that could wait long gives up. */
  interrupt?(): void;
  /** Fields of the `<title> running` log line. */
  running: LogFields;
}

export interface StageHostSpec {
  /** The stage's name: the component of its logs, the label of its metrics, its client id `pdm-<name>`. */
  name: string;
  /** How its log lines name it: `window processor` running / stopped. */
  title: string;
  /** Topics that must exist before it starts: inputs, outputs, dead letters. */
  topics: readonly string[];
  /** A changelog co-partitioned with `input`: created when missing, refused when its partition count differs. */
  changelog?: { topic: string; input: string; description: string };
  /** Prefix of the restore metrics, registered when an input restores: `pdm_window` gives pdm_window_restore_duration_seconds. */
  metricsPrefix: string;
  runner: RunnerSettings;
  wire(scope: StageScope): Promise<Wiring>;
}

/**
 * A compacted topic holding a stage's state, co-partitioned with its input, cleaned eagerly: a
 * restore reads current state, not its history. Compaction never touches a partition's active
 * segment, so segments roll small and often (16 MiB or a minute): what a restore reads beyond one
 * record per key is at most about one segment per partition.
 */
export function changelogSpec(name: string, partitions: number, description: string): TopicSpec {
  const config = {
    'cleanup.policy': 'compact',
    'min.cleanable.dirty.ratio': '0.1',
    'segment.ms': String(60 * 1000),
    'segment.bytes': String(4 * 1024 * 1024),
    'min.compaction.lag.ms': '0',
    'delete.retention.ms': String(60 * 60 * 1000),
  };
  return { name, contractName: name, partitions, replicationFactor: 1, config, description };
}

async function checkTopics(connection: KafkaConnection, spec: StageHostSpec): Promise<Map<string, number>> {
  const partitions = await requireTopics(connection, [...spec.topics]);
  if (!spec.changelog) return partitions;
  const { topic, input, description } = spec.changelog;
  const inputPartitions = partitions.get(input) ?? (await requireTopics(connection, [input])).get(input)!;
  // Partition p's state lives in the changelog's partition p.
  const [changelog] = await ensureTopics(connection, [changelogSpec(topic, inputPartitions, description)]);
  if (changelog!.differences.some((d) => d.startsWith('partitions'))) {
    throw new PdmError('CHANGELOG_PARTITIONS', `${topic} must have as many partitions as ${input} (${inputPartitions}): ${changelog!.differences.join('; ')}`);
  }
  partitions.set(topic, inputPartitions);
  return partitions;
}

function restoreMetrics(metrics: Registry, prefix: string) {
  const seconds = `${prefix}_restore_duration_seconds`;
  const records = `${prefix}_restored_records_total`;
  return {
    seconds: metricOnce(metrics, seconds, () => new Histogram({ name: seconds, help: "Time to rebuild one partition's state when it is assigned.", buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60], registers: [metrics] })),
    records: metricOnce(metrics, records, () => new Counter({ name: records, help: 'Records read while restoring partitions.', registers: [metrics] })),
  };
}

/** The runner callbacks of one input: the stage's, with `open` preceded by the restore. */
function callbacks(input: StageInput, source: string | undefined, reader: () => PartitionReader, scope: StageScope, metrics: ReturnType<typeof restoreMetrics> | undefined): StageCallbacks {
  const { stage } = input;
  return {
    async open(partition, { heartbeat }) {
      const started = scope.clock();
      let restored = { records: 0, endOffset: 0n };
      let bytes = 0;
      let skipped = 0;
      if (source) {
        const result = await reader().read(source, partition, async (chunk) => {
          for (const r of chunk) bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
          await stage.restore?.(partition, chunk);
          await heartbeat();
        });
        restored = { records: result.records, endOffset: BigInt(result.endOffset) };
        skipped = result.skipped;
      }
      const fields = (await stage.open?.(partition, restored)) ?? {};
      if (!source || !metrics) return;
      const ms = scope.clock() - started;
      metrics.seconds.observe(ms / 1000);
      metrics.records.inc(restored.records);
      scope.log.info({ partition, from: source, records: restored.records, bytes, ...(skipped > 0 ? { emptyOffsetsSkipped: skipped } : {}), ...fields, ms }, 'partition restored');
    },
    process: (partition, records, batch) => stage.process(partition, records, batch),
    close: stage.close && ((partition) => stage.close!(partition)),
    punctuate: stage.punctuate,
  };
}

/** Starts a service around its stages (see the module's comment). */
export async function hostStage(context: ServiceContext, spec: StageHostSpec): Promise<RunningService> {
  const log = context.logger.child({ component: spec.name });
  const connection = kafkaConnectionFromEnv(`pdm-${spec.name}`, context.env);
  const registryUrl = registryUrlFromEnv(context.env);
  const partitions = await checkTopics(connection, spec);
  const releases: Array<() => unknown> = [];
  const release = async () => {
    for (const r of releases.splice(0).reverse()) await Promise.resolve(r()).catch((err: unknown) => log.warn({ err }, 'releasing a resource failed'));
  };
  let failure: Error | undefined;
  const fail = (error: Error) => {
    failure ??= error;
    context.fail?.(error);
  };
  let reader: PartitionReader | undefined;
  // Opened once the wiring says an input restores (a restoring stage's `open` and `endOffset` need it).
  const readerOf = (): PartitionReader => {
    if (!reader) throw new PdmError('STAGE_NOT_OPEN', `${spec.name}: no partition reader (no input restores)`);
    return reader;
  };
  const scope: StageScope = {
    ...context, log, connection, registryUrl, partitions, fail,
    serde: new Serde(createRegistry(registryUrl).client),
    endOffset: (topic, partition) => readerOf().endOffset(topic, partition),
    defer: (r) => void releases.push(r),
  };
  const runners: StageRunner[] = [];
  let wiring: Wiring | undefined;
  try {
    wiring = await spec.wire(scope);
    if (wiring.inputs.some((i) => i.restoreFrom)) {
      const opened = await openPartitionReader(connection);
      releases.push(() => opened.close());
      reader = opened;
    }
    const metrics = wiring.inputs.some((i) => i.restoreFrom) ? restoreMetrics(context.metrics, spec.metricsPrefix) : undefined;
    for (const input of wiring.inputs) {
      const source = input.restoreFrom === 'changelog' ? spec.changelog?.topic : input.restoreFrom === 'input' ? input.topic : undefined;
      runners.push(await runStage({
        ...spec.runner, connection, logger: context.logger, groupId: input.groupId, inputTopic: input.topic, transactionalIdPrefix: input.groupId, delivery: input.delivery,
        metrics: { registry: context.metrics, stage: spec.name }, onFatal: fail, ...callbacks(input, source, readerOf, scope, metrics),
      }));
    }
  } catch (err) {
    wiring?.interrupt?.();
    for (const runner of runners) await runner.stop().catch(() => undefined);
    await release();
    throw err;
  }
  const wired = wiring;
  const dependencies = readiness([kafkaProbe(connection), registryProbe(registryUrl), ...(wired.probes ?? [])]);
  log.info(wired.running, `${spec.title} running`);
  return {
    ready: async () => (failure ? `the consumer failed: ${failure.message}` : (wired.blocked?.() ?? (await dependencies()))),
    async stop() {
      wired.interrupt?.();
      await Promise.all(runners.map((r) => r.stop()));
      await release();
      log.info({ commits: runners.reduce((n, r) => n + r.commits, 0) }, `${spec.title} stopped`);
    },
  };
}
