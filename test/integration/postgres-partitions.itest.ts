import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createLogger } from '../../lib/logger';
import { createRegistry } from '../../lib/metrics';
import { FEATURES, type WindowFeatures } from '../../schemas';
import { MIGRATIONS_DIR, migrate } from '../../sinks/postgres/migrations';
import { PartitionMaintainer } from '../../sinks/postgres/partition.maintainer';
import { windowFeaturesRecord } from '../../sinks/postgres/postgres.rows';
import { writerUrlOf } from '../../sinks/postgres/postgres.settings';
import { PostgresSink } from '../../sinks/postgres/postgres.sink';
import { testEnv, uniqueName, waitFor } from './servers';

/**
 * The day partitions of migration 009 on the real primary and follower, in a schema of this run's
 * own: 009 converts tables holding rows (every row kept, the follower following), the sink (as
 * pdm_writer) makes the partitions its rows need, odd times included, and upserts stay idempotent;
 * two sinks making the same day at once both succeed; the retention drops whole old days and keeps
 * the rest; pdm_analyst reads a partition made a moment ago on the follower and can't make or drop one.
 */

const env = testEnv();
const schema = uniqueName('part').replace(/-/g, '_');
const HOUR = 3_600_000;
const owner = new pg.Client({ connectionString: env.databaseUrl });
const writer = new pg.Pool({ connectionString: writerUrlOf(env.databaseUrl, process.env.PDM_WRITER_PASSWORD!), max: 4 });
const asAnalyst = (url: string) => {
  const u = new URL(url);
  u.username = 'pdm_analyst';
  u.password = encodeURIComponent(process.env.PDM_ANALYST_PASSWORD!);
  return new pg.Client({ connectionString: u.toString() });
};
const logger = createLogger({ level: 'silent' });
const metrics = createRegistry('test', false);
const passwords = { writerPassword: process.env.PDM_WRITER_PASSWORD, analystPassword: process.env.PDM_ANALYST_PASSWORD };

const maintainer = (clockMs: number, retentionMs?: number) =>
  new PartitionMaintainer({ pool: writer, schema, clock: () => clockMs, retentionMs, logger, metrics });

const sinkWith = (partitions: PartitionMaintainer) =>
  new PostgresSink({ pool: writer, schema, maxRowsPerStatement: 500, retry: { initialMs: 10, maxMs: 10 }, clock: Date.now, sleep: async () => undefined,
    logger, metrics, partitions });

const window = (machineId: string, windowStart: number): WindowFeatures => {
  const extras = { pressure: { count: 10, mean: 4, min: 3, max: 5, stddev: 0.5 } };
  const w = { machineId, windowStart, windowEnd: windowStart + HOUR, count: 10, extras } as unknown as WindowFeatures;
  for (const f of FEATURES) w[f] = { count: 10, mean: 20, min: 19, max: 21, stddev: 0.5 };
  return w;
};
/** A counter's value for one label value. */
const metricValue = async (name: string, label: string, value: string): Promise<number> =>
  (await metrics.getSingleMetric(name)!.get()).values.find((v) => v.labels[label] === value)?.value ?? 0;

const asRecords = (windows: WindowFeatures[]) => windows.map((w) => ({ rows: windowFeaturesRecord.toRows(w), item: w }));

/** Every row of a table as text, in key order: equal snapshots are equal contents. */
const snapshot = async (table: string, key: string): Promise<{ n: number; digest: string }> =>
  (await owner.query(`SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY ${key}), '')) AS digest FROM ${schema}.${table} t`)).rows[0];

const KEYS = {
  window_features: 'machine_id, window_start',
  window_extras: 'machine_id, window_start, channel',
  assessments: 'machine_id, window_end',
  forecasts: 'machine_id, made_at, target_start, feature',
};

/** The partition each row of `table` is in, by the row's machine. */
const partitionOf = async (table: string, machineId: string): Promise<string[]> =>
  (await owner.query(`SELECT tableoid::regclass::text AS p FROM ${schema}.${table} WHERE machine_id = $1 ORDER BY 1`, [machineId])).rows
    .map((r) => r.p.replace(`${schema}.`, ''));

/** Three machines' hourly rows of 2026-01-04 to 2026-01-06 in the four tables, as the sink would have written them before 009. */
const SEED = `
  INSERT INTO ${schema}.window_features (machine_id, window_start, window_end, count,
    current_count, accx_count, accy_count, accz_count, tempa_count, tempb_count, current_mean, tempa_max)
  SELECT 'm' || m, t, t + interval '1 hour', 1800, 1800, 1800, 1800, 0, 1800, 1800, m * 10 + extract(hour FROM t), 60 + m
  FROM generate_series(1, 3) m, generate_series(timestamptz '2026-01-04 00:00Z', timestamptz '2026-01-06 23:00Z', interval '1 hour') t;
  INSERT INTO ${schema}.window_extras (machine_id, window_start, channel, count, mean, min, max, stddev)
  SELECT machine_id, window_start, 'pressure', 1790, 4.5, 4, 5, 0.25 FROM ${schema}.window_features WHERE machine_id = 'm1';
  INSERT INTO ${schema}.assessments (machine_id, window_start, window_end, anomaly_score, anomaly_threshold, detector_model, detector_version, state, drivers)
  SELECT machine_id, window_start, window_end, current_mean / 10, 9, 'pdm-anomaly', 'v2', 'ok', '[{"channel": "tempA.mean"}]' FROM ${schema}.window_features;
  INSERT INTO ${schema}.forecasts (machine_id, made_at, target_start, feature, mean, lower, upper, model_version)
  SELECT machine_id, window_end, window_end + h * interval '1 hour', 'tempA', 60 + h, 59, 61 + h, 'v3' FROM ${schema}.assessments, generate_series(0, 1) h;
`;

beforeAll(() => owner.connect());
afterAll(async () => {
  await writer.end();
  await owner.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
  await owner.end();
});

describe('day partitions', () => {
  test('009 converts tables holding rows: every row kept, in its day partition, keys and indexes by their names, and the follower follows', async () => {
    const before009 = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-mig-'));
    for (const file of fs.readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql') && f < '009')) {
      fs.copyFileSync(path.join(MIGRATIONS_DIR, file), path.join(before009, file));
    }
    await migrate({ url: env.databaseUrl, schema, dir: before009, ...passwords });
    fs.rmSync(before009, { recursive: true });
    await owner.query(SEED);
    const before: Record<string, { n: number; digest: string }> = {};
    for (const [t, key] of Object.entries(KEYS)) before[t] = await snapshot(t, key);
    expect(before.window_features!.n).toBe(3 * 72);

    const applied = await migrate({ url: env.databaseUrl, schema, ...passwords });
    expect(applied.map((m) => m.file)).toEqual(['009_day_partitions.sql', '010_machine_latest.sql']);
    for (const [t, key] of Object.entries(KEYS)) expect(await snapshot(t, key)).toEqual(before[t]);

    const tables = Object.keys(KEYS);
    const kinds = await owner.query('SELECT relname, relkind FROM pg_class WHERE relnamespace = $1::regnamespace AND relname = ANY($2) ORDER BY 1', [
      schema,
      tables,
    ]);
    expect(kinds.rows).toEqual(Object.keys(KEYS).sort().map((relname) => ({ relname, relkind: 'p' })));
    const indexes = await owner.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = ANY($2) ORDER BY 1`, [schema, Object.keys(KEYS)]);
    expect(indexes.rows.map((r) => r.indexname)).toEqual([
      'assessments_pkey', 'assessments_window_end', 'forecasts_machine_target', 'forecasts_pkey',
      'window_extras_channel', 'window_extras_pkey', 'window_features_pkey', 'window_features_window_start',
    ]);
    // A window starting on the 4th is in the 4th's partition; its assessment ends at midnight after the last one: the 7th.
    const days = (table: string, ...ds: string[]) => new Set(ds.map((d) => `${table}_p202601${d}`));
    expect(new Set(await partitionOf('window_features', 'm2'))).toEqual(days('window_features', '04', '05', '06'));
    expect(new Set(await partitionOf('assessments', 'm2'))).toEqual(days('assessments', '04', '05', '06', '07'));
    expect(new Set(await partitionOf('window_extras', 'm1'))).toEqual(days('window_extras', '04', '05', '06'));

    const follower = asAnalyst(env.followerUrl);
    await follower.connect();
    try {
      const forecastsThere = async () =>
        (await follower.query(`SELECT count(*)::int AS n FROM ${schema}.forecasts`).catch(() => ({ rows: [{ n: -1 }] }))).rows[0].n;
      await waitFor('the follower to replay 009', async () => (await forecastsThere()) === before.forecasts!.n, 30_000);
      expect((await follower.query(`SELECT count(*)::int AS n FROM ${schema}.window_channels`)).rows[0].n).toBe(3 * 72 * 6 + 72);
    } finally {
      await follower.end();
    }
  });

  test('the sink (pdm_writer) makes the partitions of the days it writes, odd times included, and a replay changes no row', async () => {
    const sink = sinkWith(maintainer(Date.UTC(2026, 0, 8, 12)));
    const windows = [
      window('w1', Date.UTC(2026, 0, 8, 10)),
      window('w1', Date.UTC(2026, 0, 9, 23)),
      window('w-epoch', 0),
      window('w-far', Date.UTC(2999, 11, 31, 23)),
      window('w-beyond', Date.UTC(12000, 0, 1)),
      window('w-bc', Date.parse('-000100-01-01T00:00:00Z')),
    ];
    expect(await sink.flush(windowFeaturesRecord.tables, asRecords(windows))).toEqual([]);
    expect(await partitionOf('window_features', 'w1')).toEqual(['window_features_p20260108', 'window_features_p20260109']);
    expect(await partitionOf('window_extras', 'w1')).toEqual(['window_extras_p20260108', 'window_extras_p20260109']);
    expect(await partitionOf('window_features', 'w-epoch')).toEqual(['window_features_p19700101']);
    expect(await partitionOf('window_features', 'w-far')).toEqual(['window_features_p29991231']);
    expect(await partitionOf('window_features', 'w-beyond')).toEqual(['window_features_p120000101']);
    expect(await partitionOf('window_extras', 'w-beyond')).toEqual(['window_extras_p120000101']);
    expect(await partitionOf('window_features', 'w-bc')).toEqual(['window_features_pbc01010101']);
    const bc = await owner.query(`SELECT window_start::text AS t FROM ${schema}.window_features WHERE machine_id = 'w-bc'`);
    expect(bc.rows[0].t).toBe('0101-01-01 00:00:00+00 BC');

    const versions = async () =>
      (await owner.query(`SELECT machine_id, window_start, xmin::text FROM ${schema}.window_features WHERE machine_id LIKE 'w%' ORDER BY 1, 2`)).rows;
    const first = await versions();
    // Another sink, which has made no day yet, replays the batch: the same rows, not even a new row version.
    expect(await sinkWith(maintainer(Date.UTC(2026, 0, 8, 12))).flush(windowFeaturesRecord.tables, asRecords(windows))).toEqual([]);
    expect(await versions()).toEqual(first);
    expect(first).toHaveLength(6);
  });

  test('a day dropped under a sink that made it (another sink\'s retention) is made again, and its row is written, not refused', async () => {
    const sink = sinkWith(maintainer(Date.UTC(2026, 0, 12)));
    expect(await sink.flush(windowFeaturesRecord.tables, asRecords([window('again', Date.UTC(2026, 0, 12, 1))]))).toEqual([]);
    await owner.query(`SELECT ${schema}.drop_day_partitions('2026-01-12')`);
    const failures = () => metricValue('pdm_sink_postgres_write_failures_total', 'code', 'PG_23514');
    const failedBefore = await failures();
    expect(await sink.flush(windowFeaturesRecord.tables, asRecords([window('again', Date.UTC(2026, 0, 12, 2))]))).toEqual([]);
    expect(await failures()).toBe(failedBefore + 1);
    expect(await partitionOf('window_features', 'again')).toEqual(['window_features_p20260112']);
  });

  test('two sinks making the same days at once both succeed, and each partition is made once', async () => {
    const days = ['2026-02-01', '2026-02-02'];
    const [a, b] = await Promise.all([maintainer(Date.UTC(2026, 1, 1)).ensure(days), maintainer(Date.UTC(2026, 1, 1)).ensure(days)]);
    const expected = ['assessments', 'forecasts', 'window_extras', 'window_features'].flatMap((t) => [`${t}_p20260201`, `${t}_p20260202`]);
    expect([...a, ...b].sort()).toEqual(expected.sort());
  });

  test('the retention drops whole days past it (children first) and keeps the rest', async () => {
    const dropped = () => metricValue('pdm_postgres_partitions_dropped_total', 'table', 'window_features');
    const droppedBefore = await dropped();
    // On 2026-01-18 at noon a retention of 3 days keeps what ended after the 15th, 12:00.
    const result = await maintainer(Date.UTC(2026, 0, 18, 12), 3 * 86_400_000).maintain();

    const allFour = (day: string) => ['window_extras', 'forecasts', 'window_features', 'assessments'].map((t) => `${t}_p${day}`);
    const old = ['bc01010101', '19700101', '20260104', '20260105', '20260106', '20260107', '20260108', '20260109', '20260112'];
    expect(result.dropped).toEqual(old.flatMap(allFour));
    expect(await dropped()).toBe(droppedBefore + old.length);
    expect([...result.created].sort()).toEqual(['20260118', '20260119', '20260120'].flatMap(allFour).sort());
    // 01-18 to 01-20 (ahead), 02-01 and 02-02 (made by two sinks), 2999-12-31 and 12000-01-01.
    expect(result.partitions).toEqual({ window_features: 7, window_extras: 7, assessments: 7, forecasts: 7 });

    const left = await owner.query(`SELECT machine_id, tableoid::regclass::text AS p FROM ${schema}.window_features ORDER BY window_start`);
    expect(left.rows).toEqual([
      { machine_id: 'w-far', p: `${schema}.window_features_p29991231` },
      { machine_id: 'w-beyond', p: `${schema}.window_features_p120000101` },
    ]);
    expect((await owner.query(`SELECT count(*)::int AS n FROM ${schema}.window_extras`)).rows[0].n).toBe(2);
    expect((await owner.query(`SELECT count(*)::int AS n FROM ${schema}.assessments`)).rows[0].n).toBe(0);
    // Again: nothing more to drop.
    expect((await maintainer(Date.UTC(2026, 0, 18, 12), 3 * 86_400_000).maintain()).dropped).toEqual([]);
  });

  test('pdm_analyst reads a partition made a moment ago on the follower, and can neither make nor drop one', async () => {
    const day = Date.UTC(2026, 2, 1, 6);
    expect(await sinkWith(maintainer(day)).flush(windowFeaturesRecord.tables, asRecords([window('fresh', day)]))).toEqual([]);
    const follower = asAnalyst(env.followerUrl);
    const primary = asAnalyst(env.databaseUrl);
    await follower.connect();
    await primary.connect();
    try {
      const partition = `${schema}.window_features_p20260301`;
      const there = async () => (await follower.query('SELECT to_regclass($1) AS t', [partition])).rows[0].t !== null;
      await waitFor('the follower to replay the new partition', there, 30_000);
      const rowThere = async () => (await follower.query(`SELECT count(*)::int AS n FROM ${partition}`)).rows[0].n === 1;
      await waitFor('the follower to replay its row', rowThere, 30_000);
      expect((await follower.query(`SELECT machine_id FROM ${schema}.window_extras_p20260301`)).rows).toEqual([{ machine_id: 'fresh' }]);
      const ofTheDay = `SELECT count(*)::int AS n FROM ${schema}.window_features WHERE window_start >= '2026-03-01' AND window_start < '2026-03-02'`;
      expect((await follower.query(ofTheDay)).rows[0].n).toBe(1);
      for (const sql of [
        `SELECT ${schema}.create_day_partitions('2026-04-01')`,
        `SELECT ${schema}.drop_day_partitions('2026-03-01')`,
        `INSERT INTO ${schema}.window_features_p20260301 SELECT * FROM ${schema}.window_features_p20260301`,
        `DROP TABLE ${schema}.window_extras_p20260301`,
      ]) await expect(primary.query(sql)).rejects.toMatchObject({ code: '42501' });
      // Even the writer's way to drop refuses today and yesterday.
      await expect(writer.query(`SELECT ${schema}.drop_day_partitions(current_date - 1)`)).rejects.toMatchObject({
        message: expect.stringContaining('only days over for a whole day'),
      });
    } finally {
      await follower.end();
      await primary.end();
    }
  });
});
