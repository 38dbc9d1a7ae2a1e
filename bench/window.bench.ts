import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { deleteTopics, ensureTopics, openGroupWatcher, type GroupWatcher } from '../lib/kafka/admin';
import { kafkaConnectionFromEnv, type KafkaConnection } from '../lib/kafka/client';
import { createLogger } from '../lib/logger';
import { createRegistry as createMetrics } from '../lib/metrics';
import { repoRoot } from '../lib/paths';
import { createRegistry, registerTopicSchemas, registryUrlFromEnv } from '../lib/registry';
import { progressBar } from '../lib/progress';
import { TOPICS, keySubject, topicSpecs, valueSubject } from '../lib/topics';
import { openReadingsOutput } from '../producers/runtime';
import type { RawReading } from '../producers/simulate/simulator';
import { simulatedReadings } from './produce.bench';
import { fmt, restoredPartitions, rssMiB, runService, stop } from './process';

/**
 * `pdmctl bench window`: readings per second through the window processor on a local broker,
 * exactly-once and at-least-once, beside the same job written for Kafka Streams
 * (bench/kafka-streams/) on the same broker and the same input; then the time to restore the
 * state of 10,000 machines' open windows.
 *
 * Each run is a process of its own (`pdmctl run window`, or the Kafka Streams jar) reading the
 * whole input topic from the start under a new consumer group. The figure is the input records
 * over the time from the group's first committed offset to its last: the steady rate, without
 * JVM or Node start-up and group join, which are printed apart. Progress is read from the
 * committed offsets, the one thing both implementations have in common.
 */

export interface WindowBenchOptions {
  records: number;
  machines: number;
  windowMs: number;
  graceMs: number;
  restoreMachines: number;
  restoreReadings: number;
  kafkaStreams: boolean;
  /** Extra channels (SensorReading.extras) every reading carries beyond the six features. */
  extras: number;
}

interface RunResult {
  /** Process start to the group's first commit. */
  startupSeconds: number;
  /** First commit to the last input record committed. */
  seconds: number;
  records: number;
  peakRssMiB: number;
}

const JAR = path.join(repoRoot, 'bench', 'kafka-streams', 'target', 'pdm-window-kstreams.jar');


/** Runs a processor until its group has committed the whole input, sampling its memory. */
async function measure(label: string, child: ChildProcess, watcher: GroupWatcher, group: string, topic: string, total: number): Promise<RunResult> {
  const started = performance.now();
  let firstCommit: number | undefined;
  let peak = 0;
  let failed: string | undefined;
  child.once('exit', (code, signal) => (failed = `exited with ${code ?? signal} before finishing`));
  const bar = progressBar(total, `  ${label.padEnd(28)}`);
  try {
    for (;;) {
      if (failed) throw new Error(`${label}: ${failed}`);
      peak = Math.max(peak, rssMiB(child.pid));
      const { committed } = await watcher.progress(group, topic).catch(() => ({ committed: 0 }));
      if (committed > 0 && firstCommit === undefined) firstCommit = performance.now();
      bar.update(committed, `${committed.toLocaleString('en')} / ${total.toLocaleString('en')} readings committed`);
      if (committed >= total) break;
      if (performance.now() - started > 15 * 60_000) throw new Error(`${label}: not done after 15 minutes (${committed} of ${total} committed)`);
      await sleep(50);
    }
  } finally {
    bar.stop();
  }
  const done = performance.now();
  await stop(child);
  return { startupSeconds: (firstCommit! - started) / 1000, seconds: (done - firstCommit!) / 1000, records: total, peakRssMiB: peak };
}

const ourProcessor = (env: NodeJS.ProcessEnv, logFile: string): ChildProcess => runService('window', env, logFile);

/** Builds the Kafka Streams jar when it is missing or older than its sources; undefined when Java or Maven is missing. */
function kafkaStreamsJar(print: (line: string) => void): string | undefined {
  const sources = path.join(repoRoot, 'bench', 'kafka-streams');
  const newest = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
      const full = path.join(dir, entry.name);
      if (entry.name === 'target') return latest;
      return Math.max(latest, entry.isDirectory() ? newest(full) : fs.statSync(full).mtimeMs);
    }, 0);
  if (fs.existsSync(JAR) && fs.statSync(JAR).mtimeMs >= newest(sources)) return JAR;
  for (const tool of ['java', 'mvn']) {
    if (spawnSync(tool, ['-version'], { stdio: 'ignore' }).error) {
      print(`  Kafka Streams: skipped (${tool} is not installed; the comparison needs Java 17 and Maven)`);
      return undefined;
    }
  }
  print('  building the Kafka Streams job (mvn package, about 30 s the first time)...');
  const build = spawnSync('mvn', ['-q', '-B', '-Dstyle.color=never', '-f', path.join(sources, 'pom.xml'), 'package', '-DskipTests'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (build.status !== 0 || !fs.existsSync(JAR)) throw new Error('building bench/kafka-streams failed (see the Maven output above)');
  return JAR;
}

async function schemaIds(registryUrl: string, topic: string): Promise<{ key: number; value: number }> {
  const registry = createRegistry(registryUrl).client;
  return { key: await registry.getLatestSchemaId(keySubject(topic)), value: await registry.getLatestSchemaId(valueSubject(topic)) };
}

function kafkaStreams(jar: string, args: { brokers: string; input: string; output: string; group: string; sizeMs: number; graceMs: number; ids: { key: number; value: number }; guarantee: string; stateDir: string }, logFile: string): ChildProcess {
  const log = fs.openSync(logFile, 'a');
  // prettier-ignore
  return spawn('java', ['-jar', jar,
    '--bootstrap', args.brokers, '--input-topic', args.input, '--output-topic', args.output, '--application-id', args.group,
    '--window-size-ms', String(args.sizeMs), '--grace-ms', String(args.graceMs),
    '--key-schema-id', String(args.ids.key), '--value-schema-id', String(args.ids.value),
    '--processing-guarantee', args.guarantee, '--schemas', path.join(repoRoot, 'schemas'), '--state-dir', args.stateDir,
    // Commit as often as our processor does at both guarantees (Streams' EOS default), so output and progress are comparable.
    '--commit-interval-ms', '100',
  ], { stdio: ['ignore', log, log] });
}

export async function produceReadings(env: NodeJS.ProcessEnv, prefix: string, readings: Iterable<RawReading>, total: number, label: string): Promise<number> {
  const { readings: output, close } = await openReadingsOutput({
    stage: 'bench',
    env: { ...env, PDM_TOPIC_PREFIX: prefix, PDM_MACHINE_ALLOWLIST: '' },
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics('bench', false),
  });
  const bar = progressBar(total, `  ${label.padEnd(28)}`);
  let n = 0;
  for (const r of readings) {
    await output.add(r, { description: 'bench' }, () => JSON.stringify(r));
    if (++n % 10_000 === 0) bar.update(n, `${n.toLocaleString('en')} readings`);
  }
  await close();
  bar.stop();
  return output.counts.produced;
}

/** Readings of `machines` machines, `perMachine` each, all inside one window: the most open state there can be. */
function* openWindowReadings(machines: number, perMachine: number, windowStartMs: number, spacingMs: number): Generator<RawReading> {
  for (let i = 0; i < perMachine; i++) {
    for (let m = 0; m < machines; m++) {
      const t = windowStartMs + i * spacingMs;
      yield { machineId: `machine-${String(m).padStart(5, '0')}`, timestamp: t, current: 10 + Math.sin(t / 1e6 + m), accX: 0.02, accY: 0.03, accZ: null, tempA: 40 + (m % 7), tempB: 30 };
    }
  }
}

/** `extra_01` ... : the names of `n` extra channels. */
const extraNames = (n: number): string[] => Array.from({ length: n }, (_, i) => `extra_${String(i + 1).padStart(2, '0')}`);

/** The readings with exactly `n` extra channels each, values that vary with the reading (a window's statistics are not all equal). */
function* withExtras(readings: Iterable<RawReading>, n: number): Generator<RawReading> {
  const names = extraNames(n);
  for (const r of readings) {
    // Exactly these: a simulated pump's own channels (pressure, flow) are left out.
    const base = (r.current ?? 0) + (r.timestamp % 60_000) / 60_000;
    yield { ...r, extras: Object.fromEntries(names.map((name, i) => [name, base * (i + 1) + i])) };
  }
}

const rate = (r: RunResult) => r.records / r.seconds;

/** What the bench's parts share: its settings, the broker and registry, where processes log, and what is cleaned up at the end. */
interface WindowBenchRun {
  options: WindowBenchOptions;
  env: NodeJS.ProcessEnv;
  connection: KafkaConnection;
  registryUrl: string;
  watcher: GroupWatcher;
  logDir: string;
  /** Topics deleted at the end. */
  cleanup: string[];
  /** Registers a process to kill at the end, should it still run. */
  track: (child: ChildProcess) => ChildProcess;
  print: (line: string) => void;
}

/** The environment of our window processor on the topics of `prefix`, as group `group` with `guarantee`. */
function processorEnv(run: WindowBenchRun, prefix: string, group: string, guarantee: string): NodeJS.ProcessEnv {
  return {
    ...run.env,
    PDM_TOPIC_PREFIX: prefix,
    PDM_WINDOW_GROUP_ID: group,
    PDM_WINDOW_SIZE: `${run.options.windowMs / 1000}s`,
    PDM_WINDOW_GRACE: `${run.options.graceMs / 1000}s`,
    PDM_PROCESSING_GUARANTEE: guarantee,
    PDM_LOG_LEVEL: 'info',
  };
}

/**
 * Restore: one group builds the open windows of many machines, stops cleanly, and a new instance
 * of the same group rebuilds them from the changelog. Prints the time that took.
 */
async function measureRestore(run: WindowBenchRun, restorePrefix: string): Promise<void> {
  const { options, env, connection, registryUrl, watcher, logDir, cleanup, track, print } = run;
  const restoreSpecs = topicSpecs({ prefix: restorePrefix });
  cleanup.push(...restoreSpecs.map((s) => s.name));
  await ensureTopics(connection, restoreSpecs);
  await registerTopicSchemas(createRegistry(registryUrl), restoreSpecs);
  const hour = 3_600_000;
  const windowStart = Math.floor((Date.now() - 24 * hour) / hour) * hour;
  const restoreTotal = options.restoreMachines * options.restoreReadings;
  const spacingMs = Math.floor(hour / (options.restoreReadings + 1));
  const restoreInput = withExtras(openWindowReadings(options.restoreMachines, options.restoreReadings, windowStart, spacingMs), options.extras);
  await produceReadings(env, restorePrefix, restoreInput, restoreTotal, `input of ${fmt(options.restoreMachines)} machines`);
  const restoreGroup = `${restorePrefix}pdm-window`;
  cleanup.push(`${restoreGroup}-window-state-changelog`);
  const restoreEnv = { ...processorEnv(run, restorePrefix, restoreGroup, 'exactly-once'), PDM_WINDOW_SIZE: '1h', PDM_WINDOW_GRACE: '5m' };
  await measure('building the state', track(ourProcessor(restoreEnv, path.join(logDir, 'restore-build.log'))), watcher, restoreGroup, `${restorePrefix}${TOPICS.readings}`, restoreTotal);
  const restoreLog = path.join(logDir, 'restore.log');
  const started = performance.now();
  const child = track(ourProcessor(restoreEnv, restoreLog));
  const partitions = restoreSpecs[0]!.partitions;
  let restored: Array<{ ms: number; records: number; openWindows: number }> = [];
  while (restored.length < partitions) {
    if (performance.now() - started > 5 * 60_000) throw new Error('the restore did not finish within 5 minutes');
    await sleep(50);
    restored = restoredPartitions(restoreLog);
  }
  const toRestored = (performance.now() - started) / 1000;
  const rss = rssMiB(child.pid);
  await stop(child);
  const windows = restored.reduce((s, r) => s + r.openWindows, 0);
  const records = restored.reduce((s, r) => s + r.records, 0);
  print(
    `  restore ${fmt(windows)} open windows   ${(Math.max(...restored.map((r) => r.ms)) / 1000).toFixed(2)} s (slowest of ${partitions} partitions, restored in parallel; ${fmt(records)} changelog records; ${toRestored.toFixed(1)} s from process start, group join included; RSS ${rss.toFixed(0)} MiB)`,
  );
}

export async function windowBench(options: WindowBenchOptions, env: NodeJS.ProcessEnv, print: (line: string) => void): Promise<void> {
  const stamp = Date.now();
  const prefix = `bench-${stamp}.`;
  const connection: KafkaConnection = kafkaConnectionFromEnv('pdm-bench', env);
  const specs = topicSpecs({ prefix });
  const registryUrl = registryUrlFromEnv(env);
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-bench-window-'));
  const input = `${prefix}${TOPICS.readings}`;
  const cleanup: string[] = specs.map((s) => s.name);
  const watcher = await openGroupWatcher(connection);
  const children = new Set<ChildProcess>();
  const track = (child: ChildProcess) => {
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };
  const run: WindowBenchRun = { options, env, connection, registryUrl, watcher, logDir, cleanup, track, print };
  const cpus = os.cpus();
  const channels = options.extras > 0 ? `the six features and ${options.extras} extra channels` : 'the six features';
  print(`bench window: ${fmt(options.records)} readings (${channels}) of ${options.machines} simulated machines, ${options.windowMs / 60_000}-minute windows,` +
    ` ${specs[0]!.partitions} partitions, broker ${connection.brokers.join(',')}`);
  print(`  machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}, Node ${process.version}; logs in ${logDir}`);
  try {
    await ensureTopics(connection, specs);
    await registerTopicSchemas(createRegistry(registryUrl), specs);
    const readings = withExtras(simulatedReadings(options.machines, options.records), options.extras);
    const produced = await produceReadings(env, prefix, readings, options.records, 'producing the input');

    const results: Array<{ label: string; result: RunResult }> = [];
    const report = (label: string, result: RunResult) => {
      results.push({ label, result });
      print(`  ${label.padEnd(28)} ${fmt(rate(result)).padStart(9)} readings/s   (${fmt(result.records)} in ${result.seconds.toFixed(1)} s after ${result.startupSeconds.toFixed(1)} s start-up; peak RSS ${result.peakRssMiB.toFixed(0)} MiB)`);
    };
    for (const guarantee of ['exactly-once', 'at-least-once']) {
      const group = `${prefix}pdm-window-${guarantee}`;
      cleanup.push(`${group}-window-state-changelog`);
      const child = track(ourProcessor(processorEnv(run, prefix, group, guarantee), path.join(logDir, `pdm-${guarantee}.log`)));
      report(`pdm-stream ${guarantee}`, await measure(`pdm-stream ${guarantee}`, child, watcher, group, input, produced));
    }

    // The Kafka Streams job aggregates the six features only: beside extras it would do less work.
    if (options.kafkaStreams && options.extras > 0) print('  Kafka Streams: skipped (its job aggregates the six features only, not extra channels)');
    const jar = options.kafkaStreams && options.extras === 0 ? kafkaStreamsJar(print) : undefined;
    if (jar) {
      const ids = await schemaIds(registryUrl, `${prefix}${TOPICS.windowFeatures}`);
      for (const guarantee of ['exactly_once_v2', 'at_least_once']) {
        const group = `${prefix}kstreams-${guarantee}`;
        const output = `${prefix}kstreams-${guarantee}.window-features`;
        await ensureTopics(connection, [{ ...specs.find((s) => s.contractName === TOPICS.windowFeatures)!, name: output }]);
        cleanup.push(output, `${group}-window-aggregates-changelog`, `${group}-final-windows-store-changelog`);
        const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-kstreams-'));
        const child = track(kafkaStreams(jar, { brokers: connection.brokers.join(','), input, output, group, sizeMs: options.windowMs, graceMs: options.graceMs, ids, guarantee, stateDir }, path.join(logDir, `kstreams-${guarantee}.log`)));
        report(`Kafka Streams ${guarantee.replace('_v2', '').replace(/_/g, '-')}`, await measure(`Kafka Streams ${guarantee}`, child, watcher, group, input, produced));
        fs.rmSync(stateDir, { recursive: true, force: true });
      }
      const find = (label: string) => results.find((r) => r.label === label)!.result;
      print(`  ratio pdm-stream / Kafka Streams: exactly-once ${(rate(find('pdm-stream exactly-once')) / rate(find('Kafka Streams exactly-once'))).toFixed(2)}, at-least-once ${(rate(find('pdm-stream at-least-once')) / rate(find('Kafka Streams at-least-once'))).toFixed(2)}`);
    }

    await measureRestore(run, `bench-${stamp}-restore.`);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await watcher.close();
    await deleteTopics(connection, cleanup).catch(() => undefined);
  }
}
