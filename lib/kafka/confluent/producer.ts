import type { Logger } from '../../logger';
import type { KafkaConnection } from '../client';
import type { Compression } from '../compression';
import type { RecordProducer } from '../producer';
import { createConfluentKafka, toConfluentMessages } from './client';

/**
 * connectProducer (producer.ts) on librdkafka: idempotent, acks from all in-sync replicas. librdkafka
 * retries a send until `message.timeout.ms`; 0 makes that without end, so a broker outage holds the
 * caller (backpressure) as the kafkajs producer's endless retries do. librdkafka splits requests
 * under the broker's limits itself, so the records go in one call.
 */
export async function connectConfluentProducer(connection: KafkaConnection, options: { compression?: Compression; logger?: Logger }): Promise<RecordProducer> {
  const producer = createConfluentKafka(connection, options.logger).producer({
    'enable.idempotence': true,
    acks: -1,
    'compression.codec': options.compression ?? 'zstd',
    'message.timeout.ms': 0,
    'linger.ms': 5,
    'allow.auto.create.topics': false,
  });
  await producer.connect();
  return {
    async send(batches) {
      const topicMessages = toConfluentMessages(batches);
      if (topicMessages.length > 0) await producer.sendBatch({ topicMessages });
    },
    async sendRecord(topic, record) {
      const [sent] = await producer.sendBatch({ topicMessages: toConfluentMessages([{ topic, records: [record] }]) });
      return { topic, partition: sent!.partition, offset: sent!.baseOffset ?? sent!.offset ?? '' };
    },
    disconnect: () => producer.disconnect(),
  };
}
