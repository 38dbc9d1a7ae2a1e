import { DEFAULT_RULES, allowListFrom, validateReading, type ValidationRules } from './validation';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const good = { machineId: 'lathe-1-spindle', timestamp: NOW - 2000, current: 12.1, accX: 0.02, accY: 0.03, accZ: null, tempA: 45.5, tempB: 38 };
const rules: ValidationRules = { ...DEFAULT_RULES, allowList: allowListFrom('lathe-*,cnc-mill-5-axis') };

describe('validateReading', () => {
  test('accepts a complete reading, keeping a missing sensor as null; no extras is an empty map', () => {
    expect(validateReading(good, rules, NOW)).toEqual({ ok: true, reading: { ...good, extras: {} } });
  });

  test.each<[string, Record<string, number | null>]>([
    ['two channels, one of them missing', { pressure: 2.31, flow_m3h: null }],
    ['names at the limits: one letter, 32 characters, digits and underscores', { p: 1, [`a${'b'.repeat(30)}9`]: -4.5, Valve_2_pos: 0 }],
    ['64 channels', Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`ch${i}`, i]))],
    ['values at ±1e15', { big: 1e15, small: -1e15 }],
    ['a channel named like a feature but for case', { Current: 3 }],
  ])('accepts extras: %s', (_label, extras) => {
    expect(validateReading({ ...good, extras }, rules, NOW)).toEqual({ ok: true, reading: { ...good, extras } });
  });

  test('accepts an ISO-8601 timestamp with a zone and turns it into epoch milliseconds', () => {
    const result = validateReading({ ...good, timestamp: '2026-11-22T11:59:58.000Z' }, rules, NOW);
    expect(result).toEqual({ ok: true, reading: { ...good, timestamp: NOW - 2000, extras: {} } });
    expect(validateReading({ ...good, timestamp: '2026-11-22T12:59:58+01:00' }, rules, NOW)).toEqual({ ok: true, reading: { ...good, timestamp: NOW - 2000, extras: {} } });
  });

  const { tempB: _dropped, ...missingTempB } = good;
  test.each([
    ['a NaN value', { ...good, current: Number.NaN }, 'not_finite', /current is NaN/],
    ['an infinite value', { ...good, accX: Number.POSITIVE_INFINITY }, 'not_finite', /accX is Infinity/],
    ['a non-numeric value', { ...good, tempA: 'hot' }, 'not_a_number', /tempA is "hot"/],
    ['a numeric string', { ...good, tempA: '45.5' }, 'not_a_number', /tempA/],
    ['a missing field', missingTempB, 'missing_field', /tempB is missing/],
    ['an extra field', { ...good, pressure: 1.2 }, 'extra_field', /unknown field "pressure"/],
    ['a timestamp far in the future', { ...good, timestamp: NOW + 3_600_000 }, 'timestamp_in_future', /ahead of now/],
    ['a timestamp before 2000', { ...good, timestamp: Date.UTC(1999, 11, 31) }, 'timestamp_too_old', /before 2000-01-01/],
    ['a timestamp without a zone', { ...good, timestamp: '2026-11-22 11:59:58' }, 'bad_timestamp', /with a zone/],
    ['a fractional epoch', { ...good, timestamp: 1.5 }, 'bad_timestamp', /whole number/],
    ['a machine outside the allow-list', { ...good, machineId: 'robot-arm-02' }, 'machine_not_allowed', /robot-arm-02 is not in the allow-list/],
    ['a malformed machine id', { ...good, machineId: 'lathe 1; DROP' }, 'bad_machine_id', /not an id/],
    ['something that is not an object', [1, 2, 3], 'malformed', /must be an object/],
    ['null', null, 'malformed', /must be an object/],
    ['a feature beyond 1e15', { ...good, tempB: -2e15 }, 'out_of_range', /tempB is -2000000000000000, beyond the 1000000000000000/],
    ['extras that are not an object', { ...good, extras: [1, 2] }, 'malformed', /extras must be an object/],
    ['an extra channel that is NaN', { ...good, extras: { pressure: Number.NaN } }, 'not_finite', /extras.pressure is NaN/],
    ['an extra channel that is infinite', { ...good, extras: { flow: Number.NEGATIVE_INFINITY } }, 'not_finite', /extras.flow is -Infinity/],
    ['an extra channel that is text', { ...good, extras: { pressure: '2.3' } }, 'not_a_number', /extras.pressure is "2.3"/],
    ['an extra channel beyond 1e15', { ...good, extras: { counter: 1e16 } }, 'out_of_range', /extras.counter is 10000000000000000, beyond/],
    ['an extra channel named like a feature', { ...good, extras: { tempA: 40 } }, 'bad_channel_name', /"tempA" is one of the six features/],
    ['an extra channel with a space', { ...good, extras: { 'flow rate': 3 } }, 'bad_channel_name', /"flow rate" is not a channel name/],
    ['an extra channel starting with a digit', { ...good, extras: { '2nd_stage': 3 } }, 'bad_channel_name', /not a channel name/],
    ['an extra channel starting with an underscore', { ...good, extras: { __proto__x: 3 } }, 'bad_channel_name', /not a channel name/],
    ['an empty channel name', { ...good, extras: { '': 3 } }, 'bad_channel_name', /"" is not a channel name/],
    ['a channel name of 33 characters', { ...good, extras: { [`a${'b'.repeat(32)}`]: 1 } }, 'bad_channel_name', /33 characters long, more than 32/],
    ['65 extra channels', { ...good, extras: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`ch${i}`, i])) }, 'too_many_channels', /65 extra channels, more than the 64/],
  ])('refuses %s with a reason', (_label, input, code, reason) => {
    const result = validateReading(input, rules, NOW);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe(code);
      expect(result.reason).toMatch(reason);
    }
  });

  test('tolerates a clock up to maxFutureMs ahead', () => {
    expect(validateReading({ ...good, timestamp: NOW + DEFAULT_RULES.maxFutureMs }, rules, NOW).ok).toBe(true);
    expect(validateReading({ ...good, timestamp: NOW + DEFAULT_RULES.maxFutureMs + 1 }, rules, NOW).ok).toBe(false);
  });
});

describe('allowListFrom', () => {
  test('no patterns allow everything; * matches any run of characters; dots are literal', () => {
    expect(allowListFrom(undefined)).toBeUndefined();
    expect(allowListFrom(' ')).toBeUndefined();
    const allow = allowListFrom('pump-*, cnc.mill')!;
    expect(allow('pump-07')).toBe(true);
    expect(allow('cnc.mill')).toBe(true);
    expect(allow('cncxmill')).toBe(false);
    expect(allow('lathe-1')).toBe(false);
  });
});
