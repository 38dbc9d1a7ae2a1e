import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { repoRoot } from '../../lib/paths';
import { loadModelFolder, ModelError } from '../../models/contract';
import { simulateWindows } from '../../models/data/simulated';
import { WINDOW_COLUMNS, windowToRow } from '../../models/data/windows-table';
import { currentVersion, listVersions } from '../../models/store';
import { testEnv, uniqueName } from './servers';

/**
 * `pdmctl train --from-postgres` against the real primary and follower: window features written
 * to a table of the contract's columns (the migration's DDL, under a name of this test's own) on
 * the primary are read back on the follower, trained on, written as versions, promoted and rolled
 * back, as a person would.
 */

const pdmctl = (args: string[], env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'pdmctl.js'), ...args], { encoding: 'utf8', env, timeout: 170_000 });

describe('pdmctl train --from-postgres', () => {
  const env = testEnv();
  const table = `public.${uniqueName('train').replace(/-/g, '_')}`;
  const modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-models-'));
  const primary = new pg.Client({ connectionString: env.databaseUrl });
  let inserted = 0;

  beforeAll(async () => {
    await primary.connect();
    const ddl = fs
      .readFileSync(path.join(repoRoot, 'sinks', 'postgres', 'migrations', '001_window_features.sql'), 'utf8')
      .replaceAll('pdm.window_features', table)
      .replace('window_features_window_start', `${table.split('.')[1]}_window_start`);
    await primary.query(ddl);
    // Ten days of four machines, windowed by the window processor's rule.
    const fromMs = Date.UTC(2026, 0, 5);
    const { windows } = simulateWindows({ machines: 4, intervalMs: 60_000, fromMs, toMs: fromMs + 10 * 86_400_000, scenario: 'mixed', seed: 7, faultyFraction: 0.3 }, { sizeMs: 3_600_000, graceMs: 300_000 });
    const placeholders = WINDOW_COLUMNS.map((_, i) => `$${i + 1}`).join(', ');
    await primary.query('BEGIN');
    for (const w of windows) await primary.query(`INSERT INTO ${table} (${WINDOW_COLUMNS.join(', ')}) VALUES (${placeholders})`, windowToRow(w));
    await primary.query('COMMIT');
    inserted = windows.length;
    // The follower replays the primary's WAL: wait until it has the rows (no fixed sleep).
    const follower = new pg.Client({ connectionString: env.followerUrl });
    await follower.connect();
    const deadline = Date.now() + 30_000;
    for (;;) {
      const found = await follower.query(`SELECT count(*)::int AS n FROM ${table}`).then((r) => r.rows[0].n as number, () => -1);
      if (found === inserted || Date.now() > deadline) break;
      await sleep(200);
    }
    await follower.end();
  });

  afterAll(async () => {
    await primary.query(`DROP TABLE IF EXISTS ${table}`);
    await primary.end();
    fs.rmSync(modelsDir, { recursive: true, force: true });
  });

  const run = (args: string[]) => pdmctl(args, { ...process.env, MODELS_DIR: modelsDir, DATABASE_FOLLOWER_URL: env.followerUrl });
  const trainArgs = ['train', '--from-postgres', table, '--lookback', '48', '--period', '24', '--horizon', '3'];

  test('trains both kinds from the table, writes versions that meet the contract, and promotes the first', () => {
    const result = run(trainArgs);
    expect(result.stderr).toContain(`from postgres ${table}`);
    expect(result.status).toBe(0);
    for (const name of ['pdm-forecaster', 'pdm-anomaly']) {
      const { manifest } = loadModelFolder(path.join(modelsDir, name, 'v1'));
      expect(manifest.trainingData.source).toBe(`postgres ${table}`);
      expect(currentVersion(modelsDir, name)).toBe('v1');
    }
    const forecaster = loadModelFolder(path.join(modelsDir, 'pdm-forecaster', 'v1')).manifest;
    expect(forecaster.trainingData.windows).toBe(inserted);
    expect(forecaster.lookback).toBe(48);
    expect(forecaster.horizon).toBe(3);
  });

  test('a second run writes v2 beside v1 with the same model bytes; rollback returns to v1 in one command', () => {
    const result = run(trainArgs);
    expect(result.status).toBe(0);
    expect(listVersions(modelsDir, 'pdm-forecaster')).toEqual(['v1', 'v2']);
    const v1 = loadModelFolder(path.join(modelsDir, 'pdm-forecaster', 'v1')).manifest.onnx.sha256;
    const v2 = loadModelFolder(path.join(modelsDir, 'pdm-forecaster', 'v2')).manifest.onnx.sha256;
    expect(v2).toBe(v1);
    // Same data, same model: a tie is "at least as good", so v2 is current.
    expect(currentVersion(modelsDir, 'pdm-forecaster')).toBe('v2');
    const rollback = run(['models', 'rollback', 'pdm-forecaster']);
    expect(rollback.status).toBe(0);
    expect(rollback.stdout).toContain('v2 -> v1');
    expect(currentVersion(modelsDir, 'pdm-forecaster')).toBe('v1');
    const list = run(['models', 'list']);
    expect(list.stdout).toMatch(/\* v1 {2}forecaster/);
  });

  test('a tampered model.onnx fails the checksum and cannot be promoted', () => {
    const file = path.join(modelsDir, 'pdm-anomaly', 'v1', 'model.onnx');
    fs.appendFileSync(file, Buffer.from([0]));
    expect(() => loadModelFolder(path.dirname(file))).toThrow(ModelError);
    const promote = run(['models', 'promote', 'pdm-anomaly', 'v1']);
    expect(promote.status).toBe(1);
    expect(promote.stderr).toMatch(/sha256/);
  });
});
