import type { KafkaConnection } from '../../lib/kafka/client';
import { connectProducer } from '../../lib/kafka/producer';
import { createRegistry } from '../../lib/registry';
import { Serde } from '../../lib/serde';
import { keySubject, valueSubject } from '../../lib/topics';
import { SCHEMA_FILES, avroType, schemaText, type AlertEvent } from '../../schemas';

/** Alerts on a test's own pdm.alerts.v1, as the inference processor writes them: Avro in the Confluent wire format, keyed by machine id. */
export interface AlertsWriter {
  write(alert: AlertEvent): Promise<void>;
  close(): Promise<void>;
}

export async function openAlertsWriter(connection: KafkaConnection, registryUrl: string, topic: string): Promise<AlertsWriter> {
  const serde = new Serde(createRegistry(registryUrl).client);
  const [encodeKey, encodeValue] = await Promise.all([
    serde.encoder<string>(keySubject(topic), avroType(SCHEMA_FILES.machineId), schemaText(SCHEMA_FILES.machineId)),
    serde.encoder<AlertEvent>(valueSubject(topic), avroType(SCHEMA_FILES.alertEvent), schemaText(SCHEMA_FILES.alertEvent)),
  ]);
  const producer = await connectProducer(connection);
  return {
    write: (alert) => producer.send([{ topic, records: [{ key: encodeKey(alert.machineId), value: encodeValue(alert) }] }]),
    close: () => producer.disconnect(),
  };
}
