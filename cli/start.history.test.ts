/**
 * @jest-environment ./test/onnx-environment.js
 */
import { simulateWindows } from '../models/data/simulated';
import { loadCurrent, modelsDir } from '../models/store';
import { DEFAULT_BASELINE_POLICY, warmupWindowsFor } from '../processors/inference/baseline';
import { replayAsService } from '../processors/inference/inference.replay';
import { DEVELOPMENT_HOURS, REPAIR_HOURS } from '../producers/simulate/fleet';
import { shiftLoad } from '../producers/simulate/simulator';
import { parseFaultFlag } from './simulate.command';
import { START_HISTORY, continuingFault, faultFlag, firstStartHistory, historyStartMs } from './start.history';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The services' defaults: hourly windows, a day of them as the warm-up. */
const WARMUP_MS = warmupWindowsFor(DEFAULT_BASELINE_POLICY, HOUR) * HOUR;
/** The email sink mails no transition older than this (PDM_EMAIL_MAX_AGE's default). */
const MAIL_MAX_AGE_MS = 24 * HOUR;

describe('npm start: the history of a first start', () => {
  test('begins at midnight of a weekday with both shifts, at least eight days back and never much more than a weekend earlier', () => {
    const first = Date.UTC(2026, 11, 3, 0, 30); // every half hour over two weeks
    for (let nowMs = first; nowMs < first + 14 * DAY; nowMs += HOUR / 2) {
      const fromMs = historyStartMs(nowMs);
      const at = new Date(nowMs).toISOString();
      expect({ at, midnight: fromMs % DAY }).toEqual({ at, midnight: 0 });
      expect(nowMs - fromMs).toBeGreaterThanOrEqual(8 * DAY);
      expect(nowMs - fromMs).toBeLessThan(11 * DAY);
      // The warm-up day holds the late shift, and so its cool-down (Saturday has one shift, Sunday none).
      expect({ at, lateShift: shiftLoad(fromMs + 21 * HOUR, 0.8) > 0.5 }).toEqual({ at, lateShift: true });
    }
  });

  test('its first machine overheats from 36 hours before the start, after a day of being watched, and fails 36 hours after it', () => {
    const nowMs = Date.UTC(2026, 11, 3, 12, 4, 19);
    const { fromMs, fault } = firstStartHistory(nowMs, WARMUP_MS);
    expect(fault).toEqual({ machineId: 'lathe-1-spindle', kind: 'overheating', onsetMs: Date.UTC(2026, 11, 2, 0, 4), failureMs: Date.UTC(2026, 11, 5, 0, 4) });
    expect(fault!.onsetMs - (fromMs + WARMUP_MS)).toBeGreaterThanOrEqual(DAY);
    const [minH, maxH] = DEVELOPMENT_HOURS.overheating;
    expect((fault!.failureMs! - fault!.onsetMs) / HOUR).toBeGreaterThanOrEqual(minH);
    expect((fault!.failureMs! - fault!.onsetMs) / HOUR).toBeLessThanOrEqual(maxH);
  });

  test('has no fault when the warm-up leaves no day of watching before it', () => {
    const nowMs = Date.UTC(2026, 11, 3, 12);
    expect(firstStartHistory(nowMs, 7 * DAY)).toMatchObject({ fault: null, skipped: expect.stringContaining('168 h') });
    expect(firstStartHistory(nowMs, 5 * DAY).fault).not.toBeNull();
  });

  test('a later start goes on with the fault until the repair is done', () => {
    const fault = firstStartHistory(Date.UTC(2026, 11, 3, 12), WARMUP_MS).fault!;
    expect(continuingFault(fault, fault.onsetMs + 50 * HOUR)).toBe(fault);
    expect(continuingFault(fault, fault.failureMs! + REPAIR_HOURS * HOUR - 1)).toBe(fault);
    expect(continuingFault(fault, fault.failureMs! + REPAIR_HOURS * HOUR)).toBeNull();
    expect(continuingFault(null, fault.onsetMs)).toBeNull();
  });

  test('the fault reaches simulate as --fault reads it', () => {
    const fault = firstStartHistory(Date.UTC(2026, 11, 3, 12), WARMUP_MS).fault!;
    expect(faultFlag(fault)).toBe('lathe-1-spindle:overheating:2026-12-02T00:00:00.000Z:2026-12-05T00:00:00.000Z');
    expect(parseFaultFlag(faultFlag(fault))).toEqual(fault);
  });
});

describe('npm start: what the first start shows, replayed through the service\'s decisions', () => {
  const root = modelsDir({});
  // A start whose history begins on a Wednesday, and one (on a Monday night) whose history reaches
  // back over a weekend to a Friday: started from eight days back, its warm-up would be a Sunday.
  test.each(['2026-12-03T12:04:00Z', '2026-12-07T02:00:00Z'])(
    'started at %s: only the overheating machine alerts, on tempA, hours before the start, and it is still firing at the start',
    async (startIso) => {
      const nowMs = Date.parse(startIso);
      const { fromMs, fault } = firstStartHistory(nowMs, WARMUP_MS);
      const { windows } = simulateWindows(
        { machines: 3, intervalMs: 2000, fromMs, toMs: nowMs, scenario: START_HISTORY.scenario, seed: START_HISTORY.seed, faultyFraction: 0.3, faults: [fault!] },
        { sizeMs: HOUR, graceMs: 5 * 60_000 },
      );
      const { transitions } = await replayAsService(windows, loadCurrent(root, 'pdm-anomaly'), loadCurrent(root, 'pdm-forecaster'), {});

      expect(transitions.filter((t) => t.machineId !== fault!.machineId).map((t) => t.message)).toEqual([]);
      const deviation = transitions.filter((t) => t.kind === 'DEVIATION');
      expect(deviation.length).toBeGreaterThan(0);
      const fired = deviation[0]!;
      expect(fired).toMatchObject({ status: 'FIRING', machineId: 'lathe-1-spindle', feature: 'tempA' });
      expect(fired.drivers[0]!.channel).toMatch(/^tempA\./);
      // Well before the history ends (the pipeline shows it before it has caught up), and young
      // enough at the start to be mailed.
      expect(nowMs - fired.createdAt).toBeGreaterThanOrEqual(4 * HOUR);
      expect(nowMs - fired.createdAt).toBeLessThan(MAIL_MAX_AGE_MS - 4 * HOUR);
      expect(deviation.filter((t) => t.status === 'RESOLVED')).toEqual([]);
    },
    60_000,
  );
});
