import type pg from 'pg';
import { PdmError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { metricOnce, Counter, Gauge, Histogram, type Registry } from '../../lib/metrics';
import { backoffDelayMs } from '../../lib/backoff';
import { daysOfRows } from './partitions';
import { classifyDbError } from './postgres.policy';
import { chunks, flatten, rowsPerStatement, upsertStatement, type SqlValue, type TableShape } from './postgres.rows';

/**
 * Writes batches of records to Postgres: each batch is one transaction of multi-row upserts
 * (`flush`), and the caller commits its Kafka offsets only after it returns. A record is rows of
 * one or more tables (an assessment and its forecast's points), written together or not at all.
 *
 * A record the database rejects (see postgres.policy.ts) is found by splitting: its statements run
 * under a savepoint, and on a row error the savepoint is rolled back and each half of the records
 * tried again, down to the single record, which is handed back as rejected. The other records
 * still commit in the same transaction.
 *
 * Any other error retries the whole batch, with capped exponential backoff, for as long as it
 * takes; `unavailable()` says why meanwhile (readiness). Only stopping ends the wait: the batch is
 * then given up uncommitted, and its records are read again by whoever owns the partition next.
 */

export type PostgresSinkErrorCode = 'SINK_STOPPING';

/** One record's rows, per table of the flush (a table may get none), and what to hand back if they are refused. */
export interface RowsToWrite<Item> {
  rows: SqlValue[][][];
  item: Item;
}

export interface RejectedRow<Item> {
  item: Item;
  /** The table whose row the database refused. */
  table: string;
  code: string;
  message: string;
}

export interface PostgresSinkOptions {
  pool: pg.Pool;
  schema: string;
  /** Most rows in one INSERT statement. */
  maxRowsPerStatement: number;
  retry: { initialMs: number; maxMs: number };
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  logger: Logger;
  metrics: Registry;
  /** Makes the day partitions a batch's rows need before it is written (migration 009); none: the tables are not partitioned. */
  partitions?: { ensure(days: Iterable<string>): Promise<unknown>; forget(): void };
}

function sinkMetrics(registry: Registry) {
  return {
    writeSeconds: metricOnce(registry, 'pdm_sink_postgres_write_duration_seconds', () => new Histogram({ name: 'pdm_sink_postgres_write_duration_seconds', help: 'Time to write one batch to Postgres, from BEGIN to COMMIT, by table.', labelNames: ['table'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] })),
    rows: metricOnce(registry, 'pdm_sink_postgres_rows_written_total', () => new Counter({ name: 'pdm_sink_postgres_rows_written_total', help: 'Rows inserted or changed in Postgres, by table (a replayed row that is already there is not counted).', labelNames: ['table'], registers: [registry] })),
    unchanged: metricOnce(registry, 'pdm_sink_postgres_rows_unchanged_total', () => new Counter({ name: 'pdm_sink_postgres_rows_unchanged_total', help: 'Rows upserted that were already in Postgres as they are (replays), by table.', labelNames: ['table'], registers: [registry] })),
    failures: metricOnce(registry, 'pdm_sink_postgres_write_failures_total', () => new Counter({ name: 'pdm_sink_postgres_write_failures_total', help: 'Batch writes that failed and were retried, by table and error code.', labelNames: ['table', 'code'], registers: [registry] })),
    rejected: metricOnce(registry, 'pdm_sink_postgres_rows_rejected_total', () => new Counter({ name: 'pdm_sink_postgres_rows_rejected_total', help: 'Rows the database refused (sent to the dead-letter topic), by table and SQLSTATE.', labelNames: ['table', 'code'], registers: [registry] })),
    available: metricOnce(registry, 'pdm_sink_postgres_database_available', () => new Gauge({ name: 'pdm_sink_postgres_database_available', help: '1 when the last write or probe of Postgres succeeded, 0 while it is being retried.', registers: [registry] })),
  };
}

/** Thrown out of a retry wait when the sink stops: the batch is not committed. */
export class SinkStoppingError extends PdmError<PostgresSinkErrorCode> {
  constructor(cause: unknown) {
    super('SINK_STOPPING', 'the sink is stopping: the batch is left uncommitted, to be read again', { cause });
    this.name = 'SinkStoppingError';
  }
}

export class PostgresSink {
  private readonly metrics: ReturnType<typeof sinkMetrics>;
  private stopping = false;
  /** Why the database can't be written now, by table (one retry loop per topic runner). */
  private readonly failing = new Map<string, string>();
  private probeProblem: string | undefined;

  constructor(private readonly options: PostgresSinkOptions) {
    this.metrics = sinkMetrics(options.metrics);
    this.metrics.available.set(1);
  }

  /** undefined when writes go through; otherwise why not (for /ready). */
  unavailable(): string | undefined {
    const reasons = [...this.failing.values()];
    if (reasons.length > 0) return reasons[0];
    return this.probeProblem;
  }

  /** Ends every retry wait: the batches in them are given up uncommitted. */
  stop(): void {
    this.stopping = true;
  }

  /** A cheap check while idle, so readiness tells the truth when no batch is being written. */
  async probe(): Promise<void> {
    try {
      await this.options.pool.query('SELECT 1');
      this.probeProblem = undefined;
    } catch (err) {
      const { code, message } = classifyDbError(err);
      this.probeProblem = `the database does not answer (${code}: ${message})`;
    }
    this.metrics.available.set(this.unavailable() === undefined ? 1 : 0);
  }

  /**
   * Writes `records` (already one per key), each its rows of `tables`, in one transaction, retrying
   * until it commits. Returns the records the database refused. Metrics and readiness name the
   * first table: the batch's own (an assessment's forecast rows are written in its batch).
   * `heartbeat` is called between retries (group membership).
   */
  async flush<Item>(tables: readonly TableShape[], records: ReadonlyArray<RowsToWrite<Item>>, heartbeat?: () => Promise<void>): Promise<RejectedRow<Item>[]> {
    if (records.length === 0) return [];
    const { logger, retry, clock } = this.options;
    const batch = tables[0]!.table;
    for (let attempt = 1; ; attempt++) {
      const started = clock();
      try {
        // Outside the write's transaction: making a partition locks its parent, briefly.
        await this.options.partitions?.ensure(daysOfRows(tables, records));
        const { rejected, written } = await this.writeOnce(tables, records);
        this.metrics.writeSeconds.observe({ table: batch }, (clock() - started) / 1000);
        const refused = new Set(rejected.map((r) => r.item));
        tables.forEach((spec, t) => {
          const upserted = records.reduce((n, r) => n + (refused.has(r.item) ? 0 : (r.rows[t]?.length ?? 0)), 0);
          this.metrics.rows.inc({ table: spec.table }, written[t]!);
          this.metrics.unchanged.inc({ table: spec.table }, upserted - written[t]!);
        });
        for (const r of rejected) this.metrics.rejected.inc({ table: r.table, code: r.code });
        if (this.failing.delete(batch)) logger.info({ table: batch, attempts: attempt }, 'the database is writable again');
        this.probeProblem = undefined;
        this.metrics.available.set(this.unavailable() === undefined ? 1 : 0);
        return rejected;
      } catch (err) {
        const { code, message } = classifyDbError(err);
        const delayMs = backoffDelayMs(attempt, retry.initialMs, retry.maxMs);
        this.metrics.failures.inc({ table: batch, code });
        this.options.partitions?.forget();
        this.failing.set(batch, `writing ${batch} failed (${code}: ${message}); retry ${attempt} in ${delayMs} ms`);
        this.metrics.available.set(0);
        logger.warn({ table: batch, records: records.length, attempt, delayMs, code, err: message }, 'writing the batch failed; retrying it');
        if (this.stopping) throw new SinkStoppingError(err);
        await this.wait(delayMs, heartbeat);
        if (this.stopping) throw new SinkStoppingError(err);
      }
    }
  }

  /** Sleeps in short steps, so a stop ends the wait soon and the group hears from us. */
  private async wait(ms: number, heartbeat?: () => Promise<void>): Promise<void> {
    const until = this.options.clock() + ms;
    while (!this.stopping) {
      const left = until - this.options.clock();
      if (left <= 0) break;
      await this.options.sleep(Math.min(left, 1000));
      await heartbeat?.();
    }
  }

  private async writeOnce<Item>(tables: readonly TableShape[], records: ReadonlyArray<RowsToWrite<Item>>): Promise<{ rejected: RejectedRow<Item>[]; written: number[] }> {
    const client = await this.options.pool.connect();
    let broken: Error | undefined;
    // The pool listens for errors only on idle clients: a checked-out client whose connection dies
    // (the database stops mid-batch) would emit an 'error' nobody handles and end the process. Its
    // queries fail as well, so the batch is retried like any other failed write.
    const onError = (err: Error) => (broken ??= err);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const rejected: RejectedRow<Item>[] = [];
      const written = tables.map(() => 0);
      // Records per savepoint: for a one-table record, one statement's worth of rows.
      for (const slice of chunks(records, rowsPerStatement(tables[0]!.columns.length, this.options.maxRowsPerStatement))) {
        const counts = await this.upsertSplitting(client, tables, slice, rejected);
        counts.forEach((n, t) => (written[t]! += n));
      }
      await client.query('COMMIT');
      return { rejected, written };
    } catch (err) {
      broken = err as Error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.off('error', onError);
      // A connection that failed mid-transaction is not given back to the pool.
      client.release(broken && classifyDbError(broken).kind === 'retry' ? broken : undefined);
    }
  }

  /**
   * Upserts the rows of `records` under a savepoint, table after table; on a row error, splits the
   * records until the refused ones are alone. Returns the rows written per table.
   */
  private async upsertSplitting<Item>(client: pg.PoolClient, tables: readonly TableShape[], records: ReadonlyArray<RowsToWrite<Item>>, rejected: RejectedRow<Item>[]): Promise<number[]> {
    await client.query('SAVEPOINT rows');
    let current = tables[0]!;
    try {
      const written = tables.map(() => 0);
      for (const [t, spec] of tables.entries()) {
        current = spec;
        const rows = records.flatMap((r) => r.rows[t] ?? []);
        for (const slice of chunks(rows, rowsPerStatement(spec.columns.length, this.options.maxRowsPerStatement))) {
          const result = await client.query(upsertStatement(this.options.schema, spec, slice.length), flatten(slice, spec.columns.length));
          written[t]! += result.rowCount ?? 0;
        }
      }
      await client.query('RELEASE SAVEPOINT rows');
      return written;
    } catch (err) {
      const failure = classifyDbError(err);
      if (failure.kind !== 'row') throw err;
      await client.query('ROLLBACK TO SAVEPOINT rows');
      await client.query('RELEASE SAVEPOINT rows');
      if (records.length === 1) {
        rejected.push({ item: records[0]!.item, table: current.table, code: failure.code, message: failure.message });
        this.options.logger.warn({ table: current.table, code: failure.code, err: failure.message }, 'the database refused a row');
        return tables.map(() => 0);
      }
      const half = Math.ceil(records.length / 2);
      const first = await this.upsertSplitting(client, tables, records.slice(0, half), rejected);
      const second = await this.upsertSplitting(client, tables, records.slice(half), rejected);
      return first.map((n, t) => n + second[t]!);
    }
  }
}
