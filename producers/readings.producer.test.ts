import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { DLQ_HEADERS } from '../lib/dead-letter';
import type { BatchProducer, TopicBatch } from '../lib/kafka/producer';
import { createLogger } from '../lib/logger';
import { createRegistry, stageMetrics } from '../lib/metrics';
import { unframe } from '../lib/serde';
import { avroType } from '../schemas';
import { ReadingsProducer } from './readings.producer';
import { DEFAULT_RULES } from './validation';

// Component tests: the producer's batching, backpressure and dead-lettering against a broker
// stand-in that records what it is sent and answers when the test says so.
class ControlledBroker implements BatchProducer {
  readonly sent: TopicBatch[][] = [];
  private pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  autoAck = true;

  send(batches: TopicBatch[]): Promise<void> {
    this.sent.push(batches);
    if (this.autoAck) return Promise.resolve();
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }
  ackAll(): void {
    for (const p of this.pending.splice(0)) p.resolve();
  }
  failAll(error: Error): void {
    for (const p of this.pending.splice(0)) p.reject(error);
  }
  get inFlight(): number {
    return this.pending.length;
  }
  async disconnect(): Promise<void> {}
}

const NOW = Date.UTC(2026, 5, 1, 12);
const registry = { getRegistryIdBySchema: async (subject: string) => (subject.endsWith('-key') ? 11 : 12) } as unknown as SchemaRegistry;
const reading = (i: number) => ({ machineId: `m-${i % 3}`, timestamp: NOW - 1000 * i, current: i, accX: 0.1, accY: 0.1, accZ: null, tempA: 40, tempB: 35 });

async function producerWith(broker: ControlledBroker, batchSize: number, lingerMs = 10_000) {
  const metrics = createRegistry('test', false);
  const producer = await ReadingsProducer.create({
    producer: broker,
    registry,
    topics: { readings: 'r', deadLetter: 'dlq' },
    stage: 'test',
    metrics: stageMetrics(metrics),
    rules: DEFAULT_RULES,
    clock: () => NOW,
    logger: createLogger({ level: 'silent' }),
    batchSize,
    lingerMs,
  });
  return { producer, metrics };
}

describe('ReadingsProducer', () => {
  test('encodes key and value in the wire format with the registry ids, in batches of batchSize', async () => {
    const broker = new ControlledBroker();
    const { producer } = await producerWith(broker, 4);
    for (let i = 0; i < 10; i++) await producer.add(reading(i), { description: 't' }, () => '');
    await producer.flush();
    const sizes = broker.sent.map((request) => request.find((b) => b.topic === 'r')!.records.length);
    expect(sizes).toEqual([4, 4, 2]);
    const first = broker.sent[0]![0]!.records[0]!;
    expect(unframe(first.key!).schemaId).toBe(11);
    expect(avroType('machine-id.avsc').fromBuffer(unframe(first.key!).body)).toBe('m-0');
    expect(unframe(first.value!).schemaId).toBe(12);
    expect(avroType('sensor-reading.avsc').fromBuffer(unframe(first.value!).body)).toEqual({ ...reading(0), extras: {} });
    expect(producer.counts).toEqual({ produced: 10, deadLettered: 0 });
  });

  test('backpressure: with one batch in flight and the next one full, add waits until the broker answers', async () => {
    const broker = new ControlledBroker();
    broker.autoAck = false;
    const { producer } = await producerWith(broker, 2);
    await producer.add(reading(1), { description: 't' }, () => '');
    await producer.add(reading(2), { description: 't' }, () => ''); // batch 1 full: sent, in flight
    await producer.add(reading(3), { description: 't' }, () => '');
    let returned = false;
    const blocked = producer.add(reading(4), { description: 't' }, () => '').then(() => (returned = true)); // batch 2 full
    await new Promise((r) => setTimeout(r, 20));
    expect(returned).toBe(false);
    expect(broker.inFlight).toBe(1);
    broker.ackAll();
    await new Promise((r) => setTimeout(r, 0));
    expect(returned).toBe(true);
    broker.ackAll();
    await blocked;
  });

  test('a refused reading goes to the dead-letter topic with the original bytes and the reason; the others go on', async () => {
    const broker = new ControlledBroker();
    const { producer, metrics } = await producerWith(broker, 100);
    const bad = { ...reading(1), current: Number.NaN };
    expect(await producer.add(bad, { description: 'mqtt:sensors/m-1/telemetry' }, () => 'original payload')).toBe(false);
    expect(await producer.add(reading(2), { description: 't' }, () => '')).toBe(true);
    await producer.reject('a;b;c', { description: 'csv:x.csv:7' }, 'bad_csv_row', 'row 7 has 3 fields, the header 11');
    await producer.flush();
    const [request] = broker.sent;
    expect(request!.find((b) => b.topic === 'r')!.records).toHaveLength(1);
    const letters = request!.find((b) => b.topic === 'dlq')!.records;
    expect(letters.map((l) => l.value!.toString())).toEqual(['original payload', 'a;b;c']);
    expect(letters[0]!.headers).toMatchObject({ [DLQ_HEADERS.code]: 'not_finite', [DLQ_HEADERS.stage]: 'test', [DLQ_HEADERS.source]: 'mqtt:sensors/m-1/telemetry' });
    expect(letters[1]!.headers).toMatchObject({ [DLQ_HEADERS.code]: 'bad_csv_row', [DLQ_HEADERS.message]: 'row 7 has 3 fields, the header 11' });
    const text = await metrics.metrics();
    expect(text).toContain('pdm_dead_letter_records_total{stage="test",reason="not_finite",service="test"} 1');
    expect(text).toContain('pdm_records_in_total{stage="test",service="test"} 3');
    expect(producer.counts).toEqual({ produced: 1, deadLettered: 2 });
  });

  test('extra channels: good ones are encoded; a bad name, too many, NaN are dead-lettered, counted by reason, and the stream goes on', async () => {
    const broker = new ControlledBroker();
    const { producer, metrics } = await producerWith(broker, 100);
    const extras = (e: Record<string, number | null>) => ({ ...reading(1), extras: e });
    const inputs = [
      extras({ pressure: 2.4, flow: null }),
      extras({ 'flow rate': 3 }),
      extras(Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`ch${i}`, i]))),
      extras({ pressure: Number.NaN }),
      extras({ pressure: 2.5, flow: 11.75 }),
    ];
    const accepted = [];
    for (const [i, input] of inputs.entries()) accepted.push(await producer.add(input, { description: `t:${i}` }, () => `payload ${i}`));
    await producer.flush();
    expect(accepted).toEqual([true, false, false, false, true]);
    const [request] = broker.sent;
    const decoded = request!.find((b) => b.topic === 'r')!.records.map((r) => avroType('sensor-reading.avsc').fromBuffer(unframe(r.value!).body) as { extras: unknown });
    expect(decoded.map((r) => r.extras)).toEqual([{ pressure: 2.4, flow: null }, { pressure: 2.5, flow: 11.75 }]);
    const letters = request!.find((b) => b.topic === 'dlq')!.records;
    expect(letters.map((l) => [l.value!.toString(), l.headers![DLQ_HEADERS.code]])).toEqual([
      ['payload 1', 'bad_channel_name'],
      ['payload 2', 'too_many_channels'],
      ['payload 3', 'not_finite'],
    ]);
    const text = await metrics.metrics();
    for (const reason of ['bad_channel_name', 'too_many_channels', 'not_finite']) expect(text).toContain(`pdm_dead_letter_records_total{stage="test",reason="${reason}",service="test"} 1`);
  });

  test('a quiet source is not held back: a partial batch leaves after lingerMs', async () => {
    const broker = new ControlledBroker();
    const { producer } = await producerWith(broker, 1000, 5);
    let delivered = false;
    await producer.add(reading(1), { description: 't' }, () => '', () => (delivered = true));
    expect(broker.sent).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 30));
    expect(broker.sent).toHaveLength(1);
    expect(delivered).toBe(true);
  });

  test('a failed send reaches the delivery callbacks and every later call, so nothing is silently lost', async () => {
    const broker = new ControlledBroker();
    broker.autoAck = false;
    const { producer } = await producerWith(broker, 1);
    const outcomes: Array<Error | undefined> = [];
    await producer.add(reading(1), { description: 't' }, () => '', (err) => outcomes.push(err));
    broker.failAll(new Error('broker gone'));
    await expect(producer.flush()).rejects.toThrow('broker gone');
    expect(outcomes).toEqual([new Error('broker gone')]);
    await expect(producer.add(reading(2), { description: 't' }, () => '')).rejects.toThrow('broker gone');
  });
});
