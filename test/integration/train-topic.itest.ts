import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../lib/paths';
import { TOPICS } from '../../lib/topics';
import type { WindowFeatures } from '../../schemas';
import { loadModelFolder } from '../../models/contract';
import { testEnv, useIsolatedTopics } from './servers';
import { simulatedHourlyWindows, writeWindowFeatures } from './window-topic';

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
    windows = simulatedHourlyWindows({ machines: 3, days: 10, seed: 11 });
    // A stale first version of ten windows, then every final window: the last record of a key wins.
    const stale = windows.slice(0, 10).map((w) => ({ ...w, count: 1 }));
    await writeWindowFeatures(connection, env.registryUrl, `${prefix}${TOPICS.windowFeatures}`, [...stale, ...windows]);
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
