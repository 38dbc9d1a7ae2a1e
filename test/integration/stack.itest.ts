import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { createRegistry, registerSchema } from '../../lib/registry';
import { testEnv, uniqueName } from './servers';

// The foundation's acceptance: the servers do what the pipeline needs of them.
describe('the stack the integration tier runs on', () => {
  const env = testEnv();

  test('a transactional producer commits a message that a read-committed consumer receives, and an aborted one it never sees', async () => {
    const topic = uniqueName('txn');
    const kafka = new Kafka({ clientId: 'stack-test', brokers: env.kafkaBrokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });

    const producer = kafka.producer({ transactionalId: uniqueName('txn-producer'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ key: 'm1', value: 'aborted' }] });
    await aborted.abort();
    const committed = await producer.transaction();
    await committed.send({ topic, messages: [{ key: 'm1', value: 'committed' }] });
    await committed.commit();
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName('txn-group'), readUncommitted: false });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void received.push(message.value?.toString() ?? '') });
    for (let i = 0; i < 300 && received.length === 0; i++) await sleep(100);
    await sleep(500); // an aborted record, were it delivered, would have arrived by now
    await consumer.disconnect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();

    expect(received).toEqual(['committed']);
  });

  test('a schema registers under BACKWARD compatibility and an incompatible change is refused', async () => {
    const registry = createRegistry(env.registryUrl);
    const subject = `${uniqueName('schema')}-value`;
    const v1 = JSON.stringify({ type: 'record', name: 'Probe', fields: [{ name: 'a', type: 'string' }] });
    const v2 = JSON.stringify({ type: 'record', name: 'Probe', fields: [{ name: 'a', type: 'string' }, { name: 'b', type: ['null', 'long'], default: null }] });
    const broken = JSON.stringify({ type: 'record', name: 'Probe', fields: [{ name: 'c', type: 'long' }] });

    const id1 = await registerSchema(registry, subject, v1);
    expect(await registerSchema(registry, subject, v1)).toBe(id1);
    const id2 = await registerSchema(registry, subject, v2);
    expect(id2).not.toBe(id1);
    await expect(registerSchema(registry, subject, broken)).rejects.toThrow(/409|incompatib/i);
    expect((await registry.client.getLatestSchemaId(subject))).toBe(id2);
  });

  test('a row written to the primary appears on the follower, which refuses writes', async () => {
    const table = uniqueName('repl').replace(/-/g, '_');
    const primary = new Client({ connectionString: env.databaseUrl });
    const follower = new Client({ connectionString: env.followerUrl });
    await primary.connect();
    await follower.connect();
    try {
      await primary.query(`CREATE TABLE ${table} (id int PRIMARY KEY, note text)`);
      await primary.query(`INSERT INTO ${table} VALUES (1, 'from the primary')`);
      let rows: Array<{ note: string }> = [];
      for (let i = 0; i < 100 && rows.length === 0; i++) {
        rows = await follower.query<{ note: string }>(`SELECT note FROM ${table}`).then((r) => r.rows, () => []);
        if (rows.length === 0) await sleep(100);
      }
      expect(rows).toEqual([{ note: 'from the primary' }]);
      const recovery = await follower.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby');
      expect(recovery.rows[0]?.standby).toBe(true);
      await expect(follower.query(`INSERT INTO ${table} VALUES (2, 'to the follower')`)).rejects.toThrow(/read-only/);
    } finally {
      await primary.query(`DROP TABLE IF EXISTS ${table}`);
      await primary.end();
      await follower.end();
    }
  });

  test('the SMTP server greets and the inbox answers over HTTP', async () => {
    const inbox = process.env.PDM_INBOX_URL;
    expect(inbox).toBeDefined();
    const response = await fetch(`${inbox}/email`);
    expect(response.ok).toBe(true);
    expect(Array.isArray(await response.json())).toBe(true);
  });
});
