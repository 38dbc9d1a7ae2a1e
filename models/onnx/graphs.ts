import type { AnomalyParams } from '../anomaly';
import type { ForecasterParams } from '../forecaster';
import { GraphBuilder, type TensorSpec } from './builder';

/**
 * The two model kinds as ONNX graphs, built from fitted parameters. Each graph computes what
 * forecaster.ts `predict` and anomaly.ts `score` compute (the parity test holds them to it), in
 * float32. Inputs: `x` [N, L, C], the lookback with gaps imputed by the contract's rule, and
 * `mask` [N, L, C], 1 where observed (these linear models take the imputed values as they are
 * and leave the mask unused; it is part of the contract for models that use it); the forecaster
 * also takes `calendar` [N, 31] when it was trained with one.
 */

export interface GraphSpec {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export function forecasterSpec(p: Pick<ForecasterParams, 'lookback' | 'channels' | 'horizon' | 'calendar'>): GraphSpec {
  const inputs: TensorSpec[] = [
    { name: 'x', shape: ['N', p.lookback, p.channels] },
    { name: 'mask', shape: ['N', p.lookback, p.channels] },
  ];
  if (p.calendar > 0) inputs.push({ name: 'calendar', shape: ['N', p.calendar] });
  const out = (name: string): TensorSpec => ({ name, shape: ['N', p.horizon, p.channels] });
  return { inputs, outputs: [out('forecast'), out('lower'), out('upper')] };
}

export function forecasterGraph(p: ForecasterParams, meta: { name: string; producerVersion: string }): Uint8Array {
  const g = new GraphBuilder();
  const { lookback: L, channels: C, horizon: H, calendar } = p;
  const last = g.op('Slice', ['x', g.ints('last_start', [L - 1]), g.ints('last_end', [L]), g.ints('time_axis', [1])]);
  let scale: string;
  if (p.scaling === 'global') scale = g.floats('scale', [1, 1, C], p.scale);
  else {
    const mean = g.op('ReduceMean', ['x'], { axes: [1], keepdims: 1 });
    const centred = g.op('Sub', ['x', mean]);
    const variance = g.op('ReduceMean', [g.op('Mul', [centred, centred])], { axes: [1], keepdims: 1 });
    scale = g.op('Sqrt', [g.op('Add', [variance, g.floats('scale_floor_sq', [1, 1, C], p.scale.map((s) => s * s))])]);
  }
  const z = g.op('Div', [g.op('Sub', ['x', last]), scale]);
  const flat = g.op('Reshape', [z, g.ints('flat_shape', [-1, L * C])]);
  const width = L * C + calendar + 1;
  const outputs = H * C;
  const rows = (from: number, to: number) => p.weights.subarray(from * outputs, to * outputs);
  let y = g.op('Add', [g.op('MatMul', [flat, g.floats('w_lookback', [L * C, outputs], rows(0, L * C))]), g.floats('w_intercept', [outputs], rows(width - 1, width))]);
  if (calendar > 0) y = g.op('Add', [y, g.op('MatMul', ['calendar', g.floats('w_calendar', [calendar, outputs], rows(L * C, L * C + calendar))])]);
  const y3 = g.op('Reshape', [y, g.ints('out_shape', [-1, H, C])]);
  const anchor = p.period > 0 ? g.op('Slice', ['x', g.ints('season_start', [L - p.period]), g.ints('season_end', [L - p.period + H]), 'time_axis']) : last;
  const forecast = g.op('Add', [g.op('Mul', [y3, scale]), anchor], {}, 'forecast');
  g.op('Add', [forecast, g.op('Mul', [scale, g.floats('q_lower', [1, H, C], p.lowerQuantile)])], {}, 'lower');
  g.op('Add', [forecast, g.op('Mul', [scale, g.floats('q_upper', [1, H, C], p.upperQuantile)])], {}, 'upper');
  return g.build({ ...meta, doc: `NLinear-family forecaster: lookback ${L}, horizon ${H}, ${C} channels, ${p.scaling} scaling, anchor ${p.period > 0 ? `seasonal ${p.period}` : 'last value'}`, ...forecasterSpec(p) });
}

export function anomalySpec(p: Pick<AnomalyParams, 'lookback' | 'channels'>): GraphSpec {
  return {
    inputs: [
      { name: 'x', shape: ['N', p.lookback, p.channels] },
      { name: 'mask', shape: ['N', p.lookback, p.channels] },
    ],
    outputs: [
      { name: 'score', shape: ['N'] },
      { name: 't2', shape: ['N'] },
      { name: 'q', shape: ['N'] },
    ],
  };
}

export function anomalyGraph(p: AnomalyParams, meta: { name: string; producerVersion: string }): Uint8Array {
  const g = new GraphBuilder();
  const { channels: C, k } = p;
  const m = g.op('ReduceMean', ['x'], { axes: [1], keepdims: 0 });
  // Channel-wise transform: log(max(v, 0) + offset) where logChannels says so, v elsewhere.
  const isLog = p.logChannels.map((l) => (l ? 1 : 0));
  const logged = g.op('Log', [g.op('Add', [g.op('Max', [m, g.floats('zero', [1], [0])]), g.floats('log_offset', [C], p.logOffset.map((o, c) => (isLog[c] ? o : 1)))])]);
  const transformed = g.op('Add', [g.op('Mul', [m, g.floats('is_linear', [C], isLog.map((l) => 1 - l))]), g.op('Mul', [logged, g.floats('is_log', [C], isLog)])]);
  const z = g.op('Mul', [g.op('Div', [g.op('Sub', [transformed, g.floats('mean', [C], p.mean)]), g.floats('sd', [C], p.sd)]), g.floats('weight', [C], p.weight)]);
  const projected = g.op('MatMul', [z, g.floats('components', [C, k], p.components)]);
  const transposed = new Float64Array(k * C);
  for (let c = 0; c < C; c++) for (let j = 0; j < k; j++) transposed[j * C + c] = p.components[c * k + j]!;
  const axis = g.ints('feature_axis', [1]);
  const t2 = g.op('ReduceSum', [g.op('Div', [g.op('Mul', [projected, projected]), g.floats('eigenvalues', [k], p.eigenvalues)]), axis], { keepdims: 0 }, 't2');
  const residual = g.op('Sub', [z, g.op('MatMul', [projected, g.floats('components_t', [k, C], transposed)])]);
  const q = g.op('ReduceSum', [g.op('Mul', [residual, residual]), axis], { keepdims: 0 }, 'q');
  g.op('Max', [g.op('Div', [t2, g.floats('t2_limit', [1], [p.t2Limit])]), g.op('Div', [q, g.floats('q_limit', [1], [p.qLimit])])], {}, 'score');
  return g.build({ ...meta, doc: `PCA T²+Q anomaly detector: lookback ${p.lookback}, ${C} channels, ${k} components`, ...anomalySpec(p) });
}

/**
 * The per-machine detector's scoring graph (processors/inference/baseline.ts): no learned numbers
 * inside, each machine's baseline comes in as inputs, so one graph serves every machine, whatever
 * channels it has (C) and however many baseline windows it keeps (K). Inputs, per row: `x`,
 * `present` (1 where the channel has a value in this window), the baseline's `center`, `scale`
 * and `residual_scale` [N, C], its `memory` [N, K, C] (standardised), and the channel EWMAs of the
 * previous window `previous` [N, C]. Outputs: `expected` values [N, C] (AAKR), the new `ewma`
 * [N, C], each channel's `channel_score` [N, C] (1 at the control limit) and the row's `score` [N].
 * Every operation is elementwise or within a row, so a row's numbers do not depend on the batch.
 */
export const BASELINE_INPUTS = ['x', 'present', 'center', 'scale', 'memory', 'residual_scale', 'previous'] as const;
export const BASELINE_OUTPUTS = ['expected', 'ewma', 'channel_score', 'score'] as const;

export function baselineGraph(p: { bandwidth: number; lambda: number; limit: number }, meta: { name: string; producerVersion: string }): Uint8Array {
  const g = new GraphBuilder();
  const axis1 = g.ints('axis_1', [1]);
  const axis2 = g.ints('axis_2', [2]);
  const z = g.op('Mul', [g.op('Div', [g.op('Sub', ['x', 'center']), 'scale']), 'present']);
  const diff = g.op('Sub', [g.op('Unsqueeze', [z, axis1]), 'memory']);
  const presentK = g.op('Unsqueeze', ['present', axis1]);
  const sumSq = g.op('ReduceSum', [g.op('Mul', [g.op('Mul', [diff, diff]), presentK]), axis2], { keepdims: 0 });
  const count = g.op('ReduceSum', ['present', axis1], { keepdims: 1 });
  const d2 = g.op('Div', [sumSq, count]);
  const logits = g.op('Mul', [d2, g.floats('neg_half_inv_h2', [1], [-1 / (2 * p.bandwidth * p.bandwidth)])]);
  const weights = g.op('Softmax', [logits], { axis: 1 });
  const estimate = g.op('Squeeze', [g.op('MatMul', [g.op('Unsqueeze', [weights, axis1]), 'memory']), axis1]);
  g.op('Add', [g.op('Mul', [estimate, 'scale']), 'center'], {}, 'expected');
  const u = g.op('Div', [g.op('Mul', [g.op('Sub', [z, estimate]), 'present']), 'residual_scale']);
  const moved = g.op('Add', [g.op('Mul', [u, g.floats('lambda', [1], [p.lambda])]), g.op('Mul', ['previous', g.floats('one_minus_lambda', [1], [1 - p.lambda])])]);
  // A channel without a value in this window keeps its EWMA: present * moved + (1 - present) * previous.
  const absent = g.op('Sub', [g.floats('one', [1], [1]), 'present']);
  const ewma = g.op('Add', [g.op('Mul', ['present', moved]), g.op('Mul', [absent, 'previous'])], {}, 'ewma');
  const limit = p.limit * Math.sqrt(p.lambda / (2 - p.lambda));
  // A channel scores only in a window where it has a value: one that is missing (or stuck) keeps
  // its EWMA for when it is back, but says nothing about this window.
  const channelScore = g.op('Mul', [g.op('Div', [g.op('Abs', [ewma]), g.floats('limit', [1], [limit])]), 'present'], {}, 'channel_score');
  g.op('ReduceMax', [channelScore], { axes: [1], keepdims: 0 }, 'score');
  const nc = (name: string) => ({ name, shape: ['N', 'C'] });
  return g.build({
    ...meta,
    doc: `Per-machine AAKR + EWMA detector: bandwidth ${p.bandwidth}, lambda ${p.lambda}, limit ${p.limit} EWMA sd; the baseline comes in as inputs`,
    inputs: [nc('x'), nc('present'), nc('center'), nc('scale'), { name: 'memory', shape: ['N', 'K', 'C'] }, nc('residual_scale'), nc('previous')],
    outputs: [nc('expected'), nc('ewma'), nc('channel_score'), { name: 'score', shape: ['N'] }],
  });
}
