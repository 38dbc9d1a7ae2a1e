import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Metrics take an injected registry (tests make their own). Names follow Prometheus conventions:
 * `pdm_` prefix, base units, `_total` for counters. Labels are bounded sets (stage, topic,
 * reason code), never a machine id.
 */
export function createRegistry(service: string, withDefaults = true): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (withDefaults) {
    // prom-client's own names already say what they are about (`process_cpu_seconds_total`,
    // `nodejs_heap_size_used_bytes`): `pdm_` in front is enough, a `pdm_process_` prefix stuttered
    // (`pdm_process_process_cpu_seconds_total`).
    collectDefaultMetrics({ register: registry, prefix: 'pdm_' });
    // prom-client also serves three gauges under the old `_total` names, which promtool rejects
    // (`_total` is for counters); the same values stay under the names without it.
    for (const name of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`pdm_nodejs_active_${name}_total`);
  }
  return registry;
}

export interface StageMetrics {
  recordsIn: Counter<'stage'>;
  recordsOut: Counter<'stage' | 'topic'>;
  recordsFailed: Counter<'stage' | 'reason'>;
  deadLetters: Counter<'stage' | 'reason'>;
}

const cache = new WeakMap<Registry, StageMetrics>();

/** The counters every stage shares: records in, out, failed, dead-lettered. */
export function stageMetrics(registry: Registry): StageMetrics {
  let metrics = cache.get(registry);
  if (!metrics) {
    metrics = {
      recordsIn: new Counter({ name: 'pdm_records_in_total', help: 'Records a stage received.', labelNames: ['stage'], registers: [registry] }),
      recordsOut: new Counter({ name: 'pdm_records_out_total', help: 'Records a stage wrote to a topic.', labelNames: ['stage', 'topic'], registers: [registry] }),
      recordsFailed: new Counter({ name: 'pdm_records_failed_total', help: 'Records a stage refused or could not process, by reason code.', labelNames: ['stage', 'reason'], registers: [registry] }),
      deadLetters: new Counter({ name: 'pdm_dead_letter_records_total', help: 'Records a stage wrote to the dead-letter topic, by reason code.', labelNames: ['stage', 'reason'], registers: [registry] }),
    };
    cache.set(registry, metrics);
  }
  return metrics;
}

/**
 * The metric `name` of a registry, made by `make` the first time: a registry can outlive one
 * instance of a component (tests restart them), and prom-client refuses a name registered twice.
 */
export function metricOnce<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export { Counter, Gauge, Histogram, Registry };
