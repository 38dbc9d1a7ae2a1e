import { Pool } from 'pg';
import { openAlertControlTable, type AlertControlTable } from '../../lib/control-table';
import { requireTopics } from '../../lib/kafka/admin';
import { kafkaConnectionFromEnv, type KafkaConnection } from '../../lib/kafka/client';
import { kafkaProbe, probe, readiness, registryProbe } from '../../lib/readiness';
import { openPartitionReader, type PartitionReader } from '../../lib/kafka/partition-reader';
import { runStage, type StageRunner } from '../../lib/kafka/runner';
import { redactUrl, type Logger } from '../../lib/logger';
import type { Registry } from '../../lib/metrics';
import { createRegistry as createSchemaRegistry } from '../../lib/registry';
import { Serde } from '../../lib/serde';
import type { RunningService, ServiceDefinition } from '../../lib/service';
import { TOPICS } from '../../lib/topics';
import { SCHEMA_FILES, avroType, type AlertEvent } from '../../schemas';
import { EmailProcessor, STAGE } from './email.processor';
import { emailSettings, type EmailSettings } from './email.settings';
import { EmailStore } from './email.store';
import { Mailer, smtpTransport } from './mailer';
import { rosterRouting } from './roster';

/**
 * `pdmctl run sink-email`: pdm.alerts.v1 to on-call engineers' inboxes.
 *
 * The consumer runs at-least-once (lib/kafka/runner/ with `delivery: 'at-least-once'`): a
 * batch updates the lifecycle state, then its offsets commit. Mails go out from a wall-clock
 * tick of their own, not from the runner's punctuation: a send may wait through SMTP retries and
 * backoff for a minute, and a partition task held that long would miss its heartbeats. What
 * makes this safe is that no mail depends on the offset: each partition's state is rebuilt from
 * the partition itself when it is assigned, and the notification log says what was sent.
 *
 * Operators' acknowledgements and silences (pdm.alert-control.v1) are a table the sink follows
 * live, every instance all of it (lib/control-table.ts): the sink starts once it has caught up
 * (an empty topic at once), so a restart does not mail what a silence holds.
 */

interface AlertsConsumer {
  runner: StageRunner;
  reader: PartitionReader;
}

/** The alerts consumer: a partition's lifecycle state is rebuilt from the partition itself when it is assigned. */
async function consumeAlerts(
  context: { connection: KafkaConnection; settings: EmailSettings; topic: string; logger: Logger; metrics: Registry },
  processor: EmailProcessor,
  onFatal: (error: Error) => void,
): Promise<AlertsConsumer> {
  const { connection, settings, topic, logger } = context;
  const log = logger.child({ component: STAGE });
  const reader = await openPartitionReader(connection);
  try {
    const runner = await runStage({
      connection,
      groupId: settings.groupId,
      inputTopic: topic,
      transactionalIdPrefix: settings.groupId,
      logger,
      metrics: { registry: context.metrics, stage: STAGE },
      delivery: 'at-least-once',
      sessionTimeoutMs: settings.sessionTimeoutMs,
      async open(partition, { heartbeat }) {
        processor.open(partition);
        const { records, endOffset } = await reader.read(topic, partition, async (chunk) => {
          await processor.restore(partition, chunk);
          await heartbeat();
        });
        processor.restored(partition, BigInt(endOffset));
        log.info({ partition, alertsRead: records, endOffset }, 'partition restored');
      },
      close: (partition) => processor.close(partition),
      process: (partition, records) => processor.process(partition, records),
      onFatal,
    });
    return { runner, reader };
  } catch (err) {
    await reader.close();
    throw err;
  }
}

function mailerOf(settings: EmailSettings): Mailer {
  const { smtp, send } = settings;
  const transport = smtpTransport(smtp.url, { requireTls: smtp.requireTls, rejectUnauthorized: smtp.rejectUnauthorized, maxConnections: 2 });
  return new Mailer(transport, { from: settings.from, attempts: send.attempts, backoffMs: send.backoffMs });
}

export const emailService: ServiceDefinition = {
  name: STAGE,
  async start({ env, logger, metrics, clock, fail }): Promise<RunningService> {
    const settings = emailSettings(env);
    const log = logger.child({ component: STAGE });
    const connection = kafkaConnectionFromEnv(`pdm-${STAGE}`, env);
    const topicOf = (contractName: string) => `${settings.prefix}${contractName}`;
    const topics = { input: topicOf(TOPICS.alerts), deadLetter: topicOf(TOPICS.deadLetter), control: topicOf(TOPICS.alertControl) };
    await requireTopics(connection, Object.values(topics));
    const registryUrl = env.SCHEMA_REGISTRY_URL ?? '';

    const pool = new Pool({ connectionString: settings.databaseUrl, max: 4, connectionTimeoutMillis: 5_000 });
    pool.on('error', (err) => log.warn({ err: err.message }, 'idle Postgres connection failed'));
    const store = new EmailStore(pool, settings.schema);
    // The mail server is judged by the mails themselves (lastFailure): a probe connection would be one more login to it.
    const dependencies = readiness([kafkaProbe(connection), registryProbe(registryUrl), probe('database', () => pool.query('SELECT 1'))]);
    let control: AlertControlTable | undefined;
    try {
      await store.check();
      control = await openAlertControlTable({ topic: topics.control, connection, registryUrl, logger: log, metrics, clock });
      await control.ready();
    } catch (err) {
      await control?.stop();
      await pool.end();
      throw err;
    }
    const mailer = mailerOf(settings);
    const processor = new EmailProcessor({
      lifecycle: settings.lifecycle,
      routing: rosterRouting(settings.roster, control.state),
      links: settings.links,
      chartHours: settings.chartHours,
      retryAfterMs: settings.send.retryAfterMs,
      inputTopic: topics.input,
      deadLetterTopic: topics.deadLetter,
      decodeAlert: new Serde(createSchemaRegistry(registryUrl).client).decoder<AlertEvent>(avroType(SCHEMA_FILES.alertEvent)),
      store,
      mailer,
      clock,
      metrics,
      logger: log,
    });

    let failure: Error | undefined;
    let consumer: AlertsConsumer;
    try {
      consumer = await consumeAlerts({ connection, settings, topic: topics.input, logger, metrics }, processor, (error) => {
        failure = error;
        fail?.(error);
      });
    } catch (err) {
      await control.stop();
      await pool.end();
      mailer.close();
      throw err;
    }

    const ticker = setInterval(() => {
      processor.tick().catch((err: unknown) => log.error({ err }, 'tick failed'));
    }, settings.tickMs);
    ticker.unref();

    log.info({ ...topics, group: settings.groupId, smtp: redactUrl(settings.smtp.url), lifecycle: settings.lifecycle }, 'email sink running');
    return {
      ready: async () => (failure ? `the consumer failed: ${failure.message}` : processor.lastFailure ? `mail is not going out: ${processor.lastFailure}` : dependencies()),
      async stop() {
        clearInterval(ticker);
        await consumer.runner.stop();
        // A mail being sent finishes and its outcome is recorded; what still waits is rebuilt on restart.
        await processor.drain();
        await consumer.reader.close();
        await control.stop();
        mailer.close();
        await pool.end();
        log.info('email sink stopped');
      },
    };
  },
};
