import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { Pool } from 'pg';
import { parse as parseYaml } from 'yaml';
import { deleteTopics } from '../../lib/kafka/admin';
import { repoRoot } from '../../lib/paths';
import { TOPICS } from '../../lib/topics';
import { migrate } from '../../sinks/postgres/migrations';
import { which } from '../../stack/artifacts';
import { quietReporter } from '../../stack/reporter';
import type { StackSecrets } from '../../stack/secrets';
import { serverDir, type StackContext } from '../../stack/server';
import { RULES_FILE, prometheusServer, targetsFileOf } from '../../stack/servers/prometheus';
import { loadStackSettings } from '../../stack/settings';
import { testEnv, uniqueName, useIsolatedTopics } from './servers';

/**
 * The Grafana dashboards (grafana/dashboards/*.json) against real data, with no Grafana: their
 * structure, then every query a panel, variable or annotation makes, with Grafana's variables and
 * macros substituted the way Grafana does.
 *
 * A pipeline of its own (window, inference, sink-postgres, sink-email on isolated topics, a
 * Postgres schema of its own, ports of its own) processes nine simulated days of five machines
 * and a few undecodable records. A private Prometheus, started from the local stack's own server
 * definition (stack/servers/prometheus.ts: its generated configuration, alerting rules included),
 * scrapes only these services: the shared stack's Prometheus scrapes fixed ports that other
 * runs may hold, and a container Prometheus could not reach them. Every Prometheus target must
 * return data; every Postgres query runs on the follower as pdm_analyst and must succeed, and
 * return rows whenever the tables it reads hold data (for the machine it is about).
 *
 * The dashboards name the schema `pdm`; here each `pdm.` becomes this run's schema, as the
 * migration runner does, and every service (the email sink's notification log too) writes there.
 */

const DASHBOARDS_DIR = path.join(repoRoot, 'grafana', 'dashboards');
const PROVISIONING = ['grafana/provisioning/datasources/pdm.yml', 'grafana/provisioning-local/datasources/pdm.yml'];
const SERVICES = ['window', 'inference', 'sink-postgres', 'sink-email'] as const;
const HOUR = 3_600_000;

// ---------------------------------------------------------------------------------- the JSON model

interface DatasourceRef {
  type?: string;
  uid?: string;
}
interface Target {
  refId: string;
  datasource?: DatasourceRef;
  expr?: string;
  rawSql?: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: DatasourceRef;
  gridPos?: { h: number; w: number; x: number; y: number };
  targets?: Target[];
  panels?: Panel[];
  repeat?: string;
}
interface Variable {
  name: string;
  type: 'query' | 'custom' | 'constant' | 'interval' | 'textbox';
  datasource?: DatasourceRef;
  query?: string | { query?: string };
  current?: { value?: string | string[] };
  includeAll?: boolean;
  multi?: boolean;
  allValue?: string;
}
interface Annotation {
  name: string;
  builtIn?: number;
  datasource?: DatasourceRef;
  target?: Target;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
  annotations: { list: Annotation[] };
}

const dashboards: Array<{ file: string; dashboard: Dashboard }> = fs
  .readdirSync(DASHBOARDS_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => ({ file, dashboard: JSON.parse(fs.readFileSync(path.join(DASHBOARDS_DIR, file), 'utf8')) as Dashboard }));

const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const BUILTIN_GRAFANA = '-- Grafana --';

/** Every query of a dashboard: panel targets, query variables and annotations, with the datasource each runs on. */
function queriesOf(dashboard: Dashboard): Array<{ where: string; datasource: DatasourceRef; expr?: string; sql?: string; panel?: Panel }> {
  const out: ReturnType<typeof queriesOf> = [];
  for (const panel of allPanels(dashboard.panels)) {
    for (const target of panel.targets ?? []) {
      out.push({ where: `panel "${panel.title}" (${panel.id}) target ${target.refId}`, datasource: target.datasource ?? panel.datasource ?? {}, expr: target.expr, sql: target.rawSql, panel });
    }
  }
  for (const annotation of dashboard.annotations.list) {
    if (annotation.builtIn) continue;
    out.push({ where: `annotation "${annotation.name}"`, datasource: annotation.datasource ?? {}, sql: annotation.target?.rawSql, expr: annotation.target?.expr });
  }
  return out;
}

const variableQuery = (v: Variable): string => (typeof v.query === 'string' ? v.query : (v.query?.query ?? ''));

// ------------------------------------------------------------------- Grafana's interpolation

type Format = 'raw' | 'sqlstring' | 'regex' | 'pipe' | 'csv';

/** Values of the variables for one run of a query; `all` marks an includeAll variable left at All. */
type Values = Record<string, { values: string[]; all: boolean; allValue?: string; options?: string[] }>;

function formatValue(value: { values: string[]; all: boolean; allValue?: string }, format: Format, datasource: 'prometheus' | 'sql'): string {
  if (value.all && value.allValue !== undefined && format !== 'sqlstring') return value.allValue;
  const list = value.values;
  if (format === 'sqlstring' || (datasource === 'sql' && format === 'raw' && list.length > 1)) return list.map((v) => `'${v.replace(/'/g, "''")}'`).join(',');
  if (format === 'raw' && list.length === 1) return list[0]!;
  if (format === 'csv') return list.join(',');
  if (format === 'pipe') return list.join('|');
  // Grafana's default for a multi-value variable in PromQL: a regex alternation of escaped values.
  const escaped = list.map((v) => v.replace(/[\\^$*+?.()|{}[\]]/g, '\\$&'));
  return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
}

/**
 * `$name`, `${name}`, `${name:format}` and `[[name]]`, as Grafana substitutes them. A `$` left
 * over (an undefined variable, a macro nobody expands) is an error.
 */
function interpolate(text: string, values: Values, builtins: Record<string, string>, datasource: 'prometheus' | 'sql'): string {
  const replaced = text.replace(/\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)\]\]|\$(\w+)/g, (match, a: string, format: string | undefined, b: string, c: string) => {
    const name = a ?? b ?? c;
    if (name in builtins) return builtins[name]!;
    const value = values[name];
    if (!value) return match;
    return formatValue(value, (format ?? 'raw') as Format, datasource);
  });
  const left = /\$\{?\w+/.exec(replaced);
  if (left) throw new Error(`nothing defines ${left[0]} in:\n${text}`);
  return replaced;
}

interface TimeRange {
  fromMs: number;
  toMs: number;
}

/** Grafana's Postgres macros for a time range, then the schema of this run in place of `pdm`. */
function expandSql(sql: string, values: Values, range: TimeRange, schema: string, intervalS: number): string {
  const iso = (ms: number) => `'${new Date(ms).toISOString()}'`;
  const seconds = (spec: string) => {
    const m = /^'?(\d+)(s|m|h|d)'?$/.exec(spec.trim());
    if (!m) throw new Error(`not an interval: ${spec}`);
    return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  };
  let out = sql.replace(/\$__interval\b/g, `${intervalS}s`);
  out = out
    .replace(/\$__timeFilter\(([^)]+)\)/g, (_m, column: string) => `${column.trim()} BETWEEN ${iso(range.fromMs)} AND ${iso(range.toMs)}`)
    .replace(/\$__timeFrom\(\)/g, iso(range.fromMs))
    .replace(/\$__timeTo\(\)/g, iso(range.toMs))
    .replace(/\$__timeGroupAlias\(([^,]+),([^)]+)\)/g, (_m, column: string, interval: string) => `floor(extract(epoch from ${column.trim()})/${seconds(interval)})*${seconds(interval)} AS "time"`)
    .replace(/\$__timeGroup\(([^,]+),([^)]+)\)/g, (_m, column: string, interval: string) => `floor(extract(epoch from ${column.trim()})/${seconds(interval)})*${seconds(interval)}`);
  out = interpolate(out, values, {}, 'sql');
  return out.replace(/\bpdm\./g, `${schema}.`);
}

function expandPromQL(expr: string, values: Values, rangeS: number): string {
  return interpolate(expr, values, { __rate_interval: '1m', __interval: '15s', __range: `${rangeS}s`, __range_s: String(rangeS) }, 'prometheus');
}

/** The variables a text refers to (builtins `__x` excluded). */
const variablesIn = (text: string): string[] => [...text.matchAll(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!).filter((name) => !name.startsWith('__'));

// ------------------------------------------------------------------------------ structure

describe('the dashboards in grafana/dashboards', () => {
  const provisioned = PROVISIONING.map((file) => ({
    file,
    datasources: (parseYaml(fs.readFileSync(path.join(repoRoot, file), 'utf8')) as { datasources: Array<{ uid: string; type: string }> }).datasources,
  }));

  test('are the three of the issue, each a Grafana 11 dashboard with a uid of its own', () => {
    expect(dashboards.map((d) => d.file)).toEqual(['alerts.json', 'machine-condition.json', 'pipeline-health.json']);
    for (const { dashboard } of dashboards) {
      expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
      expect(dashboard.schemaVersion).toBeLessThanOrEqual(41);
      expect(dashboard.title.length).toBeGreaterThan(0);
    }
    expect(new Set(dashboards.map((d) => d.dashboard.uid)).size).toBe(dashboards.length);
  });

  test.each(dashboards.map((d) => [d.file, d.dashboard] as const))('%s: panel ids are unique and panels fit the 24-column grid', (_file, dashboard) => {
    const panels = allPanels(dashboard.panels);
    const ids = panels.map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id) && id > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) {
      expect({ panel: panel.title, fits: panel.gridPos !== undefined && panel.gridPos.x >= 0 && panel.gridPos.x + panel.gridPos.w <= 24 && panel.gridPos.h > 0 }).toEqual({ panel: panel.title, fits: true });
      if (panel.type !== 'row') expect({ panel: panel.title, targets: (panel.targets ?? []).length > 0 }).toEqual({ panel: panel.title, targets: true });
      const refIds = (panel.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
    }
  });

  test.each(dashboards.map((d) => [d.file, d.dashboard] as const))('%s: every datasource is one provisioned, by uid and type, in both provisioning sets', (_file, dashboard) => {
    const refs: Array<{ where: string; ref: DatasourceRef }> = [
      ...allPanels(dashboard.panels).filter((p) => p.type !== 'row').map((p) => ({ where: `panel ${p.title}`, ref: p.datasource ?? {} })),
      ...queriesOf(dashboard).map((q) => ({ where: q.where, ref: q.datasource })),
      ...dashboard.templating.list.filter((v) => v.type === 'query').map((v) => ({ where: `variable ${v.name}`, ref: v.datasource ?? {} })),
      ...dashboard.annotations.list.map((a) => ({ where: `annotation ${a.name}`, ref: a.datasource ?? {} })),
    ];
    for (const { where, ref } of refs) {
      if (ref.uid === BUILTIN_GRAFANA) continue;
      for (const { file, datasources } of provisioned) {
        const found = datasources.find((d) => d.uid === ref.uid);
        expect({ where, file, type: found?.type }).toEqual({ where, file, type: ref.type });
      }
    }
  });

  test.each(dashboards.map((d) => [d.file, d.dashboard] as const))('%s: every variable a query or a repeat uses is defined, and defined before the variables that use it', (_file, dashboard) => {
    const names = dashboard.templating.list.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    for (const q of queriesOf(dashboard)) for (const name of variablesIn(q.expr ?? q.sql ?? '')) expect({ where: q.where, name, defined: names.includes(name) }).toEqual({ where: q.where, name, defined: true });
    dashboard.templating.list.forEach((v, i) => {
      for (const name of variablesIn(variableQuery(v))) expect({ variable: v.name, uses: name, before: names.indexOf(name) >= 0 && names.indexOf(name) < i }).toEqual({ variable: v.name, uses: name, before: true });
    });
    for (const panel of allPanels(dashboard.panels).filter((p) => p.repeat)) {
      const v = dashboard.templating.list.find((x) => x.name === panel.repeat);
      expect({ panel: panel.title, repeat: panel.repeat, multi: v?.multi === true || v?.includeAll === true }).toEqual({ panel: panel.title, repeat: panel.repeat, multi: true });
    }
  });
});

// ------------------------------------------------------------------- against real data

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, onTimeout?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${onTimeout ? `\n${onTimeout()}` : ''}`);
    await sleep(1000);
  }
}

interface PromSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

describe('every dashboard query, against a running pipeline', () => {
  const env = testEnv();
  const { prefix } = useIsolatedTopics('dash', 3);
  const schema = uniqueName('dash').replace(/-/g, '_');
  const recipient = `${uniqueName('oncall')}@dashboards.test`;
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-dashboards-'));
  const children = new Map<string, ChildProcess>();
  const ports = new Map<string, number>();
  const logOf = (name: string) => path.join(stateDir, `${name}.log`);
  const tail = (name: string) => (fs.existsSync(logOf(name)) ? fs.readFileSync(logOf(name), 'utf8').split('\n').slice(-30).join('\n') : '');
  const ownerPool = new Pool({ connectionString: env.databaseUrl, max: 2 });
  const analystUrl = (() => {
    const url = new URL(env.followerUrl);
    url.username = 'pdm_analyst';
    url.password = process.env.PDM_ANALYST_PASSWORD ?? '';
    return url.toString();
  })();
  const analyst = new Pool({ connectionString: analystUrl, max: 2 });
  let prometheusUrl = '';
  let promStartS = 0;
  let endS = 0;
  const sqlRange: TimeRange = { fromMs: Date.now() - 7 * 24 * HOUR, toMs: Date.now() + HOUR };

  const runEnv = (): NodeJS.ProcessEnv => ({
    ...process.env,
    PDM_TOPIC_PREFIX: prefix,
    PDM_POSTGRES_SCHEMA: schema,
    PDM_EMAIL_DEFAULT_TO: recipient,
    PDM_EMAIL_GROUP_WAIT: '1s',
    PDM_EMAIL_TICK: '200ms',
    PDM_SESSION_TIMEOUT: '10s',
    PDM_LOG_LEVEL: 'warn',
  });

  const start = (name: string, command: string, args: string[], childEnv: NodeJS.ProcessEnv, cwd = repoRoot): ChildProcess => {
    const log = fs.openSync(logOf(name), 'a');
    const child = spawn(command, args, { cwd, env: childEnv, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    children.set(name, child);
    child.once('exit', () => children.delete(name));
    return child;
  };
  const pdmctl = (name: string, args: string[]) => start(name, process.execPath, [path.join(repoRoot, 'bin', 'pdmctl.js'), ...args], runEnv());

  async function prom<T>(api: string, params: Record<string, string>): Promise<T> {
    const response = await fetch(`${prometheusUrl}/api/v1/${api}?${new URLSearchParams(params)}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${api} ${JSON.stringify(params)}: ${body.error}`);
    return body.data;
  }
  const count = async (pool: Pool, sql: string, params: unknown[] = []) => Number((await pool.query<{ n: string }>(sql, params)).rows[0]!.n);

  beforeAll(async () => {
    // This run's schema, with every migration there is (004 and later included once they land).
    await migrate({ url: env.databaseUrl, schema, writerPassword: process.env.PDM_WRITER_PASSWORD, analystPassword: process.env.PDM_ANALYST_PASSWORD });

    // The private Prometheus, as the local stack configures it, scraping this run's services only.
    const promPort = await freePort();
    const settings = loadStackSettings({ ...process.env, PDM_STATE_DIR: stateDir, PDM_PROMETHEUS_PORT: String(promPort) });
    const ctx: StackContext = { settings, reporter: quietReporter, secrets: {} as StackSecrets };
    const launch = await prometheusServer.prepare(ctx);
    for (const name of SERVICES) ports.set(name, await freePort());
    fs.writeFileSync(targetsFileOf(ctx.settings), JSON.stringify(SERVICES.map((name) => ({ targets: [`127.0.0.1:${ports.get(name)}`], labels: { service: name } }))));
    start('prometheus', launch.command, launch.args, process.env, serverDir(ctx, 'prometheus'));
    prometheusUrl = prometheusServer.address(ctx);
    await waitFor('Prometheus', async () => ((await prometheusServer.probe(ctx)) === undefined ? true : undefined), 60_000, () => tail('prometheus'));
    promStartS = Math.floor(Date.now() / 1000);

    for (const name of SERVICES) pdmctl(name, ['run', name, '--metrics-port', String(ports.get(name))]);
    for (const name of SERVICES) {
      await waitFor(`${name} to be ready`, async () => {
        if (!children.has(name)) throw new Error(`${name} exited:\n${tail(name)}`);
        return (await fetch(`http://127.0.0.1:${ports.get(name)}/ready`)).ok ? true : undefined;
      }, 120_000, () => tail(name));
    }

    // A scrape of every service before the work starts: rates and quantiles need a sample from
    // before it (the work takes seconds, the scrape interval is 5 s).
    await waitFor('Prometheus to scrape every service', async () => {
      const up = await prom<{ result: unknown[] }>('query', { query: 'up{job="pdm"} == 1' });
      return up.result.length === SERVICES.length ? true : undefined;
    }, 60_000);
    await sleep(6000);

    // Rows so far, on the primary: windows, alerts, mail sent to this run's recipient.
    const sizes = async () => [
      await count(ownerPool, `SELECT count(*) AS n FROM ${schema}.window_features`),
      await count(ownerPool, `SELECT count(*) AS n FROM ${schema}.alerts`),
      await count(ownerPool, `SELECT count(*) AS n FROM ${schema}.notifications WHERE recipient = $1 AND outcome = 'sent'`, [recipient]),
    ];
    /** Until the rows stop changing for 3 s with `ready` true of them. */
    const settle = async (what: string, ready: (rows: number[]) => boolean) => {
      const seen: string[] = [];
      await waitFor(
        what,
        async () => {
          const now = await sizes();
          seen.push(JSON.stringify(now));
          return ready(now) && seen.length >= 4 && seen.slice(-4).every((x) => x === seen.at(-1)) ? now : undefined;
        },
        240_000,
        () => `rows so far (windows, alerts, mails): ${seen.at(-1)}\n${SERVICES.map((name) => `--- ${name}\n${tail(name)}`).join('\n')}`,
      );
    };
    const simulate = async (from: number, to: number) => {
      const child = pdmctl('simulate', ['simulate', '--machines', '5', '--from', new Date(from).toISOString(), '--to', new Date(to).toISOString(), '--interval', '30s', '--speed', 'max', '--seed', '1']);
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      if (code !== 0) throw new Error(`simulate failed:\n${tail('simulate')}`);
    };

    // Nine days of five machines (seed 1: faults that raise alerts; more than the forecaster's
    // week of lookback, so there are forecasts), in two parts a few scrapes
    // apart: a series that appears with the first part's work (a histogram per table or stage)
    // has a rate, and so a quantile, only with work after its first scrape. And records nobody
    // can decode, for the dead-letter panels.
    const end = Math.floor(Date.now() / HOUR) * HOUR;
    await simulate(end - 9 * 24 * HOUR, end - 6 * HOUR);
    const kafka = new Kafka({ clientId: 'dashboards-test', brokers: env.kafkaBrokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    for (const topic of [TOPICS.readings, TOPICS.alerts]) await producer.send({ topic: `${prefix}${topic}`, messages: [{ key: 'lathe-1-spindle', value: Buffer.from('not an Avro record') }] });
    await producer.disconnect();
    await settle('the first part\'s windows', ([windows]) => windows! > 0);
    const firstWindows = (await sizes())[0]!;
    await sleep(11_000);
    await simulate(end - 6 * HOUR, Date.now());
    await settle('windows, alerts and sent mail', ([windows, alerts, mails]) => windows! > firstWindows && alerts! > 0 && mails! > 0);

    const expected = await Promise.all(['window_features', 'alerts', 'notifications'].map((t) => count(ownerPool, `SELECT count(*) AS n FROM ${schema}.${t}`)));
    await waitFor('the follower to replay the rows', async () => {
      const onFollower = await Promise.all(['window_features', 'alerts', 'notifications'].map((t) => count(analyst, `SELECT count(*) AS n FROM ${schema}.${t}`)));
      return JSON.stringify(onFollower) === JSON.stringify(expected) ? true : undefined;
    }, 60_000);
    // Two more scrapes after the last of it, so every rate window ends after the work.
    await sleep(12_000);
    endS = Math.ceil(Date.now() / 1000);
  }, 600_000);

  afterAll(async () => {
    for (const [name, child] of children) if (name !== 'prometheus') child.kill('SIGTERM');
    await waitFor('the services to stop', async () => ([...children.keys()].every((n) => n === 'prometheus') ? true : undefined), 30_000).catch(() => undefined);
    for (const child of children.values()) child.kill('SIGKILL');
    await ownerPool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await ownerPool.end();
    await analyst.end();
    await deleteTopics({ brokers: env.kafkaBrokers, clientId: 'dashboards-test' }, [`${prefix}pdm-window-window-state-changelog`, `${prefix}pdm-inference-inference-state-changelog`]).catch(() => undefined);
    fs.rmSync(stateDir, { recursive: true, force: true });
  }, 120_000);

  test('every service serves /metrics that promtool check metrics accepts', async () => {
    const promtool = which('promtool') ?? '/usr/bin/promtool';
    for (const name of SERVICES) {
      const text = await (await fetch(`http://127.0.0.1:${ports.get(name)}/metrics`)).text();
      const check = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      if (check.error) throw new Error(`promtool (Debian package prometheus) is needed: ${check.error.message}`);
      expect({ service: name, problems: `${check.stdout}${check.stderr}`.trim() }).toEqual({ service: name, problems: '' });
    }
  });

  test("Prometheus loaded the pipeline's alerting rules and evaluates each without error", async () => {
    const rules = (parseYaml(fs.readFileSync(RULES_FILE, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string }> }> }).groups.flatMap((g) => g.rules.map((r) => r.alert));
    const loaded = await prom<{ groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }>('rules', { type: 'alert' });
    const byName = new Map(loaded.groups.flatMap((g) => g.rules).map((r) => [r.name, r]));
    expect([...byName.keys()].sort()).toEqual([...rules].sort());
    for (const [name, rule] of byName) expect({ name, health: rule.health, error: rule.lastError ?? '' }).toEqual({ name, health: 'ok', error: '' });
  });

  /** Each variable's values from its datasource; a query variable must give at least one. */
  async function resolveVariables(dashboard: Dashboard): Promise<Values> {
    const values: Values = {};
    for (const v of dashboard.templating.list) {
      let options: string[];
      if (v.type === 'custom') options = variableQuery(v).split(',').map((s) => s.trim());
      else if (v.type === 'query' && v.datasource?.type === 'prometheus') {
        const q = expandPromQL(variableQuery(v), values, endS - promStartS);
        const m = /^label_values\((?:(.+),\s*)?(\w+)\)$/.exec(q);
        if (!m) throw new Error(`variable ${v.name}: only label_values(...) is understood here: ${q}`);
        options = await prom<string[]>(`label/${m[2]}/values`, { ...(m[1] ? { 'match[]': m[1] } : {}), start: String(promStartS), end: String(endS) });
      } else if (v.type === 'query') {
        const sql = expandSql(variableQuery(v), values, sqlRange, schema, 3600);
        options = (await analyst.query<Record<string, unknown>>(sql)).rows.map((row) => String(Object.values(row)[0]));
      } else throw new Error(`variable ${v.name}: type ${v.type} is not handled by this test`);
      expect({ variable: v.name, resolves: options.length > 0 }).toEqual({ variable: v.name, resolves: true });
      // As a dashboard opens: a single-value variable at its saved value (which must still be
      // offered) or else the first one; a multi-value one at All.
      const current = [v.current?.value ?? []].flat().filter((x) => x !== '$__all');
      if (current.length > 0) expect({ variable: v.name, current: current.every((c) => options.includes(c)) }).toEqual({ variable: v.name, current: true });
      if (v.multi || v.includeAll) values[v.name] = { values: options, all: true, allValue: v.allValue, options };
      else values[v.name] = { values: [current[0] ?? options[0]!], all: false, options };
    }
    return values;
  }

  const promDashboards = dashboards.filter((d) => queriesOf(d.dashboard).some((q) => q.datasource.type === 'prometheus'));
  const sqlDashboards = dashboards.filter((d) => queriesOf(d.dashboard).some((q) => q.datasource.type === 'grafana-postgresql-datasource'));

  test.each(promDashboards.map((d) => [d.file, d.dashboard] as const))('%s: every Prometheus target returns data from the pipeline', async (_file, dashboard) => {
    const values = await resolveVariables(dashboard);
    // Series scraped, and metrics the services declare (HELP/TYPE) with no sample yet: a failure counter before the first failure.
    const names = new Set([...(await prom<string[]>('label/__name__/values', { start: String(promStartS), end: String(endS) })), ...Object.keys(await prom<Record<string, unknown>>('metadata', {}))]);
    const queries = queriesOf(dashboard).filter((q) => q.datasource.type === 'prometheus');
    expect(queries.length).toBeGreaterThan(0);
    const empty: string[] = [];
    for (const q of queries) {
      const expr = expandPromQL(q.expr ?? '', values, endS - promStartS);
      // Every metric named exists: an `or` fallback must not hide a misspelt name.
      for (const [metric] of expr.matchAll(/\bpdm_[a-z0-9_]+\b|\bup\b/g)) expect({ where: q.where, metric, scraped: names.has(metric) }).toEqual({ where: q.where, metric, scraped: true });
      const data = await prom<{ result: PromSeries[] }>('query_range', { query: expr, start: String(promStartS), end: String(endS), step: '5' });
      const finite = data.result.some((series) => series.values.some(([, v]) => Number.isFinite(Number(v))));
      if (!finite) empty.push(`${q.where}: ${expr}`);
    }
    expect(empty).toEqual([]);
  });

  /** Tables a query reads, and whether they hold rows (for the machine, when it is about one). */
  async function dataExists(sql: string, values: Values): Promise<boolean> {
    const tables = [...new Set([...sql.matchAll(/\bpdm\.(\w+)/g)].map((m) => m[1]!))];
    const machine = /\$\{machine(?::\w+)?\}|\$machine\b/.test(sql) ? values.machine?.values : undefined;
    for (const table of tables) {
      const filter = machine ? ` WHERE machine_id = ANY($1)` : '';
      if ((await count(analyst, `SELECT count(*) AS n FROM ${schema}.${table}${filter}`, machine ? [machine] : [])) === 0) return false;
    }
    return true;
  }

  test.each(sqlDashboards.map((d) => [d.file, d.dashboard] as const))('%s: every Postgres query runs on the follower as pdm_analyst, with rows wherever there is data', async (_file, dashboard) => {
    const resolved = await resolveVariables(dashboard);
    const queries = queriesOf(dashboard).filter((q) => q.datasource.type === 'grafana-postgresql-datasource');
    expect(queries.length).toBeGreaterThan(0);
    // A dashboard about one machine runs for each machine there is; a repeated panel for each value it repeats over.
    const machines = resolved.machine && !resolved.machine.all ? resolved.machine.options!.map((m) => [m]) : [resolved.machine?.values ?? []];
    const failures: string[] = [];
    let withRows = 0;
    for (const q of queries) {
      const repeat = q.panel?.repeat;
      for (const machine of machines) {
        for (const repeated of repeat ? resolved[repeat]!.values : [undefined]) {
          const values: Values = { ...resolved, ...(resolved.machine ? { machine: { ...resolved.machine, values: machine, all: resolved.machine.all } } : {}) };
          if (repeat && repeated !== undefined) values[repeat] = { values: [repeated], all: false };
          const sql = expandSql(q.sql ?? '', values, sqlRange, schema, 3600);
          const where = `${q.where}${machine.length === 1 ? ` machine ${machine[0]}` : ''}${repeated ? ` ${repeat}=${repeated}` : ''}`;
          try {
            const { rows } = await analyst.query(sql);
            if (rows.length > 0) withRows++;
            else if (await dataExists(q.sql ?? '', values)) failures.push(`${where}: no rows, though its tables hold data\n${sql}`);
          } catch (err) {
            failures.push(`${where}: ${(err as Error).message}\n${sql}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(withRows).toBeGreaterThan(0);
  });
});
