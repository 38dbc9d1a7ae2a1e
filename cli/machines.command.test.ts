import { defaultRequester, describeRelearn, relearnRequest } from './machines.command';

const NOW = Date.UTC(2026, 11, 3, 7, 30);
const base = { machineId: 'lathe-1', requestedBy: 'ana@plant-7', requestId: '2c0fd2a4-8d6e-4d4e-9a43-5a1f3c1e9b10', nowMs: NOW };

describe('pdmctl machines relearn: the request', () => {
  test('is a RELEARN of the machine, by whom and when, with its reason', () => {
    expect(relearnRequest({ ...base, reason: 'spindle bearing replaced' })).toEqual({
      requestId: base.requestId,
      machineId: 'lathe-1',
      action: 'RELEARN',
      requestedBy: 'ana@plant-7',
      requestedAt: NOW,
      reason: 'spindle bearing replaced',
    });
  });

  test('no reason, or a blank one, is null; ids and names are trimmed', () => {
    expect(relearnRequest(base).reason).toBeNull();
    expect(relearnRequest({ ...base, reason: '  ' }).reason).toBeNull();
    expect(relearnRequest({ ...base, machineId: ' lathe-1 ', requestedBy: ' ana ' })).toMatchObject({ machineId: 'lathe-1', requestedBy: 'ana' });
  });

  test('refuses what cannot be a machine id, and an empty --by', () => {
    for (const machineId of ['', '   ', 'lathe 1', 'x'.repeat(129)]) expect(() => relearnRequest({ ...base, machineId })).toThrow(/is not a machine id/);
    expect(() => relearnRequest({ ...base, requestedBy: ' ' })).toThrow('--by must name who asks');
  });

  test('--by defaults to $USER@hostname (LOGNAME when USER is unset)', () => {
    expect(defaultRequester({ USER: 'ana' }, 'plant-7')).toBe('ana@plant-7');
    expect(defaultRequester({ LOGNAME: 'bo' }, 'plant-7')).toBe('bo@plant-7');
    expect(defaultRequester({}, 'plant-7')).toMatch(/^.+@plant-7$/);
  });

  test('prints one line: what was asked, by whom, and when it takes effect', () => {
    const line = describeRelearn(relearnRequest({ ...base, reason: 'new "tooling"' }), 'pdm.machine-control.v1');
    expect(line).toBe(
      'relearn of machine lathe-1 requested by ana@plant-7 at 2026-12-03T07:30:00.000Z ' +
        '(request 2c0fd2a4-8d6e-4d4e-9a43-5a1f3c1e9b10, reason: "new \\"tooling\\"") ' +
        "on pdm.machine-control.v1: the inference processor applies it to the machine's next window",
    );
    expect(line).not.toContain('\n');
  });
});
