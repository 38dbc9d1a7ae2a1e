import fs from 'node:fs';
import { z } from 'zod';
import { duration, parseEnv } from '../../lib/config';
import { PdmError } from '../../lib/errors';
import { processorSettings } from '../../processors/runtime';
import type { LifecycleConfig } from './lifecycle';
import type { LinkTemplates } from './render';
import { parseRoster, type Roster } from './roster';
import { postgresSettings } from '../../lib/shared.settings';

/** The email sink's settings, from the environment, validated once and frozen. */
export const schema = z.object({
  SMTP_URL: z.string().url()
    .describe('SMTP server: `smtp://host:port` (STARTTLS when offered) or `smtps://user:pass@host:465`; credentials only from the environment.'),
  SMTP_REQUIRE_TLS: z.enum(['true', 'false']).default('false').describe('Refuse to send unless the connection is upgraded to TLS (STARTTLS).'),
  SMTP_TLS_REJECT_UNAUTHORIZED: z.enum(['true', 'false']).default('true')
    .describe("Check the SMTP server's TLS certificate (turn off only for a test server with a self-signed one)."),
  DATABASE_URL: postgresSettings.shape.DATABASE_URL,
  PDM_POSTGRES_SCHEMA: postgresSettings.shape.PDM_POSTGRES_SCHEMA,
  PDM_EMAIL_ROSTER: z.string().optional().describe('The on-call roster, YAML or JSON (format in the README); unset: every mail goes to PDM_EMAIL_DEFAULT_TO.'),
  PDM_EMAIL_DEFAULT_TO: z.string().default('oncall@pdm.localhost').describe('Recipient when no roster file is given.'),
  PDM_EMAIL_FROM: z.string().default('pdm-stream alerts <alerts@pdm.localhost>').describe('The From header.'),
  PDM_EMAIL_GROUP_WAIT: duration('30s', { allowZero: true }).describe("A machine's notifications wait this long from the first one and share one mail."),
  PDM_EMAIL_REPEAT_INTERVAL: duration('4h').describe('A reminder while an alert keeps firing, every this long since it fired.'),
  PDM_EMAIL_RATE_LIMIT: z.coerce.number().int().min(1).default(20)
    .describe('Most mails per recipient per PDM_EMAIL_RATE_WINDOW; the overflow goes out as one digest.'),
  PDM_EMAIL_RATE_WINDOW: duration('1h').describe("The rate limit's window."),
  PDM_EMAIL_MAX_AGE: duration('24h').describe('Transitions older than this (by createdAt) are not mailed: a replay of old history stays quiet.'),
  PDM_EMAIL_SEND_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(4)
    .describe('SMTP attempts per mail before the failure is recorded (backoff doubles from PDM_EMAIL_RETRY_BACKOFF).'),
  PDM_EMAIL_RETRY_BACKOFF: duration('1s').describe('First wait between SMTP attempts.'),
  PDM_EMAIL_RETRY_AFTER: duration('1m').describe('A mail whose attempts all failed is tried again after this long (and after a restart).'),
  PDM_EMAIL_TICK: duration('1s').describe('How often the wall-clock step runs (group waits, reminders, digests, retries).'),
  PDM_EMAIL_CHART_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(48).describe('Hours of window means in the chart.'),
  PDM_EMAIL_GRAFANA_URL: z.string().url().optional().describe('Link to a dashboard; {machineId}, {feature}, {dedupKey}, {kind} are filled in, URL-encoded.'),
  PDM_EMAIL_RUNBOOK_URL: z.string().url().optional().describe('Link to the runbook; same placeholders.'),
  PDM_EMAIL_GROUP_ID: z.string().optional().describe('Consumer group. Default: `<PDM_TOPIC_PREFIX>pdm-sink-email`.'),
});

export interface EmailSettings {
  prefix: string;
  groupId: string;
  sessionTimeoutMs: number;
  smtp: { url: string; requireTls: boolean; rejectUnauthorized: boolean };
  databaseUrl: string;
  /** Schema of pdm.notifications and pdm.window_features. */
  schema: string;
  from: string;
  roster: Roster;
  lifecycle: LifecycleConfig;
  send: { attempts: number; backoffMs: number; retryAfterMs: number };
  tickMs: number;
  chartHours: number;
  links: LinkTemplates;
}

export function emailSettings(env: NodeJS.ProcessEnv = process.env): Readonly<EmailSettings> {
  const shared = processorSettings(env);
  const raw = parseEnv(schema, env);
  let roster: Roster;
  if (raw.PDM_EMAIL_ROSTER) {
    let text: string;
    try {
      text = fs.readFileSync(raw.PDM_EMAIL_ROSTER, 'utf8');
    } catch (cause) {
      throw new PdmError('CONFIG_INVALID', `PDM_EMAIL_ROSTER: cannot read ${raw.PDM_EMAIL_ROSTER}: ${(cause as Error).message}`, { cause });
    }
    roster = parseRoster(text, `PDM_EMAIL_ROSTER (${raw.PDM_EMAIL_ROSTER})`);
  } else roster = parseRoster(JSON.stringify({ default: raw.PDM_EMAIL_DEFAULT_TO }), 'PDM_EMAIL_DEFAULT_TO');
  return Object.freeze({
    prefix: shared.prefix,
    groupId: raw.PDM_EMAIL_GROUP_ID ?? `${shared.prefix}pdm-sink-email`,
    sessionTimeoutMs: shared.sessionTimeoutMs,
    smtp: { url: raw.SMTP_URL, requireTls: raw.SMTP_REQUIRE_TLS === 'true', rejectUnauthorized: raw.SMTP_TLS_REJECT_UNAUTHORIZED === 'true' },
    databaseUrl: raw.DATABASE_URL,
    schema: raw.PDM_POSTGRES_SCHEMA,
    from: raw.PDM_EMAIL_FROM,
    roster,
    lifecycle: { groupWaitMs: raw.PDM_EMAIL_GROUP_WAIT, repeatIntervalMs: raw.PDM_EMAIL_REPEAT_INTERVAL, maxAgeMs: raw.PDM_EMAIL_MAX_AGE, rateLimit: { count: raw.PDM_EMAIL_RATE_LIMIT, windowMs: raw.PDM_EMAIL_RATE_WINDOW } },
    send: { attempts: raw.PDM_EMAIL_SEND_ATTEMPTS, backoffMs: raw.PDM_EMAIL_RETRY_BACKOFF, retryAfterMs: raw.PDM_EMAIL_RETRY_AFTER },
    tickMs: raw.PDM_EMAIL_TICK,
    chartHours: raw.PDM_EMAIL_CHART_HOURS,
    links: { grafana: raw.PDM_EMAIL_GRAFANA_URL, runbook: raw.PDM_EMAIL_RUNBOOK_URL },
  });
}
