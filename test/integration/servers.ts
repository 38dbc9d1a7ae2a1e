import { randomUUID } from 'node:crypto';
import { deleteTopics, ensureTopics } from '../../lib/kafka/admin';
import type { KafkaConnection } from '../../lib/kafka/client';
import { createRegistry, registerTopicSchemas } from '../../lib/registry';
import { topicSpecs, type TopicSpec } from '../../lib/topics';

/**
 * What integration tests share: the connection settings global-setup put into the environment,
 * and unique names so tests never see each other's topics, groups or rows.
 */
export function testEnv(): { kafkaBrokers: string[]; registryUrl: string; databaseUrl: string; followerUrl: string; smtpUrl: string } {
  const need = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: integration tests run through jest's global setup (npm test)`);
    return value;
  };
  return {
    kafkaBrokers: need('KAFKA_BROKERS').split(','),
    registryUrl: need('SCHEMA_REGISTRY_URL'),
    databaseUrl: need('DATABASE_URL'),
    followerUrl: need('DATABASE_FOLLOWER_URL'),
    smtpUrl: need('SMTP_URL'),
  };
}

/** A name no other test run uses: `t-<label>-<8 hex>`. */
export const uniqueName = (label: string): string => `t-${label}-${randomUUID().slice(0, 8)}`;

/**
 * The contract's topics under a prefix of this test file's own, created (with schemas
 * registered) before its tests and deleted after them.
 */
export function useIsolatedTopics(label: string, partitions = 3): { prefix: string; specs: TopicSpec[]; connection: KafkaConnection } {
  const env = testEnv();
  const prefix = `${uniqueName(label)}.`;
  const specs = topicSpecs({ prefix, partitions });
  const connection: KafkaConnection = { brokers: env.kafkaBrokers, clientId: `${label}-test` };
  beforeAll(async () => {
    await ensureTopics(connection, specs);
    await registerTopicSchemas(createRegistry(env.registryUrl), specs);
  });
  afterAll(() => deleteTopics(connection, specs.map((s) => s.name)));
  return { prefix, specs, connection };
}

/** Polls `condition` until it holds; past `timeoutMs` fails with what it waited for. */
export async function waitFor(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 60_000, intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
