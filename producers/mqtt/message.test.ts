import { DEFAULT_RULES, allowListFrom, validateReading } from '../validation';
import { defaultMachineIdSegment, machineIdFromTopic, machineIdSegmentProblem, readingInput, topicFilterProblem, topicMatches, type TopicLayout } from './message';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const layout: TopicLayout = { filter: 'sensors/+/telemetry', machineIdSegment: 1, maxPayloadBytes: 4096 };
const features = { current: 12.1, accX: 0.02, accY: 0.03, accZ: null, tempA: 45.5, tempB: 38 };
const bytes = (value: unknown): Buffer => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');

describe('topicFilterProblem', () => {
  test.each([['sensors/+/telemetry'], ['sensors/#'], ['#'], ['+'], ['plant/+/line/+/telemetry'], ['$share/pdm/sensors/+/telemetry'], ['sensors/lathe-1/telemetry']])('accepts %s', (filter) => {
    expect(topicFilterProblem(filter)).toBeUndefined();
  });

  test.each([
    ['', /empty/],
    ['sensors/#/telemetry', /"#" must be a whole level and the last one/],
    ['sensors/lathe#', /"#" must be a whole level/],
    ['sensors/lathe+/telemetry', /"\+" must be a whole level \(level 1/],
    ['$share//sensors/+', /shared subscription/],
    ['$share/pdm', /shared subscription/],
    ['$share/p+/sensors/+', /shared subscription/],
  ])('refuses %j', (filter, problem) => {
    expect(topicFilterProblem(filter)).toMatch(problem);
  });
});

describe('topicMatches', () => {
  test.each([
    ['sensors/+/telemetry', 'sensors/lathe-1/telemetry', true],
    ['sensors/+/telemetry', 'sensors//telemetry', true],
    ['sensors/+/telemetry', 'sensors/lathe-1/telemetry/extra', false],
    ['sensors/+/telemetry', 'sensors/lathe-1', false],
    ['sensors/+/telemetry', 'plant/lathe-1/telemetry', false],
    ['sensors/#', 'sensors', true],
    ['sensors/#', 'sensors/lathe-1/telemetry', true],
    ['#', '$SYS/broker/uptime', false],
    ['+/uptime', '$SYS/uptime', false],
    ['$share/pdm/sensors/+/telemetry', 'sensors/pump-7/telemetry', true],
  ])('%s against %s: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});

describe('where the machine id sits in a topic', () => {
  test('by default, at the first "+" of the filter, a shared prefix not counted', () => {
    expect(defaultMachineIdSegment('sensors/+/telemetry')).toBe(1);
    expect(defaultMachineIdSegment('plant/+/line/+/telemetry')).toBe(1);
    expect(defaultMachineIdSegment('$share/pdm/sensors/+/telemetry')).toBe(1);
    expect(defaultMachineIdSegment('sensors/#')).toBeUndefined();
  });

  test('a configured level must exist in every topic the filter matches', () => {
    expect(machineIdSegmentProblem('sensors/+/telemetry', 2)).toBeUndefined();
    expect(machineIdSegmentProblem('sensors/+/telemetry', 3)).toMatch(/has 3 levels/);
    expect(machineIdSegmentProblem('sensors/#', 0)).toBeUndefined();
    expect(machineIdSegmentProblem('sensors/#', 1)).toMatch(/after the "#"/);
  });

  test.each([
    ['sensors/lathe-1/telemetry', 1, 'lathe-1'],
    ['sensors//telemetry', 1, undefined],
    ['sensors/lathe-1', 4, undefined],
    ['sensors/lathe-1/telemetry', undefined, undefined],
  ])('%s at level %s is %s', (topic, segment, expected) => {
    expect(machineIdFromTopic(topic, segment)).toBe(expected);
  });
});

describe('readingInput', () => {
  test.each([
    ['takes the machine id from the topic when the payload has none', 'sensors/lathe-1/telemetry', { timestamp: NOW, ...features }, { machineId: 'lathe-1', timestamp: NOW, ...features }],
    ['keeps a payload machine id that agrees with the topic', 'sensors/lathe-1/telemetry', { machineId: 'lathe-1', timestamp: NOW, ...features }, { machineId: 'lathe-1', timestamp: NOW, ...features }],
    ['leaves an ISO timestamp for validation to read', 'sensors/lathe-1/telemetry', { timestamp: '2026-11-22T12:00:00Z', ...features }, { machineId: 'lathe-1', timestamp: '2026-11-22T12:00:00Z', ...features }],
    ['moves numeric and null extra fields into extras', 'sensors/lathe-1/telemetry', { timestamp: NOW, ...features, pressure: 1, flow: null }, { machineId: 'lathe-1', timestamp: NOW, ...features, extras: { pressure: 1, flow: null } }],
    ['adds them to extras the payload nests', 'sensors/lathe-1/telemetry', { timestamp: NOW, ...features, extras: { rpm: 1450 }, pressure: 1 }, { machineId: 'lathe-1', timestamp: NOW, ...features, extras: { rpm: 1450, pressure: 1 } }],
    ['leaves nested extras as they are', 'sensors/lathe-1/telemetry', { timestamp: NOW, ...features, extras: { rpm: 1450 } }, { machineId: 'lathe-1', timestamp: NOW, ...features, extras: { rpm: 1450 } }],
    ['leaves extra fields that are not numbers, so validation refuses them', 'sensors/lathe-1/telemetry', { timestamp: NOW, ...features, status: 'ok' }, { machineId: 'lathe-1', timestamp: NOW, ...features, status: 'ok' }],
    ['moves bad channel names too, for validation to refuse', 'sensors/lathe-1/telemetry', { timestamp: NOW, 'flow rate': 3 }, { machineId: 'lathe-1', timestamp: NOW, extras: { 'flow rate': 3 } }],
    ['keeps strings where numbers belong', 'sensors/lathe-1/telemetry', { timestamp: NOW, ...features, current: 'NaN' }, { machineId: 'lathe-1', timestamp: NOW, ...features, current: 'NaN' }],
    ['passes a non-object on unchanged, for validation to refuse', 'sensors/lathe-1/telemetry', [1, 2], [1, 2]],
    ['passes a non-string machine id on, for validation to refuse', 'sensors/lathe-1/telemetry', { machineId: 7, timestamp: NOW }, { machineId: 7, timestamp: NOW }],
    ['adds nothing when the topic level is empty', 'sensors//telemetry', { timestamp: NOW }, { timestamp: NOW }],
  ])('%s', (_label, topic, payload, input) => {
    expect(readingInput(topic, bytes(payload), layout)).toEqual({ ok: true, input });
  });

  test('without a machine-id level, the payload alone names the machine', () => {
    const payload = { machineId: 'pump-7', timestamp: NOW, ...features };
    expect(readingInput('sensors/any/telemetry', bytes(payload), { ...layout, machineIdSegment: undefined })).toEqual({ ok: true, input: payload });
  });

  test.each([
    ['malformed JSON', 'sensors/lathe-1/telemetry', bytes('{"timestamp": 1,'), 'malformed_json', /not JSON/],
    ['an empty payload', 'sensors/lathe-1/telemetry', Buffer.alloc(0), 'malformed_json', /not JSON/],
    ['NaN written bare (not JSON)', 'sensors/lathe-1/telemetry', bytes('{"current": NaN}'), 'malformed_json', /not JSON/],
    ['bytes that are not UTF-8', 'sensors/lathe-1/telemetry', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'malformed_json', /not UTF-8/],
    ['a payload naming another machine than its topic', 'sensors/lathe-1/telemetry', bytes({ machineId: 'lathe-2', timestamp: NOW }), 'machine_id_mismatch', /"lathe-2" differs from "lathe-1"/],
    ['a payload above the size limit', 'sensors/lathe-1/telemetry', Buffer.alloc(4097, 0x20), 'payload_too_large', /4097 bytes exceeds 4096/],
    ['a topic outside the subscription', 'plant/lathe-1/telemetry', bytes({ timestamp: NOW }), 'unexpected_topic', /does not match the subscription sensors\/\+\/telemetry/],
    ['a channel both flat and in extras', 'sensors/lathe-1/telemetry', bytes({ timestamp: NOW, pressure: 1, extras: { pressure: 2 } }), 'bad_channel_name', /"pressure" is given both as a field and in extras/],
  ])('refuses %s', (_label, topic, payload, code, reason) => {
    const decoded = readingInput(topic, payload, layout);
    expect(decoded).toEqual({ ok: false, code, reason: expect.stringMatching(reason) });
  });

  test('a UTF-8 byte-order mark is not a reason to refuse', () => {
    const payload = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes({ timestamp: NOW })]);
    expect(readingInput('sensors/lathe-1/telemetry', payload, layout)).toEqual({ ok: true, input: { machineId: 'lathe-1', timestamp: NOW } });
  });
});

describe('an MQTT message through validation', () => {
  const rules = { ...DEFAULT_RULES, allowList: allowListFrom('lathe-*,pump-*') };
  const judge = (topic: string, payload: unknown) => {
    const decoded = readingInput(topic, bytes(payload), layout);
    if (!decoded.ok) return decoded.code;
    const validated = validateReading(decoded.input, rules, NOW);
    return validated.ok ? validated.reading : validated.code;
  };

  test('a good reading becomes a SensorReading of the topic machine, an ISO time in epoch ms', () => {
    expect(judge('sensors/lathe-1/telemetry', { timestamp: '2026-11-22T11:59:58.000Z', ...features })).toEqual({ machineId: 'lathe-1', timestamp: NOW - 2000, ...features, extras: {} });
  });

  test('a pump\'s extra numeric fields become its extras', () => {
    expect(judge('sensors/pump-7/telemetry', { timestamp: NOW, ...features, pressure: 2.41, flow: 11.8 })).toEqual({ machineId: 'pump-7', timestamp: NOW, ...features, extras: { pressure: 2.41, flow: 11.8 } });
  });

  const { tempB: _dropped, ...withoutTempB } = features;
  test.each([
    ['a missing field', 'sensors/lathe-1/telemetry', { timestamp: NOW, ...withoutTempB }, 'missing_field'],
    ['an extra field that is not a number', 'sensors/lathe-1/telemetry', { timestamp: NOW, ...features, status: 'ok' }, 'extra_field'],
    ['an extra channel named like no channel', 'sensors/lathe-1/telemetry', { timestamp: NOW, ...features, 'flow-rate': 1.2 }, 'bad_channel_name'],
    ['an extra channel beyond 1e15', 'sensors/lathe-1/telemetry', { timestamp: NOW, ...features, counter: 2e15 }, 'out_of_range'],
    ['65 extra channels', 'sensors/lathe-1/telemetry', { timestamp: NOW, ...features, ...Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`ch${i}`, i])) }, 'too_many_channels'],
    ['a "__proto__" field', 'sensors/lathe-1/telemetry', JSON.parse(`{"timestamp": ${NOW}, "current": 1, "accX": 1, "accY": 1, "accZ": 1, "tempA": 1, "tempB": 1, "__proto__": 5}`), 'bad_channel_name'],
    ['a non-numeric value', 'sensors/lathe-1/telemetry', { timestamp: NOW, ...features, tempA: 'hot' }, 'not_a_number'],
    ['NaN as a JSON string', 'sensors/lathe-1/telemetry', { timestamp: NOW, ...features, current: 'NaN' }, 'not_a_number'],
    ['a timestamp an hour ahead', 'sensors/lathe-1/telemetry', { timestamp: NOW + 3_600_000, ...features }, 'timestamp_in_future'],
    ['a timestamp before 2000', 'sensors/lathe-1/telemetry', { timestamp: Date.UTC(1999, 11, 31), ...features }, 'timestamp_too_old'],
    ['a machine outside the allow-list', 'sensors/robot-arm-3/telemetry', { timestamp: NOW, ...features }, 'machine_not_allowed'],
    ['a topic level that is not a machine id', 'sensors/lathe 1;DROP/telemetry', { timestamp: NOW, ...features }, 'bad_machine_id'],
  ])('refuses %s', (_label, topic, payload, code) => {
    expect(judge(topic, payload)).toBe(code);
  });
});
