import pino, { type Logger } from 'pino';
import { parseEnv } from './config';
import { serviceSettings } from './shared.settings';

export type { Logger };

/**
 * The one structured logger. Services log JSON lines; components take a child logger bound to
 * their name (and topic/partition/offset where they handle records). Secrets never reach it:
 * connection strings are logged through `redactUrl`.
 */
export function createLogger(options: { level?: string; name?: string; stderr?: boolean } = {}): Logger {
  return pino(
    {
      level: parseEnv(serviceSettings).PDM_LOG_LEVEL ?? options.level ?? 'info',
      base: { service: options.name ?? 'pdm' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['password', '*.password', 'secret', '*.secret'], censor: '[redacted]' },
    },
    pino.destination({ fd: options.stderr ? 2 : 1, sync: true }),
  );
}

/** Logger of a command a person runs: warnings and errors only (PDM_LOG_LEVEL overrides), on stderr. */
export const commandLogger = (name: string): Logger => createLogger({ name, level: 'warn', stderr: true });

/** Replaces the password in a URL (postgres://user:pw@host) with `***`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}
