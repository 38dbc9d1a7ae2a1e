import type { Message, Producer, TopicMessages } from 'kafkajs';
import type { Logger } from '../logger';
import { createKafka, kafkaClientName, type KafkaConnection } from './client';
import { compressionType, type Compression } from './compression';
import { PdmError, errorMessage } from '../errors';
import { describeCluster } from './admin';
import { connectConfluentProducer } from './confluent/producer';

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

const toMessage = (r: OutgoingRecord): Message => ({ key: r.key, value: r.value, headers: r.headers, partition: r.partition });

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
      current.messages.push(toMessage(r));
      bytes += size;
    }
  }
  if (request.length > 0) requests.push(request);
  return requests;
}

/** An idempotent producer: acks from all in-sync replicas, retries without duplicates, and waits out a broker outage however long. */
export interface BatchProducer {
  /** Sends the batches in one request per broker and resolves when the broker has them all. */
  send(batches: TopicBatch[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** Where a record landed: its topic, partition and offset (a decimal string, as Kafka offsets are 64-bit). */
export interface RecordPosition {
  topic: string;
  partition: number;
  offset: string;
}

/** A BatchProducer that can also say where one record landed (a request's audit trail). */
export interface RecordProducer extends BatchProducer {
  /** Sends one record and resolves with its position once the in-sync replicas have it. */
  sendRecord(topic: string, record: OutgoingRecord): Promise<RecordPosition>;
}

export interface ProducerOptions {
  compression?: Compression;
  logger?: Logger;
}

/** Longest wait between two attempts while the broker is away. */
const MAX_RETRY_MS = 10_000;

export async function connectProducer(connection: KafkaConnection, options: ProducerOptions = {}): Promise<RecordProducer> {
  const compression = compressionType(options.compression ?? 'zstd');
  // Nothing answering at all (a wrong KAFKA_BROKERS, a stack not started) is an error now, with
  // kafkajs's usual few retries; once connected, the producer waits out any outage.
  await describeCluster(connection, 3000, 5).catch((err: unknown) => {
    throw new PdmError('KAFKA_UNREACHABLE', `Kafka at ${connection.brokers.join(',')} does not answer (${errorMessage(err)}); for the local stack run \`npx pdmctl stack up\``, { cause: err });
  });
  if (kafkaClientName() === 'confluent') return connectConfluentProducer(connection, options);
  // Every request of this producer, including the cluster's own (connecting, metadata), retries
  // without end. kafkajs's cluster gives up after its 5 retries by default (about 10 s), less than
  // a broker restart takes, and `send` would then fail with records that kafkajs itself would
  // have sent again; with retries on both levels it keeps each broker's acknowledged requests,
  // so a rolling restart of several brokers cannot duplicate the records of the ones that answered.
  const producer: Producer = createKafka(connection, { logger: options.logger, retries: Number.MAX_SAFE_INTEGER, maxRetryTimeMs: MAX_RETRY_MS }).producer({
    idempotent: true,
    // kafkajs keeps sequence numbers correct only with one request in flight per broker.
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // While the broker is away the producer keeps trying (and `send` keeps its caller waiting:
    // backpressure) rather than dropping data or breaking idempotence.
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: MAX_RETRY_MS },
  });
  await producer.connect();
  return {
    async send(batches) {
      for (const topicMessages of toTopicMessages(batches)) await producer.sendBatch({ topicMessages, acks: -1, compression });
    },
    async sendRecord(topic, record) {
      const [sent] = await producer.send({ topic, messages: [toMessage(record)], acks: -1, compression });
      return { topic, partition: sent!.partition, offset: sent!.baseOffset ?? sent!.offset ?? '' };
    },
    disconnect: () => producer.disconnect(),
  };
}
