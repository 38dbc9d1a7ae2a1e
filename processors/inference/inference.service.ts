import { parseEnv } from '../../lib/config';
import { PdmError } from '../../lib/errors';
import { ensureTopics, requireTopics } from '../../lib/kafka/admin';
import { kafkaConnectionFromEnv } from '../../lib/kafka/client';
import { kafkaProbe, readiness, registryProbe } from '../../lib/readiness';
import { openPartitionReader } from '../../lib/kafka/partition-reader';
import { runStage, type StageRunner } from '../../lib/kafka/runner';
import type { Logger } from '../../lib/logger';
import { metricOnce, Counter, Gauge, Histogram, type Registry } from '../../lib/metrics';
import { createRegistry as createSchemaRegistry } from '../../lib/registry';
import { Serde } from '../../lib/serde';
import type { RunningService, ServiceDefinition } from '../../lib/service';
import { TOPICS, keySubject, valueSubject, type TopicSpec } from '../../lib/topics';
import { openOnnxModel } from '../../models/runtime';
import type { LoadedModel } from '../../models/contract';
import { currentVersion, loadCurrent, modelsDir } from '../../models/store';
import { SCHEMA_FILES, avroType, schemaText, type AlertEvent, type MachineAssessment, type WindowFeatures } from '../../schemas';
import { processorSettings } from '../runtime';
import type { AlertPolicy } from './alerts';
import { deploy, type DeployedModel, type DeployedModels } from './inference.core';
import { replayAlerts } from './inference.evaluate';
import { InferenceProcessor, STAGE } from './inference.processor';
import { schema } from './inference.settings';
import { InferenceRestorer } from './inference.state';
import { DEFAULT_LIMIT_POLICY, type LimitPolicy } from './limits';
import { DEFAULT_BASELINE_POLICY, type BaselinePolicy } from './baseline';
import { openBaselineModel, type BaselineModel } from './baseline.model';
import { openControlTable } from '../../lib/control-table';

/**
 * `pdmctl run inference`: final windows in, alert transitions out on pdm.alerts.v1, exactly once.
 * Each input partition is a task of the transactional loop, its state (each machine's recent
 * windows and alert conditions) restored from its own compacted changelog, not by replaying the
 * window features. Models are the promoted versions under MODELS_DIR, reloaded when a new one is
 * promoted; a version that fails to load or its self-check is refused and the previous one keeps
 * running.
 */

/** The per-machine detector's policy from the environment, or undefined when PDM_BASELINE=off. */
export function baselineSettings(env: NodeJS.ProcessEnv): BaselinePolicy | undefined {
  const settings = parseEnv(schema, env);
  if (settings.PDM_BASELINE === 'off') return undefined;
  return { ...DEFAULT_BASELINE_POLICY, warmupWindows: settings.PDM_WARMUP_WINDOWS, limit: settings.PDM_DEVIATION_LIMIT, offCurrent: settings.PDM_OFF_CURRENT };
}

/** The per-machine detector as `env` configures it, opened on onnxruntime (undefined when off). */
export async function openBaselineFromEnv(env: NodeJS.ProcessEnv): Promise<BaselineModel | undefined> {
  const policy = baselineSettings(env);
  return policy ? openBaselineModel(policy) : undefined;
}

/**
 * The alert policy and limits from the environment, as the service uses them (and `pdmctl
 * evaluate`, to score exactly what the service would decide). `consecutive` is the detector's own
 * `for:` when PDM_ALERT_FOR_WINDOWS is unset.
 */
export function decisionSettings(env: NodeJS.ProcessEnv, consecutive?: number): { policy: AlertPolicy; limits: LimitPolicy } {
  const settings = parseEnv(schema, env);
  const policy: AlertPolicy = {
    forWindows: settings.PDM_ALERT_FOR_WINDOWS ?? consecutive ?? 3,
    clearWindows: settings.PDM_ALERT_CLEAR_WINDOWS,
    anomalyRatio: { warning: settings.PDM_ALERT_WARNING_RATIO, critical: settings.PDM_ALERT_CRITICAL_RATIO },
    breachLeadMs: { warning: settings.PDM_BREACH_WARNING_LEAD, critical: settings.PDM_BREACH_CRITICAL_LEAD },
  };
  if (policy.anomalyRatio.critical <= policy.anomalyRatio.warning) throw new PdmError('CONFIG_INVALID', `PDM_ALERT_CRITICAL_RATIO (${policy.anomalyRatio.critical}) must be above PDM_ALERT_WARNING_RATIO (${policy.anomalyRatio.warning})`);
  if (policy.breachLeadMs.critical >= policy.breachLeadMs.warning) throw new PdmError('CONFIG_INVALID', 'PDM_BREACH_CRITICAL_LEAD must be shorter than PDM_BREACH_WARNING_LEAD');
  const limits: LimitPolicy = settings.PDM_LIMITS === 'manifest' ? { kind: 'manifest' } : { ...DEFAULT_LIMIT_POLICY, margin: settings.PDM_LIMITS_MARGIN };
  return { policy, limits };
}

export function changelogSpec(name: string, partitions: number): TopicSpec {
  return {
    name,
    contractName: name,
    partitions,
    replicationFactor: 1,
    config: { 'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '0.1', 'segment.ms': String(10 * 60 * 1000), 'min.compaction.lag.ms': '0', 'delete.retention.ms': String(60 * 60 * 1000) },
    description: 'inference processor state: recent windows and alert conditions per machine',
  };
}

/** A model folder opened in onnxruntime and deployed for the core; the model is closed again if deploying fails. */
export async function deployLoaded(loaded: LoadedModel): Promise<DeployedModel> {
  const model = await openOnnxModel(loaded.manifest, loaded.onnx);
  try {
    return await deploy(loaded.manifest, model);
  } catch (err) {
    await model.close();
    throw err;
  }
}

/**
 * The alerts `pdmctl run inference` would raise over `windows`, computed offline: these models,
 * the decision settings `env` gives the service, `replayAlerts`. What `pdmctl evaluate` scores and
 * what the end-to-end tests compare the alert topic with.
 */
export async function replayAsService(
  windows: readonly WindowFeatures[],
  detector: LoadedModel,
  forecaster: LoadedModel,
  env: NodeJS.ProcessEnv,
  onProgress?: (done: number, total: number) => void,
): Promise<{ transitions: AlertEvent[]; policy: AlertPolicy; limits: LimitPolicy }> {
  const { policy, limits } = decisionSettings(env, detector.manifest.thresholds.consecutive);
  const baseline = await openBaselineFromEnv(env);
  const detectorModel = await deployLoaded(detector);
  try {
    const forecasterModel = await deployLoaded(forecaster);
    try {
      return { transitions: await replayAlerts(windows, { detector: detectorModel, forecaster: forecasterModel, baseline }, policy, limits, onProgress), policy, limits };
    } finally {
      await forecasterModel.model.close();
    }
  } finally {
    await detectorModel.model.close();
    await baseline?.close();
  }
}

/**
 * SKAB's protocol through the service's own decisions (`pdmctl evaluate --skab`): each file a
 * machine whose baseline is its first `warmupWindows` windows, the per-machine detector alone (the
 * fleet models read hourly windows), the decision settings `env` gives the service.
 */
export async function replaySkab(windows: WindowFeatures[], options: { warmupWindows: number }, env: NodeJS.ProcessEnv = process.env): Promise<AlertEvent[]> {
  const { policy, limits } = decisionSettings(env);
  const baseline = baselineSettings(env);
  if (!baseline) throw new PdmError('CONFIG_INVALID', 'PDM_BASELINE=off: the SKAB evaluation scores the per-machine detector');
  const model = await openBaselineModel({ ...baseline, warmupWindows: options.warmupWindows });
  try {
    return await replayAlerts(windows, { baseline: model }, policy, limits);
  } finally {
    await model.close();
  }
}

/** Loads the promoted version of `name` and checks it runs: finite outputs on a probe batch. */
async function loadDeployed(root: string, name: string): Promise<DeployedModel> {
  const loaded = loadCurrent(root, name);
  const deployed = await deployLoaded(loaded);
  try {
    const size = loaded.manifest.lookback * loaded.manifest.channels.length;
    const x = new Float32Array(size);
    loaded.manifest.normalization.channelMean.forEach((mean, c) => {
      for (let t = 0; t < loaded.manifest.lookback; t++) x[t * loaded.manifest.channels.length + c] = mean;
    });
    const calendar = loaded.manifest.calendar ? Float32Array.from({ length: 31 }, (_, i) => (i === 0 || i === 24 ? 1 : 0)) : undefined;
    const [out] = await deployed.runner.run([{ x, mask: new Float32Array(size).fill(1), calendar }]);
    for (const [role, values] of Object.entries(out!)) {
      if (!values.every(Number.isFinite)) throw new PdmError('MODEL_SELF_CHECK', `${name}/${loaded.manifest.version}: output ${role} is not finite on the training means`);
    }
    return deployed;
  } catch (err) {
    await deployed.model.close();
    throw err;
  }
}

class ModelHolder {
  private current: DeployedModels = {};
  /** The per-machine detector: one graph for the service's life, its parameters are each machine's state. */
  baseline?: BaselineModel;
  private readonly versions = new Map<string, string>();
  private readonly info: Gauge;
  private readonly failures: Counter;

  constructor(
    private readonly root: string,
    private readonly names: { detector?: string; forecaster?: string },
    private readonly logger: Logger,
    metrics: Registry,
  ) {
    this.info = metricOnce(metrics, 'pdm_inference_model_info', () => new Gauge({ name: 'pdm_inference_model_info', help: 'The model version in use (1), by role, name and version.', labelNames: ['role', 'model', 'version'], registers: [metrics] }));
    this.failures = metricOnce(metrics, 'pdm_inference_model_load_failures_total', () => new Counter({ name: 'pdm_inference_model_load_failures_total', help: 'Model versions refused: failed to load or their self-check.', labelNames: ['role'], registers: [metrics] }));
    // From 0 for every role in use: an alert on increase() sees the first refusal.
    for (const [role, name] of Object.entries(names)) if (name) this.failures.inc({ role }, 0);
  }

  get models(): DeployedModels {
    return this.baseline ? { ...this.current, baseline: this.baseline } : this.current;
  }

  /** Loads any newly promoted version; a failure keeps the running one. Returns whether all roles have a model. */
  async refresh(): Promise<void> {
    for (const role of ['detector', 'forecaster'] as const) {
      const name = this.names[role];
      if (!name) continue;
      const version = currentVersion(this.root, name);
      if (!version || this.versions.get(role) === version) continue;
      try {
        const deployed = await loadDeployed(this.root, name);
        const previous = this.current[role];
        this.current = { ...this.current, [role]: deployed };
        this.versions.set(role, version);
        if (previous) this.info.remove({ role, model: previous.manifest.name, version: previous.manifest.version });
        this.info.set({ role, model: name, version }, 1);
        this.logger.info({ role, model: name, version, stableSlots: deployed.runner.slots.length, previous: previous?.manifest.version }, previous ? 'model reloaded' : 'model loaded');
        // The previous session may still be running a batch: release it a little later.
        if (previous) setTimeout(() => void previous.model.close().catch(() => undefined), 30_000).unref();
      } catch (err) {
        this.versions.set(role, version);
        this.failures.inc({ role });
        this.logger.error({ role, model: name, version, err }, this.current[role] ? 'model version refused; the previous one keeps running' : 'model version refused');
      }
    }
  }

  async close(): Promise<void> {
    for (const deployed of [this.current.detector, this.current.forecaster]) await deployed?.model.close().catch(() => undefined);
    await this.baseline?.close().catch(() => undefined);
  }
}

export const inferenceService: ServiceDefinition = {
  name: STAGE,
  async start({ env, logger, metrics, clock, fail }): Promise<RunningService> {
    const shared = processorSettings(env);
    const settings = parseEnv(schema, env);
    const log = logger.child({ component: STAGE });
    const groupId = settings.PDM_INFERENCE_GROUP_ID ?? `${shared.prefix}pdm-inference`;
    const connection = kafkaConnectionFromEnv(`pdm-${STAGE}`, env);
    const topics = {
      input: `${shared.prefix}${TOPICS.windowFeatures}`,
      alerts: `${shared.prefix}${TOPICS.alerts}`,
      assessments: `${shared.prefix}${TOPICS.assessments}`,
      deadLetter: `${shared.prefix}${TOPICS.deadLetter}`,
      changelog: `${groupId}-inference-state-changelog`,
    };
    const inputPartitions = (await requireTopics(connection, [topics.input, topics.alerts, topics.assessments, topics.deadLetter])).get(topics.input)!;
    const [changelog] = await ensureTopics(connection, [changelogSpec(topics.changelog, inputPartitions)]);
    if (changelog!.differences.some((d) => d.startsWith('partitions'))) throw new PdmError('CHANGELOG_PARTITIONS', `${topics.changelog} must have as many partitions as ${topics.input}: ${changelog!.differences.join('; ')}`);

    const holder = new ModelHolder(modelsDir(env), { detector: settings.PDM_DETECTOR_MODEL || undefined, forecaster: settings.PDM_FORECASTER_MODEL || undefined }, log, metrics);
    await holder.refresh();
    holder.baseline = await openBaselineFromEnv(env);
    if (!holder.models.detector && !holder.models.forecaster && !holder.baseline) throw new PdmError('MODEL_NOT_PROMOTED', `no usable model under ${modelsDir(env)}: train one (npx pdmctl train --simulate)`);
    const { policy, limits } = decisionSettings(env, holder.models.detector?.manifest.thresholds.consecutive);

    const serde = new Serde(createSchemaRegistry(env.SCHEMA_REGISTRY_URL ?? '').client);
    const dependencies = readiness([kafkaProbe(connection), registryProbe(env.SCHEMA_REGISTRY_URL ?? '')]);
    const [encodeMachineId, encodeAlert, encodeAssessment] = await Promise.all([
      serde.encoder<string>(keySubject(topics.alerts), avroType(SCHEMA_FILES.machineId), schemaText(SCHEMA_FILES.machineId)),
      serde.encoder<AlertEvent>(valueSubject(topics.alerts), avroType(SCHEMA_FILES.alertEvent), schemaText(SCHEMA_FILES.alertEvent)),
      serde.encoder<MachineAssessment>(valueSubject(topics.assessments), avroType(SCHEMA_FILES.machineAssessment), schemaText(SCHEMA_FILES.machineAssessment)),
      serde.encoder<string>(keySubject(topics.assessments), avroType(SCHEMA_FILES.machineId), schemaText(SCHEMA_FILES.machineId)),
    ]);
    // Operators' resets (pdmctl machines relearn): the whole control topic, as a table.
    const control = await openControlTable({ topic: `${shared.prefix}${TOPICS.machineControl}`, connection, registryUrl: env.SCHEMA_REGISTRY_URL ?? '', logger: log, metrics });
    await control.ready();
    const processor = new InferenceProcessor({
      relearns: (machineId) => control.latestRelearn(machineId),
      policy,
      limits,
      topics,
      models: () => holder.models,
      decodeWindow: serde.decoder<WindowFeatures>(avroType(SCHEMA_FILES.windowFeatures)),
      encodeMachineId,
      encodeAlert,
      encodeAssessment,
      clock,
      metrics,
      logger: log,
    });
    const restoreSeconds = metricOnce(metrics, 'pdm_inference_restore_duration_seconds', () => new Histogram({ name: 'pdm_inference_restore_duration_seconds', help: "Time to rebuild one partition's machines from its changelog.", buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60], registers: [metrics] }));
    const reader = await openPartitionReader(connection);
    let failure: Error | undefined;
    const reload = setInterval(() => void holder.refresh(), settings.PDM_MODEL_RELOAD_INTERVAL);
    reload.unref();

    let runner: StageRunner;
    try {
      runner = await runStage({
        connection,
        groupId,
        inputTopic: topics.input,
        transactionalIdPrefix: groupId,
        logger,
        metrics: { registry: metrics, stage: STAGE },
        delivery: shared.exactlyOnce ? 'exactly-once' : 'at-least-once',
        sessionTimeoutMs: shared.sessionTimeoutMs,
        transactionTimeoutMs: shared.transactionTimeoutMs,
        maxBytesPerPartition: shared.maxBytesPerPartition,
        async open(partition, { heartbeat }) {
          const started = clock();
          const restorer = new InferenceRestorer(processor.layout());
          const { records } = await reader.read(topics.changelog, partition, async (chunk) => {
            for (const r of chunk) restorer.apply(r.key, r.value);
            await heartbeat();
          });
          const restored = restorer.result();
          processor.open(partition, restored);
          restoreSeconds.observe((clock() - started) / 1000);
          log.info({ partition, changelogRecords: records, machines: restored.machines.size, resumeAt: restored.nextOffset?.toString() ?? 'start', ms: clock() - started }, 'partition restored');
        },
        close: (partition) => processor.close(partition),
        process: (partition, records, batch) => processor.process(partition, records, batch),
        onFatal: (error) => {
          failure = error;
          fail?.(error);
        },
      });
    } catch (err) {
      clearInterval(reload);
      await reader.close();
      await control.stop();
      await holder.close();
      throw err;
    }
    log.info({ input: topics.input, output: [topics.alerts, topics.assessments], group: groupId, policy, limits, models: Object.fromEntries(Object.entries(holder.models).map(([role, m]) => [role, 'manifest' in m ? `${m.manifest.name}/${m.manifest.version}` : `${m.name}/${m.version}`])) }, 'inference processor running');
    return {
      ready: async () => (failure ? `the consumer failed: ${failure.message}` : dependencies()),
      async stop() {
        clearInterval(reload);
        await runner.stop();
        await reader.close();
        await control.stop();
        await holder.close();
        log.info({ commits: runner.commits }, 'inference processor stopped');
      },
    };
  },
};
