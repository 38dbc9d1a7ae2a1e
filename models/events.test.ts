import { alertEpisodes, eventReport, inFaultDevelopment, type ScoredWindow } from './events';

const H = 3_600_000;
const w = (machineId: string, hour: number, score: number): ScoredWindow => ({ machineId, timeMs: hour * H, score });

describe('alertEpisodes', () => {
  test.each([
    ['one window above fires with consecutive 1', [0.5, 2, 0.5], 1, [[1, 2]]],
    ['two in a row are needed with consecutive 2', [2, 0.5, 2, 2, 2, 0.5], 2, [[3, 5]]],
    ['an alert still firing at the end stays open', [2, 2, 2], 2, [[1, null]]],
    ['nothing above, nothing fires', [0.1, 0.2], 1, []],
    ['equal to the threshold is not above it', [1, 1], 1, []],
  ] as const)('%s', (_name, scores, consecutive, expected) => {
    const episodes = alertEpisodes(scores.map((s, i) => w('m', i, s)), 1, consecutive);
    expect(episodes.map((e) => [e.firedMs / H, e.resolvedMs === null ? null : e.resolvedMs / H])).toEqual(expected);
  });

  test('machines are separate and windows may come in any order', () => {
    const episodes = alertEpisodes([w('b', 1, 2), w('a', 1, 2), w('a', 0, 2), w('b', 0, 0)], 1, 2);
    expect(episodes.map((e) => e.machineId)).toEqual(['a']);
  });
});

describe('eventReport', () => {
  const truth = [
    { machineId: 'sick', kind: 'bearing-wear', category: 'machine', onsetMs: 10 * H, failureMs: 50 * H, endMs: 60 * H },
    { machineId: 'spiky', kind: 'sensor-spikes', category: 'sensor', onsetMs: 0, failureMs: null, endMs: 5 * H },
  ];
  test('a fault is detected by the first alert between onset and failure; lead time is failure minus that alert', () => {
    const report = eventReport(
      [
        { machineId: 'sick', firedMs: 5 * H, resolvedMs: 6 * H }, // before onset: neither a detection nor counted on a healthy machine
        { machineId: 'sick', firedMs: 30 * H, resolvedMs: null },
        { machineId: 'spiky', firedMs: 2 * H, resolvedMs: 3 * H },
      ],
      truth,
      ['healthy', 'sick', 'spiky'],
      30 * 24 * H,
    );
    expect(report.faults).toEqual([expect.objectContaining({ machineId: 'sick', detected: true, firstAlertMs: 30 * H, leadTimeMs: 20 * H })]);
    expect(report.healthyMachines).toBe(2);
    expect(report.falseAlerts).toBe(1);
    expect(report.falseAlertsPerMachineMonth).toBeCloseTo(0.5, 12);
  });

  test('a fault with no alert in its development is missed', () => {
    expect(eventReport([], truth, ['sick'], H).faults[0]!.detected).toBe(false);
  });

  test('fault development runs from onset (exclusive) to failure (inclusive) of window ends', () => {
    expect([10, 11, 50, 51].map((h) => inFaultDevelopment(truth, 'sick', h * H))).toEqual([false, true, true, false]);
  });
});
