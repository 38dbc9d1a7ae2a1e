import type { Producer, TopicMessages } from 'kafkajs';
import type { Logger } from '../logger';
import { createKafka, type KafkaConnection } from './client';
import { compressionType, type Compression } from './compression';

/** A record as the pipeline hands it to Kafka: bytes in, bytes out. */
export interface OutgoingRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, string>;
  /** An explicit partition (a changelog co-partitioned with its input); else the key decides. */
  partition?: number;
}

export interface TopicBatch {
  topic: string;
  records: OutgoingRecord[];
}

/** kafkajs's `sendBatch` input, leaving out topics with nothing to send. */
export function toTopicMessages(batches: readonly TopicBatch[]): TopicMessages[] {
  return batches.filter((b) => b.records.length > 0).map((b) => ({ topic: b.topic, messages: b.records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, partition: r.partition })) }));
}

/** An idempotent producer: acks from all in-sync replicas, retries without duplicates. */
export interface BatchProducer {
  /** Sends the batches in one request per broker and resolves when the broker has them all. */
  send(batches: TopicBatch[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ProducerOptions {
  compression?: Compression;
  logger?: Logger;
}

export async function connectProducer(connection: KafkaConnection, options: ProducerOptions = {}): Promise<BatchProducer> {
  const compression = compressionType(options.compression ?? 'zstd');
  const producer: Producer = createKafka(connection, { logger: options.logger }).producer({
    idempotent: true,
    // kafkajs keeps sequence numbers correct only with one request in flight per broker.
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // While the broker is away the producer keeps trying (and `send` keeps its caller waiting:
    // backpressure) rather than dropping data or breaking idempotence.
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 10_000 },
  });
  await producer.connect();
  return {
    async send(batches) {
      const topicMessages = toTopicMessages(batches);
      if (topicMessages.length > 0) await producer.sendBatch({ topicMessages, acks: -1, compression });
    },
    disconnect: () => producer.disconnect(),
  };
}
