import { connectProducer } from '../../lib/kafka/producer';
import type { KafkaConnection } from '../../lib/kafka/client';
import { createRegistry } from '../../lib/registry';
import { Serde } from '../../lib/serde';
import { keySubject, valueSubject } from '../../lib/topics';
import { avroType, SCHEMA_FILES, schemaText, type WindowFeatures } from '../../schemas';
import { simulateWindows } from '../../models/data/simulated';

/**
 * Window features on a test's own pdm.window-features.v1, as the window processor writes them:
 * for `pdmctl train --from-topic` and `pdmctl run retrain`, which read that topic to its end.
 */

/** Hourly windows of `machines` simulated machines over `days` from Monday 2026-01-05, readings every minute, no faults. */
export function simulatedHourlyWindows(options: { machines: number; days: number; seed: number }): WindowFeatures[] {
  const fromMs = Date.UTC(2026, 0, 5);
  const toMs = fromMs + options.days * 86_400_000;
  const simulation = { machines: options.machines, intervalMs: 60_000, fromMs, toMs, scenario: 'normal', seed: options.seed, faultyFraction: 0 };
  return simulateWindows(simulation, { sizeMs: 3_600_000, graceMs: 300_000 }).windows;
}

/** Writes windows in order (Avro, Confluent wire format, keyed by machine and window start), as one batch. */
export async function writeWindowFeatures(
  connection: KafkaConnection,
  registryUrl: string,
  topic: string,
  windows: readonly WindowFeatures[],
): Promise<void> {
  const serde = new Serde(createRegistry(registryUrl).client);
  const keySchema = SCHEMA_FILES.windowKey;
  const encodeKey = await serde.encoder<{ machineId: string; windowStart: number }>(keySubject(topic), avroType(keySchema), schemaText(keySchema));
  const encodeValue = await serde.encoder<WindowFeatures>(valueSubject(topic), avroType(SCHEMA_FILES.windowFeatures), schemaText(SCHEMA_FILES.windowFeatures));
  const records = windows.map((w) => ({ key: encodeKey({ machineId: w.machineId, windowStart: w.windowStart }), value: encodeValue(w) }));
  const producer = await connectProducer(connection);
  try {
    await producer.send([{ topic, records }]);
  } finally {
    await producer.disconnect();
  }
}
