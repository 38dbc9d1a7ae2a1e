import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import { ChangeFeed, changeFrame } from './events';
import type { ChangeEvent } from './schemas';

/** A response that records what is written to it; `close()` is the client going away. */
class FakeResponse extends EventEmitter {
  written: string[] = [];
  ended = false;
  headers: Record<string, string> = {};
  status(): this {
    return this;
  }
  set(headers: Record<string, string>): this {
    Object.assign(this.headers, headers);
    return this;
  }
  flushHeaders(): void {}
  write(text: string): boolean {
    this.written.push(text);
    return true;
  }
  end(): void {
    this.ended = true;
  }
  close(): void {
    this.emit('close');
  }
  frames(): string[] {
    return this.written.filter((w) => w.startsWith('event: change'));
  }
}

const logger = { debug: jest.fn() } as never;
const change = (alerts: string | null): ChangeEvent => ({ alerts, windows: '2026-01-05T10:00:00.000Z', actions: null });

describe('GET /events (ChangeFeed)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('a listener gets the markers at once, then only when one moves; one poll for all listeners', async () => {
    let current = change('2026-01-05T09:00:00.000Z');
    const changes = jest.fn(async () => current);
    const feed = new ChangeFeed({ changes, logger, pollMs: 1000, heartbeatMs: 15_000 });
    const a = new FakeResponse();
    feed.subscribe(a as unknown as Response);
    await jest.advanceTimersByTimeAsync(0);
    expect(a.headers['Content-Type']).toBe('text/event-stream; charset=utf-8');
    expect(a.frames()).toEqual([changeFrame(current)]);

    const b = new FakeResponse();
    feed.subscribe(b as unknown as Response);
    expect(b.frames()).toEqual([changeFrame(current)]);

    await jest.advanceTimersByTimeAsync(3000);
    expect(a.frames()).toHaveLength(1);
    current = change('2026-01-05T11:00:00.000Z');
    await jest.advanceTimersByTimeAsync(1000);
    expect(a.frames()).toEqual([changeFrame(change('2026-01-05T09:00:00.000Z')), changeFrame(current)]);
    expect(b.frames()).toHaveLength(2);
    expect(changes).toHaveBeenCalledTimes(5);
    feed.stop();
  });

  test('heartbeats keep the stream open; the poll stops when the last listener goes', async () => {
    const changes = jest.fn(async () => change(null));
    const feed = new ChangeFeed({ changes, logger, pollMs: 1000, heartbeatMs: 15_000 });
    const a = new FakeResponse();
    feed.subscribe(a as unknown as Response);
    await jest.advanceTimersByTimeAsync(15_000);
    expect(a.written).toContain(': keep-alive\n\n');
    a.close();
    expect(feed.size).toBe(0);
    const calls = changes.mock.calls.length;
    await jest.advanceTimersByTimeAsync(10_000);
    expect(changes).toHaveBeenCalledTimes(calls);
  });

  test('a failed poll keeps the streams open and says nothing; stop() ends every stream', async () => {
    const changes = jest.fn(async (): Promise<ChangeEvent> => Promise.reject(new Error('the follower is away')));
    const feed = new ChangeFeed({ changes, logger, pollMs: 1000 });
    const a = new FakeResponse();
    feed.subscribe(a as unknown as Response);
    await jest.advanceTimersByTimeAsync(2000);
    expect(a.frames()).toEqual([]);
    expect(a.ended).toBe(false);
    feed.stop();
    expect(a.ended).toBe(true);
  });
});
