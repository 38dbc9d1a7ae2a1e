import { acknowledgementView, actionView, isoTime, notificationView, silenceView, type Row } from './views';
import type { AlertView, ChangeEvent, SilenceView } from './schemas';
import { encodeCursor, type ActionsQuery } from './validation';
import { cursorTime, page, type Page, type Queryable } from './page';

/**
 * The read API's SQL about what people did and were told: acknowledgements, silences and the
 * action log (pdm.alert_actions, written by sink-postgres from pdm.alert-control.v1), the mails
 * sent per alert (pdm.notifications), and the change markers GET /events reports.
 */

/** The newest silences GET /silences lists when it is not asked for the active ones only. */
export const SILENCE_LIST_LIMIT = 500;

/** Each silence with its end (the view pdm.silences, migration 008), `x` for short. */
const SILENCE_SELECT = (s: string) => `SELECT x.*, x.silence_id AS request_id FROM ${s}.silences x WHERE true`;

export class ActionQueries {
  constructor(
    private readonly db: Queryable,
    /** The schema, quoted for SQL. */
    private readonly s: string,
  ) {}

  /**
   * `alerts` with their acknowledgement and their mails. A FIRING transition is acknowledged by
   * the latest ACK of its dedup key with no RESOLVED transition of that key between the two (the
   * same episode, whichever came first: a later escalation of an acknowledged alert stays
   * acknowledged; a new firing after a resolution does not).
   */
  async decorate(alerts: AlertView[]): Promise<AlertView[]> {
    if (alerts.length === 0) return alerts;
    const firing = alerts.filter((a) => a.status === 'FIRING');
    const [acks, mails] = await Promise.all([
      firing.length === 0
        ? { rows: [] as Row[] }
        : this.db.query(
            `SELECT x.alert_id AS for_alert, a.* FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS x(alert_id, dedup_key, created_at)
             CROSS JOIN LATERAL (
               SELECT * FROM ${this.s}.alert_actions a WHERE a.action = 'ACK' AND a.dedup_key = x.dedup_key
               AND NOT EXISTS (SELECT 1 FROM ${this.s}.alerts r WHERE r.dedup_key = x.dedup_key AND r.status = 'RESOLVED'
                               AND r.created_at BETWEEN least(a.requested_at, x.created_at) AND greatest(a.requested_at, x.created_at))
               ORDER BY a.requested_at DESC LIMIT 1) a`,
            [firing.map((a) => a.alertId), firing.map((a) => a.dedupKey), firing.map((a) => a.createdAt)],
          ),
      this.db.query(`SELECT * FROM ${this.s}.notifications WHERE dedup_key = ANY($1::text[]) AND alert_id = ANY($2::text[]) ORDER BY claimed_at, recipient`, [
        [...new Set(alerts.map((a) => a.dedupKey))],
        alerts.map((a) => a.alertId),
      ]),
    ]);
    const ackOf = new Map(acks.rows.map((r) => [String(r.for_alert), acknowledgementView(r)]));
    const mailsOf = new Map<string, AlertView['notifications']>();
    for (const row of mails.rows) {
      const list = mailsOf.get(String(row.alert_id)) ?? [];
      list.push(notificationView(row));
      mailsOf.set(String(row.alert_id), list);
    }
    return alerts.map((a) => ({ ...a, acknowledgement: ackOf.get(a.alertId) ?? null, notifications: mailsOf.get(a.alertId) ?? [] }));
  }

  /** GET /silences: the active ones at `nowMs`, the ones over, or all (newest first, at most SILENCE_LIST_LIMIT). */
  async silences(nowMs: number, active?: boolean): Promise<SilenceView[]> {
    // Active at the API's clock, not the view's now(): the same instant as the rest of the answer.
    const on = `(x.starts_at <= $1::timestamptz AND $1::timestamptz < least(x.ends_at, x.ended_at))`;
    const filter = active === undefined ? 'AND $1::timestamptz IS NOT NULL' : active ? `AND ${on}` : `AND NOT ${on}`;
    const { rows } = await this.db.query(`${SILENCE_SELECT(this.s)} ${filter} ORDER BY x.requested_at DESC, x.silence_id LIMIT ${SILENCE_LIST_LIMIT}`, [new Date(nowMs).toISOString()]);
    return rows.map((r) => silenceView(r, nowMs));
  }

  /** The silence `silenceId`, or undefined. */
  async silence(silenceId: string, nowMs: number): Promise<SilenceView | undefined> {
    const { rows } = await this.db.query(`${SILENCE_SELECT(this.s)} AND x.silence_id = $1`, [silenceId]);
    return rows[0] ? silenceView(rows[0], nowMs) : undefined;
  }

  /** GET /actions: every recorded action, newest first; `machine` those naming it. */
  async actions(query: ActionsQuery): Promise<Page<ReturnType<typeof actionView>>> {
    const values: unknown[] = [];
    const param = (value: unknown) => `$${values.push(value)}`;
    const clauses: string[] = [];
    if (query.machine) clauses.push(`machine_id = ${param(query.machine)}`);
    if (query.cursor) clauses.push(`(requested_at, request_id) < (${param(query.cursor[0])}::timestamptz, ${param(query.cursor[1])}::text)`);
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const { rows } = await this.db.query(
      `SELECT *, ${cursorTime('requested_at')} AS cursor_time FROM ${this.s}.alert_actions ${where} ORDER BY requested_at DESC, request_id DESC LIMIT ${param(query.limit + 1)}`,
      values,
    );
    return page(rows, query.limit, actionView, (r) => encodeCursor('actions', [String(r.cursor_time), String(r.request_id)]));
  }

  /**
   * The newest alert transition or mail, window and action, as the follower has them: each an
   * index's last entry. The window's is looked for among those that started since `sinceMs` (the
   * days since, not every day partition of window_features), and in pdm.machine_latest when none
   * did. GET /events reports when one moves.
   */
  async changes(sinceMs: number): Promise<ChangeEvent> {
    const { rows } = await this.db.query(
      `SELECT greatest((SELECT max(created_at) FROM ${this.s}.alerts), (SELECT max(claimed_at) FROM ${this.s}.notifications)) AS alerts,
              coalesce(
                (SELECT window_end FROM ${this.s}.window_features WHERE window_start >= $1::timestamptz ORDER BY window_start DESC LIMIT 1),
                (SELECT last_window_end FROM ${this.s}.machine_latest WHERE last_window_start IS NOT NULL ORDER BY last_window_start DESC LIMIT 1)
              ) AS windows,
              (SELECT max(requested_at) FROM ${this.s}.alert_actions) AS actions`,
      [new Date(sinceMs).toISOString()],
    );
    const row = rows[0] ?? {};
    const at = (value: unknown) => (value === null || value === undefined ? null : isoTime(value));
    return { alerts: at(row.alerts), windows: at(row.windows), actions: at(row.actions) };
  }
}
