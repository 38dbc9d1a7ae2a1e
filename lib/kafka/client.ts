import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from '../logger';
import { parseEnv } from '../config';
import { kafkaSettings } from '../shared.settings';
import { registerZstd } from './compression';
import { PdmError } from '../errors';

/**
 * The Kafka adapter: the only place that imports kafkajs or @confluentinc/kafka-javascript (ESLint
 * enforces it). Everything else speaks to Kafka through the functions of lib/kafka/, so the client
 * library can be replaced in one folder; PDM_KAFKA_CLIENT picks one (confluent/ holds the other).
 */

export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  ssl?: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

/** Connection settings from CONTRACT.md's environment: KAFKA_BROKERS plus optional SASL/TLS. */
export function kafkaConnectionFromEnv(clientId: string, env: NodeJS.ProcessEnv = process.env, fallbackBrokers?: string): KafkaConnection {
  const settings = parseEnv(kafkaSettings, env);
  const brokers = (settings.KAFKA_BROKERS ?? fallbackBrokers ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new PdmError('CONFIG_INVALID', 'KAFKA_BROKERS is not set (run `eval "$(npx pdmctl stack env)"` for the local stack)');
  const connection: KafkaConnection = { brokers, clientId, ssl: settings.KAFKA_SSL === 'true' };
  if (settings.KAFKA_SASL_MECHANISM) {
    connection.sasl = {
      mechanism: settings.KAFKA_SASL_MECHANISM as 'plain',
      username: settings.KAFKA_SASL_USERNAME ?? '',
      password: settings.KAFKA_SASL_PASSWORD ?? '',
    };
  }
  return connection;
}

export type KafkaClientName = 'kafkajs' | 'confluent';

/** The client library behind lib/kafka/ (PDM_KAFKA_CLIENT): kafkajs unless told otherwise. */
export const kafkaClientName = (env: NodeJS.ProcessEnv = process.env): KafkaClientName => parseEnv(kafkaSettings, env).PDM_KAFKA_CLIENT;

// kafkajs logs every retried request at ERROR ("The coordinator is loading", a leader moving):
// routine on a healthy cluster. Failures that matter reach us as errors thrown from its API, which
// we log ourselves, so its entries are logged one level lower, and only from PDM_KAFKA_LOG_LEVEL
// (default error, i.e. nothing) upwards.
const levels: Record<number, 'warn' | 'info' | 'debug' | 'trace'> = {
  [logLevel.ERROR]: 'warn',
  [logLevel.WARN]: 'info',
  [logLevel.INFO]: 'debug',
  [logLevel.DEBUG]: 'trace',
};

export function createKafka(connection: KafkaConnection, options: { logger?: Logger; connectionTimeoutMs?: number; retries?: number; maxRetryTimeMs?: number } = {}): Kafka {
  // Every client we make writes and reads zstd batches.
  registerZstd();
  const config: KafkaConfig = {
    clientId: connection.clientId,
    brokers: connection.brokers,
    ssl: connection.ssl,
    sasl: connection.sasl as SASLOptions | undefined,
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    retry: { retries: options.retries ?? 5, ...(options.maxRetryTimeMs !== undefined ? { maxRetryTime: options.maxRetryTimeMs } : {}) },
    logLevel: options.logger ? logLevel.INFO : logLevel.NOTHING,
  };
  const logger = options.logger?.child({ component: 'kafkajs' }, { level: parseEnv(kafkaSettings).PDM_KAFKA_LOG_LEVEL });
  if (logger) {
    config.logCreator = () => (entry: LogEntry) => {
      const { message, ...rest } = entry.log;
      logger[levels[entry.level] ?? 'info']({ namespace: entry.namespace, ...rest }, message);
    };
  }
  return new Kafka(config);
}
