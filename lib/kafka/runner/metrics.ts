import { metricOnce, Counter, Gauge, Histogram, type Registry } from '../../metrics';

/**
 * The runner's metrics: transactions by outcome and their duration (the committers count them),
 * and lag per owned input partition (the group wiring sets it). Plain prom-client objects on an
 * injected registry, so a test can read them without Kafka.
 */

export function transactionMetrics(registry: Registry, stage: string) {
  return {
    transactions: metricOnce(
      registry,
      'pdm_transactions_total',
      () =>
        new Counter({
          name: 'pdm_transactions_total',
          help: 'Kafka transactions of a stage, by outcome (committed, aborted).',
          labelNames: ['stage', 'outcome'],
          registers: [registry],
        }),
    ),
    duration: metricOnce(
      registry,
      'pdm_transaction_duration_seconds',
      () =>
        new Histogram({
          name: 'pdm_transaction_duration_seconds',
          help: 'Time from opening a Kafka transaction to its commit.',
          labelNames: ['stage'],
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
          registers: [registry],
        }),
    ),
    lag: metricOnce(
      registry,
      'pdm_consumer_lag_records',
      () =>
        new Gauge({
          name: 'pdm_consumer_lag_records',
          help: 'Records in an owned input partition not processed yet, as of its last fetch (a batch counts until it commits).',
          labelNames: ['stage', 'topic', 'partition'],
          registers: [registry],
        }),
    ),
    stage,
  };
}

export type TransactionMetrics = ReturnType<typeof transactionMetrics>;

/**
 * Lag per owned partition. It is set when a batch is fetched (everything from its first record
 * on is waiting) and again once the batch commits, so a stage stuck on a batch (a sink retrying
 * its database, a registry outage) shows the records waiting instead of the 0 of its last success.
 * A fetch holding only transaction markers is no batch of ours; kafkajs reports it as an empty
 * one (`emptyFetch`), and the marker must not stay behind as lag 1 on a caught-up partition. A
 * revoked partition's series goes away: another instance reports it now, and a sum would count it twice.
 */
export function lagTracker(metrics: TransactionMetrics, topic: string) {
  const labels = (partition: number) => ({ stage: metrics.stage, topic, partition: String(partition) });
  return {
    emptyFetch: (partition: number, offsetLag: string) => metrics.lag.set(labels(partition), Math.max(0, Number(offsetLag))),
    fetched: (partition: number, highWatermark: string, firstOffset: string) =>
      metrics.lag.set(labels(partition), Number(BigInt(highWatermark) - BigInt(firstOffset))),
    committed: (partition: number, highWatermark: string, nextOffset: string) =>
      metrics.lag.set(labels(partition), Math.max(0, Number(BigInt(highWatermark) - BigInt(nextOffset)))),
    released: (partition: number) => metrics.lag.remove(labels(partition)),
  };
}

export type LagTracker = ReturnType<typeof lagTracker>;
