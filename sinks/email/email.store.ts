import type { Pool } from 'pg';
import { PdmError } from '../../lib/errors';
import { FEATURES } from '../../schemas';
import type { Mail, Notification } from './lifecycle';

/**
 * The email sink's Postgres side: the notification log `pdm.notifications`
 * (sinks/postgres/migrations/003_notifications.sql) and the recent window means a chart shows
 * (`pdm.window_features`, 001). Claim before sending, record the outcome after: a row already
 * `sent` is never claimed again, so a replay, a redelivery or a restart mails nothing twice.
 */

export type EmailStoreErrorCode = 'EMAIL_LOG_UNAVAILABLE' | 'EMAIL_LOG_MISSING';

export class EmailStoreError extends PdmError<EmailStoreErrorCode> {
  constructor(code: EmailStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'EmailStoreError';
  }
}

export type Outcome = 'sent' | 'failed';

const wrap = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
  try {
    return await work();
  } catch (cause) {
    throw new EmailStoreError('EMAIL_LOG_UNAVAILABLE', `${what}: ${(cause as Error).message}`, { cause });
  }
};

export class EmailStore {
  private readonly log: string;
  private readonly windows: string;

  /** `schema`: the tables' schema, as sink-postgres and the API take it (PDM_POSTGRES_SCHEMA, validated there: an identifier). */
  constructor(
    private readonly pool: Pool,
    schema = 'pdm',
  ) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new PdmError('CONFIG_INVALID', `not a schema name: ${schema}`);
    this.log = `${schema}.notifications`;
    this.windows = `${schema}.window_features`;
  }

  /** Fails at start, with what to do, when the notification log's table is not there. */
  async check(): Promise<void> {
    const { rows } = await wrap(`checking ${this.log}`, () => this.pool.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [this.log]));
    if (rows[0]?.t === null || rows[0]?.t === undefined) throw new EmailStoreError('EMAIL_LOG_MISSING', `table ${this.log} does not exist: run \`npx pdmctl db migrate\` (sinks/postgres/migrations/003_notifications.sql)`);
  }

  /**
   * Claims `mail`'s notifications for its recipient: the ones to send now. A transition already
   * sent to this recipient is left out; a failed or interrupted one is claimed again.
   */
  async claim(mail: Mail, nowMs: number): Promise<Notification[]> {
    return wrap('claiming notifications', async () => {
      const client = await this.pool.connect();
      // A checked-out client has no error listener of the pool's: a connection that dies now (the
      // database stops) must fail the claim, not throw an unhandled 'error' that ends the process.
      let broken: Error | undefined;
      const onError = (err: Error) => (broken ??= err);
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const claimed: Notification[] = [];
        for (const n of mail.notifications) {
          const { rowCount } = await client.query(
            `INSERT INTO ${this.log} (dedup_key, transition, recipient, alert_id, machine_id, kind, severity, digest, outcome, attempts, claimed_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 1, to_timestamp($9 / 1000.0), to_timestamp($9 / 1000.0))
             ON CONFLICT (dedup_key, transition, recipient) DO UPDATE
               SET outcome = 'pending', attempts = ${this.log}.attempts + 1, alert_id = EXCLUDED.alert_id, severity = EXCLUDED.severity,
                   digest = EXCLUDED.digest, claimed_at = EXCLUDED.claimed_at, updated_at = EXCLUDED.updated_at
               WHERE ${this.log}.outcome <> 'sent'`,
            [n.dedupKey, n.transition, mail.recipient, n.alert.alertId, n.machineId, n.kind, n.alert.severity, mail.digest, nowMs],
          );
          if (rowCount === 1) claimed.push(n);
        }
        await client.query('COMMIT');
        return claimed;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    });
  }

  async record(recipient: string, notifications: readonly Notification[], outcome: Outcome, details: { subject: string; messageId?: string; error?: string }, nowMs: number): Promise<void> {
    await wrap('recording a notification outcome', () =>
      this.pool.query(
        `UPDATE ${this.log} AS n
            SET outcome = $3, subject = $4, message_id = $5, error = $6, updated_at = to_timestamp($7 / 1000.0),
                sent_at = CASE WHEN $3 = 'sent' THEN to_timestamp($7 / 1000.0) ELSE n.sent_at END
           FROM unnest($1::text[], $2::text[]) AS k(dedup_key, transition)
          WHERE n.dedup_key = k.dedup_key AND n.transition = k.transition AND n.recipient = $8`,
        [notifications.map((n) => n.dedupKey), notifications.map((n) => n.transition), outcome, details.subject, details.messageId ?? null, details.error ?? null, nowMs, recipient],
      ),
    );
  }

  /** The machine's hourly means of `feature` since `sinceMs`, oldest first. */
  async recentMeans(machineId: string, feature: string, sinceMs: number): Promise<Array<{ tMs: number; value: number }>> {
    const known = FEATURES.find((f) => f === feature);
    if (!known) return [];
    // The column name comes from the fixed list above, never from the record.
    const column = `${known.toLowerCase()}_mean`;
    const { rows } = await wrap('reading window means', () =>
      this.pool.query<{ t: string; v: number | null }>(
        `SELECT (extract(epoch FROM window_end) * 1000)::bigint AS t, ${column} AS v FROM ${this.windows}
          WHERE machine_id = $1 AND window_start >= to_timestamp($2 / 1000.0) ORDER BY window_start`,
        [machineId, sinceMs],
      ),
    );
    return rows.filter((r) => r.v !== null).map((r) => ({ tMs: Number(r.t), value: r.v! }));
  }
}
