import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createLogger } from '../../lib/logger';
import { createRegistry as createMetrics } from '../../lib/metrics';
import { repoRoot } from '../../lib/paths';
import { TOPICS } from '../../lib/topics';
import { planSimulation, runSimulation, type SimulateOptions } from '../../producers/simulate/simulate.job';
import { simulate } from '../../producers/simulate/simulator';
import { openReadingsOutput } from '../../producers/runtime';
import { testEnv, useIsolatedTopics } from './servers';

/**
 * Other teams read our topics with their own clients. Confluent's Python client (librdkafka and
 * its own Avro deserializer, from PyPI) must read what we write, zstd batches and all.
 */
const venv = path.join(process.env.PDM_STATE_DIR ?? path.join(repoRoot, '.pdm'), 'interop-venv');
const python = path.join(venv, 'bin', 'python');

function ensurePythonClient(): void {
  if (fs.existsSync(python) && spawnSync(python, ['-c', 'import confluent_kafka.schema_registry.avro'], { stdio: 'ignore' }).status === 0) return;
  execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  execFileSync(python, ['-m', 'pip', 'install', '-q', 'confluent-kafka[avro,schemaregistry]==2.16.0'], { stdio: 'inherit' });
}

describe("another team's client", () => {
  const env = testEnv();
  const { prefix } = useIsolatedTopics('interop');
  beforeAll(ensurePythonClient, 300_000);

  test("Confluent's Python consumer decodes every simulated reading with the registered schemas, a pump's extra channels included", async () => {
    const output = await openReadingsOutput({ stage: 'simulate', env: { ...process.env, PDM_TOPIC_PREFIX: prefix }, logger: createLogger({ level: 'silent' }), metrics: createMetrics('test', false) });
    const toMs = Date.UTC(2026, 10, 3, 12);
    const options: SimulateOptions = { machines: 4, intervalMs: 10_000, fromMs: toMs - 3_600_000, toMs, speed: 'max', scenario: 'normal', seed: 5, faultyFraction: 0 };
    const summary = await runSimulation(options, { output: output.readings, logger: createLogger({ level: 'silent' }) });
    await output.close();

    const run = spawnSync(python, [path.join(repoRoot, 'test', 'interop', 'confluent_consume.py'), env.kafkaBrokers.join(','), env.registryUrl, `${prefix}${TOPICS.readings}`, String(summary.readings)], { encoding: 'utf8', timeout: 180_000 });
    expect(run.stderr).toBe('');
    type Decoded = Record<string, number | string | null | Record<string, number | null>>;
    const result = JSON.parse(run.stdout) as { count: number; machines: string[]; first: Decoded; withExtras: Decoded | null; errors: string[] };
    expect(result.errors).toEqual([]);
    expect(result.count).toBe(summary.readings);
    expect(result.machines).toEqual(['cnc-mill-5-axis', 'lathe-1-spindle', 'pump-04', 'robot-arm-02']);
    expect(Object.keys(result.first)).toEqual(['machineId', 'timestamp', 'current', 'accX', 'accY', 'accZ', 'tempA', 'tempB', 'extras']);
    expect(result.first.timestamp).toBeGreaterThanOrEqual(toMs - 3_600_000);
    // The pump's two extras come out of AvroDeserializer as a dict, with the values the simulator produced.
    expect(result.withExtras).toMatchObject({ machineId: 'pump-04', extras: { pressure: expect.any(Number), flow: expect.any(Number) } });
    const plan = planSimulation(options);
    const sent = [...simulate({ ...plan, fromMs: options.fromMs, toMs, intervalMs: options.intervalMs, seed: options.seed })].flatMap((t) => t.readings);
    const same = sent.find((r) => r.machineId === 'pump-04' && r.timestamp === result.withExtras!.timestamp);
    expect(result.withExtras!.extras).toEqual(same!.extras);
  });
});
