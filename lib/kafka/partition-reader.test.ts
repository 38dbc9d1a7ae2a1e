import type { IncomingRecord } from './runner';
import { readRange, type FetchedRange } from './partition-reader';

/**
 * A partition as the broker serves it to a READ_COMMITTED fetch: batches in segments, one
 * segment per fetch, starting with the batch that holds the offset asked for. A batch's records
 * may all be gone (compaction of an aborted transaction keeps its empty header): kafkajs then
 * decodes nothing for it.
 */
interface FakeBatch {
  base: number;
  last: number;
  /** Offsets of the records still in it; control records are not data. */
  records: number[];
  control?: boolean;
}

function fakeBroker(segments: FakeBatch[][], end: number) {
  const asked: number[] = [];
  const fetch = async (offset: bigint): Promise<FetchedRange> => {
    const o = Number(offset);
    asked.push(o);
    const segment = segments.find((s) => s.some((b) => b.base <= o && o <= b.last)) ?? segments.find((s) => s[0]!.base > o) ?? [];
    const batches = segment.filter((b) => b.last >= o);
    const offsets = batches.flatMap((b) => b.records).filter((r) => r >= o && r < end);
    const data = batches.filter((b) => !b.control).flatMap((b) => b.records).filter((r) => r >= o && r < end);
    const records: IncomingRecord[] = data.map((r) => ({ key: Buffer.from(`k${r}`), value: Buffer.from(`v${r}`), headers: {}, offset: String(r), timestampMs: r }));
    return { lastOffset: offsets.length > 0 ? BigInt(Math.max(...offsets)) : undefined, records };
  };
  return { fetch, asked };
}

async function readAll(segments: FakeBatch[][], from: number, end: number) {
  const broker = fakeBroker(segments, end);
  const offsets: number[] = [];
  const result = await readRange(broker.fetch, BigInt(from), BigInt(end), (records) => {
    offsets.push(...records.map((r) => Number(r.offset)));
  });
  return { ...result, offsets, asked: broker.asked };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('reading a partition to its last stable offset', () => {
  test('every record, fetch after fetch, each at the offset after the last one returned', async () => {
    const result = await readAll([[{ base: 0, last: 4, records: range(0, 4) }, { base: 5, last: 5, records: [5], control: true }], [{ base: 6, last: 9, records: range(6, 9) }]], 0, 10);
    expect(result.offsets).toEqual([...range(0, 4), ...range(6, 9)]);
    expect(result).toMatchObject({ records: 9, skipped: 0 });
    expect(result.asked).toEqual([0, 6]);
  });

  test('past the empty batch compaction leaves of an aborted transaction (the window changelog that stalled a restore: 66 to 100 empty, the abort marker at 101 in the next segment)', async () => {
    const result = await readAll(
      [
        [
          { base: 20, last: 64, records: range(20, 64) },
          { base: 65, last: 65, records: [65], control: true },
          { base: 66, last: 100, records: [] },
        ],
        [{ base: 101, last: 101, records: [101], control: true }],
        [{ base: 102, last: 110, records: range(102, 110) }],
      ],
      20,
      111,
    );
    expect(result.offsets).toEqual([...range(20, 64), ...range(102, 110)]);
    expect(result.skipped).toBe(35);
    // Asked twice at 66, then once at each later offset of the empty batch.
    expect(result.asked.filter((o) => o === 66)).toHaveLength(2);
    expect(result.asked.filter((o) => o === 67)).toHaveLength(1);
  });

  test('an empty batch in the middle of a segment passes no record after it', async () => {
    const result = await readAll([[{ base: 0, last: 2, records: [] }, { base: 3, last: 5, records: range(3, 5) }]], 0, 6);
    expect(result.offsets).toEqual(range(3, 5));
  });

  test('nothing to read: no fetch at all', async () => {
    expect(await readAll([], 7, 7)).toMatchObject({ records: 0, fetches: 0, skipped: 0, offsets: [] });
  });
});
