import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../lib/paths';
import { TOPICS } from '../../lib/topics';
import { currentVersion, history } from '../../models/store';
import type { ModelOutcome } from '../../models/retrain.outcome';
import { killServices, startService, testEnv, useIsolatedTopics, waitFor } from './servers';
import { simulatedHourlyWindows, writeWindowFeatures } from './window-topic';

/**
 * `pdmctl run retrain` against the real broker and registry: two weeks of hourly windows of two
 * simulated machines on an isolated window topic, the shipped models in a temporary MODELS_DIR,
 * and one retraining cycle a second after the start. Promoted or kept, the log line, the counter
 * and the model store must tell the same story; a topic has no truth, so the detector is written
 * and not promoted.
 */
describe('pdmctl run retrain', () => {
  const env = testEnv();
  const { prefix, connection } = useIsolatedTopics('retrain', 1);
  const modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-retrain-models-'));
  const MODELS = ['pdm-forecaster', 'pdm-anomaly'];
  let windows = 0;

  beforeAll(async () => {
    for (const name of MODELS) fs.cpSync(path.join(repoRoot, 'models', name), path.join(modelsDir, name), { recursive: true });
    // Two weeks: the shipped forecaster looks back a week, and its validation split needs the second one.
    const features = simulatedHourlyWindows({ machines: 2, days: 14, seed: 21 });
    windows = features.length;
    await writeWindowFeatures(connection, env.registryUrl, `${prefix}${TOPICS.windowFeatures}`, features);
  });

  afterAll(() => {
    killServices();
    fs.rmSync(modelsDir, { recursive: true, force: true });
  });

  test('one cycle: the outcome of each model is logged, counted and matches current and promotions.jsonl', async () => {
    const before = Object.fromEntries(MODELS.map((name) => [name, { current: currentVersion(modelsDir, name), promotions: history(modelsDir, name).length }]));
    const service = startService(['run', 'retrain', '--metrics-port', '0'], {
      ...process.env,
      MODELS_DIR: modelsDir,
      PDM_TOPIC_PREFIX: prefix,
      PDM_RETRAIN_EVERY: '1s',
      PDM_RETRAIN_MIN_WINDOWS: '100',
    });
    const port = await service.metricsPort(30_000);
    await waitFor('the first retraining run to be logged', () => service.output().includes('"event":"retrain"') || service.child.exitCode !== null, 50_000);
    const line = service
      .output()
      .split('\n')
      .filter((l) => l.includes('"event":"retrain"'))
      .map((l) => JSON.parse(l) as { status: string; windows: number; machines: number; models: ModelOutcome[]; msg: string; error?: string })[0];
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);

    expect(line).toMatchObject({ status: 'trained', windows, machines: 2 });
    expect(line!.models.map((m) => m.model)).toEqual(MODELS);
    const [forecaster, detector] = line!.models as [ModelOutcome, ModelOutcome];
    expect(['promoted', 'kept']).toContain(forecaster.outcome);
    expect(forecaster.candidateScore).toMatchObject({ metric: 'scaledMae' });
    expect(forecaster.currentScore).toMatchObject({ metric: 'scaledMae' });
    expect(detector.outcome).toBe('not_promoted_no_truth');
    expect(line!.msg).toContain('a detector is promoted automatically only with ground truth');

    for (const m of line!.models) {
      expect(metrics).toMatch(new RegExp(`pdm_model_retrain_runs_total\\{model="${m.model}",outcome="${m.outcome}",service="retrain"\\} 1\\n`));
      // The new version was written beside the shipped ones, whatever became of it.
      expect(fs.existsSync(path.join(modelsDir, m.model, m.version, 'model.onnx'))).toBe(true);
      expect(m.previous).toBe(before[m.model]!.current);
      const promotions = history(modelsDir, m.model);
      if (m.outcome === 'promoted') {
        expect(currentVersion(modelsDir, m.model)).toBe(m.version);
        expect(promotions).toHaveLength(before[m.model]!.promotions + 1);
        expect(promotions.at(-1)).toMatchObject({ version: m.version, previous: m.previous, action: 'promote', reason: expect.stringMatching(/^retrain: /) });
      } else {
        expect(currentVersion(modelsDir, m.model)).toBe(m.previous);
        expect(promotions).toHaveLength(before[m.model]!.promotions);
      }
    }
    expect(metrics).toMatch(/pdm_model_retrain_duration_seconds_count\{service="retrain"\} 1\n/);
    expect(metrics).toMatch(/pdm_model_retrain_last_run_timestamp_seconds\{service="retrain"\} \d+/);
    expect(health.status).toBe(200);
  });
});
