import { PdmError } from '../../lib/errors';
import type { LoadedModel } from '../../models/contract';
import type { AlertEvent, WindowFeatures } from '../../schemas';
import type { AlertPolicy } from './alerts';
import { openBaselineModel } from './baseline.model';
import { replayAlerts } from './inference.evaluate';
import { baselineSettings, decisionSettings } from './inference.settings';
import type { LimitPolicy } from './limits';
import { deployLoaded, openBaselineFromEnv } from './model-holder';

/**
 * The inference processor's decisions replayed offline, with no Kafka: the models deployed as the
 * service deploys them and the decision settings `env` gives the service, so what `pdmctl
 * evaluate` scores, and what the end-to-end tests compare the alert topic with, is what `pdmctl
 * run inference` would raise.
 */

/** The alerts the service would raise over `windows` with these fleet models (and the per-machine detector unless PDM_BASELINE=off). */
export async function replayAsService(
  windows: readonly WindowFeatures[],
  detector: LoadedModel,
  forecaster: LoadedModel,
  env: NodeJS.ProcessEnv,
  onProgress?: (done: number, total: number) => void,
): Promise<{ transitions: AlertEvent[]; policy: AlertPolicy; limits: LimitPolicy }> {
  const { policy, limits } = decisionSettings(env, detector.manifest.thresholds.consecutive);
  const baseline = await openBaselineFromEnv(env);
  const detectorModel = await deployLoaded(detector);
  try {
    const forecasterModel = await deployLoaded(forecaster);
    try {
      return { transitions: await replayAlerts(windows, { detector: detectorModel, forecaster: forecasterModel, baseline }, policy, limits, onProgress), policy, limits };
    } finally {
      await forecasterModel.model.close();
    }
  } finally {
    await detectorModel.model.close();
    await baseline?.close();
  }
}

/**
 * SKAB's protocol through the service's own decisions (`pdmctl evaluate --skab`): each file a
 * machine whose baseline is its first `warmupWindows` windows, the per-machine detector alone (the
 * fleet models read hourly windows), the decision settings `env` gives the service.
 */
export async function replaySkab(windows: WindowFeatures[], options: { warmupWindows: number }, env: NodeJS.ProcessEnv = process.env): Promise<AlertEvent[]> {
  const { policy, limits } = decisionSettings(env);
  const baseline = baselineSettings(env);
  if (!baseline) throw new PdmError('CONFIG_INVALID', 'PDM_BASELINE=off: the SKAB evaluation scores the per-machine detector');
  const model = await openBaselineModel({ ...baseline, warmupWindows: options.warmupWindows });
  try {
    return await replayAlerts(windows, { baseline: model }, policy, limits);
  } finally {
    await model.close();
  }
}
