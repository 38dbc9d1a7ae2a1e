import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { deleteTopics, ensureTopics, openGroupWatcher, type GroupWatcher } from '../lib/kafka/admin';
import { createKafka, kafkaConnectionFromEnv } from '../lib/kafka/client';
import { connectProducer, type OutgoingRecord, type RecordProducer } from '../lib/kafka/producer';
import { progressBar } from '../lib/progress';
import { createRegistry, registerTopicSchemas, registryUrlFromEnv } from '../lib/registry';
import { Serde } from '../lib/serde';
import { TOPICS, keySubject, topicSpecs, valueSubject } from '../lib/topics';
import { loadCurrent, modelsDir } from '../models/store';
import { SCHEMA_FILES, avroType, schemaText, type AlertEvent, type FeatureStats, type MachineAssessment, type WindowFeatures, type WindowKey } from '../schemas';
import { profileLines, summarizeProfileDir } from './cpu-profile';
import { fmt, restoredPartitions, rssMiB, runService, stop } from './process';

/**
 * `pdmctl bench inference`: the inference processor (`pdmctl run inference`, a process of its own,
 * exactly-once) with 10,000 machines on a local broker.
 *
 * 1. Warm-up: every machine's first `lookback` hourly windows (a week: the forecaster's lookback)
 *    are produced at once and worked through: the machines' histories fill, limits are learned.
 *    Its rate is printed apart: most of those windows are too early for a model.
 * 2. Live: then, hour by hour, every machine's next window is produced as one burst, as the window
 *    processor emits them when stream time passes the hour, and the bench waits until each has its
 *    assessment on pdm.assessments.v2 (read_committed) before the next hour. machine-windows/s is
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
  /** Profile the processor (node --cpu-prof) through warm-up and live hours, and print where its time went. */
  cpuProf?: boolean;
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

/** A consumer of the bench's own, made by the Kafka adapter's client. */
type Consumer = ReturnType<ReturnType<typeof createKafka>['consumer']>;

/** The processor under test and how its input is made: what the warm-up and the live hours share. */
interface Feed {
  child: ChildProcess;
  logFile: string;
  producer: RecordProducer;
  input: string;
  machines: number;
  /** Machine `m`'s window number `i`. */
  windowOf: (m: number, i: number) => WindowFeatures;
  /** A window of machine `m` as the window processor writes it. */
  record: (w: WindowFeatures, m: number) => OutgoingRecord;
}

/** What the reader of assessments and alerts has seen in the live hours. */
interface LiveTally {
  /** From a window record's send to its assessment read, ms. */
  latencies: number[];
  /** From a window record's send to its alert read, ms. */
  alertLatencies: number[];
  assessedThisHour: number;
  alerts: number;
  /** Assessments with both a forecast and an anomaly score. */
  bothModels: number;
  /** Bytes of the live assessments' values, as another team's consumer reads them (Avro, schema id included). */
  assessmentBytes: number;
}

/** The live hours' machine-windows, the seconds they took, and the processor's peak RSS meanwhile. */
interface LiveResult {
  windows: number;
  seconds: number;
  peakMiB: number;
}

/** Throws when the processor has exited: its log says why. */
function assertRunning(child: ChildProcess, logFile: string): void {
  if (child.exitCode !== null) throw new Error(`pdmctl run inference exited (${child.exitCode}); see ${logFile}`);
}

/** Waits until the processor has joined its group: it logs each partition it has restored. */
async function awaitJoin(child: ChildProcess, logFile: string): Promise<void> {
  const started = performance.now();
  while (!fs.readFileSync(logFile, 'utf8').includes('"partition restored"')) {
    assertRunning(child, logFile);
    if (performance.now() - started > 120_000) throw new Error(`pdmctl run inference did not join within 2 minutes; see ${logFile}`);
    await sleep(100);
  }
}

/** Sends every machine's window number `i`, 2,000 machines a request; `sending` hears each request's windows just before it goes. */
async function sendHour(feed: Feed, i: number, sending?: (windows: readonly WindowFeatures[]) => void): Promise<void> {
  for (let m0 = 0; m0 < feed.machines; m0 += 2000) {
    const windows: WindowFeatures[] = [];
    for (let m = m0; m < Math.min(feed.machines, m0 + 2000); m++) windows.push(feed.windowOf(m, i));
    const records = windows.map((w, k) => feed.record(w, m0 + k));
    sending?.(windows);
    await feed.producer.send([{ topic: feed.input, records }]);
  }
}

/** Produces every machine's first `hours` windows. */
async function produceWarmup(feed: Feed, hours: number): Promise<void> {
  const bar = progressBar(feed.machines * hours, '  producing the warm-up');
  for (let i = 0; i < hours; i++) {
    await sendHour(feed, i);
    bar.update((i + 1) * feed.machines, `${fmt((i + 1) * feed.machines)} windows`);
  }
  bar.stop();
}

/** Waits until `group` has committed all `total` warm-up windows: the seconds that took, and the processor's peak RSS meanwhile. */
async function awaitWarmup(feed: Feed, watcher: GroupWatcher, group: string, total: number): Promise<{ seconds: number; peakMiB: number }> {
  const warmStarted = performance.now();
  let peakMiB = 0;
  const warmBar = progressBar(total, '  warming up');
  for (;;) {
    assertRunning(feed.child, feed.logFile);
    peakMiB = Math.max(peakMiB, rssMiB(feed.child.pid));
    const { committed } = await watcher.progress(group, feed.input).catch(() => ({ committed: 0 }));
    warmBar.update(Math.min(committed, total), `${fmt(committed)} windows committed`);
    if (committed >= total) break;
    if (performance.now() - warmStarted > 30 * 60_000) throw new Error(`the warm-up was not done after 30 minutes; see ${feed.logFile}`);
    await sleep(200);
  }
  warmBar.stop();
  return { seconds: (performance.now() - warmStarted) / 1000, peakMiB };
}

/**
 * Reads the assessments and alerts from now on (read_committed), timing each against its window's
 * send in `sentAt`; resolves once the reader has joined its group.
 */
async function startReader(consumer: Consumer, serde: Serde, prefix: string, sentAt: ReadonlyMap<string, number>): Promise<LiveTally> {
  const tally: LiveTally = { latencies: [], alertLatencies: [], assessedThisHour: 0, alerts: 0, bothModels: 0, assessmentBytes: 0 };
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
          tally.latencies.push(now - sent);
          tally.assessmentBytes += message.value.length;
          tally.assessedThisHour++;
          if (a.forecast !== null && a.anomaly !== null) tally.bothModels++;
        } else {
          const a = await decodeAlert(message.value);
          const sent = sentAt.get(`${a.machineId}@${a.windowEnd}`);
          tally.alerts++;
          if (sent !== undefined) tally.alertLatencies.push(now - sent);
        }
      }
    },
  });
  while (!assigned) await sleep(50);
  await sleep(1000);
  return tally;
}

/** `hours` live hours from window number `firstHour`: each a burst of every machine's next window, then a wait for all its assessments. */
async function runLiveHours(feed: Feed, firstHour: number, hours: number, tally: LiveTally, sentAt: Map<string, number>): Promise<LiveResult> {
  let liveWindows = 0;
  let liveSeconds = 0;
  let peakMiB = 0;
  const liveBar = progressBar(hours, '  live hours');
  for (let h = 0; h < hours; h++) {
    tally.assessedThisHour = 0;
    const first = performance.now();
    await sendHour(feed, firstHour + h, (windows) => {
      const sending = performance.now();
      for (const w of windows) sentAt.set(`${w.machineId}@${w.windowEnd}`, sending);
    });
    const deadline = performance.now() + 10 * 60_000;
    while (tally.assessedThisHour < feed.machines) {
      assertRunning(feed.child, feed.logFile);
      if (performance.now() > deadline) throw new Error(`hour ${h + 1}: ${tally.assessedThisHour} of ${feed.machines} assessments after 10 minutes; see ${feed.logFile}`);
      await sleep(5);
    }
    liveSeconds += (performance.now() - first) / 1000;
    liveWindows += feed.machines;
    peakMiB = Math.max(peakMiB, rssMiB(feed.child.pid));
    liveBar.update(h + 1, `${fmt(liveWindows / liveSeconds)} machine-windows/s`);
  }
  liveBar.stop();
  return { windows: liveWindows, seconds: liveSeconds, peakMiB };
}

/** The live hours' figures: machine-windows/s, the latencies to assessments and alerts, memory per machine. */
function printLive(print: (line: string) => void, options: InferenceBenchOptions, live: LiveResult, tally: LiveTally, memory: { baselineMiB: number; steadyMiB: number; peakMiB: number }): void {
  const { machines, liveHours } = options;
  const { latencies, alertLatencies } = tally;
  const { baselineMiB, steadyMiB, peakMiB } = memory;
  latencies.sort((a, b) => a - b);
  alertLatencies.sort((a, b) => a - b);
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  print(`  live         ${fmt(live.windows / live.seconds).padStart(8)} machine-windows/s   (${fmt(live.windows)} windows in ${live.seconds.toFixed(1)} s, ${fmt(tally.bothModels)} of them scored and forecast; ${liveHours} bursts of ${fmt(machines)})`);
  print(`  latency, window record to its assessment: p50 ${ms(percentile(latencies, 0.5))}, p99 ${ms(percentile(latencies, 0.99))}, max ${ms(latencies.at(-1) ?? Number.NaN)} (${fmt(latencies.length)} windows; a burst of ${fmt(machines)} queues behind itself)`);
  print(
    alertLatencies.length > 0
      ? `  latency, window record to its alert:      p50 ${ms(percentile(alertLatencies, 0.5))}, p99 ${ms(percentile(alertLatencies, 0.99))} (${fmt(alertLatencies.length)} alert transitions)`
      : `  latency, window record to its alert:      no alert in the live hours (${tally.alerts} read)`,
  );
  print(`  records      ${fmt(tally.assessmentBytes / Math.max(1, latencies.length))} bytes an assessment, as read (${fmt(tally.assessmentBytes / 2 ** 20)} MiB for ${fmt(latencies.length)})`);
  print(`  memory       ${(((steadyMiB - baselineMiB) * 1024) / machines).toFixed(1)} KiB per machine   (RSS ${steadyMiB.toFixed(0)} MiB with ${fmt(machines)} machines, ${baselineMiB.toFixed(0)} MiB with none; peak ${peakMiB.toFixed(0)} MiB)`);
}

/** Waits until the restarted processor `child` has restored all `partitions` from the changelog, and prints how long that took. */
async function reportRestore(child: ChildProcess, restoreLog: string, restartedAt: number, partitions: number, print: (line: string) => void): Promise<void> {
  let restored: Array<{ ms: number; records: number; bytes: number; machines: number }> = [];
  while (restored.length < partitions) {
    assertRunning(child, restoreLog);
    if (performance.now() - restartedAt > 10 * 60_000) throw new Error(`the restore did not finish within 10 minutes; see ${restoreLog}`);
    await sleep(100);
    restored = restoredPartitions(restoreLog);
  }
  const fromStart = (performance.now() - restartedAt) / 1000;
  const sum = (field: 'records' | 'bytes' | 'machines') => restored.reduce((n, r) => n + r[field], 0);
  const machines = sum('machines');
  print(
    `  restore      ${(Math.max(...restored.map((r) => r.ms)) / 1000).toFixed(1)} s for ${fmt(machines)} machines   (slowest of ${partitions} partitions, in parallel; ${fmt(sum('records'))} changelog records, ${(sum('bytes') / 2 ** 20).toFixed(0)} MiB, ${(sum('bytes') / Math.max(1, machines) / 1024).toFixed(1)} KiB a machine; ${fromStart.toFixed(1)} s from process start; RSS ${rssMiB(child.pid).toFixed(0)} MiB)`,
  );
}

/** The processor's profile (written as it stopped), summed up. */
function printProfile(dir: string, print: (line: string) => void): void {
  const profile = summarizeProfileDir(dir);
  if (!profile) return print(`  cpu profile  none written to ${dir}`);
  for (const line of profileLines(profile.summary)) print(line);
  print(`  (${profile.file}: open it in Chrome DevTools or speedscope)`);
}

export async function inferenceBench(options: InferenceBenchOptions, env: NodeJS.ProcessEnv, print: (line: string) => void): Promise<void> {
  const prefix = `bench-${Date.now()}.`;
  const connection = kafkaConnectionFromEnv('pdm-bench', env);
  const specs = topicSpecs({ prefix });
  const registryUrl = registryUrlFromEnv(env);
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
    const profileDir = path.join(logDir, 'cpu-profile');
    child = runService('inference', options.cpuProf ? { ...serviceEnv, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${profileDir}` } : serviceEnv, logFile);
    await awaitJoin(child, logFile);
    await sleep(2000);
    const baselineMiB = rssMiB(child.pid);
    const feed: Feed = { child, logFile, producer, input, machines, windowOf: (m, i) => syntheticWindow(m, i, fromMs, faultFrom(m)), record };

    // Warm-up.
    const warmTotal = machines * lookback;
    await produceWarmup(feed, lookback);
    const warm = await awaitWarmup(feed, watcher, group, warmTotal);
    print(`  warm-up      ${fmt(warmTotal / warm.seconds).padStart(8)} machine-windows/s   (${fmt(warmTotal)} windows in ${warm.seconds.toFixed(1)} s; the forecaster starts once ${Math.round(lookback * 0.75)} windows are in)`);

    // Live hours: a burst of every machine's next window, then wait for all its assessments.
    const sentAt = new Map<string, number>();
    const tally = await startReader(consumer, serde, prefix, sentAt);
    const live = await runLiveHours(feed, lookback, liveHours, tally, sentAt);
    printLive(print, options, live, tally, { baselineMiB, steadyMiB: rssMiB(child.pid), peakMiB: Math.max(warm.peakMiB, live.peakMiB) });

    // Restore: a clean stop, and a new instance of the group rebuilds every machine from the changelog.
    await stop(child);
    if (options.cpuProf) printProfile(profileDir, print);
    const restoreLog = path.join(logDir, 'restore.log');
    const restartedAt = performance.now();
    child = runService('inference', serviceEnv, restoreLog);
    await reportRestore(child, restoreLog, restartedAt, partitions, print);
  } finally {
    if (child) await stop(child);
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await watcher.close();
    await deleteTopics(connection, cleanup).catch(() => undefined);
  }
}
