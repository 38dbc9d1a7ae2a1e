import { toTopicMessages, type OutgoingRecord } from './producer';

const record = (bytes: number, partition?: number): OutgoingRecord => ({ key: null, value: Buffer.alloc(bytes), partition });

describe('produce requests', () => {
  test('small outputs go in one request, topics in order, empty topics left out', () => {
    const requests = toTopicMessages([
      { topic: 'a', records: [record(10), record(10, 2)] },
      { topic: 'empty', records: [] },
      { topic: 'b', records: [record(10)] },
    ]);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.map((t) => [t.topic, t.messages.length])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    expect(requests[0]![0]!.messages[1]!.partition).toBe(2);
  });

  test('outputs beyond the request size are split, keeping every record once and in order; a record larger than the limit goes alone', () => {
    const values = Array.from({ length: 25 }, (_, i) => i);
    const batches = [
      { topic: 'a', records: values.map((i) => ({ key: Buffer.from(String(i)), value: Buffer.alloc(100) })) },
      { topic: 'b', records: [record(5000), record(10)] },
    ];
    const requests = toTopicMessages(batches, 1000);
    for (const request of requests) {
      const size = request.flatMap((t) => t.messages).reduce((n, m) => n + 16 + (m.key?.length ?? 0) + (m.value as Buffer).length, 0);
      expect(size <= 1000 || request.flatMap((t) => t.messages).length === 1).toBe(true);
    }
    const flat = requests.flatMap((r) => r.flatMap((t) => t.messages.map((m) => `${t.topic}:${m.key?.toString() ?? (m.value as Buffer).length}`)));
    expect(flat).toEqual([...values.map((i) => `a:${i}`), 'b:5000', 'b:10']);
    expect(requests.length).toBeGreaterThan(3);
  });
});
