/**
 * @jest-environment ./test/onnx-environment.js
 */
import path from 'node:path';
import { simulateWindows } from '../../models/data/simulated';
import { openOnnxModel } from '../../models/runtime';
import { loadCurrent } from '../../models/store';
import type { AlertEvent, WindowFeatures } from '../../schemas';
import { forecastPoints } from '../../schemas/assessments';
import type { AlertPolicy } from './alerts';
import { InferenceCore, deploy, type DeployedModels } from './inference.core';

/**
 * The inference step with the shipped models, on simulated machines with injected faults: the
 * windows the window processor would emit, fed in event-time order, a few machines at a time as
 * they would arrive. No Kafka.
 */

const HOUR = 3_600_000;
const policy: AlertPolicy = { forWindows: 3, clearWindows: 3, anomalyRatio: { warning: 1.5, critical: 3 }, breachLeadMs: { warning: 6 * HOUR, critical: 2 * HOUR } };
const root = path.join(__dirname, '..', '..', 'models');

let models: DeployedModels;
let simulated: ReturnType<typeof simulateWindows>;

beforeAll(async () => {
  const detector = loadCurrent(root, 'pdm-anomaly');
  const forecaster = loadCurrent(root, 'pdm-forecaster');
  models = {
    detector: await deploy(detector.manifest, await openOnnxModel(detector.manifest, detector.onnx)),
    forecaster: await deploy(forecaster.manifest, await openOnnxModel(forecaster.manifest, forecaster.onnx)),
  };
  // Six machines for twelve days, every one with a machine fault (bearing wear, overheating or
  // an electrical fault) that develops over hours to days and ends in a failure.
  const fromMs = Date.UTC(2026, 3, 6);
  simulated = simulateWindows(
    { machines: 6, intervalMs: 20_000, fromMs, toMs: fromMs + 12 * 24 * HOUR, scenario: 'bearing-wear,overheating,electrical', seed: 21, faultyFraction: 1 },
    { sizeMs: HOUR, graceMs: 0 },
  );
}, 120_000);

afterAll(async () => {
  await models.detector?.model.close();
  await models.forecaster?.model.close();
});

/** Feeds the windows in end order, `perBatch` at a time, as a partition's batches would bring them. */
async function feed(core: InferenceCore, windows: readonly WindowFeatures[], perBatch: number) {
  const sorted = [...windows].sort((a, b) => a.windowEnd - b.windowEnd || (a.machineId < b.machineId ? -1 : 1));
  const transitions: AlertEvent[] = [];
  const batches: number[] = [];
  let warmingUp = 0;
  for (let i = 0; i < sorted.length; i += perBatch) {
    const result = await core.assess(sorted.slice(i, i + perBatch), models);
    transitions.push(...result.transitions);
    batches.push(...result.runs.filter((r) => r.model === 'detector').map((r) => r.batch));
    warmingUp = Math.max(warmingUp, result.warmingUp.size);
  }
  return { transitions, batches, warmingUp };
}

test('every injected machine fault raises an ANOMALY alert before it fails, and the alerts name the model', async () => {
  const { transitions } = await feed(new InferenceCore(policy), simulated.windows, 24);
  const machineFaults = simulated.faults.filter((f) => f.category === 'machine' && f.failureMs !== null);
  expect(machineFaults.length).toBeGreaterThanOrEqual(4);
  for (const fault of machineFaults) {
    const fired = transitions.find((t) => t.machineId === fault.machineId && t.kind === 'ANOMALY' && t.status === 'FIRING' && t.windowEnd >= fault.onsetMs && t.windowEnd <= fault.failureMs!);
    expect({ machine: fault.machineId, kind: fault.kind, detected: fired !== undefined }).toEqual({ machine: fault.machineId, kind: fault.kind, detected: true });
  }
  const anomaly = transitions.find((t) => t.kind === 'ANOMALY')!;
  expect(anomaly.modelName).toBe(models.detector!.manifest.name);
  expect(anomaly.modelVersion).toBe(models.detector!.manifest.version);
  // Each FIRING is followed, for the same alert, by a RESOLVED or by nothing (still firing at the end), never by a second FIRING of equal severity.
  const byKey = new Map<string, AlertEvent[]>();
  for (const t of transitions) byKey.set(t.dedupKey, [...(byKey.get(t.dedupKey) ?? []), t]);
  for (const list of byKey.values()) {
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.status === 'FIRING' && list[i - 1]!.status === 'FIRING') expect(list[i]!.severity).not.toBe(list[i - 1]!.severity);
    }
  }
}, 120_000);

test('the same windows give the same transitions whatever the batching: one at a time or all machines at once', async () => {
  const some = simulated.windows.filter((w) => w.windowStart < Date.UTC(2026, 3, 6) + 9 * 24 * HOUR);
  const one = await feed(new InferenceCore(policy), some, 1);
  const many = await feed(new InferenceCore(policy), some, 60);
  // The same transitions, bit for bit (scores included), each alert's in the same order; across
  // machines, the order within one batch follows the batch.
  const sorted = (list: AlertEvent[]) => [...list].sort((a, b) => a.windowEnd - b.windowEnd || (a.alertId < b.alertId ? -1 : 1));
  expect(sorted(many.transitions)).toEqual(sorted(one.transitions));
  const ofKey = (list: AlertEvent[], key: string) => list.filter((t) => t.dedupKey === key).map((t) => t.alertId);
  for (const key of new Set(one.transitions.map((t) => t.dedupKey))) expect(ofKey(many.transitions, key)).toEqual(ofKey(one.transitions, key));
  expect(one.transitions.length).toBeGreaterThan(0);
  // Machines whose windows arrive together share one ONNX run.
  expect(Math.max(...many.batches)).toBeGreaterThan(1);
  expect(Math.max(...one.batches)).toBe(1);
}, 120_000);

test('a machine with too little history is reported as warming up, and nothing is guessed for it', async () => {
  const core = new InferenceCore(policy);
  const first = simulated.windows.filter((w) => w.machineId === simulated.windows[0]!.machineId).slice(0, 2);
  const result = await core.assess(first, models);
  expect(result.transitions).toEqual([]);
  expect([...result.warmingUp.values()][0]).toMatch(/^warming up: \d+ % of the last 168 windows observed/);
});

test('each window gets an assessment: why not while a model warms up, then its score and a forecast held against limits the machine learned once', async () => {
  const machine = simulated.windows[0]!.machineId;
  const own = simulated.windows.filter((w) => w.machineId === machine).sort((a, b) => a.windowStart - b.windowStart);
  const core = new InferenceCore(policy);
  const first = await core.assess(own.slice(0, 2), models);
  expect(first.assessments).toHaveLength(2);
  // The detector's short lookback scores at once; the forecaster's week does not: it says so.
  expect(first.assessments[0]).toMatchObject({ machineId: machine, windowStart: own[0]!.windowStart, windowEnd: own[0]!.windowEnd, forecast: null });
  expect(first.assessments[0]!.warmingUp).toMatch(/^pdm-forecaster: warming up/);

  const forecaster = models.forecaster!.manifest;
  let learnedAt: number | undefined;
  let limits: unknown;
  for (let i = 2; i < own.length; i++) {
    const result = await core.assess([own[i]!], models);
    const [assessment] = result.assessments;
    if (!assessment!.forecast) continue;
    if (learnedAt === undefined) {
      // Learned at the first assessable lookback, from that lookback, and written to the changelog then.
      learnedAt = own[i]!.windowEnd;
      expect(result.learned).toEqual(new Set([machine]));
      limits = structuredClone(core.machines.get(machine)!.limits);
      expect(core.machines.get(machine)!.limits!.learnedAtMs).toBe(learnedAt);
      expect(assessment!.warmingUp).toBeNull();
      expect(assessment!.anomaly).toMatchObject({ modelName: models.detector!.manifest.name, threshold: models.detector!.manifest.thresholds.score });
      expect(assessment!.forecast.stepMillis).toBe(forecaster.windowMs);
      const points = forecastPoints(assessment!);
      expect(points).toHaveLength(forecaster.horizon * forecaster.channels.length);
      const tempA = points.filter((p) => p.feature === 'tempA');
      expect(tempA.map((p) => p.windowStart)).toEqual(Array.from({ length: forecaster.horizon }, (_, h) => own[i]!.windowEnd + h * forecaster.windowMs));
      expect(tempA.every((p) => p.lower <= p.mean && p.mean <= p.upper)).toBe(true);
      const learnedTempA = core.machines.get(machine)!.limits!.limits['tempA.mean']!.upper;
      expect(tempA[0]!.limitUpper).toBe(learnedTempA);
      expect(learnedTempA).not.toBe(forecaster.limits['tempA.mean']!.upper);
    } else {
      expect(result.learned.size).toBe(0);
    }
  }
  expect(learnedAt).toBeDefined();
  // The limits stay as learned while the machine's fault develops and fails.
  expect(core.machines.get(machine)!.limits).toEqual(limits);
}, 120_000);

test('with PDM_LIMITS=manifest the forecast is held against the fleet limits', async () => {
  const machine = simulated.windows[0]!.machineId;
  const own = simulated.windows.filter((w) => w.machineId === machine).sort((a, b) => a.windowStart - b.windowStart).slice(0, 200);
  const core = new InferenceCore(policy, { kind: 'manifest' });
  const result = await core.assess(own, models);
  const last = result.assessments.at(-1)!;
  expect(result.learned.size).toBe(0);
  expect(core.machines.get(machine)!.limits).toBeUndefined();
  expect(last.forecast!.series.find((p) => p.feature === 'current')!.limitUpper).toBe(models.forecaster!.manifest.limits['current.mean']!.upper);
}, 120_000);
