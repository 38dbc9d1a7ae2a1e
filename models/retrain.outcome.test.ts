import { Registry } from '../lib/metrics';
import type { ValidationScore } from './promotion';
import { recordRun, retrainMetrics } from './retrain.metrics';
import { decidePromotion, describeRun, runOutcomes, type ModelOutcome, type PromotionInput, type RunResult } from './retrain.outcome';
import { retrainEnabled, retrainSettings } from './retrain.settings';

/** What a retraining run decides, counts and says, from plain data (no model, no topic). */

const mae = (value: number): ValidationScore => ({ metric: 'scaledMae', value });
const faults = (detected: number, falseAlertsPerMachineMonth: number): ValidationScore => ({
  metric: 'faultEvents',
  detected,
  faults: 6,
  falseAlertsPerMachineMonth,
  meanLeadTimeH: 40,
});

type Score = ValidationScore | null;
const forecaster = (current: string | null, candidateScore: Score, currentScore: Score): PromotionInput => ({ kind: 'forecaster', current, candidateScore, currentScore });
const detector = (candidateScore: Score, currentScore: Score, force = false): PromotionInput => ({ kind: 'anomaly', current: 'v2', candidateScore, currentScore, force });

describe('decidePromotion', () => {
  test.each<[string, PromotionInput, string, RegExp]>([
    ['a model with no current version: its first version is promoted', forecaster(null, null, null), 'promoted', /^first version$/],
    ['a forecaster that scores better is promoted', forecaster('v1', mae(0.04), mae(0.05)), 'promoted', /^scaled MAE 0\.0400 vs v1 scaled MAE 0\.0500$/],
    ['a tie is promoted', forecaster('v1', mae(0.05), mae(0.05)), 'promoted', /vs v1/],
    ['a forecaster that scores worse is kept out', forecaster('v1', mae(0.06), mae(0.05)), 'kept', /^scored worse: scaled MAE 0\.0600 vs v1 scaled MAE 0\.05/],
    ['a forecaster with no validation score is kept out', forecaster('v1', null, mae(0.05)), 'kept', /no validation score/],
    ['a current version that could not be scored (another window length) loses', forecaster('v1', mae(0.9), null), 'promoted', /vs v1 no score/],
    ['a detector without ground truth is written, not promoted', detector(null, null), 'not_promoted_no_truth', /only when ground truth/],
    ['a detector with truth that catches more faults is promoted', detector(faults(6, 0.5), faults(5, 0.1)), 'promoted', /6\/6 faults detected/],
    ['a detector with truth and more false alerts is kept out', detector(faults(6, 0.5), faults(6, 0.1)), 'kept', /scored worse/],
    ['forced: promoted whatever the scores', detector(null, null, true), 'promoted', /forced/],
  ])('%s', (_name, input, outcome, reason) => {
    const decision = decidePromotion(input);
    expect(decision.outcome).toBe(outcome);
    expect(decision.reason).toMatch(reason);
  });
});

const model = (over: Partial<ModelOutcome>): ModelOutcome => ({
  model: 'pdm-forecaster',
  kind: 'forecaster',
  version: 'v3',
  previous: 'v1',
  outcome: 'promoted',
  reason: '',
  candidateScore: mae(0.04),
  currentScore: mae(0.05),
  onnxBytes: 1000,
  sha256: 'ab',
  ...over,
});

const MODELS = ['pdm-forecaster', 'pdm-anomaly'];
const trained: RunResult = {
  status: 'trained',
  windows: 720,
  machines: 3,
  source: 'topic pdm.window-features.v1',
  models: [
    model({}),
    model({ model: 'pdm-anomaly', kind: 'anomaly', version: 'v4', previous: 'v2', outcome: 'not_promoted_no_truth', candidateScore: null, currentScore: null }),
  ],
};

const skipped: RunResult = { status: 'skipped', windows: 12, machines: 1, source: 'topic t', minWindows: 500 };

describe('runOutcomes', () => {
  test.each<[string, RunResult, Array<{ model: string; outcome: string }>]>([
    ['a trained run: each model its own outcome', trained, [
      { model: 'pdm-forecaster', outcome: 'promoted' },
      { model: 'pdm-anomaly', outcome: 'not_promoted_no_truth' },
    ]],
    ['too few windows: every model skipped', skipped, MODELS.map((m) => ({ model: m, outcome: 'skipped_too_few_windows' }))],
    ['a failed run: every model failed', { status: 'failed', error: 'topic t does not exist' }, MODELS.map((m) => ({ model: m, outcome: 'failed' }))],
    ['a model written, not decided on, counts as kept', { ...trained, models: [model({ outcome: 'written' })] }, [{ model: 'pdm-forecaster', outcome: 'kept' }]],
  ])('%s', (_name, result, expected) => {
    expect(runOutcomes(result, MODELS)).toEqual(expected);
  });
});

describe('describeRun', () => {
  test('says per model what happened, with the figures compared and why a detector was not promoted', () => {
    const text = describeRun(trained);
    expect(text).toContain('720 windows of 3 machines from topic pdm.window-features.v1');
    expect(text).toContain('pdm-forecaster v3 promoted over v1 (scaled MAE 0.0400 vs v1 scaled MAE 0.0500)');
    expect(text).toContain('pdm-anomaly v4 written, not promoted: a detector is promoted automatically only with ground truth');
    expect(text).toContain('pdmctl models promote pdm-anomaly v4');
  });

  test('kept, skipped and failed runs', () => {
    const kept: RunResult = { ...trained, models: [model({ outcome: 'kept', candidateScore: mae(0.06) })] };
    expect(describeRun(kept)).toContain('pdm-forecaster v1 kept, v3 written, not promoted (scaled MAE 0.0600 vs v1 scaled MAE 0.0500)');
    expect(describeRun(skipped)).toBe('retrain skipped: 12 windows of 1 machines on topic t, fewer than PDM_RETRAIN_MIN_WINDOWS (500)');
    expect(describeRun({ status: 'failed', error: 'boom' })).toBe('retrain failed: boom');
  });
});

describe('retrain metrics', () => {
  test('every model and outcome exists at 0; a run counts its outcomes, its time and when it finished', async () => {
    const registry = new Registry();
    const metrics = retrainMetrics(registry, MODELS);
    const zero = await registry.getSingleMetric('pdm_model_retrain_runs_total')!.get();
    expect(zero.values).toHaveLength(10);
    expect(zero.values.every((v) => v.value === 0)).toBe(true);
    recordRun(metrics, trained, MODELS, 42_000, Date.UTC(2026, 0, 6));
    const text = await registry.metrics();
    expect(text).toContain('pdm_model_retrain_runs_total{model="pdm-forecaster",outcome="promoted"} 1');
    expect(text).toContain('pdm_model_retrain_runs_total{model="pdm-anomaly",outcome="not_promoted_no_truth"} 1');
    expect(text).toContain('pdm_model_retrain_runs_total{model="pdm-anomaly",outcome="promoted"} 0');
    expect(text).toContain(`pdm_model_retrain_last_run_timestamp_seconds ${Date.UTC(2026, 0, 6) / 1000}`);
    expect(text).toContain('pdm_model_retrain_duration_seconds_sum 42');
    expect(text).toContain('pdm_model_retrain_duration_seconds_count 1');
  });
});

describe('retrain settings', () => {
  test('off unless PDM_RETRAIN_EVERY says how often; off refuses with how to switch it on', () => {
    for (const value of [undefined, '', 'off', 'OFF']) {
      expect(retrainEnabled({ PDM_RETRAIN_EVERY: value })).toBe(false);
      expect(() => retrainSettings({ PDM_RETRAIN_EVERY: value })).toThrow(/retraining is off: set PDM_RETRAIN_EVERY .*PDM_RETRAIN_EVERY=24h/);
    }
    expect(retrainEnabled({ PDM_RETRAIN_EVERY: '24h' })).toBe(true);
  });

  test('defaults, and bad values fail with the variable named', () => {
    expect(retrainSettings({ PDM_RETRAIN_EVERY: '24h' })).toEqual({ everyMs: 86_400_000, minWindows: 500, kind: 'both' });
    const small = { PDM_RETRAIN_EVERY: '1s', PDM_RETRAIN_MIN_WINDOWS: '100', PDM_RETRAIN_KIND: 'forecaster' };
    expect(retrainSettings(small)).toEqual({ everyMs: 1000, minWindows: 100, kind: 'forecaster' });
    expect(() => retrainSettings({ PDM_RETRAIN_EVERY: 'daily' })).toThrow(/PDM_RETRAIN_EVERY: "daily" is not a duration/);
    expect(() => retrainSettings({ PDM_RETRAIN_EVERY: '500ms' })).toThrow(/PDM_RETRAIN_EVERY: must be at least 1s/);
    expect(() => retrainSettings({ PDM_RETRAIN_EVERY: '1h', PDM_RETRAIN_KIND: 'all' })).toThrow(/PDM_RETRAIN_KIND/);
    expect(() => retrainSettings({ PDM_RETRAIN_EVERY: '1h', PDM_RETRAIN_MIN_WINDOWS: '0' })).toThrow(/PDM_RETRAIN_MIN_WINDOWS/);
    expect(Object.isFrozen(retrainSettings({ PDM_RETRAIN_EVERY: '1h' }))).toBe(true);
  });
});
