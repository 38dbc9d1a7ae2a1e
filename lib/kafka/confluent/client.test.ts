import { rdkafkaConnection, toConfluentMessages } from './client';
import { maxBatchRecords } from './group';

describe('the confluent adapter, without a broker', () => {
  test('batches become sendBatch topic messages in order, empty ones left out, partitions and headers kept', () => {
    const record = (n: number, partition?: number) => ({ key: Buffer.from(`k${n}`), value: Buffer.from(`v${n}`), headers: { n: String(n) }, partition });
    const sent = toConfluentMessages([
      { topic: 'a', records: [record(1), record(2, 1)] },
      { topic: 'b', records: [] },
      { topic: 'c', records: [record(3)] },
    ]);
    expect(sent.map((t) => [t.topic, t.messages.map((m) => [m.value!.toString(), m.partition, m.headers!.n])])).toEqual([
      ['a', [['v1', undefined, '1'], ['v2', 1, '2']]],
      ['c', [['v3', undefined, '3']]],
    ]);
  });

  test("a fetch's byte bound becomes a record count between 32 and 10,000", () => {
    expect([16 * 1024, 1024 * 1024, 16 * 1024 * 1024, 1000].map(maxBatchRecords)).toEqual([163, 10_000, 10_000, 32]);
  });

  test('connection settings in librdkafka words, SASL over TLS included', () => {
    expect(rdkafkaConnection({ brokers: ['a:1', 'b:2'], clientId: 'c' })).toEqual({ 'bootstrap.servers': 'a:1,b:2', 'client.id': 'c', 'security.protocol': 'plaintext' });
    expect(rdkafkaConnection({ brokers: ['a:1'], clientId: 'c', ssl: true, sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p' } })).toEqual({
      'bootstrap.servers': 'a:1',
      'client.id': 'c',
      'security.protocol': 'sasl_ssl',
      'sasl.mechanisms': 'SCRAM-SHA-256',
      'sasl.username': 'u',
      'sasl.password': 'p',
    });
  });
});
