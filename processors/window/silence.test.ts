import { lastSeenOf, machineStates, noteReading, type LastSeen } from './silence';
import type { OpenWindow } from './window';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 8);
const config = { silentAfterMs: HOUR + 5 * 60_000, forgetAfterMs: 7 * 24 * HOUR };

describe('silent machines, in stream time', () => {
  test('a machine keeps its newest reading: a late or repeated one does not move it back', () => {
    const seen: LastSeen = new Map();
    noteReading(seen, 'pump-1', T0 + 10_000);
    noteReading(seen, 'pump-1', T0);
    noteReading(seen, 'pump-1', T0 + 10_000);
    expect(seen.get('pump-1')).toBe(T0 + 10_000);
  });

  test.each([
    ['reporting just under the threshold', config.silentAfterMs - 1, { reporting: 1, silent: 0 }],
    ['silent from the threshold on', config.silentAfterMs, { reporting: 0, silent: 1 }],
    ['still silent six days later', 6 * 24 * HOUR, { reporting: 0, silent: 1 }],
    ['forgotten after a week', config.forgetAfterMs, { reporting: 0, silent: 0 }],
  ])('%s', (_name, quietMs, expected) => {
    const seen: LastSeen = new Map([['lathe-1', T0]]);
    expect(machineStates(seen, T0 + quietMs, config)).toEqual(expected);
    expect(seen.has('lathe-1')).toBe(quietMs < config.forgetAfterMs);
  });

  test('counts each machine of a partition against the same stream time', () => {
    const seen: LastSeen = new Map([
      ['a', T0 + 3 * HOUR],
      ['b', T0 + 3 * HOUR - 1000],
      ['c', T0],
    ]);
    expect(machineStates(seen, T0 + 3 * HOUR, config)).toEqual({ reporting: 2, silent: 1 });
  });

  test('before any reading there is no stream time, and nobody is silent', () => {
    expect(machineStates(new Map(), Number.NEGATIVE_INFINITY, config)).toEqual({ reporting: 0, silent: 0 });
  });

  test('a restored partition knows the machines of its open windows, at their newest reading', () => {
    const window = (machineId: string, timestamps: number[]): OpenWindow => ({ machineId, windowStartMs: T0, windowEndMs: T0 + HOUR, count: timestamps.length, features: {} as OpenWindow['features'], extras: new Map(), timestamps });
    const seen = lastSeenOf([window('a', [T0, T0 + 5000]), window('b', [T0 + 1000]), window('c', [])]);
    expect([...seen]).toEqual([
      ['a', T0 + 5000],
      ['b', T0 + 1000],
    ]);
  });
});
