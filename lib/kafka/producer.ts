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

/**
 * Most bytes (keys, values and headers, before compression) of one produce request. kafkajs puts
 * all of a request's records for one partition into one record batch, and the broker refuses a
 * batch above `max.message.bytes` (1 MiB by default): a transaction whose outputs outgrow its
 * input (the inference processor writes a forecast per window) is sent in several requests.
 */
export const MAX_REQUEST_BYTES = 512 * 1024;

const recordBytes = (r: OutgoingRecord): number => {
  let n = 16 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const [name, value] of Object.entries(r.headers ?? {})) n += name.length + value.length + 8;
  return n;
};

/**
 * kafkajs's `sendBatch` inputs for the batches, in order, leaving out topics with nothing to send:
 * one request unless the records exceed `maxBytes`, then as many as it takes (a record larger
 * than `maxBytes` goes alone).
 */
export function toTopicMessages(batches: readonly TopicBatch[], maxBytes = MAX_REQUEST_BYTES): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  let request: TopicMessages[] = [];
  let bytes = 0;
  for (const batch of batches) {
    let current: TopicMessages | undefined;
    for (const r of batch.records) {
      const size = recordBytes(r);
      if (bytes > 0 && bytes + size > maxBytes) {
        requests.push(request);
        request = [];
        bytes = 0;
        current = undefined;
      }
      if (!current) request.push((current = { topic: batch.topic, messages: [] }));
      current.messages.push({ key: r.key, value: r.value, headers: r.headers, partition: r.partition });
      bytes += size;
    }
  }
  if (request.length > 0) requests.push(request);
  return requests;
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
      for (const topicMessages of toTopicMessages(batches)) await producer.sendBatch({ topicMessages, acks: -1, compression });
    },
    disconnect: () => producer.disconnect(),
  };
}
