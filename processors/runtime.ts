import { z } from 'zod';
import { duration, parseEnv } from '../lib/config';
import type { RunningService, ServiceContext } from '../lib/service';
import { topicSettings } from '../lib/shared.settings';
import { hostStage, type Stage, type StageScope } from '../lib/stage-host';

/**
 * Settings every stream processor (window, inference) shares, from the environment. Each
 * processor adds its own in its folder.
 */
export const schema = z.object({
  PDM_TOPIC_PREFIX: topicSettings.shape.PDM_TOPIC_PREFIX,
  PDM_PROCESSING_GUARANTEE: z.enum(['exactly-once', 'at-least-once']).default('exactly-once')
    .describe("`exactly-once` (Kafka transactions, read_committed) or `at-least-once` (a crash may repeat a batch's outputs)."),
  PDM_SESSION_TIMEOUT: duration('30s').pipe(z.number().min(6000).max(300_000))
    .describe('A member that stops heartbeating (crashed, frozen) loses its partitions after this long; the broker allows 6s to 5m.'),
  PDM_TRANSACTION_TIMEOUT: duration('60s').pipe(z.number().min(1000).max(900_000))
    .describe('A transaction left open by a crashed instance is aborted after this long, which is how long its partitions may wait.'),
  PDM_FETCH_MAX_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024)
    .describe('Most input bytes of one partition per fetch, and so per transaction.'),
  PDM_PARTITIONS_CONCURRENTLY: z.coerce.number().int().min(1).max(64).default(1)
    .describe("Input partitions processed at once by one instance, each still in order and in its own transaction: a partition computes while another's transaction commits."),
});

export interface ProcessorSettings {
  prefix: string;
  exactlyOnce: boolean;
  sessionTimeoutMs: number;
  transactionTimeoutMs: number;
  maxBytesPerPartition: number;
  partitionsConcurrently: number;
}

export function processorSettings(env: NodeJS.ProcessEnv = process.env): Readonly<ProcessorSettings> {
  const raw = parseEnv(schema, env);
  return Object.freeze({
    prefix: raw.PDM_TOPIC_PREFIX,
    exactlyOnce: raw.PDM_PROCESSING_GUARANTEE === 'exactly-once',
    sessionTimeoutMs: raw.PDM_SESSION_TIMEOUT,
    transactionTimeoutMs: raw.PDM_TRANSACTION_TIMEOUT,
    maxBytesPerPartition: raw.PDM_FETCH_MAX_BYTES,
    partitionsConcurrently: raw.PDM_PARTITIONS_CONCURRENTLY,
  });
}

/** A processor's settings once its own are added: its group, and its changelog `<group>-<name>-state-changelog`. */
export interface StreamProcessorSettings extends ProcessorSettings {
  groupId: string;
  changelogTopic: string;
}

/**
 * Hosts a stream processor (lib/stage-host.ts): one input, its outputs, its state in a changelog
 * co-partitioned with the input, the delivery guarantee and runner settings every processor shares.
 */
export function hostProcessor(
  context: ServiceContext,
  settings: StreamProcessorSettings,
  spec: { name: string; title: string; input: string; outputs: string[]; changelog: string; wire(scope: StageScope): Promise<{ stage: Stage; running: Record<string, unknown> }> },
): Promise<RunningService> {
  const { name, title, input } = spec;
  const guarantee = settings.exactlyOnce ? 'exactly-once' : 'at-least-once';
  return hostStage(context, {
    name,
    title,
    metricsPrefix: `pdm_${name}`,
    topics: [input, ...spec.outputs],
    changelog: { topic: settings.changelogTopic, input, description: spec.changelog },
    runner: settings,
    async wire(scope) {
      const { stage, running } = await spec.wire(scope);
      return { inputs: [{ topic: input, groupId: settings.groupId, delivery: guarantee, restoreFrom: 'changelog', stage }], running: { input, group: settings.groupId, guarantee, ...running } };
    },
  });
}
