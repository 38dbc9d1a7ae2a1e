import type { Logger } from '../../lib/logger';
import { PdmError } from '../../lib/errors';
import { metricOnce, Counter, Gauge, type Registry } from '../../lib/metrics';
import type { LoadedModel } from '../../models/contract';
import { widenToFloat64 } from '../../models/onnx/widen';
import { openOnnxModel } from '../../models/runtime';
import { currentVersion, loadCurrent } from '../../models/store';
import { openBaselineModel, type BaselineModel } from './baseline.model';
import { deploy, type DeployedModel, type DeployedModels } from './inference.core';
import { baselineSettings } from './inference.settings';

/**
 * The models a running inference processor uses: the promoted fleet models under MODELS_DIR,
 * deployed (opened in onnxruntime with their stable batch sizes), self-checked before use, and
 * reloaded when a new version is promoted; and the per-machine detector, one graph for the
 * service's life. A version that fails to load or its self-check is refused, counted, logged,
 * and the previous one keeps running.
 */

/**
 * A model folder opened in onnxruntime, its graph computed in float64 (models/onnx/widen.ts: whole
 * batches give each row the bits of its lone run), and deployed for the core; the model is closed
 * again if deploying fails.
 */
export async function deployLoaded(loaded: LoadedModel): Promise<DeployedModel> {
  const model = await openOnnxModel(loaded.manifest, widenToFloat64(loaded.onnx));
  try {
    return await deploy(loaded.manifest, model);
  } catch (err) {
    await model.close();
    throw err;
  }
}

/** The per-machine detector as `env` configures it, opened on onnxruntime (undefined when off). */
export async function openBaselineFromEnv(env: NodeJS.ProcessEnv): Promise<BaselineModel | undefined> {
  const policy = baselineSettings(env);
  return policy ? openBaselineModel(policy) : undefined;
}

/** The self-check: the model's outputs on a probe batch (every channel at its training mean) must all be finite. */
export async function selfCheck(deployed: DeployedModel): Promise<void> {
  const { manifest } = deployed;
  const channels = manifest.channels.length;
  const x = new Float32Array(manifest.lookback * channels);
  manifest.normalization.channelMean.forEach((mean, c) => {
    for (let t = 0; t < manifest.lookback; t++) x[t * channels + c] = mean;
  });
  const calendar = manifest.calendar ? Float32Array.from({ length: 31 }, (_, i) => (i === 0 || i === 24 ? 1 : 0)) : undefined;
  const [out] = await deployed.runner.run([{ x, mask: new Float32Array(x.length).fill(1), calendar }]);
  for (const [role, values] of Object.entries(out!)) {
    if (!values.every(Number.isFinite)) throw new PdmError('MODEL_SELF_CHECK', `${manifest.name}/${manifest.version}: output ${role} is not finite on the training means`);
  }
}

/** Loads the promoted version of `name`, deploys it and self-checks it; closed again on failure. */
async function loadDeployed(root: string, name: string): Promise<DeployedModel> {
  const deployed = await deployLoaded(loadCurrent(root, name));
  try {
    await selfCheck(deployed);
    return deployed;
  } catch (err) {
    await deployed.model.close();
    throw err;
  }
}

export class ModelHolder {
  private current: DeployedModels = {};
  private baseline?: BaselineModel;
  private readonly versions = new Map<string, string>();
  private readonly info: Gauge;
  private readonly failures: Counter;
  private reloads?: NodeJS.Timeout;

  constructor(
    private readonly root: string,
    private readonly names: { detector?: string; forecaster?: string },
    private readonly logger: Logger,
    metrics: Registry,
  ) {
    this.info = metricOnce(metrics, 'pdm_inference_model_info', () => new Gauge({ name: 'pdm_inference_model_info', help: 'The model version in use (1), by role, name and version.', labelNames: ['role', 'model', 'version'], registers: [metrics] }));
    this.failures = metricOnce(metrics, 'pdm_inference_model_load_failures_total', () => new Counter({ name: 'pdm_inference_model_load_failures_total', help: 'Model versions refused: failed to load or their self-check.', labelNames: ['role'], registers: [metrics] }));
    // From 0 for every role in use: an alert on increase() sees the first refusal.
    for (const [role, name] of Object.entries(names)) if (name) this.failures.inc({ role }, 0);
  }

  /** Deploys the promoted versions and the per-machine detector; refuses to start with no model at all. */
  async open(env: NodeJS.ProcessEnv, reloadIntervalMs: number): Promise<void> {
    await this.refresh();
    this.baseline = await openBaselineFromEnv(env);
    if (!this.current.detector && !this.current.forecaster && !this.baseline) throw new PdmError('MODEL_NOT_PROMOTED', `no usable model under ${this.root}: train one (npx pdmctl train --simulate)`);
    this.reloads = setInterval(() => void this.refresh(), reloadIntervalMs);
    this.reloads.unref();
  }

  get models(): DeployedModels {
    return this.baseline ? { ...this.current, baseline: this.baseline } : this.current;
  }

  /** `role: name/version` of each model in use, for the logs. */
  describe(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.models).map(([role, m]) => [role, 'manifest' in m ? `${m.manifest.name}/${m.manifest.version}` : `${m.name}/${m.version}`]));
  }

  /** Loads any newly promoted version; a failure keeps the running one. */
  async refresh(): Promise<void> {
    for (const role of ['detector', 'forecaster'] as const) {
      const name = this.names[role];
      if (!name) continue;
      const version = currentVersion(this.root, name);
      if (!version || this.versions.get(role) === version) continue;
      this.versions.set(role, version);
      try {
        this.swap(role, await loadDeployed(this.root, name));
      } catch (err) {
        this.failures.inc({ role });
        this.logger.error({ role, model: name, version, err }, this.current[role] ? 'model version refused; the previous one keeps running' : 'model version refused');
      }
    }
  }

  private swap(role: 'detector' | 'forecaster', deployed: DeployedModel): void {
    const previous = this.current[role];
    const { name, version } = deployed.manifest;
    this.current = { ...this.current, [role]: deployed };
    if (previous) this.info.remove({ role, model: previous.manifest.name, version: previous.manifest.version });
    this.info.set({ role, model: name, version }, 1);
    this.logger.info({ role, model: name, version, stableSlots: deployed.runner.slots.length, previous: previous?.manifest.version }, previous ? 'model reloaded' : 'model loaded');
    // The previous session may still be running a batch: release it a little later.
    if (previous) setTimeout(() => void previous.model.close().catch(() => undefined), 30_000).unref();
  }

  async close(): Promise<void> {
    clearInterval(this.reloads);
    for (const deployed of [this.current.detector, this.current.forecaster]) await deployed?.model.close().catch(() => undefined);
    await this.baseline?.close().catch(() => undefined);
  }
}
