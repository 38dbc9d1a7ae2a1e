import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { createLogger } from '../../lib/logger';
import { createRegistry } from '../../lib/metrics';
import { PostgresSink } from './postgres.sink';
import type { TableShape } from './postgres.rows';

/**
 * The sink's write loop against a pool whose connection dies while a batch holds it, the way it
 * does when the Postgres primary stops mid-write: the client (as pg's does) fails its query and
 * emits 'error'. No database.
 */

const table: TableShape = { table: 'alerts', columns: ['alert_id', 'status'], key: ['alert_id'] };

/** A checked-out pg client: EventEmitter semantics, so an 'error' nobody listens to throws. */
class FakeClient extends EventEmitter {
  readonly statements: string[] = [];
  released: { err: unknown } | undefined;

  constructor(private readonly dies: boolean) {
    super();
  }

  async query(text: string): Promise<{ rowCount: number }> {
    this.statements.push(text.split(' ')[0]!);
    if (this.dies && text !== 'ROLLBACK') {
      const err = new Error('Connection terminated unexpectedly');
      this.emit('error', err);
      throw err;
    }
    return { rowCount: 1 };
  }

  release(err?: unknown): void {
    this.released = { err };
  }
}

describe('PostgresSink when the database goes away mid-batch', () => {
  test('the batch fails and is retried on a new connection; the dying client does not end the process', async () => {
    const clients = [new FakeClient(true), new FakeClient(false)];
    const handed: FakeClient[] = [];
    const pool = { connect: async () => (handed.push(clients[handed.length]!), handed[handed.length - 1]!) } as unknown as pg.Pool;
    let now = 0;
    const sink = new PostgresSink({
      pool,
      schema: 'pdm',
      maxRowsPerStatement: 500,
      retry: { initialMs: 200, maxMs: 10_000 },
      clock: () => now,
      sleep: async (ms) => void (now += ms),
      logger: createLogger({ level: 'silent' }),
      metrics: createRegistry('sink-postgres', false),
    });
    const rejected = await sink.flush([table], [{ rows: [[['a1', 'FIRING']]], item: 'a1' }]);
    expect(rejected).toEqual([]);
    expect(handed).toHaveLength(2);
    // The dead connection is handed back with its error (the pool discards it) and nobody listens to it any more.
    expect((handed[0]!.released?.err as Error).message).toBe('Connection terminated unexpectedly');
    expect(handed[0]!.listenerCount('error')).toBe(0);
    expect(handed[1]!.statements).toEqual(['BEGIN', 'SAVEPOINT', 'INSERT', 'RELEASE', 'COMMIT']);
    expect(handed[1]!.released).toEqual({ err: undefined });
    expect(sink.unavailable()).toBeUndefined();
  });
});
