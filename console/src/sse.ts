import type { ChangeEvent } from '../../api/schemas';

/**
 * Server-sent events as the HTML standard parses them, over text that arrives in arbitrary
 * chunks. Pure: live.ts feeds it what fetch's body reader decodes. (The console reads GET /events
 * with fetch rather than EventSource because EventSource cannot send an Authorization header.)
 *
 * Lines end in \n, \r\n or \r; a blank line dispatches the event gathered so far; a line starting
 * with ':' is a comment (the server's heartbeat); `retry` sets the reconnection delay.
 */

export interface SseEvent {
  /** `message` when the server named none. */
  event: string;
  data: string;
  id?: string;
}

export class SseParser {
  private partial = '';
  /** The previous chunk ended in \r: a \n opening this one belongs to that line end. */
  private afterCr = false;
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  /** The server's `retry:` in milliseconds, once it has sent one. */
  retryMs: number | undefined;

  /** The events completed by `chunk`, in order. */
  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (this.afterCr && text.startsWith('\n')) text = text.slice(1);
    this.afterCr = text.endsWith('\r');
    const lines = (this.partial + text).split(/\r\n|\r|\n/);
    this.partial = lines.pop() ?? '';
    const events: SseEvent[] = [];
    for (const line of lines) {
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const event =
      this.data.length === 0 ? undefined : { event: this.event || 'message', data: this.data.join('\n'), ...(this.id !== undefined ? { id: this.id } : {}) };
    this.event = '';
    this.data = [];
    return event;
  }
}

const isTime = (value: unknown): value is string | null => value === null || (typeof value === 'string' && !Number.isNaN(Date.parse(value)));

/** The data of a `change` event, or undefined when it is not one (the console then ignores it). */
export function parseChange(data: string): ChangeEvent | undefined {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (json === null || typeof json !== 'object') return undefined;
  const { alerts, windows, actions } = json as Record<string, unknown>;
  if (!isTime(alerts) || !isTime(windows) || !isTime(actions)) return undefined;
  return { alerts, windows, actions };
}

export type ChangeKind = keyof ChangeEvent;

/** What moved from `before` to `after`: everything when there was no `before` (a first event, or one after a reconnection). */
export function movedKinds(before: ChangeEvent | undefined, after: ChangeEvent): Set<ChangeKind> {
  const kinds: ChangeKind[] = ['alerts', 'windows', 'actions'];
  return new Set(before === undefined ? kinds : kinds.filter((kind) => before[kind] !== after[kind]));
}
