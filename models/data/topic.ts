import { partitionCount } from '../../lib/kafka/admin';
import type { KafkaConnection } from '../../lib/kafka/client';
import { openPartitionReader } from '../../lib/kafka/partition-reader';
import { createRegistry } from '../../lib/registry';
import { Serde } from '../../lib/serde';
import { avroType, SCHEMA_FILES, type WindowFeatures } from '../../schemas';
import { ModelError } from '../contract';

/**
 * `pdmctl train --from-topic`: the compacted `pdm.window-features.v1` read from the beginning to
 * its end offsets, partition by partition, read_committed, outside any consumer group (the
 * adapter's partition reader). A compacted topic may still hold several records of a key until
 * the cleaner runs, and a tombstone (null value) deletes a key: the last record of each key wins.
 */
export interface KeyedRecord<T> {
  key: string;
  value: T | null;
}

export function latestPerKey(records: Iterable<KeyedRecord<WindowFeatures>>): WindowFeatures[] {
  const latest = new Map<string, WindowFeatures>();
  for (const r of records) {
    if (r.value === null) latest.delete(r.key);
    else latest.set(r.key, r.value);
  }
  return [...latest.values()];
}

export async function readWindowsFromTopic(connection: KafkaConnection, registryUrl: string, topic: string): Promise<WindowFeatures[]> {
  const partitions = await partitionCount(connection, topic);
  if (partitions === undefined) throw new ModelError('MODEL_DATA', `topic ${topic} does not exist`);
  const decode = new Serde(createRegistry(registryUrl).client).decoder<WindowFeatures>(avroType(SCHEMA_FILES.windowFeatures));
  const reader = await openPartitionReader(connection);
  const records: Array<KeyedRecord<WindowFeatures>> = [];
  try {
    for (let partition = 0; partition < partitions; partition++) {
      await reader.read(topic, partition, async (batch) => {
        for (const r of batch) {
          // The key's bytes identify (machine, window) whatever its schema id: no need to decode it.
          const key = r.key ? r.key.toString('base64') : `${partition}:${r.offset}`;
          records.push({ key, value: r.value ? await decode(r.value) : null });
        }
      });
    }
  } finally {
    await reader.close();
  }
  return latestPerKey(records);
}
