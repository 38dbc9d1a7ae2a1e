import { Counter, Gauge, Histogram, metricOnce, type Registry } from '../lib/metrics';
import { RETRAIN_OUTCOMES, runOutcomes, type RunResult } from './retrain.outcome';

/** What `pdmctl run retrain` tells Prometheus. Every model × outcome series exists from the start at 0 (a rate alert needs a 0, not nothing). */
export interface RetrainMetrics {
  runs: Counter<'model' | 'outcome'>;
  lastRun: Gauge;
  duration: Histogram;
}

const RUNS_HELP = `Retraining runs per model, by outcome (${RETRAIN_OUTCOMES.join(', ')}).`;

export function retrainMetrics(registry: Registry, models: readonly string[]): RetrainMetrics {
  const runs = 'pdm_model_retrain_runs_total';
  const lastRun = 'pdm_model_retrain_last_run_timestamp_seconds';
  const duration = 'pdm_model_retrain_duration_seconds';
  const metrics: RetrainMetrics = {
    runs: metricOnce(registry, runs, () => new Counter({ name: runs, help: RUNS_HELP, labelNames: ['model', 'outcome'], registers: [registry] })),
    lastRun: metricOnce(registry, lastRun, () =>
      new Gauge({ name: lastRun, help: 'When the last retraining run finished, whatever its outcome (Unix time).', registers: [registry] })),
    duration: metricOnce(registry, duration, () =>
      new Histogram({
        name: duration,
        help: 'Wall-clock time of a retraining run: reading the topic, training, writing, scoring and promoting.',
        buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600],
        registers: [registry],
      })),
  };
  for (const model of models) for (const outcome of RETRAIN_OUTCOMES) metrics.runs.inc({ model, outcome }, 0);
  return metrics;
}

/** Counts a finished run (`finishedMs` by the service's clock). */
export function recordRun(metrics: RetrainMetrics, result: RunResult, models: readonly string[], durationMs: number, finishedMs: number): void {
  for (const { model, outcome } of runOutcomes(result, models)) metrics.runs.inc({ model, outcome });
  metrics.lastRun.set(finishedMs / 1000);
  metrics.duration.observe(durationMs / 1000);
}
