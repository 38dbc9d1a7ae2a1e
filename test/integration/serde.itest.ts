import avro from 'avsc';
import { createRegistry, registerSchema } from '../../lib/registry';
import { Serde, SerdeError, frame } from '../../lib/serde';
import { avroType, schemaText, type SensorReading } from '../../schemas';
import { testEnv, uniqueName } from './servers';

describe('the serde against a real schema registry', () => {
  const env = testEnv();
  const registry = createRegistry(env.registryUrl);
  const reading: SensorReading = { machineId: 'lathe-1-spindle', timestamp: Date.UTC(2026, 0, 5, 8), current: 11.2, accX: 0.021, accY: null, accZ: 0.013, tempA: 44.1, tempB: 37.9 };

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
