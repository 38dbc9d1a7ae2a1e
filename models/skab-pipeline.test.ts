import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AlertEvent, WindowFeatures } from '../schemas';
import { alarmedRows, alarmSpans, evaluateSkabPipeline, skabMachineId, skabReadings, warmupWindowCount, windowReadings } from './skab-pipeline';
import type { SkabReplay } from './skab-pipeline';

const S = 1000;
const T = Date.UTC(2020, 2, 9, 10, 0, 0);
const at = (seconds: number) => T + seconds * S;

// Only the fields the episode logic reads, so the test does not follow every schema addition.
const transition = (status: AlertEvent['status'], windowEndS: number, key = 'skab-valve1-0/ANOMALY/*'): AlertEvent =>
  ({ dedupKey: key, machineId: 'skab-valve1-0', status, kind: 'ANOMALY', windowEnd: at(windowEndS) }) as AlertEvent;

describe('alerts to alarmed rows', () => {
  // Rows every second from 0 to 14 s; windows of 5 s end at 5, 10, 15.
  const rows = Array.from({ length: 15 }, (_, i) => at(i));
  const alarmedSeconds = (transitions: AlertEvent[]) => rows.flatMap((t, i) => (alarmedRows(rows, alarmSpans(transitions))[i] ? [(t - T) / S] : []));

  test.each([
    ['no alert, no alarm', [], []],
    [
      'fired at the end of the first window: rows from that instant on, until the resolving window end (exclusive)',
      [transition('FIRING', 5), transition('RESOLVED', 10)],
      [5, 6, 7, 8, 9],
    ],
    ['never resolved: every later row', [transition('FIRING', 10)], [10, 11, 12, 13, 14]],
    [
      'a second FIRING of an open key (a rise in severity) opens nothing new',
      [transition('FIRING', 5), transition('FIRING', 10), transition('RESOLVED', 10)],
      [5, 6, 7, 8, 9],
    ],
    ['a RESOLVED without a FIRING closes nothing', [transition('RESOLVED', 5)], []],
    [
      'two keys: alarm while either is open',
      [transition('FIRING', 5, 'a'), transition('FIRING', 10, 'b'), transition('RESOLVED', 10, 'a'), transition('RESOLVED', 15, 'b')],
      [5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
    ],
    ['transitions out of order are taken in window order', [transition('RESOLVED', 10), transition('FIRING', 5)], [5, 6, 7, 8, 9]],
    ['fired and resolved again later: two episodes', [transition('FIRING', 0), transition('RESOLVED', 2), transition('FIRING', 12)], [0, 1, 12, 13, 14]],
  ])('%s', (_label, transitions, expected) => {
    expect(alarmedSeconds(transitions)).toEqual(expected);
  });

  test('rows between readings: a row in a gap is judged by its own timestamp', () => {
    expect(alarmedRows([at(4.5), at(5), at(9.999), at(10)], [{ fromMs: at(5), toMs: at(10) }])).toEqual([false, true, true, false]);
  });
});

describe('rows to windows', () => {
  // Rows at 0, 1, 2, 4, 5, 6 and 12 s; current = the second, the other channels constant.
  const seconds = [0, 1, 2, 4, 5, 6, 12];
  const file = { name: 'valve1/0.csv', timesMs: seconds.map(at), rows: seconds.map((v) => [v, 0.1, 0.2, null, 70, 25]), anomaly: seconds.map(() => false) };
  const readings = skabReadings(file, 'skab-valve1-0');

  test('each row becomes a reading of its machine, the five SKAB channels onto the features, accZ null', () => {
    expect(readings[1]).toEqual({ machineId: 'skab-valve1-0', timestamp: at(1), current: 1, accX: 0.1, accY: 0.2, accZ: null, tempA: 70, tempB: 25, extras: {} });
  });

  test('read with all eight columns, Pressure, Voltage and Volume Flow RateRMS become the extra channels pressure, voltage and flow', () => {
    // SKAB_ALL_COLUMNS order: Accelerometer1RMS, Accelerometer2RMS, Current, Pressure, Temperature, Thermocouple, Voltage, Volume Flow RateRMS.
    const all = { ...file, rows: [[0.1, 0.2, 1, 0.05, 70, 25, 230, 32]] , timesMs: [at(0)], anomaly: [false] };
    expect(skabReadings(all, 'skab-valve1-0', 'all')[0]).toEqual({
      machineId: 'skab-valve1-0', timestamp: at(0), current: 1, accX: 0.1, accY: 0.2, accZ: null, tempA: 70, tempB: 25, extras: { pressure: 0.05, voltage: 230, flow: 32 },
    });
  });

  test('windows by the window processor\'s rule: tumbling, aligned to the window size, empty ones absent', () => {
    const windows = windowReadings(readings, 5 * S);
    expect(windows.map((w) => [(w.windowStart - T) / S, (w.windowEnd - T) / S, w.count, w.current.mean])).toEqual([
      [0, 5, 4, 7 / 4],
      [5, 10, 2, 5.5],
      [10, 15, 1, 12],
    ]);
  });

  test.each([
    ['the window holding the last baseline row counts, with all before it', 3, 1],
    ['baseline ending in the second window', 5, 2],
    ['baseline past a gap: windows that exist', 7, 3],
    ['no baseline', 0, 0],
  ])('warm-up windows: %s', (_label, fitRows, expected) => {
    expect(warmupWindowCount(windowReadings(readings, 5 * S), file.timesMs, fitRows, 5 * S)).toBe(expected);
  });

  test('machine ids name the file', () => {
    expect(skabMachineId('valve1/0.csv')).toBe('skab-valve1-0');
    expect(skabMachineId('other/14.csv')).toBe('skab-other-14');
  });
});

describe('a SKAB folder end to end with a fake replay', () => {
  let dir: string;
  // 12 rows a second apart; the anomaly from 6 s to 9 s, changepoints at its start and end.
  const anomaly = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0];
  const changepoint = [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0];

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skab-'));
    fs.mkdirSync(path.join(dir, 'valve1'));
    const header = 'datetime;Accelerometer1RMS;Accelerometer2RMS;Current;Pressure;Temperature;Thermocouple;Voltage;Volume Flow RateRMS;anomaly;changepoint';
    const lines = anomaly.map((a, i) => `2020-03-09 10:00:${String(i).padStart(2, '0')};0.02;0.04;${a ? 3 : 1};0.1;70;25;230;32;${a}.0;${changepoint[i]}.0`);
    fs.writeFileSync(path.join(dir, 'valve1', '0.csv'), `${[header, ...lines].join('\r\n')}\r\n`);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('windows and the warm-up reach the replay; its alerts come back as scored rows', async () => {
    const seen: Array<{ windows: WindowFeatures[]; warmupWindows: number }> = [];
    // Fires at the end of the window whose mean current is high, resolves at the end of the next calm one.
    const replay: SkabReplay = async (windows, options) => {
      seen.push({ windows, warmupWindows: options.warmupWindows });
      const out: AlertEvent[] = [];
      let open = false;
      for (const w of windows) {
        const high = (w.current.mean ?? 0) > 2;
        if (high && !open) out.push({ ...transition('FIRING', (w.windowEnd - T) / S), machineId: w.machineId });
        if (!high && open) out.push({ ...transition('RESOLVED', (w.windowEnd - T) / S), machineId: w.machineId });
        open = high;
      }
      return out;
    };
    const report = await evaluateSkabPipeline(dir, replay, { windowMs: 2 * S, fitRows: 4, nabWindowMs: 3 * S, columns: 'pipeline' });

    // Windows of 2 s: [0,2) [2,4) [4,6) [6,8) [8,10) [10,12); rows 0..3 are the baseline, in the first two.
    expect(seen).toHaveLength(1);
    expect(seen[0]!.windows.map((w) => (w.windowStart - T) / S)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(seen[0]!.warmupWindows).toBe(2);
    // FIRING at 8 s (end of [6,8)); RESOLVED at 12 s (end of calm [10,12)): rows 8..11 alarmed.
    const file = report.files[0]!;
    expect(file.machineId).toBe('skab-valve1-0');
    expect(file.timesMs.map((t) => (t - T) / S)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    expect(file.alarmed).toEqual([false, false, false, false, true, true, true, true]);
    // Rows 8, 9 caught; 6, 7 missed; 10, 11 false.
    expect(report.pipeline.points).toMatchObject({ tp: 2, fn: 2, fp: 2, tn: 2, f1: 0.5 });
    // Changepoints at 6 s and 10 s, windows [6,9] and [10,13]: the alarm's switch on at 8 s detects the
    // first; with `edges` nothing switches in [10,13] (the file ends alarmed), with `starts` likewise.
    expect(report.pipeline.changepoints.edges).toMatchObject({ changepoints: 2, missed: 1, falsePositives: 0, meanDelayMs: 2 * S });
    expect(report.pipeline.changepoints.starts).toMatchObject({ changepoints: 2, missed: 1, falsePositives: 0 });
    expect(report.alwaysAlarm.points).toMatchObject({ tp: 4, fp: 4, fn: 0, tn: 0 });
    // Always alarm: one changepoint at the first scored row (4 s), before both windows: false.
    expect(report.alwaysAlarm.changepoints.edges).toMatchObject({ missed: 2, falsePositives: 1 });
    expect(report).toMatchObject({ scoredRows: 8, anomalousRows: 4 });
  });
});
