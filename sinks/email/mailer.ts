import { setTimeout as sleep } from 'node:timers/promises';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import { PdmError } from '../../lib/errors';

/**
 * Sending over SMTP with nodemailer: a pool of connections, TLS and authentication from the URL
 * (`smtps://user:pass@host:465` for implicit TLS; `smtp://...` upgrades with STARTTLS when the
 * server offers it, and must when SMTP_REQUIRE_TLS is set). A send that fails is tried again
 * with exponential backoff, `attempts` times in all; then it throws, and the caller decides
 * (email.processor.ts records the failure and retries the mail later).
 */

export type MailerErrorCode = 'EMAIL_SEND_FAILED';

export class MailerError extends PdmError<MailerErrorCode> {
  constructor(code: MailerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'MailerError';
  }
}

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  attachments: Array<{ cid: string; filename: string; content: Buffer; contentType: string }>;
}

export interface MailerOptions {
  from: string;
  attempts: number;
  backoffMs: number;
  maxBackoffMs?: number;
  /** Waits between attempts (tests pass a fast one). */
  sleep?: (ms: number) => Promise<unknown>;
}

export function smtpTransport(url: string, options: { requireTls: boolean; rejectUnauthorized: boolean; maxConnections: number }): Transporter<SMTPPool.SentMessageInfo> {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'smtps:';
  if (!secure && parsed.protocol !== 'smtp:') throw new PdmError('CONFIG_INVALID', `SMTP_URL: protocol ${parsed.protocol} is not smtp: or smtps:`);
  return nodemailer.createTransport({
    pool: true,
    maxConnections: options.maxConnections,
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : secure ? 465 : 25,
    secure,
    requireTLS: options.requireTls,
    auth: parsed.username ? { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) } : undefined,
    tls: { rejectUnauthorized: options.rejectUnauthorized },
    // An unreachable server should fail an attempt in seconds, so backoff (not a hung socket) paces retries.
    connectionTimeout: 5_000,
    greetingTimeout: 5_000,
    socketTimeout: 20_000,
  });
}

export class Mailer {
  constructor(
    private readonly transport: Transporter<SMTPPool.SentMessageInfo>,
    private readonly options: MailerOptions,
  ) {}

  /** Sends, retrying with backoff; resolves with the Message-ID, or throws MailerError after the last attempt. */
  async send(mail: OutgoingMail, onRetry?: (attempt: number, error: Error) => void): Promise<{ messageId: string; attempts: number }> {
    const wait = this.options.sleep ?? sleep;
    let last: unknown;
    for (let attempt = 1; attempt <= this.options.attempts; attempt++) {
      try {
        const info = await this.transport.sendMail({ from: this.options.from, ...mail });
        return { messageId: info.messageId, attempts: attempt };
      } catch (err) {
        last = err;
        if (attempt === this.options.attempts) break;
        onRetry?.(attempt, err as Error);
        await wait(Math.min(this.options.backoffMs * 2 ** (attempt - 1), this.options.maxBackoffMs ?? 30_000));
      }
    }
    throw new MailerError('EMAIL_SEND_FAILED', `SMTP send to ${mail.to} failed after ${this.options.attempts} attempt(s): ${(last as Error)?.message ?? String(last)}`, { cause: last });
  }

  close(): void {
    this.transport.close();
  }
}
