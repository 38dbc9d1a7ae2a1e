import type { AlertEvent } from '../../schemas';
import type { LifecycleConfig, Mail } from '../../sinks/email/lifecycle';
import { renderMail } from '../../sinks/email/render';
import { parseRoster, rosterRouting } from '../../sinks/email/roster';
import { compareDeliveries, deliveriesOfMail, expectedDeliveries } from './mail-expectation';

const T0 = Date.UTC(2026, 2, 5, 8);
const HOUR = 3_600_000;
const routing = rosterRouting(parseRoster(['default: oncall@plant.example', 'machines:', '  "lathe-*": [lathes@plant.example, oncall@plant.example]', ''].join('\n')));
const config: LifecycleConfig = { groupWaitMs: 0, repeatIntervalMs: 5200 * 7 * 24 * HOUR, maxAgeMs: 5200 * 7 * 24 * HOUR, rateLimit: { count: 1_000_000, windowMs: HOUR } };

function alert(machineId: string, alertId: string, at: number, over: Partial<AlertEvent> = {}): AlertEvent {
  return {
    drivers: [],
    alertId,
    dedupKey: `${machineId}/ANOMALY/*`,
    machineId,
    status: 'FIRING',
    severity: 'WARNING',
    kind: 'ANOMALY',
    feature: null,
    windowEnd: at,
    predictedBreachAt: null,
    score: 2,
    threshold: 1,
    modelName: 'pdm-anomaly',
    modelVersion: 'v2',
    message: `${machineId}: anomaly score 2 against threshold 1`,
    createdAt: at,
    ...over,
  };
}

describe('what the inbox must hold', () => {
  test('every transition of the alert topic, to each recipient of its machine', () => {
    const partitions = [
      [alert('lathe-9', 'f1', T0), alert('lathe-9', 'c1', T0 + HOUR, { severity: 'CRITICAL' }), alert('lathe-9', 'r1', T0 + 4 * HOUR, { status: 'RESOLVED' })],
      [alert('pump-3', 'f2', T0 + HOUR), alert('pump-3', 'f3', T0 + 2 * HOUR)],
    ];
    const wanted = expectedDeliveries(partitions, config, routing, T0 + 10 * HOUR).map((d) => `${d.recipient} ${d.transition}`);
    expect(wanted.sort()).toEqual(
      [
        'lathes@plant.example FIRING:f1',
        'oncall@plant.example FIRING:f1',
        'lathes@plant.example ESCALATED:CRITICAL:f1',
        'oncall@plant.example ESCALATED:CRITICAL:f1',
        'lathes@plant.example RESOLVED:f1',
        'oncall@plant.example RESOLVED:f1',
        // a FIRING of an alert already firing at the same severity tells nothing new
        'oncall@plant.example FIRING:f2',
      ].sort(),
    );
  });

  test('a mail rendered by the sink reads back as its deliveries', () => {
    const a = alert('lathe-9', 'f1', T0);
    const b = alert('lathe-9', 'f9', T0, { dedupKey: 'lathe-9/FORECAST_BREACH/tempA', kind: 'FORECAST_BREACH', feature: 'tempA', predictedBreachAt: T0 + 3 * HOUR });
    const mail: Mail = {
      recipient: 'lathes@plant.example',
      machineId: 'lathe-9',
      digest: false,
      notifications: [
        { dedupKey: a.dedupKey, machineId: 'lathe-9', transition: 'FIRING:f1', kind: 'FIRING', alert: a, firingSinceMs: T0, atMs: T0 },
        { dedupKey: b.dedupKey, machineId: 'lathe-9', transition: 'RESOLVED:f9', kind: 'RESOLVED', alert: b, firingSinceMs: T0, atMs: T0 },
      ],
    };
    const { text } = renderMail(mail, {});
    expect(deliveriesOfMail(['Lathes@Plant.example'], text.replace(/\n/g, '\r\n'))).toEqual([
      { recipient: 'lathes@plant.example', dedupKey: 'lathe-9/ANOMALY/*', transition: 'FIRING:f1' },
      { recipient: 'lathes@plant.example', dedupKey: 'lathe-9/FORECAST_BREACH/tempA', transition: 'RESOLVED:f9' },
    ]);
  });

  test('missing, unexpected and repeated deliveries are each a mismatch', () => {
    const d = (recipient: string, transition: string) => ({ recipient, dedupKey: 'k', transition });
    const wanted = [d('a@x', 'FIRING:1'), d('a@x', 'RESOLVED:1'), d('b@x', 'FIRING:1')];
    expect(compareDeliveries([d('a@x', 'FIRING:1'), d('b@x', 'FIRING:1'), d('a@x', 'RESOLVED:1')], wanted)).toEqual([]);
    expect(compareDeliveries([d('a@x', 'FIRING:1'), d('a@x', 'FIRING:1'), d('c@x', 'FIRING:1'), d('b@x', 'FIRING:1')], wanted)).toEqual([
      'mail missing: a@x k RESOLVED:1',
      'mailed 2 times: a@x k FIRING:1',
      'mail not expected: c@x k FIRING:1',
    ]);
  });
});
