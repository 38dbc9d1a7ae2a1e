import type { WindowFeatures } from '../schemas';
import type { Manifest } from './contract';
import { evaluateDetectorOnTruth, forecastInputs, runBatches } from './evaluate';
import type { EventReport, TruthFault } from './events';
import type { OnnxModel } from './runtime';
import { scaledMaeByStep } from './train';
import { maeByStep } from './forecaster';

/**
 * The score that decides promotion, computed through onnxruntime for any model that meets the
 * contract, on the candidate's data (so a candidate and the current version are compared on the
 * same windows).
 *
 * Forecaster: mean scaled MAE over the horizon on the validation split (lower wins).
 *
 * Detector: what a user of the alerts checks, on every machine fault of the labelled data: how
 * many were detected before failure, then false alerts per machine-month on machines with no
 * machine fault, then the mean lead time. A detector learns from windows outside faults only, so
 * the fault windows are never fitted; a window-level F1 on the validation split is no use, since
 * a month of simulation rarely puts a fault in its last 30 %. It needs the truth.
 */
export type ValidationScore =
  | { metric: 'scaledMae'; value: number }
  | { metric: 'faultEvents'; detected: number; faults: number; falseAlertsPerMachineMonth: number; meanLeadTimeH: number };

/** The detector's promotion score from an event report. */
export function faultEventsScore(report: EventReport): Extract<ValidationScore, { metric: 'faultEvents' }> {
  const leads = report.faults.filter((f) => f.leadTimeMs !== null).map((f) => f.leadTimeMs! / 3_600_000);
  return {
    metric: 'faultEvents',
    detected: report.faults.filter((f) => f.detected).length,
    faults: report.faults.length,
    falseAlertsPerMachineMonth: report.falseAlertsPerMachineMonth,
    meanLeadTimeH: leads.length > 0 ? leads.reduce((a, b) => a + b, 0) / leads.length : 0,
  };
}

export const describeScore = (s: ValidationScore | null): string => {
  if (!s) return 'no score';
  if (s.metric === 'scaledMae') return `scaled MAE ${s.value.toFixed(4)}`;
  return `${s.detected}/${s.faults} faults detected, ${s.falseAlertsPerMachineMonth.toFixed(2)} false alerts per machine-month, mean lead ${s.meanLeadTimeH.toFixed(1)} h`;
};

export async function validationScore(model: OnnxModel, windows: readonly WindowFeatures[], split: { fromMs: number; toMs: number }, truth: readonly TruthFault[] | null, channelSd: readonly number[]): Promise<ValidationScore | null> {
  const m: Manifest = model.manifest;
  if (m.kind === 'forecaster') {
    const samples = forecastInputs(m, windows).filter((s) => s.originMs >= split.fromMs && s.originMs + m.horizon * m.windowMs <= split.toMs);
    if (samples.length === 0) return null;
    const { forecast } = await runBatches(model, samples);
    const mae = maeByStep(forecast!.map((f) => Float64Array.from(f)), samples.map((s) => s.y!), m.horizon, m.channels.length);
    const perStep = scaledMaeByStep(mae, m.horizon, channelSd);
    return { metric: 'scaledMae', value: perStep.reduce((a, b) => a + b, 0) / perStep.length };
  }
  if (!truth || windows.length === 0) return null;
  if (!truth.some((f) => f.category === 'machine' && f.failureMs !== null)) return null;
  let fromMs = Infinity;
  let toMs = -Infinity;
  for (const w of windows) {
    fromMs = Math.min(fromMs, w.windowStart);
    toMs = Math.max(toMs, w.windowEnd);
  }
  return faultEventsScore(await evaluateDetectorOnTruth(model, windows, truth, toMs - fromMs));
}

/**
 * At least as good: ties promote (a retrain on the same data replaces nothing it shouldn't).
 * Detectors compare in order: more faults detected; then fewer false alerts per machine-month
 * (differences under 0.01 are ties); then a longer mean lead time.
 */
export function atLeastAsGood(candidate: ValidationScore, current: ValidationScore | null): boolean {
  if (!current || current.metric !== candidate.metric) return true;
  if (candidate.metric === 'scaledMae') return candidate.value <= (current as typeof candidate).value;
  const other = current as typeof candidate;
  if (candidate.detected !== other.detected) return candidate.detected > other.detected;
  if (Math.abs(candidate.falseAlertsPerMachineMonth - other.falseAlertsPerMachineMonth) >= 0.01) return candidate.falseAlertsPerMachineMonth < other.falseAlertsPerMachineMonth;
  return candidate.meanLeadTimeH >= other.meanLeadTimeH;
}
