import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { PdmError, errorMessage } from '../../lib/errors';
import { requireTopics } from '../../lib/kafka/admin';
import { kafkaConnectionFromEnv } from '../../lib/kafka/client';
import { kafkaProbe, readiness, registryProbe } from '../../lib/readiness';
import { runTransactional, type IncomingRecord, type TransactionalRunner } from '../../lib/kafka/transactional';
import { createRegistry as createSchemaRegistry } from '../../lib/registry';
import { Serde } from '../../lib/serde';
import type { RunningService, ServiceDefinition } from '../../lib/service';
import { TOPICS } from '../../lib/topics';
import { SCHEMA_FILES, avroType, type AlertEvent, type MachineAssessment, type MachineControl, type WindowFeatures } from '../../schemas';
import { migrate } from './migrations';
import { backoffDelayMs } from '../../lib/backoff';
import { STAGE, TopicProcessor, isNotFinalWindow } from './postgres.processor';
import { machineControlTable } from './machine-control.rows';
import { alertsTable, assessmentsRecord, oneTable, windowFeaturesRecord, type RecordSpec } from './postgres.rows';
import { postgresSinkSettings } from './postgres.settings';
import { PostgresSink } from './postgres.sink';

/**
 * `pdmctl run sink-postgres`: pdm.window-features.v1 into pdm.window_features, pdm.alerts.v1 into
 * pdm.alerts, pdm.assessments.v1 into pdm.assessments and pdm.forecasts, and pdm.machine-control.v1
 * into pdm.machine_control, at least once and idempotently.
 *
 * One runner per topic (lib/kafka/transactional.ts, exactlyOnce: false), each in a consumer group
 * of its own: a batch of a partition is decoded, upserted in one database transaction, then its
 * dead letters are sent and its offsets committed. A crash between the database commit and the
 * offset commit repeats the batch, which the upsert makes harmless. While the database is away
 * the batch waits and retries (postgres.sink.ts): consumption of that partition pauses, and
 * readiness says why.
 */

export const postgresSinkService: ServiceDefinition = {
  name: STAGE,
  async start({ env, logger, metrics, clock, fail }): Promise<RunningService> {
    const settings = postgresSinkSettings(env);
    const log = logger.child({ component: STAGE });
    const connection = kafkaConnectionFromEnv(`pdm-${STAGE}`, env);
    const topics = {
      windowFeatures: `${settings.prefix}${TOPICS.windowFeatures}`,
      alerts: `${settings.prefix}${TOPICS.alerts}`,
      assessments: `${settings.prefix}${TOPICS.assessments}`,
      machineControl: `${settings.prefix}${TOPICS.machineControl}`,
      deadLetter: `${settings.prefix}${TOPICS.deadLetter}`,
    };
    await requireTopics(connection, Object.values(topics));

    if (settings.migrateAtStart) {
      // The database may be starting too: wait for it, up to a bound, then fail for a supervisor to see.
      const deadline = clock() + settings.startTimeoutMs;
      for (let attempt = 1; ; attempt++) {
        try {
          const applied = await migrate({ url: settings.ownerUrl, schema: settings.schema, writerPassword: settings.writerPassword, analystPassword: settings.analystPassword, logger: log, connectTimeoutMs: settings.connectTimeoutMs });
          log.info({ schema: settings.schema, applied: applied.map((m) => m.file) }, 'migrations up to date');
          break;
        } catch (err) {
          const transient = err instanceof PdmError && err.code === 'MIGRATION_DB';
          if (!transient || clock() >= deadline) throw err;
          const delayMs = backoffDelayMs(attempt, settings.retry.initialMs, settings.retry.maxMs);
          log.warn({ attempt, delayMs, err: errorMessage(err) }, 'the database is not reachable for migrations yet; retrying');
          await sleep(delayMs);
        }
      }
    }

    const pool = new pg.Pool({
      connectionString: settings.writerUrl,
      max: 4,
      connectionTimeoutMillis: settings.connectTimeoutMs,
      statement_timeout: settings.statementTimeoutMs,
      // A socket the database stopped answering on (network gone) fails instead of hanging.
      query_timeout: settings.statementTimeoutMs + 5000,
      keepAlive: true,
      application_name: STAGE,
    });
    // An idle connection the server dropped: the pool discards it; the next write reconnects.
    pool.on('error', (err) => log.warn({ err: err.message }, 'an idle database connection failed'));
    const sink = new PostgresSink({ pool, schema: settings.schema, maxRowsPerStatement: settings.maxRowsPerStatement, retry: settings.retry, clock, sleep: (ms) => sleep(ms), logger: log, metrics });

    const serde = new Serde(createSchemaRegistry(env.SCHEMA_REGISTRY_URL ?? '').client);
    const dependencies = readiness([kafkaProbe(connection), registryProbe(env.SCHEMA_REGISTRY_URL ?? '')]);
    let failure: Error | undefined;
    const runners: TransactionalRunner[] = [];
    const startRunner = async <T>(topic: string, group: string, spec: RecordSpec<T>, decode: (b: Buffer) => Promise<T>, skip?: (r: IncomingRecord) => boolean) => {
      const processor = new TopicProcessor<T>({ topic, deadLetterTopic: topics.deadLetter, spec, decode, sink, skip, clock, metrics, logger: log });
      runners.push(
        await runTransactional({
          connection,
          groupId: group,
          inputTopic: topic,
          transactionalIdPrefix: group,
          exactlyOnce: false,
          logger,
          metrics: { registry: metrics, stage: STAGE },
          sessionTimeoutMs: settings.sessionTimeoutMs,
          maxBytesPerPartition: settings.maxBytesPerPartition,
          process: (_partition, records) => processor.process(_partition, records),
          onFatal: (error) => {
            failure = error;
            fail?.(error);
          },
        }),
      );
    };

    const probe = setInterval(() => void sink.probe(), settings.probeIntervalMs);
    probe.unref();
    try {
      await startRunner(topics.windowFeatures, `${settings.groupId}-window-features`, windowFeaturesRecord, serde.decoder<WindowFeatures>(avroType(SCHEMA_FILES.windowFeatures)), isNotFinalWindow);
      await startRunner(topics.alerts, `${settings.groupId}-alerts`, oneTable(alertsTable), serde.decoder<AlertEvent>(avroType(SCHEMA_FILES.alertEvent)));
      await startRunner(topics.assessments, `${settings.groupId}-assessments`, assessmentsRecord, serde.decoder<MachineAssessment>(avroType(SCHEMA_FILES.machineAssessment)));
      await startRunner(topics.machineControl, `${settings.groupId}-machine-control`, oneTable(machineControlTable), serde.decoder<MachineControl>(avroType(SCHEMA_FILES.machineControl)));
    } catch (err) {
      clearInterval(probe);
      sink.stop();
      for (const runner of runners) await runner.stop().catch(() => undefined);
      await pool.end().catch(() => undefined);
      throw err;
    }
    log.info({ inputs: [topics.windowFeatures, topics.alerts, topics.assessments, topics.machineControl], schema: settings.schema, role: settings.writerRole, groups: `${settings.groupId}-{window-features,alerts,assessments,machine-control}`, guarantee: 'at-least-once, idempotent upserts' }, 'postgres sink running');

    return {
      ready: async () => {
        if (failure) return `the consumer failed: ${failure.message}`;
        return sink.unavailable() ?? (await dependencies());
      },
      async stop() {
        clearInterval(probe);
        // A batch waiting for the database gives up now, uncommitted: it is read again after a restart.
        sink.stop();
        await Promise.all(runners.map((r) => r.stop()));
        await pool.end().catch(() => undefined);
        log.info({ commits: runners.reduce((n, r) => n + r.commits, 0) }, 'postgres sink stopped');
      },
    };
  },
};
