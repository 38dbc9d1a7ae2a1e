import { atLeastAsGood, describeScore, type ValidationScore } from './promotion';

/**
 * What became of a trained candidate, and of a retraining run, as plain data: the promotion rule
 * (`decidePromotion`), the outcome each model is counted under, and the sentence the log says.
 * No I/O: training.job.ts writes and promotes, retrain.service.ts counts and logs.
 */

export type PromotionOutcome = 'promoted' | 'kept' | 'not_promoted_no_truth';

/** The outcomes of `pdm_model_retrain_runs_total{model,outcome}`. */
export const RETRAIN_OUTCOMES = ['promoted', 'kept', 'not_promoted_no_truth', 'skipped_too_few_windows', 'failed'] as const;
export type RetrainOutcome = (typeof RETRAIN_OUTCOMES)[number];

export interface PromotionInput {
  kind: 'forecaster' | 'anomaly';
  /** The version that was current before, null when the model had none. */
  current: string | null;
  candidateScore: ValidationScore | null;
  currentScore: ValidationScore | null;
  force?: boolean;
}

export interface PromotionDecision {
  outcome: PromotionOutcome;
  /** Why; for a promotion, what promotions.jsonl records. */
  reason: string;
}

/**
 * Promote the first version of a model, a forced one, or one at least as good as the current
 * version on the candidate's validation data. A detector has a score only with ground truth (the
 * machine faults it must catch): without it, it is written but not promoted.
 */
export function decidePromotion(input: PromotionInput): PromotionDecision {
  const { candidateScore, currentScore, current } = input;
  if (current === null) return { outcome: 'promoted', reason: 'first version' };
  if (input.force) return { outcome: 'promoted', reason: 'forced (--force-promote)' };
  const compared = `${describeScore(candidateScore)} vs ${current} ${describeScore(currentScore)}`;
  if (!candidateScore && input.kind === 'anomaly') {
    const reason = 'a detector is promoted automatically only when ground truth of machine faults scores it, and there is none';
    return { outcome: 'not_promoted_no_truth', reason };
  }
  if (!candidateScore) return { outcome: 'kept', reason: `no validation score to compare (${compared})` };
  if (atLeastAsGood(candidateScore, currentScore)) return { outcome: 'promoted', reason: compared };
  return { outcome: 'kept', reason: `scored worse: ${compared}` };
}

/** One model's part of a run: the version written, the one current before, the figures compared, the decision. */
export interface ModelOutcome {
  model: string;
  kind: 'forecaster' | 'anomaly';
  version: string;
  previous: string | null;
  /** `written`: stored without a promotion decision (`pdmctl train --no-promote`). */
  outcome: PromotionOutcome | 'written';
  reason: string;
  candidateScore: ValidationScore | null;
  currentScore: ValidationScore | null;
  onnxBytes: number;
  sha256: string;
}

/** What one retraining run did. */
export type RunResult =
  | { status: 'trained'; windows: number; machines: number; source: string; models: ModelOutcome[] }
  | { status: 'skipped'; windows: number; machines: number; source: string; minWindows: number }
  | { status: 'failed'; error: string };

/** The outcome each model of the run is counted under (a skipped or failed run counts for every model it was to train). */
export function runOutcomes(result: RunResult, models: readonly string[]): Array<{ model: string; outcome: RetrainOutcome }> {
  if (result.status === 'skipped') return models.map((model) => ({ model, outcome: 'skipped_too_few_windows' }));
  if (result.status === 'failed') return models.map((model) => ({ model, outcome: 'failed' }));
  // `written` does not happen here (a retraining run always decides); the current version stays current.
  return result.models.map((m) => ({ model: m.model, outcome: m.outcome === 'written' ? 'kept' : m.outcome }));
}

const sentence = (m: ModelOutcome): string => {
  const figures = `${describeScore(m.candidateScore)} vs ${m.previous ?? 'none'} ${describeScore(m.currentScore)}`;
  switch (m.outcome) {
    case 'promoted':
      if (m.previous === null) return `${m.model} ${m.version} promoted (first version)`;
      return `${m.model} ${m.version} promoted over ${m.previous} (${figures})`;
    case 'kept':
      return `${m.model} ${m.previous} kept, ${m.version} written, not promoted (${figures})`;
    case 'not_promoted_no_truth':
      return (
        `${m.model} ${m.version} written, not promoted: a detector is promoted automatically only with ground truth, and the topic has none ` +
        `(${m.previous} stays current; pdmctl models promote ${m.model} ${m.version} promotes it by hand)`
      );
    case 'written':
      return `${m.model} ${m.version} written`;
  }
};

/** The message of a run's log line. */
export function describeRun(result: RunResult): string {
  if (result.status === 'failed') return `retrain failed: ${result.error}`;
  if (result.status === 'skipped') {
    const found = `${result.windows} windows of ${result.machines} machines on ${result.source}`;
    return `retrain skipped: ${found}, fewer than PDM_RETRAIN_MIN_WINDOWS (${result.minWindows})`;
  }
  return `retrain on ${result.windows} windows of ${result.machines} machines from ${result.source}: ${result.models.map(sentence).join('; ')}`;
}
