/**
 * Checks the Kafka Streams window job against the local stack, end to end: fresh topics, schemas
 * registered under `<topic>-key` / `<topic>-value`, a few thousand readings with the awkward cases
 * in them (a duplicate with different values, null features, a feature null for a whole window,
 * out-of-order within grace, one late reading, one undecodable value), then the jar as the bench
 * harness runs it, its output decoded through the registry and compared with a direct two-pass
 * computation. Exits 1 on any difference.
 *
 *   eval "$(npx pdmctl stack env)"
 *   mvn -q -B -f bench/kafka-streams/pom.xml package -DskipTests
 *   npx tsx bench/kafka-streams/verify.ts [--processing-guarantee at_least_once] [--keep]
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { deleteTopics, ensureTopics } from '../../lib/kafka/admin';
import { kafkaConnectionFromEnv, type KafkaConnection } from '../../lib/kafka/client';
import { connectProducer, type OutgoingRecord } from '../../lib/kafka/producer';
import { repoRoot } from '../../lib/paths';
import { createRegistry, registerTopicSchemas, registryUrlFromEnv } from '../../lib/registry';
import { frame, Serde } from '../../lib/serde';
import { keySubject, TOPICS, topicSpecs, valueSubject } from '../../lib/topics';
import { avroType, FEATURES, schemaText, type Feature, type FeatureStats, type SensorReading, type WindowFeatures, type WindowKey } from '../../schemas';
import { consumeAll, type ConsumedRecord } from '../../test/integration/consume';

const WINDOW_SIZE_MS = 10 * 60_000;
const GRACE_MS = 60_000;
const INTERVAL_MS = 10_000;
const MACHINES = 12;
const TICKS = 400;
const TOLERANCE = 1e-9;

const print = (line: string) => process.stdout.write(`${line}\n`);
const argv = process.argv.slice(2);
const guarantee = argv.includes('--processing-guarantee') ? argv[argv.indexOf('--processing-guarantee') + 1]! : 'exactly_once_v2';
const keep = argv.includes('--keep');

/** What is sent, in order, and what the job must make of it. */
type Sent = { kind: 'reading'; reading: SensorReading } | { kind: 'garbage'; machineId: string; value: Buffer };

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function plan(fromMs: number): { sent: Sent[]; endMs: number } {
  const random = mulberry32(7);
  const machineIds = Array.from({ length: MACHINES }, (_, i) => `kstreams-verify-m${String(i).padStart(2, '0')}`);
  const sent: Sent[] = [];
  const reading = (machineId: string, timestamp: number, tick: number, m: number): SensorReading => {
    const r: SensorReading = {
      machineId,
      timestamp,
      current: 10 + m + 2 * random(),
      accX: 0.2 + 0.05 * random(),
      accY: 0.3 + 0.05 * random(),
      accZ: 0.4 + 0.05 * random(),
      tempA: 40 + 10 * random(),
      tempB: tick % 7 === 0 ? null : 30 + 5 * random(),
      extras: {},
    };
    // Machine 0 reports no accZ for its whole second window: stats must be null, count 0.
    if (m === 0 && timestamp >= fromMs + WINDOW_SIZE_MS && timestamp < fromMs + 2 * WINDOW_SIZE_MS) r.accZ = null;
    // One reading with every sensor missing.
    if (m === 4 && tick === 100) for (const f of FEATURES) r[f] = null;
    return r;
  };
  let held: SensorReading | undefined;
  for (let tick = 0; tick < TICKS; tick++) {
    const t = fromMs + tick * INTERVAL_MS;
    for (let m = 0; m < MACHINES; m++) {
      const machineId = machineIds[m]!;
      const r = reading(machineId, t, tick, m);
      // Machine 1: the last reading of a window arrives after the first of the next (within grace).
      if (m === 1 && (t + INTERVAL_MS) % WINDOW_SIZE_MS === 0) {
        held = r;
        continue;
      }
      sent.push({ kind: 'reading', reading: r });
      if (m === 1 && held) {
        sent.push({ kind: 'reading', reading: held });
        held = undefined;
      }
      // Duplicates: same machine and timestamp, wildly different values, which must not count.
      if (tick % 97 === 5) sent.push({ kind: 'reading', reading: { ...r, current: 1e6, tempA: -1e6 } });
      if (m === 3 && tick === 200) sent.push({ kind: 'garbage', machineId, value: frame(1, Buffer.from([0x02, 0x41])) });
    }
  }
  if (held) sent.push({ kind: 'reading', reading: held });
  const endMs = fromMs + TICKS * INTERVAL_MS;
  // Late: machine 2's first window closed long ago.
  sent.push({ kind: 'reading', reading: reading(machineIds[2]!, fromMs + 5_000, 1, 2) });
  // One reading per machine a day later moves every partition's stream time past every window,
  // so all of them close (Kafka Streams has no wall-clock close); their own windows stay open.
  for (let m = 0; m < MACHINES; m++) sent.push({ kind: 'reading', reading: reading(machineIds[m]!, endMs + 24 * 3600_000, 1, m) });
  return { sent, endMs };
}

interface Expected {
  machineId: string;
  windowStart: number;
  readings: SensorReading[];
}

/**
 * The windows the job must emit, computed directly. Lateness depends on the stream time of the
 * partition, which this script does not know; it lies between the machine's own highest event
 * time and the highest of all, and a reading must be late (or not) under both or the plan is
 * ambiguous.
 */
function expectedWindows(sent: Sent[], sentinelFromMs: number): { windows: Map<string, Expected>; late: number; duplicates: number } {
  const windows = new Map<string, Expected>();
  const machineTime = new Map<string, number>();
  let globalTime = Number.NEGATIVE_INFINITY;
  let late = 0;
  let duplicates = 0;
  for (const s of sent) {
    if (s.kind !== 'reading') continue;
    const r = s.reading;
    const windowStart = Math.floor(r.timestamp / WINDOW_SIZE_MS) * WINDOW_SIZE_MS;
    const closesAt = windowStart + WINDOW_SIZE_MS + GRACE_MS;
    const lateGlobally = closesAt <= globalTime;
    const lateOnMachine = closesAt <= (machineTime.get(r.machineId) ?? Number.NEGATIVE_INFINITY);
    if (lateGlobally !== lateOnMachine) throw new Error(`ambiguous plan: reading ${r.machineId}@${r.timestamp} is late only on some partitions`);
    globalTime = Math.max(globalTime, r.timestamp);
    machineTime.set(r.machineId, Math.max(machineTime.get(r.machineId) ?? Number.NEGATIVE_INFINITY, r.timestamp));
    if (lateGlobally) {
      late++;
      continue;
    }
    if (r.timestamp >= sentinelFromMs) continue;
    const key = `${r.machineId}@${windowStart}`;
    let w = windows.get(key);
    if (!w) windows.set(key, (w = { machineId: r.machineId, windowStart, readings: [] }));
    if (w.readings.some((x) => x.timestamp === r.timestamp)) duplicates++;
    else w.readings.push(r);
  }
  return { windows, late, duplicates };
}

function directStats(values: number[]): FeatureStats {
  if (values.length === 0) return { count: 0, mean: null, min: null, max: null, stddev: null };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
  return { count: values.length, mean, min: Math.min(...values), max: Math.max(...values), stddev: Math.sqrt(variance) };
}

const close = (a: number | null, b: number | null) => (a === null || b === null ? a === b : Math.abs(a - b) <= TOLERANCE * Math.max(1, Math.abs(b)));

/** Sends the plan to `input`, readings encoded through the registry, 500 records a request; how many records that was. */
async function send(connection: KafkaConnection, serde: Serde, input: string, sent: readonly Sent[]): Promise<number> {
  const encodeKey = await serde.encoder<string>(keySubject(input), avroType('machine-id.avsc'), schemaText('machine-id.avsc'));
  const encodeValue = await serde.encoder<SensorReading>(valueSubject(input), avroType('sensor-reading.avsc'), schemaText('sensor-reading.avsc'));
  const producer = await connectProducer(connection);
  const records: OutgoingRecord[] = sent.map((s) =>
    s.kind === 'reading' ? { key: encodeKey(s.reading.machineId), value: encodeValue(s.reading) } : { key: encodeKey(s.machineId), value: s.value },
  );
  for (let i = 0; i < records.length; i += 500) await producer.send([{ topic: input, records: records.slice(i, i + 500) }]);
  await producer.disconnect();
  return records.length;
}

/** The jar, started with `args`: its stdout lines, its exit, and the milliseconds from spawn to its `kstreams: RUNNING` line. */
function startJob(args: string[]) {
  const t0 = performance.now();
  const job = spawn('java', args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdoutLines: string[] = [];
  const exited = new Promise<number | null>((resolve) => job.on('exit', (code) => resolve(code)));
  const running = new Promise<number>((resolve, reject) => {
    readline.createInterface({ input: job.stdout }).on('line', (line) => {
      stdoutLines.push(line);
      if (line === 'kstreams: RUNNING') resolve(performance.now() - t0);
    });
    void exited.then((code) => reject(new Error(`the job exited (${code}) before RUNNING`)));
  });
  readline.createInterface({ input: job.stderr }).on('line', (line) => process.stderr.write(`  [jar] ${line}\n`));
  return { job, t0, stdoutLines, exited, running };
}

/** Decodes the job's output and compares each window with the direct computation, adding what differs to `failures`. */
async function compareWindows(serde: Serde, all: readonly ConsumedRecord[], expected: ReadonlyMap<string, Expected>, failures: string[]) {
  const decodeKey = serde.decoder<WindowKey>(avroType('window-key.avsc'));
  const decodeValue = serde.decoder<WindowFeatures>(avroType('window-features.avsc'));
  const seen = new Set<string>();
  let maxMeanError = 0;
  let maxStddevError = 0;
  let checkedFeatures = 0;
  let nullStats = 0;
  for (const record of all) {
    const key = await decodeKey(record.key!);
    const value = await decodeValue(record.value!);
    const id = `${key.machineId}@${key.windowStart}`;
    if (seen.has(id)) failures.push(`window ${id} emitted twice`);
    seen.add(id);
    if (value.machineId !== key.machineId || value.windowStart !== key.windowStart) failures.push(`${id}: key and value disagree`);
    const want = expected.get(id);
    if (!want) {
      failures.push(`${id}: not expected`);
      continue;
    }
    if (value.windowEnd !== want.windowStart + WINDOW_SIZE_MS) failures.push(`${id}: windowEnd ${value.windowEnd}`);
    if (value.count !== want.readings.length) failures.push(`${id}: count ${value.count}, expected ${want.readings.length}`);
    for (const feature of FEATURES as readonly Feature[]) {
      const got = value[feature];
      const exp = directStats(want.readings.map((r) => r[feature]).filter((v): v is number => v !== null));
      checkedFeatures++;
      if (exp.count === 0) nullStats++;
      if (got.count !== exp.count) failures.push(`${id} ${feature}: count ${got.count}, expected ${exp.count}`);
      for (const stat of ['mean', 'min', 'max', 'stddev'] as const) {
        if (!close(got[stat], exp[stat])) failures.push(`${id} ${feature}.${stat}: ${got[stat]}, expected ${exp[stat]}`);
      }
      if (got.mean !== null && exp.mean !== null) maxMeanError = Math.max(maxMeanError, Math.abs(got.mean - exp.mean));
      if (got.stddev !== null && exp.stddev !== null) maxStddevError = Math.max(maxStddevError, Math.abs(got.stddev - exp.stddev));
    }
  }
  for (const id of expected.keys()) if (!seen.has(id)) failures.push(`${id}: missing`);
  return { seen, maxMeanError, maxStddevError, checkedFeatures, nullStats };
}

async function main(): Promise<void> {
  const env = process.env;
  const connection = kafkaConnectionFromEnv('kstreams-verify', env);
  const registry = createRegistry(registryUrlFromEnv(env));
  const prefix = `kstreams-verify-${Date.now()}.`;
  const specs = topicSpecs({ prefix }).filter((s) => s.contractName === TOPICS.readings || s.contractName === TOPICS.windowFeatures);
  const [input, output] = [specs.find((s) => s.contractName === TOPICS.readings)!.name, specs.find((s) => s.contractName === TOPICS.windowFeatures)!.name];
  const applicationId = `${prefix}window-kstreams`;
  await ensureTopics(connection, specs);
  const ids = new Map((await registerTopicSchemas(registry, specs)).map((r) => [r.subject, r.id]));

  // A whole hour a week ago, so windows line up with the hour and the broker's clock is no factor.
  const fromMs = Math.floor((Date.now() - 7 * 24 * 3600_000) / 3600_000) * 3600_000;
  const { sent, endMs } = plan(fromMs);
  const sentinelFromMs = endMs + 24 * 3600_000;
  const expected = expectedWindows(sent, sentinelFromMs);

  const serde = new Serde(registry.client);
  const records = await send(connection, serde, input, sent);
  print(`sent ${records} records to ${input}: ${expected.duplicates} duplicates, ${expected.late} late, 1 undecodable, ${MACHINES} stream-time sentinels`);
  print(`expecting ${expected.windows.size} final windows (size ${WINDOW_SIZE_MS} ms, grace ${GRACE_MS} ms)`);

  const jar = path.join(repoRoot, 'bench/kafka-streams/target/pdm-window-kstreams.jar');
  const args = [
    '-jar', jar,
    '--bootstrap', connection.brokers.join(','),
    '--input-topic', input,
    '--output-topic', output,
    '--application-id', applicationId,
    '--window-size-ms', String(WINDOW_SIZE_MS),
    '--grace-ms', String(GRACE_MS),
    '--key-schema-id', String(ids.get(keySubject(output))),
    '--value-schema-id', String(ids.get(valueSubject(output))),
    '--processing-guarantee', guarantee,
    '--schemas', 'schemas',
  ];
  const { job, t0, stdoutLines, exited, running } = startJob(args);

  const failures: string[] = [];
  try {
    const startupMs = await running;
    print(`${guarantee}: spawn to RUNNING ${Math.round(startupMs)} ms`);
    const first = await consumeAll(connection.brokers, output, { expected: expected.windows.size, timeoutMs: 180_000 });
    print(`${first.length} windows read ${Math.round(performance.now() - t0 - startupMs)} ms after RUNNING (read_committed, includes the reader's group join)`);
  } finally {
    job.kill('SIGTERM');
  }
  const exitCode = await exited;
  print(`SIGTERM: exit code ${exitCode}, stdout ${JSON.stringify(stdoutLines)}`);
  if (exitCode !== 0) failures.push(`exit code ${exitCode}, expected 0`);
  if (stdoutLines.at(-1) !== 'kstreams: stopped') failures.push('no `kstreams: stopped` line');

  // Read everything once more after the stop: exactly one record per window, nothing flushed on close.
  const all = await consumeAll(connection.brokers, output, { quietMs: 3000 });
  const { seen, maxMeanError, maxStddevError, checkedFeatures, nullStats } = await compareWindows(serde, all, expected.windows, failures);
  const sample = expected.windows.get(`kstreams-verify-m01@${fromMs}`)!;
  const sampleOut = directStats(sample.readings.map((r) => r.current!));
  print(`read ${all.length} records after the stop; ${seen.size} distinct windows; ${checkedFeatures} feature stats checked (${nullStats} all-null)`);
  print(`e.g. m01 first window: count ${sample.readings.length}, current mean ${sampleOut.mean!.toFixed(6)} stddev ${sampleOut.stddev!.toFixed(6)}`);
  print(`largest difference from the two-pass computation: mean ${maxMeanError.toExponential(2)}, stddev ${maxStddevError.toExponential(2)}`);

  if (!keep) await deleteTopics(connection, [input, output, `${applicationId}-window-aggregates-changelog`, `${applicationId}-final-windows-store-changelog`]);
  if (failures.length > 0) {
    print(`FAILED (${failures.length}):\n  ${failures.slice(0, 20).join('\n  ')}`);
    process.exitCode = 1;
  } else {
    print('OK');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
