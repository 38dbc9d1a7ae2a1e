import { restoredStage, type Restorer } from './stage-host';
import type { IncomingRecord } from './kafka/runner';

const record = (key: string, value: string | null): IncomingRecord => ({ key: Buffer.from(key), value: value === null ? null : Buffer.from(value), headers: {}, offset: '0', timestampMs: 0 });

/** Last value per key, a tombstone deleting it: a compacted changelog's meaning. */
class TableRestorer implements Restorer<Map<string, string>> {
  private readonly table = new Map<string, string>();
  apply(key: Buffer | null, value: Buffer | null): void {
    if (value === null) this.table.delete(String(key));
    else this.table.set(String(key), String(value));
  }
  result(): Map<string, string> {
    return this.table;
  }
}

describe('a stage restored through a restorer', () => {
  const opened = new Map<number, Map<string, string>>();
  const closed: number[] = [];
  const stage = restoredStage(() => new TableRestorer(), {
    open: (partition, state) => {
      opened.set(partition, state);
      return { keys: state.size };
    },
    process: () => [],
    close: (partition) => void closed.push(partition),
  });

  test('each partition gets the state of its own records, applied in order across chunks', async () => {
    await stage.restore!(0, [record('a', '1'), record('b', '1')]);
    await stage.restore!(1, [record('x', '9')]);
    await stage.restore!(0, [record('a', '2'), record('b', null)]);
    expect(await stage.open!(0, { records: 4, endOffset: 4n })).toEqual({ keys: 1 });
    expect([...opened.get(0)!]).toEqual([['a', '2']]);
    expect(await stage.open!(1, { records: 1, endOffset: 1n })).toEqual({ keys: 1 });
    expect([...opened.get(1)!]).toEqual([['x', '9']]);
  });

  test('a partition with an empty changelog opens empty, and a reassigned partition starts from nothing', async () => {
    await stage.open!(2, { records: 0, endOffset: 0n });
    expect(opened.get(2)!.size).toBe(0);
    await stage.restore!(3, [record('k', 'v')]);
    stage.close!(3);
    expect(closed).toContain(3);
    await stage.open!(3, { records: 0, endOffset: 0n });
    expect(opened.get(3)!.size).toBe(0);
  });
});
