import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { repoRoot } from '../../lib/paths';
import { TOPICS } from '../../lib/topics';
import type { AlertEvent } from '../../schemas';
import { migrate } from '../../sinks/postgres/migrations';
import { openAlertsWriter, type AlertsWriter } from './alerts-topic';
import { startService, testEnv, uniqueName, useIsolatedTopics, useOwnSchema, waitFor, type RunningService } from './servers';

const run = promisify(execFile);

/**
 * Operators' actions end to end on the real stack: `pdmctl alerts silence`, `unsilence` and `ack`
 * write pdm.alert-control.v1; sink-email, started before any of them, holds a silenced machine's
 * mail live and sends it once the silence is ended; sink-postgres records every action in
 * pdm.alert_actions, which pdm_analyst reads on the follower with the pdm.silences and
 * pdm.alert_acknowledgements views.
 */
const env = testEnv();
const { prefix, connection } = useIsolatedTopics('actl', 1);
const { schema, owner } = useOwnSchema('actl');
const uid = uniqueName('actl');
const recipient = `${uid}@plant.example`;
const silencedMachine = `lathe-${uid}`;
const otherMachine = `pump-${uid}`;
const runEnv = { ...process.env, PDM_TOPIC_PREFIX: prefix, PDM_POSTGRES_SCHEMA: schema };

const pdmctl = async (args: string[]): Promise<string> => {
  const { stdout } = await run(process.execPath, [path.join(repoRoot, 'bin', 'pdmctl.js'), 'alerts', ...args], { env: runEnv, timeout: 60_000 });
  return stdout.trim();
};

const firing = (machineId: string): AlertEvent => {
  const now = Date.now();
  const alert = { alertId: uniqueName('alert'), dedupKey: `${machineId}/FORECAST_BREACH/tempA`, machineId, status: 'FIRING', severity: 'WARNING' } as const;
  const model = { score: 81, threshold: 80, modelName: 'm', modelVersion: 'v1', message: 'tempA heads for its limit', drivers: [] };
  return { ...alert, kind: 'FORECAST_BREACH', feature: 'tempA', windowEnd: now, predictedBreachAt: null, ...model, createdAt: now };
};

const analystUrl = Object.assign(new URL(env.followerUrl), { username: 'pdm_analyst', password: encodeURIComponent(process.env.PDM_ANALYST_PASSWORD!) });
const follower = new pg.Client({ connectionString: analystUrl.toString() });
let alerts: AlertsWriter | undefined;

beforeAll(async () => {
  // sink-email needs the notification log at start: migrate now rather than wait for sink-postgres to.
  await migrate({ url: env.databaseUrl, schema, writerPassword: process.env.PDM_WRITER_PASSWORD, analystPassword: process.env.PDM_ANALYST_PASSWORD });
  await follower.connect();
  alerts = await openAlertsWriter(connection, env.registryUrl, `${prefix}${TOPICS.alerts}`);
});
afterAll(async () => {
  await alerts?.close();
  await follower.end();
});

const metricsOf = (service: RunningService) => async (): Promise<string> => (await fetch(`http://127.0.0.1:${await service.metricsPort()}/metrics`)).text();
/** The transitions sink-email mailed about a machine, from its notification log. */
const sent = async (machineId: string): Promise<string[]> => {
  const sql = `SELECT transition FROM ${schema}.notifications WHERE machine_id = $1 AND outcome = 'sent'`;
  const { rows } = await owner.query<{ transition: string }>(sql, [machineId]);
  return rows.map((r) => r.transition);
};
/** Rows as pdm_analyst reads them on the follower; none while a table is not there yet. */
const onFollower = async (sql: string, values: unknown[] = []): Promise<Array<Record<string, unknown>>> =>
  (await follower.query(sql, values).catch(() => ({ rows: [] }))).rows;
const metricIs = (text: string, name: string, value: number) => new RegExp(`^${name}\\{[^}]*\\} ${value}$`, 'm').test(text);

test('silence, unsilence and ack: applied live by sink-email, recorded by sink-postgres, read on the follower', async () => {
  const mailEnv = { ...runEnv, PDM_EMAIL_DEFAULT_TO: recipient, PDM_EMAIL_GROUP_WAIT: '1s', PDM_EMAIL_TICK: '200ms', PDM_SESSION_TIMEOUT: '6s' };
  const email = startService(['run', 'sink-email', '--metrics-port', '0'], mailEnv);
  const sinkPostgres = startService(['run', 'sink-postgres', '--metrics-port', '0'], runEnv);
  await Promise.all([email.metricsPort(60_000), sinkPostgres.metricsPort(60_000)]);
  await waitFor('sink-email to restore its partition', () => email.output().includes('partition restored'), 60_000);
  const emailMetrics = metricsOf(email);

  const silenceLine = await pdmctl(['silence', '--machine', silencedMachine, '--for', '1h', '--reason', 'bearing swap', '--by', 'ana@plant-7']);
  expect(silenceLine).toMatch(new RegExp(`^silence of machine ${silencedMachine} from \\S+ until \\S+ by ana@plant-7 at `));
  const silenceId = /\(silence ([0-9a-f-]{36})/.exec(silenceLine)![1]!;
  await waitFor('sink-email to apply the silence', async () => metricIs(await emailMetrics(), 'pdm_alert_control_active_silences', 1), 15_000);

  const held = firing(silencedMachine);
  const told = firing(otherMachine);
  await alerts!.write(held);
  await alerts!.write(told);
  await waitFor("the other machine's mail", async () => (await sent(otherMachine)).length === 1, 20_000);
  // Read in the same batch and due in the same tick as the other's, the silenced machine's mail waits in its group.
  await waitFor('the held mail to be counted as pending', async () => metricIs(await emailMetrics(), 'pdm_email_pending_notifications', 1), 5_000);
  expect(await sent(silencedMachine)).toEqual([]);

  expect(await pdmctl(['unsilence', silenceId, '--reason', 'done early', '--by', 'bo@plant-7'])).toContain(`end of silence ${silenceId} by bo@plant-7`);
  await waitFor('the held mail once the silence ended', async () => (await sent(silencedMachine)).length === 1, 20_000);
  expect(await sent(silencedMachine)).toEqual([`FIRING:${held.alertId}`]);

  // The ack looks the alert up on the follower, where sink-postgres has written it.
  const alertRow = `SELECT 1 FROM ${schema}.alerts WHERE alert_id = $1`;
  await waitFor('the alert on the follower', async () => (await onFollower(alertRow, [told.alertId])).length === 1, 30_000);
  const ackLine = await pdmctl(['ack', told.dedupKey, '--reason', 'on it', '--by', 'ana@plant-7']);
  expect(ackLine).toContain(`acknowledgement of alert ${told.dedupKey} (transition ${told.alertId}) by ana@plant-7`);
  await waitFor('sink-email to apply the acknowledgement', async () => metricIs(await emailMetrics(), 'pdm_alert_control_acknowledged_alerts', 1), 15_000);

  const actions = `SELECT action, machine_id, kind, alert_id, dedup_key, silence_id, requested_by, reason FROM ${schema}.alert_actions ORDER BY requested_at`;
  await waitFor('the three actions on the follower', async () => (await onFollower(actions)).length === 3, 30_000);
  const none = { machine_id: null, kind: null, alert_id: null, dedup_key: null, silence_id: null };
  expect(await onFollower(actions)).toEqual([
    { ...none, action: 'SILENCE', machine_id: silencedMachine, requested_by: 'ana@plant-7', reason: 'bearing swap' },
    { ...none, action: 'UNSILENCE', silence_id: silenceId, requested_by: 'bo@plant-7', reason: 'done early' },
    { ...none, action: 'ACK', machine_id: otherMachine, alert_id: told.alertId, dedup_key: told.dedupKey, requested_by: 'ana@plant-7', reason: 'on it' },
  ]);
  expect(await onFollower(`SELECT silence_id, machine_id, ended_by, ended_reason, ended_at IS NOT NULL AS ended, active FROM ${schema}.silences`)).toEqual([
    { silence_id: silenceId, machine_id: silencedMachine, ended_by: 'bo@plant-7', ended_reason: 'done early', ended: true, active: false },
  ]);
  expect(await onFollower(`SELECT dedup_key, alert_id, requested_by, reason FROM ${schema}.alert_acknowledgements`)).toEqual([
    { dedup_key: told.dedupKey, alert_id: told.alertId, requested_by: 'ana@plant-7', reason: 'on it' },
  ]);
});
