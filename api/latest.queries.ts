import { WINDOW_COLUMNS } from '../models/data/windows-table';
import { cursorTime, type Queryable } from './page';
import type { AssessmentView, WindowView } from './schemas';
import { assessmentView, windowView, type Row } from './views';

/**
 * A machine's latest rows by their keys, from pdm.machine_latest (migration 010, kept by triggers
 * in the rows' transactions). The four big tables are partitioned by day (009): a query bounded by
 * its partition key through a bound parameter is planned over the partitions of those days only,
 * while "the latest row of a machine" is planned over all of them (13 to 100 ms a query at 90
 * days). So every read here names its days: a pointer's exact time (`= ANY($n)`), or a lower bound.
 * A pointer whose row is gone (deleted by hand) falls back to the unbounded query, so the answer
 * is the rows' either way; a NULL pointer means the machine has no such row.
 */

export const ASSESSMENT_COLUMNS = 'machine_id, window_start, window_end, warming_up, anomaly_score, anomaly_threshold, detector_model, detector_version, ' +
  'forecaster_model, forecaster_version, state, deviation_score, deviation_threshold, drivers';

/** Where a machine's latest rows are: times as text to the microsecond (as stored), NULL when it has none. */
export interface LatestPointer {
  machineId: string;
  windowStart: string | null;
  windowEnd: string | null;
  assessmentEnd: string | null;
  assessmentState: string | null;
  assessmentWarmingUp: string | null;
  anomalyEnd: string | null;
  forecastAt: string | null;
}

const POINTER_COLUMNS = `machine_id, ${cursorTime('last_window_start')} AS window_start, ${cursorTime('last_window_end')} AS window_end, ` +
  `${cursorTime('last_assessment_end')} AS assessment_end, last_assessment_state, last_assessment_warming_up, ` +
  `${cursorTime('last_anomaly_end')} AS anomaly_end, ${cursorTime('last_forecast_at')} AS forecast_at`;

const textOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

function pointerOf(row: Row): LatestPointer {
  return {
    machineId: String(row.machine_id),
    windowStart: textOrNull(row.window_start),
    windowEnd: textOrNull(row.window_end),
    assessmentEnd: textOrNull(row.assessment_end),
    assessmentState: textOrNull(row.last_assessment_state),
    assessmentWarmingUp: textOrNull(row.last_assessment_warming_up),
    anomalyEnd: textOrNull(row.anomaly_end),
    forecastAt: textOrNull(row.forecast_at),
  };
}

/**
 * The columns of window rows of `alias` (a pdm.window_features), with its extra channels as one
 * jsonb object `extras` ({} when it has none): one primary-key range of window_extras per window.
 * `bound`, a condition on x.window_start with bound parameters (`= ANY($2::timestamptz[])`, `>= $3::timestamptz`),
 * lets the planner keep only those days' partitions of window_extras (the correlation alone does not).
 */
export const windowSelect = (schema: string, alias: string, bound?: string): string =>
  `${WINDOW_COLUMNS.map((c) => `${alias}.${c}`).join(', ')}, ` +
  `(SELECT coalesce(jsonb_object_agg(x.channel, ` +
  `jsonb_build_object('count', x.count, 'mean', x.mean, 'min', x.min, 'max', x.max, 'stddev', x.stddev)), '{}'::jsonb) ` +
  `FROM ${schema}.window_extras x WHERE x.machine_id = ${alias}.machine_id AND x.window_start = ${alias}.window_start` +
  `${bound ? ` AND x.window_start ${bound}` : ''}) AS extras`;

const DAY_MS = 86_400_000;

/**
 * The lower bound of a first, bounded attempt at a machine's newest `limit + 1` rows before
 * `beforeMs` (its latest row's time, or the page's upper end): room for those rows at the
 * machine's window length (from its last window) and a quarter more, plus a day. Undefined when
 * `fromMs` (the request's own lower bound) is already within it, since a bound would not narrow
 * anything. If the bounded attempt finds fewer than `limit + 1` rows (gaps, a machine that
 * stopped), the caller asks again without it. Pure.
 */
export function lookbackFromMs(p: { beforeMs: number; windowMs: number; limit: number; fromMs?: number }): number | undefined {
  const windowMs = Number.isFinite(p.windowMs) && p.windowMs > 0 ? p.windowMs : 3_600_000;
  const lowerMs = p.beforeMs - Math.ceil((p.limit + 1) * windowMs * 1.25) - DAY_MS;
  if (!Number.isFinite(lowerMs) || (p.fromMs !== undefined && p.fromMs >= lowerMs)) return undefined;
  return lowerMs;
}

export class LatestQueries {
  /** `s`: the schema, quoted. */
  constructor(
    private readonly db: Queryable,
    private readonly s: string,
  ) {}

  /** The pointers of `machineIds` that have a row. */
  async pointers(machineIds: readonly string[]): Promise<Map<string, LatestPointer>> {
    if (machineIds.length === 0) return new Map();
    const { rows } = await this.db.query(`SELECT ${POINTER_COLUMNS} FROM ${this.s}.machine_latest WHERE machine_id = ANY($1::text[])`, [machineIds]);
    return new Map(rows.map((r) => [String(r.machine_id), pointerOf(r)]));
  }

  /** The pointers of up to `limit` machines with a window after `after` by id (those whose id contains `q`, in any case): one index range. */
  async after(after: string, limit: number, q?: string): Promise<LatestPointer[]> {
    const values: unknown[] = [after, limit];
    const match = q === undefined ? '' : `AND strpos(lower(machine_id), lower($${values.push(q)})) > 0`;
    const { rows } = await this.db.query(
      `SELECT ${POINTER_COLUMNS} FROM ${this.s}.machine_latest WHERE machine_id > $1 AND last_window_start IS NOT NULL ${match} ORDER BY machine_id LIMIT $2`,
      values,
    );
    return rows.map(pointerOf);
  }

  /**
   * The end of the fleet's last window (by start), or undefined when there is none: the newest
   * entry of window_features' time index among the days since `sinceMs` (a few partitions), or,
   * when none of the fleet wrote since, from machine_latest (a scan of every machine; that table
   * has no index on time, so that its rows are updated in place).
   */
  async fleetLastEnd(sinceMs: number): Promise<unknown> {
    const { rows } = await this.db.query(
      `SELECT coalesce(
         (SELECT window_end FROM ${this.s}.window_features WHERE window_start >= $1::timestamptz ORDER BY window_start DESC LIMIT 1),
         (SELECT last_window_end FROM ${this.s}.machine_latest WHERE last_window_start IS NOT NULL ORDER BY last_window_start DESC LIMIT 1)
       ) AS window_end`,
      [new Date(sinceMs).toISOString()],
    );
    return rows[0]?.window_end ?? undefined;
  }

  /** The last window of each machine of `pointers` that has one, in the order of `pointers`. */
  async lastWindows(pointers: readonly LatestPointer[]): Promise<WindowView[]> {
    const keyed = pointers.filter((p) => p.windowStart !== null);
    if (keyed.length === 0) return [];
    const starts = keyed.map((p) => p.windowStart);
    const { rows } = await this.db.query(
      `SELECT ${windowSelect(this.s, 'f', '= ANY($2::timestamptz[])')} FROM ${this.s}.window_features f
       JOIN unnest($1::text[], $2::timestamptz[]) AS k(machine_id, window_start) ON f.machine_id = k.machine_id AND f.window_start = k.window_start
       WHERE f.window_start = ANY($2::timestamptz[])`,
      [keyed.map((p) => p.machineId), starts],
    );
    const found = rows.map(windowView);
    const missing = keyed.filter((p) => !found.some((w) => w.machineId === p.machineId)).map((p) => p.machineId);
    if (missing.length > 0) found.push(...(await this.scanLastWindows(missing)));
    const byId = new Map(found.map((w) => [w.machineId, w]));
    return keyed.flatMap((p) => byId.get(p.machineId) ?? []);
  }

  /** The fallback: the last window of each of `ids` by an unbounded (every partition) query. */
  private async scanLastWindows(ids: readonly string[]): Promise<WindowView[]> {
    const { rows } = await this.db.query(
      `SELECT w.* FROM unnest($1::text[]) AS machine(machine_id)
       CROSS JOIN LATERAL (SELECT ${windowSelect(this.s, 'f')} FROM ${this.s}.window_features f WHERE f.machine_id = machine.machine_id
                           ORDER BY f.window_start DESC LIMIT 1) AS w`,
      [ids],
    );
    return rows.map(windowView);
  }

  /** The latest assessment of each machine of `pointers` that has one. */
  async latestAssessments(pointers: readonly LatestPointer[]): Promise<Map<string, AssessmentView>> {
    const keyed = pointers.filter((p) => p.assessmentEnd !== null);
    if (keyed.length === 0) return new Map();
    const { rows } = await this.db.query(
      `SELECT ${ASSESSMENT_COLUMNS.split(', ').map((c) => `a.${c}`).join(', ')} FROM ${this.s}.assessments a
       JOIN unnest($1::text[], $2::timestamptz[]) AS k(machine_id, window_end) ON a.machine_id = k.machine_id AND a.window_end = k.window_end
       WHERE a.window_end = ANY($2::timestamptz[])`,
      [keyed.map((p) => p.machineId), keyed.map((p) => p.assessmentEnd)],
    );
    const out = new Map(rows.map((r) => [String(r.machine_id), assessmentView(r)]));
    const missing = keyed.filter((p) => !out.has(p.machineId)).map((p) => p.machineId);
    if (missing.length > 0) {
      const scanned = await this.db.query(
        `SELECT a.* FROM unnest($1::text[]) AS m(machine_id)
         CROSS JOIN LATERAL (SELECT ${ASSESSMENT_COLUMNS} FROM ${this.s}.assessments x WHERE x.machine_id = m.machine_id
                             ORDER BY x.window_end DESC LIMIT 1) AS a`,
        [missing],
      );
      for (const r of scanned.rows) out.set(String(r.machine_id), assessmentView(r));
    }
    return out;
  }

  /** The machine's latest assessment with an anomaly score, or undefined. */
  async latestAnomaly(pointer: LatestPointer): Promise<Row | undefined> {
    if (pointer.anomalyEnd === null) return undefined;
    const select = `SELECT ${ASSESSMENT_COLUMNS} FROM ${this.s}.assessments WHERE machine_id = $1 AND anomaly_score IS NOT NULL`;
    const { rows } = await this.db.query(`${select} AND window_end = $2::timestamptz`, [pointer.machineId, pointer.anomalyEnd]);
    if (rows[0]) return rows[0];
    return (await this.db.query(`${select} ORDER BY window_end DESC LIMIT 1`, [pointer.machineId])).rows[0];
  }

  /** The points of the machine's latest forecast with its assessment's forecaster, by feature and window ([] when it has none). */
  async latestForecast(pointer: LatestPointer): Promise<Row[]> {
    if (pointer.forecastAt === null) return [];
    const select = (madeAt: string) =>
      `SELECT f.made_at, f.target_start, f.feature, f.mean, f.lower, f.upper, f.limit_lower, f.limit_upper, f.model_version, a.forecaster_model
       FROM ${this.s}.forecasts f LEFT JOIN ${this.s}.assessments a ON a.machine_id = f.machine_id AND a.window_end = f.made_at AND a.window_end = ${madeAt}
       WHERE f.machine_id = $1 AND f.made_at = ${madeAt}
       ORDER BY f.feature, f.target_start`;
    const { rows } = await this.db.query(select('$2::timestamptz'), [pointer.machineId, pointer.forecastAt]);
    if (rows.length > 0) return rows;
    return (await this.db.query(select(`(SELECT max(made_at) FROM ${this.s}.forecasts WHERE machine_id = $1)`), [pointer.machineId])).rows;
  }
}
