/**
 * @jest-environment ./test/onnx-environment.js
 */
import { simulateWindows } from '../../models/data/simulated';
import type { Fault } from '../../producers/simulate/fleet';
import { FEATURES, type AlertEvent, type MachineAssessment, type WindowFeatures } from '../../schemas';
import type { AlertPolicy } from './alerts';
import { DEFAULT_BASELINE_POLICY, type RelearnRequest } from './baseline';
import { openBaselineModel, type BaselineModel } from './baseline.model';
import { InferenceCore, type DeployedModels } from './inference.core';
import { InferenceRestorer, baselineKey, encodeBaseline, encodeMachine, machineKey } from './inference.state';
import { historyLayout } from './inference.core';

/**
 * The per-machine detector through the inference core, no Kafka and no fleet model: machines that
 * report one sensor, or run at one-minute windows, are assessed after their own warm-up and alert on
 * the faults that show in what they have.
 */

const HOUR = 3_600_000;
const policy: AlertPolicy = { forWindows: 3, clearWindows: 3, anomalyRatio: { warning: 1.5, critical: 3 }, breachLeadMs: { warning: 6 * HOUR, critical: 2 * HOUR } };

let baseline: BaselineModel;
let hourly: ReturnType<typeof simulateWindows>;
const models = (): DeployedModels => ({ baseline });

beforeAll(async () => {
  baseline = await openBaselineModel(DEFAULT_BASELINE_POLICY);
  const fromMs = Date.UTC(2026, 3, 6);
  hourly = simulateWindows(
    { machines: 6, intervalMs: 20_000, fromMs, toMs: fromMs + 12 * 24 * HOUR, scenario: 'bearing-wear,overheating,electrical', seed: 21, faultyFraction: 1 },
    { sizeMs: HOUR, graceMs: 0 },
  );
}, 120_000);

afterAll(() => baseline.close());

/** The windows as a machine with only `keep` would send them: the other features absent. */
const only = (windows: readonly WindowFeatures[], keep: readonly string[]): WindowFeatures[] =>
  windows.map((w) => {
    const copy = { ...w } as WindowFeatures & Record<string, unknown>;
    for (const f of FEATURES) if (!keep.includes(f)) (copy as Record<string, unknown>)[f] = null;
    return copy;
  });

async function feed(core: InferenceCore, windows: readonly WindowFeatures[], relearns?: (id: string) => RelearnRequest | undefined) {
  const byEnd = new Map<number, WindowFeatures[]>();
  for (const w of windows) byEnd.set(w.windowEnd, [...(byEnd.get(w.windowEnd) ?? []), w]);
  const transitions: AlertEvent[] = [];
  const assessments: MachineAssessment[] = [];
  for (const end of [...byEnd.keys()].sort((a, b) => a - b)) {
    const result = await core.assess(byEnd.get(end)!, models(), relearns);
    transitions.push(...result.transitions);
    assessments.push(...result.assessments);
  }
  return { transitions, assessments };
}

const firstFiring = (transitions: readonly AlertEvent[], machineId: string) => transitions.find((t) => t.machineId === machineId && t.status === 'FIRING' && t.kind === 'DEVIATION');

function faultOf(faults: readonly Fault[], kind: string): Fault {
  const fault = faults.find((f) => f.kind === kind && f.failureMs !== null);
  if (!fault) throw new Error(`no ${kind} fault in the simulation`);
  return fault;
}

describe('each machine learns its own normal', () => {
  test.each([
    ['tempA', 'overheating'],
    ['accX', 'bearing-wear'],
  ])('a machine with only %s is assessed after a day and alerts on its %s before the failure, naming the sensor', async (feature, kind) => {
    const fault = faultOf(hourly.faults, kind);
    const windows = only(hourly.windows, [feature]).filter((w) => w.machineId === fault.machineId);
    const { transitions, assessments } = await feed(new InferenceCore(policy), windows);
    const first = assessments.findIndex((a) => a.deviation !== null);
    expect(first).toBe(DEFAULT_BASELINE_POLICY.memorySize > 0 ? 24 : -1);
    expect(assessments[0]!.state).toBe('warming-up');
    expect(assessments[0]!.warmingUp).toMatch(/learning its normal, 1 of 24 windows/);
    const firing = firstFiring(transitions, fault.machineId);
    expect(firing).toBeDefined();
    expect(firing!.windowEnd).toBeGreaterThan(fault.onsetMs);
    expect(firing!.windowEnd).toBeLessThan(fault.failureMs!);
    expect(firing!.feature).toBe(feature);
    expect(firing!.drivers[0]!.channel.startsWith(feature)).toBe(true);
    expect(firing!.message).toContain(feature);
    // Nothing before the fault's onset.
    expect(transitions.filter((t) => t.status === 'FIRING' && t.windowEnd < fault.onsetMs)).toEqual([]);
  });

  test('a machine at one-minute windows learns from its own first day and alerts before its failure', async () => {
    const fromMs = Date.UTC(2026, 3, 6);
    const minutes = simulateWindows(
      { machines: 1, intervalMs: 10_000, fromMs, toMs: fromMs + 3 * 24 * HOUR, scenario: 'normal', seed: 5, faultyFraction: 0, faults: [{ machineId: 'lathe-1-spindle', kind: 'overheating', onsetMs: fromMs + 36 * HOUR, failureMs: fromMs + 60 * HOUR }] },
      { sizeMs: 60_000, graceMs: 0 },
    );
    const fault = faultOf(minutes.faults, 'overheating');
    const windows = minutes.windows.filter((w) => w.machineId === fault.machineId && w.windowStart < fault.failureMs!);
    const { transitions, assessments } = await feed(new InferenceCore(policy), windows);
    expect(assessments.findIndex((a) => a.deviation !== null)).toBe(1440);
    const firing = firstFiring(transitions, fault.machineId);
    expect(firing).toBeDefined();
    expect(firing!.windowEnd).toBeGreaterThan(fault.onsetMs);
    expect(transitions.filter((t) => t.status === 'FIRING' && t.windowEnd < fault.onsetMs)).toEqual([]);
  }, 60_000);

  test('a machine drawing no current is off: reported so, neither learned from nor alerting', async () => {
    const machine = hourly.windows.filter((w) => w.machineId === hourly.windows[0]!.machineId).slice(0, 60);
    const off = machine.map((w, i) => (i >= 30 && i < 40 ? { ...w, current: { ...w.current!, mean: 0, min: 0, max: 0.01, stddev: 0 } } : w));
    const { transitions, assessments } = await feed(new InferenceCore(policy), off);
    expect(assessments.slice(30, 40).map((a) => a.state)).toEqual(new Array(10).fill('off'));
    expect(transitions.filter((t) => t.kind === 'DEVIATION')).toEqual([]);
  });
});

describe('an operator resets a baseline', () => {
  test('open alerts resolve at once, the machine stays quiet while it relearns, then is watched again', async () => {
    const fault = faultOf(hourly.faults, 'overheating');
    const windows = only(hourly.windows, ['tempA']).filter((w) => w.machineId === fault.machineId);
    const core = new InferenceCore(policy);
    const plain = await feed(core, windows.filter((w) => w.windowEnd < fault.failureMs!));
    expect(firstFiring(plain.transitions, fault.machineId)).toBeDefined();
    const request: RelearnRequest = { requestId: 'r-1', requestedBy: 'ana@plant', requestedAtMs: fault.failureMs!, reason: 'bearing replaced' };
    const after = await feed(core, windows.filter((w) => w.windowEnd >= fault.failureMs!), (id) => (id === fault.machineId ? request : undefined));
    const resolved = after.transitions.filter((t) => t.status === 'RESOLVED');
    expect(resolved.length).toBeGreaterThan(0);
    expect(resolved[0]!.message).toContain('ana@plant');
    expect(resolved[0]!.message).toContain('bearing replaced');
    const learning = after.assessments.filter((a) => a.state === 'warming-up');
    expect(learning.length).toBeGreaterThanOrEqual(24);
    const quietUntil = learning[learning.length - 1]!.windowEnd;
    expect(after.transitions.filter((t) => t.status === 'FIRING' && t.windowEnd <= quietUntil)).toEqual([]);
    expect(core.machines.get(fault.machineId)!.baseline!.relearn?.requestId).toBe('r-1');
  });
});

describe('the baseline in the changelog', () => {
  test('a machine restored from its changelog record decides exactly as one that never stopped', async () => {
    const machineId = hourly.windows[0]!.machineId;
    const windows = hourly.windows.filter((w) => w.machineId === machineId);
    const straight = await feed(new InferenceCore(policy), windows);
    const first = new InferenceCore(policy);
    await feed(first, windows.slice(0, 100));
    const restorer = new InferenceRestorer(historyLayout(models()));
    const state = first.machines.get(machineId)!;
    restorer.apply(baselineKey(machineId), encodeBaseline(state.baseline!));
    const record = encodeBaseline(state.baseline!);
    expect(record.length).toBeLessThan(4096);
    const second = new InferenceCore(policy);
    second.machines.set(machineId, { ...restorer.result().machines.get(machineId)!, alerts: state.alerts });
    const resumed = await feed(second, windows.slice(100));
    expect(resumed.assessments.map((a) => a.deviation)).toEqual(straight.assessments.slice(100).map((a) => a.deviation));
  });

  test.each([30, 100, 200])('every machine restored from its snapshot after %i hours decides exactly as if it never stopped', async (hours) => {
    const ends = [...new Set(hourly.windows.map((w) => w.windowEnd))].sort((a, b) => a - b);
    const cut = ends[hours]!;
    const straight = await feed(new InferenceCore(policy), hourly.windows);
    const first = new InferenceCore(policy);
    await feed(first, hourly.windows.filter((w) => w.windowEnd <= cut));
    const restorer = new InferenceRestorer(historyLayout(models()));
    for (const [id, state] of first.machines) restorer.apply(machineKey(id), encodeMachine(state));
    const second = new InferenceCore(policy);
    for (const [id, state] of restorer.result().machines) second.machines.set(id, state);
    const resumed = await feed(second, hourly.windows.filter((w) => w.windowEnd > cut));
    const later = (list: ReadonlyArray<{ windowEnd: number }>) => list.filter((x) => x.windowEnd > cut);
    expect(resumed.assessments).toEqual(later(straight.assessments));
    expect(resumed.transitions).toEqual(later(straight.transitions));
    expect(resumed.transitions.length + later(straight.assessments).length).toBeGreaterThan(0);
  });
});

describe('sensor faults are not machine faults', () => {
  test('a sensor that always varied and now reads one value is left out, not alerted on', async () => {
    const machineId = hourly.windows[0]!.machineId;
    const windows = hourly.windows.filter((w) => w.machineId === machineId).slice(0, 72);
    const stuck = windows.map((w, i) => (i >= 40 ? { ...w, accX: { ...w.accX, mean: 0.5, min: 0.5, max: 0.5, stddev: 0 } } : w));
    const { transitions, assessments } = await feed(new InferenceCore(policy), stuck);
    expect(transitions.filter((t) => t.kind === 'DEVIATION')).toEqual([]);
    expect(assessments.slice(40).every((a) => a.deviation !== null && a.deviation.drivers.every((d) => !d.channel.startsWith('accX')))).toBe(true);
  });
});

describe('any channel a machine has', () => {
  test("a pump's cavitation shows only in its extra channels, and the alert names flow or pressure", async () => {
    const fromMs = Date.UTC(2026, 3, 6);
    const sim = simulateWindows(
      { machines: 4, intervalMs: 20_000, fromMs, toMs: fromMs + 6 * 24 * HOUR, scenario: 'normal', seed: 9, faultyFraction: 0, faults: [{ machineId: 'pump-04', kind: 'cavitation', onsetMs: fromMs + 2 * 24 * HOUR, failureMs: fromMs + 5 * 24 * HOUR }] },
      { sizeMs: HOUR, graceMs: 0 },
    );
    const fault = faultOf(sim.faults, 'cavitation');
    const windows = sim.windows.filter((w) => w.machineId === 'pump-04' && w.windowStart < fault.failureMs!);
    expect(Object.keys(windows[0]!.extras).sort()).toEqual(['flow', 'pressure']);
    const { transitions } = await feed(new InferenceCore(policy), windows);
    const firing = firstFiring(transitions, 'pump-04');
    expect(firing).toBeDefined();
    expect(firing!.windowEnd).toBeGreaterThan(fault.onsetMs);
    expect(['flow', 'pressure']).toContain(firing!.feature);
    expect(transitions.filter((t) => t.status === 'FIRING' && t.windowEnd <= fault.onsetMs)).toEqual([]);
  });
});
