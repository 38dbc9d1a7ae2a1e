import type { Response } from 'express';
import type { Logger } from '../lib/logger';
import type { ChangeEvent } from './schemas';

/**
 * GET /events: server-sent events for consoles. One poll of the follower per API process, however
 * many consoles listen (each a few index lookups: the newest alert, window and action), and only
 * while someone listens; every listener gets `change` at once and whenever a marker moves, and a
 * comment every HEARTBEAT_MS so proxies keep the stream open and a dead client is noticed.
 */

export const DEFAULT_CHANGE_POLL_MS = 1000;
export const HEARTBEAT_MS = 15_000;

export interface ChangeFeedOptions {
  changes(): Promise<ChangeEvent>;
  logger: Logger;
  pollMs?: number;
  heartbeatMs?: number;
}

/** The `event: change` frame of `change` (one line of JSON: data lines cannot hold newlines). */
export const changeFrame = (change: ChangeEvent): string => `event: change\ndata: ${JSON.stringify(change)}\n\n`;

export class ChangeFeed {
  private readonly listeners = new Set<Response>();
  private last: ChangeEvent | undefined;
  private lastText = '';
  private poller: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(private readonly options: ChangeFeedOptions) {}

  /** Streams to `res` until the client goes or the feed stops. */
  subscribe(res: Response): void {
    res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    res.write(': pdm-stream changes\nretry: 2000\n\n');
    this.listeners.add(res);
    res.on('close', () => {
      this.listeners.delete(res);
      if (this.listeners.size === 0) this.idle();
    });
    if (this.last && this.poller) res.write(changeFrame(this.last));
    else void this.poll();
    this.poller ??= setInterval(() => void this.poll(), this.options.pollMs ?? DEFAULT_CHANGE_POLL_MS);
    this.heartbeat ??= setInterval(() => this.broadcast(': keep-alive\n\n'), this.options.heartbeatMs ?? HEARTBEAT_MS);
  }

  get size(): number {
    return this.listeners.size;
  }

  /** Ends every stream (the service stops: open streams would hold the HTTP server open). */
  stop(): void {
    for (const res of this.listeners) res.end();
    this.listeners.clear();
    this.idle();
  }

  private idle(): void {
    clearInterval(this.poller);
    clearInterval(this.heartbeat);
    this.poller = this.heartbeat = undefined;
    this.last = undefined;
    this.lastText = '';
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const change = await this.options.changes();
      const text = JSON.stringify(change);
      if (text !== this.lastText && this.listeners.size > 0) {
        this.last = change;
        this.lastText = text;
        this.broadcast(changeFrame(change));
      }
    } catch (err) {
      // The follower is away: the streams stay open and say nothing until it is back.
      this.options.logger.debug({ err: (err as Error).message }, 'change poll failed');
    } finally {
      this.polling = false;
    }
  }

  private broadcast(frame: string): void {
    for (const res of this.listeners) res.write(frame);
  }
}
