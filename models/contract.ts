import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PdmError } from '../lib/errors';
import { isChannel } from './features';

/**
 * The model contract (models/README.md): a model version is a folder `<MODELS_DIR>/<name>/<version>/`
 * holding `model.onnx` and `manifest.json`. The manifest says everything the inference processor
 * needs to feed the graph and read its outputs, whatever trained it.
 */

export const CONTRACT = 'pdm-model/1' as const;
export const MODEL_FILE = 'model.onnx';
export const MANIFEST_FILE = 'manifest.json';

export type ModelErrorCode = 'MODEL_NOT_FOUND' | 'MODEL_INVALID' | 'MODEL_CHECKSUM' | 'MODEL_DATA' | 'MODEL_NOT_PROMOTED';

export class ModelError extends PdmError<ModelErrorCode> {
  constructor(code: ModelErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ModelError';
  }
}

const dim = z.union([z.number().int().positive(), z.string().min(1)]);
const tensor = z.object({
  name: z.string().min(1),
  /** What the tensor carries; the processor fills inputs by role. */
  role: z.enum(['values', 'mask', 'calendar', 'forecast', 'lower', 'upper', 'score', 't2', 'q']),
  dtype: z.literal('float32'),
  shape: z.array(dim).min(1),
});

const channel = z.string().refine(isChannel, { message: 'a channel is <feature>.<stat>, e.g. current.mean' });
const perChannel = z.array(z.number().refine(Number.isFinite, 'finite'));

export const manifestSchema = z
  .object({
    contract: z.literal(CONTRACT),
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    version: z.string().regex(/^v\d+$/, 'v followed by a number'),
    kind: z.enum(['forecaster', 'anomaly']),
    description: z.string(),
    /** Window length the model was trained on; windows of another length must not be fed. */
    windowMs: z.number().int().positive(),
    /** Input channels in order: the last axis of `values` and `mask`. */
    channels: z.array(channel).min(1),
    /** Windows per lookback (L): axis 1 of the inputs; the last one is the newest window. */
    lookback: z.number().int().positive(),
    /** Windows forecast (H), for a forecaster; 0 for a detector. */
    horizon: z.number().int().nonnegative(),
    inputs: z.array(tensor).min(1),
    outputs: z.array(tensor).min(1),
    /** How gaps reach the graph: missing windows and null values. */
    missing: z.object({
      rule: z.literal('ffill-bfill-mean'),
      description: z.string(),
      /** Per channel, the value used when a channel has no observation in the whole lookback. */
      fallback: perChannel,
      /** Lookbacks with a smaller share of observed values are not scored. */
      minObserved: z.number().min(0).max(1),
    }),
    /** The calendar input's encoding, when the graph has one. */
    calendar: z.object({ encoding: z.literal('utc-hour-of-day-24+day-of-week-7'), of: z.literal('first-forecast-window-start') }).nullable(),
    /** What the graph does to the values inside it (informative; the graph holds the numbers). */
    normalization: z.object({ description: z.string(), channelMean: perChannel, channelSd: perChannel }),
    thresholds: z.object({
      /** Detector: alarm when the score exceeds `score` for `consecutive` windows in a row. */
      score: z.number().positive().optional(),
      consecutive: z.number().int().positive().optional(),
      /** Forecaster: the two-sided coverage of [lower, upper]. */
      intervalCoverage: z.number().gt(0).lt(1).optional(),
    }),
    /** Forecaster: per channel, the values a forecast must not cross (FORECAST_BREACH). */
    limits: z.record(z.string(), z.object({ lower: z.number().nullable(), upper: z.number().nullable() })),
    trainingData: z.object({
      source: z.string(),
      fromMs: z.number(),
      toMs: z.number(),
      machines: z.number().int().nonnegative(),
      windows: z.number().int().nonnegative(),
      split: z.object({ validationFromMs: z.number(), testFromMs: z.number() }),
    }),
    metrics: z.record(z.string(), z.unknown()),
    onnx: z.object({ file: z.literal(MODEL_FILE), sha256: z.string().regex(/^[0-9a-f]{64}$/), opset: z.number().int().positive(), bytes: z.number().int().positive() }),
  })
  .superRefine((m, ctx) => {
    const byRole = (role: string) => m.inputs.find((t) => t.role === role);
    const values = byRole('values');
    if (!values) ctx.addIssue({ code: 'custom', path: ['inputs'], message: 'an input with role "values" is required' });
    for (const input of m.inputs.filter((t) => t.role === 'values' || t.role === 'mask')) {
      const [, L, C] = input.shape;
      if (input.shape.length !== 3 || L !== m.lookback || C !== m.channels.length) ctx.addIssue({ code: 'custom', path: ['inputs'], message: `${input.name} must be [N, ${m.lookback}, ${m.channels.length}]` });
    }
    if (byRole('calendar') && !m.calendar) ctx.addIssue({ code: 'custom', path: ['calendar'], message: 'the graph takes a calendar input: say its encoding' });
    const need = m.kind === 'forecaster' ? ['forecast', 'lower', 'upper'] : ['score'];
    for (const role of need) if (!m.outputs.some((t) => t.role === role)) ctx.addIssue({ code: 'custom', path: ['outputs'], message: `a ${m.kind} has an output with role "${role}"` });
    if (m.kind === 'forecaster' && m.horizon < 1) ctx.addIssue({ code: 'custom', path: ['horizon'], message: 'a forecaster forecasts at least one window' });
    if (m.kind === 'anomaly' && m.thresholds.score === undefined) ctx.addIssue({ code: 'custom', path: ['thresholds', 'score'], message: 'a detector states its threshold' });
    for (const key of Object.keys(m.limits)) if (!isChannel(key)) ctx.addIssue({ code: 'custom', path: ['limits', key], message: 'a channel is <feature>.<stat>' });
    for (const key of ['fallback'] as const) if (m.missing[key].length !== m.channels.length) ctx.addIssue({ code: 'custom', path: ['missing', key], message: 'one value per channel' });
  });

export type Manifest = z.infer<typeof manifestSchema>;

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export interface LoadedModel {
  dir: string;
  manifest: Manifest;
  onnx: Uint8Array;
}

/** Reads a version folder and checks it against the contract, including the ONNX file's sha256. */
export function loadModelFolder(dir: string): LoadedModel {
  const manifestPath = path.join(dir, MANIFEST_FILE);
  if (!fs.existsSync(manifestPath)) throw new ModelError('MODEL_NOT_FOUND', `no ${MANIFEST_FILE} in ${dir}`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  } catch (cause) {
    throw new ModelError('MODEL_INVALID', `${manifestPath} is not JSON: ${(cause as Error).message}`, { cause });
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ModelError('MODEL_INVALID', `${manifestPath} does not meet the model contract:\n  ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  ')}`);
  }
  const onnxPath = path.join(dir, parsed.data.onnx.file);
  if (!fs.existsSync(onnxPath)) throw new ModelError('MODEL_NOT_FOUND', `no ${MODEL_FILE} in ${dir}`);
  const onnx = new Uint8Array(fs.readFileSync(onnxPath));
  const actual = sha256(onnx);
  if (actual !== parsed.data.onnx.sha256) throw new ModelError('MODEL_CHECKSUM', `${onnxPath} has sha256 ${actual}, the manifest says ${parsed.data.onnx.sha256}`);
  return { dir, manifest: parsed.data, onnx };
}

/** Writes a version folder: the ONNX file, then the manifest with its checksum, never over an existing version. */
export function writeModelFolder(dir: string, manifest: Omit<Manifest, 'onnx'> & { onnx: { opset: number } }, onnx: Uint8Array): Manifest {
  if (fs.existsSync(dir)) throw new ModelError('MODEL_INVALID', `${dir} exists: versions are never overwritten`);
  const full = { ...manifest, onnx: { file: MODEL_FILE, sha256: sha256(onnx), opset: manifest.onnx.opset, bytes: onnx.length } } as Manifest;
  const checked = manifestSchema.parse(full);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, MODEL_FILE), onnx);
  fs.writeFileSync(path.join(dir, MANIFEST_FILE), `${JSON.stringify(checked, null, 2)}\n`);
  return checked;
}
