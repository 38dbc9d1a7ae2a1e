import { alertControlProblem } from '../../lib/alert-control';
import type { AlertControl } from '../../schemas';
import { iso, isoOrNull, type TableSpec } from './postgres.rows';

/**
 * pdm.alert-control.v1 as rows of pdm.alert_actions (migration 008): one row per action. Pure.
 * A record no reader can apply (a SILENCE without its times, an ACK without its alert:
 * lib/alert-control.ts) is refused, and so goes to the dead-letter topic with why.
 */

export const ALERT_ACTION_COLUMNS = [
  'request_id',
  'action',
  'machine_id',
  'kind',
  'alert_id',
  'dedup_key',
  'silence_id',
  'starts_at',
  'ends_at',
  'requested_by',
  'requested_at',
  'reason',
] as const;

export const alertActionsTable: TableSpec<AlertControl> = {
  table: 'alert_actions',
  columns: ALERT_ACTION_COLUMNS,
  key: ['request_id'],
  toRow: (c) => {
    const problem = alertControlProblem(c);
    if (problem !== undefined) throw new RangeError(problem);
    const silence = [isoOrNull(c.startsAt), isoOrNull(c.endsAt)];
    return [c.requestId, c.action, c.machineId, c.kind, c.alertId, c.dedupKey, c.silenceId, ...silence, c.requestedBy, iso(c.requestedAt), c.reason];
  },
  keyOf: (c) => c.requestId,
};
