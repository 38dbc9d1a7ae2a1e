import { machineControlTable } from './machine-control.rows';
import { upsertStatement } from './postgres.rows';

describe('machine control requests as rows of pdm.machine_control', () => {
  const request = {
    requestId: '2c0fd2a4-8d6e-4d4e-9a43-5a1f3c1e9b10',
    machineId: 'lathe-1',
    action: 'RELEARN' as const,
    requestedBy: 'ana@plant-7',
    requestedAt: Date.UTC(2026, 11, 3, 7, 30),
    reason: 'spindle bearing replaced',
  };

  test('one row per request, keyed by its id, the time as an ISO timestamp', () => {
    const row = machineControlTable.toRow(request);
    expect(row).toEqual([request.requestId, 'lathe-1', 'RELEARN', 'ana@plant-7', '2026-12-03T07:30:00.000Z', 'spindle bearing replaced']);
    expect(machineControlTable.toRow({ ...request, reason: null })[5]).toBeNull();
    expect(machineControlTable.keyOf(request)).toBe(request.requestId);
  });

  test('a time JavaScript cannot represent is refused, not written', () => {
    expect(() => machineControlTable.toRow({ ...request, requestedAt: 9e15 })).toThrow(RangeError);
  });

  test('the upsert conflicts on request_id and rewrites a row only when it differs', () => {
    const sql = upsertStatement('pdm', machineControlTable, 1);
    expect(sql).toContain('ON CONFLICT ("request_id") DO UPDATE');
    expect(sql).toContain('WHERE (t."machine_id", t."action", t."requested_by", t."requested_at", t."reason") IS DISTINCT FROM');
  });
});
