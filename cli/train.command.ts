import fs from 'node:fs';
import type { Command } from 'commander';
import { parseDuration } from '../lib/duration';
import { progressBar } from '../lib/progress';
import type { WindowFeatures } from '../schemas';
import { readWindowsFromPostgres } from '../models/data/postgres';
import { simulateWindows } from '../models/data/simulated';
import { readWindowsCsv, windowsCsv } from '../models/data/windows-table';
import type { TruthFault } from '../models/events';
import { describeScore as describe } from '../models/promotion';
import type { ModelOutcome } from '../models/retrain.outcome';
import { modelsDir } from '../models/store';
import { DEFAULT_TRAIN_OPTIONS, type Candidate, type TrainOptions } from '../models/train';
import { readTopicWindows, trainAndStore, type TrainingData } from '../models/training.job';
import { fleetIds, machineSensors } from '../producers/simulate/fleet';
import { connectionEnv } from './connections';
import { FLEET_OPTIONS, fleetOptions, type FleetFlags } from './simulate.command';
import { PdmError } from '../lib/errors';
import { parseEnv } from '../lib/config';
import { followerSettings, postgresSettings } from '../lib/shared.settings';

interface Flags extends SimulatedFlags {
  simulate?: boolean;
  fromCsv?: string;
  fromPostgres?: string | boolean;
  fromTopic?: boolean;
  truth?: string;
  kind: string;
  version?: string;
  promote: boolean;
  forcePromote?: boolean;
  lookback?: string;
  horizon?: string;
  period?: string;
  exportCsv?: string;
}

/** The shipped default's data: 20 simulated machines, 30 days from a Monday, every 2 s, seed 1. */
export const DEFAULT_SIMULATION = { machines: '20', duration: '30d', from: '2026-01-05T00:00:00Z', interval: '2s', seed: '1', scenario: 'mixed' };

export function readTruth(file: string): TruthFault[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const f = JSON.parse(line) as { machineId: string; kind: string; category: string; onset: string; failureAt: string | null; end: string };
      return { machineId: f.machineId, kind: f.kind, category: f.category, onsetMs: Date.parse(f.onset), failureMs: f.failureAt ? Date.parse(f.failureAt) : null, endMs: Date.parse(f.end) };
    });
}

export interface SimulatedFlags extends FleetFlags {
  machines: string;
  duration: string;
  from: string;
  interval: string;
  seed: string;
  scenario: string;
  window: string;
}

/** Simulated readings windowed offline, with a progress bar over event time. */
export function simulatedData(flags: SimulatedFlags, label: string): { windows: WindowFeatures[]; truth: TruthFault[]; source: string; spanMs: number } {
  const fromMs = Date.parse(flags.from);
  if (!Number.isFinite(fromMs)) throw new PdmError('USAGE', `--from ${flags.from} is not an ISO-8601 time`);
  const spanMs = parseDuration(flags.duration);
  const machines = Number(flags.machines);
  const fleet = fleetOptions(flags, machines, fromMs + spanMs);
  const intervalMs = parseDuration(flags.interval);
  const options = { machines, intervalMs, fromMs, toMs: fromMs + spanMs, scenario: flags.scenario, seed: Number(flags.seed), faultyFraction: 0.3, ...fleet };
  const bar = progressBar(100, label);
  const result = simulateWindows(options, { sizeMs: parseDuration(flags.window), graceMs: 5 * 60_000 }, (done, total) => bar.update(Math.round((100 * done) / total), `${new Date(fromMs + done).toISOString().slice(0, 13)}Z`));
  bar.stop();
  // A machine's sensors follow from its index, as in the simulation itself.
  const sensorsOf = new Map(fleetIds(machines).map((id, index) => [id, machineSensors(index, fleet)]));
  const truth = result.faults.map((f) => ({
    machineId: f.machineId,
    kind: f.kind,
    category: f.category,
    onsetMs: f.onsetMs,
    failureMs: f.failureMs,
    endMs: f.endMs,
    sensors: sensorsOf.get(f.machineId),
  }));
  const variant = [
    flags.sensors !== undefined ? ` --sensors ${fleet.sensors.join(',')}` : '',
    fleet.fleet !== 'uniform' ? ` --fleet ${fleet.fleet}` : '',
    ...(flags.fault ?? []).map((spec) => ` --fault ${spec}`),
  ].join('');
  const run = `--machines ${flags.machines} --duration ${flags.duration} --from ${flags.from} --interval ${flags.interval} --seed ${flags.seed} --scenario ${flags.scenario}`;
  const source = `simulate ${run}${variant} (windows of ${flags.window})`;
  return { windows: result.windows, truth, source, spanMs };
}

async function loadData(flags: Flags): Promise<TrainingData> {
  const chosen = [flags.simulate, flags.fromCsv, flags.fromPostgres, flags.fromTopic].filter((v) => v !== undefined && v !== false).length;
  if (chosen !== 1) throw new PdmError('USAGE', 'choose one source: --simulate, --from-csv FILE, --from-postgres [TABLE] or --from-topic');
  if (flags.simulate) {
    const data = simulatedData(flags, 'simulate');
    return { windows: data.windows, truth: data.truth, source: data.source };
  }
  const truth = flags.truth ? readTruth(flags.truth) : null;
  if (flags.fromCsv) return { windows: readWindowsCsv(flags.fromCsv), truth, source: `csv ${flags.fromCsv}` };
  if (flags.fromPostgres) {
    const env = connectionEnv();
    const table = typeof flags.fromPostgres === 'string' ? flags.fromPostgres : 'pdm.window_features';
    const url = parseEnv(followerSettings.partial(), env).DATABASE_FOLLOWER_URL ?? parseEnv(postgresSettings.pick({ DATABASE_URL: true }).partial(), env).DATABASE_URL;
    if (!url) throw new PdmError('CONFIG_INVALID', 'DATABASE_FOLLOWER_URL (or DATABASE_URL) is not set');
    return { windows: await readWindowsFromPostgres(url, { table }), truth, source: `postgres ${table}` };
  }
  return { ...(await readTopicWindows(connectionEnv(), 'pdmctl-train')), truth };
}

function trainOptions(flags: Flags, source: string): TrainOptions {
  const o = structuredClone(DEFAULT_TRAIN_OPTIONS);
  o.source = source;
  if (flags.lookback) o.forecaster.lookback = Number(flags.lookback);
  if (flags.horizon) o.forecaster.horizon = Number(flags.horizon);
  if (flags.period !== undefined) o.forecaster.period = Number(flags.period);
  if (o.forecaster.period > o.forecaster.lookback) o.forecaster.period = 0;
  return o;
}

/** What the CLI says about a stored candidate: where it went, and whether it was promoted and why (the messages of `store` before the job moved to models/). */
function report(root: string, o: ModelOutcome): string[] {
  const where = `${o.model}/${o.version}`;
  const lines = [`Wrote ${root}/${where} (model.onnx ${o.onnxBytes.toLocaleString('en')} bytes, sha256 ${o.sha256.slice(0, 16)}...)`];
  if (o.outcome === 'written') return lines;
  if (o.outcome === 'promoted') {
    if (o.previous === null) lines.push(`Promoted ${where}: the first version of ${o.model}`);
    else lines.push(`Promoted ${where}: ${describe(o.candidateScore)}; ${o.previous} had ${describe(o.currentScore)}`);
    return lines;
  }
  const why = o.candidateScore ? '' : ' (a detector is compared on the machine faults of labelled data: it needs --truth)';
  lines.push(
    `Kept ${o.model}/${o.previous} current: ${where} scored ${describe(o.candidateScore)} against ${describe(o.currentScore)}${why}; ` +
      `promote it by hand with pdmctl models promote ${o.model} ${o.version}`,
  );
  return lines;
}

const KINDS = ['both', 'forecaster', 'anomaly'] as const;

const summary = (c: Candidate): string => {
  const m = c.manifest.metrics as Record<string, unknown>;
  if (c.kind === 'forecaster') {
    const test = (m.test ?? m.validation) as { model: { scaledMaePerStep: number[] }; baselines: Record<string, { scaledMaePerStep: number[] }>; intervalCoverage: number; samples: number };
    const rows = [['model', test.model.scaledMaePerStep], ...Object.entries(test.baselines).map(([k, v]) => [k, v.scaledMaePerStep] as const)];
    return `forecaster, ${m.test ? 'test' : 'validation'} split (${test.samples} samples), MAE/spread per step:\n${rows.map(([k, v]) => `  ${String(k).padEnd(16)} ${(v as number[]).map((x) => x.toFixed(4)).join('  ')}`).join('\n')}\n  interval coverage ${test.intervalCoverage}`;
  }
  return `anomaly detector, validation split: ${JSON.stringify(m.validation)}`;
};

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('fit the forecaster and the anomaly detector from window features, export them to ONNX, write and promote versions')
    .option('--simulate', 'train on simulated machines windowed offline (no Kafka): see --machines, --duration, --seed')
    .option('--from-csv <file>', 'window features from a CSV (machine_id,window_start,window_end,count,<feature>_<stat>...; models/README.md)')
    .option('--from-postgres [table]', 'window features from Postgres (default table pdm.window_features, on DATABASE_FOLLOWER_URL)')
    .option('--from-topic', 'window features from the compacted pdm.window-features.v1 (PDM_TOPIC_PREFIX applies), read to its end')
    .option('--truth <file>', 'ground truth of faults (JSON lines of pdmctl simulate --truth), to train the detector on normal windows only')
    .option('--machines <n>', 'simulated machines', DEFAULT_SIMULATION.machines)
    .option('--duration <duration>', 'simulated event time', DEFAULT_SIMULATION.duration)
    .option('--from <iso>', 'start of simulated event time', DEFAULT_SIMULATION.from)
    .option('--interval <duration>', 'simulated reading interval', DEFAULT_SIMULATION.interval)
    .option('--seed <n>', 'simulation seed (the same seed trains the same model, byte for byte)', DEFAULT_SIMULATION.seed)
    .option('--scenario <scenario>', 'simulation scenario', DEFAULT_SIMULATION.scenario)
    .option('--window <duration>', 'window length of simulated features', '1h')
    .addOption(FLEET_OPTIONS.sensors())
    .addOption(FLEET_OPTIONS.fleet())
    .addOption(FLEET_OPTIONS.fault())
    .option('--kind <kind>', 'both, forecaster or anomaly', 'both')
    .option('--lookback <n>', 'forecaster lookback in windows (default 168)')
    .option('--horizon <n>', 'forecaster horizon in windows (default 6)')
    .option('--period <n>', 'forecaster seasonal anchor in windows, 0 for the last value (default 168)')
    .option('--version <vN>', 'version to write (default: the next number)')
    .option('--no-promote', 'write the versions without promoting them')
    .option('--force-promote', 'promote whatever the validation says')
    .option('--export-csv <file>', 'also write the window features trained on as CSV')
    .action(async (flags: Flags) => {
      const started = Date.now();
      const kind = KINDS.find((k) => k === flags.kind);
      if (!kind) throw new PdmError('USAGE', `--kind ${flags.kind}: one of ${KINDS.join(', ')}`);
      const { windows, truth, source } = await loadData(flags);
      if (flags.exportCsv) fs.writeFileSync(flags.exportCsv, windowsCsv(windows));
      console.error(`${windows.length.toLocaleString('en')} windows of ${new Set(windows.map((w) => w.machineId)).size} machines from ${source}`);
      const root = modelsDir();
      const store = { root, kind, promote: flags.promote, force: flags.forcePromote, version: flags.version };
      await trainAndStore({ windows, truth, source }, trainOptions(flags, source), store, {
        onStep: (step) => console.error(`  ${step}`),
        onCandidate: (candidate) => console.error(summary(candidate)),
        onOutcome: (outcome) => report(root, outcome).forEach((line) => console.error(line)),
      });
      console.error(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    });
}
