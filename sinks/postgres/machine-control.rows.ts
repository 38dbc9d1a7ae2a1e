import type { MachineControl } from '../../schemas';
import type { TableSpec } from './postgres.rows';

/** pdm.machine-control.v1 as rows of pdm.machine_control (migration 005): one row per request. Pure. */

export const MACHINE_CONTROL_COLUMNS = ['request_id', 'machine_id', 'action', 'requested_by', 'requested_at', 'reason'] as const;

export const machineControlTable: TableSpec<MachineControl> = {
  table: 'machine_control',
  columns: MACHINE_CONTROL_COLUMNS,
  key: ['request_id'],
  // new Date(...).toISOString() throws RangeError for a time JavaScript can't represent: the record is refused.
  toRow: (c) => [c.requestId, c.machineId, c.action, c.requestedBy, new Date(c.requestedAt).toISOString(), c.reason ?? null],
  keyOf: (c) => c.requestId,
};
