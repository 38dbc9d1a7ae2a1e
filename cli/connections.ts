import { stackEnv } from '../stack/stack';

/** CONTRACT.md's connection variables. */
export const CONNECTION_VARIABLES = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'DATABASE_URL', 'DATABASE_FOLLOWER_URL', 'SMTP_URL', 'MODELS_DIR'] as const;

/**
 * The environment commands run with: whatever the shell sets wins (an existing Kafka, registry or
 * database), and anything unset points at the local stack.
 */
export function connectionEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const local = stackEnv();
  const merged: NodeJS.ProcessEnv = { ...env };
  for (const name of CONNECTION_VARIABLES) merged[name] = env[name] || local[name];
  return merged;
}
