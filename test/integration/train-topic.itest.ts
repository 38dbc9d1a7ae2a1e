import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectProducer } from '../../lib/kafka/producer';
import { repoRoot } from '../../lib/paths';
import { createRegistry } from '../../lib/registry';
import { Serde } from '../../lib/serde';
import { TOPICS, keySubject, valueSubject } from '../../lib/topics';
import { avroType, SCHEMA_FILES, schemaText, type WindowFeatures } from '../../schemas';
import { loadModelFolder } from '../../models/contract';
import { simulateWindows } from '../../models/data/simulated';
import { testEnv, useIsolatedTopics } from './servers';

/**
 * `pdmctl train --from-topic` against the real broker and registry: window features on an
 * isolated pdm.window-features.v1 (Avro, Confluent wire format, one record per machine and window,
 * plus an older duplicate of some windows that compaction would remove) are read to the end and
 * trained on.
 */
describe('pdmctl train --from-topic', () => {
  const env = testEnv();
  const { prefix, connection } = useIsolatedTopics('train-topic', 2);
  const modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-models-'));
  let windows: WindowFeatures[] = [];

  beforeAll(async () => {
    const fromMs = Date.UTC(2026, 0, 5);
    windows = simulateWindows({ machines: 3, intervalMs: 60_000, fromMs, toMs: fromMs + 10 * 86_400_000, scenario: 'normal', seed: 11, faultyFraction: 0 }, { sizeMs: 3_600_000, graceMs: 300_000 }).windows;
    const topic = `${prefix}${TOPICS.windowFeatures}`;
    const serde = new Serde(createRegistry(env.registryUrl).client);
    const encodeKey = await serde.encoder<{ machineId: string; windowStart: number }>(keySubject(topic), avroType(SCHEMA_FILES.windowKey), schemaText(SCHEMA_FILES.windowKey));
    const encodeValue = await serde.encoder<WindowFeatures>(valueSubject(topic), avroType(SCHEMA_FILES.windowFeatures), schemaText(SCHEMA_FILES.windowFeatures));
    const producer = await connectProducer(connection);
    // A stale first version of ten windows, then every final window: the last record of a key wins.
    const stale = windows.slice(0, 10).map((w) => ({ ...w, count: 1 }));
    const records = [...stale, ...windows].map((w) => ({ key: encodeKey({ machineId: w.machineId, windowStart: w.windowStart }), value: encodeValue(w) }));
    await producer.send([{ topic, records }]);
    await producer.disconnect();
  });

  afterAll(() => fs.rmSync(modelsDir, { recursive: true, force: true }));

  test('reads every window once, the latest of each key, and trains both kinds on them', () => {
    const result = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'pdmctl.js'), 'train', '--from-topic', '--lookback', '48', '--period', '24', '--horizon', '3'], {
      encoding: 'utf8',
      env: { ...process.env, MODELS_DIR: modelsDir, PDM_TOPIC_PREFIX: prefix },
      timeout: 170_000,
    });
    expect(result.stderr).toContain(`${windows.length.toLocaleString('en')} windows of 3 machines from topic ${prefix}${TOPICS.windowFeatures}`);
    expect(result.status).toBe(0);
    const { manifest } = loadModelFolder(path.join(modelsDir, 'pdm-forecaster', 'v1'));
    expect(manifest.trainingData.windows).toBe(windows.length);
    expect(fs.existsSync(path.join(modelsDir, 'pdm-anomaly', 'v1', 'model.onnx'))).toBe(true);
  });
});
