import { PdmError } from '../../lib/errors';
import { ensureTopics, requireTopics } from '../../lib/kafka/admin';
import { kafkaConnectionFromEnv } from '../../lib/kafka/client';
import { kafkaProbe, readiness, registryProbe } from '../../lib/readiness';
import { openPartitionReader } from '../../lib/kafka/partition-reader';
import { runStage, type StageRunner } from '../../lib/kafka/runner';
import { Counter, Histogram } from '../../lib/metrics';
import { createRegistry as createSchemaRegistry } from '../../lib/registry';
import { Serde } from '../../lib/serde';
import type { RunningService, ServiceDefinition } from '../../lib/service';
import { TOPICS, keySubject, valueSubject, type TopicSpec } from '../../lib/topics';
import { SCHEMA_FILES, avroType, schemaText, type SensorReading, type WindowFeatures, type WindowKey } from '../../schemas';
import { STAGE, WindowProcessor } from './window.processor';
import { windowSettings } from './window.settings';
import { StateRestorer, configMismatch } from './window.state';

/**
 * `pdmctl run window`: pdm.sensor-readings.v1 into final per-machine windows on
 * pdm.window-features.v1, exactly once.
 *
 * Each input partition is a task (lib/kafka/runner/): its readings, window outputs,
 * late readings, dead letters, changelog records and consumed offset commit in one transaction.
 * When a partition is assigned, its state is rebuilt from the changelog partition of the same
 * number, read to its last stable offset after this instance's producer fenced the previous
 * owner: so the state is exactly what the committed offset says has been processed.
 */

export function changelogSpec(name: string, partitions: number): TopicSpec {
  return {
    name,
    contractName: name,
    partitions,
    replicationFactor: 1,
    // Compacted, and cleaned eagerly: a restore reads the open windows, not their history.
    config: { 'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '0.1', 'segment.ms': String(10 * 60 * 1000), 'min.compaction.lag.ms': '0', 'delete.retention.ms': String(60 * 60 * 1000) },
    description: 'window processor state: open windows and progress per input partition',
  };
}

export const windowService: ServiceDefinition = {
  name: STAGE,
  async start({ env, logger, metrics, clock, fail }): Promise<RunningService> {
    const settings = windowSettings(env);
    const log = logger.child({ component: STAGE });
    const connection = kafkaConnectionFromEnv(`pdm-${STAGE}`, env);
    const topics = {
      input: `${settings.prefix}${TOPICS.readings}`,
      output: `${settings.prefix}${TOPICS.windowFeatures}`,
      late: `${settings.prefix}${TOPICS.lateReadings}`,
      deadLetter: `${settings.prefix}${TOPICS.deadLetter}`,
      changelog: settings.changelogTopic,
    };

    const partitions = await requireTopics(connection, [topics.input, topics.output, topics.late, topics.deadLetter]);
    const inputPartitions = partitions.get(topics.input)!;
    const outputPartitions = partitions.get(topics.output)!;
    // The changelog is co-partitioned with the input: partition p's state lives in partition p.
    const [changelog] = await ensureTopics(connection, [changelogSpec(topics.changelog, inputPartitions)]);
    if (changelog!.differences.some((d) => d.startsWith('partitions'))) {
      throw new PdmError('CHANGELOG_PARTITIONS', `${topics.changelog} must have as many partitions as ${topics.input} (${inputPartitions}): ${changelog!.differences.join('; ')}`);
    }

    const serde = new Serde(createSchemaRegistry(env.SCHEMA_REGISTRY_URL ?? '').client);
    const dependencies = readiness([kafkaProbe(connection), registryProbe(env.SCHEMA_REGISTRY_URL ?? '')]);
    const [encodeKey, encodeFeatures] = await Promise.all([
      serde.encoder<WindowKey>(keySubject(topics.output), avroType(SCHEMA_FILES.windowKey), schemaText(SCHEMA_FILES.windowKey)),
      serde.encoder<WindowFeatures>(valueSubject(topics.output), avroType(SCHEMA_FILES.windowFeatures), schemaText(SCHEMA_FILES.windowFeatures)),
    ]);
    const processor = new WindowProcessor({
      config: settings.window,
      topics: { ...topics, outputPartitions },
      decodeReading: serde.decoder<SensorReading>(avroType(SCHEMA_FILES.sensorReading)),
      encodeKey,
      encodeFeatures,
      clock,
      metrics,
      logger: log,
    });

    const restoreSeconds = new Histogram({ name: 'pdm_window_restore_duration_seconds', help: 'Time to rebuild one partition\'s window state from its changelog.', buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60], registers: [metrics] });
    const restoredRecords = new Counter({ name: 'pdm_window_restored_records_total', help: 'Changelog records read while restoring window state.', registers: [metrics] });
    const reader = await openPartitionReader(connection);
    let failure: Error | undefined;

    let runner: StageRunner;
    try {
      runner = await runStage({
        connection,
        groupId: settings.groupId,
        inputTopic: topics.input,
        transactionalIdPrefix: settings.groupId,
        logger,
        metrics: { registry: metrics, stage: STAGE },
        delivery: settings.exactlyOnce ? 'exactly-once' : 'at-least-once',
        sessionTimeoutMs: settings.sessionTimeoutMs,
        transactionTimeoutMs: settings.transactionTimeoutMs,
        maxBytesPerPartition: settings.maxBytesPerPartition,
        async open(partition, { heartbeat }) {
          const started = clock();
          const restorer = new StateRestorer();
          const { records } = await reader.read(topics.changelog, partition, async (chunk) => {
            for (const r of chunk) restorer.apply(r.key, r.value);
            await heartbeat();
          });
          const restored = restorer.result();
          const mismatch = restored.progress && configMismatch(restored.progress, settings.window);
          if (mismatch) {
            // No retry can fix this: stop, and say what to do.
            const error = new PdmError('WINDOW_STATE_MISMATCH', `partition ${partition}: ${mismatch}. Give this configuration its own PDM_WINDOW_GROUP_ID (a new group starts from the beginning of the readings).`);
            failure = error;
            fail?.(error);
            throw error;
          }
          const end = await reader.endOffset(topics.input, partition);
          processor.open(partition, restored, end);
          restoreSeconds.observe((clock() - started) / 1000);
          restoredRecords.inc(records);
          log.info({ partition, changelogRecords: records, openWindows: restored.windows.open.size, resumeAt: restored.progress?.nextOffset.toString() ?? 'start', ms: clock() - started }, 'partition restored');
        },
        close: (partition) => processor.close(partition),
        process: (partition, records, batch) => processor.process(partition, records, batch),
        punctuate: { intervalMs: Math.min(1000, Math.max(100, Math.floor(settings.window.idleTimeoutMs / 4))), run: (partition) => processor.punctuate(partition) },
        onFatal: (error) => {
          failure = error;
          fail?.(error);
        },
      });
    } catch (err) {
      await reader.close();
      throw err;
    }
    log.info({ input: topics.input, output: topics.output, group: settings.groupId, guarantee: settings.exactlyOnce ? 'exactly-once' : 'at-least-once', window: settings.window }, 'window processor running');

    return {
      ready: async () => (failure ? `the consumer failed: ${failure.message}` : dependencies()),
      async stop() {
        await runner.stop();
        await reader.close();
        log.info({ commits: runner.commits }, 'window processor stopped');
      },
    };
  },
};
