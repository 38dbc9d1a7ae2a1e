import type { AlertEvent } from '../../schemas';
import type { Mail, Notification } from './lifecycle';
import { headerSafe, renderMail, subject } from './render';

const T0 = Date.UTC(2026, 0, 5, 8);

function notification(over: Partial<AlertEvent> = {}, kind: Notification['kind'] = 'FIRING'): Notification {
  const alert: AlertEvent = {
    drivers: [],
    alertId: 'a1', dedupKey: 'lathe-1/tempA', machineId: 'lathe-1', status: 'FIRING', severity: 'CRITICAL', kind: 'FORECAST_BREACH', feature: 'tempA',
    windowEnd: T0, predictedBreachAt: T0 + 6 * 3_600_000, score: 81.25, threshold: 80, modelName: 'forecaster', modelVersion: 'v3', message: 'tempA heads for its limit', createdAt: T0, ...over,
  };
  return { dedupKey: alert.dedupKey, machineId: alert.machineId, transition: `${kind}:a1`, kind, alert, firingSinceMs: T0, atMs: alert.createdAt };
}

const mail = (notifications: Notification[], digest = false): Mail => ({ recipient: 'oncall@x.io', machineId: digest ? null : notifications[0]!.machineId, digest, notifications });
const links = { grafana: 'https://grafana.example/d/pdm?var-machine={machineId}', runbook: 'https://wiki.example/runbooks/{kind}/{feature}' };

describe('rendered mail', () => {
  test.each<[string, Mail, string]>([
    ['firing', mail([notification()]), '[CRITICAL] Firing: lathe-1 tempA forecast breach predicted at 2026-01-05 14:00 UTC (forecaster v3)'],
    ['escalated', mail([notification({}, 'ESCALATED')]), '[CRITICAL] Escalated to CRITICAL: lathe-1 tempA forecast breach predicted at 2026-01-05 14:00 UTC (forecaster v3)'],
    ['reminder', mail([notification({ severity: 'WARNING' }, 'REMINDER')]), '[WARNING] Still firing: lathe-1 tempA forecast breach predicted at 2026-01-05 14:00 UTC (forecaster v3)'],
    ['resolved', mail([notification({ status: 'RESOLVED', severity: 'INFO' }, 'RESOLVED')]), '[INFO] Resolved: lathe-1 tempA forecast breach (forecaster v3)'],
    ['anomaly without feature', mail([notification({ kind: 'ANOMALY', feature: null, predictedBreachAt: null })]), '[CRITICAL] Firing: lathe-1 anomaly (forecaster v3)'],
    ['grouped', mail([notification(), notification({ severity: 'WARNING' }, 'RESOLVED')]), '[CRITICAL] lathe-1: 2 alerts (1 firing, 1 resolved)'],
    ['digest', mail([notification({ severity: 'WARNING' }), notification({ machineId: 'pump-1' })], true), '[pdm] Digest: 2 notification(s) held back by the rate limit, highest CRITICAL'],
  ])('subject of a %s mail', (_name, m, expected) => {
    expect(subject(m)).toBe(expected);
  });

  test('names machine, feature, severity, breach time, model and links in both parts', () => {
    const r = renderMail(mail([notification()]), links, ['chart-0@pdm-stream']);
    for (const part of [r.text, r.html]) {
      for (const needle of ['lathe-1', 'tempA', 'CRITICAL', '2026-01-05 14:00 UTC', 'forecaster v3', 'https://grafana.example/d/pdm?var-machine=lathe-1', 'https://wiki.example/runbooks/FORECAST_BREACH/tempA']) expect(part).toContain(needle);
    }
    expect(r.html).toContain('<img src="cid:chart-0@pdm-stream"');
    expect(r.text).not.toContain('cid:');
  });

  test('says which sensors drove the alert, with what the machine normally reads', () => {
    const drivers = [{ channel: 'tempA.mean', contribution: 0.62, value: 71.25, expected: 44 }, { channel: 'tempB.max', contribution: 0.3, value: 50, expected: 41.5 }];
    const r = renderMail(mail([notification({ kind: 'DEVIATION', drivers })]), links);
    for (const part of [r.text, r.html]) {
      expect(part).toContain('Driven by');
      expect(part).toContain('tempA.mean 71.25 (normal 44), 62 %; tempB.max 50 (normal 41.5), 30 %');
    }
  });

  test('a hostile machine id and message can inject neither a header nor markup', () => {
    const hostile = notification({ machineId: 'lathe-1\r\nBcc: victim@evil.example\r\n', message: '<script>alert(1)</script><img src=x onerror=alert(2)> "quoted" & \'single\'' });
    const r = renderMail(mail([hostile]), links, ['chart-0@pdm-stream']);
    expect(r.subject).not.toMatch(/[\r\n]/);
    expect(r.subject).toContain('lathe-1 Bcc: victim@evil.example');
    expect(r.html).not.toContain('<script>');
    expect(r.html).not.toContain('<img src=x');
    expect(r.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(r.html).toContain('&quot;quoted&quot; &amp; &#39;single&#39;');
    // into a link only URL-encoded
    expect(r.html).toContain('var-machine=lathe-1%0D%0ABcc%3A%20victim%40evil.example%0D%0A');
  });

  test.each([
    ['a\r\nb', 'a b'],
    ['tab\there', 'tab here'],
    ['line\u2028sep', 'line sep'],
    ['x'.repeat(300), `${'x'.repeat(199)}…`],
  ])('headerSafe(%j)', (input, expected) => {
    expect(headerSafe(input)).toBe(expected);
  });
});
