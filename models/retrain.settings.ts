import { z } from 'zod';
import { parseEnv } from '../lib/config';
import { parseDuration } from '../lib/duration';
import { PdmError } from '../lib/errors';

/**
 * `pdmctl run retrain`'s settings, from the environment. The topic (`PDM_TOPIC_PREFIX`) and the
 * model store (`MODELS_DIR`) are the shared ones, read where `pdmctl train` reads them.
 */
export const schema = z.object({
  PDM_RETRAIN_EVERY: z.string().default('off')
    .describe('How often the fleet models retrain from the compacted window topic (`24h`, `7d`); unset or `off`: never, and `pdmctl run retrain` refuses to start.'),
  PDM_RETRAIN_MIN_WINDOWS: z.coerce.number().int().min(1).default(500)
    .describe('A run that finds fewer windows than this on the topic trains nothing (outcome `skipped_too_few_windows`).'),
  PDM_RETRAIN_KIND: z.enum(['both', 'forecaster', 'anomaly']).default('both').describe('Which models a run retrains: `both`, `forecaster` or `anomaly`.'),
});

export type RetrainKind = z.infer<typeof schema>['PDM_RETRAIN_KIND'];

export interface RetrainSettings {
  everyMs: number;
  minWindows: number;
  kind: RetrainKind;
}

const isOff = (value: string | undefined): boolean => value === undefined || value.trim() === '' || value.trim().toLowerCase() === 'off';

/** Whether retraining is switched on (`PDM_RETRAIN_EVERY` set and not `off`); a bad value is reported by `retrainSettings`. */
export const retrainEnabled = (env: NodeJS.ProcessEnv = process.env): boolean => !isOff(env.PDM_RETRAIN_EVERY);

/** The settings, validated and frozen; retraining switched off is an error here, with how to switch it on. */
export function retrainSettings(env: NodeJS.ProcessEnv = process.env): Readonly<RetrainSettings> {
  const raw = parseEnv(schema, env);
  if (isOff(raw.PDM_RETRAIN_EVERY)) {
    const how = 'set PDM_RETRAIN_EVERY to how often the fleet models retrain from the window topic (for example PDM_RETRAIN_EVERY=24h)';
    throw new PdmError('CONFIG_INVALID', `retraining is off: ${how}`);
  }
  let everyMs: number;
  try {
    everyMs = parseDuration(raw.PDM_RETRAIN_EVERY);
  } catch (err) {
    throw new PdmError('CONFIG_INVALID', `invalid configuration:\n  PDM_RETRAIN_EVERY: ${(err as Error).message}`, { cause: err });
  }
  if (everyMs < 1000) throw new PdmError('CONFIG_INVALID', 'invalid configuration:\n  PDM_RETRAIN_EVERY: must be at least 1s');
  return Object.freeze({ everyMs, minWindows: raw.PDM_RETRAIN_MIN_WINDOWS, kind: raw.PDM_RETRAIN_KIND });
}
