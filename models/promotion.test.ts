import type { EventReport } from './events';
import { atLeastAsGood, faultEventsScore, type ValidationScore } from './promotion';

const H = 3_600_000;

function report(leadTimesH: Array<number | null>, falseAlertsPerMachineMonth: number): EventReport {
  return {
    faults: leadTimesH.map((lead, i) => ({ machineId: `m-${i}`, kind: 'electrical', onsetMs: 0, failureMs: 100 * H, detected: lead !== null, firstAlertMs: lead === null ? null : (100 - lead) * H, leadTimeMs: lead === null ? null : lead * H })),
    healthyMachines: 14,
    healthyMachineMonths: 14,
    falseAlerts: Math.round(falseAlertsPerMachineMonth * 14),
    falseAlertsPerMachineMonth,
  };
}

describe('faultEventsScore', () => {
  test('counts detected faults and averages the lead time of the detected ones', () => {
    expect(faultEventsScore(report([40, null, 20], 0.5))).toEqual({ metric: 'faultEvents', detected: 2, faults: 3, falseAlertsPerMachineMonth: 0.5, meanLeadTimeH: 30 });
    expect(faultEventsScore(report([null], 0)).meanLeadTimeH).toBe(0);
  });
});

describe('atLeastAsGood', () => {
  const events = (leads: Array<number | null>, far: number) => faultEventsScore(report(leads, far));
  test.each<[string, ValidationScore, ValidationScore | null, boolean]>([
    ['a detector that finds a fault the current one misses wins, even with more false alerts', events([40, 30], 0.5), events([40, null], 0.1), true],
    ['a detector that misses a fault the current one finds loses, even with no false alerts', events([40, null], 0), events([40, 30], 3), false],
    ['same detections: fewer false alerts win', events([40, 30], 0.14), events([40, 30], 3.07), true],
    ['same detections: more false alerts lose', events([40, 30], 3.07), events([40, 30], 0.14), false],
    ['same detections and false alerts within 0.01: the longer mean lead time wins', events([50, 30], 0.145), events([40, 30], 0.14), true],
    ['same detections and false alerts: a shorter mean lead time loses', events([20, 30], 0.14), events([40, 30], 0.14), false],
    ['a tie promotes (a retrain on the same data)', events([40, 30], 0.14), events([40, 30], 0.14), true],
    ['no current score: promote', events([null], 9), null, true],
    ['forecasters: lower scaled MAE wins', { metric: 'scaledMae', value: 0.04 }, { metric: 'scaledMae', value: 0.05 }, true],
    ['forecasters: higher scaled MAE loses', { metric: 'scaledMae', value: 0.06 }, { metric: 'scaledMae', value: 0.05 }, false],
  ])('%s', (_name, candidate, current, expected) => {
    expect(atLeastAsGood(candidate, current)).toBe(expected);
  });
});
