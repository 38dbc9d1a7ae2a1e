import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The API key check. The key a request presents is compared in constant time: both sides are
 * hashed first, so neither their contents nor their lengths show in how long a refusal takes.
 */

/** The key a request presents: `Authorization: Bearer <key>` or `X-API-Key: <key>`; undefined when neither is there. */
export function presentedKey(headers: { authorization?: string; 'x-api-key'?: string | string[] }): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1];
  if (bearer !== undefined) return bearer;
  const header = headers['x-api-key'];
  return typeof header === 'string' && header !== '' ? header.trim() : undefined;
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** A check of presented keys against `expected`, its digest computed once. */
export function keyChecker(expected: string): (presented: string | undefined) => boolean {
  const want = digest(expected);
  return (presented) => presented !== undefined && timingSafeEqual(digest(presented), want);
}
