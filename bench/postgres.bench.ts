import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createLogger } from '../lib/logger';
import { createRegistry } from '../lib/metrics';
import { MIGRATIONS_DIR, migrate } from '../sinks/postgres/migrations';
import { PartitionMaintainer } from '../sinks/postgres/partition.maintainer';
import { DAY_MS, dayOfMs, daysBetween } from '../sinks/postgres/partitions';
import { assessmentsRecord, windowFeaturesRecord, type RecordSpec } from '../sinks/postgres/postgres.rows';
import { PostgresSink, type RowsToWrite } from '../sinks/postgres/postgres.sink';
import type { MachineAssessment, WindowFeatures } from '../schemas';
import { assessmentOf, forecastAt, HOUR, machinePlan, windowOf, type MachinePlan } from './api.fleet';
import { ApiQueries } from '../api/queries';
import { machineQuery, machinesQuery } from '../api/validation';
import { formatTable } from './api.bench';
import { fmt } from './process';

/**
 * `pdmctl bench postgres`: the day-partitioned tables (migration 009) as the sink writes them.
 * `machines` machines' hourly windows and assessments (each scored one with its forecast of 36
 * points, as the inference writes them) over `days` days ending when yesterday began (UTC), written in
 * time order through the sink's own path (PostgresSink, multi-row upserts of 500 records in one
 * transaction, the day's partitions made first) into a schema with all migrations, and the same
 * into a schema with every migration but 009 (the tables unpartitioned). Then: rows/s of each, bytes per row
 * as stored (table + indexes), and the oldest day removed both ways: the retention's
 * drop_day_partitions against DELETE of the same rows (and the VACUUM that makes their space
 * reusable), with the WAL each writes (what the follower replays). Last, the million-machine volume
 * these bytes per row give.
 */

export interface PostgresBenchOptions {
  machines: number;
  days: number;
  /** Every scored assessment with its forecast (false: only each machine's latest, as the api bench; quicker for many days). */
  forecasts: boolean;
  keep: boolean;
}

const TABLES = ['window_features', 'window_extras', 'assessments', 'forecasts'] as const;
const MACHINE_HOURS_A_DAY = 24_000_000;

interface Written {
  windowsPerSecond: number;
  assessmentsPerSecond: number;
  rows: Record<string, number>;
  bytes: Record<string, number>;
}

/** Every assessment past the warm-up with its forecast, as the inference writes them (the api bench gives only the latest one). */
function assessmentWithForecast(plan: MachinePlan, i: number): MachineAssessment {
  const a = assessmentOf(plan, i);
  return a.warmingUp === null && a.forecast === null ? { ...a, forecast: forecastAt(plan.index) } : a;
}

/** The median of `runs` timings of `read`, in ms. */
async function medianMs(runs: number, read: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await read();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

/** The API's two usual reads (its own queries, on the primary): the machine list's first page, and a machine's last week. */
async function apiReads(pool: pg.Pool, schema: string, machineId: string): Promise<{ list: number; machine: number }> {
  const queries = new ApiQueries(pool, schema);
  const list = await medianMs(5, () => queries.machines(machinesQuery.parse({ limit: '100' })));
  const machine = await medianMs(5, () => queries.machine(machineId, machineQuery.parse({ limit: '168' })));
  return { list, machine };
}

/** Records of hour `h` of every machine, in the sink's shape. */
function* hourly<T>(plans: readonly MachinePlan[], hours: number, of: (plan: MachinePlan, i: number) => T, spec: RecordSpec<T>): Generator<RowsToWrite<null>> {
  for (let h = 0; h < hours; h++) {
    for (const plan of plans) {
      const i = h - (hours - plan.windows);
      if (i >= 0) yield { rows: spec.toRows(of(plan, i)), item: null };
    }
  }
}

/** Writes the records in batches of 500 through the sink; returns records/s. */
async function writeAll(sink: PostgresSink, spec: RecordSpec<never>, records: Iterable<RowsToWrite<null>>): Promise<number> {
  const started = performance.now();
  let batch: RowsToWrite<null>[] = [];
  let n = 0;
  for (const record of records) {
    batch.push(record);
    if (batch.length === 500) {
      await sink.flush(spec.tables, batch);
      n += batch.length;
      batch = [];
    }
  }
  await sink.flush(spec.tables, batch);
  n += batch.length;
  return n / ((performance.now() - started) / 1000);
}

async function sizes(pool: pg.Pool, schema: string): Promise<Pick<Written, 'rows' | 'bytes'>> {
  const rows: Record<string, number> = {};
  const bytes: Record<string, number> = {};
  for (const table of TABLES) {
    // A partitioned table's size is its partitions' (pg_partition_tree of a plain table has no rows).
    const bytesOf = 'coalesce((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree($1::regclass)), pg_total_relation_size($1::regclass))';
    const { rows: r } = await pool.query(`SELECT (SELECT count(*) FROM ${schema}.${table})::bigint AS n, ${bytesOf}::bigint AS bytes`, [`${schema}.${table}`]);
    rows[table] = Number(r[0].n);
    bytes[table] = Number(r[0].bytes);
  }
  return { rows, bytes };
}

function sinkFor(pool: pg.Pool, schema: string, partitioned: boolean, endMs: number): PostgresSink {
  const logger = createLogger({ level: 'warn' });
  const metrics = createRegistry('bench', false);
  const partitions = partitioned ? new PartitionMaintainer({ pool, schema, clock: () => endMs, logger, metrics }) : undefined;
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const retry = { initialMs: 200, maxMs: 2000 };
  return new PostgresSink({ pool, schema, maxRowsPerStatement: 500, retry, clock: Date.now, sleep, logger, metrics, partitions });
}

/**
 * DROP SCHEMA ... CASCADE locks every table and index of the schema in one transaction: with a
 * year of day partitions (1,460 tables) that is more than the server's lock table holds ("out of
 * shared memory"). So the partitions go first, 100 a transaction, those holding foreign keys first.
 */
async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  const { rows } = await pool.query(
    `SELECT c.relname FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid WHERE c.relnamespace = $1::regnamespace AND c.relkind = 'r'
     ORDER BY (c.relname LIKE 'window_extras%' OR c.relname LIKE 'forecasts%') DESC, c.relname`,
    [schema],
  ).catch(() => ({ rows: [] as Array<{ relname: string }> }));
  for (let i = 0; i < rows.length; i += 100) {
    await pool.query(rows.slice(i, i + 100).map((r) => `DROP TABLE IF EXISTS "${schema}"."${String(r.relname)}";`).join('\n'));
  }
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** The fleet into both schemas, in the order part, plain (windows), plain, part (assessments): neither has all the warm caches. */
async function writeFleets(
  pool: pg.Pool,
  schemas: { part: string; plain: string },
  plans: readonly MachinePlan[],
  hours: number,
  endMs: number,
  forecasts: boolean,
): Promise<{ part: Written; plain: Written }> {
  const part = sinkFor(pool, schemas.part, true, endMs);
  const plain = sinkFor(pool, schemas.plain, false, endMs);
  const windows = () => hourly<WindowFeatures>(plans, hours, windowOf, windowFeaturesRecord);
  const assessments = () => hourly<MachineAssessment>(plans, hours, forecasts ? assessmentWithForecast : assessmentOf, assessmentsRecord);
  const partWindows = await writeAll(part, windowFeaturesRecord as RecordSpec<never>, windows());
  const plainWindows = await writeAll(plain, windowFeaturesRecord as RecordSpec<never>, windows());
  const plainAssessments = await writeAll(plain, assessmentsRecord as RecordSpec<never>, assessments());
  const partAssessments = await writeAll(part, assessmentsRecord as RecordSpec<never>, assessments());
  const stored = async (schema: string) => {
    // As autovacuum leaves insert-only tables soon after: sizes of that state, not of a table a second old.
    for (const table of TABLES) await pool.query(`VACUUM (ANALYZE) ${schema}.${table}`);
    return sizes(pool, schema);
  };
  return {
    part: { windowsPerSecond: partWindows, assessmentsPerSecond: partAssessments, ...(await stored(schemas.part)) },
    plain: { windowsPerSecond: plainWindows, assessmentsPerSecond: plainAssessments, ...(await stored(schemas.plain)) },
  };
}

const walLsn = async (pool: pg.Pool): Promise<string> => String((await pool.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn);
const walSince = async (pool: pg.Pool, lsn: string): Promise<number> =>
  Number((await pool.query('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn) AS b', [lsn])).rows[0].b);

interface Removal {
  rows: number;
  ms: number;
  walBytes: number;
  vacuumMs?: number;
}

/** The oldest day out of the partitioned schema: the retention's way. */
async function dropDay(pool: pg.Pool, schema: string, day: string): Promise<Removal & { rowsOfDay: number }> {
  const count = async (table: string, column: string) =>
    Number((await pool.query(`SELECT count(*) AS n FROM ${schema}.${table} WHERE ${column} >= $1::date AND ${column} < $1::date + 1`, [day])).rows[0].n);
  const rows = await count('window_features', 'window_start');
  const rowsOfDay = rows + (await count('window_extras', 'window_start')) + (await count('assessments', 'window_end')) + (await count('forecasts', 'made_at'));
  const lsn = await walLsn(pool);
  const started = performance.now();
  await pool.query(`SELECT ${schema}.drop_day_partitions($1::date)`, [day]);
  return { rows, rowsOfDay, ms: performance.now() - started, walBytes: await walSince(pool, lsn) };
}

/** The same day out of the unpartitioned schema by DELETE (the referencing rows first), then the VACUUM that frees the space. */
async function deleteDay(pool: pg.Pool, schema: string, day: string): Promise<Removal> {
  const lsn = await walLsn(pool);
  const started = performance.now();
  const client = await pool.connect();
  let rows = 0;
  try {
    await client.query('BEGIN');
    const range = (column: string) => `${column} >= $1::date AND ${column} < $1::date + 1`;
    await client.query(`DELETE FROM ${schema}.window_extras WHERE ${range('window_start')}`, [day]);
    await client.query(`DELETE FROM ${schema}.forecasts WHERE ${range('made_at')}`, [day]);
    rows = (await client.query(`DELETE FROM ${schema}.window_features WHERE ${range('window_start')}`, [day])).rowCount ?? 0;
    await client.query(`DELETE FROM ${schema}.assessments WHERE ${range('window_end')}`, [day]);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  const ms = performance.now() - started;
  const vacuumStarted = performance.now();
  for (const table of TABLES) await pool.query(`VACUUM ${schema}.${table}`);
  return { rows, ms, walBytes: await walSince(pool, lsn), vacuumMs: performance.now() - vacuumStarted };
}

/**
 * Two schemas of the bench's own: all migrations, and all but 009 (the partitions): the same
 * tables unpartitioned, with 010's pdm.machine_latest, which the API's queries read.
 */
async function makeSchemas(databaseUrl: string, env: NodeJS.ProcessEnv, stamp: string): Promise<{ part: string; plain: string }> {
  const part = `bench_pg_${stamp}_part`;
  const plain = `bench_pg_${stamp}_plain`;
  const passwords = { writerPassword: env.PDM_WRITER_PASSWORD, analystPassword: env.PDM_ANALYST_PASSWORD };
  await migrate({ url: databaseUrl, schema: part, ...passwords });
  const without009 = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-bench-mig-'));
  try {
    for (const file of fs.readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql') && !f.startsWith('009_'))) {
      fs.copyFileSync(path.join(MIGRATIONS_DIR, file), path.join(without009, file));
    }
    await migrate({ url: databaseUrl, schema: plain, dir: without009, ...passwords });
  } finally {
    fs.rmSync(without009, { recursive: true, force: true });
  }
  return { part, plain };
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const perRow = (w: Written, table: string): number => (w.rows[table] ? w.bytes[table]! / w.rows[table]! : 0);

function printWritten(print: (line: string) => void, part: Written, plain: Written, forecasts: boolean): void {
  print(`  written through the sink (upserts of 500 records a transaction, time order), records/s:`);
  for (const line of formatTable(['', 'partitioned by day', 'unpartitioned (no 009)'], [
    ['windows (window_features + window_extras)', fmt(part.windowsPerSecond), fmt(plain.windowsPerSecond)],
    [
      forecasts ? 'assessments (assessments + 36 forecasts)' : 'assessments (a forecast on the latest only)',
      fmt(part.assessmentsPerSecond),
      fmt(plain.assessmentsPerSecond),
    ],
  ])) print(line);
  print('');
  print('  as stored (table + indexes, after VACUUM ANALYZE):');
  const rows = TABLES.map((t) => [t, fmt(part.rows[t]!), `${(part.bytes[t]! / MiB).toFixed(1)} MiB`, `${perRow(part, t).toFixed(0)} B`,
    `${perRow(plain, t).toFixed(0)} B`]);
  for (const line of formatTable(['table', 'rows', 'size (partitioned)', 'bytes/row', 'bytes/row unpartitioned'], rows)) print(line);
  print('');
}

function printRemoval(print: (line: string) => void, day: string, dropped: Removal & { rowsOfDay: number }, deleted: Removal): void {
  const kib = (b: number) => `${fmt(b / 1024)} KiB`;
  print(`  a day (${day}: ${fmt(dropped.rows)} windows, ${fmt(dropped.rowsOfDay)} rows of the four tables) removed:`);
  for (const line of formatTable(['', 'time', 'WAL written'], [
    ['drop_day_partitions (the retention)', `${dropped.ms.toFixed(0)} ms`, kib(dropped.walBytes)],
    ['DELETE of the same rows, unpartitioned', `${deleted.ms.toFixed(0)} ms`, kib(deleted.walBytes)],
    ['  + VACUUM to reuse their space', `${(deleted.vacuumMs ?? 0).toFixed(0)} ms`, '(included above)'],
  ])) print(line);
  print('');
}

function printMillion(print: (line: string) => void, part: Written): void {
  const machineHour = perRow(part, 'window_features') + perRow(part, 'assessments') + perRow(part, 'forecasts') * 36;
  const day = MACHINE_HOURS_A_DAY * machineHour;
  const [window, assessment, forecast] = (['window_features', 'assessments', 'forecasts'] as const).map((t) => perRow(part, t).toFixed(0));
  const tib = (days: number) => ((days * day) / GiB / 1024).toFixed(1);
  print(`  a million machines: ${fmt(MACHINE_HOURS_A_DAY)} machine-hours a day × ${fmt(machineHour)} bytes` +
    ` (a window ${window}, an assessment ${assessment}, 36 forecast points × ${forecast}; extras not counted)`);
  print(`    = ${(day / GiB).toFixed(0)} GiB a day (window_features alone ${((MACHINE_HOURS_A_DAY * perRow(part, 'window_features')) / GiB).toFixed(1)} GiB);` +
    ` ${tib(30)} TiB at PDM_POSTGRES_RETENTION=30d, ${tib(90)} TiB at 90d, on the primary and again on the follower`);
}

export async function postgresBench(options: PostgresBenchOptions, env: NodeJS.ProcessEnv, print: (line: string) => void): Promise<void> {
  const databaseUrl = env.DATABASE_URL!;
  const hours = options.days * 24;
  // Ends when yesterday began (UTC): its oldest day is one the retention's function may drop.
  const endMs = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS;
  const plans = Array.from({ length: options.machines }, (_, m) => machinePlan(m, { machines: options.machines, hours, endMs }));
  const stamp = String(Date.now());
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const { part, plain } = await makeSchemas(databaseUrl, env, stamp);
  const days = daysBetween(endMs - hours * HOUR, endMs - 1);
  print(`bench postgres: ${fmt(options.machines)} machines × ${options.days} days of hourly windows and assessments (${days[0]} to ${days.at(-1)}),`);
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, load ${os.loadavg()[0]!.toFixed(1)}`;
  print(`  into ${part} (day partitions) and ${plain} (all migrations but 009), machine: ${machine}`);
  print('');
  try {
    const { part: partWritten, plain: plainWritten } = await writeFleets(pool, { part, plain }, plans, hours, endMs, options.forecasts);
    printWritten(print, partWritten, plainWritten, options.forecasts);
    const [partReads, plainReads] = [await apiReads(pool, part, plans[0]!.id), await apiReads(pool, plain, plans[0]!.id)];
    print(`  the API's reads (its queries, median of 5, on the primary) over ${options.days} day partitions / unpartitioned:`);
    print(`    GET /machines?limit=100 ${partReads.list.toFixed(1)} ms / ${plainReads.list.toFixed(1)} ms;` +
      ` GET /machines/<id>?limit=168 ${partReads.machine.toFixed(1)} ms / ${plainReads.machine.toFixed(1)} ms`);
    print('');
    // The second day when there is one: the first day's assessments are all warming up, without forecasts.
    const removed = dayOfMs(endMs - hours * HOUR + (options.days > 1 ? DAY_MS : 0));
    printRemoval(print, removed, await dropDay(pool, part, removed), await deleteDay(pool, plain, removed));
    if (options.forecasts) printMillion(print, partWritten);
  } finally {
    if (options.keep) print(`  kept ${part} and ${plain}`);
    else for (const schema of [part, plain]) await dropSchema(pool, schema).catch((err: Error) => print(`  could not drop ${schema}: ${err.message}`));
    await pool.end();
  }
}
