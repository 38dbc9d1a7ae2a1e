import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureTopics } from '../../lib/kafka/admin';
import type { KafkaConnection } from '../../lib/kafka/client';
import { openPartitionReader } from '../../lib/kafka/partition-reader';
import { connectProducer } from '../../lib/kafka/producer';
import { runStage } from '../../lib/kafka/runner';
import { createLogger } from '../../lib/logger';
import { TOPICS, topicSpecs } from '../../lib/topics';
import { processExists } from '../../stack/process';
import { quietReporter } from '../../stack/reporter';
import { loadStackSettings, privateStackPorts } from '../../stack/settings';
import { stackDown, stackStatus, stackUp } from '../../stack/stack';
import { waitFor } from './servers';

/** Pids of processes whose command line mentions `dir`. */
function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}

// A second, private stack (own state folder and ports) so that killing and stopping servers here
// never disturbs the stack the other integration tests use. Needs the local binaries, so it runs
// where the tier itself runs on the local stack.
const local = process.env.PDM_TEST_SERVERS === 'local';
(local ? describe : describe.skip)('a private local stack from nothing: up, a server killed by hand, up again, down', () => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-stack-'));
  fs.chmodSync(stateDir, 0o755); // Postgres runs as its own user when tests run as root
  const settings = loadStackSettings({
    ...process.env,
    PDM_STATE_DIR: stateDir,
    ...privateStackPorts(100),
    PDM_KAFKA_HEAP: '512m',
    PDM_REGISTRY_HEAP: '256m',
  });

  afterAll(async () => {
    await stackDown({ settings });
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  test('every server starts from an empty state folder and answers', async () => {
    const results = await stackUp({ settings, reporter: quietReporter });
    expect(results.map((r) => [r.name, r.outcome, r.error])).toEqual(results.map((r) => [r.name, 'started', undefined]));
    const statuses = await stackStatus({ settings });
    expect(statuses.map((s) => [s.name, s.state])).toEqual(statuses.map((s) => [s.name, 'healthy']));
  });

  test('up is idempotent: a second call starts nothing', async () => {
    const results = await stackUp({ settings, reporter: quietReporter });
    expect(results.every((r) => r.outcome === 'running')).toBe(true);
  });

  // kafkajs gives up on a broker away longer than its few retries (about 10 s): this outage is
  // longer, so a producer or consumer that trusts kafkajs's own retries fails here.
  test('a producer and a transactional consumer ride out a broker stopped for 15 s, then a quick broker restart: every record once, no fatal error', async () => {
    const connection: KafkaConnection = { brokers: [`127.0.0.1:${settings.PDM_KAFKA_PORT}`], clientId: 'outage-test' };
    const specs = topicSpecs({ prefix: 'outage.', partitions: 2 }).filter((s) => s.contractName === TOPICS.readings || s.contractName === TOPICS.windowFeatures);
    const [input, output] = [`outage.${TOPICS.readings}`, `outage.${TOPICS.windowFeatures}`];
    await ensureTopics(connection, specs);
    const logger = createLogger({ level: 'silent' });
    const fatal: Error[] = [];
    const runner = await runStage({
      connection,
      groupId: 'outage-copy',
      inputTopic: input,
      transactionalIdPrefix: 'outage-copy',
      logger,
      sessionTimeoutMs: 10_000,
      onFatal: (err) => fatal.push(err),
      process: (partition, records) => [{ topic: output, records: records.map((r) => ({ key: r.key, value: r.value, partition })) }],
    });
    const producer = await connectProducer(connection, { logger });
    /** Records `from` to `to` (value: the number), 100 a batch, `pauseMs` apart. */
    let batches = 0;
    const send = async (from: number, to: number, pauseMs = 0) => {
      for (let i = from; i < to; i += 100) {
        const records = Array.from({ length: 100 }, (_, j) => ({ key: Buffer.from(`m${(i + j) % 7}`), value: Buffer.from(String(i + j)) }));
        await producer.send([{ topic: input, records }]);
        batches++;
        await sleep(pauseMs);
      }
    };
    /** The values of a topic, read_committed. */
    const values = async (topic: string) => {
      const reader = await openPartitionReader(connection);
      try {
        const out: string[] = [];
        for (const partition of [0, 1]) await reader.read(topic, partition, (records) => void out.push(...records.map((r) => r.value!.toString())));
        return out;
      } finally {
        await reader.close();
      }
    };
    try {
      // 60 batches, 300 ms apart: the producer is still sending when the broker stops, and waits.
      const sent = send(0, 6000, 300);
      await sleep(3000);
      await stackDown({ settings, only: ['kafka'] });
      await sleep(15_000);
      expect((await stackUp({ settings, reporter: quietReporter })).find((r) => r.name === 'kafka')?.outcome).toBe('started');
      expect(batches).toBeLessThan(60);
      await sent;
      await waitFor('the first 6000 records copied', async () => (await values(output)).length >= 6000 || fatal.length > 0, 120_000, 1000);
      // And a quick restart, as a supervisor's: the group meets a coordinator that is not there
      // yet (kafkajs: "Failed to find group coordinator", which it does not retry).
      await stackDown({ settings, only: ['kafka'] });
      expect((await stackUp({ settings, reporter: quietReporter })).find((r) => r.name === 'kafka')?.outcome).toBe('started');
      await send(6000, 7000);

      await waitFor('all 7000 records copied', async () => (await values(output)).length >= 7000 || fatal.length > 0, 120_000, 1000);
      expect(fatal).toEqual([]);
      const everyOnce = Array.from({ length: 7000 }, (_, i) => String(i)).sort();
      expect((await values(input)).sort()).toEqual(everyOnce);
      expect((await values(output)).sort()).toEqual(everyOnce);
    } finally {
      await producer.disconnect().catch(() => undefined);
      await runner.stop().catch(() => undefined);
    }
  }, 240_000);

  test('a server killed with SIGKILL is restarted by the next up, and the others keep their processes', async () => {
    const before = new Map((await stackStatus({ settings })).map((s) => [s.name, s.pid]));
    const victim = before.get('kafka')!;
    process.kill(victim, 'SIGKILL');
    // As when a person kills it by hand and runs `stack up` a moment later: it is gone by then.
    while (processExists(victim)) await new Promise((r) => setTimeout(r, 50));
    const results = await stackUp({ settings, reporter: quietReporter });
    const outcomes = Object.fromEntries(results.map((r) => [r.name, r.error ?? r.outcome]));
    expect(outcomes).toEqual({ kafka: 'started', registry: 'running', postgres: 'running', 'postgres-follower': 'running', smtp: 'running', prometheus: 'running' });
    const after = new Map((await stackStatus({ settings })).map((s) => [s.name, s.pid]));
    expect(after.get('kafka')).not.toBe(victim);
    for (const name of ['registry', 'postgres', 'postgres-follower', 'smtp', 'prometheus']) expect(after.get(name)).toBe(before.get(name));
  });

  test('even called the instant after the kill, while the server is still going down, up starts it again', async () => {
    // The JVM takes a moment to die: the broker is the server most likely to be caught half-dead.
    const victim = (await stackStatus({ settings })).find((s) => s.name === 'kafka')!.pid!;
    process.kill(victim, 'SIGKILL');
    const results = await stackUp({ settings, reporter: quietReporter });
    expect(results.find((r) => r.name === 'kafka')).toMatchObject({ outcome: 'started' });
    expect(results.filter((r) => r.name !== 'kafka').every((r) => r.outcome === 'running')).toBe(true);
  });

  test('down stops every server it started and leaves none of its processes running', async () => {
    const results = await stackDown({ settings });
    expect(results.map((r) => r.outcome).sort()).toEqual(['stopped', 'stopped', 'stopped', 'stopped', 'stopped', 'stopped']);
    expect(processesUsing(stateDir)).toEqual([]);
    expect((await stackStatus({ settings })).every((s) => s.state === 'stopped')).toBe(true);
  });
});
