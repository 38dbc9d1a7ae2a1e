import { z } from 'zod';
import { parseDuration } from './duration';
import { PdmError } from './errors';

/**
 * Reads a zod object schema from environment variables, once, and freezes the result. A bad
 * value fails with the variable's name and what was wrong, so a typo shows at start, not later.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): Readonly<z.infer<S>> {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    input[key] = value === '' ? undefined : value;
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new PdmError('CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return Object.freeze(result.data);
}

/** A TCP port from an environment string. */
export const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);

/** A duration such as `5m` or `7d` from an environment string, as milliseconds (`0s` only with `allowZero`). */
export const duration = (fallback: string, options: { allowZero?: boolean } = {}) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      try {
        return parseDuration(value, options);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });
