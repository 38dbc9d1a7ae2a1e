import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { PdmError, errorMessage } from '../../lib/errors';
import type { IncomingRecord } from '../../lib/kafka/runner';
import type { Logger } from '../../lib/logger';
import type { ServiceDefinition } from '../../lib/service';
import { hostStage, type StageScope } from '../../lib/stage-host';
import { TOPICS, prefixedTopics } from '../../lib/topics';
import { SCHEMA_FILES, avroType, type SchemaFile } from '../../schemas';
import { migrate } from './migrations';
import { backoffDelayMs } from '../../lib/backoff';
import { STAGE, TopicProcessor, isNotFinalWindow } from './postgres.processor';
import { alertActionsTable } from './alert-control.rows';
import { machineControlTable } from './machine-control.rows';
import { alertsTable, assessmentsRecord, oneTable, windowFeaturesRecord, type RecordSpec } from './postgres.rows';
import { postgresSinkSettings, type PostgresSinkSettings } from './postgres.settings';
import { PostgresSink } from './postgres.sink';
import { PartitionMaintainer } from './partition.maintainer';

/**
 * `pdmctl run sink-postgres`: pdm.window-features.v1 into pdm.window_features, pdm.alerts.v1 into
 * pdm.alerts, pdm.assessments.v2 into pdm.assessments and pdm.forecasts, pdm.machine-control.v1
 * into pdm.machine_control, and pdm.alert-control.v1 into pdm.alert_actions, at least once and
 * idempotently.
 *
 * One runner per topic (lib/stage-host.ts, at-least-once), each in a consumer group
 * of its own: a batch of a partition is decoded, upserted in one database transaction, then its
 * dead letters are sent and its offsets committed. A crash between the database commit and the
 * offset commit repeats the batch, which the upsert makes harmless. While the database is away
 * the batch waits and retries (postgres.sink.ts): consumption of that partition pauses, and
 * readiness says why.
 */

/** One input: its topic (without prefix), its group's suffix, its rows, its value schema. `never`: each input is of its own record type. */
interface Input<T> {
  contractName: string;
  group: string;
  spec: RecordSpec<T>;
  schema: SchemaFile;
  skip?: (record: IncomingRecord) => boolean;
}

function input<T>(contractName: string, group: string, spec: RecordSpec<T>, schema: SchemaFile, skip?: Input<T>['skip']): Input<T> {
  return { contractName, group, spec, schema, skip };
}

const INPUTS: ReadonlyArray<Input<never>> = [
  input(TOPICS.windowFeatures, 'window-features', windowFeaturesRecord, SCHEMA_FILES.windowFeatures, isNotFinalWindow),
  input(TOPICS.alerts, 'alerts', oneTable(alertsTable), SCHEMA_FILES.alertEvent),
  input(TOPICS.assessments, 'assessments', assessmentsRecord, SCHEMA_FILES.machineAssessment),
  input(TOPICS.machineControl, 'machine-control', oneTable(machineControlTable), SCHEMA_FILES.machineControl),
  input(TOPICS.alertControl, 'alert-control', oneTable(alertActionsTable), SCHEMA_FILES.alertControl),
];

/** Applies pending migrations; the database may be starting too: wait for it, up to a bound, then fail for a supervisor to see. */
async function migrateAtStart(settings: PostgresSinkSettings, log: Logger, clock: () => number): Promise<void> {
  const deadline = clock() + settings.startTimeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      const { ownerUrl: url, schema, writerPassword, analystPassword, connectTimeoutMs } = settings;
      const applied = await migrate({ url, schema, writerPassword, analystPassword, logger: log, connectTimeoutMs });
      log.info({ schema: settings.schema, applied: applied.map((m) => m.file) }, 'migrations up to date');
      return;
    } catch (err) {
      const transient = err instanceof PdmError && err.code === 'MIGRATION_DB';
      if (!transient || clock() >= deadline) throw err;
      const delayMs = backoffDelayMs(attempt, settings.retry.initialMs, settings.retry.maxMs);
      log.warn({ attempt, delayMs, err: errorMessage(err) }, 'the database is not reachable for migrations yet; retrying');
      await sleep(delayMs);
    }
  }
}

function writerPool(settings: PostgresSinkSettings, log: Logger): pg.Pool {
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
  return pool;
}

/** The day partitions (migration 009): made before each batch and ahead, dropped past the retention, at start and then every interval. */
function maintainPartitions(settings: PostgresSinkSettings, pool: pg.Pool, scope: StageScope): PartitionMaintainer {
  const { clock, log: logger, metrics } = scope;
  const maintainer = new PartitionMaintainer({ pool, schema: settings.schema, clock, retentionMs: settings.retentionMs, logger, metrics });
  let running: Promise<unknown> = Promise.resolve();
  const run = () =>
    (running = maintainer.maintain().catch((err) => {
      // The batches still make the days they need; the next run tries the rest again.
      scope.log.warn({ err: errorMessage(err) }, 'partition maintenance failed; it runs again at the next interval');
    }));
  void run();
  const timer = setInterval(() => void run(), settings.partitionIntervalMs);
  timer.unref();
  scope.defer(async () => {
    clearInterval(timer);
    await running;
  });
  return maintainer;
}

export const postgresSinkService: ServiceDefinition = {
  name: STAGE,
  start(context) {
    const settings = postgresSinkSettings(context.env);
    const { deadLetter } = prefixedTopics(settings.prefix, { deadLetter: TOPICS.deadLetter });
    const inputs = INPUTS.map((i) => ({ ...i, topic: `${settings.prefix}${i.contractName}`, groupId: `${settings.groupId}-${i.group}` }));
    return hostStage(context, {
      name: STAGE,
      title: 'postgres sink',
      metricsPrefix: 'pdm_sink_postgres',
      topics: [...inputs.map((i) => i.topic), deadLetter],
      runner: settings,
      async wire(scope) {
        if (settings.migrateAtStart) await migrateAtStart(settings, scope.log, scope.clock);
        const pool = writerPool(settings, scope.log);
        scope.defer(() => pool.end());
        const partitions = maintainPartitions(settings, pool, scope);
        const { schema, maxRowsPerStatement, retry } = settings;
        const { clock, log: logger, metrics } = scope;
        const sink = new PostgresSink({ pool, schema, maxRowsPerStatement, retry, clock, sleep: (ms) => sleep(ms), logger, metrics, partitions });
        const probe = setInterval(() => void sink.probe(), settings.probeIntervalMs);
        probe.unref();
        scope.defer(() => clearInterval(probe));
        const stageOf = ({ topic, spec, schema, skip }: (typeof inputs)[number]) =>
          new TopicProcessor<never>({ topic, deadLetterTopic: deadLetter, spec, decode: scope.serde.decoder<never>(avroType(schema)), sink, skip, clock: scope.clock, metrics: scope.metrics, logger: scope.log });
        return {
          inputs: inputs.map((i) => ({ topic: i.topic, groupId: i.groupId, delivery: 'at-least-once', stage: stageOf(i) })),
          blocked: () => sink.unavailable(),
          // A batch waiting for the database gives up now, uncommitted: it is read again after a restart.
          interrupt: () => sink.stop(),
          running: { inputs: inputs.map((i) => i.topic), schema: settings.schema, role: settings.writerRole, groups: `${settings.groupId}-{${inputs.map((i) => i.group).join(',')}}`, guarantee: 'at-least-once, idempotent upserts' },
        };
      },
    });
  },
};
