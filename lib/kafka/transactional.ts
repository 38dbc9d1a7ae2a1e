import type { Consumer, EachBatchPayload, IHeaders, Producer } from 'kafkajs';
import type { Logger } from '../logger';
import { createKafka, type KafkaConnection } from './client';
import { compressionType, type Compression } from './compression';
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
 */

export interface IncomingRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  offset: string;
  timestampMs: number;
}

export interface TransactionalOptions {
  connection: KafkaConnection;
  groupId: string;
  inputTopic: string;
  transactionalIdPrefix: string;
  /** The outputs of one partition's batch; runs inside that batch's transaction. */
  process(partition: number, records: IncomingRecord[]): Promise<TopicBatch[]> | TopicBatch[];
  logger: Logger;
  compression?: Compression;
  /** A transaction left open by a crashed instance is aborted by the broker after this long at most. */
  transactionTimeoutMs?: number;
  /** Upper bound of one partition's fetch, and so of one transaction's input. */
  maxBytesPerPartition?: number;
  /** A member that stops heartbeating (killed) loses its partitions after this long. */
  sessionTimeoutMs?: number;
}

export interface TransactionalRunner {
  stop(): Promise<void>;
  /** Committed transactions so far. */
  readonly commits: number;
}

/** Record headers as text (the pipeline's headers are UTF-8; a repeated header keeps its first value). */
export const headersAsText = (headers: IHeaders | undefined): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) out[k] = Array.isArray(v) ? String(v[0]) : Buffer.isBuffer(v) ? v.toString('utf8') : v;
  return out;
};

export async function runTransactional(options: TransactionalOptions): Promise<TransactionalRunner> {
  const kafka = createKafka(options.connection, { logger: options.logger });
  const producers = new Map<number, Promise<Producer>>();
  const compression = compressionType(options.compression ?? 'zstd');
  let commits = 0;

  const producerFor = (partition: number): Promise<Producer> => {
    let producer = producers.get(partition);
    if (!producer) {
      const p = kafka.producer({
        transactionalId: `${options.transactionalIdPrefix}-${options.inputTopic}-${partition}`,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: options.transactionTimeoutMs ?? 30_000,
      });
      producer = p.connect().then(() => p);
      producers.set(partition, producer);
    }
    return producer;
  };

  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    readUncommitted: false,
    maxBytes: 16 * 1024 * 1024,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: Math.min(3000, Math.floor((options.sessionTimeoutMs ?? 30_000) / 3)),
  });
  // A partition given away loses its producer: if it comes back, a new one initialises the id
  // again (the old one may have been fenced by the instance that had it meanwhile).
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const assigned = new Set(payload.memberAssignment[options.inputTopic] ?? []);
    for (const [partition, producer] of producers) {
      if (assigned.has(partition)) continue;
      producers.delete(partition);
      void producer.then((p) => p.disconnect()).catch(() => undefined);
    }
  });
  await consumer.connect();
  await consumer.subscribe({ topic: options.inputTopic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
      if (batch.messages.length === 0 || !isRunning() || isStale()) return;
      const records: IncomingRecord[] = batch.messages.map((m) => ({ key: m.key, value: m.value, headers: headersAsText(m.headers), offset: m.offset, timestampMs: Number(m.timestamp) }));
      const producer = await producerFor(batch.partition);
      const outputs = await options.process(batch.partition, records);
      const transaction = await producer.transaction();
      try {
        const topicMessages = toTopicMessages(outputs);
        if (topicMessages.length > 0) await transaction.sendBatch({ topicMessages, acks: -1, compression });
        const next = (BigInt(batch.lastOffset()) + 1n).toString();
        await transaction.sendOffsets({ consumerGroupId: options.groupId, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] });
        await transaction.commit();
        commits++;
      } catch (err) {
        await transaction.abort().catch(() => undefined);
        throw err;
      }
      resolveOffset(batch.lastOffset());
      await heartbeat();
    },
  });

  return {
    get commits() {
      return commits;
    },
    async stop() {
      await consumer.disconnect();
      for (const producer of producers.values()) await (await producer).disconnect();
    },
  };
}
