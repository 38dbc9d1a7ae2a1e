import { z } from 'zod';
import { duration, parseEnv } from '../lib/config';
import { PdmError } from '../lib/errors';
import { followerSettings, postgresSettings } from '../lib/shared.settings';

/** The read API's settings, from the environment, validated once and frozen. */
export const schema = z.object({
  DATABASE_FOLLOWER_URL: followerSettings.shape.DATABASE_FOLLOWER_URL,
  PDM_ANALYST_PASSWORD: postgresSettings.shape.PDM_ANALYST_PASSWORD,
  PDM_POSTGRES_SCHEMA: postgresSettings.shape.PDM_POSTGRES_SCHEMA,
  PDM_API_KEY: z.string().min(16, 'must be at least 16 characters (openssl rand -hex 24 makes one)').optional()
    .describe('When set, every request but /health, /ready and /metrics needs `Authorization: Bearer <key>` or `X-API-Key: <key>`.'),
  PDM_API_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(4).describe('Most connections to the follower at once; requests beyond wait for one.'),
  PDM_API_STATEMENT_TIMEOUT: duration('10s').describe('A query slower than this is cancelled and the request answered 503.'),
  PDM_API_CONNECT_TIMEOUT: duration('5s').describe('A connection attempt to the follower that takes longer fails (503, and /ready says why).'),
});

export interface ApiSettings {
  /** The follower, with pdm_analyst's login when its password is set. */
  followerUrl: string;
  role: string;
  schema: string;
  /** undefined: no key is asked for. */
  apiKey?: string;
  poolSize: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
}

function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch (cause) {
    throw new PdmError('CONFIG_INVALID', 'invalid configuration:\n  DATABASE_FOLLOWER_URL: not a URL', { cause });
  }
}

export function apiSettings(env: NodeJS.ProcessEnv = process.env): Readonly<ApiSettings> {
  const raw = parseEnv(schema, env);
  const url = parseUrl(raw.DATABASE_FOLLOWER_URL);
  // The local stack's follower URL carries the owner's login; the API reads as the analyst.
  if (raw.PDM_ANALYST_PASSWORD) {
    url.username = 'pdm_analyst';
    url.password = encodeURIComponent(raw.PDM_ANALYST_PASSWORD);
  }
  return Object.freeze({
    followerUrl: url.toString(),
    role: decodeURIComponent(url.username),
    schema: raw.PDM_POSTGRES_SCHEMA,
    apiKey: raw.PDM_API_KEY,
    poolSize: raw.PDM_API_POOL_SIZE,
    statementTimeoutMs: raw.PDM_API_STATEMENT_TIMEOUT,
    connectTimeoutMs: raw.PDM_API_CONNECT_TIMEOUT,
  });
}
