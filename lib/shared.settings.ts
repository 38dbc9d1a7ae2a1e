import { z } from 'zod';
import { duration } from './config';

/**
 * The settings more than one component reads, declared once each. A component's schema takes
 * the ones it needs by reference (`PDM_TOPIC_PREFIX: topicSettings.shape.PDM_TOPIC_PREFIX`), so a
 * variable has one default, one rule and one doc line however many commands read it;
 * docs/configuration.md lists it here and names who reads it.
 */

/** Kafka and the schema registry (CONTRACT.md's connection variables plus SASL/TLS). */
export const kafkaSettings = z.object({
  KAFKA_BROKERS: z.string().optional().describe('Comma-separated bootstrap servers; unset: the local stack (`pdmctl stack env`).'),
  KAFKA_SSL: z.string().optional().describe('`true`: connect to the brokers over TLS.'),
  KAFKA_SASL_MECHANISM: z.string().optional().describe('SASL mechanism (`plain`, `scram-sha-256`, `scram-sha-512`); unset: no SASL.'),
  KAFKA_SASL_USERNAME: z.string().optional().describe('SASL user name.'),
  KAFKA_SASL_PASSWORD: z.string().optional().describe('SASL password; never logged.'),
  PDM_KAFKA_LOG_LEVEL: z.string().default('error')
    .describe("The Kafka client's own log entries from this level up (one level lower in our log: they are mostly routine retries)."),
  PDM_KAFKA_CLIENT: z.enum(['kafkajs', 'confluent']).default('kafkajs')
    .describe('Kafka client library behind lib/kafka/: `kafkajs`, or `confluent` (@confluentinc/kafka-javascript, librdkafka; an optional dependency built from source, see docs/topics.md).'),
  SCHEMA_REGISTRY_URL: z.string().optional().describe('Base URL of a Confluent-compatible schema registry API; unset: the local stack.'),
});

/** Topic names and record rules every producer and processor shares. */
export const topicSettings = z.object({
  PDM_TOPIC_PREFIX: z.string().default('')
    .describe('Prefix of every topic name (isolated environments and tests); consumer group ids default to it too. `pdmctl topics --prefix` overrides it.'),
  PDM_MAX_CLOCK_SKEW: duration('5m')
    .describe('A reading dated more than this ahead of the clock is refused: by the producers (their clock) and the window processor (the broker append time).'),
});

/** Logs, and the /health, /ready and /metrics server of every service. */
export const serviceSettings = z.object({
  PDM_LOG_LEVEL: z.string().optional().meta({ docDefault: 'info' })
    .describe('Log level of the JSON logs (trace, debug, info, warn, error); unset: info, or what the command chooses.'),
  PDM_METRICS_HOST: z.string().default('127.0.0.1').describe('Address the /health, /ready and /metrics server binds to.'),
  PDM_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional()
    .describe('Port of that server for `pdmctl run <one service>` (`--metrics-port` overrides it); default: the service\'s own port.'),
});

/** The Postgres database sink-postgres writes, the API and analysts read. */
export const postgresSettings = z.object({
  DATABASE_URL: z.string().min(1, 'is required: the Postgres primary, postgres://user:password@host:port/db')
    .describe('Postgres primary (the sink writes here; the schema owner\'s login).'),
  PDM_POSTGRES_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier').default('pdm')
    .describe('Schema of the tables; tests give each run its own.'),
  PDM_WRITER_PASSWORD: z.string().optional()
    .describe('Password of the role pdm_writer; when set, migrations give it to the role and the sink writes as pdm_writer, else as DATABASE_URL\'s user.'),
  PDM_ANALYST_PASSWORD: z.string().optional()
    .describe('Password of the read-only role pdm_analyst; set on the role at each migration run, and the API reads as pdm_analyst with it.'),
});

/** The Postgres streaming follower: what the API, analysts and offline readers read, never the primary. */
export const followerSettings = z.object({
  DATABASE_FOLLOWER_URL: z.string({ error: 'is required: the Postgres follower, postgres://user:password@host:port/db' })
    .describe('The Postgres follower: the API reads it (never the primary), and so do `pdmctl alerts ack` and `pdmctl train --from-postgres`.'),
});

/** Where model versions live. */
export const modelSettings = z.object({
  MODELS_DIR: z.string().default('models').describe('Folder of the model versions, relative to the repository root.'),
});
