import { onnx } from 'onnx-proto';
import { PdmError } from '../../lib/errors';

/**
 * A small ONNX graph builder over the ONNX protobuf messages (npm `onnx-proto`): constants as
 * initializers, nodes named in order, and deterministic bytes (same parameters, same file), so a
 * model's sha256 is reproducible from its training seed.
 */

export const OPSET = 17;
const IR_VERSION = 8;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

/** A dimension: a number, or a name for a dynamic one (the batch). */
export type Dim = number | string;

export interface TensorSpec {
  name: string;
  shape: Dim[];
}

const valueInfo = (spec: TensorSpec): onnx.IValueInfoProto => ({
  name: spec.name,
  type: { tensorType: { elemType: FLOAT, shape: { dim: spec.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});

type Attribute = number | number[];

export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private count = 0;

  /** A float constant of the given shape (values row-major; rounded to float32). */
  floats(name: string, dims: number[], values: ArrayLike<number>): string {
    const data = Float32Array.from(values as ArrayLike<number>);
    if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new PdmError('MODEL_INVALID', `constant ${name}: ${data.length} values for shape [${dims.join(', ')}]`);
    this.initializers.push({ name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer.slice(0)) });
    return name;
  }

  /** An int64 constant (shapes, axes, slice bounds). */
  ints(name: string, values: number[]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(data.buffer.slice(0)) });
    return name;
  }

  /** Adds a node and returns its output's name (`output` names a graph output). */
  op(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, output?: string): string {
    const name = output ?? `${opType.toLowerCase()}_${this.count}`;
    this.count++;
    const attribute: onnx.IAttributeProto[] = Object.entries(attributes).map(([key, value]) =>
      Array.isArray(value) ? { name: key, type: onnx.AttributeProto.AttributeType.INTS, ints: value } : { name: key, type: onnx.AttributeProto.AttributeType.INT, i: value },
    );
    this.nodes.push({ opType, input: inputs, output: [name], name: `${opType}_${this.count}`, attribute });
    return name;
  }

  /** The model's bytes. */
  build(options: { name: string; doc: string; inputs: TensorSpec[]; outputs: TensorSpec[]; producerVersion: string }): Uint8Array {
    const model: onnx.IModelProto = {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'pdm-stream',
      producerVersion: options.producerVersion,
      docString: options.doc,
      graph: { name: options.name, node: this.nodes, initializer: this.initializers, input: options.inputs.map(valueInfo), output: options.outputs.map(valueInfo) },
    };
    return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
  }
}
