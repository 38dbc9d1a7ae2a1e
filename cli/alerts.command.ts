import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Command } from 'commander';
import pg from 'pg';
import { ackRequest, silenceRequest, unsilenceRequest } from '../lib/alert-control';
import { findAlertToAck, type AlertToAck } from '../lib/alert-lookup';
import { defaultRequester, describeEnvelope } from '../lib/control-request';
import { PdmError, errorMessage } from '../lib/errors';
import { commandLogger, redactUrl } from '../lib/logger';
import type { AlertControl } from '../schemas';
import { ALERT_CONTROL, publishOnce } from '../producers/control.publisher';
import { connectionEnv } from './connections';
import { parseEnv } from '../lib/config';
import { followerSettings, postgresSettings } from '../lib/shared.settings';

/**
 * `pdmctl alerts ack | silence | unsilence`: operators' actions on alert mail, written to
 * pdm.alert-control.v1 (under PDM_TOPIC_PREFIX) for the email sink to apply and sink-postgres to
 * record. The requests are checked here (lib/alert-control.ts) before anything is sent.
 */

export type AlertsCommandErrorCode = 'ALERT_NOT_FOUND' | 'ALERT_OTHER_MACHINE' | 'ALERT_NOT_FIRING' | 'FOLLOWER_UNREACHABLE';

export interface ActionOptions {
  reason?: string;
  by?: string;
}

export interface AckOptions extends ActionOptions {
  /** The alert's machine, checked against the alert found. */
  machine?: string;
}

export interface SilenceOptions extends ActionOptions {
  machine?: string;
  kind?: string;
  for?: string;
  until?: string;
}

const who = (options: ActionOptions, env: NodeJS.ProcessEnv, clock: () => number) => ({
  requestId: randomUUID(),
  requestedBy: options.by ?? defaultRequester(env, os.hostname()),
  nowMs: clock(),
  reason: options.reason,
});

/** The ACK of the alert found, refused when it no longer fires or is not on `--machine`. */
export function ackOf(found: AlertToAck, options: AckOptions, request: { requestId: string; requestedBy: string; nowMs: number }): AlertControl {
  if (options.machine !== undefined && options.machine.trim() !== found.machineId) {
    const message = `alert ${found.dedupKey} is on machine ${found.machineId}, not ${options.machine.trim()}`;
    throw new PdmError<AlertsCommandErrorCode>('ALERT_OTHER_MACHINE', message);
  }
  if (!found.firing) {
    const when = new Date(found.createdAtMs).toISOString();
    const message = `alert ${found.dedupKey} (${found.alertId}, ${found.status} at ${when}) is not firing: there is nothing to acknowledge`;
    throw new PdmError<AlertsCommandErrorCode>('ALERT_NOT_FIRING', message);
  }
  return ackRequest({ ...request, reason: options.reason, alert: found });
}

const scope = (c: AlertControl): string => {
  const machine = c.machineId === null || c.machineId === '*' ? 'every machine' : `machine ${c.machineId}`;
  return c.kind === null ? machine : `${c.kind} alerts of ${machine}`;
};

/** The line a command prints: what was asked, by whom, and when it takes effect. */
export function describeAlertControl(c: AlertControl, topic: string): string {
  const iso = (ms: number | null) => new Date(ms ?? 0).toISOString();
  switch (c.action) {
    case 'ACK':
      return (
        `acknowledgement of alert ${c.dedupKey} (transition ${c.alertId}) ${describeEnvelope(c)} on ${topic}: ` +
        'the email sink sends no more reminders while it fires; its resolution is still mailed'
      );
    case 'SILENCE':
      return (
        `silence of ${scope(c)} from ${iso(c.startsAt)} until ${iso(c.endsAt)} ${describeEnvelope(c, 'silence')} on ${topic}: ` +
        `the email sink holds that mail until then; \`pdmctl alerts unsilence ${c.requestId}\` ends it early`
      );
    case 'UNSILENCE':
      return `end of silence ${c.silenceId} ${describeEnvelope(c)} on ${topic}: the email sink mails what it held as soon as it reads this (seconds)`;
    default:
      return `${c.action} ${describeEnvelope(c)} on ${topic}`;
  }
}

/** The alert `target` (an alert id or a dedup key) on the follower (DATABASE_FOLLOWER_URL, schema PDM_POSTGRES_SCHEMA). */
async function lookUpAlert(target: string, env: NodeJS.ProcessEnv): Promise<AlertToAck> {
  const { DATABASE_FOLLOWER_URL: url, PDM_POSTGRES_SCHEMA: schema } = parseEnv(followerSettings.extend({ PDM_POSTGRES_SCHEMA: postgresSettings.shape.PDM_POSTGRES_SCHEMA }), env);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, statement_timeout: 10_000 });
  client.on('error', () => undefined);
  let found: AlertToAck | undefined;
  try {
    await client.connect();
    found = await findAlertToAck(client, schema, target);
  } catch (cause) {
    const message = `cannot look the alert up on the follower ${redactUrl(url)} (${errorMessage(cause)}); give DATABASE_FOLLOWER_URL, PDM_POSTGRES_SCHEMA`;
    throw new PdmError<AlertsCommandErrorCode>('FOLLOWER_UNREACHABLE', message, { cause });
  } finally {
    await client.end().catch(() => undefined);
  }
  if (!found) {
    const message = `no alert ${JSON.stringify(target)} (an alert id or a dedup key) in ${schema}.alerts on the follower`;
    throw new PdmError<AlertsCommandErrorCode>('ALERT_NOT_FOUND', message);
  }
  return found;
}

/** Sends `control` and returns the command's line. */
async function send(control: AlertControl, env: NodeJS.ProcessEnv): Promise<string> {
  const { topic } = await publishOnce(ALERT_CONTROL, control, { env, logger: commandLogger('alerts'), clientId: 'pdmctl-alerts' });
  return describeAlertControl(control, topic);
}

export async function ackAlert(target: string, options: AckOptions, env: NodeJS.ProcessEnv, clock: () => number = Date.now): Promise<string> {
  const request = who(options, env, clock);
  return send(ackOf(await lookUpAlert(target.trim(), env), options, request), env);
}

export function registerAlertsCommand(program: Command): void {
  const alerts = program
    .command('alerts')
    .description('acknowledge alerts, silence machines or alert kinds: actions on pdm.alert-control.v1 (PDM_TOPIC_PREFIX applies), applied by sink-email');
  const common = (command: Command) => command.option('--reason <text>', 'why, for the audit trail').option('--by <name>', 'who acts (default: $USER@host)');
  common(alerts.command('ack <alert>'))
    .description('acknowledge a firing alert, by alert id or dedup key (machine/KIND/feature, looked up on the follower): no more reminders until it resolves')
    .option('--machine <id>', "the alert's machine, checked")
    .action(async (target: string, options: AckOptions) => {
      console.log(await ackAlert(target, options, connectionEnv()));
    });
  common(alerts.command('silence'))
    .description('hold the mail of a machine (an id, a pattern with *, or * for all), an alert kind, or both, for a time; --reason is required')
    .option('--machine <pattern>', 'machine id or glob pattern')
    .option('--kind <kind>', 'alert kind: FORECAST_BREACH, ANOMALY, DEVIATION, ...')
    .option('--for <duration>', 'how long, such as 2h or 1d12h (at most 31d)')
    .option('--until <time>', 'until when, ISO-8601')
    .action(async (options: SilenceOptions) => {
      const env = connectionEnv();
      console.log(await send(silenceRequest({ ...who(options, env, Date.now), ...options }), env));
    });
  common(alerts.command('unsilence <silenceId>'))
    .description('end a silence early (its id is printed by `alerts silence`)')
    .action(async (silenceId: string, options: ActionOptions) => {
      const env = connectionEnv();
      console.log(await send(unsilenceRequest({ ...who(options, env, Date.now), silenceId }), env));
    });
}
