import { EventEmitter } from 'node:events';
import type { Pool } from 'pg';
import type { AlertEvent } from '../../schemas';
import { EmailStore, EmailStoreError } from './email.store';
import type { Mail } from './lifecycle';

/** The notification log when its connection dies during a claim (the database stops): no database. */

const T0 = Date.UTC(2026, 2, 5, 8);
const alert = { alertId: 'f1', dedupKey: 'lathe-1/ANOMALY/*', machineId: 'lathe-1', severity: 'WARNING', createdAt: T0 } as AlertEvent;
const mail: Mail = { recipient: 'oncall@plant.example', machineId: 'lathe-1', digest: false, notifications: [{ dedupKey: alert.dedupKey, machineId: 'lathe-1', transition: 'FIRING:f1', kind: 'FIRING', alert, firingSinceMs: T0, atMs: T0 }] };

class DyingClient extends EventEmitter {
  released: { err: unknown } | undefined;

  async query(text: string): Promise<{ rowCount: number }> {
    if (text === 'ROLLBACK') throw new Error('Client was closed and is not queryable');
    const err = new Error('Connection terminated unexpectedly');
    // pg fails the query and emits 'error' on the client: with nobody listening, that throws.
    this.emit('error', err);
    throw err;
  }

  release(err?: unknown): void {
    this.released = { err };
  }
}

test('a claim whose connection dies fails with EMAIL_LOG_UNAVAILABLE (the mail waits) and hands the dead connection back', async () => {
  const client = new DyingClient();
  const store = new EmailStore({ connect: async () => client } as unknown as Pool);
  const claim = store.claim(mail, T0);
  await expect(claim).rejects.toBeInstanceOf(EmailStoreError);
  await expect(claim).rejects.toMatchObject({ code: 'EMAIL_LOG_UNAVAILABLE' });
  expect((client.released?.err as Error).message).toBe('Connection terminated unexpectedly');
  expect(client.listenerCount('error')).toBe(0);
});
