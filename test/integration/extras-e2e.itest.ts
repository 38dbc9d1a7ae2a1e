import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createRegistry } from '../../lib/registry';
import { Serde } from '../../lib/serde';
import { TOPICS } from '../../lib/topics';
import { SCHEMA_FILES, avroType, type AlertEvent, type MachineAssessment, type WindowFeatures } from '../../schemas';
import { consumeAll } from './consume';
import { killServices, startService, testEnv, uniqueName, useIsolatedTopics, waitFor, type RunningService } from './servers';

/**
 * Named extra channels from the device to the alert, end to end on the real servers: a CSV of one
 * pump with two columns that are no feature (pressure, flow) is replayed with `--extras all`,
 * windowed at one minute, assessed by the per-machine detector, written to Postgres and served by
 * the API, each stage its own `pdmctl` process. After its warm-up the pump's flow collapses to a
 * fifth of its normal while current, temperature and pressure carry on: the deviation alert names
 * flow, and so do the topic, the follower and the API.
 *
 * The pump runs a 30-minute load cycle, so a warm-up of 60 one-minute windows has seen it twice;
 * every extra channel follows the load, as a real pump's would.
 */

const MINUTE = 60_000;
const READING_MS = 10_000;
const FROM_MS = Date.parse('2026-03-02T00:00:00Z');
const WINDOWS = 180;
const WARMUP_WINDOWS = 60;
/** Flow collapses for the last 30 minutes. */
const COLLAPSE_MS = FROM_MS + 150 * MINUTE;
const MACHINE = 'pump-extras-1';
const iso = (ms: number): string => new Date(ms).toISOString();

/** A small seeded generator (mulberry32): the same file every run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Row {
  timeMs: number;
  current: string;
  temp: string;
  pressure: string;
  flow: string;
}

/** Three hours of a reading every 10 s, as the cells the CSV holds. One flow cell is empty: the meter missed a reading. */
function pumpRows(): Row[] {
  const random = seeded(7);
  const noise = (sd: number) => (random() + random() + random() - 1.5) * sd * 2;
  const load = (ms: number) => 0.5 + 0.5 * Math.sin((2 * Math.PI * (ms - FROM_MS)) / (30 * MINUTE));
  return Array.from({ length: (WINDOWS * MINUTE) / READING_MS }, (_, i) => {
    const timeMs = FROM_MS + i * READING_MS;
    const flow = (20 + 15 * load(timeMs) + noise(0.4)) * (timeMs >= COLLAPSE_MS ? 0.2 : 1);
    return {
      timeMs,
      current: (6 + 8 * load(timeMs) + noise(0.3)).toFixed(3),
      temp: (45 + 10 * load(timeMs - 3 * MINUTE) + noise(0.2)).toFixed(3),
      pressure: (2.5 + 1.5 * load(timeMs) + noise(0.05)).toFixed(4),
      flow: timeMs === FROM_MS + 140 * MINUTE + 20_000 ? '' : flow.toFixed(3),
    };
  });
}

/** count and mean of one column over the rows of the window starting at `windowStartMs`, from the cells. */
function cellStats(rows: Row[], windowStartMs: number, column: 'pressure' | 'flow'): { count: number; mean: number } {
  const values = rows.filter((r) => r.timeMs >= windowStartMs && r.timeMs < windowStartMs + MINUTE && r[column] !== '').map((r) => Number(r[column]));
  return { count: values.length, mean: values.reduce((a, b) => a + b, 0) / values.length };
}

describe('extra channels end to end: a CSV with pressure and flow, replayed, windowed, assessed, in Postgres and the API', () => {
  const env = testEnv();
  const { prefix } = useIsolatedTopics('extras', 3);
  const schema = uniqueName('extras').replace(/-/g, '_');
  const serde = new Serde(createRegistry(env.registryUrl).client);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'extras-e2e-'));
  const csv = path.join(dir, 'pump.csv');
  const rows = pumpRows();
  const services = new Map<string, RunningService>();
  const owner = new pg.Client({ connectionString: env.databaseUrl });
  const follower = (() => {
    const url = new URL(env.followerUrl);
    url.username = 'pdm_analyst';
    url.password = encodeURIComponent(process.env.PDM_ANALYST_PASSWORD!);
    return new pg.Client({ connectionString: url.toString() });
  })();
  let windows: WindowFeatures[] = [];
  let assessments: MachineAssessment[] = [];
  let alerts: AlertEvent[] = [];
  let apiBase = '';

  // A window of normal flow with the missing cell (5 flow readings, 6 of pressure), and one after the collapse.
  const NORMAL_WINDOW = FROM_MS + 140 * MINUTE;
  const COLLAPSED_WINDOW = FROM_MS + 170 * MINUTE;

  const pdmctl = (name: string, args: string[], extra: NodeJS.ProcessEnv = {}): RunningService => {
    const service = startService(args, { ...process.env, PDM_TOPIC_PREFIX: prefix, ...extra });
    services.set(name, service);
    return service;
  };

  beforeAll(async () => {
    const lines = rows.map((r) => `${iso(r.timeMs)},${r.current},${r.temp},${r.pressure},${r.flow}`);
    fs.writeFileSync(csv, ['time,current,temp,pressure,flow', ...lines].join('\n') + '\n');
    await owner.connect();
    await follower.connect();

    const inference = pdmctl('inference', ['run', 'inference', '--metrics-port', '0'], {
      PDM_INFERENCE_GROUP_ID: uniqueName('extras-inference'),
      PDM_WARMUP_WINDOWS: String(WARMUP_WINDOWS),
    });
    const sink = pdmctl('sink-postgres', ['run', 'sink-postgres', '--metrics-port', '0'], {
      PDM_SINK_POSTGRES_GROUP_ID: uniqueName('extras-sink'),
      PDM_POSTGRES_SCHEMA: schema,
    });
    const replay = pdmctl('replay', ['replay', '--csv', csv, '--machine', MACHINE, '--map', 'current=current,temp=tempA', '--extras', 'all', '--speed', 'max']);
    expect(await replay.exited).toBe(0);
    expect(replay.output()).toContain('pressure=pressure, flow=flow');
    // Started once every reading is in, as in baseline-e2e: the last windows close after 3 s
    // without readings, which a replay stalled on two busy cores could otherwise trip.
    pdmctl('window', ['run', 'window', '--metrics-port', '0'], {
      PDM_WINDOW_GROUP_ID: uniqueName('extras-window'),
      PDM_WINDOW_SIZE: '1m',
      PDM_WINDOW_GRACE: '10s',
      PDM_WINDOW_IDLE_TIMEOUT: '3s',
    });
    // The sink migrates the schema at start; the API reads it on the follower.
    await sink.metricsPort();
    const api = pdmctl('api', ['run', 'api', '--metrics-port', '0'], { PDM_POSTGRES_SCHEMA: schema, PDM_API_KEY: '' });
    apiBase = `http://127.0.0.1:${await api.metricsPort()}`;
    await inference.metricsPort();

    const decode = async <T>(topic: string, file: string, options: Parameters<typeof consumeAll>[2]): Promise<T[]> => {
      const records = await consumeAll(env.kafkaBrokers, `${prefix}${topic}`, options);
      return Promise.all(records.map((r) => serde.decoder<T>(avroType(file))(r.value!)));
    };
    windows = await decode<WindowFeatures>(TOPICS.windowFeatures, SCHEMA_FILES.windowFeatures, { expected: WINDOWS, timeoutMs: 60_000 });
    assessments = await decode<MachineAssessment>(TOPICS.assessments, SCHEMA_FILES.machineAssessment, { expected: WINDOWS, timeoutMs: 60_000 });
    // Alerts are written in the same transactions as the assessments: all there by now.
    alerts = await decode<AlertEvent>(TOPICS.alerts, SCHEMA_FILES.alertEvent, { quietMs: 1000, timeoutMs: 20_000 });
    if (windows.length !== WINDOWS || assessments.length !== WINDOWS) {
      process.stderr.write(`extras e2e: ${windows.length} windows, ${assessments.length} assessments of ${WINDOWS}; logs in ${dir}\n`);
    }
  }, 120_000);

  afterAll(async () => {
    for (const service of services.values()) service.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([...services.values()].map((s) => s.exited)), new Promise((resolve) => (timer = setTimeout(resolve, 15_000)))]);
    clearTimeout(timer);
    killServices();
    for (const [name, service] of services) fs.writeFileSync(path.join(dir, `${name}.log`), `${service.output()}\n[exit ${service.child.exitCode ?? service.child.signalCode}]\n`);
    await follower.end();
    await owner.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await owner.end();
  }, 30_000);

  test('the window topic carries extras.pressure and extras.flow, exact to the CSV', () => {
    expect(windows).toHaveLength(WINDOWS);
    for (const w of windows) expect(Object.keys(w.extras).sort()).toEqual(['flow', 'pressure']);
    const at = (ms: number) => windows.find((w) => w.windowStart === ms)!;
    for (const start of [NORMAL_WINDOW, COLLAPSED_WINDOW]) {
      for (const channel of ['pressure', 'flow'] as const) {
        const expected = cellStats(rows, start, channel);
        expect({ start: iso(start), channel, count: at(start).extras[channel]!.count }).toEqual({ start: iso(start), channel, count: expected.count });
        expect(at(start).extras[channel]!.mean).toBeCloseTo(expected.mean, 9);
      }
    }
    expect(at(NORMAL_WINDOW).extras.flow!.count).toBe(5);
    expect(at(NORMAL_WINDOW).count).toBe(6);
  });

  test('assessed by its own normal after the warm-up; a DEVIATION fires after the collapse, driven by flow', () => {
    const own = [...assessments].sort((a, b) => a.windowEnd - b.windowEnd);
    expect(own).toHaveLength(WINDOWS);
    expect(own.slice(0, WARMUP_WINDOWS).filter((a) => a.deviation !== null)).toEqual([]);
    expect(own.slice(WARMUP_WINDOWS).filter((a) => a.deviation === null)).toEqual([]);

    const firings = alerts.filter((a) => a.kind === 'DEVIATION' && a.status === 'FIRING').sort((a, b) => a.windowEnd - b.windowEnd);
    expect(firings.filter((a) => a.windowEnd <= COLLAPSE_MS).map((a) => [iso(a.windowEnd), a.drivers.map((d) => d.channel)])).toEqual([]);
    const first = firings[0];
    expect(first).toBeDefined();
    const calmest = Math.max(...own.filter((a) => a.deviation && a.windowEnd <= COLLAPSE_MS).map((a) => a.deviation!.score / a.deviation!.threshold));
    const drivers = first!.drivers.map((d) => `${d.channel} ${d.value?.toFixed(2)} (expected ${d.expected?.toFixed(2)})`).join(', ');
    const lagMinutes = (first!.windowEnd - COLLAPSE_MS) / MINUTE;
    process.stderr.write(`extras e2e: score at most ${calmest.toFixed(2)} of threshold before; DEVIATION ${lagMinutes} min after it, on ${drivers}\n`);
    expect(first!.machineId).toBe(MACHINE);
    expect(first!.feature).toBe('flow');
    expect(first!.drivers[0]!.channel).toMatch(/^flow\./);
  });

  test('the follower has pdm.window_extras rows of both channels, and pdm.window_channels shows them, as pdm_analyst', async () => {
    const count = async (sql: string): Promise<number> => (await follower.query(sql)).rows[0].n as number;
    const extraRows = () => count(`SELECT count(*)::int AS n FROM ${schema}.window_extras`).catch(() => -1);
    await waitFor('the follower to replay every extra channel row', async () => (await extraRows()) === 2 * WINDOWS, 30_000);
    expect((await follower.query('SELECT current_user AS u')).rows[0].u).toBe('pdm_analyst');
    const perChannel = await follower.query(
      `SELECT channel, count(*)::int AS n FROM ${schema}.window_extras WHERE machine_id = $1 GROUP BY channel ORDER BY channel`,
      [MACHINE],
    );
    expect(perChannel.rows).toEqual([
      { channel: 'flow', n: WINDOWS },
      { channel: 'pressure', n: WINDOWS },
    ]);
    const shown = await follower.query(
      `SELECT channel, count, mean, window_end FROM ${schema}.window_channels WHERE machine_id = $1 AND window_start = $2 ORDER BY channel`,
      [MACHINE, new Date(NORMAL_WINDOW)],
    );
    expect(shown.rows.map((r) => r.channel)).toEqual(['accX', 'accY', 'accZ', 'current', 'flow', 'pressure', 'tempA', 'tempB']);
    for (const channel of ['flow', 'pressure'] as const) {
      const row = shown.rows.find((r) => r.channel === channel)!;
      const expected = cellStats(rows, NORMAL_WINDOW, channel);
      expect({ channel, count: Number(row.count), windowEnd: row.window_end }).toEqual({
        channel,
        count: expected.count,
        windowEnd: new Date(NORMAL_WINDOW + MINUTE),
      });
      expect(row.mean).toBeCloseTo(expected.mean, 9);
    }
  });

  test('pdm.alerts on the follower has the DEVIATION with its drivers', async () => {
    const first = alerts.filter((a) => a.kind === 'DEVIATION' && a.status === 'FIRING').sort((a, b) => a.windowEnd - b.windowEnd)[0]!;
    expect(first).toBeDefined();
    const query = () => follower.query(`SELECT machine_id, kind, status, feature, drivers FROM ${schema}.alerts WHERE alert_id = $1`, [first.alertId]);
    await waitFor('the follower to replay the DEVIATION alert', async () => ((await query()).rowCount ?? 0) === 1, 30_000);
    const row = (await query()).rows[0];
    expect(row).toMatchObject({ machine_id: MACHINE, kind: 'DEVIATION', status: 'FIRING', feature: 'flow' });
    expect(row.drivers[0].channel).toMatch(/^flow\./);
    expect(row.drivers.map((d: { channel: string }) => d.channel)).toEqual(first.drivers.map((d) => d.channel));
    // Assessments after the warm-up carry their drivers too.
    const assessed = await follower.query(
      `SELECT count(*)::int AS n FROM ${schema}.assessments WHERE machine_id = $1 AND window_end > $2 AND drivers IS NOT NULL`,
      [MACHINE, new Date(FROM_MS + WARMUP_WINDOWS * MINUTE)],
    );
    expect(assessed.rows[0].n).toBeGreaterThan(0);
  });

  test('GET /machines/:id serves the windows with extras.flow and extras.pressure', async () => {
    type Served = { windows: Array<{ windowStart: string; extras: WindowFeatures['extras'] }> };
    const get = async () => (await (await fetch(`${apiBase}/machines/${MACHINE}?limit=1000`)).json()) as Served;
    await waitFor('the API to serve every window', async () => (await get()).windows?.length === WINDOWS, 30_000);
    const served = (await get()).windows;
    for (const w of served) expect(Object.keys(w.extras).sort()).toEqual(['flow', 'pressure']);
    for (const start of [NORMAL_WINDOW, COLLAPSED_WINDOW]) {
      const w = served.find((x) => x.windowStart === iso(start))!;
      for (const channel of ['flow', 'pressure'] as const) {
        const expected = cellStats(rows, start, channel);
        expect({ start: iso(start), channel, count: w.extras[channel]!.count }).toEqual({ start: iso(start), channel, count: expected.count });
        expect(w.extras[channel]!.mean).toBeCloseTo(expected.mean, 9);
      }
    }
    // The collapse shows in what the API serves: a fifth of the flow of the same phase of the cycle an hour earlier.
    const flowAt = (ms: number) => served.find((x) => x.windowStart === iso(ms))!.extras.flow!.mean!;
    expect(flowAt(COLLAPSED_WINDOW) / flowAt(COLLAPSED_WINDOW - 60 * MINUTE)).toBeCloseTo(0.2, 1);
  });
});
