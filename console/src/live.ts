import type { ChangeEvent } from '../../api/schemas';
import { backoffDelayMs } from '../../lib/backoff';
import { authHeaders } from './api';
import { keyWanted } from './session';
import { parseChange, SseParser } from './sse';
import { Store } from './store';

/**
 * The live stream: GET /events read with fetch and a streamed body (EventSource cannot send the
 * Authorization header), parsed by sse.ts. On any end, error or silence longer than three
 * heartbeats it reconnects after a doubling delay; the first `change` after a reconnection is
 * taken as news (views compare it with what they last saw, so nothing missed meanwhile is lost).
 */

export type LiveState = 'connected' | 'reconnecting';

export const liveState = new Store<LiveState>('reconnecting');
/** The newest `change` the server sent; views watch it through useChanges (hooks.ts). */
export const latestChange = new Store<ChangeEvent | undefined>(undefined);

/** The server's heartbeat is every 15 s: three missed mean the connection is dead without having said so. */
const SILENCE_MS = 45_000;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

export interface LiveConnection {
  close(): void;
}

export function connectLive(url = '/events'): LiveConnection {
  let closed = false;
  let attempt = 0;
  let controller: AbortController | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const run = async (): Promise<void> => {
    controller = new AbortController();
    const abort = controller;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const feed = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => abort.abort(), SILENCE_MS);
    };
    const parser = new SseParser();
    try {
      feed();
      const res = await fetch(url, { headers: { Accept: 'text/event-stream', ...authHeaders() }, cache: 'no-store', signal: abort.signal });
      if (res.status === 401) {
        // No retry with the same key: the key dialog's answer reconnects (App watches authEpoch).
        keyWanted.set(true);
        closed = true;
        return;
      }
      if (!res.ok || !res.body) throw new Error(`GET /events answered ${res.status}`);
      liveState.set('connected');
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        feed();
        for (const event of parser.push(value)) {
          if (event.event !== 'change') continue;
          const change = parseChange(event.data);
          if (change) latestChange.set(change);
          attempt = 0;
        }
      }
    } catch {
      // Aborted (closed, or silent too long), refused, or the network dropped: reconnect below.
    } finally {
      clearTimeout(watchdog);
    }
    if (closed) return;
    liveState.set('reconnecting');
    attempt += 1;
    const delay = Math.max(parser.retryMs ?? 0, backoffDelayMs(attempt, FIRST_RETRY_MS, MAX_RETRY_MS));
    retryTimer = setTimeout(() => void run(), delay * (0.8 + Math.random() * 0.4));
  };

  void run();
  return {
    close() {
      closed = true;
      clearTimeout(retryTimer);
      controller?.abort();
    },
  };
}
