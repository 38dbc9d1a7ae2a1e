import * as ort from 'onnxruntime-node';
import type { Manifest } from './contract';
import { PdmError } from '../lib/errors';

/**
 * The production path: onnxruntime-node runs a model's graph. The only file that imports it.
 * Inputs are fed by role (values, mask, calendar) with the manifest's tensor names.
 */

export interface ModelInputs {
  /** Row-major [N x L x C] each. */
  x: Float32Array;
  mask: Float32Array;
  /** Row-major [N x 31], when the model takes a calendar. */
  calendar?: Float32Array;
  batch: number;
}

export interface OnnxModel {
  manifest: Manifest;
  run(inputs: ModelInputs): Promise<Record<string, Float32Array>>;
  close(): Promise<void>;
}

export async function openOnnxModel(manifest: Manifest, bytes: Uint8Array): Promise<OnnxModel> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  return {
    manifest,
    async run(inputs) {
      const feeds: Record<string, ort.Tensor> = {};
      for (const spec of manifest.inputs) {
        const dims = spec.shape.map((d, i) => (i === 0 ? inputs.batch : (d as number)));
        const data = spec.role === 'values' ? inputs.x : spec.role === 'mask' ? inputs.mask : inputs.calendar;
        if (!data) throw new PdmError('MODEL_INVALID', `model ${manifest.name}/${manifest.version} needs input ${spec.name} (${spec.role})`);
        feeds[spec.name] = new ort.Tensor('float32', data, dims);
      }
      const results = await session.run(feeds);
      const out: Record<string, Float32Array> = {};
      for (const spec of manifest.outputs) out[spec.role] = results[spec.name]!.data as Float32Array;
      return out;
    },
    close: () => session.release(),
  };
}

/** A graph fed by tensor name, for graphs outside the model contract (the per-machine detector's). */
export interface OnnxSession {
  run(feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<Record<string, Float32Array>>;
  close(): Promise<void>;
}

export async function openOnnxSession(bytes: Uint8Array): Promise<OnnxSession> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  return {
    async run(feeds) {
      const tensors: Record<string, ort.Tensor> = {};
      for (const [name, { data, dims }] of Object.entries(feeds)) tensors[name] = new ort.Tensor('float32', data, dims);
      const results = await session.run(tensors);
      const out: Record<string, Float32Array> = {};
      for (const name of session.outputNames) out[name] = results[name]!.data as Float32Array;
      return out;
    },
    close: () => session.release(),
  };
}
