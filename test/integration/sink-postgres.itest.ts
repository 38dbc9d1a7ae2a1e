import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { DLQ_HEADERS } from '../../lib/dead-letter';
import { connectProducer, type OutgoingRecord } from '../../lib/kafka/producer';
import { createRegistry } from '../../lib/registry';
import { Serde } from '../../lib/serde';
import { keySubject, TOPICS, valueSubject } from '../../lib/topics';
import { FEATURES, SCHEMA_FILES, avroType, schemaText, type AlertEvent, type MachineAssessment, type WindowFeatures, type WindowKey } from '../../schemas';
import { forecastPoints } from '../../schemas/assessments';
import { consumeAll } from './consume';
import { killServices, startService, testEnv, uniqueName, useIsolatedTopics, useOwnSchema, waitFor, type RunningService } from './servers';

/**
 * `pdmctl run sink-postgres` as a process against the real Kafka, registry, primary and follower,
 * in a schema of this run's own (migrated by the sink at start): records land as rows (an
 * assessment as a row of assessments and its forecast's rows of forecasts), a replay
 * with a new group changes no row (not even its row version), refused records go to the dead-letter
 * topic, pdm_analyst reads on the follower and writes nowhere, and a database outage loses nothing.
 */

const env = testEnv();
const { prefix, connection } = useIsolatedTopics('spg', 2);
const { schema, owner } = useOwnSchema('spg');
const t0 = Date.UTC(2026, 0, 5, 8);
const HOUR = 3_600_000;


const startSink = (extra: NodeJS.ProcessEnv): RunningService =>
  startService(['run', 'sink-postgres', '--metrics-port', '0'], { ...process.env, PDM_TOPIC_PREFIX: prefix, PDM_POSTGRES_SCHEMA: schema, PDM_SINK_POSTGRES_PROBE_INTERVAL: '1s', PDM_SINK_POSTGRES_RETRY_MAX: '2s', ...extra });

/** The sum of a metric's samples whose labels include every one of `labels`. */
const metricValue = async (port: string, name: string, labels: Record<string, string> = {}): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => m[2]!.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
};

const window = (machineId: string, windowStart: number, mean: number): WindowFeatures => {
  const w = { machineId, windowStart, windowEnd: windowStart + HOUR, count: 1800, extras: {} } as unknown as WindowFeatures;
  for (const f of FEATURES) w[f] = f === 'accZ' ? { count: 0, mean: null, min: null, max: null, stddev: null } : { count: 1800, mean, min: mean - 1, max: mean + 2, stddev: 0.25 };
  // A pump has two extra channels; its flow meter reported nothing in the first hour.
  if (machineId.endsWith('pump-c')) w.extras = { pressure: { count: 1790, mean: mean / 10, min: mean / 10 - 0.5, max: mean / 10 + 0.5, stddev: 0.125 }, flow: windowStart === t0 ? { count: 0, mean: null, min: null, max: null, stddev: null } : { count: 1800, mean: 30, min: 29, max: 31, stddev: 1 } };
  return w;
};

const alert = (alertId: string, machineId: string, createdAt: number, over: Partial<AlertEvent> = {}): AlertEvent => ({
  drivers: [],
  alertId,
  dedupKey: `${machineId}:tempA:FORECAST_BREACH`,
  machineId,
  status: 'FIRING',
  severity: 'WARNING',
  kind: 'FORECAST_BREACH',
  feature: 'tempA',
  windowEnd: createdAt - 60_000,
  predictedBreachAt: createdAt + 2 * HOUR,
  score: 81.5,
  threshold: 80,
  modelName: 'pdm-forecaster',
  modelVersion: 'v3',
  message: `tempA of ${machineId} will pass 80 within 2 h`,
  createdAt,
  ...over,
});

/** An assessment of the window ending at `windowEnd`, with a forecast of `steps` windows of tempA and current; none while warming up. */
const assessment = (machineId: string, windowEnd: number, steps: number, over: Partial<MachineAssessment> = {}): MachineAssessment => ({
  machineId,
  windowStart: windowEnd - HOUR,
  windowEnd,
  warmingUp: null,
  state: null,
  deviation: null,
  anomaly: { score: 2.5 + (windowEnd - t0) / HOUR, threshold: 9, modelName: 'pdm-anomaly', modelVersion: 'v2' },
  forecast: {
    modelName: 'pdm-forecaster',
    modelVersion: 'v4',
    stepMillis: HOUR,
    series: ['tempA', 'current'].map((feature) => {
      const k = Array.from({ length: steps }, (_, i) => i);
      return { feature, mean: k.map((i) => 40 + i), lower: k.map((i) => 39 + i), upper: k.map((i) => 41 + i), limitLower: feature === 'current' ? 1 : null, limitUpper: 80 };
    }),
  },
  ...over,
});

async function encoders() {
  const serde = new Serde(createRegistry(env.registryUrl).client);
  const wf = `${prefix}${TOPICS.windowFeatures}`;
  const al = `${prefix}${TOPICS.alerts}`;
  const as = `${prefix}${TOPICS.assessments}`;
  const [windowKey, windowValue, alertKey, alertValue, assessmentKey, assessmentValue] = await Promise.all([
    serde.encoder<WindowKey>(keySubject(wf), avroType(SCHEMA_FILES.windowKey), schemaText(SCHEMA_FILES.windowKey)),
    serde.encoder<WindowFeatures>(valueSubject(wf), avroType(SCHEMA_FILES.windowFeatures), schemaText(SCHEMA_FILES.windowFeatures)),
    serde.encoder<string>(keySubject(al), avroType(SCHEMA_FILES.machineId), schemaText(SCHEMA_FILES.machineId)),
    serde.encoder<AlertEvent>(valueSubject(al), avroType(SCHEMA_FILES.alertEvent), schemaText(SCHEMA_FILES.alertEvent)),
    serde.encoder<string>(keySubject(as), avroType(SCHEMA_FILES.machineId), schemaText(SCHEMA_FILES.machineId)),
    serde.encoder<MachineAssessment>(valueSubject(as), avroType(SCHEMA_FILES.machineAssessment), schemaText(SCHEMA_FILES.machineAssessment)),
  ]);
  return {
    window: (w: WindowFeatures): OutgoingRecord => ({ key: windowKey({ machineId: w.machineId, windowStart: w.windowStart }), value: windowValue(w), headers: { 'pdm.window.final': 'true' } }),
    alert: (a: AlertEvent): OutgoingRecord => ({ key: alertKey(a.machineId), value: alertValue(a) }),
    assessment: (a: MachineAssessment): OutgoingRecord => ({ key: assessmentKey(a.machineId), value: assessmentValue(a) }),
  };
}

async function produce(windows: OutgoingRecord[], alerts: OutgoingRecord[], assessments: OutgoingRecord[] = []): Promise<void> {
  const producer = await connectProducer(connection);
  await producer.send([
    { topic: `${prefix}${TOPICS.windowFeatures}`, records: windows },
    { topic: `${prefix}${TOPICS.alerts}`, records: alerts },
    { topic: `${prefix}${TOPICS.assessments}`, records: assessments },
  ]);
  await producer.disconnect();
}

const count = async (table: string, where = 'true'): Promise<number> => (await owner.query(`SELECT count(*)::int AS n FROM ${schema}.${table} WHERE ${where}`)).rows[0].n as number;
/** Every row with its row version (xmin): a rewrite of an identical row would show as a new xmin. */
const snapshot = async (table: string, key: string) => (await owner.query(`SELECT xmin::text AS xmin, * FROM ${schema}.${table} ORDER BY ${key}`)).rows;

describe('pdmctl run sink-postgres', () => {
  // A sink left running by a failed test must not consume the next test's records.
  afterEach(() => killServices());

  // Three machines, 8 hours each: 24 windows; 6 alerts; plus a window the database refuses (its
  // end before its start), a record that is not Avro, and an early (not final) update.
  const machines = ['lathe-a', 'mill-b', 'pump-c'].map((m) => `${schema}-${m}`);
  const goodWindows = machines.flatMap((m, i) => Array.from({ length: 8 }, (_, h) => window(m, t0 + h * HOUR, 40 + i + h / 10)));
  const goodAlerts = machines.flatMap((m, i) => [alert(`${m}-fire`, m, t0 + (i + 1) * HOUR), alert(`${m}-resolve`, m, t0 + (i + 5) * HOUR, { status: 'RESOLVED', severity: i === 2 ? 'CRITICAL' : 'INFO', kind: 'ANOMALY', feature: null, predictedBreachAt: null })]);
  // Assessments: the first machine warming up for two windows, then assessed with a 6-step
  // forecast; the others assessed every window. Plus one the database refuses (a forecast point
  // before the window it was made at: its assessment row must not land either) and one that can't
  // be rows (a NaN score).
  const goodAssessments = machines.flatMap((m, i) =>
    Array.from({ length: 4 }, (_, h) => (i === 0 && h < 2 ? assessment(m, t0 + (h + 1) * HOUR, 0, { warmingUp: 'pdm-forecaster: too little history', anomaly: null, forecast: null }) : assessment(m, t0 + (h + 1) * HOUR, 6))),
  );
  const goodExtraRows = goodWindows.reduce((n, w) => n + Object.keys(w.extras).length, 0);
  const goodForecastRows = goodAssessments.reduce((n, a) => n + forecastPoints(a).length, 0);
  const firstTotal = goodWindows.length + 3 + goodAlerts.length + goodAssessments.length + 2;

  test('window features, alerts and assessments land as rows; refused records are dead-lettered; a replay with a new group changes no row', async () => {
    const encode = await encoders();
    const broken = { ...window(machines[0]!, t0 + 100 * HOUR, 1), windowEnd: t0 + 99 * HOUR };
    const early = { ...encode.window(window(machines[1]!, t0 + 50 * HOUR, 1)), headers: { 'pdm.window.final': 'false' } };
    const pastForecast = assessment(machines[1]!, t0 + 20 * HOUR, 2);
    // Its second step ten hours before the window it was made at.
    pastForecast.forecast!.stepMillis = -10 * HOUR;
    const notANumber = assessment(machines[2]!, t0 + 21 * HOUR, 1, { anomaly: { score: NaN, threshold: 9, modelName: 'pdm-anomaly', modelVersion: 'v2' } });
    await produce(
      [...goodWindows.map(encode.window), encode.window(broken), { key: Buffer.from('x'), value: Buffer.from('not avro') }, early],
      goodAlerts.map(encode.alert),
      [...goodAssessments.map(encode.assessment), encode.assessment(pastForecast), encode.assessment(notANumber)],
    );

    const first = startSink({ PDM_SINK_POSTGRES_GROUP_ID: uniqueName('spg-group') });
    const port = await first.metricsPort();
    await waitFor(
      'the good records to land as rows',
      async () =>
        (await count('window_features').catch(() => 0)) === goodWindows.length &&
        (await count('window_extras').catch(() => 0)) === goodExtraRows &&
        (await count('alerts').catch(() => 0)) === goodAlerts.length &&
        (await count('assessments').catch(() => 0)) === goodAssessments.length &&
        (await count('forecasts').catch(() => 0)) === goodForecastRows,
      60_000,
    ).catch((err) => {
      process.stderr.write(first.output());
      throw err;
    });
    expect(first.output()).toContain('"role":"pdm_writer"');
    const row = (await owner.query(`SELECT * FROM ${schema}.window_features WHERE machine_id = $1 AND window_start = $2`, [machines[2], new Date(t0 + 3 * HOUR)])).rows[0];
    expect(row).toMatchObject({ window_end: new Date(t0 + 4 * HOUR), count: '1800', current_mean: 42.3, current_min: 41.3, accz_count: '0', accz_mean: null, tempb_stddev: 0.25 });
    const extras = (await owner.query(`SELECT channel, count, mean, min, max, stddev FROM ${schema}.window_extras WHERE machine_id = $1 AND window_start = $2 ORDER BY channel`, [machines[2], new Date(t0)])).rows;
    expect(extras).toEqual([
      { channel: 'flow', count: '0', mean: null, min: null, max: null, stddev: null },
      { channel: 'pressure', count: '1790', mean: 4.2, min: 3.7, max: 4.7, stddev: 0.125 },
    ]);
    expect(goodExtraRows).toBe(16);
    const resolved = (await owner.query(`SELECT * FROM ${schema}.alerts WHERE alert_id = $1`, [`${machines[2]}-resolve`])).rows[0];
    expect(resolved).toMatchObject({ status: 'RESOLVED', severity: 'CRITICAL', kind: 'ANOMALY', feature: null, predicted_breach_at: null, created_at: new Date(t0 + 7 * HOUR), model_version: 'v3' });
    expect(await count('window_features', `window_start >= '${new Date(t0 + 50 * HOUR).toISOString()}'`)).toBe(0);

    const warming = (await owner.query(`SELECT * FROM ${schema}.assessments WHERE machine_id = $1 AND window_end = $2`, [machines[0], new Date(t0 + HOUR)])).rows[0];
    expect(warming).toMatchObject({ window_start: new Date(t0), warming_up: 'pdm-forecaster: too little history', anomaly_score: null, anomaly_threshold: null, detector_version: null, forecaster_model: null, forecaster_version: null });
    const assessed = (await owner.query(`SELECT * FROM ${schema}.assessments WHERE machine_id = $1 AND window_end = $2`, [machines[1], new Date(t0 + 3 * HOUR)])).rows[0];
    expect(assessed).toMatchObject({ warming_up: null, anomaly_score: 5.5, anomaly_threshold: 9, detector_model: 'pdm-anomaly', detector_version: 'v2', forecaster_model: 'pdm-forecaster', forecaster_version: 'v4' });
    const points = (await owner.query(`SELECT * FROM ${schema}.forecasts WHERE machine_id = $1 AND made_at = $2 ORDER BY feature, target_start`, [machines[1], new Date(t0 + 3 * HOUR)])).rows;
    expect(points).toHaveLength(12);
    expect(points[0]).toEqual({ machine_id: machines[1], made_at: new Date(t0 + 3 * HOUR), target_start: new Date(t0 + 3 * HOUR), feature: 'current', mean: 40, lower: 39, upper: 41, limit_lower: 1, limit_upper: 80, model_version: 'v4' });
    expect(points[11]).toMatchObject({ feature: 'tempA', target_start: new Date(t0 + 8 * HOUR), mean: 45, limit_lower: null });
    // The refused assessment left no row in either table: its rows are written together or not at all.
    expect(await count('assessments', `window_end >= '${new Date(t0 + 20 * HOUR).toISOString()}'`)).toBe(0);
    expect(await count('forecasts', `made_at >= '${new Date(t0 + 20 * HOUR).toISOString()}'`)).toBe(0);

    const dead = await consumeAll(env.kafkaBrokers, `${prefix}${TOPICS.deadLetter}`, { expected: 4, timeoutMs: 30_000 });
    expect(dead.map((d) => `${d.headers[DLQ_HEADERS.topic]?.slice(prefix.length)} ${d.headers[DLQ_HEADERS.code]}`).sort()).toEqual([
      `${TOPICS.assessments} SINK_ROW_INVALID`,
      `${TOPICS.assessments} SINK_ROW_REJECTED`,
      `${TOPICS.windowFeatures} SERDE_MAGIC_BYTE`,
      `${TOPICS.windowFeatures} SINK_ROW_REJECTED`,
    ]);
    const rejected = dead.find((d) => d.headers[DLQ_HEADERS.code] === 'SINK_ROW_REJECTED' && d.headers[DLQ_HEADERS.topic] === `${prefix}${TOPICS.windowFeatures}`)!;
    expect(rejected.headers).toMatchObject({ [DLQ_HEADERS.stage]: 'sink-postgres' });
    expect(rejected.headers[DLQ_HEADERS.message]).toContain('window_features: PG_23514');
    expect(rejected.headers[DLQ_HEADERS.offset]).toMatch(/^\d+$/);
    const refusedForecast = dead.find((d) => d.headers[DLQ_HEADERS.code] === 'SINK_ROW_REJECTED' && d.headers[DLQ_HEADERS.topic] === `${prefix}${TOPICS.assessments}`)!;
    expect(refusedForecast.headers[DLQ_HEADERS.message]).toContain('forecasts: PG_23514');
    expect(dead.find((d) => d.headers[DLQ_HEADERS.code] === 'SINK_ROW_INVALID')!.headers[DLQ_HEADERS.message]).toContain('anomaly.score is NaN');

    await waitFor('the sink to count every record in', async () => (await metricValue(port, 'pdm_records_in_total')) === firstTotal, 30_000);
    expect(await metricValue(port, 'pdm_sink_postgres_rows_written_total', { table: 'window_features' })).toBe(goodWindows.length);
    expect(await metricValue(port, 'pdm_sink_postgres_rows_written_total', { table: 'window_extras' })).toBe(goodExtraRows);
    expect(await metricValue(port, 'pdm_sink_postgres_write_duration_seconds_count', { table: 'alerts' })).toBeGreaterThan(0);
    expect(await metricValue(port, 'pdm_sink_postgres_rows_written_total', { table: 'assessments' })).toBe(goodAssessments.length);
    expect(await metricValue(port, 'pdm_sink_postgres_rows_written_total', { table: 'forecasts' })).toBe(goodForecastRows);
    expect(await metricValue(port, 'pdm_sink_postgres_rows_rejected_total', { table: 'forecasts' })).toBe(1);
    expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
    const before = {
      windows: await snapshot('window_features', 'machine_id, window_start'),
      extras: await snapshot('window_extras', 'machine_id, window_start, channel'),
      alerts: await snapshot('alerts', 'alert_id'),
      assessments: await snapshot('assessments', 'machine_id, window_end'),
      forecasts: await snapshot('forecasts', 'machine_id, made_at, target_start, feature'),
      latest: await snapshot('machine_latest', 'machine_id'),
    };
    // pdm.machine_latest (010) says what the rows say: each machine's newest window, assessment and forecast.
    const disagreeing = `SELECT count(*)::int AS n FROM ${schema}.machine_latest m WHERE
      last_window_start IS DISTINCT FROM (SELECT max(window_start) FROM ${schema}.window_features x WHERE x.machine_id = m.machine_id)
      OR last_assessment_end IS DISTINCT FROM (SELECT max(window_end) FROM ${schema}.assessments x WHERE x.machine_id = m.machine_id)
      OR last_forecast_at IS DISTINCT FROM (SELECT max(made_at) FROM ${schema}.forecasts x WHERE x.machine_id = m.machine_id)`;
    expect((await owner.query(disagreeing)).rows[0].n).toBe(0);
    expect(before.latest.length).toBe(new Set(before.windows.map((w) => w.machine_id)).size);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    // The same topics from the beginning, with a new group: every record again, no row changed.
    const replay = startSink({ PDM_SINK_POSTGRES_GROUP_ID: uniqueName('spg-replay') });
    const replayPort = await replay.metricsPort();
    await waitFor('the replay to count every record in', async () => (await metricValue(replayPort, 'pdm_records_in_total')) === firstTotal, 60_000);
    await waitFor('the replay to find every window row unchanged', async () => (await metricValue(replayPort, 'pdm_sink_postgres_rows_unchanged_total', { table: 'window_features' })) === goodWindows.length, 30_000);
    await waitFor('the replay to find every forecast row unchanged', async () => (await metricValue(replayPort, 'pdm_sink_postgres_rows_unchanged_total', { table: 'forecasts' })) === goodForecastRows, 30_000);
    expect(await metricValue(replayPort, 'pdm_sink_postgres_rows_written_total', { table: 'window_features' })).toBe(0);
    expect(await metricValue(replayPort, 'pdm_sink_postgres_rows_written_total', { table: 'window_extras' })).toBe(0);
    expect(await metricValue(replayPort, 'pdm_sink_postgres_rows_unchanged_total', { table: 'window_extras' })).toBe(goodExtraRows);
    expect(await metricValue(replayPort, 'pdm_sink_postgres_rows_written_total', { table: 'assessments' })).toBe(0);
    expect(await metricValue(replayPort, 'pdm_sink_postgres_rows_written_total', { table: 'forecasts' })).toBe(0);
    expect(await metricValue(replayPort, 'pdm_sink_postgres_rows_unchanged_total', { table: 'assessments' })).toBe(goodAssessments.length);
    expect(await snapshot('window_features', 'machine_id, window_start')).toEqual(before.windows);
    expect(await snapshot('window_extras', 'machine_id, window_start, channel')).toEqual(before.extras);
    expect(await snapshot('alerts', 'alert_id')).toEqual(before.alerts);
    expect(await snapshot('assessments', 'machine_id, window_end')).toEqual(before.assessments);
    expect(await snapshot('forecasts', 'machine_id, made_at, target_start, feature')).toEqual(before.forecasts);
    expect(await snapshot('machine_latest', 'machine_id')).toEqual(before.latest);
    replay.child.kill('SIGTERM');
    expect(await replay.exited).toBe(0);
  });

  test('pdm_analyst reads the sink\'s rows on the follower, and every write of its is refused on the primary', async () => {
    const analyst = (url: string) => {
      const u = new URL(url);
      u.username = 'pdm_analyst';
      u.password = encodeURIComponent(process.env.PDM_ANALYST_PASSWORD!);
      return new pg.Client({ connectionString: u.toString() });
    };
    const follower = analyst(env.followerUrl);
    const primary = analyst(env.databaseUrl);
    await follower.connect();
    await primary.connect();
    try {
      const id = `${machines[0]}-fire`;
      await waitFor('the follower to replay the alert', async () => ((await follower.query(`SELECT 1 FROM ${schema}.alerts WHERE alert_id = $1`, [id])).rowCount ?? 0) === 1, 30_000);
      const onFollower = (await follower.query(`SELECT machine_id, status, severity FROM ${schema}.alerts WHERE alert_id = $1`, [id])).rows[0];
      expect(onFollower).toEqual({ machine_id: machines[0], status: 'FIRING', severity: 'WARNING' });
      expect((await follower.query(`SELECT count(*)::int AS n FROM ${schema}.window_features`)).rows[0].n).toBe(goodWindows.length);
      expect((await follower.query(`SELECT count(*)::int AS n FROM ${schema}.window_extras`)).rows[0].n).toBe(goodExtraRows);
      // Every channel in one shape: the six of each window and the extras.
      const pressure = await follower.query(`SELECT window_end, mean FROM ${schema}.window_channels WHERE machine_id = $1 AND channel = 'pressure' ORDER BY window_start`, [machines[2]]);
      expect(pressure.rows.map((r) => [r.window_end.getTime(), r.mean])).toEqual(Array.from({ length: 8 }, (_, h) => [t0 + (h + 1) * HOUR, (42 + h / 10) / 10]));
      expect((await follower.query(`SELECT count(*)::int AS n FROM ${schema}.window_channels`)).rows[0].n).toBe(goodWindows.length * 6 + goodExtraRows);
      expect((await follower.query(`SELECT count(*)::int AS n FROM ${schema}.assessments`)).rows[0].n).toBe(goodAssessments.length);
      expect((await follower.query(`SELECT count(*)::int AS n FROM ${schema}.forecasts`)).rows[0].n).toBe(goodForecastRows);
      expect((await follower.query('SELECT current_user AS u')).rows[0].u).toBe('pdm_analyst');

      const writes = [
        `INSERT INTO ${schema}.alerts SELECT * FROM ${schema}.alerts LIMIT 0`,
        `INSERT INTO ${schema}.window_features (machine_id, window_start, window_end, count, current_count, accx_count, accy_count, accz_count, tempa_count, tempb_count) VALUES ('x', now(), now() + interval '1 hour', 0, 0, 0, 0, 0, 0, 0)`,
        `UPDATE ${schema}.alerts SET message = 'changed' WHERE alert_id = '${id}'`,
        `UPDATE ${schema}.window_extras SET mean = 0`,
        `DELETE FROM ${schema}.alerts WHERE alert_id = '${id}'`,
        `DELETE FROM ${schema}.forecasts`,
        `UPDATE ${schema}.assessments SET warming_up = 'x'`,
        `UPDATE ${schema}.machine_latest SET last_window_start = NULL`,
        `TRUNCATE ${schema}.window_features`,
        `CREATE TABLE ${schema}.mine (a int)`,
        'CREATE TABLE public.mine (a int)',
        'CREATE TEMP TABLE mine (a int)',
        `DROP TABLE ${schema}.alerts`,
        `CREATE INDEX mine ON ${schema}.alerts (message)`,
      ];
      for (const sql of writes) {
        await expect(primary.query(sql)).rejects.toMatchObject({ code: '42501' });
        // The follower refuses everything of course; what matters is the primary above.
        await expect(follower.query(sql)).rejects.toHaveProperty('code');
      }
      expect((await primary.query(`SELECT message FROM ${schema}.alerts WHERE alert_id = $1`, [id])).rows[0].message).toBe(`tempA of ${machines[0]} will pass 80 within 2 h`);
    } finally {
      await follower.end();
      await primary.end();
    }
  });

  test('the database unreachable for 15 s during a run: readiness says why, nothing is lost, everything lands after', async () => {
    const target = new URL(env.databaseUrl);
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      const upstream = net.connect(Number(target.port), target.hostname);
      sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    const listen = (port: number) => new Promise<number>((resolve) => proxy.listen(port, '127.0.0.1', () => resolve((proxy.address() as net.AddressInfo).port)));
    const proxyPort = await listen(0);
    const down = () => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      return new Promise<void>((resolve) => proxy.close(() => resolve()));
    };
    const proxied = new URL(env.databaseUrl);
    proxied.port = String(proxyPort);

    const encode = await encoders();
    const machine = `${schema}-outage`;
    const before = Array.from({ length: 5 }, (_, h) => window(machine, t0 + h * HOUR, 10));
    const during = Array.from({ length: 5 }, (_, h) => window(machine, t0 + (h + 5) * HOUR, 11));
    const duringAlerts = [alert(`${machine}-1`, machine, t0 + 6 * HOUR), alert(`${machine}-2`, machine, t0 + 7 * HOUR)];
    const sink = startSink({ DATABASE_URL: proxied.toString(), PDM_SINK_POSTGRES_GROUP_ID: uniqueName('spg-outage') });
    try {
      const port = await sink.metricsPort();
      await produce(before.map(encode.window), []);
      await waitFor('the windows before the outage to land', async () => (await count('window_features', `machine_id = '${machine}'`)) === 5, 60_000);
      expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);

      await down();
      const downAt = Date.now();
      await produce(during.map(encode.window), duringAlerts.map(encode.alert));
      let reason = '';
      await waitFor('/ready to answer 503', async () => {
        const ready = await fetch(`http://127.0.0.1:${port}/ready`);
        if (ready.status === 503) reason = ((await ready.json()) as { reason: string }).reason;
        return ready.status === 503;
      }, 20_000);
      expect(reason).toMatch(/writing (window_features|alerts) failed|the database does not answer/);
      while (Date.now() - downAt < 15_000) await sleep(500);
      expect(await count('window_features', `machine_id = '${machine}'`)).toBe(5);
      expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(503);
      expect(await metricValue(port, 'pdm_sink_postgres_write_failures_total', { table: 'window_features' })).toBeGreaterThan(0);

      await listen(proxyPort);
      await waitFor('the records held up by the outage to land', async () => (await count('window_features', `machine_id = '${machine}'`)) === 10 && (await count('alerts', `machine_id = '${machine}'`)) === 2, 60_000);
      await waitFor('/ready to answer 200 again', async () => (await fetch(`http://127.0.0.1:${port}/ready`)).status === 200, 20_000);
      expect(sink.child.exitCode).toBeNull();
      sink.child.kill('SIGTERM');
      expect(await sink.exited).toBe(0);
    } catch (err) {
      process.stderr.write(sink.output().slice(-5000));
      throw err;
    } finally {
      if (proxy.listening) await down();
    }
  });
});
