import v8 from 'node:v8';
import vm from 'node:vm';
import { progressBar } from '../lib/progress';
import { loadCurrent, modelsDir } from '../models/store';
import { InferenceCore, type DeployedModels } from '../processors/inference/inference.core';
import { ChangelogJournal } from '../processors/inference/inference.journal';
import { decisionSettings } from '../processors/inference/inference.settings';
import { deployLoaded, openBaselineFromEnv } from '../processors/inference/model-holder';
import { SCHEMA_FILES, avroType, type WindowFeatures } from '../schemas';
import { machineId, syntheticWindow } from './inference.bench';
import { fmt } from './process';

/**
 * `pdmctl bench inference --core`: the inference processor's own work, in this process, without
 * Kafka: the same synthetic machines as `bench inference`, the shipped models deployed as the
 * service deploys them, the service's decision settings. Each live hour, every machine's window
 * goes through what the processor does with it between fetch and produce: Avro decode, the core
 * (history, models, decisions), the assessment's Avro encode and the changelog records. Measured
 * in CPU time of this process (process.cpuUsage, onnxruntime's threads included), so the figure
 * is what one core can do, whatever else runs on the machine; the difference from `bench
 * inference`'s live rate is what Kafka, transactions and the broker cost.
 */

export interface CoreBenchOptions {
  machines: number;
  liveHours: number;
}

/** Windows per core call, as a fetch would bring them. */
const BATCH = 500;

interface Steps {
  decode: number;
  core: number;
  assessment: number;
  changelog: number;
}

/** The heap and typed arrays still reachable after a full garbage collection, in bytes: what the state holds, without the garbage and slack a resident set carries. */
function retainedBytes(): { heap: number; arrays: number } {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heap: heapUsed, arrays: arrayBuffers };
}

const cpuMicros = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

export async function inferenceCoreBench(options: CoreBenchOptions, env: NodeJS.ProcessEnv, print: (line: string) => void): Promise<void> {
  const { machines, liveHours } = options;
  const root = modelsDir(env);
  const detector = loadCurrent(root, 'pdm-anomaly');
  const forecaster = loadCurrent(root, 'pdm-forecaster');
  const models: DeployedModels = { detector: await deployLoaded(detector), forecaster: await deployLoaded(forecaster), baseline: await openBaselineFromEnv(env) };
  try {
    const { policy, limits } = decisionSettings(env, detector.manifest.thresholds.consecutive);
    const core = new InferenceCore(policy, limits);
    const journal = new ChangelogJournal();
    const windowType = avroType(SCHEMA_FILES.windowFeatures);
    const assessmentType = avroType(SCHEMA_FILES.machineAssessment);
    const lookback = forecaster.manifest.lookback;
    const fromMs = Date.UTC(2026, 0, 5);
    const empty = retainedBytes();
    const hourOf = (i: number) => Array.from({ length: machines }, (_, m) => windowType.toBuffer(syntheticWindow(m, i, fromMs, m % 100 === 0 ? lookback + 2 : null)));

    const warm = progressBar(lookback, `warm-up: ${fmt(machines)} machines' first ${lookback} hours`);
    for (let i = 0; i < lookback; i++) {
      const windows = hourOf(i).map((b) => windowType.fromBuffer(b) as WindowFeatures);
      for (let k = 0; k < windows.length; k += BATCH) await core.assess(windows.slice(k, k + BATCH), models);
      warm.update(i + 1, `hour ${i + 1}`);
    }
    warm.stop();

    const steps: Steps = { decode: 0, core: 0, assessment: 0, changelog: 0 };
    const bytes = { assessment: 0, changelog: 0, snapshots: 0, deltas: 0 };
    let windows = 0;
    let assessed = 0;
    for (let i = lookback; i < lookback + liveHours; i++) {
      const records = hourOf(i);
      for (let k = 0; k < records.length; k += BATCH) {
        let t = cpuMicros();
        const batch = records.slice(k, k + BATCH).map((b) => windowType.fromBuffer(b) as WindowFeatures);
        steps.decode += cpuMicros() - t;
        t = cpuMicros();
        const result = await core.assess(batch, models);
        steps.core += cpuMicros() - t;
        t = cpuMicros();
        for (const a of result.assessments) bytes.assessment += assessmentType.toBuffer(a).length;
        steps.assessment += cpuMicros() - t;
        t = cpuMicros();
        for (const w of batch) {
          for (const r of journal.records(w.machineId, core.machines.get(w.machineId)!, [w])) {
            bytes.changelog += r.key.length + (r.value?.length ?? 0);
            if (r.value && r.key[0] === 0x4d) bytes.snapshots++;
            if (r.value && r.key[0] === 0x44) bytes.deltas++;
          }
        }
        steps.changelog += cpuMicros() - t;
        windows += batch.length;
        assessed += result.assessed;
      }
    }
    if (!core.machines.has(machineId(0))) throw new Error('the core kept no machine: nothing was measured');
    const full = retainedBytes();
    const retained = { heap: full.heap - empty.heap, arrays: full.arrays - empty.arrays };
    printCore(print, { machines, liveHours, windows, assessed, steps, bytes, retained });
  } finally {
    await models.detector?.model.close();
    await models.forecaster?.model.close();
    await models.baseline?.close();
  }
}

interface CoreFigures {
  machines: number;
  liveHours: number;
  windows: number;
  assessed: number;
  steps: Steps;
  bytes: { assessment: number; changelog: number; snapshots: number; deltas: number };
  /** Bytes the machines' state (the core's and the changelog journal's) keeps reachable. */
  retained: { heap: number; arrays: number };
}

function printCore(print: (line: string) => void, f: CoreFigures): void {
  const total = f.steps.decode + f.steps.core + f.steps.assessment + f.steps.changelog;
  const per = (micros: number) => `${(micros / f.windows).toFixed(1).padStart(6)} µs`;
  print(`inference core, no Kafka: ${fmt(f.machines)} machines, ${f.liveHours} live hours (${fmt(f.windows)} windows, ${fmt(f.assessed)} assessed), CPU time of one process`);
  print(`  rate         ${fmt((1e6 * f.windows) / total).padStart(8)} machine-windows/s on one core   (${(total / f.windows).toFixed(1)} µs a window)`);
  print(`  decode       ${per(f.steps.decode)}   Avro window record`);
  print(`  core         ${per(f.steps.core)}   history, the three models, decisions, assessment objects`);
  print(`  assessment   ${per(f.steps.assessment)}   Avro encode, ${fmt(f.bytes.assessment / f.windows)} bytes a window`);
  print(`  changelog    ${per(f.steps.changelog)}   ${fmt(f.bytes.changelog / f.windows)} bytes a window (${fmt(f.bytes.snapshots)} snapshots, ${fmt(f.bytes.deltas)} deltas)`);
  const kib = (n: number) => `${(n / f.machines / 1024).toFixed(1)} KiB`;
  print(`  state        ${kib(f.retained.heap + f.retained.arrays).padStart(9)} per machine reachable after a full GC (JS heap ${kib(f.retained.heap)}, typed arrays ${kib(f.retained.arrays)})`);
  print('               the resident set per machine, garbage and heap slack included, is `pdmctl bench inference`\'s');
}
