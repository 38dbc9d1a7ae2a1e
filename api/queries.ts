import { findAlertToAck, type AlertToAck } from '../lib/alert-lookup';
import { matches as matchesMachine } from '../lib/control-request';
import { ActionQueries } from './actions.queries';
import { ASSESSMENT_COLUMNS, LatestQueries, lookbackFromMs, windowSelect, type LatestPointer } from './latest.queries';
import { machineState } from './machine-state';
import { cursorTime, page, type Page, type Queryable } from './page';
import {
  MACHINE_STATES,
  type AlertView,
  type AssessmentPoint,
  type FleetView,
  type MachineDetail,
  type MachineSummary,
  type SilenceView,
  type WindowView,
} from './schemas';
import { encodeCursor, type AlertsQuery, type AssessmentsQuery, type MachineQuery, type MachinesQuery } from './validation';
import { alertView, anomalyView, assessmentPoint, forecastView, isoTime, windowView, type Row } from './views';

export type { Page, Queryable } from './page';
export type { MachineDetail } from './schemas';
export { windowSelect } from './latest.queries';

/**
 * The read API's SQL, on the follower. Every list is keyset-paginated: rows come in a fixed order
 * with a unique key (machine id; window start per machine; alert createdAt and id), one more row
 * than the page is fetched to know whether another page follows, and the cursor holds the key of
 * the page's last row. A page therefore costs an index range scan wherever it starts, and rows
 * written meanwhile neither shift nor repeat the pages after it (unlike OFFSET).
 *
 * Indexes used (sinks/postgres/migrations/): machine_latest's primary key for the fleet's machines
 * and where each one's latest rows are (latest.queries.ts); the primary keys of window_features
 * (machine_id, window_start), window_extras (machine_id, window_start, channel), assessments
 * (machine_id, window_end) and forecasts (machine_id, made_at, ...), each read with its
 * partitions' time bounded (009: one partition a day); alerts' alerts_created_at,
 * alerts_machine_created_at and alerts_dedup_key.
 */

/** At most this many transitions of one machine come with GET /machines/:id; GET /alerts?machine= pages through all. */
export const ALERT_HISTORY_LIMIT = 100;

const ALERT_COLUMNS = 'alert_id, dedup_key, machine_id, status, severity, kind, feature, window_end, predicted_breach_at, score, threshold, model_name, model_version, message, created_at, drivers';

const iso = (ms: number): string => new Date(ms).toISOString();
/** A time cursor's instant to the millisecond (an upper end of a page), Infinity without one. */
const cursorMs = (text: string | undefined): number => {
  const ms = text === undefined ? NaN : Date.parse(text);
  return Number.isNaN(ms) ? Infinity : ms;
};

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
/** The fleet's last window is looked for among the windows that started since this long before now first (machine_latest otherwise). */
export const FLEET_LOOKBACK_MS = 2 * 86_400_000;
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
  private readonly latest: LatestQueries;
  private fleetCache: { atMs: number; value?: FleetView; pending?: Promise<FleetView> } | undefined;

  /** `schema` is a validated identifier (api.settings.ts). */
  constructor(
    private readonly db: Queryable,
    private readonly schema: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.s = `"${schema}"`;
    this.actions = new ActionQueries(db, this.s);
    this.latest = new LatestQueries(db, this.s);
  }

  /** Ready when the follower answers and the tables are there (migrations applied); else why not. */
  async problem(): Promise<string | undefined> {
    const { rows } = await this.db.query(
      `SELECT t AS missing
       FROM unnest(ARRAY['window_features', 'window_extras', 'alerts', 'assessments', 'forecasts', 'notifications', 'alert_actions', 'machine_latest']) AS t
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
   * the states of STATE_SCAN_CHUNK machines at a time are computed from what they need alone
   * (pdm.machine_latest and the alerts), until the page is full; then only the page's machines are read whole.
   */
  async machines(query: MachinesQuery): Promise<Page<MachineSummary>> {
    const context = await this.summaryContext(this.clock());
    let pointers: LatestPointer[];
    let more = false;
    if (query.state) {
      const ids: string[] = [];
      for (let after = query.cursor?.[0] ?? ''; ; ) {
        const chunk = await this.states(after, STATE_SCAN_CHUNK, context, query.q);
        ids.push(...chunk.filter((m) => query.state!.includes(m.state)).map((m) => m.machineId));
        if (ids.length > query.limit || chunk.length < STATE_SCAN_CHUNK) break;
        after = chunk[chunk.length - 1]!.machineId;
      }
      more = ids.length > query.limit;
      const found = await this.latest.pointers(ids.slice(0, query.limit));
      pointers = ids.slice(0, query.limit).flatMap((id) => found.get(id) ?? []);
    } else {
      pointers = await this.latest.after(query.cursor?.[0] ?? '', query.limit + 1, query.q);
      more = pointers.length > query.limit;
      pointers.splice(query.limit);
    }
    const windows = await this.latest.lastWindows(pointers);
    const items = await this.summaries(windows, pointers, context, true);
    return { items, nextCursor: more && items.length > 0 ? encodeCursor('machines', [items[items.length - 1]!.machineId]) : null };
  }

  /**
   * The state of up to `limit` machines after `after` by id, from what it needs alone: the last
   * window's start and end, the latest assessment's state and warm-up (pdm.machine_latest), the
   * active alerts' count; one query (no window's statistics, no alert's fields).
   */
  private async states(after: string, limit: number, context: SummaryContext, q?: string): Promise<Array<{ machineId: string; state: MachineSummary['state']; activeAlerts: number }>> {
    const values: unknown[] = [after, limit];
    const match = q === undefined ? '' : `AND strpos(lower(m.machine_id), lower($${values.push(q)})) > 0`;
    const { rows } = await this.db.query(
      `SELECT m.machine_id, m.last_window_start AS window_start, m.last_window_end AS window_end, m.last_assessment_end IS NOT NULL AS assessed,
         m.last_assessment_state AS state, m.last_assessment_warming_up AS warming_up,
         (SELECT count(*) FROM (SELECT DISTINCT ON (x.dedup_key) x.status FROM ${this.s}.alerts x WHERE x.machine_id = m.machine_id
                                ORDER BY x.dedup_key, x.created_at DESC, x.alert_id DESC) latest WHERE latest.status = 'FIRING')::int AS active
       FROM ${this.s}.machine_latest m
       WHERE m.machine_id > $1 AND m.last_window_start IS NOT NULL ${match}
       ORDER BY m.machine_id LIMIT $2`,
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
    const [end, silences] = await Promise.all([this.latest.fleetLastEnd(nowMs - FLEET_LOOKBACK_MS), this.actions.silences(nowMs, true)]);
    return { nowMs, fleetLastEndMs: end === undefined ? undefined : Date.parse(isoTime(end)), silences };
  }

  /** Each machine of `lastWindows` summarised (`pointers`: theirs); `decorate`: its active alerts with their acknowledgements and mails. */
  private async summaries(
    lastWindows: readonly WindowView[],
    pointers: readonly LatestPointer[],
    context: SummaryContext,
    decorate: boolean,
  ): Promise<MachineSummary[]> {
    const ids = lastWindows.map((w) => w.machineId);
    const listed = pointers.filter((p) => ids.includes(p.machineId));
    const [assessments, active] = await Promise.all([this.latest.latestAssessments(listed), this.activeAlerts(ids)]);
    const alerts = decorate ? await this.actions.decorate([...active.values()].flat()) : [...active.values()].flat();
    const alertsOf = new Map<string, AlertView[]>();
    for (const alert of alerts) alertsOf.set(alert.machineId, [...(alertsOf.get(alert.machineId) ?? []), alert]);
    return lastWindows.map((lastWindow) => this.summary(lastWindow, assessments.get(lastWindow.machineId) ?? null, alertsOf.get(lastWindow.machineId) ?? [], context));
  }

  private summary(
    lastWindow: WindowView,
    latestAssessment: MachineSummary['latestAssessment'],
    activeAlerts: AlertView[],
    context: SummaryContext,
  ): MachineSummary {
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
    const pointer = (await this.latest.pointers([machineId])).get(machineId);
    const [last] = pointer ? await this.latest.lastWindows([pointer]) : [];
    if (!pointer || !last) return undefined;
    const [windows, context, anomalyRow, forecast, history] = await Promise.all([
      this.windowPage(pointer, query),
      this.summaryContext(this.clock()),
      this.latest.latestAnomaly(pointer),
      this.latest.latestForecast(pointer),
      this.db.query(`SELECT ${ALERT_COLUMNS} FROM ${this.s}.alerts WHERE machine_id = $1 ORDER BY created_at DESC, alert_id DESC LIMIT ${ALERT_HISTORY_LIMIT}`, [machineId]),
    ]);
    const [summary] = await this.summaries([last], [pointer], context, true);
    const latestAnomaly = anomalyRow ? anomalyView(anomalyRow) : null;
    return {
      ...summary!,
      windows: windows.items,
      nextCursor: windows.nextCursor,
      latestAnomaly: latestAnomaly && anomalyRow ? { windowEnd: isoTime(anomalyRow.window_end), ...latestAnomaly } : null,
      latestForecast: forecastView(forecast),
      alerts: await this.actions.decorate(history.rows.map(alertView)),
    };
  }

  /**
   * The machine page's windows, newest first: first within a lookback from its last window (or
   * the page's upper end) that holds the page at its window length, so the planner keeps those
   * days' partitions only; without that bound when the lookback holds fewer (gaps, old pages).
   */
  private async windowPage(pointer: LatestPointer, query: MachineQuery): Promise<Page<WindowView>> {
    const lowerMs = lookbackFromMs({
      beforeMs: Math.min(Date.parse(pointer.windowStart!) + 1, query.to ?? Infinity, cursorMs(query.cursor?.[0])),
      windowMs: Date.parse(pointer.windowEnd!) - Date.parse(pointer.windowStart!),
      limit: query.limit,
      fromMs: query.from,
    });
    const read = async (fromMs: number | undefined): Promise<Row[]> => {
      const values: unknown[] = [pointer.machineId];
      const param = (value: unknown) => `$${values.push(value)}`;
      const clauses = ['f.machine_id = $1'];
      const extras: string[] = [];
      if (fromMs !== undefined) extras.push(`>= ${param(iso(fromMs))}::timestamptz`);
      if (query.to !== undefined) extras.push(`< ${param(iso(query.to))}::timestamptz`);
      if (query.cursor) extras.push(`< ${param(query.cursor[0])}::timestamptz`);
      clauses.push(...extras.map((bound) => `f.window_start ${bound}`));
      const select = windowSelect(this.s, 'f', extras.length > 0 ? extras.join(' AND x.window_start ') : undefined);
      const { rows } = await this.db.query(
        `SELECT ${select}, ${cursorTime('f.window_start')} AS cursor_time FROM ${this.s}.window_features f
         WHERE ${clauses.join(' AND ')} ORDER BY f.window_start DESC LIMIT ${param(query.limit + 1)}`,
        values,
      );
      return rows;
    };
    let rows = lowerMs === undefined ? [] : await read(lowerMs);
    if (rows.length <= query.limit) rows = await read(query.from);
    return page(rows, query.limit, windowView, (r) => encodeCursor('windows', [String(r.cursor_time)]));
  }

  /**
   * GET /machines/:id/assessments: its score history newest first, `from` and `to` on the window
   * start. Bounded by window_end (the partitions' key) as windowPage is: a lookback from the latest
   * assessment first, and always `window_end > from` (an assessment ends after it starts).
   */
  async assessments(machineId: string, query: AssessmentsQuery): Promise<Page<AssessmentPoint>> {
    const pointer = (await this.latest.pointers([machineId])).get(machineId);
    if (!pointer?.assessmentEnd) return { items: [], nextCursor: null };
    const windowMs = pointer.windowStart && pointer.windowEnd ? Date.parse(pointer.windowEnd) - Date.parse(pointer.windowStart) : NaN;
    const beforeMs = Math.min(Date.parse(pointer.assessmentEnd) + 1, cursorMs(query.cursor?.[0]));
    const lowerMs = lookbackFromMs({ beforeMs, windowMs, limit: query.limit, fromMs: query.from });
    const read = async (endFromMs: number | undefined): Promise<Row[]> => {
      const values: unknown[] = [machineId];
      const param = (value: unknown) => `$${values.push(value)}`;
      const clauses = ['machine_id = $1'];
      if (query.from !== undefined) clauses.push(`window_start >= ${param(iso(query.from))}::timestamptz`, `window_end > $${values.length}::timestamptz`);
      if (query.to !== undefined) clauses.push(`window_start < ${param(iso(query.to))}::timestamptz`);
      if (query.cursor) clauses.push(`window_end < ${param(query.cursor[0])}::timestamptz`);
      if (endFromMs !== undefined) clauses.push(`window_end >= ${param(iso(endFromMs))}::timestamptz`);
      const { rows } = await this.db.query(
        `SELECT ${ASSESSMENT_COLUMNS}, ${cursorTime('window_end')} AS cursor_time FROM ${this.s}.assessments
         WHERE ${clauses.join(' AND ')} ORDER BY window_end DESC LIMIT ${param(query.limit + 1)}`,
        values,
      );
      return rows;
    };
    let rows = lowerMs === undefined ? [] : await read(lowerMs);
    if (rows.length <= query.limit) rows = await read(undefined);
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
