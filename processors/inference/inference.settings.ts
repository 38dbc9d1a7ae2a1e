import { z } from 'zod';
import { duration, parseEnv } from '../../lib/config';
import { PdmError } from '../../lib/errors';
import { processorSettings, type ProcessorSettings } from '../runtime';
import type { AlertPolicy } from './alerts';
import { DEFAULT_BASELINE_POLICY, type BaselinePolicy } from './baseline';
import { DEFAULT_LIMIT_POLICY, type LimitPolicy } from './limits';

/** The inference processor's own settings, from the environment (the shared ones are in processors/runtime.ts); inference.service.ts reads them. */
export const schema = z.object({
  PDM_INFERENCE_GROUP_ID: z.string().optional()
    .describe('Consumer group and transactional-id prefix; the changelog is `<group>-inference-state-changelog`. Default `<prefix>pdm-inference`.'),
  PDM_DETECTOR_MODEL: z.string().default('pdm-anomaly').describe('Detector model name under MODELS_DIR (empty: no anomaly alerts).'),
  PDM_FORECASTER_MODEL: z.string().default('pdm-forecaster').describe('Forecaster model name under MODELS_DIR (empty: no forecast alerts).'),
  PDM_ALERT_FOR_WINDOWS: z.coerce.number().int().min(1).optional()
    .describe("Windows in a row a condition must hold before it fires; default: the detector's `consecutive`, else 3."),
  PDM_ALERT_CLEAR_WINDOWS: z.coerce.number().int().min(1).default(3).describe('Windows in a row a firing condition must be clear before it resolves.'),
  PDM_ALERT_WARNING_RATIO: z.coerce.number().gt(1).default(1.5).describe('Anomaly severity: WARNING from this score/threshold ratio.'),
  PDM_ALERT_CRITICAL_RATIO: z.coerce.number().gt(1).default(3)
    .describe('Anomaly severity: CRITICAL from this score/threshold ratio (above PDM_ALERT_WARNING_RATIO).'),
  PDM_BREACH_WARNING_LEAD: duration('6h').describe('Forecast-breach severity: WARNING when the breach is this close.'),
  PDM_BREACH_CRITICAL_LEAD: duration('2h')
    .describe('Forecast-breach severity: CRITICAL when the breach is this close and the point forecast crosses (shorter than PDM_BREACH_WARNING_LEAD).'),
  PDM_LIMITS: z.enum(['learned', 'manifest']).default('learned')
    .describe("Forecast limits: `learned` (each machine's own, from its first assessable lookback; limits.ts) or `manifest` (the fleet's, from the forecaster)."),
  PDM_LIMITS_MARGIN: z.coerce.number().min(0).default(DEFAULT_LIMIT_POLICY.margin)
    .describe('Learned upper limit = max + margin * max(max - median, floor) of the baseline lookback.'),
  PDM_MODEL_RELOAD_INTERVAL: duration('10s').describe('How often MODELS_DIR is checked for a newly promoted version.'),
  PDM_BASELINE: z.enum(['on', 'off']).default('on')
    .describe("The per-machine detector (each machine's own normal, from whatever channels it reports): `on` or `off`."),
  PDM_WARMUP_WINDOWS: z.coerce.number().int().min(0).default(DEFAULT_BASELINE_POLICY.warmupWindows)
    .describe("Windows a machine learns its normal from before it is watched; 0: a day's worth (24 hourly windows, 1,440 of a minute, at least 14)."),
  PDM_DEVIATION_LIMIT: z.coerce.number().positive().default(DEFAULT_BASELINE_POLICY.limit)
    .describe("Control limit of the per-machine detector, in EWMA standard deviations of a channel's residual."),
  PDM_OFF_CURRENT: z.coerce.number().min(0).default(DEFAULT_BASELINE_POLICY.offCurrent)
    .describe('A machine reporting current is off when its window mean is at or below this (amperes).'),
  PDM_INFERENCE_ASSESSMENTS_V1: z.enum(['on', 'off']).default('off')
    .describe('Deprecated: also write every assessment to pdm.assessments.v1 (a record per forecast point), for consumers not yet on pdm.assessments.v2.'),
});

export interface InferenceSettings extends ProcessorSettings {
  groupId: string;
  changelogTopic: string;
  /** Model names under MODELS_DIR by role; undefined: the role is not used. */
  models: { detector?: string; forecaster?: string };
  reloadIntervalMs: number;
  /** Also write the deprecated pdm.assessments.v1. */
  assessmentsV1: boolean;
}

/** The service's settings (the decisions' are `decisionSettings`, shared with the offline replay). */
export function inferenceSettings(env: NodeJS.ProcessEnv = process.env): Readonly<InferenceSettings> {
  const shared = processorSettings(env);
  const raw = parseEnv(schema, env);
  const groupId = raw.PDM_INFERENCE_GROUP_ID ?? `${shared.prefix}pdm-inference`;
  return Object.freeze({
    ...shared,
    groupId,
    changelogTopic: `${groupId}-inference-state-changelog`,
    models: { detector: raw.PDM_DETECTOR_MODEL || undefined, forecaster: raw.PDM_FORECASTER_MODEL || undefined },
    reloadIntervalMs: raw.PDM_MODEL_RELOAD_INTERVAL,
    assessmentsV1: raw.PDM_INFERENCE_ASSESSMENTS_V1 === 'on',
  });
}

/** The per-machine detector's policy from the environment, or undefined when PDM_BASELINE=off. */
export function baselineSettings(env: NodeJS.ProcessEnv): BaselinePolicy | undefined {
  const settings = parseEnv(schema, env);
  if (settings.PDM_BASELINE === 'off') return undefined;
  return { ...DEFAULT_BASELINE_POLICY, warmupWindows: settings.PDM_WARMUP_WINDOWS, limit: settings.PDM_DEVIATION_LIMIT, offCurrent: settings.PDM_OFF_CURRENT };
}

/**
 * The alert policy and limits from the environment, as the service uses them (and `pdmctl
 * evaluate`, to score exactly what the service would decide). `consecutive` is the detector's own
 * `for:` when PDM_ALERT_FOR_WINDOWS is unset.
 */
export function decisionSettings(env: NodeJS.ProcessEnv, consecutive?: number): { policy: AlertPolicy; limits: LimitPolicy } {
  const settings = parseEnv(schema, env);
  const policy: AlertPolicy = {
    forWindows: settings.PDM_ALERT_FOR_WINDOWS ?? consecutive ?? 3,
    clearWindows: settings.PDM_ALERT_CLEAR_WINDOWS,
    anomalyRatio: { warning: settings.PDM_ALERT_WARNING_RATIO, critical: settings.PDM_ALERT_CRITICAL_RATIO },
    breachLeadMs: { warning: settings.PDM_BREACH_WARNING_LEAD, critical: settings.PDM_BREACH_CRITICAL_LEAD },
  };
  if (policy.anomalyRatio.critical <= policy.anomalyRatio.warning) throw new PdmError('CONFIG_INVALID', `PDM_ALERT_CRITICAL_RATIO (${policy.anomalyRatio.critical}) must be above PDM_ALERT_WARNING_RATIO (${policy.anomalyRatio.warning})`);
  if (policy.breachLeadMs.critical >= policy.breachLeadMs.warning) throw new PdmError('CONFIG_INVALID', 'PDM_BREACH_CRITICAL_LEAD must be shorter than PDM_BREACH_WARNING_LEAD');
  const limits: LimitPolicy = settings.PDM_LIMITS === 'manifest' ? { kind: 'manifest' } : { ...DEFAULT_LIMIT_POLICY, margin: settings.PDM_LIMITS_MARGIN };
  return { policy, limits };
}
