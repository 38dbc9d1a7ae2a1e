import fs from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import { readSchema } from '../lib/registry';
import { topicSpecs } from '../lib/topics';

const FEATURES = ['current', 'accX', 'accY', 'accZ', 'tempA', 'tempB'];
const parse = (file: string) => avro.Type.forSchema(JSON.parse(readSchema(file)));
const fieldNames = (type: avro.Type) => (type as avro.types.RecordType).fields.map((f) => f.name);

describe('schemas/*.avsc, the source of truth of every record', () => {
  test('every schema file parses, and every topic names files that exist', () => {
    const files = fs.readdirSync(path.join(__dirname)).filter((f) => f.endsWith('.avsc'));
    for (const file of files) expect(() => parse(file)).not.toThrow();
    for (const spec of topicSpecs()) for (const file of [spec.keySchema, spec.valueSchema].filter(Boolean)) expect(files).toContain(file);
  });

  test('SensorReading has the fields of the contract, every sensor a nullable double defaulting to null, then the extras', () => {
    const type = parse('sensor-reading.avsc') as avro.types.RecordType;
    expect(fieldNames(type)).toEqual(['machineId', 'timestamp', ...FEATURES, 'extras']);
    expect(type.field('extras')!.type.toJSON()).toEqual({ type: 'map', values: ['null', 'double'] });
    expect(type.field('extras')!.defaultValue()).toEqual({});
    for (const feature of FEATURES) {
      const field = type.field(feature)!;
      expect(field.type.toJSON()).toEqual(['null', 'double']);
      expect(field.defaultValue()).toBeNull();
    }
    expect(type.isValid({ machineId: 'lathe-1', timestamp: 0, current: 1.5, accX: null, accY: null, accZ: null, tempA: 40, tempB: null, extras: { pressure: 2.5, flow: null } })).toBe(true);
  });

  test('WindowFeatures carries count, mean, min, max and stddev for each of the six features', () => {
    const type = parse('window-features.avsc') as avro.types.RecordType;
    expect(fieldNames(type)).toEqual(['machineId', 'windowStart', 'windowEnd', 'count', ...FEATURES, 'extras']);
    for (const feature of FEATURES) expect(fieldNames(type.field(feature)!.type)).toEqual(['count', 'mean', 'min', 'max', 'stddev']);
    expect(fieldNames((type.field('extras')!.type as avro.types.MapType).valuesType)).toEqual(['count', 'mean', 'min', 'max', 'stddev']);
    expect(type.field('extras')!.defaultValue()).toEqual({});
    expect(fieldNames(parse('window-key.avsc'))).toEqual(['machineId', 'windowStart']);
  });

  test('AlertEvent has the fields of the contract', () => {
    expect(fieldNames(parse('alert-event.avsc'))).toEqual([
      'alertId', 'dedupKey', 'machineId', 'status', 'severity', 'kind', 'feature', 'windowEnd', 'predictedBreachAt', 'score', 'threshold', 'modelName', 'modelVersion', 'message', 'createdAt', 'drivers',
    ]);
  });

  test('a reader on today\'s AlertEvent still reads a kind added later, as OTHER', () => {
    const reader = JSON.parse(readSchema('alert-event.avsc'));
    const writer = JSON.parse(readSchema('alert-event.avsc'));
    writer.fields.find((f: { name: string }) => f.name === 'kind').type.symbols.push('VIBRATION_SPIKE');
    const writerType = avro.Type.forSchema(writer);
    const readerType = avro.Type.forSchema(reader);
    const event = {
      alertId: 'a', dedupKey: 'd', machineId: 'm', status: 'FIRING', severity: 'WARNING', kind: 'VIBRATION_SPIKE', feature: null,
      windowEnd: 0, predictedBreachAt: null, score: 1, threshold: 0.5, modelName: 'x', modelVersion: '1', message: 'm', createdAt: 0,
    };
    const resolver = readerType.createResolver(writerType);
    expect(readerType.fromBuffer(writerType.toBuffer(event), resolver).kind).toBe('OTHER');
  });

  test('MachineControl has its fields; an action added later reads as UNKNOWN on today\'s schema', () => {
    const type = parse('machine-control.avsc') as avro.types.RecordType;
    expect(fieldNames(type)).toEqual(['requestId', 'machineId', 'action', 'requestedBy', 'requestedAt', 'reason']);
    expect(type.field('reason')!.defaultValue()).toBeNull();
    const writer = JSON.parse(readSchema('machine-control.avsc'));
    writer.fields.find((f: { name: string }) => f.name === 'action').type.symbols.push('SILENCE');
    const writerType = avro.Type.forSchema(writer);
    const request = { requestId: 'r', machineId: 'm', action: 'SILENCE', requestedBy: 'ops@host', requestedAt: 0, reason: null };
    expect(type.fromBuffer(writerType.toBuffer(request), type.createResolver(writerType)).action).toBe('UNKNOWN');
  });
});

describe('AlertControl', () => {
  const type = parse('alert-control.avsc') as avro.types.RecordType;

  test('has its fields, each documented; all but the id, the action and who/when are optional (null)', () => {
    const optional = ['machineId', 'kind', 'alertId', 'dedupKey', 'silenceId', 'startsAt', 'endsAt'];
    expect(fieldNames(type)).toEqual(['requestId', 'action', ...optional, 'requestedBy', 'requestedAt', 'reason']);
    for (const name of [...optional, 'reason']) expect(type.field(name)!.defaultValue()).toBeNull();
    const fields = JSON.parse(readSchema('alert-control.avsc')).fields as Array<{ name: string; doc?: string }>;
    expect(fields.filter((f) => !f.doc).map((f) => f.name)).toEqual([]);
  });

  test('an action added later reads as UNKNOWN on today\'s schema', () => {
    const writer = JSON.parse(readSchema('alert-control.avsc'));
    writer.fields.find((f: { name: string }) => f.name === 'action').type.symbols.push('SNOOZE');
    const writerType = avro.Type.forSchema(writer);
    const nulls = { kind: null, alertId: null, dedupKey: null, silenceId: null, startsAt: null, endsAt: null, reason: null };
    const action = { requestId: 'r', action: 'SNOOZE', machineId: 'm', ...nulls, requestedBy: 'ops@host', requestedAt: 0 };
    expect(type.fromBuffer(writerType.toBuffer(action), type.createResolver(writerType)).action).toBe('UNKNOWN');
  });
});

describe('schemas/types/, generated from the .avsc files', () => {
  test('are up to date (run `npm run generate` after changing a schema)', () => {
    const { generatedTypes, typesDir } = require('../scripts/schema-types') as typeof import('../scripts/schema-types');
    const generated = generatedTypes();
    expect([...generated.keys()].sort()).toEqual(fs.readdirSync(typesDir).sort());
    for (const [name, text] of generated) expect(fs.readFileSync(path.join(typesDir, name), 'utf8')).toBe(text);
  });
});
