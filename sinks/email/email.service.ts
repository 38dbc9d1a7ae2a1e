import { Pool } from 'pg';
import { requireTopics } from '../../lib/kafka/admin';
import { kafkaConnectionFromEnv } from '../../lib/kafka/client';
import { kafkaProbe, probe, readiness, registryProbe } from '../../lib/readiness';
import { openPartitionReader } from '../../lib/kafka/partition-reader';
import { runTransactional, type TransactionalRunner } from '../../lib/kafka/transactional';
import { redactUrl } from '../../lib/logger';
import { createRegistry as createSchemaRegistry } from '../../lib/registry';
import { Serde } from '../../lib/serde';
import type { RunningService, ServiceDefinition } from '../../lib/service';
import { TOPICS } from '../../lib/topics';
import { SCHEMA_FILES, avroType, type AlertEvent } from '../../schemas';
import { EmailProcessor, STAGE } from './email.processor';
import { emailSettings } from './email.settings';
import { EmailStore } from './email.store';
import { Mailer, smtpTransport } from './mailer';
import { rosterRouting } from './roster';

/**
 * `pdmctl run sink-email`: pdm.alerts.v1 to on-call engineers' inboxes.
 *
 * The consumer runs at-least-once (lib/kafka/transactional.ts with `exactlyOnce: false`): a
 * batch updates the lifecycle state, then its offsets commit. Mails go out from a wall-clock
 * tick of their own, not from the runner's punctuation: a send may wait through SMTP retries and
 * backoff for a minute, and a partition task held that long would miss its heartbeats. What
 * makes this safe is that no mail depends on the offset: each partition's state is rebuilt from
 * the partition itself when it is assigned, and the notification log says what was sent.
 */
export const emailService: ServiceDefinition = {
  name: STAGE,
  async start({ env, logger, metrics, clock, fail }): Promise<RunningService> {
    const settings = emailSettings(env);
    const log = logger.child({ component: STAGE });
    const connection = kafkaConnectionFromEnv(`pdm-${STAGE}`, env);
    const topics = { input: `${settings.prefix}${TOPICS.alerts}`, deadLetter: `${settings.prefix}${TOPICS.deadLetter}` };
    await requireTopics(connection, [topics.input, topics.deadLetter]);

    const pool = new Pool({ connectionString: settings.databaseUrl, max: 4, connectionTimeoutMillis: 5_000 });
    pool.on('error', (err) => log.warn({ err: err.message }, 'idle Postgres connection failed'));
    const store = new EmailStore(pool, settings.schema);
    // The mail server is judged by the mails themselves (lastFailure): a probe connection would be one more login to it.
    const dependencies = readiness([kafkaProbe(connection), registryProbe(env.SCHEMA_REGISTRY_URL ?? ''), probe('database', () => pool.query('SELECT 1'))]);
    try {
      await store.check();
    } catch (err) {
      await pool.end();
      throw err;
    }
    const mailer = new Mailer(smtpTransport(settings.smtp.url, { requireTls: settings.smtp.requireTls, rejectUnauthorized: settings.smtp.rejectUnauthorized, maxConnections: 2 }), {
      from: settings.from,
      attempts: settings.send.attempts,
      backoffMs: settings.send.backoffMs,
    });
    const serde = new Serde(createSchemaRegistry(env.SCHEMA_REGISTRY_URL ?? '').client);
    const processor = new EmailProcessor({
      lifecycle: settings.lifecycle,
      routing: rosterRouting(settings.roster),
      links: settings.links,
      chartHours: settings.chartHours,
      retryAfterMs: settings.send.retryAfterMs,
      inputTopic: topics.input,
      deadLetterTopic: topics.deadLetter,
      decodeAlert: serde.decoder<AlertEvent>(avroType(SCHEMA_FILES.alertEvent)),
      store,
      mailer,
      clock,
      metrics,
      logger: log,
    });

    const reader = await openPartitionReader(connection);
    let failure: Error | undefined;
    let runner: TransactionalRunner;
    try {
      runner = await runTransactional({
        connection,
        groupId: settings.groupId,
        inputTopic: topics.input,
        transactionalIdPrefix: settings.groupId,
        logger,
        metrics: { registry: metrics, stage: STAGE },
        exactlyOnce: false,
        sessionTimeoutMs: settings.sessionTimeoutMs,
        async open(partition, { heartbeat }) {
          processor.open(partition);
          const { records, endOffset } = await reader.read(topics.input, partition, async (chunk) => {
            await processor.restore(partition, chunk);
            await heartbeat();
          });
          processor.restored(partition, BigInt(endOffset));
          log.info({ partition, alertsRead: records, endOffset }, 'partition restored');
        },
        close: (partition) => processor.close(partition),
        process: (partition, records) => processor.process(partition, records),
        onFatal: (error) => {
          failure = error;
          fail?.(error);
        },
      });
    } catch (err) {
      await reader.close();
      await pool.end();
      mailer.close();
      throw err;
    }

    const ticker = setInterval(() => {
      processor.tick().catch((err: unknown) => log.error({ err }, 'tick failed'));
    }, settings.tickMs);
    ticker.unref();

    log.info({ input: topics.input, group: settings.groupId, smtp: redactUrl(settings.smtp.url), lifecycle: settings.lifecycle }, 'email sink running');
    return {
      ready: async () => (failure ? `the consumer failed: ${failure.message}` : processor.lastFailure ? `mail is not going out: ${processor.lastFailure}` : dependencies()),
      async stop() {
        clearInterval(ticker);
        await runner.stop();
        // A mail being sent finishes and its outcome is recorded; what still waits is rebuilt on restart.
        await processor.drain();
        await reader.close();
        mailer.close();
        await pool.end();
        log.info('email sink stopped');
      },
    };
  },
};
