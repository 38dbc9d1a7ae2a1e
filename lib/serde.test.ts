import { avroType } from '../schemas';
import { SerdeError, frame, unframe } from './serde';

// Golden bytes: the Confluent wire format, pinned. A change here breaks every consumer in the field.
describe('the Confluent wire format', () => {
  const reading = { machineId: 'lathe-1', timestamp: 1_700_000_000_000, current: 1.5, accX: null, accY: null, accZ: null, tempA: -2, tempB: null, extras: {} };

  test('a SensorReading under schema id 42 encodes to exactly these bytes', () => {
    const bytes = frame(42, avroType('sensor-reading.avsc').toBuffer(reading));
    expect(bytes.toString('hex')).toBe(
      '00' + '0000002a' + // magic byte, schema id (4 bytes, big-endian)
        '0e' + Buffer.from('lathe-1').toString('hex') + // string: zigzag length 7, UTF-8
        '80a0abfef962' + // long 1700000000000: zigzag 3400000000000 as a varint
        '02' + '000000000000f83f' + // union branch 1 (double), 1.5 little-endian
        '00' + '00' + '00' + // accX, accY, accZ: union branch 0 (null)
        '02' + '00000000000000c0' + // tempA -2.0
        '00' + // tempB null
        '00', // extras: an empty map (block count 0); the bytes above are those of the schema before extras
    );
  });

  test('a reading with extra channels: map blocks of name and nullable double', () => {
    const bytes = avroType('sensor-reading.avsc').toBuffer({ ...reading, extras: { pressure: 2.5 } });
    expect(bytes.subarray(bytes.length - 20).toString('hex')).toBe(
      '02' + // one entry in this block (zigzag 1)
        '10' + Buffer.from('pressure').toString('hex') + // key: zigzag length 8
        '02' + '0000000000000440' + // union branch 1 (double), 2.5
        '00', // end of the map
    );
  });

  test('the machine-id key is an Avro string in the same framing', () => {
    expect(frame(7, avroType('machine-id.avsc').toBuffer('robot-arm-02')).toString('hex')).toBe('0000000007' + '18' + Buffer.from('robot-arm-02').toString('hex'));
  });

  test('unframe reads back the schema id and the body', () => {
    const body = avroType('sensor-reading.avsc').toBuffer(reading);
    const { schemaId, body: read } = unframe(frame(123456, body));
    expect(schemaId).toBe(123456);
    expect({ ...avroType('sensor-reading.avsc').fromBuffer(read) }).toEqual(reading);
  });

  test.each([
    [Buffer.from([0, 0, 0]), 'SERDE_TOO_SHORT', /shorter than the 5-byte/],
    [Buffer.from([1, 0, 0, 0, 1, 2]), 'SERDE_MAGIC_BYTE', /magic byte is 1/],
    [Buffer.from('{"json":true}'), 'SERDE_MAGIC_BYTE', /magic byte is 123/],
  ])('refuses %j as not wire format, as a poison record', (buffer, code, message) => {
    try {
      unframe(buffer);
      throw new Error('unframe accepted it');
    } catch (err) {
      expect(err).toBeInstanceOf(SerdeError);
      expect((err as SerdeError).code).toBe(code);
      expect((err as SerdeError).poison).toBe(true);
      expect((err as Error).message).toMatch(message);
    }
  });
});
