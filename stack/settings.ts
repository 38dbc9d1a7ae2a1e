import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { parseEnv, port } from '../lib/config';
import { PdmError } from '../lib/errors';
import { repoRoot } from '../lib/paths';

/**
 * Settings of the local stack (`pdmctl stack ...`), all from environment variables with defaults.
 * Default ports sit away from the standard ones (9092, 8081, 5432, 25, 9090) so the stack runs
 * beside servers a developer may already have.
 */
export const schema = z.object({
  PDM_STATE_DIR: z.string().default(path.join(repoRoot, '.pdm')).meta({ docDefault: '.pdm (in the repository)' })
    .describe('Where the stack keeps its data, logs and pid files (git-ignored).'),
  PDM_CACHE_DIR: z.string().default(path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'pdm-stream')).meta({ docDefault: '$XDG_CACHE_HOME/pdm-stream or ~/.cache/pdm-stream' })
    .describe('Downloaded servers (Kafka, Apicurio), shared by every clone on this machine.'),
  PDM_STACK_HOST: z.string().default('127.0.0.1').describe('Address every server binds to and advertises.'),
  PDM_KAFKA_VERSION: z.string().regex(/^[34]\.\d+\.\d+$/, 'a Kafka release such as 3.9.2 or 4.1.1').default('3.9.2')
    .describe('Apache Kafka release from Maven Central; 4.x selects the newer broker for compatibility runs.'),
  PDM_APICURIO_VERSION: z.string().regex(/^3\.\d+\.\d+$/, 'an Apicurio Registry 3.x release such as 3.0.9').default('3.0.9')
    .describe('Apicurio Registry release from Maven Central (its `zip:all` artifact).'),
  PDM_KAFKA_PORT: port(19092).describe('Port of the Kafka broker (KAFKA_BROKERS).'),
  PDM_KAFKA_CONTROLLER_PORT: port(19093).describe("Port of the broker's KRaft controller."),
  PDM_REGISTRY_PORT: port(18081).describe('Port of the schema registry (SCHEMA_REGISTRY_URL).'),
  PDM_POSTGRES_PORT: port(15432).describe('Port of the Postgres primary (DATABASE_URL).'),
  PDM_POSTGRES_FOLLOWER_PORT: port(15433).describe('Port of the Postgres streaming follower (DATABASE_FOLLOWER_URL).'),
  PDM_SMTP_PORT: port(11025).describe('Port of the SMTP inbox (SMTP_URL).'),
  PDM_INBOX_PORT: port(11080).describe("Port of the SMTP inbox's web page."),
  PDM_PROMETHEUS_PORT: port(19090).describe('Port of Prometheus.'),
  PDM_KAFKA_HEAP: z.string().regex(/^\d+[mg]$/).default('1g').describe('Java heap of the Kafka broker.'),
  PDM_REGISTRY_HEAP: z.string().regex(/^\d+[mg]$/).default('512m').describe('Java heap of the schema registry.'),
  PDM_PG_BINDIR: z.string().optional().meta({ docDefault: "Debian's newest" })
    .describe('Folder with the Postgres server binaries (initdb, postgres, pg_basebackup); unset: the newest under /usr/lib/postgresql.'),
  PDM_STACK_TIMEOUT_S: z.coerce.number().int().positive().default(240)
    .describe('How long `stack up` waits for one server to answer before it reports it failed.'),
});

export type StackSettings = Readonly<z.infer<typeof schema>>;

export function loadStackSettings(env: NodeJS.ProcessEnv = process.env): StackSettings {
  const settings = parseEnv(schema, env);
  const ports = Object.entries(settings).filter(([key]) => key.endsWith('_PORT'));
  const seen = new Map<unknown, string>();
  for (const [key, value] of ports) {
    const other = seen.get(value);
    if (other) throw new PdmError('CONFIG_INVALID', `invalid configuration: ${key} and ${other} are both ${String(value)}`);
    seen.set(value, key);
  }
  return settings;
}

export const kafkaMajor = (settings: StackSettings): number => Number(settings.PDM_KAFKA_VERSION.split('.')[0]);

/**
 * The port settings of a second stack beside the default one: each default port plus `offset`.
 * Tests that stop servers run such a private stack (its own state folder too), so the stack
 * everything else uses is never disturbed.
 */
export function privateStackPorts(offset: number): Record<string, string> {
  return Object.fromEntries(
    Object.entries(parseEnv(schema, {}))
      .filter(([key]) => key.endsWith('_PORT'))
      .map(([key, value]) => [key, String(Number(value) + offset)]),
  );
}
