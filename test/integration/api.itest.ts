import pg from 'pg';
import { openApiDocument } from '../../api/openapi';
import { createRegistry } from '../../lib/registry';
import { Serde } from '../../lib/serde';
import { FEATURES, SCHEMA_FILES, avroType, type AlertControl, type AlertEvent, type MachineAssessment, type WindowFeatures } from '../../schemas';
import { forecastPoints } from '../../schemas/assessments';
import { migrate } from '../../sinks/postgres/migrations';
import { makeDayPartitions } from '../../sinks/postgres/partition.maintainer';
import { daysOfRows } from '../../sinks/postgres/partitions';
import { alertsTable, assessmentRows, assessmentsTable, forecastsTable, upsertStatement, windowExtrasRows, windowExtrasTable, windowFeaturesTable, type SqlValue, type TableShape } from '../../sinks/postgres/postgres.rows';
import { consumeAll } from './consume';
import { OpenApiCheck } from './openapi-check';
import { killServices, startService, testEnv, uniqueName, useIsolatedTopics, waitFor, type RunningService } from './servers';

/**
 * `pdmctl run api` as a process against the real follower, in a schema of this run's own: rows
 * written on the primary (as the sink writes them) are served once the follower has replayed
 * them; every endpoint, filter and page walk; the API key; 400s, 404s and 405s; metrics by route
 * template; /ready when the follower is away. Every JSON answer is checked against the OpenAPI
 * document the API serves (openapi-check.ts), and every route is seen answering.
 *
 * Operators' actions and mails are rows as sink-postgres and sink-email write them: m-a's anomaly
 * acknowledged between its firing and its escalation (both transitions of that episode show it),
 * m-e's first breach acknowledged before it resolved and fired again (the new firing does not),
 * m-c* silenced now, and an earlier silence ended early.
 */

const env = testEnv();
const schema = uniqueName('api').replace(/-/g, '_');
const HOUR = 3_600_000;
const t0 = Date.UTC(2026, 0, 5);
const at = (h: number) => t0 + h * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const API_KEY = 'test-key-0123456789abcdef';

const owner = new pg.Client({ connectionString: env.databaseUrl });
/** The follower as the analysts' role: its password is set by the migration and reaches the follower by replication. */
const followerUrl = (() => {
  const url = new URL(env.followerUrl);
  if (process.env.PDM_ANALYST_PASSWORD) {
    url.username = 'pdm_analyst';
    url.password = encodeURIComponent(process.env.PDM_ANALYST_PASSWORD);
  }
  return url.toString();
})();
let follower: pg.Client;

// The fleet: seven machines. m-a has 30 hourly windows, the others 3 (m-g one).
const MACHINES = ['m-a', 'm-b', 'm-c', 'm-d', 'm-e', 'm-f', 'm-g'];
const hoursOf = (m: string) => (m === 'm-a' ? 30 : m === 'm-g' ? 1 : 3);

const window = (machineId: string, h: number): WindowFeatures => {
  const w = { machineId, windowStart: at(h), windowEnd: at(h + 1), count: 1800, extras: {} } as unknown as WindowFeatures;
  for (const f of FEATURES) w[f] = f === 'accZ' ? { count: 0, mean: null, min: null, max: null, stddev: null } : { count: 1800, mean: 40 + h, min: 39 + h, max: 42 + h, stddev: 0.5 };
  // m-a has two extra channels; its flow meter reports every other hour.
  if (machineId === 'm-a') w.extras = { pressure: { count: 1790, mean: 4 + h / 10, min: 3 + h / 10, max: 5.5 + h / 10, stddev: 0.1 + h / 1000 }, flow: h % 2 ? { count: 1800, mean: 30.25, min: 28, max: 33, stddev: 1.5 } : { count: 0, mean: null, min: null, max: null, stddev: null } };
  return w;
};

const alert = (machineId: string, kind: AlertEvent['kind'], feature: string | null, status: 'FIRING' | 'RESOLVED', severity: AlertEvent['severity'], createdAt: number, n = ''): AlertEvent => ({
  drivers: [],
  alertId: `${machineId}-${kind}-${feature ?? ''}${n}-${status}-${severity}-${createdAt}`,
  dedupKey: `${machineId}/${kind}/${feature ?? ''}${n}`,
  machineId,
  status,
  severity,
  kind,
  feature,
  windowEnd: createdAt,
  predictedBreachAt: kind === 'FORECAST_BREACH' ? createdAt + 3 * HOUR : null,
  score: 9,
  threshold: 7,
  modelName: kind === 'ANOMALY' ? 'pdm-anomaly' : 'pdm-forecaster',
  modelVersion: 'v2',
  message: `${kind} on ${machineId}`,
  createdAt,
});

// m-a: an anomaly that fired and then rose to CRITICAL (active), a breach that fired and resolved.
// m-c: fired and resolved (not active). m-e: fired, resolved, fired again (active).
// m-f: ten alerts that fired in the same hour and resolved in the next (ties on createdAt).
const ALERTS: AlertEvent[] = [
  alert('m-a', 'FORECAST_BREACH', 'tempA', 'FIRING', 'WARNING', at(5)),
  alert('m-a', 'FORECAST_BREACH', 'tempA', 'RESOLVED', 'WARNING', at(8)),
  alert('m-a', 'ANOMALY', null, 'FIRING', 'WARNING', at(10)),
  alert('m-a', 'ANOMALY', null, 'FIRING', 'CRITICAL', at(12)),
  alert('m-c', 'ANOMALY', null, 'FIRING', 'INFO', at(1)),
  alert('m-c', 'ANOMALY', null, 'RESOLVED', 'INFO', at(2)),
  alert('m-e', 'FORECAST_BREACH', 'current', 'FIRING', 'WARNING', at(0)),
  alert('m-e', 'FORECAST_BREACH', 'current', 'RESOLVED', 'WARNING', at(1)),
  alert('m-e', 'FORECAST_BREACH', 'current', 'FIRING', 'CRITICAL', at(2)),
  ...Array.from({ length: 10 }, (_, i) => [alert('m-f', 'ANOMALY', null, 'FIRING', 'INFO', at(3), `k${i}`), alert('m-f', 'ANOMALY', null, 'RESOLVED', 'INFO', at(4), `k${i}`)]).flat(),
];

const forecast = (base: number): MachineAssessment['forecast'] => ({
  modelName: 'pdm-forecaster',
  modelVersion: 'v4',
  stepMillis: HOUR,
  series: ['tempA', 'current'].map((feature) => ({ feature, mean: [base, base + 1, base + 2], lower: [base - 1, base, base + 1], upper: [base + 1, base + 2, base + 3], limitLower: null, limitUpper: 80 })),
});

const assessment = (machineId: string, h: number, over: Partial<MachineAssessment> = {}): MachineAssessment => ({
  machineId,
  windowStart: at(h),
  windowEnd: at(h + 1),
  warmingUp: null,
  state: null,
  deviation: null,
  anomaly: { score: 2 + h / 10, threshold: 7, modelName: 'pdm-anomaly', modelVersion: 'v2' },
  forecast: null,
  ...over,
});

// m-a: warming up for 5 windows, then scored; forecasts made at its last two windows, the last
// one's score above the threshold. m-b: its latest assessment warming up with no score, the one
// before scored. m-d: never assessed. The others: assessed, fine.
const ASSESSMENTS: MachineAssessment[] = [
  ...Array.from({ length: 30 }, (_, h) =>
    assessment('m-a', h, h < 5 ? { warmingUp: 'pdm-forecaster: too little history', anomaly: null } : h === 29 ? { anomaly: { score: 9.5, threshold: 7, modelName: 'pdm-anomaly', modelVersion: 'v2' }, forecast: forecast(60) } : h === 28 ? { forecast: forecast(50) } : {}),
  ),
  assessment('m-b', 1, { warmingUp: 'pdm-forecaster: too little history' }),
  assessment('m-b', 2, { warmingUp: 'pdm-forecaster: too little history', anomaly: null }),
  ...['m-c', 'm-e', 'm-f'].flatMap((m) => [0, 1, 2].map((h) => assessment(m, h))),
  assessment('m-g', 0),
];
const NOW = Date.now();
const ACTIONS = [
  { request_id: '00000000-0000-4000-8000-000000000001', action: 'ACK', machine_id: 'm-a', alert_id: ALERTS[2]!.alertId, dedup_key: 'm-a/ANOMALY/', requested_by: 'ana', requested_at: at(11), reason: 'on it' },
  { request_id: '00000000-0000-4000-8000-000000000002', action: 'ACK', machine_id: 'm-e', alert_id: ALERTS[6]!.alertId, dedup_key: 'm-e/FORECAST_BREACH/current', requested_by: 'bo', requested_at: at(0) + HOUR / 2, reason: null },
  { request_id: '00000000-0000-4000-8000-000000000003', action: 'SILENCE', machine_id: 'm-c*', starts_at: NOW - HOUR, ends_at: NOW + HOUR, requested_by: 'ana', requested_at: NOW - HOUR, reason: 'bearing change' },
  { request_id: '00000000-0000-4000-8000-000000000004', action: 'SILENCE', kind: 'ANOMALY', starts_at: NOW - 3 * HOUR, ends_at: NOW + HOUR, requested_by: 'bo', requested_at: NOW - 3 * HOUR, reason: 'retraining' },
  { request_id: '00000000-0000-4000-8000-000000000005', action: 'UNSILENCE', silence_id: '00000000-0000-4000-8000-000000000004', requested_by: 'bo', requested_at: NOW - 2 * HOUR, reason: 'done' },
];
const MAILS = [
  { dedup_key: 'm-a/ANOMALY/', transition: `FIRING:${ALERTS[2]!.alertId}`, recipient: 'oncall@plant.example', alert_id: ALERTS[2]!.alertId, machine_id: 'm-a', kind: 'FIRING', severity: 'WARNING', outcome: 'sent', subject: '[WARNING] m-a: ANOMALY', claimed_at: at(10), sent_at: at(10) + 2000 },
  { dedup_key: 'm-a/ANOMALY/', transition: `ESCALATED:CRITICAL:${ALERTS[3]!.alertId}`, recipient: 'oncall@plant.example', alert_id: ALERTS[3]!.alertId, machine_id: 'm-a', kind: 'ESCALATED', severity: 'CRITICAL', outcome: 'failed', subject: null, claimed_at: at(12), sent_at: null, error: 'SMTP refused' },
];

async function insertRows(table: string, rows: Array<Record<string, unknown>>): Promise<void> {
  const time = (v: unknown) => (typeof v === 'number' ? new Date(v).toISOString() : v);
  for (const row of rows) {
    const columns = Object.keys(row);
    await owner.query(`INSERT INTO ${schema}.${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, columns.map((c) => time(row[c])));
  }
}

const FORECAST_ROWS = ASSESSMENTS.reduce((n, a) => n + forecastPoints(a).length, 0);

async function insert(table: TableShape, rows: SqlValue[][]): Promise<void> {
  // Written here, not by the sink: the days' partitions are made first, as the sink does.
  await makeDayPartitions(owner, schema, daysOfRows([table], [{ rows: [rows] }]));
  for (let i = 0; i < rows.length; i += 200) {
    const slice = rows.slice(i, i + 200);
    await owner.query(upsertStatement(schema, table, slice.length), slice.flat());
  }
}

const followerCount = async (table: string): Promise<number> => (await follower.query(`SELECT count(*)::int AS n FROM ${schema}.${table}`)).rows[0].n as number;

interface Api extends RunningService {
  base: string;
}

async function startApi(extra: NodeJS.ProcessEnv): Promise<Api> {
  const api = startService(['run', 'api', '--metrics-port', '0'], { ...process.env, PDM_POSTGRES_SCHEMA: schema, PDM_API_KEY: '', ...extra });
  return { ...api, base: `http://127.0.0.1:${await api.metricsPort(90_000)}` };
}

interface Answer {
  status: number;
  body: Record<string, unknown> & { nextCursor?: string | null };
  headers: Headers;
}

const openApi = new OpenApiCheck(openApiDocument('0') as never);

/** A request, its JSON answer checked against the OpenAPI document (when it is a route of the API). */
async function request(api: Api, pathAndQuery: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(`${api.base}${pathAndQuery}`, init);
  expect(res.headers.get('content-type')).toMatch(/^(application\/json|text\/plain)/);
  const text = await res.text();
  const body = res.headers.get('content-type')?.startsWith('application/json') ? (JSON.parse(text) as Answer['body']) : { text };
  const method = init.method ?? 'GET';
  expect([method, pathAndQuery, openApi.problems(method, pathAndQuery, res.status, res.headers.get('content-type'), body)]).toEqual([method, pathAndQuery, []]);
  return { status: res.status, body, headers: res.headers };
}

const post = (api: Api, path: string, body: unknown, headers: Record<string, string>) =>
  request(api, path, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** Every page of a list, following nextCursor; fails on a page that repeats an item. */
async function walk<T>(api: Api, pathAndQuery: string, field: string, keyOf: (item: T) => string, headers: Record<string, string>): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  const seen = new Set<string>();
  let cursor: string | null | undefined;
  let pages = 0;
  do {
    const sep = pathAndQuery.includes('?') ? '&' : '?';
    const answer = await request(api, cursor ? `${pathAndQuery}${sep}cursor=${encodeURIComponent(cursor)}` : pathAndQuery, { headers });
    expect(answer.status).toBe(200);
    for (const item of answer.body[field] as T[]) {
      const key = keyOf(item);
      expect(seen.has(key)).toBe(false);
      seen.add(key);
      items.push(item);
    }
    cursor = answer.body.nextCursor;
    pages++;
    if (pages > 100) throw new Error('the pages do not end');
  } while (cursor);
  return { items, pages };
}

/** The sum of a metric's samples whose labels include every one of `labels`. */
const metricValue = async (api: Api, name: string, labels: Record<string, string> = {}): Promise<number> => {
  const text = await (await fetch(`${api.base}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => m[2]!.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
};

beforeAll(async () => {
  await owner.connect();
  await migrate({ url: env.databaseUrl, schema, writerPassword: process.env.PDM_WRITER_PASSWORD, analystPassword: process.env.PDM_ANALYST_PASSWORD });
  await insert(windowFeaturesTable, MACHINES.flatMap((m) => Array.from({ length: hoursOf(m) }, (_, h) => windowFeaturesTable.toRow(window(m, h)))));
  await insert(windowExtrasTable, MACHINES.flatMap((m) => Array.from({ length: hoursOf(m) }, (_, h) => windowExtrasRows(window(m, h)))).flat());
  await insert(alertsTable, ALERTS.map((a) => alertsTable.toRow(a)));
  const rows = ASSESSMENTS.map(assessmentRows);
  await insert(assessmentsTable, rows.map((r) => r.assessment));
  await insert(forecastsTable, rows.flatMap((r) => r.forecasts));
  await insertRows('alert_actions', ACTIONS);
  await insertRows('notifications', MAILS.map((m) => ({ ...m, updated_at: m.claimed_at })));
  // On a new cluster the analysts' role (and its password) exists once the migration made it and the follower replayed it.
  await waitFor('the follower to let pdm_analyst in', async () => {
    const client = new pg.Client({ connectionString: followerUrl });
    const connected = await client.connect().then(() => true, () => false);
    if (connected) follower = client;
    return connected;
  });
  // The follower replays the primary's WAL: the API sees the rows once it has.
  await waitFor('the follower to replay the rows', async () => (await followerCount('forecasts').catch(() => -1)) === FORECAST_ROWS && (await followerCount('alerts')) === ALERTS.length && (await followerCount('window_features')) === 30 + 5 * 3 + 1 && (await followerCount('window_extras')) === 60 && (await followerCount('notifications')) === MAILS.length, 60_000);
});

afterAll(async () => {
  killServices();
  await follower?.end();
  await owner.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
  await owner.end();
});

describe('pdmctl run api', () => {
  let api: Api;
  const auth = { Authorization: `Bearer ${API_KEY}` };
  const topics = useIsolatedTopics('api', 1);

  beforeAll(async () => {
    api = await startApi({ PDM_API_KEY: API_KEY, PDM_TOPIC_PREFIX: topics.prefix });
  });

  test('/health, /ready and /metrics are open; everything else needs the key, by either header', async () => {
    expect((await request(api, '/health')).status).toBe(200);
    expect((await request(api, '/ready')).body).toMatchObject({ status: 'ready', service: 'api' });
    expect((await fetch(`${api.base}/metrics`)).status).toBe(200);

    for (const headers of [{}, { Authorization: 'Bearer wrong-key-0123456789abcdef' }, { 'X-API-Key': `${API_KEY}x` }, { Authorization: `Basic ${Buffer.from(`u:${API_KEY}`).toString('base64')}` }]) {
      const answer = await request(api, '/machines', { headers });
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ error: 'unauthorized' });
    }
    expect((await request(api, '/alerts?status=FIRING', { headers: { 'X-API-Key': API_KEY } })).status).toBe(200);
    expect((await request(api, '/machines/m-a', { headers: auth })).status).toBe(200);
    expect(api.output()).not.toContain(API_KEY);
  });

  test('GET /machines: each machine\'s last window, latest assessment, active alerts and state; pages by machine id', async () => {
    const { items, pages } = await walk<Record<string, unknown>>(api, '/machines?limit=2', 'machines', (m) => String(m.machineId), auth);
    expect(pages).toBe(4);
    expect(items.map((m) => [m.machineId, m.state])).toEqual([
      ['m-a', 'at-risk'],
      ['m-b', 'warming-up'],
      ['m-c', 'ok'],
      ['m-d', 'unknown'],
      ['m-e', 'at-risk'],
      ['m-f', 'ok'],
      ['m-g', 'ok'],
    ]);
    const a = items[0]!;
    expect(a.lastWindow).toEqual({ ...window('m-a', 29), windowStart: iso(at(29)), windowEnd: iso(at(30)) });
    expect(a.latestAssessment).toEqual({ windowStart: iso(at(29)), windowEnd: iso(at(30)), warmingUp: null, anomaly: { score: 9.5, threshold: 7, anomalous: true, modelName: 'pdm-anomaly', modelVersion: 'v2' }, forecaster: { modelName: 'pdm-forecaster', modelVersion: 'v4' }, state: null, deviation: null });
    // The escalated anomaly is active (its latest transition fires); the resolved breach is not.
    expect((a.activeAlerts as AlertEvent[]).map((x) => [x.dedupKey, x.severity, x.createdAt])).toEqual([['m-a/ANOMALY/', 'CRITICAL', iso(at(12))]]);
    expect((items[4]!.activeAlerts as AlertEvent[]).map((x) => [x.dedupKey, x.status, x.severity])).toEqual([['m-e/FORECAST_BREACH/current', 'FIRING', 'CRITICAL']]);
    expect(items[2]!.activeAlerts).toEqual([]);
    expect(items[3]!.latestAssessment).toBeNull();

    const all = await request(api, '/machines', { headers: auth });
    expect(all.body.nextCursor).toBeNull();
    expect((all.body.machines as unknown[]).length).toBe(7);
  });

  test('GET /machines/:id: recent windows (paged, from/to), latest forecast, latest anomaly score, alert history', async () => {
    const answer = await request(api, '/machines/m-a?limit=5', { headers: auth });
    expect(answer.status).toBe(200);
    const body = answer.body;
    expect(body).toMatchObject({ machineId: 'm-a', state: 'at-risk' });
    expect((body.windows as Array<{ windowStart: string }>).map((w) => w.windowStart)).toEqual([29, 28, 27, 26, 25].map((h) => iso(at(h))));
    expect(body.lastWindow).toMatchObject({ windowStart: iso(at(29)), count: 1800, accZ: { count: 0, mean: null } });
    // Every window with its extra channels, exact through the jsonb they travel in.
    for (const w of body.windows as Array<{ windowStart: string; extras: unknown }>) expect(w.extras).toEqual(window('m-a', (Date.parse(w.windowStart) - at(0)) / 3_600_000).extras);
    expect(Object.keys((body.windows as Array<{ extras: object }>)[0]!.extras)).toEqual(['flow', 'pressure']);
    expect(body.latestAnomaly).toEqual({ windowEnd: iso(at(30)), score: 9.5, threshold: 7, anomalous: true, modelName: 'pdm-anomaly', modelVersion: 'v2' });
    // The forecast made last (at the end of the last window), not the one before.
    expect(body.latestForecast).toEqual({
      madeAt: iso(at(30)),
      modelName: 'pdm-forecaster',
      modelVersion: 'v4',
      points: ['current', 'tempA'].flatMap((feature) => [0, 1, 2].map((k) => ({ feature, windowStart: iso(at(30 + k)), mean: 60 + k, lower: 59 + k, upper: 61 + k, limitLower: null, limitUpper: 80 }))),
    });
    expect((body.alerts as AlertEvent[]).map((x) => x.createdAt)).toEqual([12, 10, 8, 5].map((h) => iso(at(h))));
    expect((body.activeAlerts as AlertEvent[]).map((x) => x.alertId)).toEqual([ALERTS[3]!.alertId]);

    const { items, pages } = await walk<{ windowStart: string }>(api, '/machines/m-a?limit=7', 'windows', (w) => w.windowStart, auth);
    expect(pages).toBe(5);
    expect(items.map((w) => w.windowStart)).toEqual(Array.from({ length: 30 }, (_, i) => iso(at(29 - i))));

    const ranged = await walk<{ windowStart: string }>(api, `/machines/m-a?limit=4&from=${iso(at(10))}&to=${encodeURIComponent('2026-01-05T22:00:00+02:00')}`, 'windows', (w) => w.windowStart, auth);
    expect(ranged.items.map((w) => w.windowStart)).toEqual(Array.from({ length: 10 }, (_, i) => iso(at(19 - i))));
    expect(ranged.pages).toBe(3);

    // Still warming up: the latest assessment has no score; the latest score is the window before's.
    const b = (await request(api, '/machines/m-b', { headers: auth })).body;
    expect(b).toMatchObject({ state: 'warming-up', latestAssessment: { windowEnd: iso(at(3)), warmingUp: 'pdm-forecaster: too little history', anomaly: null }, latestAnomaly: { windowEnd: iso(at(2)), score: 2.1 }, latestForecast: null, alerts: [], activeAlerts: [] });
    expect((await request(api, '/machines/m-d', { headers: auth })).body).toMatchObject({ state: 'unknown', latestAssessment: null, latestAnomaly: null, latestForecast: null });
  });

  test('GET /machines/:id of a machine with no window: 404; a malformed id or parameter: 400 naming it', async () => {
    const missing = await request(api, '/machines/no-such-machine', { headers: auth });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: 'not_found', message: expect.stringContaining('no-such-machine') });
    const cases: Array<[string, string]> = [
      ['/machines/bad%20id', 'id'],
      ['/machines/m-a?limit=0', 'limit'],
      ['/machines/m-a?from=yesterday', 'from'],
      ['/machines/m-a?from=2026-01-06&to=2026-01-05', 'to'],
      ['/machines/m-a?severity=CRITICAL', 'severity'],
      ['/machines/m-a?cursor=not-a-cursor', 'cursor'],
      ['/machines?limit=1001', 'limit'],
      ['/machines?limit=10&limit=20', 'limit'],
    ];
    for (const [url, parameter] of cases) {
      const answer = await request(api, url, { headers: auth });
      expect([url, answer.status, answer.body.error, answer.body.parameter]).toEqual([url, 400, 'bad_request', parameter]);
    }
  });

  test('GET /alerts: every page walked, no duplicates, in (createdAt, alertId) descending order, ties included', async () => {
    const { items, pages } = await walk<AlertEvent>(api, '/alerts?limit=4', 'alerts', (a) => a.alertId, auth);
    expect(pages).toBe(Math.ceil(ALERTS.length / 4));
    const expected = (await follower.query(`SELECT alert_id FROM ${schema}.alerts ORDER BY created_at DESC, alert_id DESC`)).rows.map((r) => r.alert_id as string);
    expect(items.map((a) => a.alertId)).toEqual(expected);
    const original = ALERTS.find((a) => a.alertId === items[0]!.alertId)!;
    expect(items[0]).toEqual({
      ...original,
      windowEnd: iso(original.windowEnd),
      createdAt: iso(original.createdAt),
      predictedBreachAt: original.predictedBreachAt === null ? null : iso(original.predictedBreachAt),
      acknowledgement: { requestId: ACTIONS[0]!.request_id, alertId: ALERTS[2]!.alertId, by: 'ana', at: iso(at(11)), reason: 'on it' },
      notifications: [{ recipient: 'oncall@plant.example', kind: 'ESCALATED', outcome: 'failed', at: iso(at(12)), subject: null, error: 'SMTP refused' }],
    });
  });

  test.each([
    ['status and severity', 'status=FIRING&severity=CRITICAL', (a: AlertEvent) => a.status === 'FIRING' && a.severity === 'CRITICAL'],
    ['several severities', 'severity=WARNING,CRITICAL', (a: AlertEvent) => a.severity !== 'INFO'],
    ['a machine', 'machine=m-e', (a: AlertEvent) => a.machineId === 'm-e'],
    ['two machines, resolved', 'machine=m-c,m-e&status=RESOLVED', (a: AlertEvent) => ['m-c', 'm-e'].includes(a.machineId) && a.status === 'RESOLVED'],
    ['a kind', 'kind=FORECAST_BREACH', (a: AlertEvent) => a.kind === 'FORECAST_BREACH'],
    ['a time range, [from, to)', `from=${iso(at(3))}&to=${iso(at(4))}`, (a: AlertEvent) => a.createdAt >= at(3) && a.createdAt < at(4)],
    ['everything from a time', `from=${encodeURIComponent('2026-01-05T10:00:00+02:00')}`, (a: AlertEvent) => a.createdAt >= at(8)],
  ])('GET /alerts by %s', async (_name, query, keep) => {
    const { items } = await walk<AlertEvent>(api, `/alerts?limit=3&${query}`, 'alerts', (a) => a.alertId, auth);
    const expected = ALERTS.filter(keep).map((a) => a.alertId);
    expect(expected.length).toBeGreaterThan(0);
    expect(items.map((a) => a.alertId).sort()).toEqual(expected.sort());
  });

  test('GET /alerts refuses what it does not know, naming the parameter', async () => {
    const machinesCursor = (await request(api, '/machines?limit=1', { headers: auth })).body.nextCursor!;
    const cases: Array<[string, string]> = [
      ['/alerts?status=firing', 'status'],
      ['/alerts?severity=HIGH', 'severity'],
      ['/alerts?kind=anomaly', 'kind'],
      ['/alerts?machine=a%20b', 'machine'],
      ['/alerts?from=2026-01-05T08:00:00', 'from'],
      ['/alerts?page=2', 'page'],
      [`/alerts?cursor=${machinesCursor}`, 'cursor'],
    ];
    for (const [url, parameter] of cases) {
      const answer = await request(api, url, { headers: auth });
      expect([url, answer.status, answer.body.parameter]).toEqual([url, 400, parameter]);
    }
  });

  test('other methods and paths: 405 and 404, as JSON', async () => {
    const post = await request(api, '/alerts', { method: 'POST', headers: auth });
    expect([post.status, post.body.error, post.headers.get('allow')]).toEqual([405, 'method_not_allowed', 'GET, HEAD']);
    const nowhere = await request(api, '/nowhere', { headers: auth });
    expect([nowhere.status, nowhere.body.error]).toEqual([404, 'not_found']);
  });

  test('GET /fleet: every machine counted by state, active alerts and silences, the fleet\'s last window', async () => {
    const fleet = (await request(api, '/fleet', { headers: auth })).body;
    expect(fleet).toMatchObject({ machines: 7, byState: { 'at-risk': 2, 'warming-up': 1, ok: 3, unknown: 1, silent: 0, off: 0 }, activeAlerts: 2, activeSilences: 1, lastWindowEnd: iso(at(30)) });
  });

  test('GET /machines?state= and ?q=: filtered, and paged across the filter', async () => {
    const atRisk = await walk<{ machineId: string; state: string }>(api, '/machines?state=at-risk&limit=1', 'machines', (m) => m.machineId, auth);
    expect(atRisk.items.map((m) => [m.machineId, m.state])).toEqual([['m-a', 'at-risk'], ['m-e', 'at-risk']]);
    const ok = await walk<{ machineId: string }>(api, '/machines?state=ok,unknown&limit=2', 'machines', (m) => m.machineId, auth);
    expect(ok.items.map((m) => m.machineId)).toEqual(['m-c', 'm-d', 'm-f', 'm-g']);
    const found = (await request(api, '/machines?q=M-C', { headers: auth })).body.machines as Array<{ machineId: string; silence: { silenceId: string; machine: string; reason: string } | null }>;
    expect(found.map((m) => m.machineId)).toEqual(['m-c']);
    expect(found[0]!.silence).toMatchObject({ silenceId: ACTIONS[2]!.request_id, machine: 'm-c*', reason: 'bearing change', active: true });
    expect((await request(api, '/machines?q=m-a&state=ok', { headers: auth })).body.machines).toEqual([]);
  });

  test('GET /machines/:id/assessments: the score history newest first, paged, in a range', async () => {
    const { items, pages } = await walk<{ windowEnd: string; anomaly: { score: number } | null }>(api, '/machines/m-a/assessments?limit=8', 'assessments', (a) => a.windowEnd, auth);
    expect(pages).toBe(4);
    expect(items.map((a) => a.windowEnd)).toEqual(Array.from({ length: 30 }, (_, i) => iso(at(30 - i))));
    expect(items[0]!.anomaly).toEqual({ score: 9.5, threshold: 7 });
    expect(items.at(-1)!.anomaly).toBeNull();
    const ranged = (await request(api, `/machines/m-a/assessments?from=${iso(at(10))}&to=${iso(at(12))}`, { headers: auth })).body.assessments as Array<{ windowStart: string }>;
    expect(ranged.map((a) => a.windowStart)).toEqual([iso(at(11)), iso(at(10))]);
  });

  test('GET /alerts: an acknowledgement holds for its firing episode, escalations included, not for a later firing; mails per transition', async () => {
    const byId = new Map(((await request(api, '/alerts?limit=100', { headers: auth })).body.alerts as Array<{ alertId: string; acknowledgement: { by: string } | null; notifications: Array<{ kind: string; outcome: string }> }>).map((a) => [a.alertId, a]));
    expect(byId.get(ALERTS[2]!.alertId)!.acknowledgement).toMatchObject({ by: 'ana', reason: 'on it' });
    expect(byId.get(ALERTS[3]!.alertId)!.acknowledgement).toMatchObject({ by: 'ana' });
    expect(byId.get(ALERTS[6]!.alertId)!.acknowledgement).toMatchObject({ by: 'bo', reason: null });
    expect(byId.get(ALERTS[8]!.alertId)!.acknowledgement).toBeNull();
    expect(byId.get(ALERTS[7]!.alertId)!.acknowledgement).toBeNull();
    expect(byId.get(ALERTS[2]!.alertId)!.notifications).toEqual([{ recipient: 'oncall@plant.example', kind: 'FIRING', outcome: 'sent', at: iso(at(10) + 2000), subject: '[WARNING] m-a: ANOMALY', error: null }]);
    expect(byId.get(ALERTS[0]!.alertId)!.notifications).toEqual([]);
  });

  test('GET /silences and /actions: active, over, all; every action newest first, by machine', async () => {
    const ids = async (query: string) => ((await request(api, `/silences${query}`, { headers: auth })).body.silences as Array<{ silenceId: string }>).map((x) => x.silenceId);
    expect(await ids('?active=true')).toEqual([ACTIONS[2]!.request_id]);
    expect(await ids('?active=false')).toEqual([ACTIONS[3]!.request_id]);
    expect(await ids('')).toEqual([ACTIONS[2]!.request_id, ACTIONS[3]!.request_id]);
    const over = (await request(api, '/silences?active=false', { headers: auth })).body.silences as Array<Record<string, unknown>>;
    expect(over[0]).toMatchObject({ machine: null, kind: 'ANOMALY', endedBy: 'bo', endedAt: iso(NOW - 2 * HOUR), active: false });

    const { items } = await walk<{ requestId: string }>(api, '/actions?limit=2', 'actions', (a) => a.requestId, auth);
    expect(items.map((a) => a.requestId)).toEqual([2, 4, 3, 0, 1].map((i) => ACTIONS[i]!.request_id));
    const ofMachine = (await request(api, '/actions?machine=m-e', { headers: auth })).body.actions as Array<{ action: string; by: string }>;
    expect(ofMachine).toEqual([expect.objectContaining({ action: 'ACK', by: 'bo', alertId: ALERTS[6]!.alertId })]);
  });

  test('writes: checked, refused with a reason (400, 404, 409), and written to the control topic (202)', async () => {
    const firing = ALERTS[3]!;
    const bad = await post(api, `/alerts/${encodeURIComponent(firing.alertId)}/ack`, { reason: 'no name' }, auth);
    expect([bad.status, bad.body.parameter]).toEqual([400, 'by']);
    expect((await post(api, `/alerts/${encodeURIComponent(firing.alertId)}/ack`, '{not json', auth)).status).toBe(400);
    expect((await post(api, '/alerts/no-such-alert/ack', { by: 'ana' }, auth)).status).toBe(404);
    const resolved = await post(api, `/alerts/${encodeURIComponent(ALERTS[5]!.alertId)}/ack`, { by: 'ana' }, auth);
    expect([resolved.status, resolved.body.error]).toEqual([409, 'conflict']);
    const neither = await post(api, '/silences', { machine: 'm-b', reason: 'r', by: 'ana' }, auth);
    expect([neither.status, neither.body.message]).toEqual([400, expect.stringMatching(/for a duration \(2h\) or until a time/)]);
    expect((await post(api, `/silences/${ACTIONS[3]!.request_id}/end`, { by: 'ana' }, auth)).status).toBe(409);
    expect((await post(api, '/silences/00000000-0000-4000-8000-00000000ffff/end', { by: 'ana' }, auth)).status).toBe(404);
    expect((await request(api, `/alerts/${encodeURIComponent(firing.alertId)}/ack`, { method: 'POST', body: JSON.stringify({ by: 'ana' }) })).status).toBe(401);

    const ack = await post(api, `/alerts/${encodeURIComponent(ALERTS[2]!.alertId)}/ack`, { by: 'ana', reason: 'looking' }, auth);
    expect(ack.status).toBe(202);
    expect(ack.body).toMatchObject({ action: 'ACK', topic: `${topics.prefix}pdm.alert-control.v1` });
    const silence = await post(api, '/silences', { machine: 'm-b', for: '2h', reason: 'belt change', by: 'bo' }, auth);
    const end = await post(api, `/silences/${ACTIONS[2]!.request_id}/end`, { by: 'ana' }, auth);
    expect([silence.status, end.status]).toEqual([202, 202]);

    const records = await consumeAll(env.kafkaBrokers, `${topics.prefix}pdm.alert-control.v1`, { expected: 3 });
    const decode = new Serde(createRegistry(env.registryUrl).client).decoder<AlertControl>(avroType(SCHEMA_FILES.alertControl));
    const values = await Promise.all(records.map((r) => decode(r.value!)));
    expect(values.map((v) => v.requestId).sort()).toEqual([ack.body.requestId, silence.body.requestId, end.body.requestId].sort());
    const byAction = new Map(values.map((v) => [v.action, v]));
    // The transition named, its episode still firing (it escalated since): that is what is acknowledged.
    expect(byAction.get('ACK')).toMatchObject({ dedupKey: 'm-a/ANOMALY/', alertId: ALERTS[2]!.alertId, machineId: 'm-a' });
    expect(byAction.get('SILENCE')!.endsAt! - byAction.get('SILENCE')!.requestedAt).toBe(2 * HOUR);
    expect(byAction.get('UNSILENCE')).toMatchObject({ silenceId: ACTIONS[2]!.request_id, machineId: 'm-c*' });
  });

  test('GET /events: a change at once, and another when an alert arrives', async () => {
    const controller = new AbortController();
    const res = await fetch(`${api.base}/events`, { headers: auth, signal: controller.signal });
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'text/event-stream; charset=utf-8']);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const nextChange = async () => {
      for (;;) {
        const frame = /event: change\ndata: (.*)\n\n/.exec(text);
        if (frame) {
          text = text.slice(frame.index + frame[0].length);
          return JSON.parse(frame[1]!) as { alerts: string | null; windows: string | null };
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        text += decoder.decode(value, { stream: true });
      }
    };
    const first = await nextChange();
    // The newest of alerts and mails: the escalation at 12:00 (its mail was claimed then too).
    expect(first).toMatchObject({ alerts: iso(at(12)), windows: iso(at(30)) });
    await insert(alertsTable, [alertsTable.toRow(alert('m-b', 'DEVIATION', 'tempA', 'FIRING', 'WARNING', at(40)))]);
    expect(await nextChange()).toMatchObject({ alerts: iso(at(40)) });
    controller.abort();
  });

  test('GET /openapi.json is the document; /docs renders it from the project\'s own files', async () => {
    const doc = await request(api, '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body).toEqual(JSON.parse(JSON.stringify(openApiDocument(String(doc.body.info && (doc.body.info as { version: string }).version)))));
    const page = await fetch(`${api.base}/docs`);
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    const html = await page.text();
    for (const asset of [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)) expect([asset, (await fetch(`${api.base}${asset}`)).status]).toEqual([asset, 200]);
  });

  test('every route of the document answered as it says', () => {
    const seen = [...openApi.seen];
    const expected = [
      'GET /fleet 200', 'GET /machines 200', 'GET /machines/{id} 200', 'GET /machines/{id} 404', 'GET /machines/{id}/assessments 200', 'GET /alerts 200', 'GET /alerts 400',
      'POST /alerts/{id}/ack 202', 'POST /alerts/{id}/ack 400', 'POST /alerts/{id}/ack 401', 'POST /alerts/{id}/ack 404', 'POST /alerts/{id}/ack 409',
      'GET /silences 200', 'POST /silences 202', 'POST /silences 400', 'POST /silences/{id}/end 202', 'POST /silences/{id}/end 404', 'POST /silences/{id}/end 409', 'GET /actions 200',
    ];
    expect(seen).toEqual(expect.arrayContaining(expected));
  });

  test('metrics: requests and their durations by route template and status, never a machine id', async () => {
    expect(await metricValue(api, 'pdm_api_requests_total', { route: '/machines/:id', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(await metricValue(api, 'pdm_api_requests_total', { route: '/machines', status: '401' })).toBeGreaterThanOrEqual(4);
    expect(await metricValue(api, 'pdm_api_request_duration_seconds_count', { route: '/alerts', status: '200' })).toBeGreaterThanOrEqual(ALERTS.length / 4);
    expect(await metricValue(api, 'pdm_api_requests_total', { route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(1);
    const text = await (await fetch(`${api.base}/metrics`)).text();
    expect(text).not.toMatch(/pdm_api_[a-z_]+\{[^}]*m-a/);
  });

  test('SIGTERM: a clean stop', async () => {
    api.child.kill('SIGTERM');
    expect(await api.exited).toBe(0);
  });
});

describe('pdmctl run api without a key, and with the follower away', () => {
  afterEach(() => killServices());

  test('no PDM_API_KEY: the routes are open', async () => {
    const api = await startApi({});
    expect((await request(api, '/machines?limit=1')).status).toBe(200);
    expect(api.output()).toContain('"apiKey":"not configured"');
    api.child.kill('SIGTERM');
    expect(await api.exited).toBe(0);
  });

  test('the follower unreachable: /health answers, /ready says why, the routes answer 503', async () => {
    const away = new URL(env.followerUrl);
    away.port = '1';
    const api = await startApi({ DATABASE_FOLLOWER_URL: away.toString(), PDM_API_CONNECT_TIMEOUT: '1s' });
    expect((await request(api, '/health')).status).toBe(200);
    const ready = await request(api, '/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.reason).toMatch(/the follower does not answer/);
    const machines = await request(api, '/machines');
    expect([machines.status, machines.body.error]).toEqual([503, 'database_unavailable']);
  });
});
