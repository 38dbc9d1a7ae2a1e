import { Kafka, logLevel } from 'kafkajs';
import { openPartitionReader } from '../../lib/kafka/partition-reader';
import { testEnv, uniqueName } from './servers';

/**
 * The restore path's reader leans on kafkajs internals (lib/kafka/partition-reader.ts): this test
 * pins what it must do on a real broker. It reads one partition only, stops at the last stable
 * offset, and returns committed records only: none of an aborted transaction, no markers.
 */
describe('partition reader (changelog restore)', () => {
  const env = testEnv();
  const topic = uniqueName('reader');
  const kafka = new Kafka({ clientId: 'reader-test', brokers: env.kafkaBrokers, logLevel: logLevel.NOTHING });

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    await admin.disconnect();
  });

  afterAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  test('reads one partition to its last stable offset, committed records only, in order', async () => {
    const producer = kafka.producer({ transactionalId: `${topic}-tx`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const send = async (partition: number, from: number, count: number, outcome: 'commit' | 'abort') => {
      const tx = await producer.transaction();
      await tx.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ partition, key: `k${from + i}`, value: `${outcome}-${from + i}`, headers: { n: String(from + i) } })) });
      await (outcome === 'commit' ? tx.commit() : tx.abort());
    };
    await send(0, 0, 3000, 'commit');
    await send(0, 3000, 500, 'abort');
    await send(1, 0, 10, 'commit');
    await send(0, 3500, 2000, 'commit');
    await producer.disconnect();

    const reader = await openPartitionReader({ brokers: env.kafkaBrokers, clientId: 'reader-test' }, { maxBytes: 32 * 1024 });
    try {
      const seen: string[] = [];
      const result = await reader.read(topic, 0, (records) => {
        for (const r of records) seen.push(`${r.value!.toString()}/${r.headers.n}`);
      });
      const expected = [...Array.from({ length: 3000 }, (_, i) => `commit-${i}/${i}`), ...Array.from({ length: 2000 }, (_, i) => `commit-${3500 + i}/${3500 + i}`)];
      expect(seen).toEqual(expected);
      expect(result.records).toBe(5000);
      // Small fetches: the reader went round its loop many times, across the aborted range.
      expect(result.fetches).toBeGreaterThan(3);
      // 5500 records and three transaction markers on partition 0.
      expect(result.endOffset).toBe('5503');

      const other: string[] = [];
      await reader.read(topic, 1, (records) => {
        other.push(...records.map((r) => r.key!.toString()));
      });
      expect(other).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}`));
    } finally {
      await reader.close();
    }
  });

  test('an empty partition reads as nothing, at once', async () => {
    const empty = uniqueName('reader-empty');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: empty, numPartitions: 1 }] });
    const reader = await openPartitionReader({ brokers: env.kafkaBrokers, clientId: 'reader-test' });
    try {
      const result = await reader.read(empty, 0, () => {
        throw new Error('no records expected');
      });
      expect(result).toEqual({ records: 0, endOffset: '0', fetches: 0, skipped: 0 });
    } finally {
      await reader.close();
      await admin.deleteTopics({ topics: [empty] });
      await admin.disconnect();
    }
  });
});
