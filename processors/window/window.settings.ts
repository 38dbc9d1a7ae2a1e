import { z } from 'zod';
import { duration, parseEnv } from '../../lib/config';
import { PdmError } from '../../lib/errors';
import { processorSettings, type ProcessorSettings } from '../runtime';
import type { WindowProcessorConfig } from './window.processor';
import { topicSettings } from '../../lib/shared.settings';

/** The window processor's own settings, from the environment (the shared ones are in processors/runtime.ts). */
export const schema = z.object({
  PDM_WINDOW_SIZE: duration('1h').describe('Tumbling window size in event time: `1h`, `10m`, down to `1s`.'),
  PDM_WINDOW_GRACE: duration('5m', { allowZero: true })
    .describe("How long after a window's end (in stream time) readings for it are still taken; later ones go to pdm.late-readings.v1."),
  PDM_WINDOW_IDLE_TIMEOUT: z.string().optional()
    .describe('A caught-up partition with no new reading for this long (wall clock) closes its open windows; default: window size plus grace.'),
  PDM_WINDOW_SILENT_AFTER: z.string().optional()
    .describe("A machine with no reading for this long of its partition's stream time counts as silent (`pdm_window_machines{state=\"silent\"}`); default: window size plus grace."),
  PDM_WINDOW_EARLY_UPDATES: z.enum(['true', 'false']).default('false')
    .describe('Also emit running aggregates of open windows with every transaction, marked `pdm.window.final=false`.'),
  PDM_MAX_CLOCK_SKEW: topicSettings.shape.PDM_MAX_CLOCK_SKEW,
  PDM_WINDOW_MAX_EXTRA_CHANNELS: z.coerce.number().int().min(0).default(256)
    .describe('Most distinct extra channel names (SensorReading.extras) a partition takes over its history; a reading bringing one more is dead-lettered.'),
  PDM_WINDOW_GROUP_ID: z.string().optional()
    .describe('Consumer group and transactional-id prefix; its state changelog is `<group>-window-state-changelog`. Default: `<PDM_TOPIC_PREFIX>pdm-window`.'),
});

export interface WindowSettings extends ProcessorSettings {
  window: WindowProcessorConfig;
  groupId: string;
  changelogTopic: string;
}

const SECOND = 1000;

export function windowSettings(env: NodeJS.ProcessEnv = process.env): Readonly<WindowSettings> {
  const shared = processorSettings(env);
  const raw = parseEnv(schema, env);
  const problems: string[] = [];
  if (raw.PDM_WINDOW_SIZE < SECOND || raw.PDM_WINDOW_SIZE % SECOND !== 0) problems.push(`PDM_WINDOW_SIZE: ${raw.PDM_WINDOW_SIZE} ms is not a whole number of seconds, at least 1s`);
  const idle = raw.PDM_WINDOW_IDLE_TIMEOUT === undefined ? raw.PDM_WINDOW_SIZE + raw.PDM_WINDOW_GRACE : parseEnv(z.object({ PDM_WINDOW_IDLE_TIMEOUT: duration('1h') }), env).PDM_WINDOW_IDLE_TIMEOUT;
  if (idle < SECOND) problems.push('PDM_WINDOW_IDLE_TIMEOUT: must be at least 1s');
  const silentAfter = raw.PDM_WINDOW_SILENT_AFTER === undefined ? raw.PDM_WINDOW_SIZE + raw.PDM_WINDOW_GRACE : parseEnv(z.object({ PDM_WINDOW_SILENT_AFTER: duration('1h') }), env).PDM_WINDOW_SILENT_AFTER;
  if (silentAfter < SECOND) problems.push('PDM_WINDOW_SILENT_AFTER: must be at least 1s');
  if (problems.length > 0) throw new PdmError('CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`);
  const groupId = raw.PDM_WINDOW_GROUP_ID ?? `${shared.prefix}pdm-window`;
  return Object.freeze({
    ...shared,
    window: Object.freeze({
      sizeMs: raw.PDM_WINDOW_SIZE,
      graceMs: raw.PDM_WINDOW_GRACE,
      idleTimeoutMs: idle,
      silentAfterMs: silentAfter,
      earlyUpdates: raw.PDM_WINDOW_EARLY_UPDATES === 'true',
      maxAheadMs: raw.PDM_MAX_CLOCK_SKEW,
      maxExtraChannels: raw.PDM_WINDOW_MAX_EXTRA_CHANNELS,
    }),
    groupId,
    changelogTopic: `${groupId}-window-state-changelog`,
  });
}
