import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { simpleParser, type ParsedMail } from 'mailparser';
import { Pool } from 'pg';
import { TOPICS } from '../../lib/topics';
import type { AlertEvent } from '../../schemas';
import { migrate } from '../../sinks/postgres/migrations';
import { makeDayPartitions } from '../../sinks/postgres/partition.maintainer';
import { daysBetween } from '../../sinks/postgres/partitions';
import { openAlertsWriter } from './alerts-topic';
import { killServices, startService, testEnv, uniqueName, useIsolatedTopics, waitFor, type RunningService } from './servers';

/**
 * `pdmctl run sink-email` against the real MailDev, Postgres and Kafka: what an on-call engineer
 * receives for a FIRING and a RESOLVED alert (parsed from the raw message), that a replay of the
 * same alerts by a new consumer group sends nothing again, and that mail held up by an SMTP
 * outage arrives once the server is back.
 */

const env = testEnv();
const inboxUrl = process.env.PDM_INBOX_URL ?? 'http://127.0.0.1:11080';
const { prefix, connection } = useIsolatedTopics('semail', 2);
const uid = uniqueName('mail');
const recipientA = `${uid}-lathes@plant.example`;
const recipientB = `${uid}-pumps@plant.example`;
const recipientC = `${uid}-mills@plant.example`;
// A hostile machine id: a header injection attempt if it ever reached a header raw.
const machineA = `lathe-${uid}\r\nBcc: evil-${uid}@evil.example`;
const machineB = `pump-${uid}`;
const machineC = `mill-${uid}`;
const pool = new Pool({ connectionString: env.databaseUrl, max: 2 });
// Tables of this run's own, as sink-postgres's and the API's tests have: nothing lands in the stack's pdm schema.
const schema = uniqueName('semail').replace(/-/g, '_');

afterAll(async () => {
  killServices();
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
  await pool.end();
});

interface Sink extends RunningService {
  metrics: () => Promise<string>;
}

async function startSink(extra: NodeJS.ProcessEnv): Promise<Sink> {
  const roster = path.join(os.tmpdir(), `${uid}-roster.yaml`);
  fs.writeFileSync(roster, [`default: ${recipientA}`, 'machines:', `  "pump-*${uid.slice(-8)}": ${recipientB}`, `  "mill-*": ${recipientC}`, ''].join('\n'));
  const runEnv = {
    ...process.env,
    PDM_TOPIC_PREFIX: prefix,
    PDM_POSTGRES_SCHEMA: schema,
    PDM_EMAIL_ROSTER: roster,
    PDM_EMAIL_GROUP_WAIT: '1s',
    PDM_EMAIL_TICK: '200ms',
    PDM_EMAIL_SEND_ATTEMPTS: '2',
    PDM_EMAIL_RETRY_BACKOFF: '200ms',
    PDM_EMAIL_RETRY_AFTER: '2s',
    PDM_EMAIL_GRAFANA_URL: 'https://grafana.example/d/pdm-machine?var-machine={machineId}',
    PDM_EMAIL_RUNBOOK_URL: 'https://wiki.example/runbooks/{kind}/{feature}',
    PDM_SESSION_TIMEOUT: '6s',
    ...extra,
  };
  const sink = startService(['run', 'sink-email', '--metrics-port', '0'], runEnv);
  const port = await sink.metricsPort(60_000);
  // Both partitions restored: the sink is consuming.
  await waitFor('sink-email to restore both partitions', () => (sink.output().match(/partition restored/g) ?? []).length >= 2, 60_000);
  return { ...sink, metrics: async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text() };
}

async function stopSink(sink: Sink): Promise<void> {
  sink.child.kill('SIGTERM');
  expect(await sink.exited).toBe(0);
}

interface InboxMail {
  id: string;
  subject: string;
  /** The SMTP envelope; MailDev reloads mails of an earlier run from its folder with an empty one (`to: ""`). */
  envelope: { to: Array<{ address: string }> | string };
}

/** Envelope recipients of a mail of this run (a reloaded one has none: it is not ours). */
const envelopeTo = (m: InboxMail): string[] => (Array.isArray(m.envelope.to) ? m.envelope.to.map((t) => t.address) : []);

/** MailDev's inbox: every message whose envelope goes to `recipient`, parsed from its raw source. */
async function inbox(recipient: string): Promise<ParsedMail[]> {
  const all = (await (await fetch(`${inboxUrl}/email`)).json()) as InboxMail[];
  const mine = all.filter((m) => envelopeTo(m).includes(recipient));
  return Promise.all(mine.map(async (m) => simpleParser(Buffer.from(await (await fetch(`${inboxUrl}/email/${m.id}/source`)).arrayBuffer()), { keepCidLinks: true })));
}

async function envelopes(): Promise<string[]> {
  const all = (await (await fetch(`${inboxUrl}/email`)).json()) as InboxMail[];
  return all.flatMap(envelopeTo);
}

async function waitForMail(recipient: string, count: number, timeoutMs = 30_000): Promise<ParsedMail[]> {
  let mails: ParsedMail[] = [];
  await waitFor(`${count} mail(s) to ${recipient}`, async () => (mails = await inbox(recipient)).length >= count, timeoutMs);
  return mails.sort((a, b) => (a.date?.getTime() ?? 0) - (b.date?.getTime() ?? 0));
}

let produce: (alert: AlertEvent) => Promise<void>;
let disconnect: () => Promise<void>;

function alert(machineId: string, over: Partial<AlertEvent>): AlertEvent {
  const now = Date.now();
  return {
    drivers: [],
    alertId: uniqueName('alert'),
    dedupKey: `${machineId}/tempA/FORECAST_BREACH`,
    machineId,
    status: 'FIRING',
    severity: 'CRITICAL',
    kind: 'FORECAST_BREACH',
    feature: 'tempA',
    windowEnd: now - (now % 3_600_000),
    predictedBreachAt: now + 6 * 3_600_000,
    score: 82.5,
    threshold: 80,
    modelName: 'linear-forecaster',
    modelVersion: 'v7',
    message: 'Bearing temperature <script>alert(1)</script> heads for its limit',
    createdAt: now,
    ...over,
  };
}

beforeAll(async () => {
  await migrate({ url: env.databaseUrl, schema, writerPassword: process.env.PDM_WRITER_PASSWORD, analystPassword: process.env.PDM_ANALYST_PASSWORD });
  // A day of hourly means for machine A: the chart's line.
  const hour = 3_600_000;
  const end = Date.now() - (Date.now() % hour);
  await makeDayPartitions(pool, schema, daysBetween(end - 24 * hour, end));
  for (let i = 24; i >= 1; i--) {
    const start = end - i * hour;
    await pool.query(
      `INSERT INTO ${schema}.window_features (machine_id, window_start, window_end, count, current_count, accx_count, accy_count, accz_count, tempa_count, tempb_count, tempa_mean)
       VALUES ($1, to_timestamp($2 / 1000.0), to_timestamp($3 / 1000.0), 1800, 0, 0, 0, 0, 1800, 0, $4) ON CONFLICT DO NOTHING`,
      [machineA, start, start + hour, 60 + (24 - i) * 0.6],
    );
  }
  const writer = await openAlertsWriter(connection, env.registryUrl, `${prefix}${TOPICS.alerts}`);
  produce = (a) => writer.write(a);
  disconnect = () => writer.close();
});
afterAll(() => disconnect?.());

const rows = async (machineId: string) =>
  (await pool.query<{ transition: string; recipient: string; outcome: string; attempts: number }>(`SELECT transition, recipient, outcome, attempts FROM ${schema}.notifications WHERE machine_id = $1 ORDER BY claimed_at`, [machineId])).rows;

describe('pdmctl run sink-email', () => {
  const firingA = alert(machineA, {});
  const firingB = alert(machineB, { severity: 'WARNING', feature: 'current', predictedBreachAt: null, kind: 'ANOMALY', message: 'Current looks unusual' });

  test('a FIRING and then a RESOLVED alert: two mails to the roster\'s recipient, with text, HTML and an inline PNG chart', async () => {
    const sink = await startSink({ PDM_EMAIL_GROUP_ID: uniqueName('semail-g1') });
    try {
      await produce(firingA);
      await produce(firingB);
      const [fired] = await waitForMail(recipientA, 1);
      await produce(alert(machineA, { alertId: uniqueName('alert'), status: 'RESOLVED', severity: 'INFO', message: 'tempA is back to normal' }));
      const mails = await waitForMail(recipientA, 2);
      expect(mails).toHaveLength(2);
      const [, resolved] = mails;
      await waitForMail(recipientB, 1);

      const flatId = `lathe-${uid} Bcc: evil-${uid}@evil.example`;
      expect(fired!.subject).toBe(`[CRITICAL] Firing: ${flatId} tempA forecast breach predicted at ${new Date(firingA.predictedBreachAt!).toISOString().slice(0, 16).replace('T', ' ')} UTC (linear-forecaster v7)`);
      expect(resolved!.subject).toBe(`[INFO] Resolved: ${flatId} tempA forecast breach (linear-forecaster v7)`);
      // The injected Bcc stayed text in the subject: no header, no recipient.
      expect(fired!.bcc).toBeUndefined();
      expect(fired!.headers.has('bcc')).toBe(false);
      expect(await envelopes()).not.toContain(`evil-${uid}@evil.example`);
      expect((fired!.to as { value: Array<{ address: string }> }).value.map((v) => v.address)).toEqual([recipientA]);

      for (const part of [fired!.text!, fired!.html as string]) {
        for (const needle of ['tempA', 'CRITICAL', 'linear-forecaster v7', `https://grafana.example/d/pdm-machine?var-machine=lathe-${uid}%0D%0ABcc`, 'https://wiki.example/runbooks/FORECAST_BREACH/tempA']) expect(part).toContain(needle);
      }
      expect(fired!.html).not.toContain('<script>');
      expect(fired!.html).toContain('&lt;script&gt;');
      const chart = fired!.attachments.find((a) => a.contentType === 'image/png');
      expect(chart).toBeDefined();
      expect(chart!.contentDisposition).toBe('inline');
      expect(chart!.related).toBe(true);
      expect(fired!.html).toContain(`cid:${chart!.cid}`);
      expect(chart!.content.subarray(1, 4).toString()).toBe('PNG');

      expect((await rows(machineA)).map((r) => [r.transition.split(':')[0], r.recipient, r.outcome])).toEqual([
        ['FIRING', recipientA, 'sent'],
        ['RESOLVED', recipientA, 'sent'],
      ]);
      expect(await sink.metrics()).toMatch(/pdm_email_mails_total\{outcome="sent",service="sink-email"\} 3/);
    } finally {
      await stopSink(sink);
    }
  });

  test('replaying the same alerts with a new consumer group sends no second mail', async () => {
    const before = { a: (await inbox(recipientA)).length, b: (await inbox(recipientB)).length };
    expect(before).toEqual({ a: 2, b: 1 });
    const sink = await startSink({ PDM_EMAIL_GROUP_ID: uniqueName('semail-g2') });
    try {
      // The rebuilt state decides its notifications again (B still fires; A's too, when its FIRING
      // and RESOLVED came further apart than the group wait), and the log finds each one sent.
      await waitFor('the replay to find its notifications sent already', async () => {
        const metrics = await sink.metrics();
        return /pdm_email_mails_total\{outcome="duplicate",service="sink-email"\} [1-9]/.test(metrics) && /pdm_email_pending_notifications\{service="sink-email"\} 0/.test(metrics);
      }, 30_000);
      await sleep(2000);
      expect({ a: (await inbox(recipientA)).length, b: (await inbox(recipientB)).length }).toEqual(before);
      expect(await sink.metrics()).not.toMatch(/pdm_email_mails_total\{outcome="sent"/);
      expect((await rows(machineB)).map((r) => r.outcome)).toEqual(['sent']);
    } finally {
      await stopSink(sink);
    }
  });

  test('with the SMTP server unreachable for a while, the failure is recorded and the mail arrives after', async () => {
    const smtp = new URL(env.smtpUrl);
    const proxy = new TcpProxy(smtp.hostname, Number(smtp.port));
    const port = await proxy.start(0);
    const sink = await startSink({ PDM_EMAIL_GROUP_ID: uniqueName('semail-g3'), SMTP_URL: `smtp://127.0.0.1:${port}` });
    try {
      await proxy.stop();
      await produce(alert(machineC, { dedupKey: `${machineC}/accX`, feature: 'accX' }));
      await waitFor('a failed send', async () => /pdm_email_mails_total\{outcome="failed",service="sink-email"\} [1-9]/.test(await sink.metrics()), 30_000);
      expect((await rows(machineC)).map((r) => r.outcome)).toEqual(['failed']);
      const ready = await sink.metricsPort();
      expect((await fetch(`http://127.0.0.1:${ready}/ready`)).status).toBe(503);
      expect(await inbox(recipientC)).toHaveLength(0);

      await sleep(3000); // down for a while: the retries keep failing
      await proxy.start(port);
      const mails = await waitForMail(recipientC, 1, 30_000);
      expect(mails[0]!.subject).toContain(`${machineC} accX forecast breach`);
      await waitFor('the notification to be logged as sent', async () => (await rows(machineC))[0]?.outcome === 'sent', 10_000);
      const [row] = await rows(machineC);
      expect(row!.attempts).toBeGreaterThanOrEqual(2);
      await sleep(2000);
      expect(await inbox(recipientC)).toHaveLength(1);
      expect((await fetch(`http://127.0.0.1:${ready}/ready`)).status).toBe(200);
    } finally {
      await stopSink(sink);
      await proxy.stop();
    }
  });
});

/** A TCP forwarder to the real SMTP port that the test can take down and bring back on the same port. */
class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  start(port: number): Promise<number> {
    const server = net.createServer((client) => {
      const upstream = net.connect({ host: this.host, port: this.port });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    });
  }

  stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}
