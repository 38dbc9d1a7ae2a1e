import { WINDOW_COLUMNS } from '../models/data/windows-table';
import { machineState } from './machine-state';
import { encodeCursor, type AlertsQuery, type MachineQuery, type MachinesQuery } from './validation';
import { alertView, anomalyView, assessmentView, forecastView, isoTime, windowView, type AlertView, type AnomalyView, type AssessmentView, type ForecastView, type MachineSummary, type Row, type WindowView } from './views';

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

/** What the queries need of a pg Pool (tests may pass a client). */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Row[] }>;
}

/** At most this many transitions of one machine come with GET /machines/:id; GET /alerts?machine= pages through all. */
export const ALERT_HISTORY_LIMIT = 100;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface MachineDetail {
  machineId: string;
  state: MachineSummary['state'];
  lastWindow: WindowView;
  windows: WindowView[];
  nextCursor: string | null;
  latestAssessment: AssessmentView | null;
  /** The latest window the detector scored (the latest assessment may be of a machine still warming up). */
  latestAnomaly: (AnomalyView & { windowEnd: string }) | null;
  latestForecast: ForecastView | null;
  activeAlerts: AlertView[];
  alerts: AlertView[];
}

/** A timestamptz as a cursor holds it: UTC, to the microsecond, so a key compares exactly as stored. */
const cursorTime = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

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

/** The rows of a page (fetched `limit + 1`) and the cursor after its last row, if more follow. */
function page<T>(rows: readonly Row[], limit: number, view: (row: Row) => T, cursor: (row: Row) => string): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { items: kept.map(view), nextCursor: more ? cursor(kept[kept.length - 1]!) : null };
}

export class ApiQueries {
  /** The schema, quoted for SQL. */
  private readonly s: string;

  /** `schema` is a validated identifier (api.settings.ts). */
  constructor(
    private readonly db: Queryable,
    private readonly schema: string,
  ) {
    this.s = `"${schema}"`;
  }

  /** Ready when the follower answers and the tables are there (migrations applied); else why not. */
  async problem(): Promise<string | undefined> {
    const { rows } = await this.db.query(
      `SELECT t AS missing FROM unnest(ARRAY['window_features', 'window_extras', 'alerts', 'assessments', 'forecasts']) AS t WHERE to_regclass(format('%I.%I', $1::text, t)) IS NULL`,
      [this.schema],
    );
    if (rows.length > 0) return `the follower has no table ${rows.map((r) => `${this.schema}.${String(r.missing)}`).join(', ')} (migrations not applied or not replayed yet)`;
    return undefined;
  }

  /** GET /machines: each machine's last window, latest assessment, active alerts and state, by machine id. */
  async machines(query: MachinesQuery): Promise<Page<MachineSummary>> {
    // The distinct machine ids after the cursor, one index probe each (a loose index scan of
    // window_features' primary key), then each one's last window, newest first on the same key.
    const { rows } = await this.db.query(
      `WITH RECURSIVE ids(machine_id) AS (
         SELECT min(machine_id) FROM ${this.s}.window_features WHERE machine_id > $1
         UNION ALL
         SELECT (SELECT min(f.machine_id) FROM ${this.s}.window_features f WHERE f.machine_id > ids.machine_id) FROM ids WHERE ids.machine_id IS NOT NULL
       )
       SELECT w.* FROM (SELECT machine_id FROM ids WHERE machine_id IS NOT NULL LIMIT $2) AS machine
       CROSS JOIN LATERAL (SELECT ${windowSelect(this.s, 'f')} FROM ${this.s}.window_features f WHERE f.machine_id = machine.machine_id ORDER BY f.window_start DESC LIMIT 1) AS w
       ORDER BY w.machine_id`,
      [query.cursor?.[0] ?? '', query.limit + 1],
    );
    const windows = page(rows, query.limit, windowView, (r) => encodeCursor('machines', [String(r.machine_id)]));
    const ids = windows.items.map((w) => w.machineId);
    const [assessments, active] = await Promise.all([this.latestAssessments(ids), this.activeAlerts(ids)]);
    return {
      nextCursor: windows.nextCursor,
      items: windows.items.map((lastWindow) => {
        const activeAlerts = active.get(lastWindow.machineId) ?? [];
        const latestAssessment = assessments.get(lastWindow.machineId) ?? null;
        return { machineId: lastWindow.machineId, state: machineState({ activeAlerts: activeAlerts.length, latestAssessment: latestAssessment ?? undefined }), lastWindow, latestAssessment, activeAlerts };
      }),
    };
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
    const [windows, assessment, anomaly, forecast, active, history] = await Promise.all([
      this.db.query(`SELECT ${windowSelect(this.s, 'f')}, ${cursorTime('f.window_start')} AS cursor_time FROM ${this.s}.window_features f WHERE ${clauses.join(' AND ')} ORDER BY window_start DESC LIMIT ${param(query.limit + 1)}`, values),
      this.latestAssessments([machineId]),
      this.db.query(`SELECT ${ASSESSMENT_COLUMNS} FROM ${this.s}.assessments WHERE machine_id = $1 AND anomaly_score IS NOT NULL ORDER BY window_end DESC LIMIT 1`, [machineId]),
      this.db.query(
        `SELECT f.made_at, f.target_start, f.feature, f.mean, f.lower, f.upper, f.limit_lower, f.limit_upper, f.model_version, a.forecaster_model
         FROM ${this.s}.forecasts f LEFT JOIN ${this.s}.assessments a ON a.machine_id = f.machine_id AND a.window_end = f.made_at
         WHERE f.machine_id = $1 AND f.made_at = (SELECT max(made_at) FROM ${this.s}.forecasts WHERE machine_id = $1)
         ORDER BY f.feature, f.target_start`,
        [machineId],
      ),
      this.activeAlerts([machineId]),
      this.db.query(`SELECT ${ALERT_COLUMNS} FROM ${this.s}.alerts WHERE machine_id = $1 ORDER BY created_at DESC, alert_id DESC LIMIT ${ALERT_HISTORY_LIMIT}`, [machineId]),
    ]);
    const windowPage = page(windows.rows, query.limit, windowView, (r) => encodeCursor('windows', [String(r.cursor_time)]));
    const latestAssessment = assessment.get(machineId) ?? null;
    const activeAlerts = active.get(machineId) ?? [];
    const anomalyRow = anomaly.rows[0];
    const latestAnomaly = anomalyRow ? anomalyView(anomalyRow) : null;
    return {
      machineId,
      state: machineState({ activeAlerts: activeAlerts.length, latestAssessment: latestAssessment ?? undefined }),
      lastWindow: windowView(last.rows[0]!),
      windows: windowPage.items,
      nextCursor: windowPage.nextCursor,
      latestAssessment,
      latestAnomaly: latestAnomaly && anomalyRow ? { windowEnd: isoTime(anomalyRow.window_end), ...latestAnomaly } : null,
      latestForecast: forecastView(forecast.rows),
      activeAlerts,
      alerts: history.rows.map(alertView),
    };
  }

  /** GET /alerts: transitions newest first, filtered. */
  async alerts(query: AlertsQuery): Promise<Page<AlertView>> {
    const { where, values } = alertsFilter(query);
    values.push(query.limit + 1);
    const { rows } = await this.db.query(`SELECT ${ALERT_COLUMNS}, ${cursorTime('created_at')} AS cursor_time FROM ${this.s}.alerts ${where} ORDER BY created_at DESC, alert_id DESC LIMIT $${values.length}`, values);
    return page(rows, query.limit, alertView, (r) => encodeCursor('alerts', [String(r.cursor_time), String(r.alert_id)]));
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
