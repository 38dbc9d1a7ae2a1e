/**
 * @jest-environment ./test/onnx-environment.js
 */
import { Registry } from '../../lib/metrics';
import { createLogger } from '../../lib/logger';
import { SCHEMA_FILES, avroType, type MachineAssessment, type MachineAssessmentV1, type WindowFeatures } from '../../schemas';
import { assessmentV1 } from '../../schemas/assessments';
import type { AlertPolicy } from './alerts';
import { DEFAULT_BASELINE_POLICY } from './baseline';
import { openBaselineModel, type BaselineModel } from './baseline.model';
import { historyLayout } from './inference.core';
import { InferenceProcessor } from './inference.processor';
import { InferenceRestorer, PROGRESS_KEY, decodeMachine, encodeWindow, machineKey, windowKey } from './inference.state';
import { historyStarts } from './lookback';

const HOUR = 3_600_000;
const policy: AlertPolicy = { forWindows: 3, clearWindows: 3, anomalyRatio: { warning: 1.5, critical: 3 }, breachLeadMs: { warning: 6 * HOUR, critical: 2 * HOUR } };
const topics = { input: 'in', alerts: 'alerts', assessments: 'assessments', deadLetter: 'dead', changelog: 'changelog' };
const stats = (mean: number) => ({ count: 10, mean, min: mean - 1, max: mean + 1, stddev: 0.5 });
const window = (machineId: string, i: number): WindowFeatures => ({ machineId, windowStart: i * HOUR, windowEnd: (i + 1) * HOUR, count: 10, current: stats(5), accX: stats(0.1), accY: stats(0.1), accZ: stats(0.1), tempA: stats(40 + (i % 3)), tempB: stats(30), extras: {} });
const windowType = avroType(SCHEMA_FILES.windowFeatures);

let baseline: BaselineModel;
beforeAll(async () => {
  baseline = await openBaselineModel(DEFAULT_BASELINE_POLICY);
});
afterAll(() => baseline.close());

function processor(v1 = false) {
  return new InferenceProcessor({
    policy, topics: v1 ? { ...topics, assessmentsV1: 'assessments-v1' } : topics, models: () => ({ baseline }),
    decodeWindow: async (value) => windowType.fromBuffer(value) as WindowFeatures,
    encodeMachineId: (id) => Buffer.from(id),
    encodeAlert: (a) => Buffer.from(JSON.stringify(a)),
    encodeAssessment: (a) => Buffer.from(JSON.stringify(a)),
    ...(v1 ? { encodeAssessmentV1: (a: MachineAssessmentV1) => Buffer.from(`v1 ${JSON.stringify(a)}`) } : {}),
    clock: () => 0, metrics: new Registry(), logger: createLogger({ level: 'silent' }),
  });
}

const records = (windows: WindowFeatures[], from: number) => windows.map((w, k) => ({ key: Buffer.from(w.machineId), value: windowType.toBuffer(w), headers: {}, offset: String(from + k), timestampMs: 0 }));

test('a batch writes one snapshot per machine it touched, and the progress; a machine still in format 1 has its old records deleted first', async () => {
  const p = processor();
  // `old-1` comes back from a format-1 changelog: three windows and its limits.
  const restorer = new InferenceRestorer(historyLayout({ baseline }));
  for (let i = 0; i < 3; i++) restorer.apply(windowKey('old-1', i * HOUR), encodeWindow(window('old-1', i)));
  p.open(0, restorer.result());
  const out = await p.process(0, records([window('old-1', 3), window('new-1', 3), window('new-1', 4)], 0), { highWatermark: '3', nextOffset: '3' });
  const changelog = out.find((b) => b.topic === 'changelog')!.records;
  const keys = changelog.map((r) => `${String(r.key)}${r.value === null ? ' (tombstone)' : ''}`);
  // A machine this processor has not written yet gets a snapshot, and a tombstone for any delta an earlier owner left.
  expect(keys).toEqual(['Mnew-1', 'Dnew-1 (tombstone)', ...[0, 1, 2].map((i) => `${String(windowKey('old-1', i * HOUR))} (tombstone)`), 'Aold-1 (tombstone)', 'Lold-1 (tombstone)', 'Bold-1 (tombstone)', 'Mold-1', 'Dold-1 (tombstone)', 'P']);
  // The per-machine detector alone keeps no lookback beyond the newest window.
  expect(historyStarts(decodeMachine(changelog.find((r) => String(r.key) === 'Mold-1')!.value!).history)).toEqual([3 * HOUR]);
  expect(changelog.at(-1)!.key).toEqual(PROGRESS_KEY);

  // The next batch of the same machine, still learning its normal: its snapshot only, no more tombstones.
  const next = await p.process(0, records([window('old-1', 4)], 3), { highWatermark: '4', nextOffset: '4' });
  expect(next.find((b) => b.topic === 'changelog')!.records.map((r) => String(r.key))).toEqual([String(machineKey('old-1')), 'P']);
});

test('pdm.assessments.v1 (deprecated) is written only when asked for: the same assessments, a record per forecast point, the same keys', async () => {
  const batch = records([window('lathe-1', 0), window('pump-2', 0)], 0);
  const opened = (p: InferenceProcessor) => {
    p.open(0, new InferenceRestorer(historyLayout({ baseline })).result());
    return p;
  };
  const plain = await opened(processor()).process(0, batch, { highWatermark: '2', nextOffset: '2' });
  expect(plain.map((b) => b.topic)).toEqual(['alerts', 'assessments', 'dead', 'changelog']);
  const both = await opened(processor(true)).process(0, batch, { highWatermark: '2', nextOffset: '2' });
  const [v2, v1] = ['assessments', 'assessments-v1'].map((topic) => both.find((b) => b.topic === topic)!.records);
  expect(v1!.map((r) => String(r.key))).toEqual(['lathe-1', 'pump-2']);
  expect(v1!.map((r) => String(r.value))).toEqual(v2!.map((r) => `v1 ${JSON.stringify(assessmentV1(JSON.parse(String(r.value)) as MachineAssessment))}`));
});

test('restored from its changelog after any batch (snapshots, deltas, tombstones), a processor continues exactly as the live one', async () => {
  // Two machines for 100 hours: each learns its normal for a day, is then watched, and the pump overheats from hour 80.
  const hour = (i: number) => [window('lathe-1', i), { ...window('pump-2', i), tempA: stats(i >= 80 ? 40 + (i - 79) * 4 : 40 + (i % 3)) }];
  const live = processor();
  live.open(0, new InferenceRestorer(historyLayout({ baseline })).result());
  const log = new Map<string, Buffer | null>();
  const logAt = new Map<number, Map<string, Buffer | null>>();
  const outputs: string[][] = [];
  const keys = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const out = await live.process(0, records(hour(i), 2 * i), { highWatermark: String(2 * i + 2), nextOffset: String(2 * i + 2) });
    for (const r of out.find((b) => b.topic === 'changelog')!.records) {
      log.delete(String(r.key));
      log.set(String(r.key), r.value);
      if (r.value) keys.add(String(r.key)[0]!);
    }
    outputs.push(out.filter((b) => b.topic === 'alerts' || b.topic === 'assessments').flatMap((b) => b.records.map((r) => String(r.value))));
    logAt.set(i, new Map(log));
  }
  expect(keys).toEqual(new Set(['M', 'D', 'P']));
  expect(outputs.flat().some((v) => v.includes('"status":"FIRING"'))).toBe(true);

  for (const after of [3, 30, 47, 61, 85]) {
    const restorer = new InferenceRestorer(historyLayout({ baseline }));
    for (const [key, value] of logAt.get(after)!) restorer.apply(Buffer.from(key), value);
    const restored = processor();
    restored.open(0, restorer.result());
    for (let i = after + 1; i < 100; i++) {
      const out = await restored.process(0, records(hour(i), 2 * i), { highWatermark: String(2 * i + 2), nextOffset: String(2 * i + 2) });
      expect(out.filter((b) => b.topic === 'alerts' || b.topic === 'assessments').flatMap((b) => b.records.map((r) => String(r.value)))).toEqual(outputs[i]);
    }
  }
});
