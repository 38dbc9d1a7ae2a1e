import { DLQ_HEADERS, deadLetter } from './dead-letter';

describe('deadLetter', () => {
  test('keeps the original bytes and names source, stage, reason and time in headers', () => {
    const original = Buffer.from([0, 0, 0, 0, 9, 1, 2, 3]);
    const letter = deadLetter({
      key: 'lathe-1',
      value: original,
      source: { topic: 'pdm.sensor-readings.v1', partition: 3, offset: '1042' },
      stage: 'window',
      code: 'SERDE_UNKNOWN_SCHEMA',
      message: 'schema id 9 is unknown to the registry',
      failedAtMs: Date.UTC(2026, 0, 1),
    });
    expect(letter.value).toBe(original);
    expect(letter.key).toEqual(Buffer.from('lathe-1'));
    expect(letter.headers).toEqual({
      [DLQ_HEADERS.topic]: 'pdm.sensor-readings.v1',
      [DLQ_HEADERS.partition]: '3',
      [DLQ_HEADERS.offset]: '1042',
      [DLQ_HEADERS.stage]: 'window',
      [DLQ_HEADERS.code]: 'SERDE_UNKNOWN_SCHEMA',
      [DLQ_HEADERS.message]: 'schema id 9 is unknown to the registry',
      [DLQ_HEADERS.failedAt]: '2026-01-01T00:00:00.000Z',
    });
  });

  test('a source outside Kafka is described; a long reason is cut to 1000 characters', () => {
    const letter = deadLetter({ value: 'not json', source: { description: 'mqtt:sensors/x/telemetry' }, stage: 'mqtt-bridge', code: 'malformed', message: 'x'.repeat(5000), failedAtMs: 0 });
    expect(letter.headers[DLQ_HEADERS.source]).toBe('mqtt:sensors/x/telemetry');
    expect(letter.headers[DLQ_HEADERS.topic]).toBeUndefined();
    expect(letter.headers[DLQ_HEADERS.message]).toHaveLength(1000);
    expect(letter.key).toBeNull();
  });
});
