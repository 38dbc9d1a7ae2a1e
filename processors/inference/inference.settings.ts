import { z } from 'zod';
import { duration } from '../../lib/config';
import { DEFAULT_BASELINE_POLICY } from './baseline';
import { DEFAULT_LIMIT_POLICY } from './limits';

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
});
