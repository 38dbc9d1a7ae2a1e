import { controlKey } from '../lib/alert-control';
import { PdmError, errorMessage } from '../lib/errors';
import { requireTopics } from '../lib/kafka/admin';
import { kafkaConnectionFromEnv } from '../lib/kafka/client';
import { connectProducer, type RecordPosition } from '../lib/kafka/producer';
import type { Logger } from '../lib/logger';
import { registryProbe } from '../lib/readiness';
import { createRegistry as createSchemaRegistry, registryUrlFromEnv } from '../lib/registry';
import { Serde } from '../lib/serde';
import { TOPICS, keySubject, valueSubject } from '../lib/topics';
import { SCHEMA_FILES, avroType, schemaText, type AlertControl, type MachineControl, type SchemaFile } from '../schemas';
import { producerRules } from './runtime';

/**
 * Operators' requests onto a control topic (pdm.machine-control.v1, pdm.alert-control.v1): one
 * idempotent producer (acks from all in-sync replicas), the topic under PDM_TOPIC_PREFIX, the key
 * a string (machine-id.avsc), the value in its registered Avro schema. Long-lived for a service
 * (the API opens one and publishes each request with it); `publishOnce` for a command.
 */

export type ControlPublisherErrorCode = 'CONTROL_PUBLISH_TIMEOUT';

/** A control topic: its contract name, its value schema, and the key of a record. */
export interface ControlTopic<T> {
  contractName: string;
  valueSchema: SchemaFile;
  keyOf(value: T): string;
}

export const MACHINE_CONTROL: ControlTopic<MachineControl> = {
  contractName: TOPICS.machineControl,
  valueSchema: SCHEMA_FILES.machineControl,
  keyOf: (c) => c.machineId,
};
export const ALERT_CONTROL: ControlTopic<AlertControl> = { contractName: TOPICS.alertControl, valueSchema: SCHEMA_FILES.alertControl, keyOf: controlKey };

export interface ControlPublisher<T> {
  /** The topic written, prefix included. */
  readonly topic: string;
  /** Sends one record; resolves with where it landed once the in-sync replicas have it. */
  publish(value: T): Promise<RecordPosition>;
  close(): Promise<void>;
}

export interface ControlPublisherOptions {
  /** KAFKA_BROKERS (and SASL/TLS), SCHEMA_REGISTRY_URL, PDM_TOPIC_PREFIX. */
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Kafka client id; default `pdm-control`. */
  clientId?: string;
  /**
   * Longest wait for the broker's acknowledgement of one record; unset, a publish waits out a
   * broker outage however long. A publish that times out rejects with CONTROL_PUBLISH_TIMEOUT, and
   * the record may still land (the producer keeps trying, without duplicating it).
   */
  publishTimeoutMs?: number;
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number | undefined, topic: string): Promise<T> {
  if (timeoutMs === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const message = `Kafka did not acknowledge the request on ${topic} within ${timeoutMs} ms; it may still be written`;
      reject(new PdmError<ControlPublisherErrorCode>('CONTROL_PUBLISH_TIMEOUT', message));
    }, timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Connects to Kafka (an absent broker is named), checks the topic exists (TOPIC_MISSING says to
 * run `pdmctl topics`) and the registry answers, and looks up the schemas' ids: each failure says
 * which server did not answer and what to run.
 */
export async function openControlPublisher<T>(control: ControlTopic<T>, options: ControlPublisherOptions): Promise<ControlPublisher<T>> {
  const { prefix } = producerRules(options.env);
  const topic = `${prefix}${control.contractName}`;
  const connection = kafkaConnectionFromEnv(options.clientId ?? 'pdm-control', options.env);
  const registryUrl = registryUrlFromEnv(options.env);
  const log = options.logger.child({ component: 'control-publisher', topic });
  const producer = await connectProducer(connection, { logger: options.logger });
  try {
    await requireTopics(connection, [topic]);
    await registryProbe(registryUrl)
      .check()
      .catch((cause: unknown) => {
        const message = `the schema registry at ${registryUrl} does not answer (${errorMessage(cause)}); for the local stack run \`npx pdmctl stack up\``;
        throw new PdmError('REGISTRY', message, { cause });
      });
    const serde = new Serde(createSchemaRegistry(registryUrl).client);
    const [encodeKey, encodeValue] = await Promise.all([
      serde.encoder<string>(keySubject(topic), avroType(SCHEMA_FILES.machineId), schemaText(SCHEMA_FILES.machineId)),
      serde.encoder<T>(valueSubject(topic), avroType(control.valueSchema), schemaText(control.valueSchema)),
    ]);
    return {
      topic,
      async publish(value) {
        const record = { key: encodeKey(control.keyOf(value)), value: encodeValue(value) };
        const position = await withTimeout(producer.sendRecord(topic, record), options.publishTimeoutMs, topic);
        log.info({ partition: position.partition, offset: position.offset, key: control.keyOf(value) }, 'control request written');
        return position;
      },
      close: () => producer.disconnect(),
    };
  } catch (err) {
    await producer.disconnect();
    throw err;
  }
}

/** The alert control publisher (acknowledgements, silences): what the API and `pdmctl alerts` write with. */
export function openAlertControlPublisher(options: ControlPublisherOptions): Promise<ControlPublisher<AlertControl>> {
  return openControlPublisher(ALERT_CONTROL, options);
}

/** One record, then the producer closes: a command's request. Returns where it landed. */
export async function publishOnce<T>(control: ControlTopic<T>, value: T, options: ControlPublisherOptions): Promise<RecordPosition> {
  const publisher = await openControlPublisher(control, options);
  try {
    return await publisher.publish(value);
  } finally {
    await publisher.close();
  }
}
