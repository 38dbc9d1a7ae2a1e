import { z } from 'zod';
import { duration, parseEnv } from '../../lib/config';
import { parseDuration } from '../../lib/duration';
import { PdmError } from '../../lib/errors';
import { processorSettings } from '../../processors/runtime';
import { postgresSettings } from '../../lib/shared.settings';

/** sink-postgres settings, from the environment (PDM_TOPIC_PREFIX, PDM_SESSION_TIMEOUT and PDM_FETCH_MAX_BYTES are the processors' shared ones). */
export const schema = z.object({
  DATABASE_URL: postgresSettings.shape.DATABASE_URL,
  PDM_POSTGRES_SCHEMA: postgresSettings.shape.PDM_POSTGRES_SCHEMA,
  PDM_WRITER_PASSWORD: postgresSettings.shape.PDM_WRITER_PASSWORD,
  PDM_ANALYST_PASSWORD: postgresSettings.shape.PDM_ANALYST_PASSWORD,
  PDM_SINK_POSTGRES_MIGRATE: z.enum(['true', 'false']).default('true')
    .describe("Apply pending migrations at start (`false` when an owner runs `pdmctl db migrate` and DATABASE_URL can't do DDL)."),
  PDM_SINK_POSTGRES_GROUP_ID: z.string().optional()
    .describe('Consumer group prefix: the groups are `<it>-<input>`: window-features, alerts, assessments, machine-control, alert-control. Default `<PDM_TOPIC_PREFIX>pdm-sink-postgres`.'),
  PDM_SINK_POSTGRES_BATCH_ROWS: z.coerce.number().int().min(1).max(10_000).default(500)
    .describe("Most rows in one multi-row INSERT (also bounded by Postgres' 65535 parameters)."),
  PDM_SINK_POSTGRES_RETRY_INITIAL: duration('200ms').describe('First wait before retrying a failed batch write; it doubles on each failure.'),
  PDM_SINK_POSTGRES_RETRY_MAX: duration('10s').describe('Longest wait between retries of a batch write.'),
  PDM_SINK_POSTGRES_STATEMENT_TIMEOUT: duration('30s').describe('A statement slower than this is cancelled and its batch retried (a stuck database).'),
  PDM_SINK_POSTGRES_CONNECT_TIMEOUT: duration('5s').describe('A connection attempt that takes longer fails (and is retried).'),
  PDM_SINK_POSTGRES_PROBE_INTERVAL: duration('5s').describe('How often readiness checks the database while no batch is being written.'),
  PDM_SINK_POSTGRES_START_TIMEOUT: duration('60s').describe('How long start waits for the database to take the migrations before it fails.'),
  PDM_POSTGRES_RETENTION: z.string().optional()
    .describe(
      'Keep this long (`90d`, `26w`; at least `1d`) of window_features, window_extras, assessments and forecasts: ' +
        'whole day partitions older are dropped. Unset or `forever`: keep everything.',
    ),
  PDM_SINK_POSTGRES_PARTITION_INTERVAL: duration('1h')
    .describe('How often the sink makes the next days\' partitions and applies PDM_POSTGRES_RETENTION (also once at start).'),
});

/** PDM_POSTGRES_RETENTION as milliseconds, undefined to keep everything. */
export function retentionMsOf(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === 'forever') return undefined;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (cause) {
    throw new PdmError('CONFIG_INVALID', `invalid configuration:\n  PDM_POSTGRES_RETENTION: ${(cause as Error).message}, or forever`, { cause });
  }
  if (ms < 86_400_000) {
    throw new PdmError('CONFIG_INVALID', `invalid configuration:\n  PDM_POSTGRES_RETENTION: ${text} is less than a day (partitions are whole days)`);
  }
  return ms;
}

export interface PostgresSinkSettings {
  prefix: string;
  sessionTimeoutMs: number;
  maxBytesPerPartition: number;
  /** The owner's connection: migrations. */
  ownerUrl: string;
  /** The sink's connection: pdm_writer when its password is set, else the owner's. */
  writerUrl: string;
  writerRole: string;
  schema: string;
  writerPassword?: string;
  analystPassword?: string;
  migrateAtStart: boolean;
  groupId: string;
  maxRowsPerStatement: number;
  retry: { initialMs: number; maxMs: number };
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  probeIntervalMs: number;
  startTimeoutMs: number;
  /** Drop day partitions older than this; undefined keeps everything. */
  retentionMs?: number;
  partitionIntervalMs: number;
}

/** DATABASE_URL with pdm_writer's login instead of its own. */
export function writerUrlOf(ownerUrl: string, password: string): string {
  let url: URL;
  try {
    url = new URL(ownerUrl);
  } catch (cause) {
    throw new PdmError('CONFIG_INVALID', 'invalid configuration:\n  DATABASE_URL: not a URL', { cause });
  }
  url.username = 'pdm_writer';
  url.password = encodeURIComponent(password);
  return url.toString();
}

export function postgresSinkSettings(env: NodeJS.ProcessEnv = process.env): Readonly<PostgresSinkSettings> {
  const shared = processorSettings(env);
  const raw = parseEnv(schema, env);
  if (raw.PDM_SINK_POSTGRES_RETRY_MAX < raw.PDM_SINK_POSTGRES_RETRY_INITIAL) throw new PdmError('CONFIG_INVALID', 'invalid configuration:\n  PDM_SINK_POSTGRES_RETRY_MAX: must not be less than PDM_SINK_POSTGRES_RETRY_INITIAL');
  const writer = raw.PDM_WRITER_PASSWORD ? writerUrlOf(raw.DATABASE_URL, raw.PDM_WRITER_PASSWORD) : raw.DATABASE_URL;
  return Object.freeze({
    prefix: shared.prefix,
    sessionTimeoutMs: shared.sessionTimeoutMs,
    maxBytesPerPartition: shared.maxBytesPerPartition,
    ownerUrl: raw.DATABASE_URL,
    writerUrl: writer,
    writerRole: raw.PDM_WRITER_PASSWORD ? 'pdm_writer' : decodeURIComponent(new URL(raw.DATABASE_URL).username),
    schema: raw.PDM_POSTGRES_SCHEMA,
    writerPassword: raw.PDM_WRITER_PASSWORD,
    analystPassword: raw.PDM_ANALYST_PASSWORD,
    migrateAtStart: raw.PDM_SINK_POSTGRES_MIGRATE === 'true',
    groupId: raw.PDM_SINK_POSTGRES_GROUP_ID ?? `${shared.prefix}pdm-sink-postgres`,
    maxRowsPerStatement: raw.PDM_SINK_POSTGRES_BATCH_ROWS,
    retry: Object.freeze({ initialMs: raw.PDM_SINK_POSTGRES_RETRY_INITIAL, maxMs: raw.PDM_SINK_POSTGRES_RETRY_MAX }),
    statementTimeoutMs: raw.PDM_SINK_POSTGRES_STATEMENT_TIMEOUT,
    connectTimeoutMs: raw.PDM_SINK_POSTGRES_CONNECT_TIMEOUT,
    probeIntervalMs: raw.PDM_SINK_POSTGRES_PROBE_INTERVAL,
    startTimeoutMs: raw.PDM_SINK_POSTGRES_START_TIMEOUT,
    retentionMs: retentionMsOf(raw.PDM_POSTGRES_RETENTION),
    partitionIntervalMs: raw.PDM_SINK_POSTGRES_PARTITION_INTERVAL,
  });
}
