import { ackRequest, silenceRequest, unsilenceRequest } from '../../lib/alert-control';
import { alertActionsTable } from './alert-control.rows';
import { upsertStatement } from './postgres.rows';

describe('alert control actions as rows of pdm.alert_actions', () => {
  const who = { requestedBy: 'ana@plant-7', nowMs: Date.UTC(2026, 11, 3, 7, 30) };
  const at = '2026-12-03T07:30:00.000Z';

  test.each([
    [
      'an ACK: its machine, alert and transition',
      ackRequest({ ...who, requestId: 'r-1', alert: { alertId: 'f-1', dedupKey: 'lathe-1/ANOMALY/*', machineId: 'lathe-1' }, reason: 'on it' }),
      ['r-1', 'ACK', 'lathe-1', null, 'f-1', 'lathe-1/ANOMALY/*', null, null, null, 'ana@plant-7', at, 'on it'],
    ],
    [
      'a SILENCE: its pattern, kind and times',
      silenceRequest({ ...who, requestId: 's-1', machine: 'lathe-*', kind: 'ANOMALY', for: '2h', reason: 'spindle swap' }),
      ['s-1', 'SILENCE', 'lathe-*', 'ANOMALY', null, null, null, at, '2026-12-03T09:30:00.000Z', 'ana@plant-7', at, 'spindle swap'],
    ],
    [
      'an UNSILENCE: the silence it ends',
      unsilenceRequest({ ...who, requestId: 'u-1', silenceId: 's-1' }),
      ['u-1', 'UNSILENCE', null, null, null, null, 's-1', null, null, 'ana@plant-7', at, null],
    ],
  ])('%s, keyed by its request id', (_name, control, row) => {
    expect(alertActionsTable.toRow(control)).toEqual(row);
    expect(alertActionsTable.keyOf(control)).toBe(control.requestId);
  });

  test('a record no reader can apply, or a time JavaScript cannot represent, is refused, not written', () => {
    const silence = silenceRequest({ ...who, requestId: 's-1', machine: 'lathe-1', for: '2h', reason: 'r' });
    expect(() => alertActionsTable.toRow({ ...silence, endsAt: null })).toThrow('a SILENCE without startsAt and endsAt');
    expect(() => alertActionsTable.toRow({ ...silence, requestedAt: 9e15 })).toThrow(RangeError);
  });

  test('the upsert conflicts on request_id and rewrites a row only when it differs', () => {
    const sql = upsertStatement('pdm', alertActionsTable, 1);
    expect(sql).toContain('ON CONFLICT ("request_id") DO UPDATE');
    expect(sql).toContain('WHERE (t."action", t."machine_id", t."kind", t."alert_id", t."dedup_key", t."silence_id", t."starts_at", t."ends_at"');
  });
});
