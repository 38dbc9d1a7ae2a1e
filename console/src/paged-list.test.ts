import { complete, emptyList, invalidate, itemAt, loadedCount, received, rowCount, wanted, type PagedList } from './paged-list';

/** A server's list of ids answered `size` at a time after a cursor (the id the page ends on). */
const server = (ids: string[]) => (cursor: string | null, size: number) => {
  const from = cursor === null ? 0 : ids.findIndex((id) => id > cursor);
  const items = from < 0 ? [] : ids.slice(from, from + size);
  const more = from >= 0 && from + size < ids.length;
  return { items, nextCursor: more ? items[items.length - 1]! : null };
};

const ids = (n: number, prefix = 'm') => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);

/** Fetch what `wanted` asks for [start, end) until it asks for nothing more. */
function settle(list: PagedList<string>, answer: ReturnType<typeof server>, start: number, end: number): { list: PagedList<string>; fetched: number[] } {
  const fetched: number[] = [];
  for (let round = 0; round < 100; round++) {
    const requests = wanted(list, start, end);
    if (requests.length === 0) return { list, fetched };
    for (const request of requests) {
      fetched.push(request.index);
      list = received(list, request, answer(request.cursor, list.pageSize), list.generation);
    }
  }
  throw new Error('never settled');
}

describe('a paged list', () => {
  it('asks for the first page, then for the next ones only as the view reaches them', () => {
    const answer = server(ids(1000));
    let list = emptyList<string>(100);
    expect(wanted(list, 0, 30)).toEqual([{ index: 0, cursor: null }]);
    ({ list } = settle(list, answer, 0, 30));
    expect(loadedCount(list)).toBe(100);
    expect(wanted(list, 0, 30)).toEqual([]);
    const { list: scrolled, fetched } = settle(list, answer, 250, 280);
    expect(fetched).toEqual([1, 2]);
    expect(itemAt(scrolled, 250)).toBe('m00250');
    expect(itemAt(scrolled, 300)).toBeUndefined();
  });

  it('counts rows: an estimate until the last page has come, then exactly', () => {
    const answer = server(ids(250));
    let list = emptyList<string>(100);
    expect(rowCount(list, 250)).toBe(250);
    ({ list } = settle(list, answer, 0, 10));
    expect(rowCount(list, 250)).toBe(250);
    expect(rowCount(list)).toBe(200);
    ({ list } = settle(list, answer, 240, 250));
    expect(complete(list)).toBe(true);
    expect(rowCount(list, 9999)).toBe(250);
  });

  it('fetches the pages in view again after a change, and only those', () => {
    const answer = server(ids(1000));
    let { list } = settle(emptyList<string>(100), answer, 0, 500);
    list = invalidate(list);
    const { fetched } = settle(list, answer, 320, 350);
    expect(fetched).toEqual([3]);
  });

  it('drops the pages after one that now ends elsewhere, and fetches them again as they come into view', () => {
    const before = ids(300);
    let { list } = settle(emptyList<string>(100), server(before), 0, 300);
    // m00050 leaves the filter (it stopped being at risk): page 0 now ends one id later.
    const after = before.filter((id) => id !== 'm00050');
    list = invalidate(list);
    ({ list } = settle(list, server(after), 0, 30));
    expect(list.pages).toHaveLength(1);
    ({ list } = settle(list, server(after), 0, 300));
    expect(Array.from({ length: 299 }, (_, i) => itemAt(list, i))).toEqual(after);
  });

  it('ignores an answer to a request the list has moved on from', () => {
    const answer = server(ids(300));
    let { list } = settle(emptyList<string>(100), answer, 0, 10);
    const late = { index: 1, cursor: 'm00042' };
    expect(received(list, late, answer(late.cursor, 100), list.generation)).toBe(list);
    const stale = { index: 0, cursor: null };
    list = received(invalidate(list), stale, answer(null, 100), 1);
    expect(received(list, stale, { items: ['old'], nextCursor: null }, 0)).toBe(list);
  });

  it('handles an empty fleet', () => {
    const { list } = settle(emptyList<string>(100), server([]), 0, 30);
    expect(complete(list)).toBe(true);
    expect(rowCount(list, 0)).toBe(0);
  });
});
