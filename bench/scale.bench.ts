import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'pg';
import { ensureTopics, deleteTopics, openGroupInspector, type GroupInspector } from '../lib/kafka/admin';
import { createKafka, kafkaConnectionFromEnv, type KafkaConnection } from '../lib/kafka/client';
import { registerZstd } from '../lib/kafka/compression';
import { openPartitionReader, type PartitionReader } from '../lib/kafka/partition-reader';
import type { IncomingRecord } from '../lib/kafka/runner';
import { createRegistry, registerTopicSchemas, registryUrlFromEnv } from '../lib/registry';
import { TOPICS, topicSpecs } from '../lib/topics';

import { buildFleet, planFaults } from '../producers/simulate/fleet';
import { Random } from '../producers/simulate/random';
import { simulate } from '../producers/simulate/simulator';
import type { RawReading } from '../producers/simulate/simulator';
import { repoRoot } from '../lib/paths';
import { migrate } from '../sinks/postgres/migrations';
import { fmt, runService } from './process';
import { assignedAfter, chunksBySize, handOverTime, interleave, lastAssignment, nextIndexes, perSecond, renderScaleTable, type Drain, type HandOver, type OffsetSample, type ScaleRow } from './scale';
import { produceReadings } from './window.bench';

/**
 * `pdmctl bench scale`: each consuming service (window, inference, sink-postgres, sink-email) as
 * 1, 2 and 3 processes in one consumer group over the same pre-written input, and how long a
 * stopped member's partitions go unwatched before another member carries on.
 *
 * Throughput: the same input (copied record by record from what the stage before wrote) on topics
 * of the run's own, N processes started together under a new group; the clock runs from the group
 * formed (N members, state Stable, read with the admin client) until its committed offsets reach
 * the input's end. The window processor's input is written before they start and what the first
 * processes read while the others still started is left out (printed); the smaller inputs of the
 * later stages are written once the group formed (else the first process up reads them whole).
 *
 * Hand-over: 3 processes under a new group on topics of their own, fed the same input at a steady
 * pace (so every partition keeps getting records); one of them is killed (SIGKILL), later another
 * is stopped (SIGTERM). Its partitions (its last `partitions assigned` log line) count as
 * unwatched from the signal until the group's committed offset on each of them moves past what
 * was committed when the process was gone: for SIGKILL at once, for SIGTERM after its drained
 * exit (its own last commit is not the hand-over; an upper bound, as a survivor may move first).
 * Committed offsets are polled every 100 ms; the survivors' logs say when the group gave them
 * the partitions, the part of the hand-over before restore and first commit.
 */

export interface ScaleBenchOptions {
  machines: number;
  hours: number;
  /** Seconds between two readings of a machine. */
  intervalSeconds: number;
  instances: number[];
  /** PDM_SESSION_TIMEOUT of the processes: how long a killed member keeps its partitions. */
  sessionTimeout: string;
  services: ScaleService[];
  handOver: boolean;
}

export const SCALE_SERVICES = ['window', 'inference', 'sink-postgres', 'sink-email'] as const;
export type ScaleService = (typeof SCALE_SERVICES)[number];

const HOUR_MS = 3_600_000;
type Producer = ReturnType<ReturnType<typeof createKafka>['producer']>;

/** Readings of a simulated fleet (two faults on 30 % of machines) every `intervalMs`, ending now. */
function* fleetReadings(machines: number, hours: number, intervalMs: number): Generator<RawReading> {
  const random = new Random(17);
  const fleet = buildFleet(machines, random.fork());
  const toMs = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  const fromMs = toMs - hours * HOUR_MS;
  const faults = planFaults(fleet, { fromMs, toMs, kinds: ['bearing-wear', 'overheating'], faultyFraction: 0.3 }, random.fork());
  for (const tick of simulate({ machines: fleet, faults, fromMs, toMs, intervalMs, seed: 17 })) yield* tick.readings;
}

interface Input {
  topic: string;
  group: string;
}

/** How one service runs under the bench: the topics and groups it reads, and its environment. */
interface Setup {
  env: NodeJS.ProcessEnv;
  inputs: Input[];
}

/** What the bench's parts share. */
interface Bench {
  options: ScaleBenchOptions;
  env: NodeJS.ProcessEnv;
  connection: KafkaConnection;
  admin: GroupInspector;
  producer: Producer;
  reader: PartitionReader;
  stamp: string;
  logDir: string;
  children: Set<ChildProcess>;
  schemas: string[];
  /** The bench's own SMTP inbox, started for sink-email. */
  smtpUrl?: string;
  print: (line: string) => void;
}

const committedOffsets = (admin: GroupInspector, input: Input) => admin.committed(input.group, input.topic);

const sum = (m: ReadonlyMap<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/** True once every group of `inputs` has `members` members and is Stable. */
async function formed(admin: GroupInspector, inputs: Input[], members: number): Promise<boolean> {
  const groups = await admin.describe(inputs.map((i) => i.group));
  return groups.length === inputs.length && groups.every((g) => g.state === 'Stable' && g.members === members);
}

/** Topics of a prefix, created with the contract's specs and registered schemas. */
async function topicsOf(bench: Bench, prefix: string): Promise<void> {
  const specs = topicSpecs({ prefix });
  await ensureTopics(bench.connection, specs);
  await registerTopicSchemas(createRegistry(registryUrlFromEnv(bench.env)), specs);
}

/** Every record of a topic, partition by partition; `distinct` keeps the first record of each key (a window written twice). */
async function readAll(bench: Bench, topic: string, options: { distinct?: boolean } = {}): Promise<Array<{ partition: number; record: IncomingRecord }>> {
  const out: Array<{ partition: number; record: IncomingRecord }> = [];
  const seen = new Set<string>();
  const partitions = (await bench.admin.ends(topic)).size;
  const byPartition: IncomingRecord[][] = [];
  for (let p = 0; p < partitions; p++) {
    const own: IncomingRecord[] = (byPartition[p] = []);
    await bench.reader.read(topic, p, (records) => {
      for (const record of records) {
        const key = record.key?.toString('base64') ?? '';
        if (options.distinct && seen.has(key)) continue;
        seen.add(key);
        own.push(record);
      }
    });
  }
  // Partitions taken in turn (each in its own order): a paced feed then reaches every partition all the time.
  for (const k of interleave(byPartition.map((records) => records.length))) out.push({ partition: k.partition, record: byPartition[k.partition]![k.index]! });
  return out;
}

async function copy(bench: Bench, records: ReadonlyArray<{ partition: number; record: IncomingRecord }>, topic: string): Promise<void> {
  // Requests of at most about 512 KiB, uncompressed: under the broker's 1 MiB message limit.
  for (const [from, to] of chunksBySize(records.map(({ record }) => (record.key?.length ?? 0) + (record.value?.length ?? 0) + 64), 512 * 1024)) {
    const messages = records.slice(from, to).map(({ partition, record }) => ({ partition, key: record.key, value: record.value, headers: record.headers }));
    await bench.producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages }] });
  }
}

/** Starts `count` processes of a service, each logging to its own file; they are killed at the end should they still run. */
function startInstances(bench: Bench, service: ScaleService, setup: Setup, count: number, label: string): Array<{ child: ChildProcess; logFile: string }> {
  return Array.from({ length: count }, (_, i) => {
    const logFile = path.join(bench.logDir, `${label}-${service}-${i + 1}.log`);
    const child = runService(service, setup.env, logFile);
    bench.children.add(child);
    child.once('exit', () => bench.children.delete(child));
    return { child, logFile };
  });
}

async function stopAll(bench: Bench, processes: Array<{ child: ChildProcess }>): Promise<void> {
  await Promise.all(
    processes.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

async function waitFormed(bench: Bench, setup: Setup, members: number, processes: Array<{ child: ChildProcess; logFile: string }>): Promise<void> {
  const deadline = performance.now() + 180_000;
  while (!(await formed(bench.admin, setup.inputs, members).catch(() => false))) {
    const dead = processes.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead) throw new Error(`a process exited before its group formed; see ${dead.logFile}`);
    if (performance.now() > deadline) throw new Error(`the group did not form with ${members} members within 3 minutes; logs in ${bench.logDir}`);
    await sleep(100);
  }
}

/** The records written to a topic of a prefix: `contract` names the topic (`pdm.window-features.v1`). */
interface InputRecords {
  contract: string;
  records: Records;
}

/**
 * One drain: `count` processes started together under a new group on the topics of `prefix`; the
 * clock runs from the group formed (every process in, state Stable) to the input's end committed,
 * and counts what was read in that time. The window processor's large input is written before
 * the processes start (written after, the writer would set the pace), and what the first
 * processes read while the others still started is left out (printed); the other stages' inputs
 * are written once the group formed.
 */
async function drain(bench: Bench, service: ScaleService, setup: Setup, count: number, prefix: string, inputs: InputRecords[]): Promise<Drain> {
  const total = inputs.reduce((n, i) => n + i.records.length, 0);
  const write = async () => {
    for (const input of inputs) await copy(bench, input.records, `${prefix}${input.contract}`);
  };
  // A small input (inference's windows, the sinks' records) would be read whole by the first process up before the
  // others joined (inference loads its models for seconds): it is written once the group formed, in well under a second.
  const afterFormed = service !== 'window';
  if (!afterFormed) await write();
  const started = performance.now();
  const processes = startInstances(bench, service, setup, count, `drain${count}`);
  try {
    await waitFormed(bench, setup, count, processes);
    const formedAt = performance.now();
    const committed = async () => (await Promise.all(setup.inputs.map((i) => committedOffsets(bench.admin, i)))).reduce((n, c) => n + sum(c), 0);
    const before = await committed();
    if (afterFormed) await write();
    for (;;) {
      if (processes.some((p) => p.child.exitCode !== null || p.child.signalCode !== null)) throw new Error(`${service}: a process exited while draining; logs in ${bench.logDir}`);
      if ((await committed()) >= total) break;
      if (performance.now() - started > 15 * 60_000) throw new Error(`${service}: not drained after 15 minutes; logs in ${bench.logDir}`);
      await sleep(50);
    }
    const done = performance.now();
    return { instances: count, records: total - before, seconds: (done - formedAt) / 1000, startSeconds: (formedAt - started) / 1000 };
  } finally {
    await stopAll(bench, processes);
  }
}

/** A drain of `service` with `count` processes on topics of its own (`<stamp>-<service>-<count>.`), which keep its output for the next stage. */
async function drainIn(bench: Bench, service: ScaleService, count: number, inputs: InputRecords[]): Promise<Drain> {
  const prefix = prefixOf(bench, `${service}-${count}`);
  await topicsOf(bench, prefix);
  return drain(bench, service, await setupOf(bench, service, prefix, `${service}-${count}`), count, prefix, inputs);
}

const prefixOf = (bench: Bench, name: string) => `bench-scale-${bench.stamp}-${name}.`;

/** Feeds `source` into the hand-over's topics at `perSecond`, round and round, until stopped. */
function feed(bench: Bench, sources: Array<{ topic: string; records: ReadonlyArray<{ partition: number; record: IncomingRecord }> }>, rate: number): { stop: () => Promise<void> } {
  let running = true;
  const loop = (async () => {
    const cursors = sources.map(() => 0);
    const total = sources.reduce((n, s) => n + s.records.length, 0);
    while (running) {
      const tick = performance.now();
      const topicMessages = sources.map((s, i) => {
        const count = Math.max(1, Math.round((rate / 10) * (s.records.length / total)));
        const indexes = nextIndexes(s.records.length, cursors[i]!, count);
        cursors[i]! += count;
        return { topic: s.topic, messages: indexes.map((k) => ({ partition: s.records[k]!.partition, key: s.records[k]!.record.key, value: s.records[k]!.record.value, headers: s.records[k]!.record.headers })) };
      });
      await bench.producer.sendBatch({ acks: -1, topicMessages });
      await sleep(Math.max(0, 100 - (performance.now() - tick)));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Polls the committed offsets of `input` until each of `partitions` moved past its baseline, or `timeoutMs`. */
async function watchHandOver(bench: Bench, input: Input, signalMs: number, baseline: Map<number, number>, partitions: number[], timeoutMs: number): Promise<HandOver> {
  const samples: OffsetSample[] = [];
  for (;;) {
    samples.push({ atMs: performance.now(), committed: await committedOffsets(bench.admin, input) });
    const result = handOverTime(samples, signalMs, baseline, partitions);
    if (result.maxMs !== undefined || performance.now() - signalMs > timeoutMs) return result;
    await sleep(100);
  }
}

/** Stops one process with `signal` and measures how long its partitions of the main input went unwatched. */
async function handOverOnce(bench: Bench, setup: Setup, victim: { child: ChildProcess; logFile: string }, survivors: Array<{ logFile: string }>, signal: 'SIGKILL' | 'SIGTERM'): Promise<HandOver> {
  const input = setup.inputs[0]!;
  const partitions = lastAssignment(fs.readFileSync(victim.logFile, 'utf8'), input.topic);
  if (!partitions || partitions.length === 0) throw new Error(`${victim.logFile}: no partitions of ${input.topic} assigned to the process stopped`);
  const exited = new Promise((resolve) => victim.child.once('exit', resolve));
  const signalMs = performance.now();
  const signalWallMs = Date.now();
  victim.child.kill(signal);
  await exited;
  const baseline = await committedOffsets(bench.admin, input);
  const result = await watchHandOver(bench, input, signalMs, baseline, partitions, 180_000);
  const assigned = assignedAfter(survivors.map((s) => fs.readFileSync(s.logFile, 'utf8')), input.topic, partitions, signalWallMs);
  return { ...result, partitions: result.partitions.map((p) => ({ ...p, assignedMs: assigned.get(p.partition) })) };
}

/** Three processes fed at a steady pace: one killed, then (the group whole again) another stopped. */
async function handOver(bench: Bench, service: ScaleService, setup: Setup, sources: Parameters<typeof feed>[1], rate: number): Promise<{ sigkill: HandOver; sigterm: HandOver }> {
  const processes = startInstances(bench, service, setup, 3, 'handover');
  const feeder = feed(bench, sources, rate);
  try {
    await waitFormed(bench, setup, 3, processes);
    await sleep(5000); // steady: every partition committing
    const sigkill = await handOverOnce(bench, setup, processes[0]!, [processes[1]!, processes[2]!], 'SIGKILL');
    const restarted = startInstances(bench, service, setup, 1, 'handover-restart')[0]!;
    processes.push(restarted);
    await waitFormed(bench, setup, 3, [processes[1]!, processes[2]!, restarted]);
    await sleep(5000);
    const sigterm = await handOverOnce(bench, setup, processes[1]!, [processes[2]!, restarted], 'SIGTERM');
    return { sigkill, sigterm };
  } finally {
    await feeder.stop();
    await stopAll(bench, processes);
  }
}

type Records = Array<{ partition: number; record: IncomingRecord }>;

/** A port free now on the loopback. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * An SMTP inbox of the bench's own (MailDev, as the stack runs it): the hand-over feeds the same
 * alerts round and round, thousands of mails that have no place in the shared inbox.
 */
async function privateInbox(bench: Bench): Promise<string> {
  const [smtp, web] = [await freePort(), await freePort()];
  const mailDir = path.join(bench.logDir, 'mail');
  fs.mkdirSync(mailDir, { recursive: true });
  const args = [path.join(repoRoot, 'node_modules', 'maildev', 'bin', 'maildev'), '--smtp', String(smtp), '--web', String(web), '--ip', '127.0.0.1', '--mail-directory', mailDir];
  const log = fs.openSync(path.join(bench.logDir, 'maildev.log'), 'a');
  const child = spawn(process.execPath, args, { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  bench.children.add(child);
  const deadline = performance.now() + 30_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(smtp, '127.0.0.1', () => resolve(socket.end() !== undefined));
      socket.once('error', () => resolve(false));
    });
    if (up) return `smtp://127.0.0.1:${smtp}`;
    if (child.exitCode !== null || performance.now() > deadline) throw new Error(`the bench's MailDev did not start; see ${path.join(bench.logDir, 'maildev.log')}`);
    await sleep(200);
  }
}

/** A sink's own schema, migrated before its processes start (they then skip migrations: several at once would race). */
async function schemaFor(bench: Bench, name: string): Promise<string> {
  const schema = `bench_scale_${bench.stamp}_${name}`;
  await migrate({ url: bench.env.DATABASE_URL!, schema, writerPassword: bench.env.PDM_WRITER_PASSWORD, analystPassword: bench.env.PDM_ANALYST_PASSWORD });
  bench.schemas.push(schema);
  return schema;
}

/** The environment and groups of `service` on the topics of `prefix`; `tag` names its group (and schema) apart from other runs. */
async function setupOf(bench: Bench, service: ScaleService, prefix: string, tag: string): Promise<Setup> {
  const base = { ...bench.env, PDM_TOPIC_PREFIX: prefix, PDM_SESSION_TIMEOUT: bench.options.sessionTimeout, PDM_LOG_LEVEL: 'info' };
  const group = `${prefix}${tag}`;
  if (service === 'window') return { env: { ...base, PDM_WINDOW_GROUP_ID: group }, inputs: [{ topic: `${prefix}${TOPICS.readings}`, group }] };
  if (service === 'inference') return { env: { ...base, PDM_INFERENCE_GROUP_ID: group }, inputs: [{ topic: `${prefix}${TOPICS.windowFeatures}`, group }] };
  const schema = await schemaFor(bench, tag.replace(/[^a-z0-9]/g, '_'));
  if (service === 'sink-postgres') {
    const inputs = [[TOPICS.windowFeatures, 'window-features'], [TOPICS.assessments, 'assessments'], [TOPICS.alerts, 'alerts']].map(([topic, name]) => ({ topic: `${prefix}${topic}`, group: `${group}-${name}` }));
    return { env: { ...base, PDM_SINK_POSTGRES_GROUP_ID: group, PDM_POSTGRES_SCHEMA: schema, PDM_SINK_POSTGRES_MIGRATE: 'false' }, inputs };
  }
  // Every transition mailed at once to one recipient of the bench's own: nothing waits on a clock.
  const email = { PDM_EMAIL_GROUP_WAIT: '0s', PDM_EMAIL_RATE_LIMIT: '1000000', PDM_EMAIL_REPEAT_INTERVAL: '5200w', PDM_EMAIL_MAX_AGE: '5200w', PDM_EMAIL_DEFAULT_TO: `bench-scale-${bench.stamp}@bench.localhost` };
  bench.smtpUrl ??= await privateInbox(bench);
  return { env: { ...base, ...email, SMTP_URL: bench.smtpUrl, PDM_EMAIL_GROUP_ID: group, PDM_POSTGRES_SCHEMA: schema }, inputs: [{ topic: `${prefix}${TOPICS.alerts}`, group }] };
}


/** Measures one service: its drains with 1, 2 and 3 processes over `inputs`, then its hand-over fed the same records round and round. */
async function measureService(bench: Bench, service: ScaleService, unit: string, inputs: InputRecords[], rate: number): Promise<ScaleRow> {
  const { options, print } = bench;
  const row: ScaleRow = { service, unit, input: inputs.reduce((n, i) => n + i.records.length, 0), drains: [] };
  for (const n of options.instances) {
    const d = await drainIn(bench, service, n, inputs);
    row.drains.push(d);
    print(`  ${service.padEnd(13)} ${n} instance${n === 1 ? ' ' : 's'}  ${fmt(perSecond(d.records, d.seconds)).padStart(9)} ${unit}/s  (${fmt(d.records)} of ${fmt(row.input)} read by the formed group in ${d.seconds.toFixed(1)} s; formed ${d.startSeconds.toFixed(1)} s after start)`);
  }
  if (options.handOver) {
    const prefix = prefixOf(bench, `${service}-handover`);
    await topicsOf(bench, prefix);
    const setup = await setupOf(bench, service, prefix, `${service}-handover`);
    const sources = inputs.map((s) => ({ topic: `${prefix}${s.contract}`, records: s.records }));
    const { sigkill, sigterm } = await handOver(bench, service, setup, sources, rate);
    Object.assign(row, { sigkill, sigterm });
    const ms = (h: HandOver) => h.partitions.map((p) => `${p.partition}: ${p.ms === undefined ? 'never' : `${(p.ms / 1000).toFixed(1)} s`} (assigned ${p.assignedMs === undefined ? '?' : `${(p.assignedMs / 1000).toFixed(1)} s`})`).join(', ');
    print(`  ${service.padEnd(13)} hand-over at ${fmt(rate)} ${unit}/s fed: SIGKILL ${ms(sigkill)}; SIGTERM ${ms(sigterm)}`);
  }
  return row;
}

async function runAll(bench: Bench): Promise<ScaleRow[]> {
  const { options, print } = bench;
  const rows: ScaleRow[] = [];
  const source = prefixOf(bench, 'src');
  await topicsOf(bench, source);
  const expected = options.machines * options.hours * Math.floor(3600 / options.intervalSeconds);
  const produced = await produceReadings(bench.env, source, fleetReadings(options.machines, options.hours, options.intervalSeconds * 1000), expected, 'writing the readings');
  print(`  input: ${fmt(produced)} readings of ${options.machines} machines over ${options.hours} h (one every ${options.intervalSeconds} s)`);
  const wanted = new Set(options.services);
  const readings = [{ contract: TOPICS.readings, records: await readAll(bench, `${source}${TOPICS.readings}`) }];
  // Each stage's input is what the stage before it wrote with one process.
  if (wanted.has('window')) rows.push(await measureService(bench, 'window', 'readings', readings, 2000));
  else await drainIn(bench, 'window', 1, readings);
  const windows = await readAll(bench, `${prefixOf(bench, 'window-1')}${TOPICS.windowFeatures}`, { distinct: true });
  const windowInput = [{ contract: TOPICS.windowFeatures, records: windows }];
  if (wanted.has('inference')) rows.push(await measureService(bench, 'inference', 'windows', windowInput, 200));
  else await drainIn(bench, 'inference', 1, windowInput);
  const inferred = prefixOf(bench, 'inference-1');
  const assessments = await readAll(bench, `${inferred}${TOPICS.assessments}`);
  const alerts = await readAll(bench, `${inferred}${TOPICS.alerts}`);
  print(`  sinks' input: ${fmt(windows.length)} windows, ${fmt(assessments.length)} assessments, ${fmt(alerts.length)} alert transitions`);
  const sinkInput = [...windowInput, { contract: TOPICS.assessments, records: assessments }, { contract: TOPICS.alerts, records: alerts }];
  if (wanted.has('sink-postgres')) rows.push(await measureService(bench, 'sink-postgres', 'records', sinkInput, 400));
  if (wanted.has('sink-email')) {
    if (alerts.length === 0) print('  sink-email: skipped (no alert transitions in this input; more machines or hours raise some)');
    else rows.push(await measureService(bench, 'sink-email', 'alerts', [{ contract: TOPICS.alerts, records: alerts }], 30));
  }
  return rows;
}

/** Deletes the run's topics, consumer groups and schemas. */
async function cleanUp(bench: Bench): Promise<void> {
  const mine = (name: string) => name.startsWith(`bench-scale-${bench.stamp}`);
  const complain = (what: string) => (err: unknown) => bench.print(`  cleaning up ${what}: ${(err as Error).message}`);
  // Groups first: a group's offsets name its topics.
  const groups = (await bench.admin.groups().catch(() => [] as string[])).filter(mine);
  await bench.admin.deleteGroups(groups).catch(complain('groups'));
  const topics = (await bench.admin.topics().catch(() => [] as string[])).filter(mine);
  await deleteTopics(bench.connection, topics).catch(complain('topics'));
  if (bench.schemas.length === 0) return;
  const pool = new Pool({ connectionString: bench.env.DATABASE_URL, max: 1 });
  try {
    for (const schema of bench.schemas) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await pool.end();
  }
}

export async function scaleBench(options: ScaleBenchOptions, env: NodeJS.ProcessEnv, print: (line: string) => void): Promise<void> {
  const connection = kafkaConnectionFromEnv('pdm-bench-scale', env);
  registerZstd();
  const admin = await openGroupInspector(connection);
  const producer = createKafka(connection).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const reader = await openPartitionReader(connection);
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-bench-scale-'));
  const bench: Bench = { options, env, connection, admin, producer, reader, stamp: String(Date.now()), logDir, children: new Set(), schemas: [], print };
  const cpus = os.cpus();
  print(`bench scale: ${options.services.join(', ')} as ${options.instances.join(', ')} processes in one group; 6 partitions; PDM_SESSION_TIMEOUT ${options.sessionTimeout}; broker ${connection.brokers.join(',')}`);
  print(`  machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}, Node ${process.version}; logs in ${logDir}`);
  try {
    const rows = await runAll(bench);
    print('');
    for (const line of renderScaleTable(rows, options.instances)) print(line);
    print('');
    print(`  throughput: records/s from the group formed to its committed offsets at the input's end; hand-over: the slowest of the stopped process's partitions, from the signal to its committed offset moving again (PDM_SESSION_TIMEOUT ${options.sessionTimeout}).`);
  } finally {
    for (const child of bench.children) child.kill('SIGKILL');
    await cleanUp(bench).catch((err: unknown) => print(`  cleaning up: ${(err as Error).message}`));
    await reader.close();
    await producer.disconnect();
    await admin.close();
  }
}
