import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DLQ_HEADERS } from '../../lib/dead-letter';
import { createLogger } from '../../lib/logger';
import { createRegistry as createMetrics } from '../../lib/metrics';
import { createRegistry } from '../../lib/registry';
import { Serde } from '../../lib/serde';
import { TOPICS } from '../../lib/topics';
import { runSimulation } from '../../producers/simulate/simulate.job';
import { openReadingsOutput } from '../../producers/runtime';
import { avroType, type SensorReading } from '../../schemas';
import { consumeAll } from './consume';
import { testEnv, useIsolatedTopics } from './servers';

describe('pdmctl simulate into a real broker', () => {
  const env = testEnv();
  const { prefix } = useIsolatedTopics('sim');

  test('20 machines with faults land as Avro readings keyed by machine id, decodable by a Confluent client, nothing lost', async () => {
    const truthFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sim-')), 'truth.jsonl');
    const output = await openReadingsOutput({ stage: 'simulate', env: { ...process.env, PDM_TOPIC_PREFIX: prefix }, logger: createLogger({ level: 'silent' }), metrics: createMetrics('test', false) });
    const toMs = Date.UTC(2026, 10, 2, 8); // a Monday morning: shifts start within the run
    const summary = await runSimulation(
      { machines: 20, intervalMs: 10_000, fromMs: toMs - 6 * 3_600_000, toMs, speed: 'max', scenario: 'mixed', seed: 7, faultyFraction: 0.3, truthFile },
      { output: output.readings, logger: createLogger({ level: 'silent' }) },
    );
    await output.close();

    // 20 machines × 6 h at 10 s, give or take duplicates, downtime and late arrivals
    expect(summary.readings).toBeGreaterThan(20 * 2160 * 0.9);
    expect(summary.refused).toBe(0);

    const records = await consumeAll(env.kafkaBrokers, `${prefix}${TOPICS.readings}`, { expected: summary.readings });
    expect(records).toHaveLength(summary.readings);

    // Decoded by the Confluent client itself, as another team's consumer would.
    const confluent = createRegistry(env.registryUrl).client;
    const machines = new Set<string>();
    for (const record of records.filter((_, i) => i % 97 === 0)) {
      const key = (await confluent.decode(record.key!)) as string;
      const value = (await confluent.decode(record.value!)) as SensorReading;
      expect(value.machineId).toBe(key);
      machines.add(key);
    }
    expect(machines.size).toBe(20);

    // The ground truth names the injected machine faults; 30 % of 20 machines.
    const truth = fs.readFileSync(truthFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { category: string; kind: string; onset: string });
    expect(truth.filter((t) => t.category === 'machine')).toHaveLength(6);

    // Our own decoder agrees with the Confluent one on every record of one partition.
    const decode = new Serde(confluent).decoder<SensorReading>(avroType('sensor-reading.avsc'));
    for (const record of records.filter((r) => r.partition === 0).slice(0, 500)) expect(await decode(record.value!)).toEqual(await confluent.decode(record.value!));
  });

  test('a reading that fails validation goes to the dead-letter topic with its reason; the rest still land', async () => {
    const output = await openReadingsOutput({ stage: 'simulate', env: { ...process.env, PDM_TOPIC_PREFIX: prefix, PDM_MACHINE_ALLOWLIST: 'lathe-*' }, logger: createLogger({ level: 'silent' }), metrics: createMetrics('test', false) });
    const good = { machineId: 'lathe-9', timestamp: Date.UTC(2026, 0, 1), current: 1, accX: 0.1, accY: 0.1, accZ: 0.1, tempA: 30, tempB: 30 };
    expect(await output.readings.add(good, { description: 'test' }, () => JSON.stringify(good))).toBe(true);
    const bad = { ...good, machineId: 'pump-1' };
    expect(await output.readings.add(bad, { description: 'test:pump' }, () => JSON.stringify(bad))).toBe(false);
    await output.close();
    const letters = await consumeAll(env.kafkaBrokers, `${prefix}${TOPICS.deadLetter}`, { expected: 1 });
    expect(letters).toHaveLength(1);
    expect(JSON.parse(letters[0]!.value!.toString())).toEqual(bad);
    expect(letters[0]!.headers).toMatchObject({ [DLQ_HEADERS.code]: 'machine_not_allowed', [DLQ_HEADERS.stage]: 'simulate', [DLQ_HEADERS.source]: 'test:pump' });
  });
});
