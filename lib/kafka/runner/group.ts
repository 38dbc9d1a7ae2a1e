import { performance } from 'node:perf_hooks';
import type { Consumer, ConsumerRunConfig, EachBatchPayload, IHeaders, Kafka } from 'kafkajs';
import { createKafka } from '../client';
import { compressionType } from '../compression';
import { toTopicMessages } from '../producer';
import { atLeastOnceCommitter, transactionalCommitter, type Committer } from './committers';
import { lagTracker, transactionMetrics, type LagTracker, type TransactionMetrics } from './metrics';
import { TaskQueue } from './task-queue';
import type { AtLeastOncePort, IncomingRecord, RunnerClock, StageOptions, StageRunner, TransactionalProducerPort } from './types';

/**
 * The consumer-group wiring, and the only file of the runner that calls kafkajs: the consumer
 * (subscribe, assignments, crashes, batches, offsets), the producers behind the committers'
 * ports, and the real clock. What to do with each event is the task queue's decision.
 */

/** Record headers as text (the pipeline's headers are UTF-8; a repeated header keeps its first value). */
export const headersAsText = (headers: IHeaders | undefined): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v !== undefined) out[k] = Array.isArray(v) ? String(v[0]) : Buffer.isBuffer(v) ? v.toString('utf8') : v;
  }
  return out;
};

/** A fetched message as the stages see it, from either client (their messages share these fields). */
export const incomingRecord = (m: { key: Buffer | null; value: Buffer | null; headers?: IHeaders; offset: string; timestamp: string }): IncomingRecord => ({
  key: m.key,
  value: m.value,
  headers: headersAsText(m.headers),
  offset: m.offset,
  timestampMs: Number(m.timestamp),
});

/** Wall-clock time for the runner: monotonic milliseconds, and timers that never keep the process alive. */
export const systemClock: RunnerClock = {
  now: () => performance.now(),
  setTimeout(work, delayMs) {
    const timer = setTimeout(work, delayMs);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

function committerFor(kafka: Kafka, consumer: Consumer, options: StageOptions, metrics: TransactionMetrics | undefined): Committer {
  const compression = compressionType(options.compression ?? 'zstd');
  const { groupId, inputTopic: topic } = options;
  if ((options.delivery ?? 'exactly-once') === 'at-least-once') {
    // One plain idempotent producer for every partition.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const port: AtLeastOncePort = {
      connect: () => producer.connect(),
      async send(outputs) {
        for (const topicMessages of toTopicMessages(outputs)) await producer.sendBatch({ topicMessages, acks: -1, compression });
      },
      commitOffsets: (position) => consumer.commitOffsets([{ topic, ...position }]),
      disconnect: () => producer.disconnect(),
    };
    return atLeastOnceCommitter(port);
  }
  const producerFor = (partition: number): TransactionalProducerPort => {
    const producer = kafka.producer({
      transactionalId: `${options.transactionalIdPrefix}-${topic}-${partition}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: options.transactionTimeoutMs ?? 30_000,
    });
    return {
      connect: () => producer.connect(),
      async begin() {
        const transaction = await producer.transaction();
        return {
          async send(outputs) {
            for (const topicMessages of toTopicMessages(outputs)) await transaction.sendBatch({ topicMessages, acks: -1, compression });
          },
          sendOffsets: (position) => transaction.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [position] }] }),
          commit: () => transaction.commit(),
          abort: () => transaction.abort(),
        };
      },
      disconnect: () => producer.disconnect(),
    };
  };
  return transactionalCommitter({ producerFor, clock: systemClock, metrics });
}

/** kafkajs's batch handler: each batch goes to its task and is resolved once committed. */
function eachBatchOf(tasks: TaskQueue, lag: LagTracker | undefined): ConsumerRunConfig['eachBatch'] {
  return async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const records = batch.messages.map(incomingRecord);
    const nextOffset = (BigInt(batch.lastOffset()) + 1n).toString();
    lag?.fetched(batch.partition, batch.highWatermark, batch.firstOffset() ?? batch.messages[0]!.offset);
    // kafkajs heartbeats only between batches: keep the membership alive while this one waits
    // for its task's restore or a slow process() (a sink retrying its database).
    const beat = setInterval(() => void heartbeat().catch(() => undefined), 1000);
    try {
      await tasks.processBatch(batch.partition, records, { highWatermark: batch.highWatermark, nextOffset }, heartbeat);
    } finally {
      clearInterval(beat);
    }
    resolveOffset(batch.lastOffset());
    lag?.committed(batch.partition, batch.highWatermark, nextOffset);
    await heartbeat();
  };
}

/**
 * The running stage as its host sees it, whichever client consumes: stopping halts the tasks,
 * leaves the group (a client's disconnect waits for the batch in flight), then closes the tasks and
 * their producers.
 */
export function stageRunnerOf(tasks: TaskQueue, consumer: { disconnect(): Promise<void> }, committer: Committer): StageRunner {
  return {
    get commits() {
      return tasks.commits;
    },
    openPartitions: () => tasks.openPartitions(),
    async stop() {
      tasks.halt();
      await consumer.disconnect();
      await tasks.closeAll();
      await committer.close();
    },
  };
}

/** Runs a stage on its input topic's partitions in a consumer group, with the delivery it asks for. */
export async function runStage(options: StageOptions): Promise<StageRunner> {
  const kafka = createKafka(options.connection, { logger: options.logger });
  const logger = options.logger.child({ component: 'runner', topic: options.inputTopic });
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
  const consumer = kafka.consumer({
    groupId: options.groupId,
    readUncommitted: false,
    maxBytes: 16 * 1024 * 1024,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
    sessionTimeout: sessionTimeoutMs,
    heartbeatInterval: Math.min(3000, Math.floor(sessionTimeoutMs / 3)),
    // kafkajs restarts a crashed consumer on a timer; once the runner stops it must not, or a
    // consumer nobody owns goes on fetching while the stage releases its resources.
    retry: { retries: 5, restartOnFailure: async () => !tasks.halted },
  });
  const metrics = options.metrics ? transactionMetrics(options.metrics.registry, options.metrics.stage) : undefined;
  const lag = metrics ? lagTracker(metrics, options.inputTopic) : undefined;
  const committer = committerFor(kafka, consumer, options, metrics);
  const tasks = new TaskQueue({ stage: options, committer, clock: systemClock, logger, onReleased: lag?.released });

  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.batchSize === 0 && payload.topic === options.inputTopic && tasks.has(payload.partition)) lag?.emptyFetch(payload.partition, payload.offsetLag);
  });
  // A new member id means the coordinator had dropped this member (kafkajs joins afresh after UNKNOWN_MEMBER_ID).
  let memberId: string | undefined;
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const rejoined = memberId !== undefined && payload.memberId !== memberId;
    memberId = payload.memberId;
    tasks.assign(payload.memberAssignment[options.inputTopic] ?? [], rejoined);
  });
  const runConfig: ConsumerRunConfig = {
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionsConcurrently ?? 1,
    eachBatch: eachBatchOf(tasks, lag),
  };
  consumer.on(consumer.events.CRASH, ({ payload }) => tasks.consumerCrashed(payload.error, payload.restart, () => consumer.run(runConfig)));

  await consumer.connect();
  await consumer.subscribe({ topic: options.inputTopic, fromBeginning: true });
  await consumer.run(runConfig);

  return stageRunnerOf(tasks, consumer, committer);
}
