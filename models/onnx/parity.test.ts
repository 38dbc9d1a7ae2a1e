/**
 * @jest-environment ./test/onnx-environment.js
 */
import { fitAnomaly, score } from '../anomaly';
import { CONTRACT, type Manifest } from '../contract';
import { calendarOneHot, fitForecaster, predict, type ForecastSample } from '../forecaster';
import { openOnnxModel } from '../runtime';
import { anomalyGraph, anomalySpec, forecasterGraph, forecasterSpec } from './graphs';
import { widenToFloat64 } from './widen';

/**
 * The ONNX graph is what runs in production: onnxruntime-node must give the trainer's own numbers
 * (float32 against float64) to 1e-5 relative.
 */

const L = 48;
const H = 6;
const C = 6;
const HOUR = 3_600_000;

/** A deterministic multichannel series with a daily cycle, a trend and noise, at realistic scales. */
function series(length: number, seed: number): number[][] {
  let state = seed;
  const noise = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  const base = [10, 0.02, 0.018, 0.012, 45, 35];
  return Array.from({ length }, (_, t) => base.map((b, c) => b * (1 + 0.3 * Math.sin((2 * Math.PI * t) / 24 + c) + 0.001 * t + 0.05 * noise())));
}

function samples(rows: number[][], t0: number): ForecastSample[] {
  const out: ForecastSample[] = [];
  for (let t = L; t + H <= rows.length; t++) {
    out.push({ x: Float64Array.from(rows.slice(t - L, t).flat()), y: Float64Array.from(rows.slice(t, t + H).flat()), calendar: calendarOneHot(t0 + t * HOUR) });
  }
  return out;
}

const manifestOf = (kind: 'forecaster' | 'anomaly', spec: ReturnType<typeof forecasterSpec>): Manifest =>
  ({
    contract: CONTRACT,
    name: 'parity',
    version: 'v1',
    kind,
    inputs: spec.inputs.map((t) => ({ ...t, role: t.name === 'x' ? 'values' : t.name, dtype: 'float32' })),
    outputs: spec.outputs.map((t) => ({ ...t, role: t.name, dtype: 'float32' })),
  }) as unknown as Manifest;

/** Relative error; `floor` keeps values near zero (a Q of a perfectly normal point) from dividing by almost nothing. */
const relativeError = (actual: number, expected: number, floor = 1e-6) => Math.abs(actual - expected) / Math.max(Math.abs(expected), floor);

function toTensors(batch: ForecastSample[]) {
  const x = new Float32Array(batch.flatMap((s) => Array.from(s.x)));
  return { x, mask: new Float32Array(x.length).fill(1), calendar: new Float32Array(batch.flatMap((s) => Array.from(s.calendar))), batch: batch.length };
}

describe.each([
  ['instance scaling, calendar, seasonal anchor', { scaling: 'instance' as const, calendar: true, period: 24 }],
  ['global scaling, last-value anchor', { scaling: 'global' as const, calendar: false, period: 0 }],
])('forecaster graph: %s', (_name, variant) => {
  /** Parameters fitted on one series, and 40 samples of another to run. */
  const fitted = () => {
    const t0 = Date.UTC(2026, 0, 5);
    const train = samples(series(400, 1), t0);
    const test = samples(series(120, 2), t0).slice(0, 40);
    const params = fitForecaster(train.slice(0, 300), train.slice(300), { lookback: L, horizon: H, channels: C, ridge: 1e-3, channelSd: [3, 0.006, 0.005, 0.004, 13, 10], coverage: 0.9, ...variant });
    return { test, params };
  };

  test('onnxruntime gives predict()\'s forecasts and intervals to 1e-5 relative', async () => {
    const { test, params } = fitted();
    const model = await openOnnxModel(manifestOf('forecaster', forecasterSpec(params)), forecasterGraph(params, { name: 'parity', producerVersion: 'test' }));
    const out = await model.run(toTensors(test));
    await model.close();
    let worst = 0;
    test.forEach((sample, i) => {
      const reference = predict(params, { ...sample, x: Float64Array.from(Float32Array.from(sample.x)) });
      for (const [role, values] of [['forecast', reference.mean], ['lower', reference.lower], ['upper', reference.upper]] as const) {
        for (let j = 0; j < H * C; j++) worst = Math.max(worst, relativeError(out[role]![i * H * C + j]!, values[j]!));
      }
    });
    expect(worst).toBeLessThan(1e-5);
  });

  test('widened to float64, it gives the same forecasts, and each row of a batch the bits of its lone run', async () => {
    const { test, params } = fitted();
    const narrow = await openOnnxModel(manifestOf('forecaster', forecasterSpec(params)), forecasterGraph(params, { name: 'parity', producerVersion: 'test' }));
    const wide = await openOnnxModel(manifestOf('forecaster', forecasterSpec(params)), widenToFloat64(forecasterGraph(params, { name: 'parity', producerVersion: 'test' })));
    const batched = await wide.run(toTensors(test));
    const reference = await narrow.run(toTensors(test));
    for (const role of ['forecast', 'lower', 'upper']) {
      expect(batched[role]).toBeInstanceOf(Float32Array);
      batched[role]!.forEach((v, j) => expect(relativeError(v, reference[role]![j]!)).toBeLessThan(1e-5));
    }
    for (const [i, sample] of test.entries()) {
      const alone = await wide.run(toTensors([sample]));
      for (const role of ['forecast', 'lower', 'upper']) expect(Array.from(alone[role]!)).toEqual(Array.from(batched[role]!.subarray(i * H * C, (i + 1) * H * C)));
    }
    await narrow.close();
    await wide.close();
  });
});

test('anomaly graph: onnxruntime gives score()\'s score, T² and Q to 1e-5 relative', async () => {
  const rows = series(600, 3);
  const lookback = 3;
  const look = (t: number) => Float64Array.from(rows.slice(t - lookback + 1, t + 1).flat());
  const train = Array.from({ length: 400 }, (_, i) => look(i + lookback));
  const params = fitAnomaly(train, C, { lookback, logChannels: [1, 1, 1, 1, 0, 0], explained: 0.9, limitQuantile: 0.99 });
  // Normal windows, and abnormal ones: vibration tripled, a temperature far off.
  const probes = Array.from({ length: 50 }, (_, i) => look(450 + i));
  probes.push(...probes.slice(0, 5).map((x) => x.map((v, j) => (j % C === 1 ? 3 * v : j % C === 4 ? v + 30 : v))));
  const model = await openOnnxModel(manifestOf('anomaly', anomalySpec(params)), anomalyGraph(params, { name: 'parity', producerVersion: 'test' }));
  const x = new Float32Array(probes.flatMap((p) => Array.from(p)));
  const out = await model.run({ x, mask: new Float32Array(x.length).fill(1), batch: probes.length });
  await model.close();
  let worst = 0;
  probes.forEach((p, i) => {
    // The graph's inputs are float32: the reference gets the same rounded values.
    const reference = score(params, Float64Array.from(Float32Array.from(p)));
    // The score (what alerts are decided on) is held to 1e-5 relative. T² and Q are reported
    // beside it; Q is a small residual of float32 sums (cancellation), so below its limit both
    // are compared relative to the limit, the scale at which they matter.
    worst = Math.max(worst, relativeError(out.score![i]!, reference.score, 1e-6), relativeError(out.t2![i]!, reference.t2, params.t2Limit), relativeError(out.q![i]!, reference.q, params.qLimit));
  });
  expect(worst).toBeLessThan(1e-5);
  expect(Math.max(...Array.from(out.score!.slice(50)))).toBeGreaterThan(params.threshold);
});
