import { deleteTopics, ensureTopics } from '../lib/kafka/admin';
import { kafkaConnectionFromEnv } from '../lib/kafka/client';
import type { Compression } from '../lib/kafka/compression';
import { createLogger } from '../lib/logger';
import { createRegistry as createMetrics } from '../lib/metrics';
import { createRegistry, registerTopicSchemas, registryUrlFromEnv } from '../lib/registry';
import { frame } from '../lib/serde';
import { topicSpecs } from '../lib/topics';
import { buildFleet, planFaults } from '../producers/simulate/fleet';
import { Random } from '../producers/simulate/random';
import { openReadingsOutput } from '../producers/runtime';
import { simulate, type RawReading } from '../producers/simulate/simulator';
import { avroType } from '../schemas';

/**
 * `pdmctl bench produce`: readings per second into the broker through the real path (validation,
 * Avro serde with registry ids, batching, zstd, idempotent acks=all), next to the serde alone, so
 * the figure says where the time goes.
 */
export interface ProduceBenchOptions {
  records: number;
  machines: number;
  compression: Compression;
  batchSize: number;
}

/** Readings of a simulated fleet (two faults on 30 % of machines), `limit` of them, ending now. */
export function* simulatedReadings(machines: number, limit: number): Generator<RawReading> {
  const random = new Random(42);
  const fleet = buildFleet(machines, random.fork());
  const toMs = Date.now();
  // Downtime after failures sends nothing, so the range is a little longer than the count needs.
  const fromMs = toMs - Math.ceil((limit / machines) * 1.3 + 10) * 2000;
  const faults = planFaults(fleet, { fromMs, toMs, kinds: ['bearing-wear', 'overheating'], faultyFraction: 0.3 }, random.fork());
  let produced = 0;
  for (const tick of simulate({ machines: fleet, faults, fromMs, toMs, intervalMs: 2000, seed: 42 })) {
    for (const reading of tick.readings) {
      if (produced++ >= limit) return;
      yield reading;
    }
  }
}

export async function produceBench(options: ProduceBenchOptions, env: NodeJS.ProcessEnv, print: (line: string) => void): Promise<void> {
  const prefix = `bench-${Date.now()}.`;
  const specs = topicSpecs({ prefix });
  const connection = kafkaConnectionFromEnv('pdm-bench', env);
  const registry = createRegistry(registryUrlFromEnv(env));
  await ensureTopics(connection, specs);
  await registerTopicSchemas(registry, specs);
  print(`bench produce: ${options.records.toLocaleString('en')} readings of ${options.machines} simulated machines, ${options.compression}, batches of ${options.batchSize}, into ${specs[0]!.partitions} partitions on ${connection.brokers.join(',')}`);
  try {
    // 1. The serde alone: Avro encoding and framing, no broker.
    const sample = [...simulatedReadings(options.machines, Math.min(options.records, 200_000))];
    const type = avroType('sensor-reading.avsc');
    let bytes = 0;
    let t0 = performance.now();
    for (const r of sample) bytes += frame(1, type.toBuffer(r)).length;
    const serdeSeconds = (performance.now() - t0) / 1000;
    print(`  serde only        ${Math.round(sample.length / serdeSeconds).toLocaleString('en').padStart(12)} readings/s   (${(bytes / sample.length).toFixed(1)} bytes per value)`);

    // 2. The whole producer path, as every producer opens it, on the bench's own topics and
    // with no allow-list of the caller's to refuse the simulated machines.
    const { readings: output, close } = await openReadingsOutput({
      stage: 'bench',
      env: { ...env, PDM_TOPIC_PREFIX: prefix, PDM_MACHINE_ALLOWLIST: '' },
      logger: createLogger({ level: 'silent' }),
      metrics: createMetrics('bench', false),
      batchSize: options.batchSize,
      compression: options.compression,
    });
    const rssBefore = process.memoryUsage().rss;
    t0 = performance.now();
    let n = 0;
    for (const r of simulatedReadings(options.machines, options.records)) {
      await output.add(r, { description: 'bench' }, () => JSON.stringify(r));
      n++;
    }
    await output.flush();
    const seconds = (performance.now() - t0) / 1000;
    await close();
    print(`  produce (acks=all) ${Math.round(n / seconds).toLocaleString('en').padStart(11)} readings/s   (${n.toLocaleString('en')} in ${seconds.toFixed(1)} s; ${output.counts.produced.toLocaleString('en')} acknowledged)`);
    print(`  memory             rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB (was ${(rssBefore / 2 ** 20).toFixed(0)} MiB before producing)`);
  } finally {
    await deleteTopics(connection, specs.map((s) => s.name));
  }
}
