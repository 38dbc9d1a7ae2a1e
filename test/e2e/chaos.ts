import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { Pool } from 'pg';
import { DLQ_HEADERS } from '../../lib/dead-letter';
import { ensureTopics, openGroupWatcher, type GroupWatcher } from '../../lib/kafka/admin';
import type { KafkaConnection } from '../../lib/kafka/client';
import { registerZstd } from '../../lib/kafka/compression';
import { openPartitionReader, type PartitionReader } from '../../lib/kafka/partition-reader';
import type { IncomingRecord } from '../../lib/kafka/runner';
import { parseDuration } from '../../lib/duration';
import { repoRoot } from '../../lib/paths';
import { createRegistry, registerTopicSchemas } from '../../lib/registry';
import { TOPICS, keySubject, topicSpecs, valueSubject } from '../../lib/topics';
import { readTruth } from '../../cli/train.command';
import { rowToWindow } from '../../models/data/windows-table';
import { loadCurrent } from '../../models/store';
import { alertReport } from '../../processors/inference/inference.evaluate';
import { replayAsService } from '../../processors/inference/inference.replay';
import { WINDOW_HEADERS } from '../../processors/window/window.processor';
import { planSimulation } from '../../producers/simulate/simulate.job';
import { Random } from '../../producers/simulate/random';
import type { AlertEvent, MachineAssessment, SensorReading, WindowFeatures, WindowKey } from '../../schemas';
import { emailSettings } from '../../sinks/email/email.settings';
import { rosterRouting } from '../../sinks/email/roster';
import { migrate } from '../../sinks/postgres/migrations';
import { ensureKafka } from '../../stack/artifacts';
import { quietReporter } from '../../stack/reporter';
import { loadStackSettings, privateStackPorts, type StackSettings } from '../../stack/settings';
import { stackDown, stackEnv, stackUp } from '../../stack/stack';
import { compareWindows, oracleKey } from '../window-oracle';
import { badRecord, type BadRecord } from './bad-input';
import { compareDeliveries, deliveriesOfMail, expectedDeliveries, type Delivery } from './mail-expectation';
import { SERVICES, describePlan, instanceId, instancesOf, planChaos, type Gauge, type InstanceId, type Kill, type StackFault, type Trigger } from './plan';
import { alertFromRow, assessmentFromRows, canonicalAlert, canonicalAssessment, compareKeyed } from './records';
import { registeredSchemas, SubjectDecoder } from './schema-check';
import { Supervisor } from './services';
import { StreamingWindowOracle } from './streaming-oracle';
import { mismatches, type ChaosSummary, type CheckResult } from './summary';

/**
 * The whole pipeline under faults, checked the way its users check it (issue #9). On a private
 * stack (its own state folder and ports, so stopping its servers disturbs nothing else):
 * `pdmctl simulate` writes the readings, with bad records of every kind mixed in, while `pdmctl
 * run window|inference|sink-postgres|sink-email` run as child processes (`instances` of each, in
 * one group); each of them is killed with SIGKILL at seeded points and started again (with several
 * instances, one instance is killed and another stopped with SIGTERM, so partitions move between
 * live members and restore there), the broker is restarted once, and the Postgres
 * primary and the SMTP server are each stopped for `outageSeconds`. Then:
 *
 * - other teams: every record of every topic decodes with the schemas registered for it (read
 *   from the registry), but exactly the bad records mixed into the readings;
 * - analysts: pdm.window_features on the follower (and the window topic) equal an offline
 *   computation over the readings topic, bad records left out; pdm.alerts and pdm.assessments on
 *   the follower equal the alert and assessment topics; one assessment per window;
 * - on-call: the inbox holds exactly the deliveries the email sink's own lifecycle decides from
 *   the alert topic (no group wait, no rate limit, no reminders: settings that leave nothing to
 *   timing), each once;
 * - every bad record is in pdm.dead-letter.v1 with its origin and reason in the headers, nothing
 *   else is, and the late readings are exactly the offline computation's;
 * - every service stops cleanly on SIGTERM at the end.
 *
 * It waits on conditions (consumer progress, topic and row counts), never on durations, and
 * returns a summary: counts, what was done, and each check's mismatches.
 */

export interface ChaosOptions {
  /** Seed of the faults: what is killed when, the order of the stack's faults, the bad records. */
  seed: number;
  /** Seed of `pdmctl simulate` (default: `seed`): a fixed one keeps the readings (and so the alerts) the same while the faults vary. */
  simulateSeed?: number;
  machines: number;
  /** Event time simulated, as `pdmctl simulate --duration` takes it (`60d`). */
  duration: string;
  /** Event time between two readings of a machine (`2s`). */
  interval: string;
  /** First event time (ISO-8601): fixed, so a seed replays the same readings. */
  from: string;
  partitions: number;
  /** Processes of each service, all in the service's group (default 1). */
  instances?: number;
  killsPerService: number;
  /** How long the Postgres primary and the SMTP server are each down. */
  outageSeconds: number;
  /** Bad records of each kind mixed into the readings. */
  badPerKind: number;
  /**
   * Throttle `pdmctl simulate` to about this many readings a second with a broker quota on its
   * client id, so that a small run lasts as long as its faults take (the full run needs none).
   */
  paceReadingsPerSecond?: number;
  /** The private stack listens on the shared stack's ports plus this (Kafka on 19092 + it, ...). */
  portOffset: number;
  /** State folder of the private stack (default: a new one under the system's temp folder). */
  stateDir?: string;
  /** Leave the private stack running (and its folder) afterwards. */
  keepStack?: boolean;
  log?: (line: string) => void;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const WINDOW = { sizeMs: HOUR_MS, graceMs: 5 * 60_000 };
/** Bytes on the broker per reading (zstd batches, key included): 29 measured with 6 machines at 10-second readings. */
const BYTES_PER_READING = 29;
const SIMULATE_CLIENT_ID = 'pdm-simulate';
const UNKNOWN_SCHEMA_ID = 987_654_321;
const ROSTER = [
  'default: oncall@plant.example',
  'machines:',
  '  "lathe-*": [lathes@plant.example, oncall@plant.example]',
  'groups:',
  '  pumps:',
  '    machines: ["pump-*"]',
  '    recipients: [pumps@plant.example]',
  '',
].join('\n');

/** The environment of a child process: ours without any connection or pdm setting, which the suite sets itself. */
function cleanEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith('PDM_') || name.startsWith('KAFKA_') || name.startsWith('SMTP_') || name.startsWith('DATABASE_') || name.startsWith('MQTT_')) continue;
    if (['SCHEMA_REGISTRY_URL', 'MODELS_DIR', 'PROMETHEUS_URL'].includes(name)) continue;
    out[name] = value;
  }
  return out;
}

interface Inbox {
  id: string;
  to: string[];
  text: string;
}

async function readInbox(url: string): Promise<Inbox[]> {
  const response = await fetch(`${url}/email`, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`inbox answered ${response.status}`);
  const mails = (await response.json()) as Array<{ id: string; to?: Array<{ address: string }>; text?: string }>;
  return mails.map((m) => ({ id: m.id, to: (m.to ?? []).map((t) => t.address.toLowerCase()), text: m.text ?? '' }));
}

/** Reads every partition of `topic` to its end (read_committed), record by record. */
async function readTopic(reader: PartitionReader, topic: string, partitions: number, onRecord: (partition: number, record: IncomingRecord) => void): Promise<number> {
  let n = 0;
  for (let p = 0; p < partitions; p++) {
    await reader.read(topic, p, (records) => {
      for (const r of records) onRecord(p, r);
      n += records.length;
    });
  }
  return n;
}

/**
 * Waits until `count()` reaches `target`, or has not moved for `quietMs` (the stage is stuck or
 * short: what is missing is then a mismatch for the checks to report, not a timeout), or
 * `timeoutMs` passed. Returns the last count.
 */
async function settle(what: string, count: () => Promise<number>, target: number, log: (line: string) => void, options: { timeoutMs: number; quietMs?: number }): Promise<number> {
  const deadline = Date.now() + options.timeoutMs;
  const quietMs = options.quietMs ?? 60_000;
  let last = -1;
  let lastChange = Date.now();
  let announced = false;
  for (;;) {
    const n = await count().catch(() => last);
    if (n >= target) return n;
    if (n !== last) lastChange = Date.now();
    last = n;
    if (Date.now() - lastChange > quietMs) {
      log(`${what}: stuck at ${n} of ${target} for ${Math.round(quietMs / 1000)} s; checking what there is`);
      return n;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${what} (${n} of ${target})`);
    if (!announced) log(`waiting for ${what} (${n} of ${target})`);
    announced = true;
    await sleep(2000);
  }
}

/** Progress of the run, polled: what the triggers of the plan are measured against. */
class Gauges {
  readonly values: Record<Gauge, number> = { produced: 0, windowed: 0, assessed: 0, written: 0, mailed: 0 };
  private watcher: GroupWatcher | undefined;
  private stopped = false;
  private readonly loop: Promise<unknown>;

  constructor(
    private readonly connection: KafkaConnection,
    private readonly pool: Pool,
    private readonly inboxUrl: string,
    private readonly log: (line: string) => void,
  ) {
    // One loop each: a server that is down (and a client waiting for it) holds up only its own gauge.
    this.loop = Promise.all([this.every('kafka', () => this.kafka()), this.every('postgres', () => this.rows()), this.every('inbox', () => this.mails())]).then(() => this.watcher?.close().catch(() => undefined));
  }

  private async every(what: string, poll: () => Promise<void>): Promise<void> {
    while (!this.stopped) {
      const started = Date.now();
      await poll();
      if (Date.now() - started > 10_000) this.log(`(polling ${what} took ${Math.round((Date.now() - started) / 1000)} s)`);
      await sleep(300);
    }
  }

  private async kafka(): Promise<void> {
    try {
      this.watcher ??= await openGroupWatcher(this.connection);
      const readings = await this.watcher.progress('pdm-window', TOPICS.readings);
      this.values.produced = readings.end;
      this.values.windowed = readings.committed;
      // Assessments written: the topic's end (transaction markers included, close enough for a trigger).
      this.values.assessed = (await this.watcher.progress('pdm-inference', TOPICS.assessments)).end;
    } catch {
      // The broker is restarting: a new connection next time.
      await this.watcher?.close().catch(() => undefined);
      this.watcher = undefined;
    }
  }

  private async rows(): Promise<void> {
    try {
      this.values.written = Number((await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM pdm.window_features')).rows[0]!.n);
    } catch {
      // Postgres is down.
    }
  }

  private async mails(): Promise<void> {
    try {
      this.values.mailed = Math.max(this.values.mailed, (await readInbox(this.inboxUrl)).length);
    } catch {
      // The SMTP server (and its inbox) is down.
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

export async function runChaosSuite(options: ChaosOptions): Promise<ChaosSummary> {
  const started = Date.now();
  const log = (line: string) => (options.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(`[chaos ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  const stateDir = options.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-chaos-'));
  fs.mkdirSync(stateDir, { recursive: true });
  fs.chmodSync(stateDir, 0o755); // Postgres runs as its own user when the suite runs as root
  const logDir = path.join(stateDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const settings: StackSettings = loadStackSettings({ ...process.env, PDM_STATE_DIR: stateDir, ...privateStackPorts(options.portOffset), PDM_KAFKA_HEAP: '768m', PDM_REGISTRY_HEAP: '256m' });

  const intervalMs = parseDuration(options.interval);
  const durationMs = parseDuration(options.duration);
  const fromMs = Date.parse(options.from);
  const expectedReadings = options.machines * Math.floor(durationMs / intervalMs);
  const expectedWindows = options.machines * Math.floor(durationMs / HOUR_MS);
  const instances = options.instances ?? 1;
  const plan = planChaos(options.seed, { killsPerService: options.killsPerService, badPerKind: options.badPerKind, machines: options.machines, instances });
  const everyInstance = SERVICES.flatMap((service) => instancesOf(service, instances));
  const simulateSeed = options.simulateSeed ?? options.seed;
  const simulateArgs = ['simulate', '--machines', String(options.machines), '--duration', options.duration, '--from', options.from, '--interval', options.interval, '--speed', 'max', '--scenario', 'mixed', '--seed', String(simulateSeed)];
  const fleet = planSimulation({ machines: options.machines, intervalMs, fromMs, toMs: fromMs + durationMs, speed: 'max', scenario: 'mixed', seed: simulateSeed, faultyFraction: 0.3 }).machines.map((m) => m.id);
  log(`seed ${options.seed}; ${instances} instance(s) of each service; private stack in ${stateDir}; pdmctl ${simulateArgs.join(' ')}`);
  for (const line of describePlan(plan)) log(`plan: ${line}`);

  const checks: CheckResult[] = [];
  const problems = (name: string, checked: number, list: string[]) => checks.push({ name, checked, problems: list });
  const stackFaultsDone: string[] = [];
  const counts: ChaosSummary['counts'] = { readings: 0, badRecords: 0, late: 0, windows: 0, assessments: 0, alerts: 0, mails: 0, deliveries: 0, deadLetters: 0 };
  let supervisor: Supervisor | undefined;
  let failed = false;
  let truth: ChaosSummary['truth'];

  try {
    const up = await stackUp({ settings, reporter: quietReporter });
    const notUp = up.filter((r) => r.outcome === 'failed' || r.outcome === 'skipped');
    if (notUp.length > 0) throw new Error(`private stack: ${notUp.map((f) => `${f.name}: ${f.error}`).join('; ')}`);
    const env = stackEnv(settings);
    const connection: KafkaConnection = { brokers: env.KAFKA_BROKERS!.split(','), clientId: 'chaos-suite' };
    const specs = topicSpecs({ partitions: options.partitions });
    await ensureTopics(connection, specs);
    await registerTopicSchemas(createRegistry(env.SCHEMA_REGISTRY_URL!), specs);
    await migrate({ url: env.DATABASE_URL!, schema: 'pdm', writerPassword: env.PDM_WRITER_PASSWORD, analystPassword: env.PDM_ANALYST_PASSWORD });
    log('private stack up, topics and tables created');

    // The models of this checkout, copied: a version promoted meanwhile must not change the run.
    const modelsDir = path.join(stateDir, 'models');
    for (const name of ['pdm-anomaly', 'pdm-forecaster']) fs.cpSync(path.join(repoRoot, 'models', name), path.join(modelsDir, name), { recursive: true });
    const rosterFile = path.join(stateDir, 'roster.yaml');
    fs.writeFileSync(rosterFile, ROSTER);
    const serviceEnv: Record<string, string> = {
      ...cleanEnv(),
      ...env,
      MODELS_DIR: modelsDir,
      PDM_LOG_LEVEL: 'info',
      // The Kafka client under test is the one this run was started with (docs/topics.md#kafka-clients).
      ...(process.env.PDM_KAFKA_CLIENT ? { PDM_KAFKA_CLIENT: process.env.PDM_KAFKA_CLIENT } : {}),
      // A killed member's partitions move on after 6 s (the broker's minimum) instead of 30.
      PDM_SESSION_TIMEOUT: '6s',
      PDM_TRANSACTION_TIMEOUT: '20s',
      PDM_EMAIL_ROSTER: rosterFile,
      // Nothing left to wall-clock timing: no group wait, no rate limit, no reminders, no age limit.
      PDM_EMAIL_GROUP_WAIT: '0s',
      PDM_EMAIL_RATE_LIMIT: '1000000',
      PDM_EMAIL_REPEAT_INTERVAL: '5200w',
      PDM_EMAIL_MAX_AGE: '5200w',
      PDM_EMAIL_TICK: '200ms',
      PDM_EMAIL_SEND_ATTEMPTS: '2',
      PDM_EMAIL_RETRY_BACKOFF: '500ms',
      PDM_EMAIL_RETRY_AFTER: '3s',
    };

    if (options.paceReadingsPerSecond) {
      const rate = Math.round(options.paceReadingsPerSecond * BYTES_PER_READING);
      const libs = await ensureKafka(settings, quietReporter);
      const quota = spawnSync('java', ['-cp', `${libs}/*`, 'kafka.admin.ConfigCommand', '--bootstrap-server', env.KAFKA_BROKERS!, '--alter', '--add-config', `producer_byte_rate=${rate}`, '--entity-type', 'clients', '--entity-name', SIMULATE_CLIENT_ID], { encoding: 'utf8' });
      if (quota.status !== 0) throw new Error(`setting the producer quota failed:\n${quota.stdout}\n${quota.stderr}`);
      log(`simulate throttled to ${rate} bytes/s (about ${options.paceReadingsPerSecond} readings/s) by a broker quota on client id ${SIMULATE_CLIENT_ID}`);
    }

    supervisor = new Supervisor({ env: serviceEnv, logDir, log });
    for (const name of everyInstance) supervisor.start(name);

    const pool = new Pool({ connectionString: env.DATABASE_URL, max: 2, connectionTimeoutMillis: 2000 });
    pool.on('error', () => undefined);
    const gauges = new Gauges(connection, pool, env.PDM_INBOX_URL!, log);

    // The readings.
    const truthFile = path.join(stateDir, 'truth.jsonl');
    const simulateLog = fs.openSync(path.join(logDir, 'simulate.log'), 'a');
    const simulate = spawn(process.execPath, [path.join(repoRoot, 'bin', 'pdmctl.js'), ...simulateArgs, '--truth', truthFile], { cwd: repoRoot, env: serviceEnv, stdio: ['ignore', simulateLog, simulateLog] });
    fs.closeSync(simulateLog);
    let simulateCode: number | null | undefined;
    const simulated = new Promise<number | null>((resolve) => simulate.once('exit', (code) => resolve((simulateCode = code))));
    const flowDone = () => simulateCode !== undefined && gauges.values.windowed >= gauges.values.produced;

    const reached = async (trigger: Trigger) => {
      const total = trigger.gauge === 'produced' || trigger.gauge === 'windowed' ? expectedReadings : expectedWindows;
      const target = trigger.gauge === 'mailed' ? trigger.at : trigger.at * total;
      while (gauges.values[trigger.gauge] < target && !flowDone()) await sleep(100);
      await sleep(trigger.delayMs);
    };

    // Bad records, one at a time so each one's offset is known.
    registerZstd();
    const kafka = new Kafka({ clientId: 'chaos-bad-input', brokers: connection.brokers, logLevel: logLevel.NOTHING, retry: { retries: 1000, maxRetryTime: 5000 } });
    const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const schemas = await registeredSchemas(env.SCHEMA_REGISTRY_URL!);
    const latestId = (subject: string) => {
      const versions = schemas.get(subject) ?? [];
      if (versions.length === 0) throw new Error(`nothing registered under ${subject}`);
      return versions[versions.length - 1]!.id;
    };
    const injected: Array<BadRecord & { partition: number; offset: string }> = [];
    const badRandom = new Random(options.seed + 1);
    const inject = (async () => {
      for (const b of plan.bad) {
        await reached({ gauge: 'produced', at: b.at, delayMs: 0 });
        const record = badRecord(b.kind, badRandom, {
          keySchemaId: latestId(keySubject(TOPICS.readings)),
          readingSchemaId: latestId(valueSubject(TOPICS.readings)),
          unknownSchemaId: UNKNOWN_SCHEMA_ID,
          machineId: fleet[b.machine]!,
          timestampMs: fromMs + Math.floor(b.at * durationMs),
          nowMs: Date.now(),
        });
        const [meta] = await producer.send({ topic: TOPICS.readings, acks: -1, messages: [{ key: record.key, value: record.value }] });
        injected.push({ ...record, partition: meta!.partition, offset: meta!.baseOffset! });
      }
      log(`${injected.length} bad records written`);
    })();

    const kill = async (k: Kill) => {
      await reached(k.trigger);
      const id = instanceId(k.service, k.instance);
      log(`${k.signal === 'SIGKILL' ? 'kill -9' : 'SIGTERM'} ${id} (${k.trigger.gauge} at ${gauges.values[k.trigger.gauge]})`);
      if (k.signal === 'SIGKILL') await supervisor!.kill(id);
      else {
        // Once it has started: a process stopped while it starts has nothing to drain and simply ends.
        await supervisor!.started(id);
        log(`${id} exited with ${await supervisor!.terminate(id)} on SIGTERM`);
      }
      await sleep(k.downMs);
      supervisor!.ensureRunning(id);
    };
    const stackFault = async (fault: StackFault) => {
      const server = fault === 'broker-restart' ? 'kafka' : fault === 'postgres-outage' ? 'postgres' : 'smtp';
      log(`${fault}: stopping ${server}`);
      await stackDown({ settings, only: [server] });
      if (fault !== 'broker-restart') await sleep(options.outageSeconds * 1000);
      const results = await stackUp({ settings, reporter: quietReporter });
      const result = results.find((r) => r.name === server);
      const broken = results.filter((r) => r.outcome === 'failed' || r.outcome === 'skipped');
      if (result?.outcome !== 'started' || broken.length > 0) throw new Error(`${server} did not come back: ${broken.map((b) => `${b.name}: ${b.error}`).join('; ')}`);
      stackFaultsDone.push(fault);
      log(`${fault}: ${server} is back`);
    };
    let inboxBeforeOutage: Inbox[] = [];
    const chaos = (async () => {
      await reached(plan.stackTrigger);
      for (const fault of plan.stackFaults) {
        // MailDev reloads its stored mails on start, but not who they went to: keep what it held.
        if (fault === 'smtp-outage') inboxBeforeOutage = await readInbox(env.PDM_INBOX_URL!);
        await stackFault(fault);
        await sleep(plan.stackGapMs);
      }
    })();

    // One service's kills one after the other: the next waits until the last one's restart.
    const kills = SERVICES.map(async (service) => {
      for (const k of plan.kills.filter((x) => x.service === service)) await kill(k);
    });
    const code = await simulated;
    log(`simulate exited with code ${code}`);
    await Promise.all([inject, chaos, ...kills]);
    await producer.disconnect();
    await gauges.stop();
    await pool.end();
    if (code !== 0) problems('simulate finished', 1, [`pdmctl simulate exited with code ${code} (log: ${path.join(logDir, 'simulate.log')})`]);

    // The last windows close when their partitions go idle; by default after an hour of silence.
    // A restart with a short idle timeout (a configuration change, drained on SIGTERM) closes them now.
    // (Once it has started: a process stopped while it starts has nothing to drain and simply ends.)
    const windows = instancesOf('window', instances);
    for (const id of windows) await supervisor.started(id);
    const windowStops = await Promise.all(windows.map(async (id) => ({ id, code: await supervisor!.stop(id) })));
    const unclean = windowStops.filter((w) => w.code !== 0).map((w) => `${w.id} exited with ${w.code} on SIGTERM`);
    if (unclean.length > 0) problems('window restarts cleanly', windows.length, unclean);
    for (const id of windows) supervisor.start(id, { PDM_WINDOW_IDLE_TIMEOUT: '2s' });
    log('faults over; window restarted with a 2 s idle timeout to close the last windows');

    // The offline computation and the schema check of the readings, from the topic itself.
    const reader = await openPartitionReader(connection);
    const decoders = new Map<string, SubjectDecoder>();
    const decoderOf = (subject: string) => {
      let d = decoders.get(subject);
      if (!d) decoders.set(subject, (d = new SubjectDecoder(subject, schemas.get(subject) ?? [])));
      return d;
    };
    const fresh = await registeredSchemas(env.SCHEMA_REGISTRY_URL!);
    for (const [subject, list] of fresh) schemas.set(subject, list);
    const schemaProblems: string[] = [];
    let schemaChecked = 0;
    const decodeRecord = <T>(topic: string, partition: number, r: IncomingRecord, expectFailure = false): { key: unknown; value: T | undefined } => {
      schemaChecked++;
      const key = decoderOf(keySubject(topic)).decode(r.key);
      const value = decoderOf(valueSubject(topic)).decode(r.value);
      if (!key.ok) schemaProblems.push(`${topic}/${partition}@${r.offset}: key: ${key.reason}`);
      if (!value.ok && !expectFailure) schemaProblems.push(`${topic}/${partition}@${r.offset}: value: ${value.reason}`);
      if (value.ok && expectFailure) schemaProblems.push(`${topic}/${partition}@${r.offset}: a bad record decoded`);
      return { key: key.ok ? key.value : undefined, value: value.ok ? (value.value as T) : undefined };
    };
    for (const topic of [TOPICS.readings, TOPICS.windowFeatures, TOPICS.alerts, TOPICS.assessments, TOPICS.lateReadings]) {
      for (const subject of [keySubject(topic), valueSubject(topic)]) if (!schemas.has(subject)) schemaProblems.push(`${subject}: not registered`);
    }

    const badAt = new Map(injected.map((b) => [`${b.partition}@${b.offset}`, b]));
    const oracle = new StreamingWindowOracle(WINDOW);
    counts.readings = await readTopic(reader, TOPICS.readings, options.partitions, (partition, r) => {
      const bad = badAt.get(`${partition}@${r.offset}`);
      const { value } = decodeRecord<SensorReading>(TOPICS.readings, partition, r, bad !== undefined && !bad.decodable);
      if (!bad && value) oracle.add(partition, value);
    });
    counts.readings -= injected.length;
    counts.badRecords = injected.length;
    const expected = oracle.finish();
    // No reading lost or written twice by simulate's producer, broker restart or not: the topic
    // holds as many as simulate says it produced (its own duplicates and disorder included).
    const produced = /Done: ([\d,]+) readings produced/.exec(fs.readFileSync(path.join(logDir, 'simulate.log'), 'utf8'));
    const producedCount = produced ? Number(produced[1]!.replaceAll(',', '')) : undefined;
    problems(
      'readings: the readings topic holds every reading simulate produced, once',
      counts.readings,
      producedCount === undefined ? ['simulate printed no "Done: N readings produced" line'] : producedCount === counts.readings ? [] : [`simulate produced ${producedCount.toLocaleString('en')} readings, the topic holds ${counts.readings.toLocaleString('en')}`],
    );
    log(`offline computation: ${counts.readings} readings, ${expected.windows.size} windows, ${expected.late.length} late, ${expected.duplicates} duplicates`);

    // Wait for the pipeline to finish: windows, assessments, rows, mails.
    const scale = Math.max(1, counts.readings / 200_000);
    const countTopic = async (topic: string) => readTopic(reader, topic, options.partitions, () => undefined);
    const windowCount = await settle(`${expected.windows.size} windows on ${TOPICS.windowFeatures}`, () => countTopic(TOPICS.windowFeatures), expected.windows.size, log, { timeoutMs: 300_000 * scale });
    await settle(`an assessment of each window on ${TOPICS.assessments}`, () => countTopic(TOPICS.assessments), windowCount, log, { timeoutMs: 300_000 * scale });
    // Inference is done: the alert topic is complete. Per partition in offset order, as the email sink reads it.
    const alertsByPartition: AlertEvent[][] = Array.from({ length: options.partitions }, () => []);
    counts.alerts = await readTopic(reader, TOPICS.alerts, options.partitions, (p, r) => {
      const { value } = decodeRecord<AlertEvent>(TOPICS.alerts, p, r);
      if (value) alertsByPartition[p]!.push(value);
    });
    const alertsOnTopic = alertsByPartition.flat();
    const follower = new Pool({ connectionString: env.DATABASE_FOLLOWER_URL, max: 2 });
    const primary = new Pool({ connectionString: env.DATABASE_URL, max: 2 });
    try {
      const count = async (db: Pool, sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]!.n);
      const rows = async () =>
        Math.min(await count(follower, 'SELECT count(*) AS n FROM pdm.window_features'), await count(follower, 'SELECT count(*) AS n FROM pdm.assessments')) +
        (await count(follower, 'SELECT count(*) AS n FROM pdm.alerts'));
      await settle('every window, assessment and alert as a row on the follower', rows, windowCount + counts.alerts, log, { timeoutMs: 300_000 * scale });

      // Whatever the sink reads from the environment, the expectation reads too.
      const email = emailSettings(serviceEnv);
      const wanted = expectedDeliveries(alertsByPartition, email.lifecycle, rosterRouting(email.roster), Date.now());
      const inbox = async () => {
        const byId = new Map<string, Inbox>(inboxBeforeOutage.map((m) => [m.id, m]));
        for (const m of await readInbox(env.PDM_INBOX_URL!)) if (!byId.has(m.id) || m.to.length > 0) byId.set(m.id, m);
        return [...byId.values()];
      };
      const deliveries = (mails: Inbox[]): Delivery[] => mails.flatMap((m) => deliveriesOfMail(m.to, m.text));
      await settle(`${wanted.length} deliveries recorded sent in pdm.notifications`, () => count(primary, "SELECT count(*) AS n FROM pdm.notifications WHERE outcome = 'sent'"), wanted.length, log, { timeoutMs: 180_000 * scale });
      await settle(`${wanted.length} deliveries in the inbox`, async () => deliveries(await inbox()).length, wanted.length, log, { timeoutMs: 180_000 * scale });
      // A duplicate would come late: look once more after a pause.
      await sleep(5000);
      log('pipeline drained; checking');

      // Other teams' view: every topic, decoded with the registry's schemas.
      const windowsOnTopic: WindowFeatures[] = [];
      const windowProblems: string[] = [];
      counts.windows = await readTopic(reader, TOPICS.windowFeatures, options.partitions, (p, r) => {
        const { key, value } = decodeRecord<WindowFeatures>(TOPICS.windowFeatures, p, r);
        if (!value) return;
        windowsOnTopic.push(value);
        const k = key as WindowKey | undefined;
        if (k && (k.machineId !== value.machineId || k.windowStart !== value.windowStart)) windowProblems.push(`${TOPICS.windowFeatures}/${p}@${r.offset}: key ${JSON.stringify(k)} is not its window's`);
        if (r.headers[WINDOW_HEADERS.final] !== 'true') windowProblems.push(`${TOPICS.windowFeatures}/${p}@${r.offset}: not marked final`);
      });
      const assessmentsOnTopic: MachineAssessment[] = [];
      counts.assessments = await readTopic(reader, TOPICS.assessments, options.partitions, (p, r) => {
        const { value } = decodeRecord<MachineAssessment>(TOPICS.assessments, p, r);
        if (value) assessmentsOnTopic.push(value);
      });
      const late: string[] = [];
      const lateProblems: string[] = [];
      counts.late = await readTopic(reader, TOPICS.lateReadings, options.partitions, (p, r) => {
        const { value } = decodeRecord<SensorReading>(TOPICS.lateReadings, p, r);
        if (value) late.push(oracleKey(value.machineId, value.timestamp));
        if (!r.headers[WINDOW_HEADERS.lateStreamTime] || !r.headers[WINDOW_HEADERS.lateWindowEnd]) lateProblems.push(`${TOPICS.lateReadings}/${p}@${r.offset}: no late headers`);
      });
      problems('schemas: every record of every topic decodes with its registered schemas (all but the bad records)', schemaChecked, schemaProblems);

      // Analysts' view: the follower against the offline computation and the topics.
      const followerWindows = (await follower.query('SELECT * FROM pdm.window_features')).rows.map((row: Record<string, unknown>) => rowToWindow(row, 'pdm.window_features'));
      // Extra channels live beside the window's row, in pdm.window_extras.
      const byKey = new Map(followerWindows.map((w) => [`${w.machineId}\u0000${w.windowStart}`, w]));
      const extras = await follower.query<{ machine_id: string; window_start: Date; channel: string; count: string; mean: number | null; min: number | null; max: number | null; stddev: number | null }>(
        'SELECT machine_id, window_start, channel, count, mean, min, max, stddev FROM pdm.window_extras',
      );
      for (const row of extras.rows) {
        const window = byKey.get(`${row.machine_id}\u0000${row.window_start.getTime()}`);
        if (window) window.extras[row.channel] = { count: Number(row.count), mean: row.mean, min: row.min, max: row.max, stddev: row.stddev };
      }
      problems('windows: pdm.window_features on the follower equals the offline computation', followerWindows.length, compareWindows(followerWindows, expected.windows).map((p) => `follower ${p}`));
      problems('windows: the window topic equals the offline computation', windowsOnTopic.length, [...windowProblems, ...compareWindows(windowsOnTopic, expected.windows).map((p) => `topic ${p}`)]);
      const followerAlerts = (await follower.query('SELECT * FROM pdm.alerts')).rows.map(alertFromRow);
      problems('alerts: pdm.alerts on the follower equals the alert topic', followerAlerts.length, compareKeyed('alert', followerAlerts, alertsOnTopic, (a) => a.alertId, canonicalAlert));
      // Killed, restored and rejoined, inference decides what one uninterrupted pass decides: the
      // production core replayed offline over the window topic, with the service's own settings.
      const { transitions: offlineAlerts } = await replayAsService(windowsOnTopic, loadCurrent(path.join(repoRoot, 'models'), 'pdm-anomaly'), loadCurrent(path.join(repoRoot, 'models'), 'pdm-forecaster'), serviceEnv);
      problems('alerts: the alert topic equals the offline decisions over the window topic', alertsOnTopic.length, compareKeyed('alert', alertsOnTopic, offlineAlerts, (a) => a.alertId, canonicalAlert));
      const report = alertReport(alertsOnTopic, readTruth(truthFile), fleet, { fromMs, toMs: fromMs + durationMs }, DAY_MS);
      const leads = report.faults.filter((f) => f.detected).map((f) => f.leadTimeMs! / HOUR_MS);
      truth = {
        machineFaults: report.faults.length,
        detected: leads.length,
        leadHours: leads.length > 0 ? { min: Math.min(...leads), max: Math.max(...leads) } : null,
        falseAlerts: report.falseAlerts,
        healthyMachineMonths: report.healthyMachineMonths,
        unresolved: report.unresolved.length,
      };
      const forecastRows = new Map<string, Array<Record<string, unknown>>>();
      for (const row of (await follower.query('SELECT * FROM pdm.forecasts ORDER BY machine_id, made_at, target_start, feature')).rows as Array<Record<string, unknown>>) {
        const key = `${String(row.machine_id)}@${(row.made_at as Date).getTime()}`;
        forecastRows.set(key, [...(forecastRows.get(key) ?? []), row]);
      }
      const assessmentKey = (a: { machineId: string; windowEnd: number }) => `${a.machineId}@${a.windowEnd}`;
      const followerAssessments = (await follower.query('SELECT * FROM pdm.assessments')).rows.map((row: Record<string, unknown>) => assessmentFromRows(row, forecastRows.get(`${String(row.machine_id)}@${(row.window_end as Date).getTime()}`) ?? []));
      problems('assessments: pdm.assessments and pdm.forecasts on the follower equal the assessment topic', followerAssessments.length, compareKeyed('assessment', followerAssessments, assessmentsOnTopic, assessmentKey, canonicalAssessment));
      problems(
        'assessments: one per window',
        assessmentsOnTopic.length,
        compareKeyed('assessment of window', assessmentsOnTopic.map(assessmentKey), [...expected.windows.values()].map(assessmentKey), (k) => k, (k) => k),
      );
      const lateWanted = [...expected.late].sort();
      const lateFound = [...late].sort();
      problems('late readings: exactly the offline computation\'s', late.length, [...lateProblems, ...compareKeyed('late reading', lateFound.map((k, i) => `${k}#${i}`), lateWanted.map((k, i) => `${k}#${i}`), (k) => k, (k) => k)]);

      // On-call's view: the inbox.
      const mails = await inbox();
      counts.mails = mails.length;
      const delivered = deliveries(mails);
      counts.deliveries = delivered.length;
      const logRows = (await primary.query<{ outcome: string; n: string }>('SELECT outcome, count(*) AS n FROM pdm.notifications GROUP BY outcome')).rows;
      const notSent = logRows.filter((r) => r.outcome !== 'sent').map((r) => `pdm.notifications: ${r.n} ${r.outcome}`);
      problems('mails: the inbox holds exactly the deliveries the lifecycle decides from the alert topic, each once', delivered.length, [...compareDeliveries(delivered, wanted), ...notSent]);

      // The dead-letter topic: every bad record, with where it came from and why, and nothing else.
      const deadProblems: string[] = [];
      const unmatched = new Map(badAt);
      counts.deadLetters = await readTopic(reader, TOPICS.deadLetter, options.partitions, (p, r) => {
        const h = r.headers;
        const where = `${TOPICS.deadLetter}/${p}@${r.offset}`;
        for (const name of Object.values(DLQ_HEADERS).filter((n) => n !== DLQ_HEADERS.source)) if (!h[name]) deadProblems.push(`${where}: no ${name} header`);
        const source = `${h[DLQ_HEADERS.partition]}@${h[DLQ_HEADERS.offset]}`;
        const bad = h[DLQ_HEADERS.topic] === TOPICS.readings ? unmatched.get(source) : undefined;
        if (!bad) {
          deadProblems.push(`${where}: not a bad record mixed in: ${h[DLQ_HEADERS.stage]} ${h[DLQ_HEADERS.code]} from ${h[DLQ_HEADERS.topic]}/${source}: ${h[DLQ_HEADERS.message]}`);
          return;
        }
        unmatched.delete(source);
        if (h[DLQ_HEADERS.stage] !== 'window') deadProblems.push(`${where}: ${bad.kind} dead-lettered by ${h[DLQ_HEADERS.stage]}, not the window processor`);
        const same = (a: Buffer | null, b: Buffer | null) => (a === null || b === null ? a === b : a.equals(b));
        if (!same(r.value, bad.value) || !same(r.key, bad.key)) deadProblems.push(`${where}: ${bad.kind}: not the original bytes`);
      });
      for (const [source, bad] of unmatched) deadProblems.push(`${TOPICS.readings}/${source} (${bad.kind}): not in ${TOPICS.deadLetter}`);
      problems('dead letters: every bad record, with its origin and reason in headers, and nothing else', counts.deadLetters, deadProblems);
    } finally {
      await reader.close();
      await follower.end();
      await primary.end();
    }

    for (const name of everyInstance) await supervisor.started(name);
    const exits = await supervisor.stopAll();
    // The SIGTERMs of the run (a member leaving its group while the others work) and the final stop.
    const stops: Array<[string, number | null]> = [...supervisor.stopCodes.map((s): [InstanceId, number | null] => [s.instance, s.code]), ...Object.entries(exits)];
    problems(
      'shutdown: every service stops cleanly on SIGTERM',
      stops.length,
      stops.filter(([, code]) => code !== 0).map(([name, code]) => `${name} exited with ${code}`),
    );
  } catch (err) {
    failed = true;
    problems('the run itself', 1, [(err as Error).message]);
  } finally {
    supervisor?.killAll();
  }

  const summary: ChaosSummary = {
    seed: options.seed,
    simulate: `pdmctl ${simulateArgs.join(' ')}`,
    counts,
    chaos: { instances, kills: supervisor?.kills ?? {}, stops: supervisor?.stops ?? {}, exits: supervisor?.exits ?? {}, stackFaults: stackFaultsDone },
    checks,
    truth,
    seconds: (Date.now() - started) / 1000,
    logDir,
  };
  if (!options.keepStack) {
    await stackDown({ settings }).catch((err: unknown) => log(`stopping the private stack: ${(err as Error).message}`));
    if (mismatches(summary) === 0 && !failed) fs.rmSync(stateDir, { recursive: true, force: true });
  }
  return summary;
}
