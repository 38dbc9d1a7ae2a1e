import { PdmError } from './errors';

/**
 * The alert an acknowledgement is about, from pdm.alerts (on the follower: `pdmctl alerts ack`
 * and the API both ask it). One query; the decision what to do with a resolved alert is the
 * caller's.
 */

/** What runs a query: a pg Pool, Client or PoolClient. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

export interface AlertToAck {
  /** The transition found: the one named, or the dedup key's latest. An ACK names it when it is FIRING. */
  alertId: string;
  dedupKey: string;
  machineId: string;
  kind: string;
  status: 'FIRING' | 'RESOLVED';
  createdAtMs: number;
  /** Whether that transition's episode still fires: it is a FIRING and no RESOLVED of its dedup key came since. */
  firing: boolean;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Dedup keys are `<machine>/<kind>/<feature>` (processors/inference/alerts.ts); alert ids are UUIDs and have no `/`. */
export const isDedupKey = (idOrDedupKey: string): boolean => idOrDedupKey.includes('/');

/**
 * The alert `idOrDedupKey` names: an alert id (that transition) or a dedup key (its latest
 * transition, a RESOLVED first when two share a time). Undefined when pdm.alerts has neither.
 */
export async function findAlertToAck(db: Queryable, schema: string, idOrDedupKey: string): Promise<AlertToAck | undefined> {
  if (!SCHEMA_NAME.test(schema)) throw new PdmError('CONFIG_INVALID', `not a schema name: ${JSON.stringify(schema)}`);
  const column = isDedupKey(idOrDedupKey) ? 'dedup_key' : 'alert_id';
  const { rows } = await db.query(
    `SELECT t.alert_id, t.dedup_key, t.machine_id, t.kind, t.status, t.created_at,
       t.status = 'FIRING' AND NOT EXISTS (
         SELECT 1 FROM "${schema}".alerts r WHERE r.dedup_key = t.dedup_key AND r.status = 'RESOLVED' AND r.created_at >= t.created_at
       ) AS firing
     FROM (SELECT * FROM "${schema}".alerts WHERE ${column} = $1 ORDER BY created_at DESC, (status = 'RESOLVED') DESC LIMIT 1) t`,
    [idOrDedupKey],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    alertId: String(row.alert_id),
    dedupKey: String(row.dedup_key),
    machineId: String(row.machine_id),
    kind: String(row.kind),
    status: row.status === 'RESOLVED' ? 'RESOLVED' : 'FIRING',
    createdAtMs: new Date(row.created_at as Date | string).getTime(),
    firing: row.firing === true,
  };
}
