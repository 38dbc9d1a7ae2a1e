/**
 * @jest-environment ./test/onnx-environment.js
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { groupProgress } from '../../lib/kafka/admin';
import { registerZstd } from '../../lib/kafka/compression';
import { repoRoot } from '../../lib/paths';
import { createRegistry } from '../../lib/registry';
import { Serde } from '../../lib/serde';
import { TOPICS, keySubject, valueSubject } from '../../lib/topics';
import { simulateWindows } from '../../models/data/simulated';
import { loadCurrent } from '../../models/store';
import { InferenceCore, type DeployedModels } from '../../processors/inference/inference.core';
import { deployLoaded, openBaselineFromEnv } from '../../processors/inference/model-holder';
import { SCHEMA_FILES, avroType, schemaText, type AlertEvent, type MachineAssessment, type WindowFeatures, type WindowKey } from '../../schemas';
import { consumeAll } from './consume';
import { testEnv, uniqueName, useIsolatedTopics } from './servers';

/**
 * The inference processor's exactly-once claim (#6): `pdmctl run inference` is killed with SIGKILL
 * at random points while it works through two weeks of simulated machines' windows (faults
 * included), and restarted. The alert transitions on pdm.alerts.v1 (read_committed) must be
 * exactly those of an uninterrupted run of the same decisions over the same windows: none lost,
 * none twice, every field equal. So must the assessments on pdm.assessments.v2, whose forecasts
 * carry the limits each machine learned: a limit lost in a restore would show there.
 */

const HOUR = 3_600_000;
const PARTITIONS = 3;

describe('inference processor under kill -9', () => {
  const env = testEnv();
  const { prefix, connection } = useIsolatedTopics('icrash', PARTITIONS);
  const input = `${prefix}${TOPICS.windowFeatures}`;
  const kafka = new Kafka({ clientId: 'inference-crash-test', brokers: env.kafkaBrokers, logLevel: logLevel.NOTHING });
  const serde = new Serde(createRegistry(env.registryUrl).client);
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inference-crash-'));
  const children = new Set<ChildProcess>();
  let seed = Number(process.env.PDM_CRASH_SEED ?? Date.now() % 100_000);
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const expected: AlertEvent[] = [];
  const expectedAssessments: MachineAssessment[] = [];
  let total = 0;

  beforeAll(async () => {
    registerZstd();
    const fromMs = Date.UTC(2026, 4, 4);
    const { windows } = simulateWindows({ machines: 9, intervalMs: 30_000, fromMs, toMs: fromMs + 14 * 24 * HOUR, scenario: 'bearing-wear,overheating,electrical', seed: 5, faultyFraction: 0.6 }, { sizeMs: HOUR, graceMs: 0 });
    // As the window processor writes them: every window of a machine in one partition, in end order.
    const machines = [...new Set(windows.map((w) => w.machineId))].sort();
    const partitionOf = (machineId: string) => machines.indexOf(machineId) % PARTITIONS;
    const ordered = [...windows].sort((a, b) => a.windowEnd - b.windowEnd || (a.machineId < b.machineId ? -1 : 1));
    const encodeKey = await serde.encoder<WindowKey>(keySubject(input), avroType(SCHEMA_FILES.windowKey), schemaText(SCHEMA_FILES.windowKey));
    const encodeValue = await serde.encoder<WindowFeatures>(valueSubject(input), avroType(SCHEMA_FILES.windowFeatures), schemaText(SCHEMA_FILES.windowFeatures));
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let i = 0; i < ordered.length; i += 500) {
      await producer.send({ topic: input, acks: -1, messages: ordered.slice(i, i + 500).map((w) => ({ partition: partitionOf(w.machineId), key: encodeKey({ machineId: w.machineId, windowStart: w.windowStart }), value: encodeValue(w) })) });
    }
    await producer.disconnect();
    total = ordered.length;

    // The uninterrupted run: the same decisions over each partition's windows in order.
    const detector = loadCurrent(path.join(repoRoot, 'models'), 'pdm-anomaly');
    const forecaster = loadCurrent(path.join(repoRoot, 'models'), 'pdm-forecaster');
    const models: DeployedModels = { detector: await deployLoaded(detector), forecaster: await deployLoaded(forecaster), baseline: await openBaselineFromEnv({}) };
    const policy = { forWindows: detector.manifest.thresholds.consecutive ?? 3, clearWindows: 3, anomalyRatio: { warning: 1.5, critical: 3 }, breachLeadMs: { warning: 6 * HOUR, critical: 2 * HOUR } };
    for (let p = 0; p < PARTITIONS; p++) {
      const core = new InferenceCore(policy);
      const result = await core.assess(ordered.filter((w) => partitionOf(w.machineId) === p), models);
      expected.push(...result.transitions);
      expectedAssessments.push(...result.assessments);
    }
    await models.detector!.model.close();
    await models.forecaster!.model.close();
    await models.baseline?.close();
    process.stderr.write(`inference crash test: PDM_CRASH_SEED=${seed}; ${total} windows, ${expected.length} expected transitions; logs in ${logDir}\n`);
  }, 300_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
  });

  const start = (group: string): ChildProcess => {
    const log = fs.openSync(path.join(logDir, `${group}.log`), 'a');
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'pdmctl.js'), 'run', 'inference', '--metrics-port', '0'], {
      cwd: repoRoot,
      env: { ...process.env, PDM_TOPIC_PREFIX: prefix, PDM_INFERENCE_GROUP_ID: group, PDM_ALERT_CLEAR_WINDOWS: '3', PDM_SESSION_TIMEOUT: '6s', PDM_TRANSACTION_TIMEOUT: '10s', PDM_FETCH_MAX_BYTES: '8192' },
      stdio: ['ignore', log, log],
    });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };

  test('killed five times at random points, it emits exactly the transitions of an uninterrupted run', async () => {
    expect(expected.filter((t) => t.status === 'FIRING').length).toBeGreaterThan(0);
    const group = uniqueName('inference-crash');
    let last = 0;
    const committed = async () => {
      last = await groupProgress(connection, group, input).then((p) => p.committed).catch(() => last);
      return last;
    };
    const targets = Array.from({ length: 5 }, () => Math.floor(total * (0.1 + 0.8 * random()))).sort((a, b) => a - b);
    const atKill: number[] = [];
    for (const target of targets) {
      const child = start(group);
      const deadline = Date.now() + 90_000;
      while ((await committed()) < target && Date.now() < deadline) await sleep(50);
      await sleep(Math.floor(random() * 200));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      atKill.push(await committed());
    }
    process.stderr.write(`inference crash test: committed windows at each kill: ${atKill.join(', ')} of ${total}\n`);
    expect(atKill.filter((n) => n > 0 && n < total).length).toBeGreaterThanOrEqual(3);
    const final = start(group);
    try {
      const deadline = Date.now() + 120_000;
      while ((await committed()) < total && Date.now() < deadline) await sleep(200);
      const records = await consumeAll(env.kafkaBrokers, `${prefix}${TOPICS.alerts}`, { quietMs: 4000, timeoutMs: 60_000 });
      const decode = serde.decoder<AlertEvent>(avroType(SCHEMA_FILES.alertEvent));
      const actual = await Promise.all(records.map((r) => decode(r.value!)));
      const byId = (list: AlertEvent[]) => [...list].sort((a, b) => (a.alertId < b.alertId ? -1 : a.alertId > b.alertId ? 1 : 0));
      expect(actual.length).toBe(expected.length);
      expect(byId(actual)).toEqual(byId(expected));
      const assessed = await consumeAll(env.kafkaBrokers, `${prefix}${TOPICS.assessments}`, { quietMs: 2000, timeoutMs: 60_000 });
      const decodeAssessment = serde.decoder<MachineAssessment>(avroType(SCHEMA_FILES.machineAssessment));
      const assessments = await Promise.all(assessed.map((r) => decodeAssessment(r.value!)));
      const byWindow = (list: MachineAssessment[]) => [...list].sort((a, b) => a.windowEnd - b.windowEnd || (a.machineId < b.machineId ? -1 : a.machineId > b.machineId ? 1 : 0));
      expect(assessments.length).toBe(expectedAssessments.length);
      expect(byWindow(assessments)).toEqual(byWindow(expectedAssessments));
      expect(assessments.filter((a) => a.forecast !== null).length).toBeGreaterThan(0);
    } finally {
      const exited = new Promise((resolve) => final.once('exit', resolve));
      final.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 600_000);
});
