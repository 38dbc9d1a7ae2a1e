import { silenceRequest, unsilenceRequest } from '../lib/alert-control';
import type { AlertToAck } from '../lib/alert-lookup';
import { ackOf, describeAlertControl } from './alerts.command';

const NOW = Date.UTC(2026, 11, 3, 7, 30);
const request = { requestId: '2c0fd2a4-8d6e-4d4e-9a43-5a1f3c1e9b10', requestedBy: 'ana@plant-7', nowMs: NOW };
const alert = { alertId: 'f-1', dedupKey: 'lathe-1/ANOMALY/*', machineId: 'lathe-1', kind: 'ANOMALY' };
const firing: AlertToAck = { ...alert, status: 'FIRING', createdAtMs: NOW - 3_600_000, firing: true };
const topic = 'pdm.alert-control.v1';

describe('pdmctl alerts ack', () => {
  test('acknowledges the FIRING transition found, on its machine', () => {
    const ack = ackOf(firing, { reason: 'on it' }, request);
    expect(ack).toMatchObject({ action: 'ACK', machineId: 'lathe-1', alertId: 'f-1', dedupKey: 'lathe-1/ANOMALY/*', reason: 'on it', requestedAt: NOW });
    expect(ackOf(firing, { machine: ' lathe-1 ' }, request).machineId).toBe('lathe-1');
  });

  test('refuses an alert that no longer fires, and one on another machine than --machine says', () => {
    expect(() => ackOf({ ...firing, status: 'RESOLVED', firing: false }, {}, request)).toThrow(
      expect.objectContaining({
        code: 'ALERT_NOT_FIRING',
        message: 'alert lathe-1/ANOMALY/* (f-1, RESOLVED at 2026-12-03T06:30:00.000Z) is not firing: there is nothing to acknowledge',
      }),
    );
    expect(() => ackOf(firing, { machine: 'lathe-2' }, request)).toThrow(expect.objectContaining({ code: 'ALERT_OTHER_MACHINE' }));
  });
});

describe('the line each command prints: what was asked, by whom, and when it takes effect', () => {
  test.each([
    [
      'ack',
      ackOf(firing, { reason: 'on it' }, request),
      'acknowledgement of alert lathe-1/ANOMALY/* (transition f-1) by ana@plant-7 at 2026-12-03T07:30:00.000Z ' +
        '(request 2c0fd2a4-8d6e-4d4e-9a43-5a1f3c1e9b10, reason: "on it") on pdm.alert-control.v1: ' +
        'the email sink sends no more reminders while it fires; its resolution is still mailed',
    ],
    [
      'silence of a machine',
      silenceRequest({ ...request, machine: 'lathe-*', for: '2h', reason: 'spindle swap' }),
      'silence of machine lathe-* from 2026-12-03T07:30:00.000Z until 2026-12-03T09:30:00.000Z by ana@plant-7 at 2026-12-03T07:30:00.000Z ' +
        '(silence 2c0fd2a4-8d6e-4d4e-9a43-5a1f3c1e9b10, reason: "spindle swap") on pdm.alert-control.v1: ' +
        'the email sink holds that mail until then; `pdmctl alerts unsilence 2c0fd2a4-8d6e-4d4e-9a43-5a1f3c1e9b10` ends it early',
    ],
    ['silence of a kind', silenceRequest({ ...request, kind: 'anomaly', for: '1h', reason: 'r' }), /^silence of ANOMALY alerts of every machine from /],
    ['silence of a kind on *', silenceRequest({ ...request, machine: '*', kind: 'DEVIATION', for: '1h', reason: 'r' }), /^silence of DEVIATION alerts of /],
    [
      'unsilence',
      unsilenceRequest({ ...request, silenceId: 's-1' }),
      'end of silence s-1 by ana@plant-7 at 2026-12-03T07:30:00.000Z (request 2c0fd2a4-8d6e-4d4e-9a43-5a1f3c1e9b10) on pdm.alert-control.v1: ' +
        'the email sink mails what it held as soon as it reads this (seconds)',
    ],
  ])('%s', (_name, control, expected) => {
    const line = describeAlertControl(control, topic);
    if (typeof expected === 'string') expect(line).toBe(expected);
    else expect(line).toMatch(expected);
    expect(line).not.toContain('\n');
  });
});
