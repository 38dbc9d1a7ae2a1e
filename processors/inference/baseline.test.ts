/**
 * @jest-environment ./test/onnx-environment.js
 */
import { DEFAULT_BASELINE_POLICY, applyScore, driversOf, finishLearning, isOff, learnWindow, scoringRow, startLearning, warmupWindowsFor, type BaselinePolicy, type ScoredRow, type WatchingBaseline } from './baseline';
import { openBaselineModel, type BaselineModel } from './baseline.model';

const HOUR = 3_600_000;
const policy: BaselinePolicy = { ...DEFAULT_BASELINE_POLICY, warmupWindows: 24 };

/** A machine with a load cycle: current, vibration and temperature follow the load, as the simulator's do. */
function normal(hour: number): Record<string, number> {
  const load = hour % 24 >= 6 && hour % 24 < 22 ? 0.8 : 0.1;
  const wobble = Math.sin(hour * 1.7) * 0.02;
  return {
    'current.mean': 2 + 10 * (load + wobble),
    'current.max': 3 + 12 * (load + wobble),
    'tempA.mean': 23 + 20 * (load + wobble),
    'tempA.max': 24 + 20 * (load + wobble),
    'accX.mean': 0.005 + 0.02 * (load + wobble),
    'accX.max': 0.01 + 0.03 * (load + wobble),
  };
}

function learned(values: (hour: number) => Record<string, number> = normal): WatchingBaseline {
  const learning = startLearning(HOUR);
  for (let h = 0; h < 24; h++) if (learnWindow(learning, values(h), policy)) return finishLearning(learning, policy, (h + 1) * HOUR)!;
  throw new Error('not learned');
}

/** The graph's arithmetic in float64, for parity. */
function reference(baseline: WatchingBaseline, values: Record<string, number>): { score: number; expected: number[] } {
  const row = scoringRow(baseline, values)!;
  const C = row.channels;
  const K = row.memorySize;
  const z = Array.from({ length: C }, (_, c) => ((row.x[c]! - row.center[c]!) / row.scale[c]!) * row.present[c]!);
  const count = row.present.reduce((a, b) => a + b, 0);
  const d2 = Array.from({ length: K }, (_, k) => z.reduce((s, zc, c) => s + row.present[c]! * (zc - row.memory[k * C + c]!) ** 2, 0) / count);
  const logits = d2.map((d) => -d / (2 * policy.bandwidth ** 2));
  const top = Math.max(...logits);
  const w = logits.map((l) => Math.exp(l - top));
  const total = w.reduce((a, b) => a + b, 0);
  const est = Array.from({ length: C }, (_, c) => w.reduce((s, wk, k) => s + (wk / total) * row.memory[k * C + c]!, 0));
  const limit = policy.limit * Math.sqrt(policy.lambda / (2 - policy.lambda));
  const scores = z.map((zc, c) => {
    const u = ((zc - est[c]!) * row.present[c]!) / row.residualScale[c]!;
    const e = row.present[c] ? policy.lambda * u + (1 - policy.lambda) * row.previous[c]! : row.previous[c]!;
    return (Math.abs(e) / limit) * row.present[c]!;
  });
  return { score: Math.max(...scores), expected: est.map((e, c) => e * row.scale[c]! + row.center[c]!) };
}

describe('baseline: phase I', () => {
  test('a day of windows by default: 24 hourly, proportionally more short ones, at least 14 long ones', () => {
    expect(warmupWindowsFor({ warmupWindows: 0 }, HOUR)).toBe(24);
    expect(warmupWindowsFor({ warmupWindows: 0 }, 30 * 60_000)).toBe(48);
    expect(warmupWindowsFor({ warmupWindows: 0 }, 60_000)).toBe(1440);
    expect(warmupWindowsFor({ warmupWindows: 0 }, 86_400_000)).toBe(14);
    expect(warmupWindowsFor({ warmupWindows: 10 }, HOUR)).toBe(10);
  });

  test('learns only the channels the machine reports, from its own windows', () => {
    const b = learned((h) => ({ 'tempA.mean': 40 + (h % 5), 'tempA.max': 41 + (h % 5) }));
    expect(b.channels).toEqual(['tempA.max', 'tempA.mean']);
    expect(b.center[1]).toBeCloseTo(40 + (0 + 1 + 2 + 3 + 4 + 0 + 1 + 2 + 3 + 4 + 0 + 1 + 2 + 3 + 4 + 0 + 1 + 2 + 3 + 4 + 0 + 1 + 2 + 3) / 24, 9);
    expect(b.memory.length).toBe(24 * 2);
    expect(b.residualScale.every((s) => s >= policy.residualFloor)).toBe(true);
  });

  test('a machine drawing no current is off; one without a current sensor never is', () => {
    const b = learned();
    expect(isOff({ 'current.mean': 0.01 }, undefined, policy)).toBe(true);
    expect(isOff({ 'current.mean': 0.3 }, b, policy)).toBe(true); // below 5 % of its normal 6.5 A
    expect(isOff({ 'current.mean': 2.5 }, b, policy)).toBe(false);
    expect(isOff({ 'tempA.mean': 20 }, b, policy)).toBe(false);
  });
});

describe('baseline: the scoring graph on onnxruntime', () => {
  let model: BaselineModel;
  beforeAll(async () => {
    model = await openBaselineModel(policy);
  });
  afterAll(() => model.close());

  test('matches the float64 arithmetic, and a normal cycle stays well inside its limits', async () => {
    const b = learned();
    const hours = Array.from({ length: 48 }, (_, i) => 24 + i);
    const { scored } = await model.score(hours.map((h) => scoringRow(b, normal(h))!));
    hours.forEach((h, i) => {
      const ref = reference(b, normal(h));
      expect(scored[i]!.score).toBeCloseTo(ref.score, 4);
      scored[i]!.expected.forEach((e, c) => expect(e).toBeCloseTo(ref.expected[c]!, 2));
    });
    expect(Math.max(...scored.map((s) => s.score))).toBeLessThan(0.5);
  });

  test('a temperature collapsing to ambient at full load is news, and tempA drives it', async () => {
    const b = learned();
    let last: ScoredRow | undefined;
    for (let h = 30; h < 36; h++) {
      const values = { ...normal(h), 'tempA.mean': 21, 'tempA.max': 21.5 };
      const row = scoringRow(b, values)!;
      last = (await model.score([row])).scored[0]!;
      applyScore(b, row, last, false, policy);
    }
    expect(last!.score).toBeGreaterThan(1);
    const drivers = driversOf(b, { ...normal(35), 'tempA.mean': 21, 'tempA.max': 21.5 }, last!);
    expect(drivers[0]!.channel.startsWith('tempA')).toBe(true);
    expect(drivers.reduce((s, d) => s + d.contribution, 0)).toBeLessThanOrEqual(1.000001);
  });

  test("a row's numbers do not depend on the batch it runs in", async () => {
    const machines = Array.from({ length: 37 }, (_, m) => learned((h) => {
      const v = normal(h + m);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x * (1 + m / 50)]));
    }));
    const rows = machines.map((b, m) => scoringRow(b, normal(40 + m))!);
    const together = (await model.score(rows)).scored;
    for (const m of [0, 1, 7, 8, 17, 36]) {
      const alone = (await model.score([rows[m]!])).scored[0]!;
      expect(Array.from(together[m]!.ewma)).toEqual(Array.from(alone.ewma));
      expect(together[m]!.score).toBe(alone.score);
    }
  });

  test('only clean windows of a machine not alerting refresh the memory: the slot nearest to them, and no other', async () => {
    const b = learned();
    const before = Float32Array.from(b.memory);
    const row = scoringRow(b, normal(30))!;
    const scored = (await model.score([row])).scored[0]!;
    for (let i = 0; i < policy.adaptEvery; i++) applyScore(b, row, scored, true, policy);
    expect(Array.from(b.memory)).toEqual(Array.from(before));
    for (let i = 0; i < policy.adaptEvery; i++) applyScore(b, row, scored, false, policy);
    const C = b.channels.length;
    const changed = Array.from({ length: before.length / C }, (_, k) => k).filter((k) => before.subarray(k * C, (k + 1) * C).some((v, j) => v !== b.memory[k * C + j]));
    expect(changed.length).toBeLessThanOrEqual(1);
    expect(b.nextSlot).toBe(changed[0] ?? b.nextSlot);
    // Hour 30 is a working hour: a working hour of the memory was refreshed, not an idle one.
    const slot = b.nextSlot;
    expect(b.memory[slot * C + b.channels.indexOf('current.mean')]!).toBeGreaterThan(0);
  });
});
