/**
 * What the sink does with a database error, as an explicit policy. Pure.
 *
 * - The row is at fault (SQLSTATE class 22 data exception, 23 integrity constraint violation):
 *   retrying can't help; the row goes to the dead-letter topic and the partition moves on.
 * - Anything else (connection refused or lost, 57P01 admin shutdown, 57014 statement timeout,
 *   53xxx out of resources, 40001/40P01, 42501 a missing grant, ...) says nothing about the row:
 *   the whole batch is retried with capped exponential backoff until it commits, and readiness is
 *   false meanwhile. Offsets don't move, so nothing is lost while it waits.
 * - A row with no partition for its time (23514 "no partition of relation ... found for row") is
 *   not the row's fault either: its day's partition was dropped after this sink made it (another
 *   sink's retention). The batch is retried, and the sink makes the day again first.
 */

export type DbFailure = { kind: 'row'; code: string; message: string } | { kind: 'retry'; code: string; message: string };

const ROW_CLASSES = new Set(['22', '23']);
const NO_PARTITION = /^no partition of relation "[^"]+" found for row/;

export function classifyDbError(err: unknown): DbFailure {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const sqlState = typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
  const message = typeof e?.message === 'string' && e.message ? e.message : String(err);
  if (sqlState === '23514' && NO_PARTITION.test(message)) return { kind: 'retry', code: `PG_${sqlState}`, message };
  if (sqlState && ROW_CLASSES.has(sqlState.slice(0, 2))) return { kind: 'row', code: `PG_${sqlState}`, message };
  // Node's own errors (ECONNREFUSED, ECONNRESET, ETIMEDOUT) or a SQLSTATE of another class.
  const code = sqlState ? `PG_${sqlState}` : typeof e?.code === 'string' ? e.code : 'DB_ERROR';
  return { kind: 'retry', code, message };
}

