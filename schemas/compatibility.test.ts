import fs from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import { avroType } from './index';

/**
 * Adding `extras` must not break anyone pinned to the schemas before it: a consumer whose reader
 * schema has no extras decodes new records (BACKWARD from its side is FORWARD from ours, which the
 * default makes the registry's BACKWARD check pass too: test/integration/serde.itest.ts), and a
 * consumer on the new schema decodes the old records, extras empty.
 */
const BEFORE = path.join(__dirname, '..', 'test', 'fixtures', 'schemas-before-extras');
const before = (file: string) => avro.Type.forSchema(JSON.parse(fs.readFileSync(path.join(BEFORE, file), 'utf8')) as avro.Schema) as avro.types.RecordType;

const six = { current: 11.2, accX: 0.021, accY: null, accZ: 0.013, tempA: 44.1, tempB: 37.9 };
const stats = (mean: number) => ({ count: 10, mean, min: mean - 1, max: mean + 1, stddev: 0.5 });
const windowSix = { current: stats(11), accX: stats(0.02), accY: stats(0.02), accZ: stats(0.01), tempA: stats(44), tempB: stats(38) };

describe('the schemas before extras and after', () => {
  test.each([
    ['SensorReading', 'sensor-reading.avsc', { machineId: 'pump-04', timestamp: Date.UTC(2026, 0, 5, 8), ...six }, { extras: { pressure: 2.41, flow: null } }],
    ['WindowFeatures', 'window-features.avsc', { machineId: 'pump-04', windowStart: 0, windowEnd: 3_600_000, count: 10, ...windowSix }, { extras: { pressure: stats(2.4), flow: { count: 0, mean: null, min: null, max: null, stddev: null } } }],
  ])('%s: an old reader decodes a new record without its extras; a new reader decodes an old one with none', (_name, file, common, added) => {
    const [oldType, newType] = [before(file), avroType(file)];
    expect(oldType.fields.map((f) => f.name)).not.toContain('extras');

    const newBytes = newType.toBuffer({ ...common, ...added });
    const asOld = oldType.fromBuffer(newBytes, oldType.createResolver(newType));
    expect({ ...asOld }).toEqual(common);

    const oldBytes = oldType.toBuffer(common);
    expect({ ...newType.fromBuffer(oldBytes, newType.createResolver(oldType)) }).toEqual({ ...common, extras: {} });
    // A record without extras is the same bytes as before plus one byte, the empty map's 0.
    expect(newType.toBuffer({ ...common, extras: {} })).toEqual(Buffer.concat([oldBytes, Buffer.from([0])]));
  });
});
