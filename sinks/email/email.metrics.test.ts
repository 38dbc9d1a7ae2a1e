import { createLogger } from '../../lib/logger';
import { createRegistry } from '../../lib/metrics';
import type { EmailStore } from './email.store';
import { EmailProcessor } from './email.processor';

/**
 * The outcomes PdmEmailNotSent watches are on /metrics before the first mail: Prometheus's
 * increase() counts a failure only as a step up from a 0 it scraped earlier.
 */
test('failed and deferred mails are exported at 0 before any mail', async () => {
  const registry = createRegistry('sink-email', false);
  new EmailProcessor({
    lifecycle: { groupWaitMs: 0, repeatIntervalMs: 3_600_000, maxAgeMs: 3_600_000, rateLimit: { count: 10, windowMs: 3_600_000 } },
    routing: { recipients: () => ['oncall@x.io'], silenced: () => false },
    links: {},
    chartHours: 48,
    retryAfterMs: 60_000,
    inputTopic: 'alerts',
    deadLetterTopic: 'dlq',
    decodeAlert: async () => {
      throw new Error('not called');
    },
    store: {} as EmailStore,
    mailer: { send: async () => ({ messageId: 'x' }) } as never,
    clock: () => 0,
    metrics: registry,
    logger: createLogger({ level: 'silent' }),
  });
  const text = await registry.getSingleMetricAsString('pdm_email_mails_total');
  expect(text.split('\n').filter((line) => !line.startsWith('#'))).toEqual([
    'pdm_email_mails_total{outcome="failed",service="sink-email"} 0',
    'pdm_email_mails_total{outcome="deferred",service="sink-email"} 0',
  ]);
});
