import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { repoRoot } from '../../lib/paths';
import { startService, testEnv, useIsolatedTopics, useOwnSchema, waitFor } from './servers';

const run = promisify(execFile);

/**
 * The audit trail in Postgres: sink-postgres writes every request of pdm.machine-control.v1 to
 * pdm.machine_control (migration 005), one row per request id, and pdm_analyst reads it on the
 * follower.
 */
const env = testEnv();
const { prefix } = useIsolatedTopics('mcsink', 1);
const { schema } = useOwnSchema('mcsink');

const relearn = async (args: string[]): Promise<string> => {
  const pdmctl = path.join(repoRoot, 'bin', 'pdmctl.js');
  const options = { env: { ...process.env, PDM_TOPIC_PREFIX: prefix }, timeout: 60_000 };
  const { stdout } = await run(process.execPath, [pdmctl, 'machines', 'relearn', ...args], options);
  return /\(request ([0-9a-f-]{36})/.exec(stdout)![1]!;
};

test('sink-postgres writes each relearn request as a row of pdm.machine_control, readable by pdm_analyst on the follower', async () => {
  const first = await relearn(['lathe-1', '--by', 'ana@plant-7', '--reason', 'spindle bearing replaced']);
  const second = await relearn(['lathe-1', '--by', 'bo@plant-7']);
  const sink = startService(['run', 'sink-postgres', '--metrics-port', '0'], { ...process.env, PDM_TOPIC_PREFIX: prefix, PDM_POSTGRES_SCHEMA: schema });
  await sink.metricsPort();

  const analystUrl = new URL(env.followerUrl);
  analystUrl.username = 'pdm_analyst';
  analystUrl.password = encodeURIComponent(process.env.PDM_ANALYST_PASSWORD!);
  const follower = new pg.Client({ connectionString: analystUrl.toString() });
  await follower.connect();
  try {
    const sql = `SELECT request_id, machine_id, action, requested_by, reason FROM ${schema}.machine_control ORDER BY requested_at`;
    // Until the sink has migrated the schema (and the follower replayed it), the table is not there.
    const rows = async () => (await follower.query(sql).catch(() => ({ rows: [] }))).rows;
    await waitFor('both requests on the follower', async () => (await rows()).length === 2, 60_000, 500);
    expect(await rows()).toEqual([
      { request_id: first, machine_id: 'lathe-1', action: 'RELEARN', requested_by: 'ana@plant-7', reason: 'spindle bearing replaced' },
      { request_id: second, machine_id: 'lathe-1', action: 'RELEARN', requested_by: 'bo@plant-7', reason: null },
    ]);
  } finally {
    await follower.end();
  }
});
