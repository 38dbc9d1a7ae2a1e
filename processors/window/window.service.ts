import { PdmError } from '../../lib/errors';
import type { ServiceDefinition } from '../../lib/service';
import { restoredStage, type Stage, type StageScope } from '../../lib/stage-host';
import { hostProcessor } from '../runtime';
import { TOPICS, prefixedTopics, keySubject, valueSubject } from '../../lib/topics';
import { SCHEMA_FILES, avroType, schemaText, type SensorReading, type WindowFeatures, type WindowKey } from '../../schemas';
import { STAGE, WindowProcessor } from './window.processor';
import { windowSettings, type WindowSettings } from './window.settings';
import { StateRestorer, configMismatch } from './window.state';

/**
 * `pdmctl run window`: pdm.sensor-readings.v1 into final per-machine windows on
 * pdm.window-features.v1, exactly once.
 *
 * Each input partition is a task (lib/kafka/runner/): its readings, window outputs,
 * late readings, dead letters, changelog records and consumed offset commit in one transaction.
 * When a partition is assigned, its state is rebuilt from the changelog partition of the same
 * number (lib/stage-host.ts), read to its last stable offset after this instance's producer
 * fenced the previous owner: so the state is exactly what the committed offset says has been
 * processed.
 */

/** The processor as a hosted stage: restored from the changelog, refusing state another configuration wrote. */
function windowStage(processor: WindowProcessor, settings: WindowSettings, scope: StageScope, input: string): Stage {
  return restoredStage(() => new StateRestorer(), {
    async open(partition, restored) {
      const mismatch = restored.progress && configMismatch(restored.progress, settings.window);
      if (mismatch) {
        // No retry can fix this: stop, and say what to do.
        const error = new PdmError('WINDOW_STATE_MISMATCH', `partition ${partition}: ${mismatch}. Give this configuration its own PDM_WINDOW_GROUP_ID (a new group starts from the beginning of the readings).`);
        scope.fail(error);
        throw error;
      }
      processor.open(partition, restored, await scope.endOffset(input, partition));
      return { openWindows: restored.windows.open.size, resumeAt: restored.progress?.nextOffset.toString() ?? 'start' };
    },
    process: (partition, records, batch) => processor.process(partition, records, batch),
    punctuate: { intervalMs: Math.min(1000, Math.max(100, Math.floor(settings.window.idleTimeoutMs / 4))), run: (partition) => processor.punctuate(partition) },
    close: (partition) => processor.close(partition),
  });
}

export const windowService: ServiceDefinition = {
  name: STAGE,
  start(context) {
    const settings = windowSettings(context.env);
    const named = prefixedTopics(settings.prefix, { input: TOPICS.readings, output: TOPICS.windowFeatures, late: TOPICS.lateReadings, deadLetter: TOPICS.deadLetter });
    const topics = { ...named, changelog: settings.changelogTopic };
    return hostProcessor(context, settings, {
      name: STAGE,
      title: 'window processor',
      input: topics.input,
      outputs: [topics.output, topics.late, topics.deadLetter],
      changelog: 'window processor state: open windows and progress per input partition',
      async wire(scope) {
        const { serde } = scope;
        const processor = new WindowProcessor({
          config: settings.window,
          topics: { ...topics, outputPartitions: scope.partitions.get(topics.output)! },
          decodeReading: serde.decoder<SensorReading>(avroType(SCHEMA_FILES.sensorReading)),
          encodeKey: await serde.encoder<WindowKey>(keySubject(topics.output), avroType(SCHEMA_FILES.windowKey), schemaText(SCHEMA_FILES.windowKey)),
          encodeFeatures: await serde.encoder<WindowFeatures>(valueSubject(topics.output), avroType(SCHEMA_FILES.windowFeatures), schemaText(SCHEMA_FILES.windowFeatures)),
          clock: scope.clock,
          metrics: scope.metrics,
          logger: scope.log,
        });
        return { stage: windowStage(processor, settings, scope, topics.input), running: { output: topics.output, window: settings.window } };
      },
    });
  },
};
