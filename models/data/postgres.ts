import pg from 'pg';
import type { WindowFeatures } from '../../schemas';
import { rowToWindow, WINDOW_COLUMNS } from './windows-table';
import { PdmError } from '../../lib/errors';

/**
 * `pdmctl train --from-postgres`: window features from `pdm.window_features` (or another table of
 * the same columns), optionally limited in time. Reads on the follower by default: training is
 * an analyst's read.
 */
export async function readWindowsFromPostgres(url: string, options: { table?: string; fromMs?: number; toMs?: number } = {}): Promise<WindowFeatures[]> {
  const table = options.table ?? 'pdm.window_features';
  if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/.test(table)) throw new PdmError('USAGE', `not a table name: ${table}`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query(
      `SELECT ${WINDOW_COLUMNS.join(', ')} FROM ${table} WHERE window_start >= $1 AND window_start < $2 ORDER BY machine_id, window_start`,
      [new Date(options.fromMs ?? 0), new Date(options.toMs ?? 8.64e15)],
    );
    return result.rows.map((row: Record<string, unknown>, i: number) => rowToWindow(row, `${table} row ${i + 1}`));
  } finally {
    await client.end();
  }
}
