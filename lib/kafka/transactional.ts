import type { Consumer, ConsumerRunConfig, EachBatchPayload, IHeaders, Producer } from 'kafkajs';
import { backoffDelayMs } from '../backoff';
import type { Logger } from '../logger';
import { metricOnce, Counter, Gauge, Histogram, type Registry } from '../metrics';
import { createKafka, type KafkaConnection } from './client';
import { compressionType, type Compression } from './compression';
import { isTransientKafkaError } from './errors';
import { toTopicMessages, type TopicBatch } from './producer';

/**
 * Consume-transform-produce, exactly once: each input batch's outputs and its consumed offsets
 * commit in one Kafka transaction, read_committed downstream.
 *
 * kafkajs implements TxnOffsetCommit v0/v1 only (no KIP-447 group-metadata fencing), so zombie
 * fencing rests on the transactional id: one producer per input partition with a stable id
 * (`<prefix>-<topic>-<partition>`), as Kafka Streams did before EOS v2. Whoever takes a
 * partition over initialises that id, which fences the previous owner and aborts its open
 * transaction.
 *
 * Each owned partition is a task (Kafka Streams' word): its producer, and whatever state the
 * processor keeps for it. A task opens when the partition's first batch arrives, after its
 * producer has fenced any previous owner, so the processor's `open` (a state restore) sees
 * everything that owner committed and nothing it did not. A task closes when the partition is
 * revoked or one of its transactions fails: the processor drops its state, and the next batch
 * opens the task afresh from what Kafka holds. Batches, punctuations and closes of one task run
 * one at a time.
 */

export interface IncomingRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  offset: string;
  timestampMs: number;
}

export interface BatchInfo {
  /** Offset after the partition's last record when the batch was fetched: equal to `nextOffset` when caught up. */
  highWatermark: string;
  /** Offset after the batch's last record. */
  nextOffset: string;
}

export interface TaskContext {
  /** Keeps group membership alive during long work (a restore). */
  heartbeat(): Promise<void>;
}

export interface TransactionalOptions {
  connection: KafkaConnection;
  groupId: string;
  inputTopic: string;
  transactionalIdPrefix: string;
  /** The outputs of one partition's batch; runs inside that batch's transaction. */
  process(partition: number, records: IncomingRecord[], batch: BatchInfo): Promise<TopicBatch[]> | TopicBatch[];
  /** A partition's task opens: restore its state. Runs after its producer fenced any previous owner. */
  open?(partition: number, context: TaskContext): Promise<void>;
  /** A partition's task closes (revoked, stopped, or a failed transaction): drop its state. */
  close?(partition: number): void;
  /**
   * Wall-clock work (Kafka Streams' WALL_CLOCK_TIME punctuation): every `intervalMs`, each open
   * task may emit records, committed in a transaction of their own (no offsets move).
   */
  punctuate?: { intervalMs: number; run(partition: number): TopicBatch[] };
  /** The consumer gave up (an error neither kafkajs retries nor a Kafka outage explains): the runner is dead. */
  onFatal?(error: Error): void;
  logger: Logger;
  /** Transactions and lag are counted here when given. */
  metrics?: { registry: Registry; stage: string };
  compression?: Compression;
  /** A transaction left open by a crashed instance is aborted by the broker after this long at most. */
  transactionTimeoutMs?: number;
  /** Upper bound of one partition's fetch, and so of one transaction's input. */
  maxBytesPerPartition?: number;
  /** A member that stops heartbeating (killed) loses its partitions after this long. */
  sessionTimeoutMs?: number;
  /**
   * false: at-least-once instead, for comparison (`bench window`): outputs are sent by one
   * idempotent producer and offsets committed after them, so a crash may repeat a batch.
   */
  exactlyOnce?: boolean;
}

export interface TransactionalRunner {
  stop(): Promise<void>;
  /** Committed transactions so far. */
  readonly commits: number;
  /** Partitions currently open (restored and processing). */
  openPartitions(): number[];
}

/** Record headers as text (the pipeline's headers are UTF-8; a repeated header keeps its first value). */
export const headersAsText = (headers: IHeaders | undefined): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) out[k] = Array.isArray(v) ? String(v[0]) : Buffer.isBuffer(v) ? v.toString('utf8') : v;
  return out;
};

interface Task {
  partition: number;
  /** Resolves once the producer has fenced the previous owner and `open` has run. */
  ready: Promise<Producer>;
  /** The tail of this task's work: everything on a task runs one after another. */
  tail: Promise<unknown>;
  closed: boolean;
}

function transactionMetrics(registry: Registry, stage: string) {
  return {
    transactions: metricOnce(registry, 'pdm_transactions_total', () => new Counter({ name: 'pdm_transactions_total', help: 'Kafka transactions of a stage, by outcome (committed, aborted).', labelNames: ['stage', 'outcome'], registers: [registry] })),
    duration: metricOnce(registry, 'pdm_transaction_duration_seconds', () => new Histogram({ name: 'pdm_transaction_duration_seconds', help: 'Time from opening a Kafka transaction to its commit.', labelNames: ['stage'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] })),
    lag: metricOnce(registry, 'pdm_consumer_lag_records', () => new Gauge({ name: 'pdm_consumer_lag_records', help: 'Records in an owned input partition not processed yet, as of its last fetch (a batch counts until it commits).', labelNames: ['stage', 'topic', 'partition'], registers: [registry] })),
    stage,
  };
}

type TransactionMetrics = ReturnType<typeof transactionMetrics>;

/**
 * Lag per owned partition. It is set when a batch is fetched (everything from its first record
 * on is waiting) and again once the batch commits, so a stage stuck on a batch (a sink retrying
 * its database, a registry outage) shows the records waiting instead of the 0 of its last success.
 * A fetch holding only transaction markers is no batch of ours; kafkajs reports it as an empty
 * one, and the marker must not stay behind as lag 1 on a caught-up partition. A revoked
 * partition's series goes away: another instance reports it now, and a sum would count it twice.
 */
function trackLag(consumer: Consumer, metrics: TransactionMetrics, topic: string, owned: (partition: number) => boolean) {
  const labels = (partition: number) => ({ stage: metrics.stage, topic, partition: String(partition) });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.batchSize === 0 && payload.topic === topic && owned(payload.partition)) metrics.lag.set(labels(payload.partition), Math.max(0, Number(payload.offsetLag)));
  });
  return {
    fetched: (partition: number, highWatermark: string, firstOffset: string) => metrics.lag.set(labels(partition), Number(BigInt(highWatermark) - BigInt(firstOffset))),
    committed: (partition: number, highWatermark: string, nextOffset: string) => metrics.lag.set(labels(partition), Math.max(0, Number(BigInt(highWatermark) - BigInt(nextOffset)))),
    released: (partition: number) => metrics.lag.remove(labels(partition)),
  };
}

export async function runTransactional(options: TransactionalOptions): Promise<TransactionalRunner> {
  const kafka = createKafka(options.connection, { logger: options.logger });
  const compression = compressionType(options.compression ?? 'zstd');
  const exactlyOnce = options.exactlyOnce ?? true;
  const metrics = options.metrics ? transactionMetrics(options.metrics.registry, options.metrics.stage) : undefined;
  // Both outcomes from the start: a rate of aborted transactions is 0, not missing, until one aborts.
  if (metrics && exactlyOnce) for (const outcome of ['committed', 'aborted']) metrics.transactions.inc({ stage: metrics.stage, outcome }, 0);
  const logger = options.logger.child({ component: 'transactional', topic: options.inputTopic });
  const tasks = new Map<number, Task>();
  let commits = 0;
  let stopping = false;

  /** Runs `work` after everything queued on the task so far. */
  const exclusive = <T>(task: Task, work: () => Promise<T>): Promise<T> => {
    const run = task.tail.then(work, work);
    task.tail = run.catch(() => undefined);
    return run;
  };

  // At-least-once: one plain idempotent producer for every partition, never disconnected by a task.
  let shared: Promise<Producer> | undefined;
  const sharedProducer = (): Promise<Producer> => {
    if (!shared) {
      const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      shared = p.connect().then(() => p);
    }
    return shared;
  };

  const openTask = (partition: number, heartbeat: () => Promise<void>): Task => {
    const producer = exactlyOnce
      ? kafka.producer({
          transactionalId: `${options.transactionalIdPrefix}-${options.inputTopic}-${partition}`,
          idempotent: true,
          maxInFlightRequests: 1,
          transactionTimeout: options.transactionTimeoutMs ?? 30_000,
        })
      : undefined;
    const task: Task = { partition, ready: undefined as unknown as Promise<Producer>, tail: Promise.resolve(), closed: false };
    task.ready = (async () => {
      const started = Date.now();
      let ready: Producer;
      if (producer) {
        await producer.connect();
        ready = producer;
      } else ready = await sharedProducer();
      await options.open?.(partition, { heartbeat });
      logger.debug({ partition, ms: Date.now() - started }, 'partition task opened');
      return ready;
    })();
    task.tail = task.ready.catch(() => undefined);
    tasks.set(partition, task);
    return task;
  };

  /** Closes a task after its queued work; the next batch of the partition opens a new one. */
  const closeTask = (task: Task, why: string): Promise<void> => {
    if (task.closed) return Promise.resolve();
    task.closed = true;
    if (tasks.get(task.partition) === task) tasks.delete(task.partition);
    // A failed task reopens on the next batch and keeps reporting its lag; a partition gone to another instance does not.
    if (why === 'revoked' || why === 'stopped') lag?.released(task.partition);
    return exclusive(task, async () => {
      options.close?.(task.partition);
      const producer = await task.ready.catch(() => undefined);
      if (exactlyOnce) await producer?.disconnect().catch(() => undefined);
      logger.debug({ partition: task.partition, why }, 'partition task closed');
    });
  };

  const taskFor = async (partition: number, heartbeat: () => Promise<void>): Promise<Task> => {
    const existing = tasks.get(partition);
    if (existing) return existing;
    return openTask(partition, heartbeat);
  };

  const commitTransaction = async (producer: Producer, outputs: TopicBatch[], offsets?: { partition: number; offset: string }): Promise<void> => {
    if (!exactlyOnce) {
      for (const topicMessages of toTopicMessages(outputs)) await producer.sendBatch({ topicMessages, acks: -1, compression });
      if (offsets) await consumer.commitOffsets([{ topic: options.inputTopic, ...offsets }]);
      commits++;
      return;
    }
    const started = process.hrtime.bigint();
    const transaction = await producer.transaction();
    try {
      for (const topicMessages of toTopicMessages(outputs)) await transaction.sendBatch({ topicMessages, acks: -1, compression });
      if (offsets) await transaction.sendOffsets({ consumerGroupId: options.groupId, topics: [{ topic: options.inputTopic, partitions: [offsets] }] });
      await transaction.commit();
      commits++;
      metrics?.transactions.inc({ stage: metrics.stage, outcome: 'committed' });
      metrics?.duration.observe({ stage: metrics.stage }, Number(process.hrtime.bigint() - started) / 1e9);
    } catch (err) {
      await transaction.abort().catch(() => undefined);
      metrics?.transactions.inc({ stage: metrics.stage, outcome: 'aborted' });
      throw err;
    }
  };

  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    readUncommitted: false,
    maxBytes: 16 * 1024 * 1024,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: Math.min(3000, Math.floor((options.sessionTimeoutMs ?? 30_000) / 3)),
  });
  const lag = metrics ? trackLag(consumer, metrics, options.inputTopic, (partition) => tasks.has(partition)) : undefined;
  /** The partitions of the group's last assignment to this member (none while it is out of the group). */
  let assigned = new Set<number>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (delayMs: number, work: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!stopping) work();
    }, delayMs);
    timer.unref();
    timers.add(timer);
  };
  /**
   * Opens (restores) an assigned partition's task now, as Kafka Streams does, not at its first
   * batch: a partition with nothing new to read still has open windows to close when it goes idle.
   * A failed open (the broker restarting) tries again for as long as the partition stays ours.
   */
  const openAhead = (partition: number, attempt = 1): void => {
    if (tasks.has(partition) || stopping || !assigned.has(partition)) return;
    const task = openTask(partition, async () => undefined);
    task.ready.catch((err: unknown) => {
      const delayMs = backoffDelayMs(attempt, 500, 10_000);
      logger.warn({ partition, err, delayMs }, 'opening the partition failed; trying again');
      void closeTask(task, 'open failed').then(() => later(delayMs, () => openAhead(partition, attempt + 1)));
    });
  };
  // A partition given away closes its task: if it comes back, a new producer initialises the id
  // again (the instance that had it meanwhile fenced the old one) and the state is restored anew.
  let rejoins = 0;
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    rejoins = 0;
    assigned = new Set(payload.memberAssignment[options.inputTopic] ?? []);
    logger.info({ partitions: [...assigned].sort((a, b) => a - b) }, 'partitions assigned');
    for (const task of [...tasks.values()]) if (!assigned.has(task.partition)) void closeTask(task, 'revoked');
    for (const partition of assigned) openAhead(partition);
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (stopping) return;
    // kafkajs has left the group by now, and another member may own these partitions before this
    // one is back: every task closes, and the rejoin opens (restores) whatever it is given.
    assigned = new Set();
    for (const task of [...tasks.values()]) void closeTask(task, 'consumer restart');
    if (payload.restart) {
      logger.warn({ err: payload.error }, 'consumer failed; kafkajs restarts it');
      return;
    }
    // kafkajs gives up for good on a broker away longer than its few retries, and on a group
    // coordinator it cannot find yet: both are what a broker restart looks like. Rejoin when it is back.
    if (isTransientKafkaError(payload.error)) {
      const delayMs = backoffDelayMs(++rejoins, 1000, 10_000);
      logger.warn({ err: payload.error, delayMs, attempt: rejoins }, 'Kafka does not answer; the consumer rejoins its group when it does');
      later(delayMs, () => {
        // A failed join crashes the consumer again (another CRASH, another try); run() itself rarely throws.
        consumer.run(runConfig).catch((err: unknown) => {
          logger.error({ err }, 'consumer failed for good');
          options.onFatal?.(err as Error);
        });
      });
      return;
    }
    logger.error({ err: payload.error }, 'consumer failed for good');
    options.onFatal?.(payload.error);
  });

  let punctuator: NodeJS.Timeout | undefined;
  if (options.punctuate) {
    const { intervalMs, run } = options.punctuate;
    let running = false;
    punctuator = setInterval(() => {
      if (running || stopping) return;
      running = true;
      const due = [...tasks.values()].map((task) =>
        exclusive(task, async () => {
          if (task.closed) return;
          const producer = await task.ready;
          const outputs = run(task.partition);
          if (outputs.every((b) => b.records.length === 0)) return;
          await commitTransaction(producer, outputs);
        }).catch((err: unknown) => {
          logger.warn({ partition: task.partition, err }, 'punctuation failed; the partition task is reopened from Kafka');
          void closeTask(task, 'punctuation failed').then(() => openAhead(task.partition));
        }),
      );
      void Promise.all(due).finally(() => {
        running = false;
      });
    }, intervalMs);
    punctuator.unref();
  }

  const runConfig: ConsumerRunConfig = {
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
      if (batch.messages.length === 0 || !isRunning() || isStale()) return;
      const records: IncomingRecord[] = batch.messages.map((m) => ({ key: m.key, value: m.value, headers: headersAsText(m.headers), offset: m.offset, timestampMs: Number(m.timestamp) }));
      const next = (BigInt(batch.lastOffset()) + 1n).toString();
      lag?.fetched(batch.partition, batch.highWatermark, batch.firstOffset() ?? batch.messages[0]!.offset);
      const task = await taskFor(batch.partition, heartbeat);
      // kafkajs heartbeats only between batches: keep the membership alive while this one waits
      // for its task's restore or a slow process() (a sink retrying its database).
      const beat = setInterval(() => void heartbeat().catch(() => undefined), 1000);
      try {
        await exclusive(task, async () => {
          if (task.closed) throw new Error(`partition ${batch.partition} was revoked while its batch waited`);
          const producer = await task.ready;
          const outputs = await options.process(batch.partition, records, { highWatermark: batch.highWatermark, nextOffset: next });
          await commitTransaction(producer, outputs, { partition: batch.partition, offset: next });
        });
      } catch (err) {
        // The processor's state may hold this batch while Kafka does not: start the partition over.
        await closeTask(task, 'transaction failed');
        throw err;
      } finally {
        clearInterval(beat);
      }
      resolveOffset(batch.lastOffset());
      lag?.committed(batch.partition, batch.highWatermark, next);
      await heartbeat();
    },
  };
  await consumer.connect();
  await consumer.subscribe({ topic: options.inputTopic, fromBeginning: true });
  await consumer.run(runConfig);

  return {
    get commits() {
      return commits;
    },
    openPartitions: () => [...tasks.keys()].sort((a, b) => a - b),
    async stop() {
      stopping = true;
      if (punctuator) clearInterval(punctuator);
      for (const timer of timers) clearTimeout(timer);
      // Disconnecting waits for the batch in flight, then leaves the group.
      await consumer.disconnect();
      await Promise.all([...tasks.values()].map((task) => closeTask(task, 'stopped')));
      if (shared) await (await shared).disconnect();
    },
  };
}
