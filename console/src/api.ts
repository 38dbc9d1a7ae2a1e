import type { Accepted, ErrorBody } from '../../api/schemas';
import { withParams } from './route';
import { apiKey, keyWanted } from './session';

/**
 * The console's only door to the API: same origin, JSON, the key as `Authorization: Bearer` when
 * there is one. A 401 opens the key dialog; every other error becomes an ApiProblem carrying the
 * API's own code and sentence, which the views show as they are.
 */

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems: ReadonlyArray<{ parameter: string; message: string }> = [],
  ) {
    super(message);
    this.name = 'ApiProblem';
  }
}

export function authHeaders(): Record<string, string> {
  const key = apiKey.get();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function problemOf(res: Response): Promise<ApiProblem> {
  let body: Partial<ErrorBody> | undefined;
  try {
    body = (await res.json()) as Partial<ErrorBody>;
  } catch {
    // Not JSON: a proxy's page, or the server gone mid-answer.
  }
  const code = body?.error ?? `http_${res.status}`;
  const message = body?.message ?? `${res.status} ${res.statusText || 'error'}`;
  return new ApiProblem(res.status, code, message, body?.problems ?? []);
}

async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: { Accept: 'application/json', ...authHeaders(), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiProblem(0, 'unreachable', 'the API does not answer: is `pdmctl run api` running?');
  }
  if (res.status === 401) keyWanted.set(true);
  if (!res.ok) throw await problemOf(res);
  return (await res.json()) as T;
}

export const getJson = <T>(path: string, params?: Record<string, string | number | undefined | null>, signal?: AbortSignal): Promise<T> =>
  request<T>('GET', withParams(path, params), undefined, signal);

export const postJson = (path: string, body: Record<string, unknown>): Promise<Accepted> => request<Accepted>('POST', path, body);

/** What to show for an error: the API's sentence, with the parameters at fault. */
export function problemText(err: unknown): string {
  if (err instanceof ApiProblem) {
    const detail = err.problems.length > 1 ? ` (${err.problems.map((p) => `${p.parameter}: ${p.message}`).join('; ')})` : '';
    return `${err.message}${detail}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export const isAbort = (err: unknown): boolean => (err as Error | undefined)?.name === 'AbortError';

/** Every page of a list: `fetchPage(cursor)` until its nextCursor is null, at most `maxPages`. */
export async function allPages<T>(fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>, maxPages = 10): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < maxPages; n++) {
    const page = await fetchPage(cursor);
    items.push(...page.items);
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  return items;
}
