/**
 * A long list fetched a page at a time as the reader scrolls (the fleet: GET /machines pages, by
 * id), kept current as the data changes underneath. Pure: the list component asks `wanted()`
 * which pages to fetch, fetches them, and hands each answer to `received()`.
 *
 * Pages are contiguous from the first; page k was asked for with the cursor page k−1 ended on, so
 * it can be asked for again. A change on the server (a live `change` event) makes every page
 * stale (`invalidate`): the pages in view are fetched again at once, the others when they next
 * come into view. When a page comes back ending elsewhere than before (machines came, went or
 * changed state under a filter), the pages after it no longer follow it and are dropped.
 */

export interface Page<T> {
  /** The cursor it was asked for with; null for the first page. */
  cursor: string | null;
  items: T[];
  nextCursor: string | null;
  /** The list's generation it was fetched in; older than the list's means stale. */
  generation: number;
}

export interface PagedList<T> {
  pageSize: number;
  pages: Page<T>[];
  generation: number;
}

export interface PageRequest {
  index: number;
  cursor: string | null;
}

export const emptyList = <T>(pageSize: number): PagedList<T> => ({ pageSize, pages: [], generation: 0 });

export const loadedCount = (list: PagedList<unknown>): number => list.pages.reduce((n, p) => n + p.items.length, 0);

/** True once the last page has come (its nextCursor is null). */
export const complete = (list: PagedList<unknown>): boolean => list.pages.length > 0 && list.pages[list.pages.length - 1]!.nextCursor === null;

/** The item at row `index`, undefined while its page is not loaded. */
export function itemAt<T>(list: PagedList<T>, index: number): T | undefined {
  let offset = index;
  for (const page of list.pages) {
    if (offset < page.items.length) return page.items[offset];
    offset -= page.items.length;
  }
  return undefined;
}

/**
 * The rows the list has, for the scrollbar: exact once complete; otherwise what is loaded plus
 * the rest of `estimate` (a count from elsewhere, such as GET /fleet's byState), at least one
 * page more.
 */
export function rowCount(list: PagedList<unknown>, estimate?: number): number {
  const loaded = loadedCount(list);
  if (complete(list)) return loaded;
  return Math.max(loaded + (list.pages.length === 0 ? list.pageSize : 1), estimate ?? loaded + list.pageSize);
}

/** The pages to fetch so that rows [start, end) are loaded and current. */
export function wanted(list: PagedList<unknown>, start: number, end: number): PageRequest[] {
  const requests: PageRequest[] = [];
  let first = 0;
  list.pages.forEach((page, index) => {
    const last = first + page.items.length;
    const inView = first < end && (last > start || (page.items.length === 0 && first >= start));
    if (inView && page.generation < list.generation) requests.push({ index, cursor: page.cursor });
    first = last;
  });
  const tail = list.pages[list.pages.length - 1];
  if (list.pages.length === 0) requests.push({ index: 0, cursor: null });
  else if (first < end && tail!.nextCursor !== null) requests.push({ index: list.pages.length, cursor: tail!.nextCursor });
  return requests;
}

/** The list with the answer to `request`; unchanged when the answer no longer fits (the list moved on meanwhile). */
export function received<T>(list: PagedList<T>, request: PageRequest, answer: { items: T[]; nextCursor: string | null }, generation: number): PagedList<T> {
  const { index, cursor } = request;
  const expected = index === 0 ? null : list.pages[index - 1]?.nextCursor;
  if (index > list.pages.length || expected !== cursor || generation < (list.pages[index]?.generation ?? -1)) return list;
  const page: Page<T> = { cursor, items: answer.items, nextCursor: answer.nextCursor, generation };
  const before = list.pages[index];
  // A page that now ends elsewhere is no longer followed by the pages after it.
  const keepAfter = before !== undefined && before.nextCursor === answer.nextCursor;
  const pages = [...list.pages.slice(0, index), page, ...(keepAfter ? list.pages.slice(index + 1) : [])];
  return { ...list, pages };
}

/** Every page stale: fetched again when next in view. */
export const invalidate = <T>(list: PagedList<T>): PagedList<T> => ({ ...list, generation: list.generation + 1 });
