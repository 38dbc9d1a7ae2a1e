import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { deleteTopics } from '../../lib/kafka/admin';
import { repoRoot } from '../../lib/paths';
import type { AlertView, FleetView, MachineSummary } from '../../api/schemas';
import { FEATURES } from '../../schemas';
import { migrate } from '../../sinks/postgres/migrations';
import { startService, testEnv, uniqueName, useIsolatedTopics, useOwnSchema, waitFor, type RunningService } from './servers';

/**
 * The operator's console (console/) in a real browser: Debian's Chromium, driven by
 * playwright-core, against a running pipeline of its own (`pdmctl run window`, `inference`,
 * `sink-postgres`, `sink-email` and `api` as processes, on this file's topics and Postgres schema;
 * the API reads the follower and serves the console at /).
 *
 * Three healthy machines are simulated through their 24-window warm-up and 40 assessed hourly
 * windows (2026-03-02, a Monday, 00:00 to Wednesday 16:00 UTC, a reading a minute, a fixed seed:
 * the same readings every run); the fleet page lists them and a machine page draws its charts.
 * Then, with the machine page open, a second part where lathe-1-spindle overheats: its DEVIATION
 * alert appears without a reload, naming the channel that drives it, the machine turns at-risk
 * and sink-email's mail about it is listed; it is acknowledged from the page (the console asks
 * for the operator's name once), and the acknowledgement comes back through pdm.alert-control.v1,
 * sink-postgres, the follower and the API's change events.
 *
 * Screenshots (1400×900) are written to test-artifacts/console/ (gitignored): fleet.png,
 * machine.png, machine-alert.png (the alert acknowledged; docs/console.png is a copy of one),
 * fleet-at-risk.png, and failure.png when a step fails (the page's console errors and the
 * services' output are then in the error message).
 *
 * The browser is /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it), or
 * PDM_CHROMIUM.
 */

const env = testEnv();
const { prefix, connection } = useIsolatedTopics('console', 1);
const { schema } = useOwnSchema('console');

const ARTIFACTS = path.join(repoRoot, 'test-artifacts', 'console');
const CHROMIUM = process.env.PDM_CHROMIUM ?? '/usr/bin/chromium';
const VIEWPORT = { width: 1400, height: 900 };

const HOUR = 3_600_000;
const FROM = Date.parse('2026-03-02T00:00:00Z');
const at = (hours: number): string => new Date(FROM + hours * HOUR).toISOString().replace('.000Z', 'Z');
const MACHINES = ['lathe-1-spindle', 'cnc-mill-5-axis', 'robot-arm-02'];
const FAULTY = MACHINES[0]!;
/** Part 1: each machine's warm-up (its first 24 windows) and 40 assessed hours. Part 2: the fault's first 10 hours (it would fail 12 h after its onset). */
const WARMUP_WINDOWS = 24;
const PART1_HOURS = 64;
const PART2_HOURS = 10;
const FAILURE_HOURS = 12;
const OPERATOR = 'ana@plant-7';

const runEnv: NodeJS.ProcessEnv = {
  ...process.env,
  PDM_TOPIC_PREFIX: prefix,
  PDM_POSTGRES_SCHEMA: schema,
  // Windows: the last ones of each part close 3 s after its readings stop.
  PDM_WINDOW_SIZE: '1h',
  PDM_WINDOW_GRACE: '10s',
  PDM_WINDOW_IDLE_TIMEOUT: '3s',
  // Mail: to this run's own recipient, quickly, and about history too (the simulated days are in the past).
  PDM_EMAIL_DEFAULT_TO: `${uniqueName('console')}@plant.example`,
  PDM_EMAIL_GROUP_WAIT: '1s',
  PDM_EMAIL_TICK: '200ms',
  PDM_EMAIL_MAX_AGE: '3650d',
  PDM_API_KEY: '',
};

const simulateArgs = (fromHours: number, hours: number, extra: string[] = []): string[] => [
  ...['simulate', '--machines', String(MACHINES.length), '--scenario', 'normal', '--interval', '60s'],
  ...['--from', at(fromHours), '--duration', `${hours}h`, '--seed', '7', '--speed', 'max', ...extra],
];

describe('the console in Chromium, against a running pipeline', () => {
  const services = new Map<string, RunningService>();
  const consoleErrors: string[] = [];
  let browser: Browser | undefined;
  let page: Page | undefined;
  let api = '';
  const analyst = (() => {
    const url = new URL(env.followerUrl);
    url.username = 'pdm_analyst';
    url.password = encodeURIComponent(process.env.PDM_ANALYST_PASSWORD ?? '');
    return new pg.Client({ connectionString: url.toString() });
  })();

  const get = async <T>(route: string): Promise<T> => {
    const res = await fetch(`${api}${route}`);
    if (!res.ok) throw new Error(`GET ${route}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };

  const simulate = async (args: string[]): Promise<void> => {
    const run = startService(args, runEnv);
    const code = await run.exited;
    if (code !== 0) throw new Error(`pdmctl ${args.join(' ')} exited with ${code}:\n${run.output()}`);
  };

  const shot = async (name: string): Promise<void> => {
    await page!.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
  };

  /** Runs a step; when it fails, a screenshot and what the page and the services said go with the error. */
  const step = async <T>(what: string, body: () => Promise<T>): Promise<T> => {
    try {
      return await body();
    } catch (err) {
      await page?.screenshot({ path: path.join(ARTIFACTS, 'failure.png') }).catch(() => undefined);
      const tails = [...services].map(([name, s]) => `--- ${name}\n${s.output().split('\n').slice(-15).join('\n')}`).join('\n');
      const errors = consoleErrors.length ? consoleErrors.join('\n') : '(none)';
      throw new Error(`${what}: ${(err as Error).message}\nscreenshot: ${path.join(ARTIFACTS, 'failure.png')} of ${page?.url()}\npage console errors:\n${errors}\nservices:\n${tails}`, { cause: err });
    }
  };

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    fs.rmSync(path.join(ARTIFACTS, 'failure.png'), { force: true });
    // sink-email reads the notification log at start: the schema before the services.
    await migrate({ url: env.databaseUrl, schema, writerPassword: process.env.PDM_WRITER_PASSWORD, analystPassword: process.env.PDM_ANALYST_PASSWORD });
    await analyst.connect();
    for (const name of ['window', 'inference', 'sink-postgres', 'sink-email', 'api']) services.set(name, startService(['run', name, '--metrics-port', '0'], runEnv));
    const ports = new Map<string, string>();
    for (const [name, service] of services) ports.set(name, await service.metricsPort(90_000));
    api = `http://127.0.0.1:${ports.get('api')}`;
    await waitFor(
      'every service to be ready',
      async () => (await Promise.all([...ports.values()].map((port) => fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false)))).every(Boolean),
      60_000,
    );
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set PDM_CHROMIUM)`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Without the background-networking flags Chromium keeps calling home (updates, sync, QUIC probes).
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1, timezoneId: 'UTC', locale: 'en-GB' });
    page.setDefaultTimeout(30_000);
    page.on('console', (m) => void (m.type() === 'error' && consoleErrors.push(`console.error: ${m.text()}`)));
    page.on('pageerror', (err) => consoleErrors.push(`uncaught: ${err.message}`));
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    for (const service of services.values()) service.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([...services.values()].map((s) => s.exited)), new Promise((resolve) => (timer = setTimeout(resolve, 15_000)))]);
    clearTimeout(timer);
    for (const service of services.values()) service.child.kill('SIGKILL');
    await analyst.end();
    // The processors' own state topics, beside the contract's that useIsolatedTopics deletes.
    await deleteTopics(connection, [`${prefix}pdm-window-window-state-changelog`, `${prefix}pdm-inference-inference-state-changelog`]).catch(() => undefined);
  }, 60_000);

  test('fleet, machine charts, a live alert and its acknowledgement', async () => {
    const p = page!;

    await step('the healthy part: simulated, windowed, assessed, on the follower', async () => {
      await simulate(simulateArgs(0, PART1_HOURS));
      const last = at(PART1_HOURS);
      await waitFor(
        `the API to show ${MACHINES.join(', ')} assessed up to ${last}`,
        async () => {
          const machines = (await get<{ machines: MachineSummary[] }>('/machines?limit=10').catch(() => ({ machines: [] }))).machines;
          return machines.length === MACHINES.length && machines.every((m) => m.latestAssessment?.windowEnd === new Date(last).toISOString() && m.state !== 'warming-up');
        },
        90_000,
        500,
      );
    });

    await step('the fleet page', async () => {
      await p.goto(`${api}/`);
      await p.waitForSelector('[data-testid="live"][data-state="connected"]');
      await p.waitForFunction(`document.querySelectorAll('[data-testid="machine-row"]').length === ${MACHINES.length}`);
      const rows = await p.$$eval('[data-testid="machine-row"]', (els) =>
        els.map((el) => ({ id: el.getAttribute('data-machine-id'), state: el.querySelector('[data-testid="state"]')?.getAttribute('data-state') })),
      );
      expect(rows.map((r) => r.id).sort()).toEqual([...MACHINES].sort());
      const fleet = await get<FleetView>('/fleet');
      const { machines } = await get<{ machines: MachineSummary[] }>('/machines?limit=10');
      // Each row shows the state the API gives it: past the warm-up, assessed; the machine that will overheat is ok.
      expect(Object.fromEntries(rows.map((r) => [r.id, r.state]))).toEqual(Object.fromEntries(machines.map((m) => [m.machineId, m.state])));
      expect(rows.filter((r) => r.state !== 'ok' && r.state !== 'at-risk')).toEqual([]);
      expect(rows.find((r) => r.id === FAULTY)!.state).toBe('ok');
      expect(fleet).toMatchObject({ machines: MACHINES.length, activeSilences: 0 });
      await shot('fleet');
    });

    const machinePage = `[data-testid="machine-row"][data-machine-id="${FAULTY}"] a`;
    await step(`${FAULTY}'s page: its charts`, async () => {
      await p.click(machinePage);
      await p.waitForFunction(`location.hash.startsWith('#/machines/${FAULTY}')`);
      const channels = [...FEATURES, 'deviation'];
      await p.waitForFunction(`${JSON.stringify(channels)}.every((c) => Number(document.querySelector('[data-testid="chart"][data-channel="' + c + '"]')?.getAttribute('data-points')) > 0)`);
      const charts = Object.fromEntries(await p.$$eval('[data-testid="chart"]', (els) => els.map((el) => [el.getAttribute('data-channel'), Number(el.getAttribute('data-points'))])));
      // Every window is in the 7-day range: each channel draws all of them, the deviation score those past the warm-up.
      expect(charts).toMatchObject({ ...Object.fromEntries(FEATURES.map((f) => [f, PART1_HOURS])), deviation: PART1_HOURS - WARMUP_WINDOWS });
      // The canvases are drawn (uPlot sizes them to the page).
      const canvases = await p.$$eval('[data-testid="chart"] canvas', (els) => els.filter((c) => Number(c.getAttribute('width')) > 0).length);
      expect(canvases).toBeGreaterThanOrEqual(channels.length);
      await shot('machine');
    });

    // The marker stays set unless the page is loaded again.
    await p.evaluate('window.__pdmNoReload = true');
    const reloaded = async () => (await p.evaluate('window.__pdmNoReload')) !== true;
    /** The machine's active DEVIATION alert, listed above its charts (the fleet detector's ANOMALY may fire too). */
    const deviationRow = p.locator('.active-alerts [data-testid="alert-row"][data-status="FIRING"]', { has: p.locator('.kind', { hasText: /^DEVIATION$/ }) });
    const alert = await step(`the fault on ${FAULTY}: its alert, live`, async () => {
      await simulate(simulateArgs(PART1_HOURS, PART2_HOURS, ['--fault', `${FAULTY}:overheating:${at(PART1_HOURS)}:${at(PART1_HOURS + FAILURE_HOURS)}`]));
      await deviationRow.first().waitFor({ timeout: 60_000 });
      await p.waitForSelector('.view-header [data-testid="state"][data-state="at-risk"]');
      expect(await reloaded()).toBe(false);
      const id = (await deviationRow.first().getAttribute('data-alert-id'))!;
      const { alerts } = await get<{ alerts: AlertView[] }>(`/alerts?machine=${FAULTY}`);
      const shown = alerts.find((a) => a.alertId === id)!;
      expect(shown).toMatchObject({ machineId: FAULTY, kind: 'DEVIATION', status: 'FIRING' });
      expect(shown.drivers.length).toBeGreaterThan(0);
      // What drives it: a temperature channel, named in the row.
      const driver = shown.drivers[0]!.channel;
      expect(driver).toMatch(/^temp[AB]\b/);
      expect(await deviationRow.first().locator('.driver-line').textContent()).toContain(driver);
      return shown;
    });

    await step('the acknowledgement, asked for a name once, round-tripped', async () => {
      await deviationRow.first().locator('[data-testid="ack"]').click();
      const dialog = p.locator('[data-testid="your-name"]');
      await dialog.waitFor();
      await dialog.locator('input[name="name"]').fill(OPERATOR);
      await dialog.locator('button[type="submit"]').click();
      const acknowledged = deviationRow.first().locator('[data-testid="acknowledged"]');
      await acknowledged.waitFor({ timeout: 30_000 });
      expect(await acknowledged.textContent()).toContain(OPERATOR);
      expect(await p.evaluate("localStorage.getItem('pdm.operator')")).toBe(OPERATOR);
      // Recorded as pdm_analyst reads it on the follower (the API's own source).
      const { rows } = await analyst.query(`SELECT action, machine_id, dedup_key, requested_by FROM ${schema}.alert_actions`);
      expect(rows).toEqual([{ action: 'ACK', machine_id: FAULTY, dedup_key: alert.dedupKey, requested_by: OPERATOR }]);
      // sink-email's mail about it (pdm.notifications, read on the follower too).
      expect(await deviationRow.first().locator('.mails summary').textContent({ timeout: 30_000 })).toMatch(/^1 mail\b/);
      expect(await reloaded()).toBe(false);
      await shot('machine-alert');
    });

    await step('the fleet shows the machine at risk', async () => {
      await p.click('a.back');
      await p.waitForSelector(`[data-testid="machine-row"][data-machine-id="${FAULTY}"] [data-testid="state"][data-state="at-risk"]`);
      await shot('fleet-at-risk');
    });
    expect(consoleErrors).toEqual([]);
  }, 240_000);
});
