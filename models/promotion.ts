import type { WindowFeatures } from '../schemas';
import type { Manifest } from './contract';
import { anomalyInputs, forecastInputs, runBatches } from './evaluate';
import type { TruthFault } from './events';
import type { OnnxModel } from './runtime';
import { anomalyValidationMetrics, scaledMaeByStep } from './train';
import { maeByStep } from './forecaster';

/**
 * The validation score that decides promotion, computed through onnxruntime for any model that
 * meets the contract, on the candidate's validation split (so a candidate and the current version
 * are compared on the same windows). Forecaster: mean scaled MAE over the horizon (lower wins).
 * Detector: window-level F1 against fault development (higher wins); it needs the truth.
 */
export interface ValidationScore {
  metric: 'scaledMae' | 'f1';
  value: number;
  better: 'lower' | 'higher';
}

export async function validationScore(model: OnnxModel, windows: readonly WindowFeatures[], split: { fromMs: number; toMs: number }, truth: readonly TruthFault[] | null, channelSd: readonly number[]): Promise<ValidationScore | null> {
  const m: Manifest = model.manifest;
  if (m.kind === 'forecaster') {
    const samples = forecastInputs(m, windows).filter((s) => s.originMs >= split.fromMs && s.originMs + m.horizon * m.windowMs <= split.toMs);
    if (samples.length === 0) return null;
    const { forecast } = await runBatches(model, samples);
    const mae = maeByStep(forecast!.map((f) => Float64Array.from(f)), samples.map((s) => s.y!), m.horizon, m.channels.length);
    const perStep = scaledMaeByStep(mae, m.horizon, channelSd);
    return { metric: 'scaledMae', value: perStep.reduce((a, b) => a + b, 0) / perStep.length, better: 'lower' };
  }
  if (!truth) return null;
  const samples = anomalyInputs(m, windows).filter((s) => s.originMs > split.fromMs && s.originMs <= split.toMs);
  if (samples.length === 0) return null;
  const { score } = await runBatches(model, samples);
  const metrics = anomalyValidationMetrics({ threshold: m.thresholds.score! }, samples, truth, score!.map((s) => s[0]!));
  return { metric: 'f1', value: (metrics as { f1: number }).f1, better: 'higher' };
}

/** At least as good: ties promote (a retrain on the same data replaces nothing it shouldn't). */
export function atLeastAsGood(candidate: ValidationScore, current: ValidationScore | null): boolean {
  if (!current || current.metric !== candidate.metric) return true;
  return candidate.better === 'lower' ? candidate.value <= current.value : candidate.value >= current.value;
}
