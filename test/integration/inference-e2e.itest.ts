/**
 * @jest-environment ./test/onnx-environment.js
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readTruth } from '../../cli/train.command';
import { groupProgress } from '../../lib/kafka/admin';
import { repoRoot } from '../../lib/paths';
import { createRegistry } from '../../lib/registry';
import { Serde } from '../../lib/serde';
import { TOPICS } from '../../lib/topics';
import { loadCurrent } from '../../models/store';
import { alertReport } from '../../processors/inference/inference.evaluate';
import { replayAsService } from '../../processors/inference/inference.replay';
import { SCHEMA_FILES, avroType, type AlertEvent, type MachineAssessment, type WindowFeatures } from '../../schemas';
import { consumeAll } from './consume';
import { testEnv, uniqueName, useIsolatedTopics, waitFor } from './servers';

/**
 * Issue #6's acceptance, end to end on the real servers: 20 simulated machines, 60 days of event
 * time with faults injected on some, through `pdmctl simulate`, `pdmctl run window` and `pdmctl
 * run inference` as separate processes. From what lands on pdm.alerts.v1:
 * - every injected machine fault raised an alert before its failure (lead times printed);
 * - the machines without a fault stayed quiet: under 1 false alert per machine-month;
 * - every FIRING was followed by a RESOLVED once its machine recovered;
 * and the topic holds exactly the transitions the same decisions make offline over the windows
 * the window processor published.
 *
 * Readings every 60 s rather than 2 s keep the run short (1.7M readings); hourly means and the
 * faults' development are the same.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FROM = '2026-03-02T00:00:00Z';

describe('inference end to end: 20 machines, 60 days', () => {
  const env = testEnv();
  const { prefix, connection } = useIsolatedTopics('ie2e', 3);
  const serde = new Serde(createRegistry(env.registryUrl).client);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inference-e2e-'));
  const truthFile = path.join(dir, 'truth.jsonl');
  const children = new Set<ChildProcess>();

  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  const pdmctl = (name: string, args: string[], extra: NodeJS.ProcessEnv = {}): { child: ChildProcess; exited: Promise<number | null> } => {
    const log = fs.openSync(path.join(dir, `${name}.log`), 'a');
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'pdmctl.js'), ...args], { cwd: repoRoot, env: { ...process.env, PDM_TOPIC_PREFIX: prefix, ...extra }, stdio: ['ignore', log, log] });
    children.add(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    void exited.then(() => children.delete(child));
    return { child, exited };
  };

  test('every fault alerted ahead of its failure, healthy machines quiet, every alert resolved, exactly the offline decisions', async () => {
    const simulate = pdmctl('simulate', ['simulate', '--machines', '20', '--duration', '60d', '--from', FROM, '--interval', '60s', '--seed', '8', '--scenario', 'mixed', '--truth', truthFile]);
    expect(await simulate.exited).toBe(0);
    const windowGroup = uniqueName('ie2e-window');
    // The last windows close once the readings stop: after 5 s of silence, not an hour.
    const window = pdmctl('window', ['run', 'window', '--metrics-port', '0'], { PDM_WINDOW_GROUP_ID: windowGroup, PDM_WINDOW_IDLE_TIMEOUT: '5s' });
    const inference = pdmctl('inference', ['run', 'inference', '--metrics-port', '0'], { PDM_INFERENCE_GROUP_ID: uniqueName('ie2e-inference') });
    try {
      await waitFor(
        'the window processor to read every reading',
        async () => {
          const p = await groupProgress(connection, windowGroup, `${prefix}${TOPICS.readings}`).catch(() => ({ committed: 0, end: 1 }));
          return p.end > 0 && p.committed >= p.end;
        },
        600_000,
        1000,
      );
      const windowRecords = await consumeAll(env.kafkaBrokers, `${prefix}${TOPICS.windowFeatures}`, { quietMs: 15_000, timeoutMs: 120_000 });
      // Each final window moves its machine forward, so each gets one assessment. (Fewer than 20 x
      // 60 x 24: a failed machine sends nothing while it is down.)
      const assessed = await consumeAll(env.kafkaBrokers, `${prefix}${TOPICS.assessments}`, { expected: windowRecords.length, timeoutMs: 300_000 });
      if (assessed.length !== windowRecords.length) process.stderr.write(`inference e2e: logs in ${dir}\n`);
      expect(assessed.length).toBe(windowRecords.length);
      expect(windowRecords.length).toBeGreaterThan(20 * 55 * 24);
      const alertRecords = await consumeAll(env.kafkaBrokers, `${prefix}${TOPICS.alerts}`, { quietMs: 3000, timeoutMs: 60_000 });
      const windows = await Promise.all(windowRecords.map((r) => serde.decoder<WindowFeatures>(avroType(SCHEMA_FILES.windowFeatures))(r.value!)));
      const alerts = await Promise.all(alertRecords.map((r) => serde.decoder<AlertEvent>(avroType(SCHEMA_FILES.alertEvent))(r.value!)));
      const assessments = await Promise.all(assessed.map((r) => serde.decoder<MachineAssessment>(avroType(SCHEMA_FILES.machineAssessment))(r.value!)));

      // The acceptance, from the alert topic and the simulator's ground truth.
      const truth = readTruth(truthFile);
      const machines = [...new Set(windows.map((w) => w.machineId))].sort();
      expect(machines).toHaveLength(20);
      const fromMs = Date.parse(FROM);
      const report = alertReport(alerts, truth, machines, { fromMs, toMs: fromMs + 60 * DAY }, DAY);
      process.stderr.write(
        [
          `inference e2e: ${windows.length} windows, ${alerts.length} alert transitions, ${report.episodes.length} episodes`,
          ...report.faults.map((f) => `  ${f.machineId} ${f.kind}: ${f.detected ? `alerted ${(f.leadTimeMs! / HOUR).toFixed(1)} h before its failure` : 'NOT alerted'}`),
          `  false alerts: ${report.falseAlerts} over ${report.healthyMachineMonths.toFixed(1)} healthy machine-months = ${report.falseAlertsPerMachineMonth.toFixed(2)} per machine-month; unresolved: ${report.unresolved.length}`,
          '',
        ].join('\n'),
      );
      expect(report.faults.length).toBeGreaterThanOrEqual(4);
      for (const fault of report.faults) expect({ machine: fault.machineId, kind: fault.kind, detected: fault.detected }).toEqual({ machine: fault.machineId, kind: fault.kind, detected: true });
      expect(report.falseAlertsPerMachineMonth).toBeLessThan(1);
      expect(report.unresolved).toEqual([]);
      // Some machines warmed up in the pipeline, then every one was assessed by both models.
      expect(assessments.filter((a) => a.warmingUp !== null).length).toBeGreaterThan(0);
      const lastOf = new Map(assessments.map((a) => [a.machineId, a]));
      for (const last of lastOf.values()) expect({ machine: last.machineId, warmingUp: last.warmingUp, forecast: last.forecast !== null, anomaly: last.anomaly !== null }).toEqual({ machine: last.machineId, warmingUp: null, forecast: true, anomaly: true });

      // Exactly the offline decisions over the same windows.
      const { transitions: offline } = await replayAsService(windows, loadCurrent(path.join(repoRoot, 'models'), 'pdm-anomaly'), loadCurrent(path.join(repoRoot, 'models'), 'pdm-forecaster'), {});
      const byId = (list: AlertEvent[]) => [...list].sort((a, b) => (a.alertId < b.alertId ? -1 : a.alertId > b.alertId ? 1 : 0));
      expect(alerts.length).toBe(offline.length);
      expect(byId(alerts)).toEqual(byId(offline));
    } finally {
      for (const service of [window, inference]) service.child.kill('SIGTERM');
      expect(await window.exited).toBe(0);
      expect(await inference.exited).toBe(0);
      await sleep(0);
    }
  }, 900_000);
});
