import type { Manifest } from '../../models/contract';
import { CALENDAR_LENGTH, calendarOneHot } from '../../models/forecaster';
import type { OnnxModel } from '../../models/runtime';
import type { AlertEvent, MachineAssessment, WindowFeatures } from '../../schemas';
import { assessWindow, emptyMachineAlerts, resolveAll, type AlertDriver, type AlertPolicy, type ForecastBreach, type MachineAlerts, type WindowAssessment } from './alerts';
import { applyScore, channelValues, featureOfChannel, driversOf, finishLearning, flatFeatures, isOff, learnWindow, scoringRow, startLearning, warmupWindowsFor, withoutStuck, type MachineBaseline, type RelearnRequest, type ScoringRow, type WatchingBaseline } from './baseline';
import type { BaselineModel } from './baseline.model';
import { coversChannels, DEFAULT_LIMIT_POLICY, learnLimits, type LearnedLimits, type Limit, type LimitPolicy } from './limits';
import { emptyHistory, modelInput, remember, reshape, type HistoryLayout, type MachineHistory } from './lookback';
import type { Channel } from '../../models/features';
import { stableRunner, type StableRunner } from './stable-batches';
import { boundedFeatures, interpretForecast, type ForecastSeries } from './forecast';

/**
 * The inference step without Kafka: final windows in, alert transitions out. For every machine it
 * keeps the recent windows (lookback.ts) and the alert conditions (alerts.ts); each new window of
 * a machine is scored by the detector and forecast by the forecaster, machines whose windows
 * arrive together batched into one ONNX run per model. Windows of one machine are assessed in
 * event-time order, one at a time, so hysteresis counts windows, not batches.
 */

export interface DeployedModel {
  manifest: Manifest;
  model: OnnxModel;
  /** Batches that leave every row's numbers as they would be alone (stable-batches.ts). */
  runner: StableRunner;
}

/** Rows per model run: where every slot is stable (the float64 graphs), a run of 64 costs about a sixth of 64 runs of one. */
export const MODEL_BATCH = 64;

/** A loaded model, ready for the core: its stable batch slots measured once. */
export async function deploy(manifest: Manifest, model: OnnxModel): Promise<DeployedModel> {
  return { manifest, model, runner: await stableRunner(model, manifest, MODEL_BATCH) };
}

export interface DeployedModels {
  detector?: DeployedModel;
  forecaster?: DeployedModel;
  /** The per-machine detector (baseline.ts): every machine, any channels, any window size. */
  baseline?: BaselineModel;
}

export interface MachineState {
  history: MachineHistory;
  alerts: MachineAlerts;
  /** Limits learned from the machine's normal operation (limits.ts), once learned. */
  limits?: LearnedLimits;
  /** The machine's own normal (baseline.ts), learning or learned. */
  baseline?: MachineBaseline;
}

export type MachineCondition = 'ok' | 'at-risk' | 'warming-up' | 'off';

/** What the per-machine detector made of a window: off, or its score, drivers and each feature's strongest channel score. */
interface OwnAssessment {
  off: boolean;
  scored?: { score: number; threshold: number; drivers: AlertDriver[] };
  byFeature?: Record<string, number>;
}

export interface CoreResult {
  transitions: AlertEvent[];
  /** Machines whose newest window could not be assessed yet, with why (warming up, gaps). */
  warmingUp: Map<string, string>;
  /** What each window of the batch came to: score, forecast, or why not (pdm.assessments.v2). */
  assessments: MachineAssessment[];
  /** Machines that learned their limits in this batch. */
  learned: Set<string>;
  /** Operators' resets applied in this batch, by machine. */
  relearned: Map<string, RelearnRequest>;
  /** Windows assessed, and the size of each ONNX run. */
  assessed: number;
  runs: Array<{ model: 'detector' | 'forecaster' | 'baseline'; batch: number }>;
}


/** A channel's name in a forecast: the feature for a mean (what the forecaster predicts), else the channel. */

interface Ran {
  window: WindowFeatures;
  at: (role: string) => Float32Array;
  x: Float32Array;
  mask: Float32Array;
}


/** Whether every channel has at least one observed value in a lookback's mask ([L x C]). */
function observesEveryChannel(mask: Float32Array, channels: number): boolean {
  for (let c = 0; c < channels; c++) {
    let seen = false;
    for (let i = c; i < mask.length && !seen; i += channels) seen = mask[i] === 1;
    if (!seen) return false;
  }
  return true;
}

/** Half the per-machine detector's limit: chosen on simulated months (seeds 2 and 3), see the README. */
export const DEFAULT_CORROBORATION = 0.5;

const layouts = new Map<string, HistoryLayout>();

/**
 * What each machine must keep for these models: the union of their channels and their longest
 * lookback. The same object for the same models, so a machine's history is reshaped only when a
 * reload changes what the models read.
 */
export function historyLayout(models: DeployedModels): HistoryLayout {
  const manifests = [models.detector?.manifest, models.forecaster?.manifest].filter((m): m is Manifest => m !== undefined);
  const channels = [...new Set(manifests.flatMap((m) => m.channels))].sort() as Channel[];
  const keep = Math.max(1, ...manifests.map((m) => m.lookback));
  const key = `${keep}|${channels.join(',')}`;
  let layout = layouts.get(key);
  if (!layout) layouts.set(key, (layout = { channels, keep }));
  return layout;
}

export class InferenceCore {
  readonly machines = new Map<string, MachineState>();

  /**
   * `corroboration`: the per-machine detector's channel score (1 at its limit) a feature, or for
   * the fleet detector any channel, must reach for a fleet model's alarm to count; 0 never asks.
   */
  constructor(
    private readonly policy: AlertPolicy,
    private readonly limitPolicy: LimitPolicy = DEFAULT_LIMIT_POLICY,
    private readonly corroboration = DEFAULT_CORROBORATION,
  ) {}

  private machine(machineId: string, layout: HistoryLayout): MachineState {
    let state = this.machines.get(machineId);
    if (!state) this.machines.set(machineId, (state = { history: emptyHistory(layout), alerts: emptyMachineAlerts() }));
    else state.history = reshape(state.history, layout);
    return state;
  }

  /**
   * `relearns`: the latest operator reset per machine (the control topic); one this machine has not
   * applied yet restarts its learning at its next window, and resolves what it had open.
   */
  async assess(windows: readonly WindowFeatures[], models: DeployedModels, relearns?: (machineId: string) => RelearnRequest | undefined): Promise<CoreResult> {
    const result: CoreResult = { transitions: [], warmingUp: new Map(), assessments: [], learned: new Set(), relearned: new Map(), assessed: 0, runs: [] };
    // Each machine's windows in event-time order; round k takes every machine's k-th window.
    const byMachine = new Map<string, WindowFeatures[]>();
    for (const w of windows) {
      let list = byMachine.get(w.machineId);
      if (!list) byMachine.set(w.machineId, (list = []));
      list.push(w);
    }
    for (const list of byMachine.values()) list.sort((a, b) => a.windowStart - b.windowStart);
    const layout = historyLayout(models);
    const rounds = Math.max(0, ...[...byMachine.values()].map((l) => l.length));
    for (let k = 0; k < rounds; k++) {
      const due: WindowFeatures[] = [];
      for (const [machineId, list] of [...byMachine.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const window = list[k];
        if (!window) continue;
        const state = this.machine(machineId, layout);
        const before = state.history.latestStartMs;
        remember(state.history, window, window.windowEnd - window.windowStart);
        // Only a window that moves the machine forward is assessed; a late copy of an older one
        // updates the history for later lookbacks but decides nothing now.
        if (window.windowStart > before) due.push(window);
      }
      await this.assessRound(due, models, result, relearns);
    }
    return result;
  }

  private async assessRound(due: readonly WindowFeatures[], models: DeployedModels, result: CoreResult, relearns?: (machineId: string) => RelearnRequest | undefined): Promise<void> {
    const notReady = new Map<string, string>();
    const own = await this.runBaseline(due, models.baseline, result, notReady, relearns);
    const scores = await this.runDetector(due, models.detector, result, notReady);
    const breaches = await this.runForecaster(due, models.forecaster, result, notReady);
    for (const window of due) {
      const state = this.machines.get(window.machineId)!;
      const anomaly = scores.get(window.machineId);
      const forecast = breaches.get(window.machineId);
      const deviation = own.get(window.machineId);
      // While a machine relearns after an operator's reset, it raises nothing.
      const quiet = state.baseline?.phase === 'learning' && state.baseline.relearn !== null;
      const assessable = !quiet && (anomaly || forecast || deviation?.scored);
      if (assessable) {
        // A fleet model's alarm counts only where the machine's own normal agrees that something
        // moved: a forecast breach of a feature whose channels sit well inside the machine's own
        // limits, or a fleet anomaly on a machine at its own normal, is the fleet model's noise.
        const own = deviation?.byFeature;
        const corroborated = (feature: string | null) => !own || this.corroboration <= 0 || (feature === null ? Math.max(0, ...Object.values(own)) : (own[feature] ?? 0)) >= this.corroboration;
        const assessment: WindowAssessment = {
          machineId: window.machineId,
          windowEndMs: window.windowEnd,
          models: { anomaly: models.detector?.manifest, forecast: models.forecaster?.manifest, deviation: models.baseline },
          anomaly: anomaly && { ...anomaly, corroborated: corroborated(null) },
          deviation: deviation?.scored,
          breaches: (forecast?.breaches ?? []).filter((b) => corroborated(b.feature)),
          forecastFeatures: forecast?.features ?? [],
        };
        result.assessed++;
        if (deviation?.scored) result.warmingUp.delete(window.machineId);
        result.transitions.push(...assessWindow(state.alerts, assessment, this.policy));
      }
      const condition: MachineCondition | null = deviation?.off
        ? 'off'
        : !assessable && notReady.has(window.machineId)
          ? 'warming-up'
          : assessable
            ? [...state.alerts.conditions.values()].some((c) => c.firing)
              ? 'at-risk'
              : 'ok'
            : null;
      result.assessments.push({
        machineId: window.machineId,
        windowStart: window.windowStart,
        windowEnd: window.windowEnd,
        warmingUp: notReady.get(window.machineId) ?? null,
        anomaly: anomaly && models.detector ? { ...anomaly, modelName: models.detector.manifest.name, modelVersion: models.detector.manifest.version } : null,
        forecast:
          forecast && models.forecaster
            ? { modelName: models.forecaster.manifest.name, modelVersion: models.forecaster.manifest.version, stepMillis: models.forecaster.manifest.windowMs, series: forecast.series }
            : null,
        state: condition,
        deviation: deviation?.scored && models.baseline ? { ...deviation.scored, modelName: models.baseline.name, modelVersion: models.baseline.version } : null,
      });
    }
  }

  /**
   * The per-machine detector's step for each due window: an operator's reset, then off, learning
   * or scoring. Scoring runs every watched machine of the round through the graph together.
   */
  private async runBaseline(
    due: readonly WindowFeatures[],
    model: BaselineModel | undefined,
    result: CoreResult,
    notReady: Map<string, string>,
    relearns?: (machineId: string) => RelearnRequest | undefined,
  ): Promise<Map<string, OwnAssessment>> {
    const out = new Map<string, OwnAssessment>();
    if (!model) return out;
    const policy = model.policy;
    const rows: Array<{ window: WindowFeatures; baseline: WatchingBaseline; values: Record<string, number>; row: ScoringRow }> = [];
    for (const window of due) {
      const id = window.machineId;
      const state = this.machines.get(id)!;
      const windowMs = window.windowEnd - window.windowStart;
      const request = relearns?.(id);
      if (request && state.baseline?.relearn?.requestId !== request.requestId) {
        const by = `${request.requestedBy} at ${new Date(request.requestedAtMs).toISOString()}${request.reason ? ` (${request.reason})` : ''}`;
        result.transitions.push(...resolveAll(state.alerts, id, window.windowEnd, `baseline reset by ${by}: relearning its normal, alerts quiet until then`));
        state.baseline = startLearning(windowMs, request);
        result.relearned.set(id, request);
      }
      // A machine windowed at another size starts afresh: its normal was learned on other windows.
      if (!state.baseline || state.baseline.windowMs !== windowMs) {
        state.baseline = startLearning(windowMs, state.baseline?.relearn ?? null);
      }
      const flat = flatFeatures(window);
      let values = channelValues(window);
      if (isOff(values, state.baseline, policy)) {
        out.set(id, { off: true });
        continue;
      }
      out.set(id, { off: false });
      const baseline = state.baseline;
      if (baseline.phase === 'learning') {
        if (learnWindow(baseline, values, policy, flat)) {
          const watching = finishLearning(baseline, policy, window.windowEnd);
          if (watching) state.baseline = watching;
          else state.baseline = startLearning(windowMs, baseline.relearn);
        }
        const reason =
          state.baseline.phase === 'learning'
            ? `warming up: learning its normal, ${state.baseline.learned} of ${warmupWindowsFor(policy, windowMs)} windows`
            : `warming up: learned its normal from ${warmupWindowsFor(policy, windowMs)} windows, watched from the next one`;
        notReady.set(id, reason);
        result.warmingUp.set(id, reason);
        continue;
      }
      // A sensor that always varied and now reads one value all window is stuck: the machine is
      // judged on its other channels (a stuck sensor is the sensor's fault, not the machine's).
      values = withoutStuck(baseline, values, flat).values;
      const row = scoringRow(baseline, values);
      if (row) rows.push({ window, baseline, values, row });
    }
    if (rows.length === 0) return out;
    const { scored, runs } = await model.score(rows.map((r) => r.row));
    for (const batch of runs) result.runs.push({ model: 'baseline', batch });
    rows.forEach(({ window, baseline, values, row }, i) => {
      const s = scored[i]!;
      const alerting = [...this.machines.get(window.machineId)!.alerts.conditions.values()].some((c) => c.firing);
      applyScore(baseline, row, s, alerting, policy);
      const drivers = driversOf(baseline, values, s).map((d) => ({ channel: d.channel, contribution: d.contribution, value: d.value, expected: d.expected }));
      const byFeature: Record<string, number> = {};
      baseline.channels.forEach((channel, j) => {
        const feature = featureOfChannel(channel);
        byFeature[feature] = Math.max(byFeature[feature] ?? 0, s.channelScore[j]!);
      });
      out.set(window.machineId, { off: false, scored: { score: s.score, threshold: 1, drivers }, byFeature });
    });
    return out;
  }

  /** The model's outputs for each window whose input is ready, in runs of the model's stable slots. */
  private async run(due: readonly WindowFeatures[], deployed: DeployedModel, result: CoreResult, kind: 'detector' | 'forecaster', notReady: Map<string, string>): Promise<Ran[]> {
    const { manifest, runner } = deployed;
    const outputs: Ran[] = [];
    // Each window's lookback is written straight into the run's tensors, at its row's slot; a
    // window that turns out not ready leaves its slot to the next one.
    let batch = runner.newBatch();
    let rows: Array<{ window: WindowFeatures; x: Float32Array; mask: Float32Array }> = [];
    const flush = async () => {
      const out = await runner.runBatch(batch, rows.length);
      result.runs.push({ model: kind, batch: rows.length });
      rows.forEach((r, i) => outputs.push({ window: r.window, at: (role) => out[i]![role]!, x: r.x, mask: r.mask }));
      batch = runner.newBatch();
      rows = [];
    };
    for (const window of due) {
      const into = { x: batch.x, mask: batch.mask, offset: batch.rowOffset(rows.length) };
      const input = modelInput(this.machines.get(window.machineId)!.history, manifest, window.windowStart, window.windowEnd - window.windowStart, into);
      // A fleet model reads fixed channels at its own window size: a machine at another size, or
      // without one of those channels, is the per-machine detector's alone (nothing is invented).
      if (input.ready === false && input.observed === 0 && (window.windowEnd - window.windowStart !== manifest.windowMs)) continue;
      if (input.ready && !observesEveryChannel(input.mask, manifest.channels.length)) continue;
      if (!input.ready) {
        result.warmingUp.set(window.machineId, input.reason);
        if (!notReady.has(window.machineId)) notReady.set(window.machineId, `${manifest.name}: ${input.reason}`);
        continue;
      }
      if (batch.calendar) {
        const at = batch.calendarOffset(rows.length);
        batch.calendar.fill(0, at, at + CALENDAR_LENGTH).set(calendarOneHot(window.windowEnd), at);
      }
      rows.push({ window, x: input.x, mask: input.mask });
      if (rows.length === runner.slots.length) await flush();
    }
    if (rows.length > 0) await flush();
    return outputs;
  }

  private async runDetector(due: readonly WindowFeatures[], deployed: DeployedModel | undefined, result: CoreResult, notReady: Map<string, string>): Promise<Map<string, { score: number; threshold: number }>> {
    const scores = new Map<string, { score: number; threshold: number }>();
    if (!deployed || due.length === 0) return scores;
    const threshold = deployed.manifest.thresholds.score!;
    for (const { window, at } of await this.run(due, deployed, result, 'detector', notReady)) scores.set(window.machineId, { score: at('score')[0]!, threshold });
    return scores;
  }

  /** The limits a machine's forecast is held against: the fleet's, or its own once learned. */
  private limitsOf(ran: Ran, manifest: Manifest, result: CoreResult): Record<string, Limit> {
    if (this.limitPolicy.kind === 'manifest') return manifest.limits;
    const state = this.machines.get(ran.window.machineId)!;
    if (!coversChannels(state.limits, manifest.limits)) {
      state.limits = learnLimits(ran, manifest, this.limitPolicy, ran.window.windowEnd);
      result.learned.add(ran.window.machineId);
    }
    return state.limits!.limits;
  }

  private async runForecaster(
    due: readonly WindowFeatures[],
    deployed: DeployedModel | undefined,
    result: CoreResult,
    notReady: Map<string, string>,
  ): Promise<Map<string, { breaches: ForecastBreach[]; features: string[]; series: ForecastSeries[] }>> {
    const found = new Map<string, { breaches: ForecastBreach[]; features: string[]; series: ForecastSeries[] }>();
    if (!deployed || due.length === 0) return found;
    const { manifest } = deployed;
    const features = boundedFeatures(manifest.channels, manifest.limits);
    for (const ran of await this.run(due, deployed, result, 'forecaster', notReady)) {
      const { window, at } = ran;
      const { breaches, series } = interpretForecast({ forecast: at('forecast'), lower: at('lower'), upper: at('upper') }, manifest, this.limitsOf(ran, manifest, result), window.windowEnd);
      found.set(window.machineId, { breaches, features, series });
    }
    return found;
  }
}
