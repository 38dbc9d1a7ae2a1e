import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { openControlTable, type ControlTable } from '../../lib/control-table';
import { deleteTopics, ensureTopics } from '../../lib/kafka/admin';
import { connectProducer } from '../../lib/kafka/producer';
import { createLogger } from '../../lib/logger';
import { createRegistry as createMetrics } from '../../lib/metrics';
import { repoRoot } from '../../lib/paths';
import { createRegistry, registerTopicSchemas } from '../../lib/registry';
import { TOPICS, topicSpecs } from '../../lib/topics';
import { testEnv, uniqueName, waitFor } from './servers';

const run = promisify(execFile);

/**
 * `pdmctl machines relearn` on a real broker and registry, and the control table the inference
 * processor reads it with: requests sent before the table opens are there once it is ready, and
 * requests sent after reach it within a poll or two; a record that is not Avro is skipped.
 */
describe('machine control: pdmctl machines relearn and the control table', () => {
  const env = testEnv();
  const prefix = `${uniqueName('control')}.`;
  const specs = topicSpecs({ prefix, partitions: 2 }).filter((s) => s.contractName === TOPICS.machineControl);
  const topic = specs[0]!.name;
  const connection = { brokers: env.kafkaBrokers, clientId: 'machine-control-test' };
  let table: ControlTable | undefined;

  beforeAll(async () => {
    await ensureTopics(connection, specs);
    await registerTopicSchemas(createRegistry(env.registryUrl), specs);
  });
  afterAll(async () => {
    await table?.stop();
    await deleteTopics(connection, [topic]);
  });

  const relearn = async (args: string[]): Promise<{ stdout: string; requestId: string }> => {
    const { stdout } = await run(process.execPath, [path.join(repoRoot, 'bin', 'pdmctl.js'), 'machines', 'relearn', ...args], {
      env: { ...process.env, PDM_TOPIC_PREFIX: prefix, USER: 'bo' },
      timeout: 60_000,
    });
    const requestId = /\(request ([0-9a-f-]{36})/.exec(stdout)?.[1];
    if (!requestId) throw new Error(`no request id in: ${stdout}`);
    return { stdout, requestId };
  };

  test('the table holds the latest request per machine, with who asked and why', async () => {
    const first = await relearn(['lathe-1', '--by', 'ana@plant-7', '--reason', 'first fault after install']);
    expect(first.stdout.trim().split('\n')).toHaveLength(1);
    expect(first.stdout).toContain(`relearn of machine lathe-1 requested by ana@plant-7 at `);
    expect(first.stdout).toContain(`on ${topic}: the inference processor applies it to the machine's next window`);

    // Someone writes bytes that are not Avro to the topic: the table skips them.
    const producer = await connectProducer(connection);
    await producer.send([{ topic, records: [{ key: Buffer.from('lathe-1'), value: Buffer.from('{"machineId":"lathe-1"}') }] }]);
    await producer.disconnect();

    const metrics = createMetrics('test', false);
    const logger = createLogger({ level: 'silent' });
    table = await openControlTable({ topic, connection, registryUrl: env.registryUrl, pollMs: 200, logger, metrics });
    await table.ready();
    expect(await metrics.metrics()).toContain('pdm_control_records_skipped_total{reason="SERDE_MAGIC_BYTE",service="test"} 1');
    expect(table.latestRelearn('lathe-1')).toEqual({
      requestId: first.requestId,
      requestedBy: 'ana@plant-7',
      requestedAtMs: expect.any(Number),
      reason: 'first fault after install',
    });
    expect(table.latestRelearn('press-2')).toBeUndefined();

    const [second, other] = await Promise.all([
      relearn(['lathe-1', '--reason', 'spindle bearing replaced']),
      relearn(['press-2', '--by', 'service:maintenance-planner']),
    ]);
    const seen = () => table!.latestRelearn('lathe-1')?.requestId === second.requestId && table!.latestRelearn('press-2') !== undefined;
    await waitFor('both requests in the control table', seen, 15_000);
    const lathe = table.latestRelearn('lathe-1')!;
    expect(lathe).toMatchObject({ requestedBy: `bo@${os.hostname()}`, reason: 'spindle bearing replaced' });
    expect(Math.abs(lathe.requestedAtMs - Date.now())).toBeLessThan(60_000);
    const press = table.latestRelearn('press-2');
    expect(press).toEqual({ requestId: other.requestId, requestedBy: 'service:maintenance-planner', requestedAtMs: expect.any(Number), reason: null });
  });
});
