import type { TopicBatch } from '../producer';
import type { TransactionMetrics } from './metrics';
import type { AtLeastOncePort, Delivery, OffsetPosition, RunnerClock, TransactionalProducerPort } from './types';

/**
 * How a task's work reaches Kafka, one committer per delivery guarantee. Both write through ports
 * (types.ts) that group.ts fills with kafkajs and the test driver with a fake, so the order of
 * the calls, and what a failure leaves behind, is tested without a broker.
 *
 * exactly-once: one transactional producer per input partition, with a stable id, as Kafka Streams
 * did before EOS v2 (kafkajs has TxnOffsetCommit v0/v1 only, no KIP-447 group-metadata fencing).
 * Opening a task connects its producer, which fences the previous owner of the id and aborts its
 * open transaction. A batch's outputs and its offsets commit in one transaction; a failure aborts it.
 *
 * at-least-once: one idempotent producer shared by every task; a batch's outputs are sent once
 * the stage's work on them is done (a sink's `process` resolves after its flush), and only then
 * are its offsets committed. A crash in between repeats the batch, never loses it.
 */

export interface TaskCommitter {
  /** Commits the outputs, and the input position when given, as the delivery promises; throws when it did not. */
  commit(outputs: TopicBatch[], position?: OffsetPosition): Promise<void>;
  /** The task closed: releases what it holds alone. */
  close(): Promise<void>;
}

export interface Committer {
  readonly delivery: Delivery;
  /** Commits so far. */
  readonly commits: number;
  /** A task's committer, resolved once it may commit (exactly-once: its producer fenced the previous owner). */
  openTask(partition: number): Promise<TaskCommitter>;
  /** Every task has closed: releases what they shared. */
  close(): Promise<void>;
}

export interface TransactionalCommitterOptions {
  /** The producer of a partition's task, with that partition's transactional id. */
  producerFor(partition: number): TransactionalProducerPort;
  clock: RunnerClock;
  metrics?: TransactionMetrics;
}

export function transactionalCommitter(options: TransactionalCommitterOptions): Committer {
  const { clock, metrics } = options;
  // Both outcomes from the start: a rate of aborted transactions is 0, not missing, until one aborts.
  if (metrics) for (const outcome of ['committed', 'aborted']) metrics.transactions.inc({ stage: metrics.stage, outcome }, 0);
  let commits = 0;
  const commitIn = async (producer: TransactionalProducerPort, outputs: TopicBatch[], position?: OffsetPosition): Promise<void> => {
    const startedMs = clock.now();
    const transaction = await producer.begin();
    try {
      await transaction.send(outputs);
      if (position) await transaction.sendOffsets(position);
      await transaction.commit();
      commits++;
      metrics?.transactions.inc({ stage: metrics.stage, outcome: 'committed' });
      metrics?.duration.observe({ stage: metrics.stage }, (clock.now() - startedMs) / 1000);
    } catch (err) {
      await transaction.abort().catch(() => undefined);
      metrics?.transactions.inc({ stage: metrics.stage, outcome: 'aborted' });
      throw err;
    }
  };
  return {
    delivery: 'exactly-once',
    get commits() {
      return commits;
    },
    async openTask(partition) {
      const producer = options.producerFor(partition);
      await producer.connect();
      return {
        commit: (outputs, position) => commitIn(producer, outputs, position),
        close: () => producer.disconnect().catch(() => undefined),
      };
    },
    close: async () => undefined,
  };
}

export function atLeastOnceCommitter(port: AtLeastOncePort): Committer {
  let commits = 0;
  // Connected by the first task that opens, and left open by every task until the runner stops.
  let connected: Promise<void> | undefined;
  const task: TaskCommitter = {
    async commit(outputs, position) {
      await port.send(outputs);
      if (position) await port.commitOffsets(position);
      commits++;
    },
    close: async () => undefined,
  };
  return {
    delivery: 'at-least-once',
    get commits() {
      return commits;
    },
    async openTask() {
      await (connected ??= port.connect());
      return task;
    },
    async close() {
      if (connected) await connected.then(() => port.disconnect());
    },
  };
}
