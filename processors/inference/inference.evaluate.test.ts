import type { AlertEvent } from '../../schemas';
import { alertReport, episodesOf } from './inference.evaluate';

const HOUR = 3_600_000;

function t(machineId: string, status: AlertEvent['status'], hour: number, kind: AlertEvent['kind'] = 'ANOMALY', severity: AlertEvent['severity'] = 'WARNING'): AlertEvent {
  const dedupKey = `${machineId}/${kind}/*`;
  return { drivers: [], alertId: `${dedupKey}-${hour}-${status}-${severity}`, dedupKey, machineId, status, severity, kind, feature: null, windowEnd: hour * HOUR, predictedBreachAt: null, score: 2, threshold: 1, modelName: 'm', modelVersion: 'v1', message: '', createdAt: hour * HOUR };
}

describe('alert episodes and their report', () => {
  test('an escalation continues an episode; RESOLVED closes it; a later FIRING opens the next', () => {
    const episodes = episodesOf([t('a', 'FIRING', 1), t('a', 'FIRING', 2, 'ANOMALY', 'CRITICAL'), t('a', 'RESOLVED', 5), t('a', 'FIRING', 9)]);
    expect(episodes.map((e) => [e.firedMs / HOUR, e.resolvedMs === null ? null : e.resolvedMs / HOUR])).toEqual([
      [1, 5],
      [9, null],
    ]);
  });

  test('a fault is detected by the first alert between onset and failure; alerts on healthy machines are false', () => {
    const truth = [{ machineId: 'a', kind: 'overheating', category: 'machine', onsetMs: 10 * HOUR, failureMs: 40 * HOUR, endMs: 50 * HOUR }];
    const transitions = [
      t('a', 'FIRING', 5), // before the onset: not a detection
      t('a', 'RESOLVED', 8),
      t('a', 'FIRING', 30, 'FORECAST_BREACH'),
      t('a', 'RESOLVED', 55, 'FORECAST_BREACH'),
      t('b', 'FIRING', 100),
      t('b', 'RESOLVED', 104),
    ];
    const report = alertReport(transitions, truth, ['a', 'b'], { fromMs: 0, toMs: 720 * HOUR }, 24 * HOUR);
    expect(report.faults).toEqual([expect.objectContaining({ machineId: 'a', detected: true, leadTimeMs: 10 * HOUR })]);
    expect(report.falseAlerts).toBe(1);
    expect(report.falseAlertsPerMachineMonth).toBeCloseTo(1, 12);
    expect(report.falseByKind).toEqual({ ANOMALY: 1 });
    expect(report.unresolved).toEqual([]);
  });

  test('an episode left open long after its machine recovered is unresolved; one still within the recovery time is not', () => {
    const truth = [{ machineId: 'a', kind: 'electrical', category: 'machine', onsetMs: 10 * HOUR, failureMs: 40 * HOUR, endMs: 50 * HOUR }];
    const open = [t('a', 'FIRING', 30), t('b', 'FIRING', 700)];
    const report = alertReport(open, truth, ['a', 'b'], { fromMs: 0, toMs: 720 * HOUR }, 24 * HOUR);
    expect(report.unresolved.map((e) => e.machineId)).toEqual(['a']);
    expect(alertReport(open, truth, ['a', 'b'], { fromMs: 0, toMs: 60 * HOUR }, 24 * HOUR).unresolved).toEqual([]);
  });
});
