import { stackEnv } from '../stack/stack';

/** CONTRACT.md's connection variables. */
export const CONNECTION_VARIABLES = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'DATABASE_URL', 'DATABASE_FOLLOWER_URL', 'SMTP_URL', 'MODELS_DIR'] as const;

/**
 * The environment commands run with: whatever the shell sets wins (an existing Kafka, registry or
 * database), and anything unset points at the local stack.
 */
export function connectionEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  // Only consulted when something is unset: pointed at existing servers (a container, CI), a
  // command never touches the local stack's state folder or its secrets.
  const missing = CONNECTION_VARIABLES.filter((name) => !env[name]);
  if (missing.length === 0) return env;
  const local = stackEnv();
  const merged: NodeJS.ProcessEnv = { ...env };
  for (const name of missing) merged[name] = local[name];
  // The local database comes with the local stack's role passwords (sink-postgres' pdm_writer and pdm_analyst).
  if (missing.includes('DATABASE_URL')) for (const name of ['PDM_WRITER_PASSWORD', 'PDM_ANALYST_PASSWORD']) merged[name] ??= local[name];
  return merged;
}
