import { WINDOW_COLUMNS } from '../models/data/windows-table';
import { findAlertToAck, type AlertToAck } from '../lib/alert-lookup';
import { matches as matchesMachine } from '../lib/control-request';
import { ActionQueries } from './actions.queries';
import { machineState } from './machine-state';
import { cursorTime, page, type Page, type Queryable } from './page';
import { MACHINE_STATES, type AlertView, type AssessmentPoint, type AssessmentView, type FleetView, type MachineDetail, type MachineSummary, type SilenceView, type WindowView } from './schemas';
import { encodeCursor, type AlertsQuery, type AssessmentsQuery, type MachineQuery, type MachinesQuery } from './validation';
import { alertView, anomalyView, assessmentPoint, assessmentView, forecastView, isoTime, windowView } from './views';

export type { Page, Queryable } from './page';
export type { MachineDetail } from './schemas';

/**
 * The read API's SQL, on the follower. Every list is keyset-paginated: rows come in a fixed order
 * with a unique key (machine id; window start per machine; alert createdAt and id), one more row
 * than the page is fetched to know whether another page follows, and the cursor holds the key of
 * the page's last row. A page therefore costs an index range scan wherever it starts, and rows
 * written meanwhile neither shift nor repeat the pages after it (unlike OFFSET).
 *
 * Indexes used (sinks/postgres/migrations/): the primary keys of window_features
 * (machine_id, window_start) and window_extras (machine_id, window_start, channel), and assessments (machine_id, window_end) for a machine's latest and
 * its ranges, forecasts' (machine_id, made_at, ...) for the latest forecast, and alerts'
 * alerts_created_at, alerts_machine_created_at and alerts_dedup_key.
 */

/** At most this many transitions of one machine come with GET /machines/:id; GET /alerts?machine= pages through all. */
export const ALERT_HISTORY_LIMIT = 100;

const ALERT_COLUMNS = 'alert_id, dedup_key, machine_id, status, severity, kind, feature, window_end, predicted_breach_at, score, threshold, model_name, model_version, message, created_at, drivers';
const ASSESSMENT_COLUMNS = 'machine_id, window_start, window_end, warming_up, anomaly_score, anomaly_threshold, detector_model, detector_version, forecaster_model, forecaster_version, state, deviation_score, deviation_threshold, drivers';

/**
 * The columns of window rows of `alias` (a pdm.window_features), with its extra channels as one
 * jsonb object `extras` ({} when it has none): one primary-key range of window_extras per window.
 */
export const windowSelect = (schema: string, alias: string): string =>
  `${WINDOW_COLUMNS.map((c) => `${alias}.${c}`).join(', ')}, ` +
  `(SELECT coalesce(jsonb_object_agg(x.channel, ` +
  `jsonb_build_object('count', x.count, 'mean', x.mean, 'min', x.min, 'max', x.max, 'stddev', x.stddev)), '{}'::jsonb) ` +
  `FROM ${schema}.window_extras x WHERE x.machine_id = ${alias}.machine_id AND x.window_start = ${alias}.window_start) AS extras`;

const iso = (ms: number): string => new Date(ms).toISOString();

/** The WHERE clause and values of GET /alerts' filters and cursor. Pure. */
export function alertsFilter(query: Omit<AlertsQuery, 'limit'>): { where: string; values: unknown[] } {
  const values: unknown[] = [];
  const param = (value: unknown) => `$${values.push(value)}`;
  const clauses: string[] = [];
  if (query.status) clauses.push(`status = ANY(${param(query.status)}::text[])`);
  if (query.severity) clauses.push(`severity = ANY(${param(query.severity)}::text[])`);
  if (query.machine) clauses.push(`machine_id = ANY(${param(query.machine)}::text[])`);
  if (query.kind) clauses.push(`kind = ANY(${param(query.kind)}::text[])`);
  if (query.from !== undefined) clauses.push(`created_at >= ${param(iso(query.from))}::timestamptz`);
  if (query.to !== undefined) clauses.push(`created_at < ${param(iso(query.to))}::timestamptz`);
  if (query.cursor) clauses.push(`(created_at, alert_id) < (${param(query.cursor[0])}::timestamptz, ${param(query.cursor[1])}::text)`);
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', values };
}


/** Machines whose state a request computes at a time, when it filters by state or counts the fleet. */
export const STATE_SCAN_CHUNK = 1000;
/** How long a fleet count is reused: the console asks on every change, many consoles at once. */
export const FLEET_CACHE_MS = 2000;

/** What a machine's summary needs beyond its own rows. */
interface SummaryContext {
  nowMs: number;
  fleetLastEndMs: number | undefined;
  silences: readonly SilenceView[];
}

export class ApiQueries {
  /** The schema, quoted for SQL. */
  private readonly s: string;
  readonly actions: ActionQueries;
  private fleetCache: { atMs: number; value?: FleetView; pending?: Promise<FleetView> } | undefined;

  /** `schema` is a validated identifier (api.settings.ts). */
  constructor(
    private readonly db: Queryable,
    private readonly schema: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.s = `"${schema}"`;
    this.actions = new ActionQueries(db, this.s);
  }

  /** Ready when the follower answers and the tables are there (migrations applied); else why not. */
  async problem(): Promise<string | undefined> {
    const { rows } = await this.db.query(
      `SELECT t AS missing FROM unnest(ARRAY['window_features', 'window_extras', 'alerts', 'assessments', 'forecasts', 'notifications', 'alert_actions']) AS t
       WHERE to_regclass(format('%I.%I', $1::text, t)) IS NULL`,
      [this.schema],
    );
    if (rows.length > 0) return `the follower has no table ${rows.map((r) => `${this.schema}.${String(r.missing)}`).join(', ')} (migrations not applied or not replayed yet)`;
    return undefined;
  }

  /**
   * GET /fleet: every machine counted by state (STATE_SCAN_CHUNK machines a query). A count is
   * reused for FLEET_CACHE_MS; after that the next request starts a new count and is answered the
   * previous one meanwhile (at 10,000 machines a count takes a second or two: nobody waits for it
   * but the first request).
   */
  async fleet(): Promise<FleetView> {
    const nowMs = this.clock();
    const cache = (this.fleetCache ??= { atMs: -Infinity });
    if (cache.value && nowMs - cache.atMs < FLEET_CACHE_MS) return cache.value;
    if (!cache.pending) {
      const pending = this.countFleet(nowMs).then((value) => {
        cache.value = value;
        cache.atMs = nowMs;
        return value;
      });
      cache.pending = pending.finally(() => (cache.pending = undefined));
      // Handled here too: while a previous count is served, nobody else awaits this one (a failed count is tried again by the next request).
      cache.pending.catch(() => undefined);
    }
    return cache.value ?? cache.pending;
  }

  private async countFleet(nowMs: number): Promise<FleetView> {
    const context = await this.summaryContext(nowMs);
    const byState = Object.fromEntries(MACHINE_STATES.map((state) => [state, 0])) as FleetView['byState'];
    let machines = 0;
    let activeAlerts = 0;
    for (let after = ''; ; ) {
      const chunk = await this.states(after, STATE_SCAN_CHUNK, context);
      for (const machine of chunk) {
        machines += 1;
        byState[machine.state] += 1;
        activeAlerts += machine.activeAlerts;
      }
      if (chunk.length < STATE_SCAN_CHUNK) break;
      after = chunk[chunk.length - 1]!.machineId;
    }
    const lastWindowEnd = context.fleetLastEndMs === undefined ? null : isoTime(context.fleetLastEndMs);
    return { machines, byState, activeAlerts, activeSilences: context.silences.length, lastWindowEnd, asOf: isoTime(nowMs) };
  }

  /**
   * GET /machines: each machine's last window, latest assessment, active alerts, silence and state,
   * by machine id; `q` and `state` filter. A state is computed, not stored: with a state filter,
   * the states of STATE_SCAN_CHUNK machines at a time are computed from what they need alone,
   * until the page is full; then only the page's machines are read whole.
   */
  async machines(query: MachinesQuery): Promise<Page<MachineSummary>> {
    const context = await this.summaryContext(this.clock());
    let ids: string[] | undefined;
    let more = false;
    if (query.state) {
      ids = [];
      for (let after = query.cursor?.[0] ?? ''; ; ) {
        const chunk = await this.states(after, STATE_SCAN_CHUNK, context, query.q);
        ids.push(...chunk.filter((m) => query.state!.includes(m.state)).map((m) => m.machineId));
        if (ids.length > query.limit || chunk.length < STATE_SCAN_CHUNK) break;
        after = chunk[chunk.length - 1]!.machineId;
      }
      more = ids.length > query.limit;
      ids = ids.slice(0, query.limit);
    }
    const windows = ids ? await this.lastWindowsOf(ids) : await this.lastWindows(query.cursor?.[0] ?? '', query.limit + 1, query.q);
    if (!ids) {
      more = windows.length > query.limit;
      windows.splice(query.limit);
    }
    const items = await this.summaries(windows, context, true);
    return { items, nextCursor: more && items.length > 0 ? encodeCursor('machines', [items[items.length - 1]!.machineId]) : null };
  }

  /** The ids of up to `limit` machines after `after` (whose id contains `q`, in any case): a loose index scan of window_features' primary key. */
  private idsAfter(q: string | undefined, values: unknown[]): string {
    const match = q === undefined ? '' : `AND strpos(lower(machine_id), lower($${values.push(q)})) > 0`;
    return `WITH RECURSIVE ids(machine_id) AS (
         SELECT min(machine_id) FROM ${this.s}.window_features WHERE machine_id > $1
         UNION ALL
         SELECT (SELECT min(f.machine_id) FROM ${this.s}.window_features f WHERE f.machine_id > ids.machine_id) FROM ids WHERE ids.machine_id IS NOT NULL
       )
       SELECT machine_id FROM ids WHERE machine_id IS NOT NULL ${match} LIMIT $2`;
  }

  /** The last window of up to `limit` machines after `after` by id (those whose id contains `q`, in any case). */
  private async lastWindows(after: string, limit: number, q?: string): Promise<WindowView[]> {
    const values: unknown[] = [after, limit];
    const ids = this.idsAfter(q, values);
    const { rows } = await this.db.query(
      `SELECT w.* FROM (${ids}) AS machine
       CROSS JOIN LATERAL (SELECT ${windowSelect(this.s, 'f')} FROM ${this.s}.window_features f WHERE f.machine_id = machine.machine_id ORDER BY f.window_start DESC LIMIT 1) AS w
       ORDER BY w.machine_id`,
      values,
    );
    return rows.map(windowView);
  }

  /** The last window of each of `ids`, by id. */
  private async lastWindowsOf(ids: readonly string[]): Promise<WindowView[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.db.query(
      `SELECT w.* FROM unnest($1::text[]) AS machine(machine_id)
       CROSS JOIN LATERAL (SELECT ${windowSelect(this.s, 'f')} FROM ${this.s}.window_features f WHERE f.machine_id = machine.machine_id ORDER BY f.window_start DESC LIMIT 1) AS w
       ORDER BY w.machine_id`,
      [ids],
    );
    return rows.map(windowView);
  }

  /**
   * The state of up to `limit` machines after `after` by id, from what it needs alone: the last
   * window's start and end, the latest assessment's state and warm-up, the active alerts' count;
   * one query (no window's statistics, no alert's fields).
   */
  private async states(after: string, limit: number, context: SummaryContext, q?: string): Promise<Array<{ machineId: string; state: MachineSummary['state']; activeAlerts: number }>> {
    const values: unknown[] = [after, limit];
    const ids = this.idsAfter(q, values);
    const { rows } = await this.db.query(
      `SELECT m.machine_id, w.window_start, w.window_end, a.machine_id IS NOT NULL AS assessed, a.state, a.warming_up,
         (SELECT count(*) FROM (SELECT DISTINCT ON (x.dedup_key) x.status FROM ${this.s}.alerts x WHERE x.machine_id = m.machine_id
                                ORDER BY x.dedup_key, x.created_at DESC, x.alert_id DESC) latest WHERE latest.status = 'FIRING')::int AS active
       FROM (${ids}) AS m
       CROSS JOIN LATERAL (SELECT f.window_start, f.window_end FROM ${this.s}.window_features f WHERE f.machine_id = m.machine_id ORDER BY f.window_start DESC LIMIT 1) AS w
       LEFT JOIN LATERAL (SELECT x.machine_id, x.state, x.warming_up FROM ${this.s}.assessments x WHERE x.machine_id = m.machine_id ORDER BY x.window_end DESC LIMIT 1) AS a ON true
       ORDER BY m.machine_id`,
      values,
    );
    return rows.map((r) => {
      const activeAlerts = Number(r.active);
      const state = machineState({
        activeAlerts,
        latestAssessment: r.assessed ? { warmingUp: r.warming_up === null ? null : String(r.warming_up), state: r.state === null ? null : String(r.state) } : undefined,
        lastWindow: { startMs: Date.parse(isoTime(r.window_start)), endMs: Date.parse(isoTime(r.window_end)) },
        fleetLastEndMs: context.fleetLastEndMs,
        nowMs: context.nowMs,
      });
      return { machineId: String(r.machine_id), state, activeAlerts };
    });
  }

  private async summaryContext(nowMs: number): Promise<SummaryContext> {
    const [last, silences] = await Promise.all([
      this.db.query(`SELECT window_end FROM ${this.s}.window_features ORDER BY window_start DESC LIMIT 1`),
      this.actions.silences(nowMs, true),
    ]);
    const end = last.rows[0]?.window_end;
    return { nowMs, fleetLastEndMs: end === undefined ? undefined : Date.parse(isoTime(end)), silences };
  }

  /** Each machine of `lastWindows` summarised; `decorate`: its active alerts with their acknowledgements and mails. */
  private async summaries(lastWindows: readonly WindowView[], context: SummaryContext, decorate: boolean): Promise<MachineSummary[]> {
    const ids = lastWindows.map((w) => w.machineId);
    const [assessments, active] = await Promise.all([this.latestAssessments(ids), this.activeAlerts(ids)]);
    const alerts = decorate ? await this.actions.decorate([...active.values()].flat()) : [...active.values()].flat();
    const alertsOf = new Map<string, AlertView[]>();
    for (const alert of alerts) alertsOf.set(alert.machineId, [...(alertsOf.get(alert.machineId) ?? []), alert]);
    return lastWindows.map((lastWindow) => this.summary(lastWindow, assessments.get(lastWindow.machineId) ?? null, alertsOf.get(lastWindow.machineId) ?? [], context));
  }

  private summary(lastWindow: WindowView, latestAssessment: AssessmentView | null, activeAlerts: AlertView[], context: SummaryContext): MachineSummary {
    const { machineId } = lastWindow;
    const state = machineState({
      activeAlerts: activeAlerts.length,
      latestAssessment: latestAssessment ?? undefined,
      lastWindow: { startMs: Date.parse(lastWindow.windowStart), endMs: Date.parse(lastWindow.windowEnd) },
      fleetLastEndMs: context.fleetLastEndMs,
      nowMs: context.nowMs,
    });
    const silence = context.silences.find((s) => s.machine === null || matchesMachine(s.machine, machineId)) ?? null;
    return { machineId, state, lastWindow, latestAssessment, activeAlerts, silence };
  }

  /** GET /machines/:id, or undefined for a machine with no window. */
  async machine(machineId: string, query: MachineQuery): Promise<MachineDetail | undefined> {
    const last = await this.db.query(`SELECT ${windowSelect(this.s, 'f')} FROM ${this.s}.window_features f WHERE machine_id = $1 ORDER BY window_start DESC LIMIT 1`, [machineId]);
    if (last.rows.length === 0) return undefined;
    const values: unknown[] = [machineId];
    const param = (value: unknown) => `$${values.push(value)}`;
    const clauses = ['machine_id = $1'];
    if (query.from !== undefined) clauses.push(`window_start >= ${param(iso(query.from))}::timestamptz`);
    if (query.to !== undefined) clauses.push(`window_start < ${param(iso(query.to))}::timestamptz`);
    if (query.cursor) clauses.push(`window_start < ${param(query.cursor[0])}::timestamptz`);
    const [windows, context, anomaly, forecast, history] = await Promise.all([
      this.db.query(`SELECT ${windowSelect(this.s, 'f')}, ${cursorTime('f.window_start')} AS cursor_time FROM ${this.s}.window_features f WHERE ${clauses.join(' AND ')} ORDER BY window_start DESC LIMIT ${param(query.limit + 1)}`, values),
      this.summaryContext(this.clock()),
      this.db.query(`SELECT ${ASSESSMENT_COLUMNS} FROM ${this.s}.assessments WHERE machine_id = $1 AND anomaly_score IS NOT NULL ORDER BY window_end DESC LIMIT 1`, [machineId]),
      this.db.query(
        `SELECT f.made_at, f.target_start, f.feature, f.mean, f.lower, f.upper, f.limit_lower, f.limit_upper, f.model_version, a.forecaster_model
         FROM ${this.s}.forecasts f LEFT JOIN ${this.s}.assessments a ON a.machine_id = f.machine_id AND a.window_end = f.made_at
         WHERE f.machine_id = $1 AND f.made_at = (SELECT max(made_at) FROM ${this.s}.forecasts WHERE machine_id = $1)
         ORDER BY f.feature, f.target_start`,
        [machineId],
      ),
      this.db.query(`SELECT ${ALERT_COLUMNS} FROM ${this.s}.alerts WHERE machine_id = $1 ORDER BY created_at DESC, alert_id DESC LIMIT ${ALERT_HISTORY_LIMIT}`, [machineId]),
    ]);
    const [summary] = await this.summaries([windowView(last.rows[0]!)], context, true);
    const windowPage = page(windows.rows, query.limit, windowView, (r) => encodeCursor('windows', [String(r.cursor_time)]));
    const anomalyRow = anomaly.rows[0];
    const latestAnomaly = anomalyRow ? anomalyView(anomalyRow) : null;
    return {
      ...summary!,
      windows: windowPage.items,
      nextCursor: windowPage.nextCursor,
      latestAnomaly: latestAnomaly && anomalyRow ? { windowEnd: isoTime(anomalyRow.window_end), ...latestAnomaly } : null,
      latestForecast: forecastView(forecast.rows),
      alerts: await this.actions.decorate(history.rows.map(alertView)),
    };
  }

  /** GET /machines/:id/assessments: its score history newest first, `from` and `to` on the window start. */
  async assessments(machineId: string, query: AssessmentsQuery): Promise<Page<AssessmentPoint>> {
    const values: unknown[] = [machineId];
    const param = (value: unknown) => `$${values.push(value)}`;
    const clauses = ['machine_id = $1'];
    if (query.from !== undefined) clauses.push(`window_start >= ${param(iso(query.from))}::timestamptz`);
    if (query.to !== undefined) clauses.push(`window_start < ${param(iso(query.to))}::timestamptz`);
    if (query.cursor) clauses.push(`window_end < ${param(query.cursor[0])}::timestamptz`);
    const { rows } = await this.db.query(
      `SELECT ${ASSESSMENT_COLUMNS}, ${cursorTime('window_end')} AS cursor_time FROM ${this.s}.assessments WHERE ${clauses.join(' AND ')} ORDER BY window_end DESC LIMIT ${param(query.limit + 1)}`,
      values,
    );
    return page(rows, query.limit, assessmentPoint, (r) => encodeCursor('assessments', [String(r.cursor_time)]));
  }

  /** GET /alerts: transitions newest first, filtered, with their acknowledgements and mails. */
  async alerts(query: AlertsQuery): Promise<Page<AlertView>> {
    const { where, values } = alertsFilter(query);
    values.push(query.limit + 1);
    const { rows } = await this.db.query(`SELECT ${ALERT_COLUMNS}, ${cursorTime('created_at')} AS cursor_time FROM ${this.s}.alerts ${where} ORDER BY created_at DESC, alert_id DESC LIMIT $${values.length}`, values);
    const result = page(rows, query.limit, alertView, (r) => encodeCursor('alerts', [String(r.cursor_time), String(r.alert_id)]));
    return { ...result, items: await this.actions.decorate(result.items) };
  }

  /** The alert an acknowledgement of `idOrDedupKey` is about (lib/alert-lookup.ts, as `pdmctl alerts ack` finds it), or undefined. */
  alertToAck(idOrDedupKey: string): Promise<AlertToAck | undefined> {
    return findAlertToAck(this.db, this.schema, idOrDedupKey);
  }

  /** The latest assessment of each of `machineIds` that has one. */
  private async latestAssessments(machineIds: readonly string[]): Promise<Map<string, AssessmentView>> {
    if (machineIds.length === 0) return new Map();
    const { rows } = await this.db.query(
      `SELECT a.* FROM unnest($1::text[]) AS m(machine_id)
       CROSS JOIN LATERAL (SELECT ${ASSESSMENT_COLUMNS} FROM ${this.s}.assessments x WHERE x.machine_id = m.machine_id ORDER BY x.window_end DESC LIMIT 1) AS a`,
      [machineIds],
    );
    return new Map(rows.map((r) => [String(r.machine_id), assessmentView(r)]));
  }

  /**
   * The active alerts of each of `machineIds`: per dedup key, the latest transition, when it is
   * FIRING. Newest first.
   */
  private async activeAlerts(machineIds: readonly string[]): Promise<Map<string, AlertView[]>> {
    const out = new Map<string, AlertView[]>();
    if (machineIds.length === 0) return out;
    const { rows } = await this.db.query(
      `SELECT * FROM (
         SELECT DISTINCT ON (dedup_key) ${ALERT_COLUMNS} FROM ${this.s}.alerts WHERE machine_id = ANY($1::text[]) ORDER BY dedup_key, created_at DESC, alert_id DESC
       ) AS latest
       WHERE status = 'FIRING' ORDER BY created_at DESC, alert_id DESC`,
      [machineIds],
    );
    for (const row of rows) {
      const alert = alertView(row);
      const list = out.get(alert.machineId) ?? [];
      list.push(alert);
      out.set(alert.machineId, list);
    }
    return out;
  }
}

/**
 * Whether a query failed because the database is away or busy (the client should retry: 503),
 * rather than because of the request or the code (500). SQLSTATE classes 08 (connection), 53
 * (resources), 57 (operator intervention: a statement timeout, a shutdown), 40001 (on a hot
 * standby, a query cancelled by a conflict with recovery); Node's socket errors; pg's own
 * connection and query timeouts.
 */
export function databaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/^[0-9A-Z]{5}$/.test(code)) return ['08', '53', '57'].includes(code.slice(0, 2)) || code === '40001';
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE)$/.test(code)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /timeout exceeded when trying to connect|Connection terminated|Query read timeout|connection timeout/i.test(message);
}
