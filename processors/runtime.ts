import { z } from 'zod';
import { duration, parseEnv } from '../lib/config';
import { topicSettings } from '../lib/shared.settings';

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
});

export interface ProcessorSettings {
  prefix: string;
  exactlyOnce: boolean;
  sessionTimeoutMs: number;
  transactionTimeoutMs: number;
  maxBytesPerPartition: number;
}

export function processorSettings(env: NodeJS.ProcessEnv = process.env): Readonly<ProcessorSettings> {
  const raw = parseEnv(schema, env);
  return Object.freeze({
    prefix: raw.PDM_TOPIC_PREFIX,
    exactlyOnce: raw.PDM_PROCESSING_GUARANTEE === 'exactly-once',
    sessionTimeoutMs: raw.PDM_SESSION_TIMEOUT,
    transactionTimeoutMs: raw.PDM_TRANSACTION_TIMEOUT,
    maxBytesPerPartition: raw.PDM_FETCH_MAX_BYTES,
  });
}
