import type pg from 'pg';
import { formatDuration } from '../../lib/duration';
import type { Logger } from '../../lib/logger';
import { metricOnce, Counter, Gauge, type Registry } from '../../lib/metrics';
import { quoteIdent } from './postgres.rows';
import { PARTITIONED_TABLES, dayOfPartition, daysAhead, daysToDrop } from './partitions';

/**
 * Keeps the day partitions of migration 009: makes the days the sink is about to write (`ensure`,
 * before each batch) and the next days (`maintain`, on a schedule), and drops the days older than
 * the retention (`maintain`). Both go through the schema's SECURITY DEFINER functions, so the sink
 * needs no DDL right; the functions lock the schema's window_features table against each other, so sinks doing this at once are safe.
 * Which days is decided in partitions.ts; this is the I/O.
 */

export interface PartitionMaintainerOptions {
  pool: pg.Pool;
  schema: string;
  clock: () => number;
  /** Drop days older than this; undefined keeps everything. */
  retentionMs?: number;
  logger: Logger;
  metrics: Registry;
}

export interface MaintenanceResult {
  created: string[];
  dropped: string[];
  /** Day partitions per table after it. */
  partitions: Record<string, number>;
}

function partitionMetrics(registry: Registry) {
  const byTable = { labelNames: ['table'], registers: [registry] };
  const counter = (name: string, help: string) => metricOnce(registry, name, () => new Counter({ name, help, ...byTable }));
  return {
    partitions: metricOnce(registry, 'pdm_postgres_partitions', () =>
      new Gauge({ name: 'pdm_postgres_partitions', help: 'Day partitions of a partitioned table, as of the last maintenance, by table.', ...byTable })),
    created: counter('pdm_postgres_partitions_created_total', 'Day partitions this sink created (ahead of the data or for a row of its day), by table.'),
    dropped: counter('pdm_postgres_partitions_dropped_total', 'Day partitions dropped by the retention (PDM_POSTGRES_RETENTION), by table.'),
  };
}

/**
 * Makes the partitions of `days` in `schema` through its function; returns the names it created.
 * The sink's maintainer calls it; so does whatever writes rows other than through the sink (a
 * bench's or a test's seed): a row of a day without its partitions is refused.
 */
export async function makeDayPartitions(db: pg.Pool | pg.ClientBase, schema: string, days: Iterable<string>): Promise<string[]> {
  const created: string[] = [];
  for (const day of days) {
    const result = await db.query<{ name: string }>(`SELECT ${quoteIdent(schema)}.create_day_partitions($1::date) AS name`, [day]);
    created.push(...result.rows.map((r) => r.name));
  }
  return created;
}

/** The table a partition name belongs to (the longest table name it starts with). */
const tableOf = (partition: string): string =>
  PARTITIONED_TABLES.filter((t) => partition.startsWith(`${t}_`)).sort((a, b) => b.length - a.length)[0] ?? 'unknown';

export class PartitionMaintainer {
  private readonly metrics: ReturnType<typeof partitionMetrics>;
  /** Days whose partitions this sink has made or found: no call for them before a batch. */
  private readonly known = new Set<string>();
  private readonly s: string;

  constructor(private readonly options: PartitionMaintainerOptions) {
    this.metrics = partitionMetrics(options.metrics);
    this.s = quoteIdent(options.schema);
  }

  /** Makes the partitions of the days not known to exist. Throws what the database said (the batch is retried). */
  async ensure(days: Iterable<string>): Promise<string[]> {
    const created: string[] = [];
    for (const day of days) {
      if (this.known.has(day)) continue;
      for (const name of await makeDayPartitions(this.options.pool, this.options.schema, [day])) {
        created.push(name);
        this.metrics.created.inc({ table: tableOf(name) });
      }
      this.known.add(day);
    }
    if (created.length > 0) this.options.logger.info({ partitions: created }, 'day partitions created');
    return created;
  }

  /** Forgets the days known to exist (a write found one missing: another sink's retention dropped it). */
  forget(): void {
    this.known.clear();
  }

  /** The day partitions of each partitioned table, by table. */
  async partitions(): Promise<Record<string, string[]>> {
    const result = await this.options.pool.query<{ parent: string; partition: string }>(
      `SELECT p.relname AS parent, c.relname AS partition FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       WHERE p.relnamespace = $1::regnamespace AND p.relname = ANY($2) ORDER BY 2`,
      [this.options.schema, PARTITIONED_TABLES],
    );
    const out: Record<string, string[]> = Object.fromEntries(PARTITIONED_TABLES.map((t) => [t, []]));
    for (const r of result.rows) if (dayOfPartition(r.parent, r.partition)) out[r.parent]!.push(r.partition);
    return out;
  }

  /** The schedule's work: the next days made, the days past the retention dropped (whole partitions), the gauge set. */
  async maintain(): Promise<MaintenanceResult> {
    const { clock, retentionMs, logger } = this.options;
    const nowMs = clock();
    const created = await this.ensure(daysAhead(nowMs));
    const dropped: string[] = [];
    if (retentionMs !== undefined) {
      const before = await this.partitions();
      const days = Object.entries(before).flatMap(([table, names]) => names.map((n) => dayOfPartition(table, n)!));
      for (const day of daysToDrop(days, nowMs, retentionMs)) {
        const started = clock();
        const result = await this.options.pool.query<{ name: string }>(`SELECT ${this.s}.drop_day_partitions($1::date) AS name`, [day]);
        const names = result.rows.map((r) => r.name);
        for (const name of names) this.metrics.dropped.inc({ table: tableOf(name) });
        this.known.delete(day);
        dropped.push(...names);
        logger.info({ day, partitions: names, retention: formatDuration(retentionMs), ms: clock() - started }, 'retention: dropped the partitions of a day');
      }
    }
    const after = await this.partitions();
    const partitions = Object.fromEntries(Object.entries(after).map(([t, names]) => [t, names.length]));
    for (const [table, n] of Object.entries(partitions)) this.metrics.partitions.set({ table }, n);
    return { created, dropped, partitions };
  }
}
