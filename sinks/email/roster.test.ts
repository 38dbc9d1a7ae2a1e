import { matches, parseRoster, recipientsFor, silenceAt } from './roster';

const ROSTER = `
default: oncall@plant.example
machines:
  lathe-1-spindle: [lathe-owner@plant.example, oncall@plant.example]
  "cnc-*-5-axis": cnc@plant.example
groups:
  pumps:
    machines: ["pump-*"]
    recipients: [pumps@plant.example]
  hall-b:
    machines: [pump-7, robot-arm-*]
    recipients: hall-b@plant.example
silences:
  - machines: pump-7
    from: 2026-01-05T08:00:00Z
    to: 2026-01-05T12:00:00Z
    reason: bearing replacement
`;

describe('on-call roster', () => {
  const roster = parseRoster(ROSTER);

  test.each([
    ['lathe-1-spindle', ['lathe-owner@plant.example', 'oncall@plant.example']],
    ['cnc-mill-5-axis', ['cnc@plant.example']],
    ['pump-3', ['pumps@plant.example']],
    ['pump-7', ['pumps@plant.example', 'hall-b@plant.example']],
    ['robot-arm-02', ['hall-b@plant.example']],
    ['lathe-2', ['oncall@plant.example']],
    ['cnc-mill-5-axis-old', ['oncall@plant.example']],
  ])('%s → %j (machine patterns, then groups, then default)', (machine, expected) => {
    expect(recipientsFor(roster, machine)).toEqual(expected);
  });

  test.each([
    ['pump-7', '2026-01-05T07:59:59Z', false],
    ['pump-7', '2026-01-05T08:00:00Z', true],
    ['pump-7', '2026-01-05T11:59:59Z', true],
    ['pump-7', '2026-01-05T12:00:00Z', false],
    ['pump-3', '2026-01-05T09:00:00Z', false],
  ])('%s silenced at %s: %s', (machine, at, silenced) => {
    expect(silenceAt(roster, machine, Date.parse(at)) !== undefined).toBe(silenced);
  });

  test.each([
    ['*', 'anything', true],
    ['pump-*', 'pump-', true],
    ['pump-*', 'xpump-1', false],
    ['a.b', 'axb', false],
    ['m(1)', 'm(1)', true],
  ])('pattern %s matches %s: %s', (pattern, id, expected) => {
    expect(matches(pattern, id)).toBe(expected);
  });

  test('JSON is read as well', () => {
    expect(recipientsFor(parseRoster('{"default": ["a@b.c"]}'), 'x')).toEqual(['a@b.c']);
  });

  test.each([
    ['machines: {}', /default: /],
    ['default: not-an-address', /default: is not an e-mail address/],
    ['default: a@b.c\nsilences: [{machines: x, from: 2026-01-05T12:00:00Z, to: 2026-01-05T08:00:00Z}]', /silences\.0\.to: must be after from/],
    ['default: a@b.c\nsilences: [{machines: x, from: tomorrow, to: 2026-01-05T08:00:00Z}]', /tomorrow is not an ISO time/],
    ['default: a@b.c\nescalation: x', /Unrecognized key/],
    ['default: [a@b.c', /not YAML or JSON/],
  ])('a bad roster fails with its path: %s', (text, message) => {
    expect(() => parseRoster(text)).toThrow(message);
  });
});
