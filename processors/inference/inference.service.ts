import { openControlTable } from '../../lib/control-table';
import type { ServiceDefinition } from '../../lib/service';
import { restoredStage, type Stage, type StageScope } from '../../lib/stage-host';
import { hostProcessor } from '../runtime';
import { TOPICS, prefixedTopics, keySubject, valueSubject } from '../../lib/topics';
import { modelsDir } from '../../models/store';
import { SCHEMA_FILES, avroType, schemaText, type AlertEvent, type MachineAssessment, type MachineAssessmentV1, type WindowFeatures } from '../../schemas';
import { InferenceProcessor, STAGE, type InferenceTopics } from './inference.processor';
import { decisionSettings, inferenceSettings, type InferenceSettings } from './inference.settings';
import { InferenceRestorer } from './inference.state';
import { ModelHolder } from './model-holder';

/**
 * `pdmctl run inference`: final windows in, alert transitions out on pdm.alerts.v1, exactly once.
 * Each input partition is a task of the transactional loop, its state (each machine's recent
 * windows and alert conditions) restored from its own compacted changelog (lib/stage-host.ts),
 * not by replaying the window features. The models are model-holder.ts's: the promoted versions
 * under MODELS_DIR, reloaded when a new one is promoted.
 */

/** The processor as a hosted stage: each partition's machines rebuilt from its changelog. */
function inferenceStage(processor: InferenceProcessor): Stage {
  return restoredStage(() => new InferenceRestorer(processor.layout()), {
    open(partition, restored) {
      processor.open(partition, restored);
      return { machines: restored.machines.size, resumeAt: restored.nextOffset?.toString() ?? 'start' };
    },
    process: (partition, records, batch) => processor.process(partition, records, batch),
    close: (partition) => processor.close(partition),
  });
}

/** The models, the control table and the processor, for the host. */
async function wireInference(scope: StageScope, settings: InferenceSettings, topics: InferenceTopics & { machineControl: string }): Promise<{ stage: Stage; running: Record<string, unknown> }> {
  const { serde, env } = scope;
  const holder = new ModelHolder(modelsDir(env), settings.models, scope.log, scope.metrics);
  scope.defer(() => holder.close());
  await holder.open(env, settings.reloadIntervalMs);
  const { policy, limits } = decisionSettings(env, holder.models.detector?.manifest.thresholds.consecutive);
  // Operators' resets (pdmctl machines relearn): the whole control topic, as a table.
  const control = await openControlTable({ topic: topics.machineControl, connection: scope.connection, registryUrl: scope.registryUrl, logger: scope.log, metrics: scope.metrics });
  scope.defer(() => control.stop());
  await control.ready();
  const machineId = (topic: string) => serde.encoder<string>(keySubject(topic), avroType(SCHEMA_FILES.machineId), schemaText(SCHEMA_FILES.machineId));
  // Both outputs are keyed by machine id, one schema: the assessments' key subject is registered for readers that look it up.
  await machineId(topics.assessments);
  const processor = new InferenceProcessor({
    relearns: (id) => control.latestRelearn(id), policy, limits, topics, models: () => holder.models,
    decodeWindow: serde.decoder<WindowFeatures>(avroType(SCHEMA_FILES.windowFeatures)),
    encodeMachineId: await machineId(topics.alerts),
    encodeAlert: await serde.encoder<AlertEvent>(valueSubject(topics.alerts), avroType(SCHEMA_FILES.alertEvent), schemaText(SCHEMA_FILES.alertEvent)),
    encodeAssessment: await serde.encoder<MachineAssessment>(valueSubject(topics.assessments), avroType(SCHEMA_FILES.machineAssessment), schemaText(SCHEMA_FILES.machineAssessment)),
    ...(topics.assessmentsV1
      ? { encodeAssessmentV1: await serde.encoder<MachineAssessmentV1>(valueSubject(topics.assessmentsV1), avroType(SCHEMA_FILES.machineAssessmentV1), schemaText(SCHEMA_FILES.machineAssessmentV1)) }
      : {}),
    clock: scope.clock, metrics: scope.metrics, logger: scope.log,
  });
  const output = [topics.alerts, topics.assessments, ...(topics.assessmentsV1 ? [`${topics.assessmentsV1} (deprecated)`] : [])];
  return { stage: inferenceStage(processor), running: { output, policy, limits, models: holder.describe() } };
}

export const inferenceService: ServiceDefinition = {
  name: STAGE,
  start(context) {
    const settings = inferenceSettings(context.env);
    const { machineControl, assessmentsV1, ...outputs } = prefixedTopics(settings.prefix, {
      input: TOPICS.windowFeatures, alerts: TOPICS.alerts, assessments: TOPICS.assessments, assessmentsV1: TOPICS.assessmentsV1, deadLetter: TOPICS.deadLetter, machineControl: TOPICS.machineControl,
    });
    const topics = { ...outputs, changelog: settings.changelogTopic, machineControl, ...(settings.assessmentsV1 ? { assessmentsV1 } : {}) };
    return hostProcessor(context, settings, {
      name: STAGE,
      title: 'inference processor',
      input: topics.input,
      outputs: [topics.alerts, topics.assessments, ...(topics.assessmentsV1 ? [topics.assessmentsV1] : []), topics.deadLetter],
      changelog: 'inference processor state: recent windows and alert conditions per machine',
      wire: (scope) => wireInference(scope, settings, topics),
    });
  },
};
