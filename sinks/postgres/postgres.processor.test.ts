import { DLQ_HEADERS } from '../../lib/dead-letter';
import type { IncomingRecord } from '../../lib/kafka/runner';
import { createLogger } from '../../lib/logger';
import { createRegistry } from '../../lib/metrics';
import { SerdeError } from '../../lib/serde';
import { isNotFinalWindow, TopicProcessor } from './postgres.processor';
import { oneTable, type RecordSpec } from './postgres.rows';
import type { RejectedRow, RowsToWrite } from './postgres.sink';

/** The processor with a fake decoder (JSON) and a fake sink that refuses rows whose value is "bad-db". */
interface Item {
  id: string;
  v: string;
}
const spec = oneTable<Item>({ table: 'items', columns: ['id', 'v'], key: ['id'], toRow: (i) => { if (i.v === 'bad-map') throw new RangeError('Invalid time value'); return [i.id, i.v]; }, keyOf: (i) => i.id });

/** Two tables: a head row per record and one detail row per character of v (as an assessment and its forecast points). */
const twoTables: RecordSpec<Item> = {
  tables: [{ table: 'heads', columns: ['id'], key: ['id'] }, { table: 'details', columns: ['id', 'c'], key: ['id', 'c'] }],
  toRows: (i) => [[[i.id]], [...i.v].map((c) => [i.id, c])],
  keyOf: (i) => i.id,
};

/** The fake database refuses the rows whose value is "bad-db", as a check constraint of the first table would. */
const refuseBadDb = (tables: readonly string[], rows: ReadonlyArray<RowsToWrite<unknown>>): Array<RejectedRow<unknown>> =>
  rows.filter((r) => r.rows[0]![0]![1] === 'bad-db').map((r) => ({ item: r.item, table: tables[0]!, code: 'PG_23514', message: 'violates check constraint' }));

function setup(recordSpec: RecordSpec<Item> = spec, refuse = refuseBadDb) {
  const flushed: Array<Array<RowsToWrite<IncomingRecord>>> = [];
  const tables: string[][] = [];
  const sink = {
    flush: async <T>(shapes: ReadonlyArray<{ table: string }>, rows: ReadonlyArray<RowsToWrite<T>>): Promise<RejectedRow<T>[]> => {
      flushed.push(rows as unknown as Array<RowsToWrite<IncomingRecord>>);
      tables.push(shapes.map((s) => s.table));
      return refuse(shapes.map((s) => s.table), rows) as RejectedRow<T>[];
    },
  };
  const decode = async (b: Buffer): Promise<Item> => {
    const text = b.toString();
    if (text === 'garbage') throw new SerdeError('SERDE_MAGIC_BYTE', 'magic byte is 103');
    if (text === 'registry-down') throw new SerdeError('SERDE_REGISTRY_UNAVAILABLE', 'registry down');
    return JSON.parse(text) as Item;
  };
  const processor = new TopicProcessor<Item>({ topic: 'in', deadLetterTopic: 'dlq', spec: recordSpec, decode, sink, skip: isNotFinalWindow, clock: () => Date.UTC(2026, 0, 5), metrics: createRegistry('test', false), logger: createLogger({ level: 'silent' }) });
  return { processor, flushed, tables };
}

let offset = 0;
const rec = (value: string | null, headers: Record<string, string> = {}): IncomingRecord => ({ key: Buffer.from('k'), value: value === null ? null : Buffer.from(value), headers, offset: String(offset++), timestampMs: 0 });
const item = (id: string, v: string) => JSON.stringify({ id, v });

describe('TopicProcessor', () => {
  test.each([
    ['good rows are flushed in one batch, nothing dead-lettered', [rec(item('a', '1')), rec(item('b', '2'))], ['a:1', 'b:2'], []],
    ['the later record of a key wins within a batch', [rec(item('a', '1')), rec(item('b', '2')), rec(item('a', '3'))], ['b:2', 'a:3'], []],
    ['a tombstone is dead-lettered', [rec(null), rec(item('a', '1'))], ['a:1'], ['SINK_NO_VALUE']],
    ['a record that does not decode is dead-lettered', [rec('garbage'), rec(item('a', '1'))], ['a:1'], ['SERDE_MAGIC_BYTE']],
    ['a record that cannot be a row is dead-lettered', [rec(item('a', 'bad-map')), rec(item('b', '1'))], ['b:1'], ['SINK_ROW_INVALID']],
    ['a row the database refuses is dead-lettered, the others written', [rec(item('a', 'bad-db')), rec(item('b', '1'))], ['a:bad-db', 'b:1'], ['SINK_ROW_REJECTED']],
    ['an early (not final) window update is skipped', [rec(item('a', '1'), { 'pdm.window.final': 'false' }), rec(item('a', '2'), { 'pdm.window.final': 'true' })], ['a:2'], []],
  ])('%s', async (_name, records, written, deadCodes) => {
    const { processor, flushed } = setup();
    const [out] = await processor.process(4, records);
    expect(flushed).toHaveLength(1);
    expect(flushed[0]!.map((r) => r.rows[0]![0]!.join(':'))).toEqual(written);
    expect(out!.topic).toBe('dlq');
    expect(out!.records.map((r) => r.headers?.[DLQ_HEADERS.code])).toEqual(deadCodes);
  });

  test('a dead letter keeps the original bytes and says where it came from and why', async () => {
    const { processor } = setup();
    const bad = rec(item('a', 'bad-db'));
    const [out] = await processor.process(4, [bad]);
    expect(out!.records[0]).toMatchObject({ key: bad.key, value: bad.value });
    expect(out!.records[0]!.headers).toMatchObject({ [DLQ_HEADERS.topic]: 'in', [DLQ_HEADERS.partition]: '4', [DLQ_HEADERS.offset]: bad.offset, [DLQ_HEADERS.stage]: 'sink-postgres', [DLQ_HEADERS.failedAt]: '2026-01-05T00:00:00.000Z' });
    expect(out!.records[0]!.headers?.[DLQ_HEADERS.message]).toBe('items: PG_23514: violates check constraint');
  });

  test('a record of two tables: its rows of both go in one flush, in table order; the later record of a key replaces all of them', async () => {
    const { processor, flushed, tables } = setup(twoTables);
    const [out] = await processor.process(0, [rec(item('a', 'xy')), rec(item('b', 'z')), rec(item('a', 'q'))]);
    expect(tables).toEqual([['heads', 'details']]);
    expect(flushed[0]!.map((r) => r.rows)).toEqual([[[['b']], [['b', 'z']]], [[['a']], [['a', 'q']]]]);
    expect(out!.records).toEqual([]);
  });

  test('a rejection names the table whose row was refused', async () => {
    const { processor } = setup(twoTables, (_tables, rows) => rows.map((r) => ({ item: r.item, table: 'details', code: 'PG_23503', message: 'violates foreign key constraint' })));
    const [out] = await processor.process(0, [rec(item('a', 'x'))]);
    expect(out!.records.map((r) => r.headers?.[DLQ_HEADERS.message])).toEqual(['details: PG_23503: violates foreign key constraint']);
  });

  test('a registry outage fails the batch (it is read again), nothing is dead-lettered', async () => {
    const { processor, flushed } = setup();
    await expect(processor.process(0, [rec(item('a', '1')), rec('registry-down')])).rejects.toMatchObject({ code: 'SERDE_REGISTRY_UNAVAILABLE' });
    expect(flushed).toHaveLength(0);
  });
});
