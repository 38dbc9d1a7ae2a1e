import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { registerZstd } from '../../lib/kafka/compression';
import { headersAsText } from '../../lib/kafka/runner';

export interface ConsumedRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}


/**
 * Reads a topic from the beginning, read-committed, as another team's consumer would, until
 * `expected` records have arrived or nothing new came for `quietMs`.
 */
export async function consumeAll(brokers: string[], topic: string, options: { expected?: number; quietMs?: number; timeoutMs?: number } = {}): Promise<ConsumedRecord[]> {
  registerZstd();
  const kafka = new Kafka({ clientId: 'test-reader', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}`, readUncommitted: false, maxBytes: 50 * 1024 * 1024 });
  const records: ConsumedRecord[] = [];
  let lastArrival = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) records.push({ key: m.key, value: m.value, headers: headersAsText(m.headers), partition: batch.partition, offset: m.offset });
      lastArrival = Date.now();
    },
  });
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const quietMs = options.quietMs ?? 3000;
  while (Date.now() < deadline) {
    if (options.expected !== undefined && records.length >= options.expected) break;
    // Joining the group takes a few seconds; silence counts only once something arrived, or late.
    if (options.expected === undefined && Date.now() - lastArrival > (records.length > 0 ? quietMs : 15_000)) break;
    await sleep(100);
  }
  await consumer.disconnect();
  return records;
}
