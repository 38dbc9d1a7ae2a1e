import { Pool } from 'pg';
import { openAlertControlTable } from '../../lib/control-table';
import { redactUrl } from '../../lib/logger';
import { probe } from '../../lib/readiness';
import type { ServiceDefinition } from '../../lib/service';
import { hostStage, type StageScope } from '../../lib/stage-host';
import { TOPICS, prefixedTopics } from '../../lib/topics';
import { SCHEMA_FILES, avroType, type AlertEvent } from '../../schemas';
import { EmailProcessor, STAGE } from './email.processor';
import { emailSettings, type EmailSettings } from './email.settings';
import { EmailStore } from './email.store';
import { Mailer, smtpTransport } from './mailer';
import { rosterRouting } from './roster';

/**
 * `pdmctl run sink-email`: pdm.alerts.v1 to on-call engineers' inboxes.
 *
 * The consumer runs at-least-once: a batch updates the lifecycle state, then its offsets commit.
 * Mails go out from a wall-clock tick of their own, not from the runner's punctuation: a send may
 * wait through SMTP retries and backoff for a minute, and a partition task held that long would
 * miss its heartbeats. What makes this safe is that no mail depends on the offset: each
 * partition's state is rebuilt from the partition itself when it is assigned (lib/stage-host.ts,
 * `restoreFrom: 'input'`), and the notification log says what was sent.
 *
 * Operators' acknowledgements and silences (pdm.alert-control.v1) are a table the sink follows
 * live, every instance all of it (lib/control-table.ts): the sink starts once it has caught up
 * (an empty topic at once), so a restart does not mail what a silence holds.
 */

function mailerOf(settings: EmailSettings): Mailer {
  const { smtp, send } = settings;
  const transport = smtpTransport(smtp.url, { requireTls: smtp.requireTls, rejectUnauthorized: smtp.rejectUnauthorized, maxConnections: 2 });
  return new Mailer(transport, { from: settings.from, attempts: send.attempts, backoffMs: send.backoffMs });
}

/** The mail store (its tables checked), the control table caught up, the mailer: each released when the sink stops. */
async function openResources(settings: EmailSettings, scope: StageScope, control: string) {
  const pool = new Pool({ connectionString: settings.databaseUrl, max: 4, connectionTimeoutMillis: 5_000 });
  pool.on('error', (err) => scope.log.warn({ err: err.message }, 'idle Postgres connection failed'));
  scope.defer(() => pool.end());
  const store = new EmailStore(pool, settings.schema);
  await store.check();
  const table = await openAlertControlTable({ topic: control, connection: scope.connection, registryUrl: scope.registryUrl, logger: scope.log, metrics: scope.metrics, clock: scope.clock });
  scope.defer(() => table.stop());
  await table.ready();
  const mailer = mailerOf(settings);
  scope.defer(() => mailer.close());
  return { pool, store, control: table, mailer };
}

export const emailService: ServiceDefinition = {
  name: STAGE,
  start(context) {
    const settings = emailSettings(context.env);
    const topics = prefixedTopics(settings.prefix, { input: TOPICS.alerts, deadLetter: TOPICS.deadLetter, control: TOPICS.alertControl });
    return hostStage(context, {
      name: STAGE,
      title: 'email sink',
      metricsPrefix: 'pdm_email',
      topics: Object.values(topics),
      runner: settings,
      async wire(scope) {
        const { pool, store, control, mailer } = await openResources(settings, scope, topics.control);
        const processor = new EmailProcessor({
          retryAfterMs: settings.send.retryAfterMs, lifecycle: settings.lifecycle, routing: rosterRouting(settings.roster, control.state), links: settings.links, chartHours: settings.chartHours,
          inputTopic: topics.input, deadLetterTopic: topics.deadLetter, decodeAlert: scope.serde.decoder<AlertEvent>(avroType(SCHEMA_FILES.alertEvent)),
          store, mailer, clock: scope.clock, metrics: scope.metrics, logger: scope.log,
        });
        const ticker = setInterval(() => void processor.tick().catch((err: unknown) => scope.log.error({ err }, 'tick failed')), settings.tickMs);
        ticker.unref();
        // Released in reverse: the ticker stops, then a mail being sent finishes and its outcome is recorded; what still waits is rebuilt on restart.
        scope.defer(() => processor.drain());
        scope.defer(() => clearInterval(ticker));
        return {
          inputs: [{ topic: topics.input, groupId: settings.groupId, delivery: 'at-least-once', restoreFrom: 'input', stage: processor }],
          // The mail server is judged by the mails themselves (lastFailure): a probe connection would be one more login to it.
          probes: [probe('database', () => pool.query('SELECT 1'))],
          blocked: () => (processor.lastFailure ? `mail is not going out: ${processor.lastFailure}` : undefined),
          running: { ...topics, group: settings.groupId, smtp: redactUrl(settings.smtp.url), lifecycle: settings.lifecycle },
        };
      },
    });
  },
};
