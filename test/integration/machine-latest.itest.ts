import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ApiQueries } from '../../api/queries';
import { assessmentsQuery, machineQuery, machinesQuery } from '../../api/validation';
import { createLogger } from '../../lib/logger';
import { createRegistry } from '../../lib/metrics';
import { FEATURES, type MachineAssessment, type WindowFeatures } from '../../schemas';
import { MIGRATIONS_DIR, migrate } from '../../sinks/postgres/migrations';
import { PartitionMaintainer } from '../../sinks/postgres/partition.maintainer';
import { assessmentsRecord, windowFeaturesRecord, type RecordSpec } from '../../sinks/postgres/postgres.rows';
import { writerUrlOf } from '../../sinks/postgres/postgres.settings';
import { PostgresSink } from '../../sinks/postgres/postgres.sink';
import { testEnv, uniqueName, waitFor } from './servers';

/**
 * pdm.machine_latest (migration 010) on the real primary and follower, in a schema of this run's
 * own: 010 fills it from a database that has rows; the sink (pdm_writer) keeps it equal to what
 * the rows say through out-of-order, replayed and duplicated batches, none of which moves a
 * pointer backwards; the retention's drop of a day recomputes the machines it touched; pdm_analyst
 * reads it on the follower and can't write it; the API's reads through it answer what the rows
 * say across a long stop and when a row it points at was deleted by hand.
 */

const env = testEnv();
const schema = uniqueName('latest').replace(/-/g, '_');
const HOUR = 3_600_000;
const owner = new pg.Client({ connectionString: env.databaseUrl });
const writer = new pg.Pool({ connectionString: writerUrlOf(env.databaseUrl, process.env.PDM_WRITER_PASSWORD!), max: 4 });
const logger = createLogger({ level: 'silent' });
const metrics = createRegistry('test', false);
const passwords = { writerPassword: process.env.PDM_WRITER_PASSWORD, analystPassword: process.env.PDM_ANALYST_PASSWORD };
const sink = new PostgresSink({
  pool: writer, schema, maxRowsPerStatement: 500, retry: { initialMs: 10, maxMs: 10 }, clock: Date.now, sleep: async () => undefined, logger, metrics,
  partitions: new PartitionMaintainer({ pool: writer, schema, clock: () => Date.UTC(2026, 0, 8), logger, metrics }),
});

const window = (machineId: string, windowStart: number, count = 10): WindowFeatures => {
  const w = { machineId, windowStart, windowEnd: windowStart + HOUR, count, extras: {} } as unknown as WindowFeatures;
  for (const f of FEATURES) w[f] = { count, mean: 20, min: 19, max: 21, stddev: 0.5 };
  return w;
};
/** The assessment of the window starting at `windowStart`: scored or not, with a forecast or not. */
const assessment = (machineId: string, windowStart: number, state: string, scored: boolean, forecast: boolean): MachineAssessment => ({
  machineId,
  windowStart,
  windowEnd: windowStart + HOUR,
  warmingUp: null,
  state,
  deviation: null,
  anomaly: scored ? { score: 2.5, threshold: 9, modelName: 'pdm-anomaly', modelVersion: 'v2' } : null,
  forecast: forecast
    ? { modelName: 'pdm-forecaster', modelVersion: 'v4', stepMillis: HOUR, series: [{ feature: 'tempA', mean: [40], lower: [39], upper: [41], limitLower: null, limitUpper: 80 }] }
    : null,
});

const flush = async <T>(spec: RecordSpec<T>, items: T[]) =>
  expect(await sink.flush(spec.tables, items.map((item) => ({ rows: spec.toRows(item), item })))).toEqual([]);

const latest = async () => (await owner.query(`SELECT * FROM ${schema}.machine_latest ORDER BY machine_id`)).rows;
/** What the rows say, computed the plain way: each machine's newest row of each table. */
const fromRows = async () =>
  (
    await owner.query(`
      WITH ids AS (SELECT machine_id FROM ${schema}.window_features UNION SELECT machine_id FROM ${schema}.assessments UNION SELECT machine_id FROM ${schema}.forecasts),
      w AS (SELECT DISTINCT ON (machine_id) machine_id, window_start, window_end FROM ${schema}.window_features ORDER BY machine_id, window_start DESC),
      a AS (SELECT DISTINCT ON (machine_id) machine_id, window_end, state, warming_up FROM ${schema}.assessments ORDER BY machine_id, window_end DESC),
      n AS (SELECT machine_id, max(window_end) AS e FROM ${schema}.assessments WHERE anomaly_score IS NOT NULL GROUP BY machine_id),
      f AS (SELECT machine_id, max(made_at) AS e FROM ${schema}.forecasts GROUP BY machine_id)
      SELECT ids.machine_id, w.window_start AS last_window_start, w.window_end AS last_window_end, a.window_end AS last_assessment_end,
        a.state AS last_assessment_state, a.warming_up AS last_assessment_warming_up, n.e AS last_anomaly_end, f.e AS last_forecast_at
      FROM ids LEFT JOIN w USING (machine_id) LEFT JOIN a USING (machine_id) LEFT JOIN n USING (machine_id) LEFT JOIN f USING (machine_id)
      ORDER BY 1`)
  ).rows;

const pointerOf = async (machineId: string) => (await latest()).find((r) => r.machine_id === machineId);

/** Three machines' hourly rows of 2026-01-04 to 2026-01-06 (m3 stops on the 4th), written by hand before 010. */
const SEED = `
  SELECT ${schema}.create_day_partitions(d::date) FROM generate_series(date '2026-01-04', date '2026-01-07', interval '1 day') d;
  INSERT INTO ${schema}.window_features (machine_id, window_start, window_end, count, current_count, accx_count, accy_count, accz_count, tempa_count, tempb_count)
  SELECT 'm' || m, t, t + interval '1 hour', 1800, 1800, 1800, 1800, 0, 1800, 1800
  FROM generate_series(1, 3) m, generate_series(timestamptz '2026-01-04 00:00Z', timestamptz '2026-01-06 23:00Z', interval '1 hour') t
  WHERE m < 3 OR t < '2026-01-05';
  INSERT INTO ${schema}.assessments (machine_id, window_start, window_end, anomaly_score, anomaly_threshold, detector_model, detector_version, state)
  SELECT machine_id, window_start, window_end,
    CASE WHEN extract(hour FROM window_start) < 12 THEN 1 END, CASE WHEN extract(hour FROM window_start) < 12 THEN 9 END,
    CASE WHEN extract(hour FROM window_start) < 12 THEN 'pdm-anomaly' END, CASE WHEN extract(hour FROM window_start) < 12 THEN 'v2' END,
    'state-' || extract(hour FROM window_start)
  FROM ${schema}.window_features WHERE machine_id <> 'm2' OR window_start < '2026-01-06';
  INSERT INTO ${schema}.forecasts (machine_id, made_at, target_start, feature, mean, lower, upper, model_version)
  SELECT machine_id, window_end, window_end, 'tempA', 60, 59, 61, 'v3' FROM ${schema}.assessments WHERE window_start < '2026-01-05';
`;

beforeAll(async () => {
  await owner.connect();
  const before010 = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-mig-'));
  for (const file of fs.readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql') && f < '010')) {
    fs.copyFileSync(path.join(MIGRATIONS_DIR, file), path.join(before010, file));
  }
  await migrate({ url: env.databaseUrl, schema, dir: before010, ...passwords });
  fs.rmSync(before010, { recursive: true });
  await owner.query(SEED);
});
afterAll(async () => {
  await writer.end();
  await owner.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
  await owner.end();
});

describe('pdm.machine_latest', () => {
  test('010 fills it from the rows of a database that has them', async () => {
    const applied = await migrate({ url: env.databaseUrl, schema, ...passwords });
    expect(applied.map((m) => m.file)).toEqual(['010_machine_latest.sql']);
    const rows = await latest();
    expect(rows).toEqual(await fromRows());
    expect(rows.map((r) => [r.machine_id, r.last_window_start.toISOString(), r.last_assessment_end.toISOString(), r.last_assessment_state])).toEqual([
      ['m1', '2026-01-06T23:00:00.000Z', '2026-01-07T00:00:00.000Z', 'state-23'],
      ['m2', '2026-01-06T23:00:00.000Z', '2026-01-06T00:00:00.000Z', 'state-23'],
      ['m3', '2026-01-04T23:00:00.000Z', '2026-01-05T00:00:00.000Z', 'state-23'],
    ]);
    expect(rows[0].last_anomaly_end.toISOString()).toBe('2026-01-06T12:00:00.000Z');
    expect(rows[0].last_forecast_at.toISOString()).toBe('2026-01-05T00:00:00.000Z');
  });

  test('the sink keeps it: out-of-order, replayed and duplicated batches never move a pointer backwards', async () => {
    const t = Date.UTC(2026, 0, 8, 10);
    await flush(windowFeaturesRecord, [window('s1', t), window('s1', t + HOUR), window('s1', t + 2 * HOUR)]);
    await flush(assessmentsRecord, [assessment('s1', t, 'ok', true, false), assessment('s1', t + HOUR, 'at-risk', false, true)]);
    expect(await latest()).toEqual(await fromRows());
    const after = await pointerOf('s1');
    expect([after.last_window_start, after.last_assessment_end, after.last_anomaly_end, after.last_forecast_at].map((d) => d.getTime()))
      .toEqual([t + 2 * HOUR, t + 2 * HOUR, t + HOUR, t + 2 * HOUR]);
    expect(after.last_assessment_state).toBe('at-risk');

    // Older rows after newer ones (another partition's backlog), in one batch with a duplicate of the newest.
    await flush(windowFeaturesRecord, [window('s1', t - 5 * HOUR), window('s1', t + 2 * HOUR), window('s1', t - 4 * HOUR, 11)]);
    await flush(assessmentsRecord, [assessment('s1', t - 5 * HOUR, 'off', true, true), assessment('s1', t - 4 * HOUR, 'unknown', true, true)]);
    expect(await pointerOf('s1')).toEqual(after);
    // The first batches again (a replay after a crash): nothing changes, not even the row's version.
    const version = async () => (await owner.query(`SELECT xmin::text FROM ${schema}.machine_latest WHERE machine_id = 's1'`)).rows[0].xmin;
    const before = await version();
    await flush(windowFeaturesRecord, [window('s1', t), window('s1', t + HOUR), window('s1', t + 2 * HOUR)]);
    await flush(assessmentsRecord, [assessment('s1', t, 'ok', true, false), assessment('s1', t + HOUR, 'at-risk', false, true)]);
    expect(await version()).toBe(before);
    expect(await latest()).toEqual(await fromRows());

    // A newer assessment moves them on; a correction of the latest one (same window, new state) is taken.
    await flush(assessmentsRecord, [assessment('s1', t + 2 * HOUR, 'ok', true, false)]);
    await flush(assessmentsRecord, [assessment('s1', t + 2 * HOUR, 'silent', true, false)]);
    expect(await latest()).toEqual(await fromRows());
    expect((await pointerOf('s1')).last_assessment_state).toBe('silent');
    expect((await pointerOf('s1')).last_anomaly_end.getTime()).toBe(t + 3 * HOUR);
  });

  test('the retention\'s drop of a day recomputes the machines that had a pointer in it', async () => {
    const dropped = await writer.query(`SELECT ${schema}.drop_day_partitions('2026-01-04')`);
    expect(dropped.rows).toHaveLength(4);
    const rows = await latest();
    expect(rows).toEqual(await fromRows());
    // m3's windows were all on the 4th; its last assessment ended at midnight, on the 5th, and stays.
    const m3 = rows.find((r) => r.machine_id === 'm3');
    expect([m3.last_window_start, m3.last_assessment_end.toISOString(), m3.last_forecast_at.toISOString()])
      .toEqual([null, '2026-01-05T00:00:00.000Z', '2026-01-05T00:00:00.000Z']);
    await writer.query(`SELECT ${schema}.drop_day_partitions('2026-01-05')`);
    expect((await latest()).map((r) => r.machine_id)).toEqual(['m1', 'm2', 's1']);
    expect(await latest()).toEqual(await fromRows());
  });

  test('pdm_analyst reads it on the follower and can\'t write it', async () => {
    const u = new URL(env.followerUrl);
    u.username = 'pdm_analyst';
    u.password = encodeURIComponent(process.env.PDM_ANALYST_PASSWORD!);
    const follower = new pg.Client({ connectionString: u.toString() });
    const p = new URL(env.databaseUrl);
    p.username = 'pdm_analyst';
    p.password = encodeURIComponent(process.env.PDM_ANALYST_PASSWORD!);
    const primary = new pg.Client({ connectionString: p.toString() });
    await Promise.all([follower.connect(), primary.connect()]);
    try {
      const there = async () => (await follower.query(`SELECT machine_id FROM ${schema}.machine_latest ORDER BY 1`).catch(() => ({ rows: [] }))).rows;
      await waitFor('the follower to replay machine_latest', async () => (await there()).length === 3, 30_000);
      expect((await there()).map((r) => r.machine_id)).toEqual(['m1', 'm2', 's1']);
      await expect(primary.query(`UPDATE ${schema}.machine_latest SET last_window_start = NULL`)).rejects.toMatchObject({ code: '42501' });
      await expect(primary.query(`SELECT ${schema}.recompute_machine_latest(NULL)`)).rejects.toMatchObject({ code: '42501' });
    } finally {
      await Promise.all([follower.end(), primary.end()]);
    }
  });

  test('the API reads through it: a page across a long stop, and a pointed-at row deleted by hand, answer what the rows say', async () => {
    const api = new ApiQueries(owner, schema, () => Date.UTC(2026, 0, 21));
    // m2 comes back on the 20th after two weeks off: its page must reach back across the gap.
    await flush(windowFeaturesRecord, [window('m2', Date.UTC(2026, 0, 20, 5))]);
    await flush(assessmentsRecord, [assessment('m2', Date.UTC(2026, 0, 20, 5), 'ok', true, false)]);
    const m2 = await api.machine('m2', machineQuery.parse({ limit: '3' }));
    expect(m2!.windows.map((w) => w.windowStart)).toEqual(['2026-01-20T05:00:00.000Z', '2026-01-06T23:00:00.000Z', '2026-01-06T22:00:00.000Z']);
    const scores = await api.assessments('m2', assessmentsQuery.parse({ limit: '2' }));
    expect(scores.items.map((a) => a.windowEnd)).toEqual(['2026-01-20T06:00:00.000Z', '2026-01-06T00:00:00.000Z']);

    // Rows deleted by hand (no trigger runs on DELETE): the pointers are stale, the answers are not.
    await owner.query(`DELETE FROM ${schema}.window_features WHERE machine_id = 'm1' AND window_start = '2026-01-06 23:00Z'`);
    await owner.query(`DELETE FROM ${schema}.assessments WHERE machine_id = 'm1' AND window_end >= '2026-01-06 12:00Z'`);
    const m1 = await api.machine('m1', machineQuery.parse({ limit: '1' }));
    expect(m1!.lastWindow.windowStart).toBe('2026-01-06T22:00:00.000Z');
    expect(m1!.windows.map((w) => w.windowStart)).toEqual(['2026-01-06T22:00:00.000Z']);
    expect(m1!.latestAssessment!.windowEnd).toBe('2026-01-06T11:00:00.000Z');
    expect(m1!.latestAnomaly!.windowEnd).toBe('2026-01-06T11:00:00.000Z');
    const list = await api.machines(machinesQuery.parse({ limit: '10' }));
    expect(list.items.map((m) => [m.machineId, m.lastWindow.windowStart])).toEqual([
      ['m1', '2026-01-06T22:00:00.000Z'],
      ['m2', '2026-01-20T05:00:00.000Z'],
      ['s1', '2026-01-08T12:00:00.000Z'],
    ]);
    expect(await api.machine('m3', machineQuery.parse({ limit: '1' }))).toBeUndefined();
  });
});
