import { atLeastOnceCommitter, transactionalCommitter, type Committer } from '../runner/committers';
import { incomingRecord, stageRunnerOf, systemClock } from '../runner/group';
import { lagTracker, transactionMetrics, type LagTracker, type TransactionMetrics } from '../runner/metrics';
import { TaskQueue } from '../runner/task-queue';
import type { AtLeastOncePort, StageOptions, StageRunner, TransactionalProducerPort } from '../runner/types';
import { createConfluentKafka, toConfluentMessages, type ConfluentBatchPayload, type ConfluentConsumer, type ConfluentKafka } from './client';

/**
 * The stage runner's consumer-group wiring on @confluentinc/kafka-javascript: the same task queue
 * and committers as runner/group.ts (kafkajs), other calls. What differs, and why it matters:
 * - exactly-once: `sendOffsets` passes the consumer, so the offsets commit with the group's
 *   generation (KIP-447): a member that lost its partitions is fenced by the group as well as by
 *   the stable transactional id of the partition's producer, which is kept.
 * - assignments come from librdkafka's rebalance callback (kafkajs: the GROUP_JOIN event);
 * - librdkafka reconnects and rejoins by itself without end, so there is no CRASH to restart
 *   from; a batch whose commit failed is thrown back, and the client seeks to its first record.
 */

/** librdkafka's RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS. */
const ASSIGN_PARTITIONS = -175;

/** Compression as librdkafka names it. */
const CODEC = { zstd: 'zstd', gzip: 'gzip', none: 'none' } as const;

/**
 * Records per batch, and so per transaction. The client counts records where kafkajs's fetch counts
 * bytes (maxBytesPerPartition): at about 100 bytes a record (a sensor reading on the wire), the
 * bytes bound becomes a count, 10,000 at most (the client's default, 32, makes a transaction of
 * every 32 records).
 */
export const maxBatchRecords = (maxBytesPerPartition: number): number => Math.max(32, Math.min(10_000, Math.floor(maxBytesPerPartition / 100)));

function producerSettings(options: StageOptions): Record<string, string | number | boolean> {
  return { 'compression.codec': CODEC[options.compression ?? 'zstd'], 'enable.idempotence': true, acks: -1, 'linger.ms': 5 };
}

function committerFor(kafka: ConfluentKafka, consumer: ConfluentConsumer, options: StageOptions, metrics: TransactionMetrics | undefined): Committer {
  const { inputTopic: topic } = options;
  if ((options.delivery ?? 'exactly-once') === 'at-least-once') {
    const producer = kafka.producer({ ...producerSettings(options) });
    const port: AtLeastOncePort = {
      connect: () => producer.connect(),
      async send(outputs) {
        const topicMessages = toConfluentMessages(outputs);
        if (topicMessages.length > 0) await producer.sendBatch({ topicMessages });
      },
      commitOffsets: (position) => consumer.commitOffsets([{ topic, ...position }]),
      disconnect: () => producer.disconnect(),
    };
    return atLeastOnceCommitter(port);
  }
  const transactionTimeoutMs = options.transactionTimeoutMs ?? 30_000;
  const producerFor = (partition: number): TransactionalProducerPort => {
    const producer = kafka.producer({
      ...producerSettings(options),
      'transactional.id': `${options.transactionalIdPrefix}-${topic}-${partition}`,
      'transaction.timeout.ms': transactionTimeoutMs,
      // librdkafka refuses a request timeout longer than the transaction's (its default is 60 s).
      'socket.timeout.ms': Math.min(60_000, transactionTimeoutMs),
    });
    return {
      connect: () => producer.connect(),
      async begin() {
        const transaction = await producer.transaction();
        return {
          async send(outputs) {
            const topicMessages = toConfluentMessages(outputs);
            if (topicMessages.length > 0) await transaction.sendBatch({ topicMessages });
          },
          sendOffsets: (position) => transaction.sendOffsets({ consumer, topics: [{ topic, partitions: [position] }] }),
          commit: () => transaction.commit(),
          abort: () => transaction.abort(),
        };
      },
      disconnect: () => producer.disconnect(),
    };
  };
  return transactionalCommitter({ producerFor, clock: systemClock, metrics });
}

function eachBatchOf(tasks: TaskQueue, lag: LagTracker | undefined) {
  return async ({ batch, resolveOffset, isRunning, isStale }: ConfluentBatchPayload): Promise<void> => {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const records = batch.messages.map(incomingRecord);
    const nextOffset = (BigInt(batch.lastOffset()) + 1n).toString();
    // librdkafka reports -1001 while it does not know the watermark yet: count the batch as the end then.
    const highWatermark = BigInt(batch.highWatermark) >= 0n ? batch.highWatermark : nextOffset;
    lag?.fetched(batch.partition, highWatermark, batch.messages[0]!.offset);
    // Heartbeats run on librdkafka's own thread: nothing to keep alive here.
    await tasks.processBatch(batch.partition, records, { highWatermark, nextOffset }, async () => undefined);
    resolveOffset(batch.lastOffset());
    lag?.committed(batch.partition, highWatermark, nextOffset);
  };
}

/** runStage (runner/group.ts) on librdkafka. */
export async function runStageOnConfluent(options: StageOptions): Promise<StageRunner> {
  const kafka = createConfluentKafka(options.connection, options.logger);
  const logger = options.logger.child({ component: 'runner', topic: options.inputTopic });
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
  // The task queue needs the consumer (its committer commits through it), the consumer this callback.
  let assign = (_partitions: number[]): void => undefined;
  const consumer = kafka.consumer({
    kafkaJS: { groupId: options.groupId, fromBeginning: true, autoCommit: false },
    'isolation.level': 'read_committed',
    'session.timeout.ms': sessionTimeoutMs,
    'heartbeat.interval.ms': Math.min(3000, Math.floor(sessionTimeoutMs / 3)),
    'max.partition.fetch.bytes': options.maxBytesPerPartition ?? 1024 * 1024,
    'fetch.max.bytes': 16 * 1024 * 1024,
    'js.consumer.max.batch.size': maxBatchRecords(options.maxBytesPerPartition ?? 1024 * 1024),
    'allow.auto.create.topics': false,
    // Eager assignment (the default assignor): each rebalance hands over the member's whole assignment.
    rebalance_cb: (err: { code: number }, assignment: Array<{ topic: string; partition: number }>) => {
      if (err.code === ASSIGN_PARTITIONS) assign(assignment.filter((a) => a.topic === options.inputTopic).map((a) => a.partition));
    },
  });
  const metrics = options.metrics ? transactionMetrics(options.metrics.registry, options.metrics.stage) : undefined;
  const lag = metrics ? lagTracker(metrics, options.inputTopic) : undefined;
  const committer = committerFor(kafka, consumer, options, metrics);
  const tasks = new TaskQueue({ stage: options, committer, clock: systemClock, logger, onReleased: lag?.released });
  assign = (partitions) => tasks.assign(partitions);

  await consumer.connect();
  await consumer.subscribe({ topics: [options.inputTopic] });
  await consumer.run({ eachBatchAutoResolve: false, partitionsConsumedConcurrently: options.partitionsConcurrently ?? 1, eachBatch: eachBatchOf(tasks, lag) });
  return stageRunnerOf(tasks, consumer, committer);
}
