import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { DLQ_HEADERS } from '../../lib/dead-letter';
import { groupProgress } from '../../lib/kafka/admin';
import { createLogger } from '../../lib/logger';
import { createRegistry as createMetrics } from '../../lib/metrics';
import { repoRoot } from '../../lib/paths';
import { createRegistry } from '../../lib/registry';
import { Serde, frame } from '../../lib/serde';
import { TOPICS, keySubject, valueSubject } from '../../lib/topics';
import type { ReadingsProducer } from '../../producers/readings.producer';
import { openReadingsOutput } from '../../producers/runtime';
import { runSimulation } from '../../producers/simulate/simulate.job';
import { SCHEMA_FILES, avroType, schemaText, type SensorReading, type WindowFeatures, type WindowKey } from '../../schemas';
import { compareWindows, windowOracle } from '../window-oracle';
import { consumeAll } from './consume';
import { testEnv, uniqueName, useIsolatedTopics } from './servers';

/**
 * Acceptance of the window processor (#4): `pdmctl run window` processes a large simulated stream
 * (with duplicates, disorder, late arrivals and undecodable records) while it is killed with
 * SIGKILL at random points and restarted, alone or as one of two instances in a group. The final
 * read_committed window features must equal an offline computation over the same readings
 * (test/window-oracle.ts): no window lost, none twice, every statistic within 1e-9 relative,
 * extra channels' too (a third of the machines send two); the late and dead-letter topics must
 * hold exactly the late and undecodable records.
 */

const MINUTE = 60_000;
const WINDOW = { sizeMs: 10 * MINUTE, graceMs: 2 * MINUTE };
/** The dead-letter codes the injected bad records must come back with, one each. */
const GARBAGE_CODES = ['SERDE_INCOMPATIBLE_SCHEMA', 'SERDE_UNKNOWN_SCHEMA', 'SERDE_MAGIC_BYTE', 'SERDE_TOO_SHORT', 'SERDE_DECODE', 'WINDOW_NO_VALUE', 'WINDOW_READING_INVALID', 'WINDOW_READING_INVALID'];
const CHANNEL_NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;

/**
 * The simulation's readings, and for a third of the machines two extra channels derived from
 * them: oil pressure (null now and then) and coolant flow. Whatever extras the simulator gives
 * stay.
 */
function withExtras(output: ReadingsProducer): ReadingsProducer {
  const add: ReadingsProducer['add'] = (input, source, raw, onDelivered) => {
    const r = input as SensorReading;
    const machine = [...r.machineId].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 1009, 0);
    if (machine % 3 !== 0) return output.add(input, source, raw, onDelivered);
    const oilPressure = r.timestamp % 13_000 === 0 || r.current === null ? null : 2 + r.current / 10 + (r.timestamp % 7_000) / 7_000;
    const coolantFlow = 40 + (r.tempA ?? 0) / 3 - (r.timestamp % 5_000) / 1_000;
    return output.add({ ...r, extras: { ...r.extras, oil_pressure: oilPressure, coolant_flow: coolantFlow } }, source, raw, onDelivered);
  };
  return { add, flush: () => output.flush() } as ReadingsProducer;
}

function crashSuite(label: string, scenario: (ctx: CrashContext) => Promise<number[]>) {
  describe(`window processor under kill -9: ${label}`, () => {
    const env = testEnv();
    const { prefix, connection } = useIsolatedTopics('wcrash', 3);
    const input = `${prefix}${TOPICS.readings}`;
    const kafka = new Kafka({ clientId: 'window-crash-test', brokers: env.kafkaBrokers, logLevel: logLevel.NOTHING });
    const serde = new Serde(createRegistry(env.registryUrl).client);
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'window-crash-'));
    const children = new Set<ChildProcess>();
    let seed = Number(process.env.PDM_CRASH_SEED ?? Date.now() % 100_000);
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;

    let expected: ReturnType<typeof windowOracle>;
    let total = 0;

    const start = (group: string, name: string): ChildProcess => {
      const log = fs.openSync(path.join(logDir, `${group}-${name}.log`), 'a');
      const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'pdmctl.js'), 'run', 'window', '--metrics-port', '0'], {
        cwd: repoRoot,
        env: {
          ...process.env,
          PDM_TOPIC_PREFIX: prefix,
          PDM_WINDOW_GROUP_ID: group,
          PDM_WINDOW_SIZE: '10m',
          PDM_WINDOW_GRACE: '2m',
          PDM_WINDOW_IDLE_TIMEOUT: '3s',
          // A killed member's partitions move on after 6 s (the broker's minimum) instead of 30.
          PDM_SESSION_TIMEOUT: '6s',
          PDM_TRANSACTION_TIMEOUT: '10s',
          // Small fetches: many transactions, so a kill lands inside one more often than not.
          PDM_FETCH_MAX_BYTES: '32768',
        },
        stdio: ['ignore', log, log],
      });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    };

    const kill = async (child: ChildProcess): Promise<void> => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    };

    let lastCommitted = 0;
    const committed = async (group: string): Promise<number> => {
      try {
        lastCommitted = (await groupProgress(connection, group, input)).committed;
      } catch {
        // The coordinator moves or loads: ask again next time.
      }
      return lastCommitted;
    };

    const waitForCommitted = async (group: string, target: number, timeoutMs = 90_000) => {
      const deadline = Date.now() + timeoutMs;
      while ((await committed(group)) < target && Date.now() < deadline) await sleep(50);
    };

    beforeAll(async () => {
      // Two half-days of 12 machines at 5 s with every kind of fault, undecodable records between them.
      const output = await openReadingsOutput({ stage: 'simulate', env: { ...process.env, PDM_TOPIC_PREFIX: prefix }, logger: createLogger({ level: 'silent' }), metrics: createMetrics('test', false) });
      const fromMs = Date.UTC(2026, 2, 2, 0);
      const half = 12 * 60 * MINUTE;
      const options = { machines: 12, intervalMs: 5000, speed: 'max' as const, scenario: 'mixed', faultyFraction: 0.5 };
      const readings = withExtras(output.readings);
      await runSimulation({ ...options, fromMs, toMs: fromMs + half, seed: 11 }, { output: readings, logger: createLogger({ level: 'silent' }) });
      // One record of every kind a consumer can be handed that is not a reading it can window.
      const encodeKey = await serde.encoder<string>(keySubject(input), avroType(SCHEMA_FILES.machineId), schemaText(SCHEMA_FILES.machineId));
      const encodeReading = await serde.encoder<SensorReading>(valueSubject(input), avroType(SCHEMA_FILES.sensorReading), schemaText(SCHEMA_FILES.sensorReading));
      const good: SensorReading = { machineId: 'lathe-x', timestamp: fromMs + half, current: 1, accX: 1, accY: 1, accZ: 1, tempA: 1, tempB: 1, extras: {} };
      const bytes = encodeReading(good);
      const garbage = [
        encodeKey('lathe-x'), // a key's schema where a reading belongs
        frame(987_654_321, bytes.subarray(5)),
        Buffer.from(JSON.stringify(good)),
        Buffer.from([0, 0]),
        bytes.subarray(0, 12),
        null,
        frame(bytes.readInt32BE(1), avroType(SCHEMA_FILES.sensorReading).toBuffer({ ...good, current: Number.NaN })),
        // From a producer that does not check extras (ours do): a name no channel may have.
        frame(bytes.readInt32BE(1), avroType(SCHEMA_FILES.sensorReading).toBuffer({ ...good, extras: { 'oil pressure': 2 } })),
      ];
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      await producer.send({ topic: input, acks: -1, messages: garbage.map((value, i) => ({ partition: i % 3, key: encodeKey('lathe-x'), value })) });
      await producer.disconnect();
      await runSimulation({ ...options, fromMs: fromMs + half, toMs: fromMs + 2 * half, seed: 12 }, { output: readings, logger: createLogger({ level: 'silent' }) });
      await output.close();

      // The oracle reads what the broker holds, partition by partition in offset order.
      const records = await consumeAll(env.kafkaBrokers, input, { quietMs: 3000 });
      total = records.length;
      const decode = serde.decoder<SensorReading>(avroType(SCHEMA_FILES.sensorReading));
      const partitions: SensorReading[][] = [[], [], []];
      records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
      for (const r of records) {
        const reading = r.value ? await decode(r.value).catch(() => undefined) : undefined;
        // A reading with a value that is not a finite number, or an extra channel no channel may be, is refused too (dead-lettered).
        const finite = reading && [reading.current, reading.accX, reading.accY, reading.accZ, reading.tempA, reading.tempB].every((v) => v === null || Number.isFinite(v));
        if (reading && finite && Object.keys(reading.extras).every((name) => CHANNEL_NAME.test(name))) partitions[r.partition]!.push(reading);
      }
      expected = windowOracle(partitions, WINDOW);
      const withChannels = [...expected.windows.values()].filter((w) => w.extras.oil_pressure && w.extras.coolant_flow).length;
      process.stderr.write(`window crash test: PDM_CRASH_SEED=${seed}; ${total} input records, ${expected.windows.size} windows (${withChannels} with extra channels), ${expected.late.length} late, ${expected.duplicates} duplicates; logs in ${logDir}\n`);
    }, 300_000);

    afterAll(async () => {
      for (const child of children) await kill(child);
    });

    /** Reads the outputs once every window has arrived, and once more after a pause, to catch a late duplicate. */
    async function checkOutputs(label: string): Promise<void> {
      const features = `${prefix}${TOPICS.windowFeatures}`;
      await consumeAll(env.kafkaBrokers, features, { expected: expected.windows.size, timeoutMs: 180_000 });
      await sleep(4000);
      const records = await consumeAll(env.kafkaBrokers, features, { quietMs: 4000, timeoutMs: 120_000 });
      const decodeKey = serde.decoder<WindowKey>(avroType(SCHEMA_FILES.windowKey));
      const decodeValue = serde.decoder<WindowFeatures>(avroType(SCHEMA_FILES.windowFeatures));
      const windows: WindowFeatures[] = [];
      for (const r of records) {
        const key = await decodeKey(r.key!);
        const value = await decodeValue(r.value!);
        expect(key).toEqual({ machineId: value.machineId, windowStart: value.windowStart });
        windows.push(value);
      }
      const problems = compareWindows(windows, expected.windows);
      if (problems.length > 0) process.stderr.write(`${label}: ${problems.length} problems, first: ${problems.slice(0, 10).join('; ')}\n`);
      expect({ problems: problems.slice(0, 10), windows: windows.length }).toEqual({ problems: [], windows: expected.windows.size });

      const late = await consumeAll(env.kafkaBrokers, `${prefix}${TOPICS.lateReadings}`, { expected: expected.late.length, timeoutMs: 30_000 });
      const decodeReading = serde.decoder<SensorReading>(avroType(SCHEMA_FILES.sensorReading));
      const lateSeen = (await Promise.all(late.map((r) => decodeReading(r.value!)))).map((r) => `${r.machineId}@${r.timestamp}`).sort();
      expect(lateSeen).toEqual(expected.late.map((r) => `${r.machineId}@${r.timestamp}`).sort());

      const dead = (await consumeAll(env.kafkaBrokers, `${prefix}${TOPICS.deadLetter}`, { expected: GARBAGE_CODES.length, timeoutMs: 30_000 })).filter((r) => r.headers[DLQ_HEADERS.stage] === 'window');
      expect(dead.map((d) => d.headers[DLQ_HEADERS.code]).sort()).toEqual([...GARBAGE_CODES].sort());
    }

    test(`${label}: the final windows equal the offline computation`, async () => {
      expect(expected.late.length).toBeGreaterThan(0);
      expect(expected.duplicates).toBeGreaterThan(0);
      expect([...expected.windows.values()].filter((w) => w.extras.oil_pressure && w.extras.coolant_flow).length).toBeGreaterThan(expected.windows.size / 10);
      const group = uniqueName('window-crash');
      const targets = Array.from({ length: 5 }, () => Math.floor(total * (0.1 + 0.8 * random()))).sort((a, b) => a - b);
      const survivors = await scenario({ group, targets, start: (name) => start(group, name), kill, waitForCommitted: (target) => waitForCommitted(group, target), committed: () => committed(group), random });
      process.stderr.write(`window crash test (${label}): committed input at each kill: ${survivors.join(', ')} of ${total}\n`);
      expect(survivors.filter((n) => n > 0 && n < total).length).toBeGreaterThanOrEqual(3);
      try {
        await checkOutputs(label);
      } finally {
        for (const child of [...children]) {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
          expect(await exited).toBe(0);
          clearTimeout(timer);
        }
      }
    }, 600_000);
  });
}

interface CrashContext {
  group: string;
  /** Committed-input counts to kill at, ascending. */
  targets: number[];
  start(name: string): ChildProcess;
  kill(child: ChildProcess): Promise<void>;
  waitForCommitted(target: number): Promise<void>;
  committed(): Promise<number>;
  random(): number;
}

crashSuite('one instance killed five times', async ({ targets, start, kill, waitForCommitted, committed, random }) => {
  const atKill: number[] = [];
  for (const target of targets) {
    const child = start('a');
    await waitForCommitted(target);
    // A random moment past the target, so kills also land in restores and idle closes.
    await sleep(Math.floor(random() * 300));
    await kill(child);
    atKill.push(await committed());
  }
  start('a');
  return atKill;
});

crashSuite('two instances in one group, one of them killed five times', async ({ targets, start, kill, waitForCommitted, committed, random }) => {
  const atKill: number[] = [];
  const running = [start('a'), start('b')];
  for (const target of targets) {
    await waitForCommitted(target);
    await sleep(Math.floor(random() * 300));
    const victim = random() < 0.5 ? 0 : 1;
    await kill(running[victim]!);
    atKill.push(await committed());
    // The survivor takes the victim's partitions over (after its session timeout); the victim
    // comes back a little later and the group rebalances again.
    await sleep(Math.floor(random() * 2000));
    running[victim] = start(victim === 0 ? 'a' : 'b');
  }
  return atKill;
});
