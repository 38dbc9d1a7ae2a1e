import { z } from 'zod';
import { parseEnv } from '../lib/config';
import { kafkaConnectionFromEnv } from '../lib/kafka/client';
import type { Compression } from '../lib/kafka/compression';
import { connectProducer, type BatchProducer } from '../lib/kafka/producer';
import type { Logger } from '../lib/logger';
import { stageMetrics, type Registry } from '../lib/metrics';
import { createRegistry as createSchemaRegistry, registryUrlFromEnv } from '../lib/registry';
import { TOPICS } from '../lib/topics';
import { ReadingsProducer } from './readings.producer';
import { DEFAULT_RULES, allowListFrom, type ValidationRules } from './validation';
import { topicSettings } from '../lib/shared.settings';

/** Settings every producer shares, from the environment. */
export const schema = z.object({
  PDM_MACHINE_ALLOWLIST: z.string().optional()
    .describe('Machine ids accepted, comma-separated, `*` as wildcard (`lathe-*,cnc-mill-5-axis`); empty accepts all.'),
  PDM_MAX_CLOCK_SKEW: topicSettings.shape.PDM_MAX_CLOCK_SKEW,
  PDM_TOPIC_PREFIX: topicSettings.shape.PDM_TOPIC_PREFIX,
});

export function producerRules(env: NodeJS.ProcessEnv = process.env): { rules: ValidationRules; prefix: string } {
  const settings = parseEnv(schema, env);
  return {
    rules: { ...DEFAULT_RULES, maxFutureMs: settings.PDM_MAX_CLOCK_SKEW, allowList: allowListFrom(settings.PDM_MACHINE_ALLOWLIST) },
    prefix: settings.PDM_TOPIC_PREFIX,
  };
}

export interface ReadingsOutput {
  readings: ReadingsProducer;
  close(): Promise<void>;
}

/** Connects a producer to KAFKA_BROKERS and SCHEMA_REGISTRY_URL for readings and dead letters. */
export async function openReadingsOutput(options: {
  stage: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  metrics: Registry;
  batchSize?: number;
  lingerMs?: number;
  compression?: Compression;
}): Promise<ReadingsOutput> {
  const { rules, prefix } = producerRules(options.env);
  const producer: BatchProducer = await connectProducer(kafkaConnectionFromEnv(`pdm-${options.stage}`, options.env), { logger: options.logger, compression: options.compression });
  try {
    const readings = await ReadingsProducer.create({
      producer,
      registry: createSchemaRegistry(registryUrlFromEnv(options.env)).client,
      topics: { readings: `${prefix}${TOPICS.readings}`, deadLetter: `${prefix}${TOPICS.deadLetter}` },
      stage: options.stage,
      metrics: stageMetrics(options.metrics),
      rules,
      clock: Date.now,
      logger: options.logger.child({ component: 'readings-producer' }),
      batchSize: options.batchSize,
      lingerMs: options.lingerMs,
    });
    return {
      readings,
      async close() {
        try {
          await readings.flush();
        } finally {
          await producer.disconnect();
        }
      },
    };
  } catch (err) {
    await producer.disconnect();
    throw err;
  }
}
