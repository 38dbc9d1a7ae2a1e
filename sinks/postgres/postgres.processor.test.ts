import { DLQ_HEADERS } from '../../lib/dead-letter';
import type { IncomingRecord } from '../../lib/kafka/transactional';
import { createLogger } from '../../lib/logger';
import { createRegistry } from '../../lib/metrics';
import { SerdeError } from '../../lib/serde';
import { isNotFinalWindow, TopicProcessor } from './postgres.processor';
import type { TableSpec } from './postgres.rows';
import type { RejectedRow, RowToWrite } from './postgres.sink';

/** The processor with a fake decoder (JSON) and a fake sink that refuses rows whose value is "bad-db". */
interface Item {
  id: string;
  v: string;
}
const spec: TableSpec<Item> = { table: 'items', columns: ['id', 'v'], key: ['id'], toRow: (i) => { if (i.v === 'bad-map') throw new RangeError('Invalid time value'); return [i.id, i.v]; }, keyOf: (i) => i.id };

function setup() {
  const flushed: Array<Array<RowToWrite<IncomingRecord>>> = [];
  const sink = {
    flush: async <T>(_spec: unknown, rows: ReadonlyArray<RowToWrite<T>>): Promise<RejectedRow<T>[]> => {
      flushed.push(rows as unknown as Array<RowToWrite<IncomingRecord>>);
      return rows.filter((r) => r.row[1] === 'bad-db').map((r) => ({ item: r.item, code: 'PG_23514', message: 'violates check constraint' }));
    },
  };
  const decode = async (b: Buffer): Promise<Item> => {
    const text = b.toString();
    if (text === 'garbage') throw new SerdeError('SERDE_MAGIC_BYTE', 'magic byte is 103');
    if (text === 'registry-down') throw new SerdeError('SERDE_REGISTRY_UNAVAILABLE', 'registry down');
    return JSON.parse(text) as Item;
  };
  const processor = new TopicProcessor<Item>({ topic: 'in', deadLetterTopic: 'dlq', spec, decode, sink, skip: isNotFinalWindow, clock: () => Date.UTC(2026, 0, 5), metrics: createRegistry('test', false), logger: createLogger({ level: 'silent' }) });
  return { processor, flushed };
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
    expect(flushed[0]!.map((r) => r.row.join(':'))).toEqual(written);
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

  test('a registry outage fails the batch (it is read again), nothing is dead-lettered', async () => {
    const { processor, flushed } = setup();
    await expect(processor.process(0, [rec(item('a', '1')), rec('registry-down')])).rejects.toMatchObject({ code: 'SERDE_REGISTRY_UNAVAILABLE' });
    expect(flushed).toHaveLength(0);
  });
});
