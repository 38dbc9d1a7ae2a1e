import { onnx } from 'onnx-proto';

/**
 * A float32 model graph computed in float64: its float constants widened (exactly: every float32
 * is a double), its float inputs cast to double as they enter and its outputs cast back to float32
 * as they leave. The file, its inputs, outputs and manifest stay as trained; only the arithmetic
 * between them is wider.
 *
 * Why the inference processor runs its fleet models this way: onnxruntime's float32 GEMM kernels
 * sum a row in an order that depends on the row's position in a batch, so a window's score moved
 * in its last bits with its neighbours, and batches had to be cut to the few positions that
 * reproduce a lone run (processors/inference/stable-batches.ts): one for the forecaster. In
 * float64 every position of a batch measured here reproduces the lone run once rounded to float32,
 * so whole batches run, and faster: on this machine, the forecaster 116 µs a window one at a time
 * in float32, 19 µs in batches of 64 in float64; the detector 12 µs, 2 µs. The stable-slot probe
 * still runs on the widened graph, and would cut the batch again on a kernel where this is not so.
 */

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const DOUBLE = onnx.TensorProto.DataType.DOUBLE;
const WIDE = '__f64';

const cast = (from: string, to: string, type: number): onnx.INodeProto => ({
  opType: 'Cast',
  input: [from],
  output: [to],
  name: `cast_${to}`,
  attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: type }],
});

export function widenToFloat64(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  for (const tensor of graph.initializer ?? []) {
    if (tensor.dataType !== FLOAT) continue;
    const raw = tensor.rawData!;
    const values = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    tensor.dataType = DOUBLE;
    tensor.rawData = new Uint8Array(Float64Array.from(values).buffer);
  }
  const isFloat = (info: onnx.IValueInfoProto) => info.type?.tensorType?.elemType === FLOAT;
  const inputs = (graph.input ?? []).filter(isFloat).map((i) => i.name!);
  const outputs = (graph.output ?? []).filter(isFloat).map((o) => o.name!);
  const wide = new Set([...inputs, ...outputs]);
  const rename = (name: string) => (wide.has(name) ? `${name}${WIDE}` : name);
  for (const node of graph.node ?? []) {
    node.input = (node.input ?? []).map(rename);
    node.output = (node.output ?? []).map(rename);
  }
  graph.node = [...inputs.map((n) => cast(n, `${n}${WIDE}`, DOUBLE)), ...(graph.node ?? []), ...outputs.map((n) => cast(`${n}${WIDE}`, n, FLOAT))];
  return onnx.ModelProto.encode(model).finish();
}
