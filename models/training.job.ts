import { parseEnv } from '../lib/config';
import { kafkaConnectionFromEnv } from '../lib/kafka/client';
import { topicSettings } from '../lib/shared.settings';
import { registryUrlFromEnv } from '../lib/registry';
import { TOPICS } from '../lib/topics';
import type { WindowFeatures } from '../schemas';
import { loadModelFolder } from './contract';
import { readWindowsFromTopic } from './data/topic';
import type { TruthFault } from './events';
import { validationScore } from './promotion';
import { decidePromotion, type ModelOutcome, type RunResult } from './retrain.outcome';
import type { RetrainKind } from './retrain.settings';
import { openOnnxModel } from './runtime';
import { currentVersion, modelsDir, promote, writeVersion } from './store';
import { DEFAULT_TRAIN_OPTIONS, OPSET, train, type Candidate, type TrainOptions } from './train';

/**
 * The training job both `pdmctl train` and `pdmctl run retrain` run: window features in; each
 * candidate trained, written as a new version beside the others and, when it scores at least as
 * well as the current version on the same validation windows, promoted (retrain.outcome.ts says
 * the rule). The pure parts are train.ts and retrain.outcome.ts; this file is their I/O.
 */

export interface TrainingData {
  windows: WindowFeatures[];
  truth: TruthFault[] | null;
  /** Where the windows came from, for the manifest and the log (`topic pdm.window-features.v1`). */
  source: string;
}

/** The compacted window-features topic (under PDM_TOPIC_PREFIX), read to its end; a topic carries no ground truth. */
export async function readTopicWindows(env: NodeJS.ProcessEnv, clientId: string): Promise<TrainingData> {
  const topic = `${parseEnv(topicSettings, env).PDM_TOPIC_PREFIX}${TOPICS.windowFeatures}`;
  const windows = await readWindowsFromTopic(kafkaConnectionFromEnv(clientId, env), registryUrlFromEnv(env), topic);
  return { windows, truth: null, source: `topic ${topic}` };
}

export interface StoreOptions {
  root: string;
  kind: RetrainKind;
  /** false: write the versions, decide nothing (`--no-promote`). */
  promote: boolean;
  force?: boolean;
  /** The version to write (default: the next number); only with one kind. */
  version?: string;
  /** Who promoted, prefixed to the reason promotions.jsonl records (`retrain: ...`). */
  by?: string;
}

export interface TrainingHooks {
  onStep?: (step: string) => void;
  onCandidate?: (candidate: Candidate) => void;
  onOutcome?: (outcome: ModelOutcome) => void;
}

/** Writes a candidate as a new version, then promotes it or says why not. */
export async function storeCandidate(candidate: Candidate, data: TrainingData, options: StoreOptions): Promise<ModelOutcome> {
  const { root } = options;
  const previous = currentVersion(root, candidate.manifest.name);
  const manifest = writeVersion(root, candidate.manifest, candidate.onnx, OPSET, options.version);
  const { name: model, version, onnx } = manifest;
  const written = { model, kind: candidate.kind, version, previous, onnxBytes: onnx.bytes, sha256: onnx.sha256 };
  if (!options.promote) {
    return { ...written, outcome: 'written', reason: 'written without promotion (--no-promote)', candidateScore: null, currentScore: null };
  }

  const split = { fromMs: manifest.trainingData.split.validationFromMs, toMs: manifest.trainingData.split.testFromMs };
  const sd = manifest.normalization.channelSd;
  const candidateModel = await openOnnxModel(manifest, candidate.onnx);
  const candidateScore = await validationScore(candidateModel, data.windows, split, data.truth, sd).finally(() => candidateModel.close());
  let currentScore = null;
  if (previous) {
    const loaded = loadModelFolder(`${root}/${manifest.name}/${previous}`);
    // A current version trained on another window length can't be fed these windows: no score, the candidate wins.
    if (loaded.manifest.windowMs === manifest.windowMs) {
      const currentModel = await openOnnxModel(loaded.manifest, loaded.onnx);
      currentScore = await validationScore(currentModel, data.windows, split, data.truth, sd).finally(() => currentModel.close());
    }
  }
  const decision = decidePromotion({ kind: candidate.kind, current: previous, candidateScore, currentScore, force: options.force });
  if (decision.outcome === 'promoted') promote(root, manifest.name, manifest.version, options.by ? `${options.by}: ${decision.reason}` : decision.reason);
  return { ...written, ...decision, candidateScore, currentScore };
}

/** Trains on the data, then writes (and promotes) the candidates of the kind asked for, in order: forecaster, detector. */
export async function trainAndStore(
  data: TrainingData,
  trainOptions: TrainOptions,
  options: StoreOptions,
  hooks: TrainingHooks = {},
): Promise<ModelOutcome[]> {
  const result = train(data.windows, data.truth, trainOptions, hooks.onStep);
  const outcomes: ModelOutcome[] = [];
  for (const candidate of [result.forecaster, result.anomaly]) {
    if (options.kind !== 'both' && options.kind !== candidate.kind) continue;
    hooks.onCandidate?.(candidate);
    const outcome = await storeCandidate(candidate, data, options);
    hooks.onOutcome?.(outcome);
    outcomes.push(outcome);
  }
  return outcomes;
}

/** The models a run of `kind` trains, by name. */
export const modelNames = (kind: RetrainKind, options: TrainOptions = DEFAULT_TRAIN_OPTIONS): string[] =>
  kind === 'both' ? [options.names.forecaster, options.names.anomaly] : [options.names[kind]];

/**
 * One retraining run: the window topic read to its end, and, with at least `minWindows` windows,
 * the shipped default's training on them, into `MODELS_DIR`, promoting what scores at least as well.
 */
export async function retrainFromTopic(
  env: NodeJS.ProcessEnv,
  settings: { minWindows: number; kind: RetrainKind },
  hooks: TrainingHooks = {},
): Promise<RunResult> {
  const data = await readTopicWindows(env, 'pdm-retrain');
  const counts = { windows: data.windows.length, machines: new Set(data.windows.map((w) => w.machineId)).size, source: data.source };
  if (data.windows.length < settings.minWindows) return { status: 'skipped', ...counts, minWindows: settings.minWindows };
  const options: TrainOptions = { ...structuredClone(DEFAULT_TRAIN_OPTIONS), source: `pdmctl run retrain (${data.source})` };
  const models = await trainAndStore(data, options, { root: modelsDir(env), kind: settings.kind, promote: true, by: 'retrain' }, hooks);
  return { status: 'trained', ...counts, models };
}
