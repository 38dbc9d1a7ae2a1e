import { refuseRecord, type DeadLetter } from '../../lib/dead-letter';
import { errorMessage, PdmError } from '../../lib/errors';
import type { IncomingRecord } from '../../lib/kafka/runner';
import type { TopicBatch } from '../../lib/kafka/producer';
import type { Logger } from '../../lib/logger';
import { metricOnce, Counter, Gauge, Histogram, stageMetrics, type Registry, type StageMetrics } from '../../lib/metrics';
import { SerdeError, type Decoder } from '../../lib/serde';
import type { AlertEvent } from '../../schemas';
import { chartSvg, renderPng } from './chart';
import type { EmailStore } from './email.store';
import { applyAlert, emptyState, pendingCount, retryLater, tick, type LifecycleConfig, type LifecycleState, type Mail, type Routing } from './lifecycle';
import type { Mailer, OutgoingMail } from './mailer';
import { renderMail, type LinkTemplates } from './render';

/**
 * The email sink around the pure lifecycle (lifecycle.ts). Per partition of pdm.alerts.v1 (all
 * of one machine's alerts are in one partition) it keeps the lifecycle state, rebuilt when the
 * partition is assigned by reading the partition from its start: alerts are few and kept a year,
 * so the topic is its own changelog, and a restart knows what is firing, since when. A wall-clock
 * tick turns the state into mails; each mail is claimed in the notification log, sent, and its
 * outcome recorded. The log (not the consumer offset) is what keeps a mail from going twice.
 */

export const STAGE = 'sink-email';

export interface EmailProcessorOptions {
  lifecycle: LifecycleConfig;
  routing: Routing;
  links: LinkTemplates;
  chartHours: number;
  retryAfterMs: number;
  inputTopic: string;
  deadLetterTopic: string;
  decodeAlert: Decoder<AlertEvent>;
  store: EmailStore;
  mailer: Pick<Mailer, 'send'>;
  clock: () => number;
  metrics: Registry;
  logger: Logger;
}

interface PartitionTask {
  state: LifecycleState;
  /** Records before this offset were read by the restore: a redelivery must not apply them twice. */
  restoredUpTo: bigint;
}

/** Why a record can't be used: its dead-letter reason. */
interface Refusal {
  refused: true;
  code: string;
  message: string;
}

export type MailOutcome = 'sent' | 'failed' | 'duplicate' | 'deferred';

function emailMetrics(registry: Registry, tasks: Map<number, PartitionTask>) {
  const metrics = {
    mails: metricOnce(registry, 'pdm_email_mails_total', () => new Counter({ name: 'pdm_email_mails_total', help: 'Mails the email sink decided, by outcome (sent; failed after every attempt; duplicate: already sent, not sent again; deferred: the notification log was unreachable).', labelNames: ['outcome'], registers: [registry] })),
    sendSeconds: metricOnce(registry, 'pdm_email_send_duration_seconds', () => new Histogram({ name: 'pdm_email_send_duration_seconds', help: 'Time to hand one mail to the SMTP server, retries included.', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers: [registry] })),
    retries: metricOnce(registry, 'pdm_email_send_retries_total', () => new Counter({ name: 'pdm_email_send_retries_total', help: 'SMTP attempts that failed and were tried again.', registers: [registry] })),
    pending: metricOnce(registry, 
      'pdm_email_pending_notifications',
      () =>
        new Gauge({
          name: 'pdm_email_pending_notifications',
          help: 'Notifications waiting: in a group wait or a silence, held by the rate limit, or to be retried.',
          registers: [registry],
          collect() {
            let n = 0;
            for (const task of tasks.values()) n += pendingCount(task.state);
            this.set(n);
          },
        }),
    ),
  };
  // The outcomes an alert watches exist from the start: increase() sees the first failure only
  // as a step up from a 0 scraped before it (a series that appears at 1 has increased by nothing).
  for (const outcome of ['failed', 'deferred'] satisfies MailOutcome[]) metrics.mails.inc({ outcome }, 0);
  return metrics;
}

export function alertProblem(alert: AlertEvent): string | undefined {
  if (alert.machineId.length === 0) return 'machineId is empty';
  if (alert.dedupKey.length === 0) return 'dedupKey is empty';
  if (!Number.isSafeInteger(alert.createdAt)) return `createdAt ${alert.createdAt} is not a time`;
  return undefined;
}

export class EmailProcessor {
  private readonly tasks = new Map<number, PartitionTask>();
  private readonly restoring = new Map<number, PartitionTask>();
  private readonly stage: StageMetrics;
  private readonly metrics: ReturnType<typeof emailMetrics>;
  private ticking: Promise<void> | undefined;
  /** Why the last delivery failed, until one succeeds: readiness reports it. */
  lastFailure: string | undefined;

  constructor(private readonly options: EmailProcessorOptions) {
    this.stage = stageMetrics(options.metrics);
    this.metrics = emailMetrics(options.metrics, this.tasks);
  }

  /**
   * Applies history read from the partition (no dead letters: process() writes those), into a
   * state the tick does not see until `open`: a half-restored partition mails nothing.
   */
  async restore(partition: number, records: IncomingRecord[]): Promise<void> {
    let task = this.restoring.get(partition);
    if (!task) this.restoring.set(partition, (task = { state: emptyState(), restoredUpTo: 0n }));
    for (const record of records) {
      const alert = await this.decode(record).catch(() => undefined);
      if (alert && !('refused' in alert)) applyAlert(task.state, alert, this.options.clock(), this.options.lifecycle);
    }
  }

  /** The partition's history is read up to `endOffset`: its state is live, and mails from the next tick. */
  open(partition: number, restored: { endOffset: bigint }): { endOffset: string } {
    const task = this.restoring.get(partition) ?? { state: emptyState(), restoredUpTo: 0n };
    this.restoring.delete(partition);
    task.restoredUpTo = restored.endOffset;
    this.tasks.set(partition, task);
    return { endOffset: restored.endOffset.toString() };
  }

  close(partition: number): void {
    this.restoring.delete(partition);
    this.tasks.delete(partition);
  }

  /** One batch: alerts into the state (no mail yet: that is the tick's), bad records to the dead-letter topic. */
  async process(partition: number, records: IncomingRecord[]): Promise<TopicBatch[]> {
    const task = this.tasks.get(partition);
    if (!task) throw new PdmError('STAGE_NOT_OPEN', `partition ${partition} is not open in the email sink`);
    const deadLetters: DeadLetter[] = [];
    for (const record of records) {
      this.stage.recordsIn.inc({ stage: STAGE });
      let decoded: AlertEvent | Refusal;
      try {
        decoded = await this.decode(record);
      } catch (err) {
        if (err instanceof SerdeError && err.poison) decoded = { refused: true, code: err.code, message: err.message };
        else throw err; // the registry is down: the batch is retried
      }
      if ('refused' in decoded) {
        const { code, message } = decoded;
        deadLetters.push(refuseRecord({ record, topic: this.options.inputTopic, partition, stage: STAGE, code, message, failedAtMs: this.options.clock(), metrics: this.stage, logger: this.options.logger, what: 'alert' }));
        continue;
      }
      if (BigInt(record.offset) < task.restoredUpTo) continue;
      applyAlert(task.state, decoded, this.options.clock(), this.options.lifecycle);
    }
    if (deadLetters.length > 0) this.stage.recordsOut.inc({ stage: STAGE, topic: this.options.deadLetterTopic }, deadLetters.length);
    return [{ topic: this.options.deadLetterTopic, records: deadLetters }];
  }

  /** The wall-clock step over every open partition; one at a time (a slow SMTP server makes ticks wait, not pile up). */
  tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = (async () => {
      for (const [partition, task] of this.tasks) {
        const mails = tick(task.state, this.options.clock(), this.options.lifecycle, this.options.routing);
        for (const mail of mails) await this.deliver(partition, task, mail);
      }
    })().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  /** Waits for a tick in flight (stop drains it). */
  async drain(): Promise<void> {
    await this.ticking;
  }

  private retry(task: PartitionTask, mail: Mail): void {
    retryLater(task.state, mail, this.options.clock() + this.options.retryAfterMs);
  }

  private async deliver(partition: number, task: PartitionTask, mail: Mail): Promise<void> {
    const { store, clock, logger } = this.options;
    const log = logger.child({ partition, recipient: mail.recipient, machineId: mail.machineId, transitions: mail.notifications.map((n) => `${n.dedupKey} ${n.transition}`) });
    let claimed;
    try {
      claimed = await store.claim(mail, clock());
    } catch (err) {
      this.metrics.mails.inc({ outcome: 'deferred' });
      this.lastFailure = errorMessage(err);
      log.warn({ err }, 'notification log unreachable: the mail waits');
      this.retry(task, mail);
      return;
    }
    if (claimed.length === 0) {
      this.metrics.mails.inc({ outcome: 'duplicate' });
      log.info('already sent: not sent again');
      return;
    }
    const toSend: Mail = { ...mail, notifications: claimed };
    const outgoing = await this.compose(toSend, log);
    const started = clock();
    try {
      const { messageId, attempts } = await this.options.mailer.send(outgoing, (attempt, err) => {
        this.metrics.retries.inc();
        log.warn({ attempt, err: errorMessage(err) }, 'SMTP send failed; trying again');
      });
      this.metrics.sendSeconds.observe((clock() - started) / 1000);
      this.lastFailure = undefined;
      log.info({ messageId, attempts, subject: outgoing.subject }, 'mail sent');
      await this.recordOutcome(toSend, 'sent', { subject: outgoing.subject, messageId }, log);
      // Counted once recorded: whoever sees the count finds the row in pdm.notifications.
      this.metrics.mails.inc({ outcome: 'sent' });
    } catch (err) {
      this.lastFailure = errorMessage(err);
      await this.recordOutcome(toSend, 'failed', { subject: outgoing.subject, error: errorMessage(err) }, log);
      this.metrics.mails.inc({ outcome: 'failed' });
      log.error({ err: errorMessage(err), retryInMs: this.options.retryAfterMs }, 'mail not sent; recorded as failed and kept for a later try');
      this.retry(task, toSend);
    }
  }

  private async recordOutcome(mail: Mail, outcome: 'sent' | 'failed', details: { subject: string; messageId?: string; error?: string }, log: Logger): Promise<void> {
    // A 'sent' that can't be recorded leaves the row 'pending': a restart would send it again
    // (at least once). Try a few times before settling for that.
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        await this.options.store.record(mail.recipient, mail.notifications, outcome, details, this.options.clock());
        return;
      } catch (err) {
        if (attempt === 3) log.error({ err: errorMessage(err), outcome }, 'could not record the outcome in pdm.notifications');
        else await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  }

  private async compose(mail: Mail, log: Logger): Promise<OutgoingMail> {
    const attachments: OutgoingMail['attachments'] = [];
    const cids: Array<string | undefined> = [];
    for (const [i, n] of mail.notifications.entries()) {
      const feature = n.alert.feature;
      if (!feature || mail.digest) {
        cids.push(undefined);
        continue;
      }
      try {
        const points = await this.options.store.recentMeans(n.machineId, feature, this.options.clock() - this.options.chartHours * 3_600_000);
        const forecast = n.alert.predictedBreachAt !== null && n.kind !== 'RESOLVED' ? { tMs: n.alert.predictedBreachAt, value: n.alert.score } : undefined;
        if (points.length === 0 && !forecast) {
          cids.push(undefined);
          continue;
        }
        const png = renderPng(chartSvg({ title: `${n.machineId}: hourly mean of ${feature}`, points, threshold: n.alert.threshold, forecast }));
        const cid = `chart-${i}@pdm-stream`;
        attachments.push({ cid, filename: `chart-${i}.png`, content: png, contentType: 'image/png' });
        cids.push(cid);
      } catch (err) {
        // A mail without its chart beats no mail.
        log.warn({ err: errorMessage(err) }, 'chart left out');
        cids.push(undefined);
      }
    }
    const rendered = renderMail(mail, this.options.links, cids);
    return { to: mail.recipient, ...rendered, attachments };
  }

  /** The alert, or the reason it can't be used (poison); throws when a retry may help. */
  private async decode(record: IncomingRecord): Promise<AlertEvent | Refusal> {
    if (record.value === null) return { refused: true, code: 'EMAIL_NO_VALUE', message: 'the record has no value (a tombstone on the alerts topic)' };
    const alert = await this.options.decodeAlert(record.value);
    const problem = alertProblem(alert);
    return problem ? { refused: true, code: 'EMAIL_ALERT_INVALID', message: problem } : alert;
  }
}
