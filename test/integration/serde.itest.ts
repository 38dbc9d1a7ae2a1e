import fs from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import { createRegistry, registerSchema } from '../../lib/registry';
import { Serde, SerdeError, frame } from '../../lib/serde';
import { avroType, schemaText, type SensorReading, type WindowFeatures } from '../../schemas';
import { testEnv, uniqueName } from './servers';

describe('the serde against a real schema registry', () => {
  const env = testEnv();
  const registry = createRegistry(env.registryUrl);
  const reading: SensorReading = { machineId: 'lathe-1-spindle', timestamp: Date.UTC(2026, 0, 5, 8), current: 11.2, accX: 0.021, accY: null, accZ: 0.013, tempA: 44.1, tempB: 37.9, extras: {} };

  test('what we encode, the Confluent client decodes (and the reverse), with the registered id in the header', async () => {
    const subject = `${uniqueName('serde')}-value`;
    const id = await registerSchema(registry, subject, schemaText('sensor-reading.avsc'));
    const serde = new Serde(registry.client);
    const encode = await serde.encoder<SensorReading>(subject, avroType('sensor-reading.avsc'), schemaText('sensor-reading.avsc'));
    const bytes = encode(reading);
    expect(bytes.readInt32BE(1)).toBe(id);
    expect(await registry.client.decode(bytes)).toEqual(reading);
    const theirs = await registry.client.encode(id, reading);
    expect(theirs.equals(bytes)).toBe(true);
    expect(await serde.decoder<SensorReading>(avroType('sensor-reading.avsc'))(theirs)).toEqual(reading);
  });

  test('adding an optional field is accepted, and a consumer on the old schema still reads the new records', async () => {
    const subject = `${uniqueName('evolve')}-value`;
    await registerSchema(registry, subject, schemaText('sensor-reading.avsc'));
    const v2 = JSON.parse(schemaText('sensor-reading.avsc'));
    v2.fields.push({ name: 'pressure', type: ['null', 'double'], default: null, doc: 'Pressure, bar.' });
    const v2Text = JSON.stringify(v2);
    const v2Id = await registerSchema(registry, subject, v2Text);

    const writer = new Serde(createRegistry(env.registryUrl).client);
    const encodeV2 = await writer.encoder<SensorReading & { pressure: number | null }>(subject, avro.Type.forSchema(v2), v2Text);
    const bytes = encodeV2({ ...reading, pressure: 1.8 });
    expect(bytes.readInt32BE(1)).toBe(v2Id);

    const oldConsumer = new Serde(createRegistry(env.registryUrl).client).decoder<SensorReading>(avroType('sensor-reading.avsc'));
    expect(await oldConsumer(bytes)).toEqual(reading);
  });

  describe('extras, against the schemas before them (test/fixtures/schemas-before-extras)', () => {
    const before = (file: string) => fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'schemas-before-extras', file), 'utf8');
    const stats = (mean: number) => ({ count: 10, mean, min: mean - 1, max: mean + 1, stddev: 0.5 });
    const window: WindowFeatures = {
      machineId: 'pump-04', windowStart: Date.UTC(2026, 0, 5, 8), windowEnd: Date.UTC(2026, 0, 5, 9), count: 10,
      current: stats(2), accX: stats(0.02), accY: stats(0.02), accZ: stats(0.01), tempA: stats(60), tempB: stats(30), extras: { pressure: stats(2.4), flow: stats(11.5) },
    };
    const { extras: _windowExtras, ...oldWindow } = window;
    const { extras: _readingExtras, ...oldReading } = reading;

    test.each<[string, string, object, object]>([
      ['sensor-reading.avsc', 'SensorReading', { ...reading, extras: { pressure: 2.41, flow: null } }, oldReading],
      ['window-features.avsc', 'WindowFeatures', window, oldWindow],
    ])('%s: BACKWARD both ways in the registry; a consumer pinned to the old %s decodes new records, a new one old records', async (file, _name, withExtras, old) => {
      // BACKWARD after the old schema: the new one reads what the old wrote. Registered the other
      // way round, the registry checks that the old schema reads what the new one writes.
      const forward = `${uniqueName('extras-new')}-value`;
      const oldId = await registerSchema(registry, forward, before(file));
      const newId = await registerSchema(registry, forward, schemaText(file));
      const backward = `${uniqueName('extras-old')}-value`;
      await registerSchema(registry, backward, schemaText(file));
      await expect(registerSchema(registry, backward, before(file))).resolves.toBe(oldId);

      const serde = new Serde(createRegistry(env.registryUrl).client);
      const oldType = avro.Type.forSchema(JSON.parse(before(file)) as avro.Schema);
      const newBytes = (await serde.encoder<object>(forward, avroType(file), schemaText(file)))(withExtras);
      expect(newBytes.readInt32BE(1)).toBe(newId);
      expect({ ...(await serde.decoder<object>(oldType)(newBytes)) }).toEqual(old);
      const oldBytes = frame(oldId, oldType.toBuffer(old));
      expect({ ...(await serde.decoder<object>(avroType(file))(oldBytes)) }).toEqual({ ...old, extras: {} });
      // And Confluent's own JavaScript client, resolving by the writer's id, reads the extras.
      expect(await registry.client.decode(newBytes)).toEqual(withExtras);
    });
  });

  test.each([
    ['a field changes type', (s: { fields: Array<{ name: string; type: unknown }> }) => void (s.fields.find((f) => f.name === 'current')!.type = 'string')],
    ['a required field without default is added', (s: { fields: Array<{ name: string; type: unknown }> }) => void s.fields.push({ name: 'operator', type: 'string' })],
  ])('an incompatible change (%s) is refused by the registry', async (_label, change) => {
    const subject = `${uniqueName('incompatible')}-value`;
    await registerSchema(registry, subject, schemaText('sensor-reading.avsc'));
    const broken = JSON.parse(schemaText('sensor-reading.avsc'));
    change(broken);
    await expect(registerSchema(registry, subject, JSON.stringify(broken))).rejects.toThrow(/409|incompatib/i);
  });

  test('a record naming a schema id the registry does not know is a poison record, not a retry', async () => {
    const decode = new Serde(registry.client).decoder<SensorReading>(avroType('sensor-reading.avsc'));
    const bytes = frame(987_654_321, avroType('sensor-reading.avsc').toBuffer(reading));
    const error = await decode(bytes).then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(SerdeError);
    expect((error as SerdeError).code).toBe('SERDE_UNKNOWN_SCHEMA');
    expect((error as SerdeError).poison).toBe(true);
  });

  test('a record written with another subject\'s schema (a key where a value belongs) is a poison record, every time', async () => {
    const subject = `${uniqueName('keys')}-key`;
    const id = await registerSchema(registry, subject, schemaText('machine-id.avsc'));
    const decode = new Serde(registry.client).decoder<SensorReading>(avroType('sensor-reading.avsc'));
    const bytes = frame(id, avroType('machine-id.avsc').toBuffer('lathe-1'));
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await decode(bytes).then(() => undefined, (err: unknown) => err);
      expect(error).toBeInstanceOf(SerdeError);
      expect((error as SerdeError).code).toBe('SERDE_INCOMPATIBLE_SCHEMA');
      expect((error as SerdeError).poison).toBe(true);
    }
  });

  test('encoding for a subject whose schema was never registered says to run pdmctl topics', async () => {
    const serde = new Serde(registry.client);
    await expect(serde.encoder(`${uniqueName('unregistered')}-value`, avroType('sensor-reading.avsc'), schemaText('sensor-reading.avsc'))).rejects.toThrow(/not registered \(run `npx pdmctl topics`\)/);
  });
});
