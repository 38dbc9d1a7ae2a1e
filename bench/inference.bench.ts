import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { deleteTopics, ensureTopics, openGroupWatcher } from '../lib/kafka/admin';
import { createKafka, kafkaConnectionFromEnv } from '../lib/kafka/client';
import { connectProducer, type OutgoingRecord } from '../lib/kafka/producer';
import { progressBar } from '../lib/progress';
import { createRegistry, registerTopicSchemas } from '../lib/registry';
import { Serde } from '../lib/serde';
import { TOPICS, keySubject, topicSpecs, valueSubject } from '../lib/topics';
import { loadCurrent, modelsDir } from '../models/store';
import { SCHEMA_FILES, avroType, schemaText, type AlertEvent, type FeatureStats, type MachineAssessment, type WindowFeatures, type WindowKey } from '../schemas';
import { fmt, rssMiB, runService, stop } from './process';

/**
 * `pdmctl bench inference`: the inference processor (`pdmctl run inference`, a process of its own,
 * exactly-once) with 10,000 machines on a local broker.
 *
 * 1. Warm-up: every machine's first `lookback` hourly windows (a week: the forecaster's lookback)
 *    are produced at once and worked through: the machines' histories fill, limits are learned.
 *    Its rate is printed apart: most of those windows are too early for a model.
 * 2. Live: then, hour by hour, every machine's next window is produced as one burst, as the window
 *    processor emits them when stream time passes the hour, and the bench waits until each has its
 *    assessment on pdm.assessments.v1 (read_committed) before the next hour. machine-windows/s is
 *    the windows over the time from each burst's first send to its last assessment; latency is per
 *    window, from the send of its record to its assessment (and, for the machines whose fault
 *    develops, to its alert) being read by a consumer: produce, processing, transaction commit and
 *    fetch, as another team's consumer would see it.
 * 3. Memory: the processor's resident set with every machine's state, less its resident set
 *    running with no machine, divided by the machines.
 *
 * The windows are synthetic (deterministic): each machine type's levels with a daily load cycle
 * and noise; 1 % of the machines overheat over the live hours, so alerts happen.
 */

export interface InferenceBenchOptions {
  machines: number;
  liveHours: number;
}

const HOUR = 3_600_000;
const TYPES = [
  { current: 11, acc: [0.021, 0.018, 0.012], tempA: 47, tempB: 38 },
  { current: 18, acc: [0.034, 0.03, 0.026], tempA: 50, tempB: 41 },
  { current: 6, acc: [0.015, 0.017, 0.022], tempA: 39, tempB: 34 },
  { current: 2.4, acc: [0.028, 0.025, 0.01], tempA: 71, tempB: 31 },
];

/** A deterministic value in [-1, 1) from integers (a hash, not a generator: any window can be made alone). */
function noise(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35) ^ Math.imul(c + 0x27d4eb2f, 0x165667b1);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return ((h ^ (h >>> 15)) >>> 0) / 2 ** 31 - 1;
}

export const machineId = (m: number): string => `bench-machine-${String(m).padStart(5, '0')}`;

/** Machine `m`'s window number `i` (hours from `fromMs`); `faultFromHour` starts an overheating ramp. */
export function syntheticWindow(m: number, i: number, fromMs: number, faultFromHour: number | null): WindowFeatures {
  const type = TYPES[m % TYPES.length]!;
  const start = fromMs + i * HOUR;
  const hourOfDay = new Date(start).getUTCHours();
  const load = hourOfDay >= 6 && hourOfDay < 22 ? 0.85 : 0.3;
  const stats = (mean: number, spread: number): FeatureStats => ({ count: 1800, mean, min: mean - 2 * spread, max: mean + 2 * spread, stddev: spread });
  const overheat = faultFromHour !== null && i >= faultFromHour ? (i - faultFromHour + 1) * 4 : 0;
  const level = (base: number, f: number, share: number) => base * (0.6 + 0.4 * load) * (1 + share * noise(m, i, f));
  const current = level(type.current, 1, 0.03);
  return {
    machineId: machineId(m),
    windowStart: start,
    windowEnd: start + HOUR,
    count: 1800,
    current: stats(current, current * 0.05),
    accX: stats(level(type.acc[0]!, 2, 0.05), type.acc[0]! * 0.1),
    accY: stats(level(type.acc[1]!, 3, 0.05), type.acc[1]! * 0.1),
    accZ: stats(level(type.acc[2]!, 4, 0.05), type.acc[2]! * 0.1),
    tempA: stats(level(type.tempA, 5, 0.02) + overheat, 0.5),
    tempB: stats(level(type.tempB, 6, 0.02) + overheat / 3, 0.4),
    extras: {},
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export async function inferenceBench(options: InferenceBenchOptions, env: NodeJS.ProcessEnv, print: (line: string) => void): Promise<void> {
  const prefix = `bench-${Date.now()}.`;
  const connection = kafkaConnectionFromEnv('pdm-bench', env);
  const specs = topicSpecs({ prefix });
  const registryUrl = env.SCHEMA_REGISTRY_URL ?? '';
  const registry = createRegistry(registryUrl);
  const serde = new Serde(registry.client);
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-bench-inference-'));
  const input = `${prefix}${TOPICS.windowFeatures}`;
  const group = `${prefix}pdm-inference`;
  const cleanup = [...specs.map((s) => s.name), `${group}-inference-state-changelog`];
  const lookback = loadCurrent(modelsDir(env), 'pdm-forecaster').manifest.lookback;
  const { machines, liveHours } = options;
  const faulty = new Set(Array.from({ length: Math.max(1, Math.round(machines / 100)) }, (_, k) => k * 100 + 7).filter((m) => m < machines));
  const fromMs = Math.floor((Date.now() - (lookback + liveHours + 24) * HOUR) / (24 * HOUR)) * 24 * HOUR;
  const cpus = os.cpus();
  print(`bench inference: ${fmt(machines)} machines, ${lookback} hourly windows each to warm up, then ${liveHours} live hours; ${faulty.size} machines overheat; ${specs[0]!.partitions} partitions, broker ${connection.brokers.join(',')}`);
  print(`  machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}, Node ${process.version}; logs in ${logDir}`);

  const watcher = await openGroupWatcher(connection);
  const producer = await connectProducer(connection);
  const kafka = createKafka(connection);
  const consumer = kafka.consumer({ groupId: `${prefix}bench-reader`, maxWaitTimeInMs: 100 });
  let child: ChildProcess | undefined;
  try {
    await ensureTopics(connection, specs);
    await registerTopicSchemas(registry, specs);
    const encodeKey = await serde.encoder<WindowKey>(keySubject(input), avroType(SCHEMA_FILES.windowKey), schemaText(SCHEMA_FILES.windowKey));
    const encodeValue = await serde.encoder<WindowFeatures>(valueSubject(input), avroType(SCHEMA_FILES.windowFeatures), schemaText(SCHEMA_FILES.windowFeatures));
    // As the window processor writes them: every window of a machine in one partition (its readings').
    const partitions = specs[0]!.partitions;
    const record = (w: WindowFeatures, m: number): OutgoingRecord => ({ key: encodeKey({ machineId: w.machineId, windowStart: w.windowStart }), value: encodeValue(w), partition: m % partitions });
    const faultFrom = (m: number) => (faulty.has(m) ? lookback : null);

    // The processor with no machine yet: its baseline memory.
    const serviceEnv = { ...env, PDM_TOPIC_PREFIX: prefix, PDM_INFERENCE_GROUP_ID: group, PDM_LOG_LEVEL: 'info' };
    const logFile = path.join(logDir, 'inference.log');
    child = runService('inference', serviceEnv, logFile);
    const started = performance.now();
    while (!fs.readFileSync(logFile, 'utf8').includes('"partition restored"')) {
      if (child.exitCode !== null) throw new Error(`pdmctl run inference exited (${child.exitCode}); see ${logFile}`);
      if (performance.now() - started > 120_000) throw new Error(`pdmctl run inference did not join within 2 minutes; see ${logFile}`);
      await sleep(100);
    }
    await sleep(2000);
    const baselineMiB = rssMiB(child.pid);

    // Warm-up.
    const warmTotal = machines * lookback;
    const bar = progressBar(warmTotal, '  producing the warm-up');
    for (let i = 0; i < lookback; i++) {
      for (let m0 = 0; m0 < machines; m0 += 2000) {
        const chunk: OutgoingRecord[] = [];
        for (let m = m0; m < Math.min(machines, m0 + 2000); m++) chunk.push(record(syntheticWindow(m, i, fromMs, faultFrom(m)), m));
        await producer.send([{ topic: input, records: chunk }]);
      }
      bar.update((i + 1) * machines, `${fmt((i + 1) * machines)} windows`);
    }
    bar.stop();
    const warmStarted = performance.now();
    let peakMiB = 0;
    const warmBar = progressBar(warmTotal, '  warming up');
    for (;;) {
      if (child.exitCode !== null) throw new Error(`pdmctl run inference exited (${child.exitCode}); see ${logFile}`);
      peakMiB = Math.max(peakMiB, rssMiB(child.pid));
      const { committed } = await watcher.progress(group, input).catch(() => ({ committed: 0 }));
      warmBar.update(Math.min(committed, warmTotal), `${fmt(committed)} windows committed`);
      if (committed >= warmTotal) break;
      if (performance.now() - warmStarted > 30 * 60_000) throw new Error(`the warm-up was not done after 30 minutes; see ${logFile}`);
      await sleep(200);
    }
    warmBar.stop();
    const warmSeconds = (performance.now() - warmStarted) / 1000;
    print(`  warm-up      ${fmt(warmTotal / warmSeconds).padStart(8)} machine-windows/s   (${fmt(warmTotal)} windows in ${warmSeconds.toFixed(1)} s; the forecaster starts once ${Math.round(lookback * 0.75)} windows are in)`);

    // Live hours: a burst of every machine's next window, then wait for all its assessments.
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const alertLatencies: number[] = [];
    let assessedThisHour = 0;
    let alerts = 0;
    let bothModels = 0;
    const decodeAssessment = serde.decoder<MachineAssessment>(avroType(SCHEMA_FILES.machineAssessment));
    const decodeAlert = serde.decoder<AlertEvent>(avroType(SCHEMA_FILES.alertEvent));
    const assessments = `${prefix}${TOPICS.assessments}`;
    const alertTopic = `${prefix}${TOPICS.alerts}`;
    await consumer.connect();
    await consumer.subscribe({ topics: [assessments, alertTopic], fromBeginning: false });
    let assigned = false;
    consumer.on(consumer.events.GROUP_JOIN, () => (assigned = true));
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const now = performance.now();
        for (const message of batch.messages) {
          if (!message.value) continue;
          if (batch.topic === assessments) {
            const a = await decodeAssessment(message.value);
            const sent = sentAt.get(`${a.machineId}@${a.windowEnd}`);
            if (sent === undefined) continue;
            latencies.push(now - sent);
            assessedThisHour++;
            if (a.forecast !== null && a.anomaly !== null) bothModels++;
          } else {
            const a = await decodeAlert(message.value);
            const sent = sentAt.get(`${a.machineId}@${a.windowEnd}`);
            alerts++;
            if (sent !== undefined) alertLatencies.push(now - sent);
          }
        }
      },
    });
    while (!assigned) await sleep(50);
    await sleep(1000);
    let liveWindows = 0;
    let liveSeconds = 0;
    const liveBar = progressBar(liveHours, '  live hours');
    for (let h = 0; h < liveHours; h++) {
      const i = lookback + h;
      assessedThisHour = 0;
      const first = performance.now();
      for (let m0 = 0; m0 < machines; m0 += 2000) {
        const windows: WindowFeatures[] = [];
        for (let m = m0; m < Math.min(machines, m0 + 2000); m++) windows.push(syntheticWindow(m, i, fromMs, faultFrom(m)));
        const records = windows.map((w, k) => record(w, m0 + k));
        const sending = performance.now();
        for (const w of windows) sentAt.set(`${w.machineId}@${w.windowEnd}`, sending);
        await producer.send([{ topic: input, records }]);
      }
      const deadline = performance.now() + 10 * 60_000;
      while (assessedThisHour < machines) {
        if (child.exitCode !== null) throw new Error(`pdmctl run inference exited (${child.exitCode}); see ${logFile}`);
        if (performance.now() > deadline) throw new Error(`hour ${h + 1}: ${assessedThisHour} of ${machines} assessments after 10 minutes; see ${logFile}`);
        await sleep(5);
      }
      liveSeconds += (performance.now() - first) / 1000;
      liveWindows += machines;
      peakMiB = Math.max(peakMiB, rssMiB(child.pid));
      liveBar.update(h + 1, `${fmt(liveWindows / liveSeconds)} machine-windows/s`);
    }
    liveBar.stop();
    const steadyMiB = rssMiB(child.pid);
    latencies.sort((a, b) => a - b);
    alertLatencies.sort((a, b) => a - b);
    const ms = (v: number) => `${v.toFixed(0)} ms`;
    print(`  live         ${fmt(liveWindows / liveSeconds).padStart(8)} machine-windows/s   (${fmt(liveWindows)} windows in ${liveSeconds.toFixed(1)} s, ${fmt(bothModels)} of them scored and forecast; ${liveHours} bursts of ${fmt(machines)})`);
    print(`  latency, window record to its assessment: p50 ${ms(percentile(latencies, 0.5))}, p99 ${ms(percentile(latencies, 0.99))}, max ${ms(latencies.at(-1) ?? Number.NaN)} (${fmt(latencies.length)} windows; a burst of ${fmt(machines)} queues behind itself)`);
    print(
      alertLatencies.length > 0
        ? `  latency, window record to its alert:      p50 ${ms(percentile(alertLatencies, 0.5))}, p99 ${ms(percentile(alertLatencies, 0.99))} (${fmt(alertLatencies.length)} alert transitions)`
        : `  latency, window record to its alert:      no alert in the live hours (${alerts} read)`,
    );
    print(`  memory       ${(((steadyMiB - baselineMiB) * 1024) / machines).toFixed(1)} KiB per machine   (RSS ${steadyMiB.toFixed(0)} MiB with ${fmt(machines)} machines, ${baselineMiB.toFixed(0)} MiB with none; peak ${peakMiB.toFixed(0)} MiB)`);

    // Restore: a clean stop, and a new instance of the group rebuilds every machine from the changelog.
    await stop(child);
    const restoreLog = path.join(logDir, 'restore.log');
    const restartedAt = performance.now();
    child = runService('inference', serviceEnv, restoreLog);
    let restored: Array<{ ms: number; changelogRecords: number; machines: number }> = [];
    while (restored.length < partitions) {
      if (child.exitCode !== null) throw new Error(`pdmctl run inference exited (${child.exitCode}); see ${restoreLog}`);
      if (performance.now() - restartedAt > 10 * 60_000) throw new Error(`the restore did not finish within 10 minutes; see ${restoreLog}`);
      await sleep(100);
      restored = fs
        .readFileSync(restoreLog, 'utf8')
        .split('\n')
        .filter((line) => line.includes('"partition restored"'))
        .map((line) => JSON.parse(line) as { ms: number; changelogRecords: number; machines: number });
    }
    const fromStart = (performance.now() - restartedAt) / 1000;
    print(
      `  restore      ${(Math.max(...restored.map((r) => r.ms)) / 1000).toFixed(1)} s for ${fmt(restored.reduce((n, r) => n + r.machines, 0))} machines   (slowest of ${partitions} partitions, in parallel; ${fmt(restored.reduce((n, r) => n + r.changelogRecords, 0))} changelog records; ${fromStart.toFixed(1)} s from process start; RSS ${rssMiB(child.pid).toFixed(0)} MiB)`,
    );
  } finally {
    if (child) await stop(child);
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await watcher.close();
    await deleteTopics(connection, cleanup).catch(() => undefined);
  }
}
