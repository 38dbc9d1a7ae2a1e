import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { CDPSession, Page } from 'playwright-core';
import { FLEET_CACHE_MS } from '../api/queries';
import { encodeCursor } from '../api/validation';
import { progressBar } from '../lib/progress';
import { parseEnv } from '../lib/config';
import { followerSettings, postgresSettings } from '../lib/shared.settings';
import { migrate } from '../sinks/postgres/migrations';
import { makeDayPartitions } from '../sinks/postgres/partition.maintainer';
import { daysBetween } from '../sinks/postgres/partitions';
import { alertActionsTable } from '../sinks/postgres/alert-control.rows';
import {
  alertsTable,
  assessmentRows,
  assessmentsTable,
  forecastsTable,
  windowExtrasRows,
  windowExtrasTable,
  windowFeaturesTable,
  type SqlValue,
  type TableShape,
} from '../sinks/postgres/postgres.rows';
import { actionsOf, alertsOf, assessmentOf, HOUR, machinePlan, notificationRows, notificationsTable, windowOf } from './api.fleet';
import type { FleetOptions, MachinePlan } from './api.fleet';
import { fmt, rssMiB, runService, stop } from './process';

/**
 * `pdmctl bench api`: the read API (`pdmctl run api`, a process of its own, on the follower) and
 * the console in Chromium, with a fleet of 10,000 machines and a week of hourly windows.
 *
 * 1. Seed: a Postgres schema of the bench's own, migrated, filled on the primary with the rows
 *    sink-postgres would write (its table shapes; api.fleet.ts says what), vacuumed and analysed
 *    as autovacuum would leave it; then the follower is waited for until it has replayed it all.
 * 2. The API: each request, after one unmeasured request (the database's cache warm, as in use),
 *    by 1 and by 8 clients at once, each client sending its next request when the last is
 *    answered, for MEASURE_SECONDS or MAX_REQUESTS: latency percentiles and requests/s. Requests
 *    about one machine go round the fleet. GET /fleet is cached FLEET_CACHE_MS in the API: its
 *    cold time (the first request, then requests FLEET_CACHE_MS apart) is measured apart, and its
 *    load runs 4.5 s, so that it takes in the requests that wait for the cache's refresh.
 * 3. The console in Chromium (playwright-core): the fleet's first rows, the rows in the DOM (the
 *    list is virtualised), the scroll to the last machine (the list fetches its pages in turn as
 *    they come into view), a machine page with all its charts drawn, and the JS heap.
 *
 * The bench, the API, both Postgres servers and the browser share this machine's cores.
 */

export interface ApiBenchOptions {
  machines: number;
  hours: number;
  /** Measure the console in Chromium too. */
  browser: boolean;
  /** Leave the schema for a look at the plans (EXPLAIN ANALYZE) instead of dropping it. */
  keep: boolean;
}

/** Each measurement runs this long, or to MAX_REQUESTS, and at least to MIN_REQUESTS. */
const MEASURE_SECONDS = 3;
const MAX_REQUESTS = 400;
const MIN_REQUESTS = 10;
const CLIENTS = [1, 8] as const;
/** How many cold answers of GET /fleet to time, each past the API's cache (FLEET_CACHE_MS). */
const FLEET_COLD_SAMPLES = 4;
/** The console's fleet list asks for pages of this many (console/src/views/fleet.tsx). */
const CONSOLE_PAGE_SIZE = 200;
const METRICS_LINE = /"metrics":"http:\/\/127\.0\.0\.1:(\d+)\/metrics"/;
const CHROMIUM_ARGS = [
  ...['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'],
  ...['--disable-background-networking', '--disable-component-update', '--disable-sync'],
];
const MiB = 1024 * 1024;

// ---- figures (pure) ---------------------------------------------------------------------------

export interface LatencyFigures {
  requests: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  perSecond: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** Latencies (ms) of requests answered over `wallMs`: their percentiles and rate. */
export function latencyFigures(latenciesMs: readonly number[], wallMs: number): LatencyFigures {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    requests: sorted.length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
    perSecond: wallMs > 0 ? (sorted.length * 1000) / wallMs : Number.NaN,
  };
}

/** Lines of a table: the first column left-aligned, the others right-aligned, two spaces apart. */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>, indent = '  '): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const cell = (text: string, c: number) => (c === 0 ? text.padEnd(widths[c]!) : text.padStart(widths[c]!));
  const line = (cells: readonly string[]) => indent + cells.map(cell).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** Milliseconds as a table shows them: one decimal below 10, whole above. */
export const ms = (v: number): string => (Number.isNaN(v) ? '-' : v < 10 ? v.toFixed(1) : fmt(v));

// ---- seeding ----------------------------------------------------------------------------------

/**
 * `INSERT ... SELECT * FROM unnest($1::type[], ...)`: rows as one array per column. A few
 * parameters instead of one per value (a multi-row VALUES binds tens of thousands), which makes it
 * about twice as fast here; into a new schema of the bench's own, nothing conflicts.
 */
export function unnestInsert(schema: string, shape: TableShape, types: ReadonlyMap<string, string>): string {
  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
  const arrays = shape.columns.map((c, k) => {
    const type = types.get(c);
    if (type === undefined) throw new RangeError(`${shape.table}.${c}: no such column`);
    return `$${k + 1}::${type}[]`;
  });
  return `INSERT INTO ${quote(schema)}.${quote(shape.table)} (${shape.columns.map(quote).join(', ')}) SELECT * FROM unnest(${arrays.join(', ')})`;
}

/**
 * Rows as one Postgres array literal per column (`{1.5,NULL,"pump-1"}`), checked against the
 * column count. Made here rather than by pg from JavaScript arrays: pg's per-element conversion
 * took most of the bench's own time while seeding, on cores Postgres needs.
 */
export function columnsOf(rows: ReadonlyArray<readonly SqlValue[]>, columns: number): string[] {
  const out: string[][] = Array.from({ length: columns }, () => []);
  for (const row of rows) {
    if (row.length !== columns) throw new RangeError(`a row has ${row.length} values for ${columns} columns`);
    for (let c = 0; c < columns; c++) out[c]!.push(arrayElement(row[c] as SqlValue));
  }
  return out.map((elements) => `{${elements.join(',')}}`);
}

/** One element of an array literal: quoted, with " and \ escaped, unless a number or NULL. */
function arrayElement(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`${value} is not a finite number`);
    return String(value);
  }
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

const ROWS_PER_INSERT = 5000;

/** Buffers one table's rows and inserts them ROWS_PER_INSERT at a time; `before` is flushed first (its rows are referenced). */
class TableWriter {
  private rows: SqlValue[][] = [];
  private statement: string | undefined;

  constructor(
    private readonly db: pg.ClientBase,
    private readonly schema: string,
    readonly shape: TableShape,
    private readonly onWritten: (rows: number) => void,
    private readonly before?: TableWriter,
  ) {}

  async add(rows: readonly SqlValue[][]): Promise<void> {
    for (const row of rows) this.rows.push(row as SqlValue[]);
    if (this.rows.length >= ROWS_PER_INSERT) await this.flush();
  }

  async flush(): Promise<void> {
    await this.before?.flush();
    this.statement ??= unnestInsert(this.schema, this.shape, await columnTypes(this.db, this.schema, this.shape.table));
    while (this.rows.length > 0) {
      const rows = this.rows.splice(0, ROWS_PER_INSERT);
      await this.db.query(this.statement, columnsOf(rows, this.shape.columns.length));
      this.onWritten(rows.length);
    }
  }
}

async function columnTypes(db: pg.ClientBase, schema: string, table: string): Promise<Map<string, string>> {
  const { rows } = await db.query(
    'SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped',
    [`${schema}.${table}`],
  );
  return new Map(rows.map((r) => [String(r.attname), String(r.type)]));
}

const TABLES = ['window_features', 'window_extras', 'assessments', 'forecasts', 'alerts', 'alert_actions', 'notifications'] as const;

interface Seeded {
  seconds: number;
  vacuumSeconds: number;
  rows: Record<string, number>;
  bytes: Record<string, number>;
}

/** Windows and extras on one connection, assessments and forecasts on another (both cores busy), then the small tables. */
async function seed(pool: pg.Pool, schema: string, plans: readonly MachinePlan[], fleet: FleetOptions): Promise<Seeded> {
  const started = performance.now();
  const total = 2 * plans.reduce((n, p) => n + p.windows, 0);
  const bar = progressBar(total, '  seeding');
  let done = 0;
  // Progress counts the two big tables; the others' rows come with theirs.
  const counted = (rows: number) => {
    done += rows;
    bar.update(done, `${fmt(done)} of ${fmt(total)} windows and assessments`);
  };
  const uncounted = () => undefined;
  const lane = async (fill: (db: pg.ClientBase) => Promise<void>) => {
    const db = await pool.connect();
    try {
      // The bench's own rows: no need to wait for each statement's WAL flush.
      await db.query('SET synchronous_commit = off');
      await fill(db);
    } finally {
      db.release();
    }
  };
  await Promise.all([
    lane(async (db) => {
      const windows = new TableWriter(db, schema, windowFeaturesTable, counted);
      const extras = new TableWriter(db, schema, windowExtrasTable, uncounted, windows);
      for (const plan of plans) {
        for (let i = 0; i < plan.windows; i++) {
          const w = windowOf(plan, i);
          await windows.add([windowFeaturesTable.toRow(w)]);
          if (plan.extras.length > 0) await extras.add(windowExtrasRows(w));
        }
      }
      await extras.flush();
    }),
    lane(async (db) => {
      const assessments = new TableWriter(db, schema, assessmentsTable, counted);
      const forecasts = new TableWriter(db, schema, forecastsTable, uncounted, assessments);
      for (const plan of plans) {
        for (let i = 0; i < plan.windows; i++) {
          const rows = assessmentRows(assessmentOf(plan, i));
          await assessments.add([rows.assessment]);
          if (rows.forecasts.length > 0) await forecasts.add(rows.forecasts);
        }
      }
      await forecasts.flush();
    }),
  ]);
  bar.stop();
  await lane(async (db) => {
    const alerts = plans.flatMap(alertsOf);
    const alertRows = new TableWriter(db, schema, alertsTable, uncounted);
    await alertRows.add(alerts.map((a) => alertsTable.toRow(a)));
    await alertRows.flush();
    const actions = new TableWriter(db, schema, alertActionsTable, uncounted);
    await actions.add(actionsOf(alerts, fleet).map((a) => alertActionsTable.toRow(a)));
    await actions.flush();
    const mails = new TableWriter(db, schema, notificationsTable, uncounted);
    await mails.add(plans.flatMap((p) => notificationRows(alertsOf(p))));
    await mails.flush();
  });
  const seconds = (performance.now() - started) / 1000;

  // Insert-only tables are vacuumed and analysed by autovacuum soon after; the API's plans (and
  // its index-only scans) are those of that state, not of a table a second old.
  const vacuumStarted = performance.now();
  for (const table of TABLES) await pool.query(`VACUUM (ANALYZE) ${schema}.${table}`);
  const vacuumSeconds = (performance.now() - vacuumStarted) / 1000;

  const rows: Record<string, number> = {};
  const bytes: Record<string, number> = {};
  for (const table of TABLES) {
    // A partitioned table's size is its partitions' (pg_partition_tree of a plain table has no rows).
    const bytesOf = 'coalesce((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree($1::regclass)), pg_total_relation_size($1::regclass))';
    const sql = `SELECT (SELECT count(*)::bigint FROM ${schema}.${table}) AS n, ${bytesOf} AS bytes`;
    const { rows: r } = await pool.query(sql, [`${schema}.${table}`]);
    rows[table] = Number(r[0].n);
    bytes[table] = Number(r[0].bytes);
  }
  return { seconds, vacuumSeconds, rows, bytes };
}

/** Waits until the follower has replayed the primary's WAL up to now, then counts its rows. */
async function followerCaughtUp(primary: pg.Pool, follower: pg.Client, schema: string, expected: Record<string, number>): Promise<number> {
  const started = performance.now();
  const { rows } = await primary.query('SELECT pg_current_wal_lsn()::text AS lsn');
  const lsn = String(rows[0].lsn);
  for (;;) {
    const { rows: r } = await follower.query('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [lsn]);
    if (r[0].done === true) break;
    if (performance.now() - started > 10 * 60_000) throw new Error(`the follower has not replayed ${lsn} after 10 minutes`);
    await sleep(200);
  }
  for (const table of TABLES) {
    const { rows: r } = await follower.query(`SELECT count(*)::bigint AS n FROM ${schema}.${table}`);
    if (Number(r[0].n) !== expected[table]) throw new Error(`the follower has ${r[0].n} rows in ${schema}.${table}, the primary ${expected[table]}`);
  }
  return (performance.now() - started) / 1000;
}

// ---- the API ----------------------------------------------------------------------------------

interface Answer {
  status: number;
  body: string;
}

function httpGet(agent: http.Agent, base: string, pathAndQuery: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${pathAndQuery}`, { agent, headers: { Accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

interface Api {
  child: ChildProcess;
  base: string;
  agent: http.Agent;
  logFile: string;
  startSeconds: number;
}

async function startApi(env: NodeJS.ProcessEnv, schema: string, logFile: string): Promise<Api> {
  const started = performance.now();
  const child = runService('api', { ...env, PDM_POSTGRES_SCHEMA: schema, PDM_API_KEY: '', PDM_LOG_LEVEL: 'info' }, logFile);
  let port: string | undefined;
  while (port === undefined) {
    if (child.exitCode !== null) throw new Error(`pdmctl run api exited (${child.exitCode}); see ${logFile}`);
    if (performance.now() - started > 90_000) throw new Error(`pdmctl run api did not start within 90 s; see ${logFile}`);
    await sleep(50);
    port = METRICS_LINE.exec(fs.readFileSync(logFile, 'utf8'))?.[1];
  }
  const base = `http://127.0.0.1:${port}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(...CLIENTS) + 2 });
  while ((await httpGet(agent, base, '/ready').catch(() => ({ status: 0, body: '' }))).status !== 200) {
    if (performance.now() - started > 90_000) throw new Error(`pdmctl run api was not ready within 90 s; see ${logFile}`);
    await sleep(100);
  }
  return { child, base, agent, logFile, startSeconds: (performance.now() - started) / 1000 };
}

/** One request of a measured kind: `pathOf(n)` is the path of the n-th request (some go round the fleet). */
export interface Probe {
  label: string;
  pathOf: (n: number) => string;
  /** Measured for exactly this long, however many requests that is (a cache's expiries included). */
  seconds?: number;
}

/** `clients` clients sending `probe` back to back; the API's RSS sampled meanwhile. */
async function load(api: Api, probe: Probe, clients: number, peak: { rssMiB: number }): Promise<LatencyFigures> {
  const latencies: number[] = [];
  let sent = 0;
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const more = probe.seconds
    ? () => elapsed() < probe.seconds! * 1000
    : () => sent < MIN_REQUESTS || (sent < MAX_REQUESTS && elapsed() < MEASURE_SECONDS * 1000);
  const sampler = setInterval(() => (peak.rssMiB = Math.max(peak.rssMiB, rssMiB(api.child.pid))), 100);
  try {
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (more()) {
          const pathAndQuery = probe.pathOf(sent++);
          const t = performance.now();
          const answer = await httpGet(api.agent, api.base, pathAndQuery);
          if (answer.status !== 200) throw new Error(`GET ${pathAndQuery}: ${answer.status} ${answer.body.slice(0, 300)}`);
          latencies.push(performance.now() - t);
        }
      }),
    );
  } finally {
    clearInterval(sampler);
  }
  return latencyFigures(latencies, performance.now() - started);
}

async function timedGet(api: Api, pathAndQuery: string): Promise<{ ms: number; body: string }> {
  const t = performance.now();
  const answer = await httpGet(api.agent, api.base, pathAndQuery);
  if (answer.status !== 200) throw new Error(`GET ${pathAndQuery}: ${answer.status} ${answer.body.slice(0, 300)}`);
  return { ms: performance.now() - t, body: answer.body };
}

// ---- the console ------------------------------------------------------------------------------

interface ConsoleFigures {
  browser: string;
  firstRowsMs: number;
  /** The first GET /machines page answered, from navigation. */
  firstPageMs: number;
  rowsInDom: number;
  rowCount: number;
  scrollToLastMs: number;
  pagesFetched: number;
  rowsInDomAtEnd: number;
  heapAfterFleetMiB: number;
  domNodesAfterFleet: number;
  machinePageMs: number;
  charts: number;
  heapAfterMachineMiB: number;
}

/** The page's JS heap (MiB, after a garbage collection) and DOM nodes, from Chromium's performance metrics. */
async function pageMetrics(cdp: CDPSession): Promise<{ heapMiB: number; nodes: number }> {
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics: m } = await cdp.send('Performance.getMetrics');
  const value = (name: string) => m.find((x) => x.name === name)?.value ?? Number.NaN;
  return { heapMiB: value('JSHeapUsedSize') / MiB, nodes: value('Nodes') };
}

/** Scrolls the fleet list to its end until machine `id`'s row is in the DOM; the milliseconds that took. */
async function scrollToMachine(page: Page, id: string, pagesFetched: () => number): Promise<number> {
  const scrolling = performance.now();
  const scroller = `document.querySelector('.machine-list .scroller')`;
  while ((await page.locator(`[data-machine-id="${id}"]`).count()) === 0) {
    if (performance.now() - scrolling > 180_000) {
      throw new Error(`console: ${id} not in the list after 3 minutes of scrolling (${pagesFetched()} pages fetched)`);
    }
    await page.evaluate(`${scroller}.scrollTop = ${scroller}.scrollHeight`);
    await sleep(20);
  }
  return performance.now() - scrolling;
}

async function measureConsole(base: string, lastId: string, machine: { id: string; charts: number }, print: (line: string) => void): Promise<ConsoleFigures> {
  // A devDependency: loaded only when the browser part runs.
  const { chromium } = await import('playwright-core');
  const executablePath = process.env.PDM_CHROMIUM ?? '/usr/bin/chromium';
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1, timezoneId: 'UTC', locale: 'en-GB' });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    let navigated = 0;
    let machinePages = 0;
    let firstPageMs: number | undefined;
    page.on('request', (req) => {
      if (/\/machines\?/.test(req.url())) machinePages++;
    });
    page.on('requestfinished', (req) => {
      if (/\/machines\?/.test(req.url())) firstPageMs ??= performance.now() - navigated;
    });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const failing = (what: string) => (err: Error) => {
      throw new Error(`console: ${what}: ${err.message}${errors.length ? `; page errors: ${errors.join('; ')}` : ''}`);
    };

    // A browser already running, as an operator's is: its first navigation (network service and all) is not the console's.
    await page.goto(`${base}/health`);
    machinePages = 0;
    navigated = performance.now();
    await page.goto(`${base}/#/`, { waitUntil: 'commit' });
    await page.waitForSelector('[data-testid="machine-row"]', { timeout: 60_000 }).catch(failing('no fleet row within 60 s'));
    const firstRowsMs = performance.now() - navigated;
    const rowsInDom = await page.locator('[data-testid="machine-row"]').count();
    print(`  console: first fleet rows after ${fmt(firstRowsMs)} ms; scrolling to ${lastId}...`);

    const pagesBefore = machinePages;
    const scrollToLastMs = await scrollToMachine(page, lastId, () => machinePages - pagesBefore);
    const rowsInDomAtEnd = await page.locator('[data-testid="machine-row"]').count();
    const rowCount = Number(await page.locator('.machine-list').getAttribute('aria-rowcount'));
    const fleetMetrics = await pageMetrics(cdp);

    const opening = performance.now();
    await page.evaluate(`location.hash = ${JSON.stringify(`#/machines/${encodeURIComponent(machine.id)}?range=7d`)}`);
    const drawn = `(() => {
      const charts = [...document.querySelectorAll('[data-testid="chart"]')];
      return charts.length >= ${machine.charts} && charts.every((c) => Number(c.getAttribute('data-points')) > 0 && c.querySelector('canvas'));
    })()`;
    await page.waitForFunction(drawn, undefined, { timeout: 60_000 }).catch(failing(`${machine.id}'s ${machine.charts} charts not drawn within 60 s`));
    const machinePageMs = performance.now() - opening;
    const charts = await page.locator('[data-testid="chart"]').count();
    const machineMetrics = await pageMetrics(cdp);
    if (errors.length > 0) print(`  console: page errors: ${errors.join('; ')}`);
    return {
      browser: `Chromium ${browser.version()}`,
      firstRowsMs,
      firstPageMs: firstPageMs ?? Number.NaN,
      rowsInDom,
      rowCount,
      scrollToLastMs,
      pagesFetched: machinePages - pagesBefore,
      rowsInDomAtEnd,
      heapAfterFleetMiB: fleetMetrics.heapMiB,
      domNodesAfterFleet: fleetMetrics.nodes,
      machinePageMs,
      charts,
      heapAfterMachineMiB: machineMetrics.heapMiB,
    };
  } finally {
    await browser.close();
  }
}

// ---- the bench --------------------------------------------------------------------------------

/** The requests measured, as the console and other clients make them. */
export function probesFor(ids: readonly string[], endMs: number): Probe[] {
  const middle = encodeCursor('machines', [ids[Math.floor(ids.length / 2) - 1]!]);
  const span = `from=${new Date(endMs - 30 * 24 * HOUR).toISOString()}&to=${new Date(endMs).toISOString()}`;
  // Requests about one machine go round the fleet (a prime stride): most find the database's cache cold.
  const some = (n: number) => ids[(n * 7919) % ids.length]!;
  // Four digits of one id: a search that matches a few machines, so every id is looked at.
  const rare = ids[Math.floor(ids.length * 0.37)]!.slice(-4);
  return [
    // For longer than two expiries of its cache: the hits and the requests that wait for a refresh.
    { label: `GET /fleet (cached ${FLEET_CACHE_MS / 1000} s; 4.5 s of requests)`, pathOf: () => '/fleet', seconds: 4.5 },
    { label: 'GET /machines?limit=100', pathOf: () => '/machines?limit=100' },
    { label: 'GET /machines?limit=100&cursor=<middle>', pathOf: () => `/machines?limit=100&cursor=${middle}` },
    { label: 'GET /machines?state=at-risk&limit=100', pathOf: () => '/machines?state=at-risk&limit=100' },
    { label: `GET /machines?q=${rare}&limit=100`, pathOf: () => `/machines?q=${rare}&limit=100` },
    { label: 'GET /machines/<id>?limit=168', pathOf: (n) => `/machines/${some(n)}?limit=168` },
    { label: 'GET /machines/<id>?limit=720&from=<30 d>', pathOf: (n) => `/machines/${some(n)}?limit=720&${span}` },
    { label: 'GET /machines/<id>/assessments?limit=168', pathOf: (n) => `/machines/${some(n)}/assessments?limit=168` },
    { label: 'GET /alerts?limit=100', pathOf: () => '/alerts?limit=100' },
    { label: 'GET /alerts?status=FIRING&limit=100', pathOf: () => '/alerts?status=FIRING&limit=100' },
    { label: 'GET /silences?active=true', pathOf: () => '/silences?active=true' },
    { label: 'GET /actions?limit=100', pathOf: () => '/actions?limit=100' },
  ];
}

/** GET /fleet cold, then every probe by each number of clients: the table's rows. */
async function measureApi(api: Api, probes: readonly Probe[], print: (line: string) => void): Promise<{ rows: string[][]; peakMiB: number }> {
  const peak = { rssMiB: rssMiB(api.child.pid) };
  const rss = () => rssMiB(api.child.pid).toFixed(0);
  // The first request: a new connection pool, nothing cached; then each time the cache has expired.
  const first = await timedGet(api, '/fleet');
  const fleet = JSON.parse(first.body) as { machines: number; byState: Record<string, number>; activeAlerts: number; activeSilences: number };
  const states = Object.entries(fleet.byState).filter(([, n]) => n > 0).map(([state, n]) => `${fmt(n)} ${state}`);
  print(`  fleet: ${fmt(fleet.machines)} machines, ${states.join(', ')}; ${fleet.activeAlerts} active alerts, ${fleet.activeSilences} active silences`);
  const cold: number[] = [];
  for (let k = 0; k < FLEET_COLD_SAMPLES; k++) {
    await sleep(FLEET_CACHE_MS + 100);
    cold.push((await timedGet(api, '/fleet')).ms);
  }
  const coldFigures = latencyFigures(cold, Number.NaN);
  const rows: string[][] = [
    ['GET /fleet (cold: first request)', '1', '1', ms(first.ms), '', '', '', '', ''],
    ['GET /fleet (cold: cache expired)', '1', String(cold.length), ms(coldFigures.p50), '', '', ms(coldFigures.max), '', rss()],
  ];
  const bar = progressBar(probes.length * CLIENTS.length, '  measuring');
  let measured = 0;
  for (const probe of probes) {
    await timedGet(api, probe.pathOf(1_000_003));
    for (const clients of CLIENTS) {
      const f = await load(api, probe, clients, peak);
      const rate = f.perSecond.toFixed(f.perSecond < 10 ? 1 : 0);
      rows.push([probe.label, String(clients), fmt(f.requests), ms(f.p50), ms(f.p95), ms(f.p99), ms(f.max), rate, rss()]);
      bar.update(++measured, probe.label);
    }
  }
  bar.stop();
  return { rows, peakMiB: peak.rssMiB };
}

function consoleTable(c: ConsoleFigures, lastId: string, shown: string): string[] {
  return formatTable([`console (${c.browser}, 1400×900)`, 'figure'], [
    ['first fleet rows, from navigation', `${fmt(c.firstRowsMs)} ms (its GET /machines?limit=${CONSOLE_PAGE_SIZE} answered at ${fmt(c.firstPageMs)} ms)`],
    ['machine rows in the DOM then', String(c.rowsInDom)],
    [`scroll to the last machine (${lastId})`, `${(c.scrollToLastMs / 1000).toFixed(1)} s, ${c.pagesFetched} pages of ${CONSOLE_PAGE_SIZE} fetched`],
    ['machine rows in the DOM there (of the list\'s rows)', `${c.rowsInDomAtEnd} of ${fmt(c.rowCount)}`],
    ['JS heap after the fleet (after a GC), DOM nodes', `${c.heapAfterFleetMiB.toFixed(1)} MiB, ${fmt(c.domNodesAfterFleet)} nodes`],
    [`machine page (${shown}, 7 d), ${c.charts} charts drawn`, `${fmt(c.machinePageMs)} ms`],
    ['JS heap after the machine page (after a GC)', `${c.heapAfterMachineMiB.toFixed(1)} MiB`],
  ]);
}

export async function apiBench(options: ApiBenchOptions, env: NodeJS.ProcessEnv, print: (line: string) => void): Promise<void> {
  const { machines, hours } = options;
  // Both are required by their schemas; the local stack sets both (pdmctl stack up).
  const { DATABASE_URL: databaseUrl, DATABASE_FOLLOWER_URL: followerUrl } = parseEnv(followerSettings.extend({ DATABASE_URL: postgresSettings.shape.DATABASE_URL }), env);
  const schema = `bench_api_${Date.now()}`;
  const endMs = Math.floor(Date.now() / HOUR) * HOUR;
  const fleet: FleetOptions = { machines, hours, endMs };
  const plans = Array.from({ length: machines }, (_, m) => machinePlan(m, fleet));
  const ids = plans.map((p) => p.id).sort();
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-bench-api-'));
  const cpus = os.cpus();
  const servers = `primary ${new URL(databaseUrl).host}, follower ${new URL(followerUrl).host}`;
  print(`bench api: ${fmt(machines)} machines × ${hours} hourly windows, in schema ${schema} (${servers})`);
  print(
    `  machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}, load average ${os.loadavg()[0]!.toFixed(1)}, Node ${process.version};` +
      ` the bench, the API, both Postgres servers and the browser share it; logs in ${logDir}`,
  );

  const pool = new pg.Pool({ connectionString: databaseUrl, max: 3 });
  const follower = new pg.Client({ connectionString: followerUrl });
  let api: Api | undefined;
  try {
    await follower.connect();
    await migrate({ url: databaseUrl, schema, writerPassword: env.PDM_WRITER_PASSWORD, analystPassword: env.PDM_ANALYST_PASSWORD });
    // The days of the seeded rows (an assessment ends an hour after its window starts).
    await makeDayPartitions(pool, schema, daysBetween(Math.min(...plans.map((p) => p.fromMs)), Math.max(...plans.map((p) => p.fromMs + p.windows * HOUR))));
    const seeded = await seed(pool, schema, plans, fleet);
    const { window_features: windows, assessments } = seeded.rows;
    print(
      `  seeded ${fmt(windows!)} windows and ${fmt(assessments!)} assessments in ${seeded.seconds.toFixed(1)} s` +
        ` (${fmt((windows! + assessments!) / seeded.seconds)} rows/s of the two; INSERT ... unnest on two connections),` +
        ` then VACUUM ANALYZE ${seeded.vacuumSeconds.toFixed(1)} s`,
    );
    const replaySeconds = await followerCaughtUp(pool, follower, schema, seeded.rows);
    print(`  the follower had replayed it all ${replaySeconds.toFixed(1)} s later (every table's rows counted there)`);
    print('');
    const totalMiB = Object.values(seeded.bytes).reduce((a, b) => a + b, 0) / MiB;
    const sizes = TABLES.map((t) => [t, fmt(seeded.rows[t]!), `${(seeded.bytes[t]! / MiB).toFixed(1)} MiB`]);
    for (const line of formatTable(['table', 'rows', 'size (table + indexes)'], [...sizes, ['total', '', `${totalMiB.toFixed(1)} MiB`]])) print(line);
    print('');

    api = await startApi(env, schema, path.join(logDir, 'api.log'));
    const idleMiB = rssMiB(api.child.pid);
    print(`  pdmctl run api: ready in ${api.startSeconds.toFixed(1)} s on ${api.base}, RSS ${idleMiB.toFixed(0)} MiB`);
    const measured = await measureApi(api, probesFor(ids, endMs), print);
    print('');
    const header = ['request', 'clients', 'requests', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'req/s', 'API RSS MiB'];
    for (const line of formatTable(header, measured.rows)) print(line);
    print(`  API resident memory: ${idleMiB.toFixed(0)} MiB idle, ${measured.peakMiB.toFixed(0)} MiB at most under load (API RSS MiB: after each measurement)`);

    if (options.browser) {
      print('');
      const shown = plans.find((p) => p.extras.length > 0 && p.windows === hours) ?? plans[0]!;
      const lastId = ids[ids.length - 1]!;
      const figures = await measureConsole(api.base, lastId, { id: shown.id, charts: 2 + 6 + shown.extras.length }, print);
      print('');
      for (const line of consoleTable(figures, lastId, shown.id)) print(line);
    }
    print('');
    print(`  command: npx pdmctl bench api --machines ${machines} --hours ${hours}${options.browser ? '' : ' --no-browser'}`);
  } finally {
    if (api) {
      api.agent.destroy();
      await stop(api.child);
    }
    await follower.end().catch(() => undefined);
    if (options.keep) print(`  kept schema ${schema} (drop it with: DROP SCHEMA ${schema} CASCADE)`);
    else await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch((err: Error) => print(`  could not drop schema ${schema}: ${err.message}`));
    await pool.end();
  }
}
