import type { ActionView, AlertView } from '../../api/schemas';
import { actionSummary, silenceCovers, silenceTarget, supersededFirings } from './alerts';

const alert = (alertId: string, dedupKey: string, status: string): AlertView =>
  ({ alertId, dedupKey, status, machineId: 'm1', severity: 'WARNING', kind: 'DEVIATION' }) as AlertView;

describe('supersededFirings', () => {
  it('marks a firing that a newer transition of the same alert follows', () => {
    const alerts = [
      alert('r2', 'm1/DEVIATION/*', 'RESOLVED'),
      alert('f2', 'm1/ANOMALY/*', 'FIRING'),
      alert('f1', 'm1/DEVIATION/*', 'FIRING'),
      alert('f0', 'm1/DEVIATION/*', 'FIRING'),
    ];
    expect([...supersededFirings(alerts)].sort()).toEqual(['f0', 'f1']);
  });
});

describe('silenceTarget', () => {
  it.each([
    [{ machine: 'pump-*', kind: 'DEVIATION' }, 'pump-* · DEVIATION'],
    [{ machine: 'pump-3', kind: null }, 'pump-3 (every kind)'],
    [{ machine: null, kind: 'ANOMALY' }, 'every machine · ANOMALY'],
  ])('%p', (silence, text) => expect(silenceTarget(silence)).toBe(text));
});

describe('actionSummary', () => {
  const base: ActionView = {
    requestId: 'r',
    action: 'ACK',
    machine: 'm1',
    kind: null,
    alertId: 'a1',
    dedupKey: 'm1/DEVIATION/*',
    silenceId: null,
    startsAt: null,
    endsAt: null,
    by: 'ana',
    requestedAt: '2026-01-05T10:00:00Z',
    reason: null,
  };
  it('says what was done', () => {
    expect(actionSummary(base)).toBe('acknowledged m1/DEVIATION/*');
    expect(actionSummary({ ...base, action: 'SILENCE', alertId: null, startsAt: '2026-01-05T10:00:00Z', endsAt: '2026-01-05T12:00:00Z' })).toBe(
      'silenced m1 (every kind) for 2 h',
    );
    expect(actionSummary({ ...base, action: 'UNSILENCE', machine: null, silenceId: 's1' })).toBe('ended silence of s1');
  });
});

describe('silenceCovers', () => {
  it.each([
    [null, 'pump-3', true],
    ['pump-3', 'pump-3', true],
    ['pump-3', 'pump-30', false],
    ['pump-*', 'pump-30', true],
    ['*.press', 'line:4.press', true],
    ['line.4', 'lineX4', false],
  ])('%p covers %s: %p', (machine, id, covers) => expect(silenceCovers(machine, id)).toBe(covers));
});
