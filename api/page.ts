import type { Row } from './views';

/**
 * Keyset pages, shared by every list the API serves: rows come in a fixed order with a unique
 * key, one more row than the page is fetched to know whether another page follows, and the
 * cursor holds the key of the page's last row.
 */

/** What the queries need of a pg Pool (tests may pass a client). */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Row[] }>;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A timestamptz as a cursor holds it: UTC, to the microsecond, so a key compares exactly as stored. */
export const cursorTime = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** The rows of a page (fetched `limit + 1`) and the cursor after its last row, if more follow. */
export function page<T>(rows: readonly Row[], limit: number, view: (row: Row) => T, cursor: (row: Row) => string): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { items: kept.map(view), nextCursor: more ? cursor(kept[kept.length - 1]!) : null };
}
