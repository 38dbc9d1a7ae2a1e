import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Serde, SerdeError } from '../../lib/serde';
import { readingProblem } from '../../processors/window/window.processor';
import { Random } from '../../producers/simulate/random';
import { SCHEMA_FILES, avroType, schemaText, type SensorReading } from '../../schemas';
import { BAD_KINDS, badRecord } from './bad-input';
import { SubjectDecoder } from './schema-check';

const NOW = Date.UTC(2026, 10, 22, 12);
const ctx = { keySchemaId: 1, readingSchemaId: 2, unknownSchemaId: 987_654_321, machineId: 'lathe-1-spindle', timestampMs: Date.UTC(2026, 2, 3, 10, 17), nowMs: NOW };
const subject = new SubjectDecoder('pdm.sensor-readings.v1-value', [{ subject: 'pdm.sensor-readings.v1-value', version: 1, id: 2, schema: schemaText(SCHEMA_FILES.sensorReading) }]);
const keys = new SubjectDecoder('pdm.sensor-readings.v1-key', [{ subject: 'pdm.sensor-readings.v1-key', version: 1, id: 1, schema: schemaText(SCHEMA_FILES.machineId) }]);

/** The window processor's decoder, on a registry that knows ids 1 (the key's schema) and 2 (the reading's). */
const registry = {
  getSchema: async (id: number) => {
    if (id === 1) return avroType(SCHEMA_FILES.machineId);
    if (id === 2) return avroType(SCHEMA_FILES.sensorReading);
    throw Object.assign(new Error('not found'), { status: 404 });
  },
} as unknown as SchemaRegistry;
const decodeReading = new Serde(registry).decoder<SensorReading>(avroType(SCHEMA_FILES.sensorReading));

/** What the window processor does with the value: undefined when it would window it, else why it refuses it. */
async function windowRefusal(value: Buffer | null): Promise<string | undefined> {
  if (value === null) return 'no value';
  try {
    return readingProblem(await decodeReading(value), NOW, 5 * 60_000);
  } catch (err) {
    if (err instanceof SerdeError && err.poison) return err.code;
    throw err;
  }
}

describe('bad input', () => {
  test.each(BAD_KINDS.flatMap((kind) => [1, 2, 3, 4].map((seed) => [kind, seed] as const)))('%s (seed %i): the key is a machine id, the value decodes as announced, and the window processor refuses it', async (kind, seed) => {
    const record = badRecord(kind, new Random(seed), ctx);
    expect(keys.decode(record.key)).toEqual({ ok: true, value: ctx.machineId });
    expect(subject.decode(record.value).ok).toBe(record.decodable);
    expect(await windowRefusal(record.value)).toEqual(expect.any(String));
  });

  test('the same seed gives the same bytes', () => {
    for (const kind of BAD_KINDS) expect(badRecord(kind, new Random(7), ctx)).toEqual(badRecord(kind, new Random(7), ctx));
  });

  test('the same reading with its own event time is not refused (the check can tell the difference)', () => {
    const decoded = subject.decode(badRecord('far-future', new Random(1), ctx).value);
    expect(decoded.ok).toBe(true);
    const reading = (decoded as { value: SensorReading }).value;
    expect(readingProblem(reading, NOW, 5 * 60_000)).toMatch(/after the record was appended/);
    expect(readingProblem({ ...reading, timestamp: ctx.timestampMs }, NOW, 5 * 60_000)).toBeUndefined();
  });
});
