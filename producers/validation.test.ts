import { DEFAULT_RULES, allowListFrom, validateReading, type ValidationRules } from './validation';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const good = { machineId: 'lathe-1-spindle', timestamp: NOW - 2000, current: 12.1, accX: 0.02, accY: 0.03, accZ: null, tempA: 45.5, tempB: 38 };
const rules: ValidationRules = { ...DEFAULT_RULES, allowList: allowListFrom('lathe-*,cnc-mill-5-axis') };

describe('validateReading', () => {
  test('accepts a complete reading, keeping a missing sensor as null', () => {
    expect(validateReading(good, rules, NOW)).toEqual({ ok: true, reading: good });
  });

  test('accepts an ISO-8601 timestamp with a zone and turns it into epoch milliseconds', () => {
    const result = validateReading({ ...good, timestamp: '2026-11-22T11:59:58.000Z' }, rules, NOW);
    expect(result).toEqual({ ok: true, reading: { ...good, timestamp: NOW - 2000 } });
    expect(validateReading({ ...good, timestamp: '2026-11-22T12:59:58+01:00' }, rules, NOW)).toEqual({ ok: true, reading: { ...good, timestamp: NOW - 2000 } });
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
