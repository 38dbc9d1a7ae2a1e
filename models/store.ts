import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from '../lib/config';
import { repoRoot } from '../lib/paths';
import { modelSettings } from '../lib/shared.settings';
import { ModelError, loadModelFolder, writeModelFolder, type LoadedModel, type Manifest } from './contract';

/**
 * The model store: `<MODELS_DIR>/<name>/<version>/` folders written once and never overwritten,
 * a `current` file naming the promoted version, and `promotions.jsonl`, every change of `current`
 * in order (what rollback walks back along).
 */

export const CURRENT_FILE = 'current';
export const HISTORY_FILE = 'promotions.jsonl';

export const modelsDir = (env: NodeJS.ProcessEnv = process.env): string => path.resolve(repoRoot, parseEnv(modelSettings, env).MODELS_DIR);

export interface Promotion {
  version: string;
  previous: string | null;
  action: 'promote' | 'rollback';
  reason: string;
  at: string;
}

const versionNumber = (v: string) => Number(v.slice(1));

export function listVersions(root: string, name: string): string[] {
  const dir = path.join(root, name);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^v\d+$/.test(e.name))
    .map((e) => e.name)
    .sort((a, b) => versionNumber(a) - versionNumber(b));
}

export function listModelNames(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && listVersions(root, e.name).length > 0)
    .map((e) => e.name)
    .sort();
}

export function currentVersion(root: string, name: string): string | null {
  const file = path.join(root, name, CURRENT_FILE);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() || null : null;
}

export function history(root: string, name: string): Promotion[] {
  const file = path.join(root, name, HISTORY_FILE);
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Promotion);
}

/** The promoted version of a model, loaded and checked against the contract. */
export function loadCurrent(root: string, name: string): LoadedModel {
  const version = currentVersion(root, name);
  if (!version) throw new ModelError('MODEL_NOT_PROMOTED', `model ${name} has no promoted version in ${root} (pdmctl models list)`);
  return loadModelFolder(path.join(root, name, version));
}

/** Writes a new version beside the others (`version` or the next number). */
export function writeVersion(root: string, manifest: Omit<Manifest, 'version' | 'onnx'>, onnx: Uint8Array, opset: number, version?: string): Manifest {
  const versions = listVersions(root, manifest.name);
  const next = version ?? `v${versions.length === 0 ? 1 : versionNumber(versions[versions.length - 1]!) + 1}`;
  return writeModelFolder(path.join(root, manifest.name, next), { ...manifest, version: next, onnx: { opset } }, onnx);
}

function setCurrent(root: string, name: string, version: string, action: Promotion['action'], reason: string, now: Date): Promotion {
  const entry: Promotion = { version, previous: currentVersion(root, name), action, reason, at: now.toISOString() };
  const tmp = path.join(root, name, `${CURRENT_FILE}.tmp`);
  fs.writeFileSync(tmp, `${version}\n`);
  fs.renameSync(tmp, path.join(root, name, CURRENT_FILE));
  fs.appendFileSync(path.join(root, name, HISTORY_FILE), `${JSON.stringify(entry)}\n`);
  return entry;
}

/** Makes a version current (it must meet the contract). */
export function promote(root: string, name: string, version: string, reason: string, now = new Date()): Promotion {
  loadModelFolder(path.join(root, name, version));
  return setCurrent(root, name, version, 'promote', reason, now);
}

/** Goes back to the version that was current before the present one became current. */
export function rollback(root: string, name: string, now = new Date()): Promotion {
  const current = currentVersion(root, name);
  if (!current) throw new ModelError('MODEL_NOT_PROMOTED', `model ${name} has no promoted version to roll back from`);
  const entries = history(root, name);
  // The entry that made `current` current; its `previous` is where to go.
  const last = [...entries].reverse().find((e) => e.version === current && e.action === 'promote');
  const target = last?.previous;
  if (!target) throw new ModelError('MODEL_NOT_PROMOTED', `model ${name}: nothing was current before ${current}`);
  loadModelFolder(path.join(root, name, target));
  return setCurrent(root, name, target, 'rollback', `rollback from ${current}`, now);
}
