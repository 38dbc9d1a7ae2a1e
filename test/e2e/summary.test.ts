import { SCHEMA_FILES, schemaText } from '../../schemas';
import { SubjectDecoder } from './schema-check';
import { mismatches, renderSummary, type ChaosSummary } from './summary';

const summary = (problems: string[][]): ChaosSummary => ({
  seed: 42,
  simulate: 'pdmctl simulate --machines 6',
  counts: { readings: 207_360, badRecords: 18, late: 3, windows: 576, assessments: 576, alerts: 5, mails: 4, deliveries: 6, deadLetters: 18 },
  chaos: { kills: { window: 1, inference: 1 }, exits: {}, stackFaults: ['broker-restart', 'smtp-outage'] },
  checks: problems.map((p, i) => ({ name: `check ${i}`, checked: 10, problems: p })),
  seconds: 123.4,
  logDir: '/tmp/logs',
});

describe('the summary', () => {
  test('counts, what was done, and each check with its mismatches', () => {
    const text = renderSummary(summary([[], []]));
    expect(text).toContain('seed 42 (PDM_CHAOS_SEED=42 replays it)');
    expect(text).toContain('| readings | 207,360 |');
    expect(text).toContain('| mails (deliveries) | 4 (6) |');
    expect(text).toContain('| restarts: kill -9 | 2 (window 1, inference 1) |');
    expect(text).toContain('| restarts: exited on their own | 0 (none) |');
    expect(text).toContain('| **mismatches** | **0** |');
    expect(text).toContain('| check 1 | 10 | 0 |');
    expect(text).not.toContain('logs:');
    expect(text).not.toContain('machine faults');
  });

  test('the alerts against the ground truth, when scored', () => {
    const text = renderSummary({ ...summary([[]]), truth: { machineFaults: 6, detected: 5, leadHours: { min: 19.71, max: 194 }, falseAlerts: 1, healthyMachineMonths: 28.04, unresolved: 0 } });
    expect(text).toContain('| machine faults alerted before their failure | 5 of 6 (19.7 to 194.0 h before failure) |');
    expect(text).toContain('| false alerts on healthy machines | 1 over 28.0 machine-months |');
    expect(text).toContain('| alerts not resolved after recovery | 0 |');
  });

  test('mismatches are counted, listed (the first few of each check) and point at the logs', () => {
    const s = summary([[], Array.from({ length: 12 }, (_, i) => `problem ${i}`)]);
    expect(mismatches(s)).toBe(12);
    const text = renderSummary(s, 3);
    expect(text).toContain('| **mismatches** | **12** |');
    expect(text).toContain('  - problem 2');
    expect(text).not.toContain('  - problem 3');
    expect(text).toContain('  ... and 9 more');
    expect(text).toContain('logs: /tmp/logs');
  });
});

describe('decoding with the registry\'s schemas', () => {
  const decoder = new SubjectDecoder('t-value', [{ subject: 't-value', version: 1, id: 7, schema: schemaText(SCHEMA_FILES.machineId) }]);
  const framed = (id: number, body: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, 0, id]), body]);
  const body = Buffer.from([8, ...Buffer.from('pump')]);

  test('wire format with a registered id and a body that schema reads exactly', () => {
    expect(decoder.decode(framed(7, body))).toEqual({ ok: true, value: 'pump' });
  });

  test.each<[string, Buffer | null, RegExp]>([
    ['no value', null, /no value/],
    ['too short', Buffer.from([0, 0, 7]), /shorter than the wire-format header/],
    ['another magic byte', Buffer.from([1, 0, 0, 0, 7, 8]), /magic byte 1/],
    ['an id of another subject', framed(8, body), /schema id 8 is not registered under t-value/],
    ['a truncated body', framed(7, body.subarray(0, 3)), /does not decode/],
    ['trailing bytes', framed(7, Buffer.concat([body, Buffer.from([1])])), /does not decode/],
  ])('%s does not decode', (_name, buffer, reason) => {
    const result = decoder.decode(buffer);
    expect(result.ok).toBe(false);
    expect((result as { reason: string }).reason).toMatch(reason);
  });
});

describe('the summary with several instances per service', () => {
  test('kills and SIGTERMs per instance', () => {
    const text = renderSummary({
      ...summary([[]]),
      chaos: { instances: 3, kills: { 'window#2': 1, 'inference#1': 1 }, stops: { 'window#3': 1, 'inference#2': 1 }, exits: { 'sink-email#1': 1 }, stackFaults: [] },
    });
    expect(text).toContain('| instances of each service | 3 |');
    expect(text).toContain('| restarts: kill -9 | 2 (window#2 1, inference#1 1) |');
    expect(text).toContain('| restarts: SIGTERM | 2 (window#3 1, inference#2 1) |');
    expect(text).toContain('| restarts: exited on their own | 1 (sink-email#1 1) |');
  });
});
