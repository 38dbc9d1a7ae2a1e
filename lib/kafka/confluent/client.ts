import type { Logger } from '../../logger';
import { PdmError, errorMessage } from '../../errors';
import type { KafkaConnection } from '../client';
import type { TopicBatch } from '../producer';

/**
 * @confluentinc/kafka-javascript (librdkafka) behind lib/kafka/, chosen with PDM_KAFKA_CLIENT=confluent.
 * It is an optional dependency: its install builds librdkafka from source here (its prebuilt
 * binaries are on GitHub, out of reach), which needs Node's headers and Debian's libzstd-dev
 * (docs/topics.md). So nothing imports it at load time, and the few shapes used are declared below
 * rather than taken from its types, which a clone without the build does not have.
 */

/** Message as the promisified (KafkaJS-like) API hands it over. */
export interface ConfluentMessage {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
  timestamp: string;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

export interface ConfluentBatchPayload {
  batch: { topic: string; partition: number; highWatermark: string; messages: ConfluentMessage[]; lastOffset(): string };
  resolveOffset(offset: string): void;
  isRunning(): boolean;
  isStale(): boolean;
}

export interface ConfluentConsumer {
  connect(): Promise<void>;
  subscribe(subscription: { topics: string[] }): Promise<void>;
  run(config: { eachBatch(payload: ConfluentBatchPayload): Promise<void>; eachBatchAutoResolve?: boolean; partitionsConsumedConcurrently?: number }): Promise<void>;
  commitOffsets(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ConfluentTopicMessages {
  topic: string;
  messages: Array<{ key: Buffer | null; value: Buffer | null; headers?: Record<string, string>; partition?: number }>;
}

export interface ConfluentProducer {
  connect(): Promise<void>;
  sendBatch(request: { topicMessages: ConfluentTopicMessages[] }): Promise<Array<{ topicName: string; partition: number; baseOffset?: string; offset?: string }>>;
  transaction(): Promise<ConfluentProducer>;
  sendOffsets(request: { consumer: ConfluentConsumer; topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }> }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ConfluentAdmin {
  connect(): Promise<void>;
  fetchTopicOffsets(topic: string, options?: { isolationLevel?: number }): Promise<Array<{ partition: number; offset: string; high: string; low: string }>>;
  disconnect(): Promise<void>;
}

/** librdkafka settings (the "outer" config of the promisified API) besides `kafkaJS`. */
export type RdkafkaConfig = Record<string, string | number | boolean | ((...args: never[]) => unknown)>;

/** The promisified API's configuration: its KafkaJS-style block, and librdkafka settings beside it. */
export type ConfluentConfig = { [name: string]: RdkafkaConfig[string] | Record<string, unknown> | undefined; kafkaJS?: Record<string, unknown> };

export interface ConfluentKafka {
  producer(config: ConfluentConfig): ConfluentProducer;
  consumer(config: ConfluentConfig): ConfluentConsumer;
  admin(): ConfluentAdmin;
}

/** The callback API's consumer (node-rdkafka's), the one with `assign()`. */
export interface RdkafkaConsumer {
  connect(options: object, callback: (err: Error | null) => void): void;
  assign(assignments: Array<{ topic: string; partition: number; offset: number }>): void;
  consume(count: number, callback: (err: Error | null, messages: RdkafkaMessage[]) => void): void;
  on(event: 'partition.eof', listener: (eof: { topic: string; partition: number; offset: number }) => void): void;
  setDefaultConsumeTimeout(timeoutMs: number): void;
  setDefaultIsTimeoutOnlyForFirstMessage(onlyFirst: boolean): void;
  disconnect(callback: () => void): void;
}

export interface RdkafkaMessage {
  topic: string;
  partition: number;
  offset: number;
  key?: Buffer | string | null;
  value: Buffer | null;
  timestamp?: number;
  headers?: Array<Record<string, Buffer | string>>;
}

interface ConfluentModule {
  KafkaJS: {
    Kafka: new (config: ConfluentConfig) => ConfluentKafka;
    logLevel: Record<'NOTHING' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG', number>;
    IsolationLevel: { READ_COMMITTED: number };
  };
  KafkaConsumer: new (config: RdkafkaConfig, topicConfig: RdkafkaConfig) => RdkafkaConsumer;
}

let loaded: ConfluentModule | undefined;

/** The library, loaded on first use; a clear error when it is not installed. */
export function confluentModule(): ConfluentModule {
  if (loaded) return loaded;
  try {
    loaded = require('@confluentinc/kafka-javascript') as ConfluentModule;
  } catch (cause) {
    throw new PdmError(
      'KAFKA_CLIENT_MISSING',
      `PDM_KAFKA_CLIENT=confluent, but @confluentinc/kafka-javascript does not load (${errorMessage(cause)}); ` +
        'build it with scripts/install-confluent-kafka.sh (docs/topics.md), or unset PDM_KAFKA_CLIENT',
      { cause },
    );
  }
  return loaded;
}

/** Connection settings in librdkafka's words (for the callback API). */
export function rdkafkaConnection(connection: KafkaConnection): RdkafkaConfig {
  const config: RdkafkaConfig = { 'bootstrap.servers': connection.brokers.join(','), 'client.id': connection.clientId };
  const protocol = `${connection.sasl ? 'sasl_' : ''}${connection.ssl ? 'ssl' : 'plaintext'}`;
  config['security.protocol'] = protocol;
  if (connection.sasl) {
    config['sasl.mechanisms'] = connection.sasl.mechanism.toUpperCase();
    config['sasl.username'] = connection.sasl.username;
    config['sasl.password'] = connection.sasl.password;
  }
  return config;
}

/** A client of the promisified API; librdkafka's log lines go to `logger` one level lower, as kafkajs's do (client.ts). */
export function createConfluentKafka(connection: KafkaConnection, logger?: Logger): ConfluentKafka {
  const { KafkaJS } = confluentModule();
  const log = logger?.child({ component: 'librdkafka' });
  const kafkaJS: Record<string, unknown> = { logLevel: log ? KafkaJS.logLevel.WARN : KafkaJS.logLevel.NOTHING };
  if (log) {
    const entry = (level: 'info' | 'debug' | 'trace') => (message: string, extra?: object) => log[level]({ ...extra }, message);
    kafkaJS.logger = {
      error: entry('info'),
      warn: entry('debug'),
      info: entry('trace'),
      debug: entry('trace'),
      namespace: () => kafkaJS.logger,
      setLogLevel: () => undefined,
    };
  }
  return new KafkaJS.Kafka({ kafkaJS, ...rdkafkaConnection(connection) });
}

/** The batches as the promisified API's `sendBatch` takes them, leaving out empty ones. */
export const toConfluentMessages = (outputs: readonly TopicBatch[]): ConfluentTopicMessages[] =>
  outputs
    .filter((b) => b.records.length > 0)
    .map((b) => ({ topic: b.topic, messages: b.records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, partition: r.partition })) }));
