import { machineState } from './machine-state';

const HOUR = 3_600_000;
const ok = { activeAlerts: 0, latestAssessment: { warmingUp: null, state: 'ok' } };

describe('machineState', () => {
  test.each([
    ['an active alert: at risk, whatever the assessment says', { activeAlerts: 1, latestAssessment: { warmingUp: null } }, 'at-risk'],
    ['an active alert while still warming up: at risk', { activeAlerts: 2, latestAssessment: { warmingUp: 'pdm-forecaster: 12 of 168 windows' } }, 'at-risk'],
    ['an active alert and no assessment yet: at risk', { activeAlerts: 1 }, 'at-risk'],
    ['no alert, latest assessment warming up', { activeAlerts: 0, latestAssessment: { warmingUp: 'pdm-anomaly: 3 of 24 windows' } }, 'warming-up'],
    ['no alert, assessed', { activeAlerts: 0, latestAssessment: { warmingUp: null } }, 'ok'],
    ['never assessed (inference not running yet)', { activeAlerts: 0 }, 'unknown'],
    ['switched off: it draws no current', { activeAlerts: 0, latestAssessment: { warmingUp: null, state: 'off' } }, 'off'],
    ['learning its own normal', { activeAlerts: 0, latestAssessment: { warmingUp: 'warming up: learning its normal, 3 of 24 windows', state: 'warming-up' } }, 'warming-up'],
    ['watched by its own normal while a fleet model still warms up: ok', { activeAlerts: 0, latestAssessment: { warmingUp: 'pdm-forecaster: 40 % observed', state: 'ok' } }, 'ok'],
    ['an active alert while off: at risk', { activeAlerts: 1, latestAssessment: { warmingUp: null, state: 'off' } }, 'at-risk'],
    ['no window for over three window lengths while the fleet reports: silent', { ...ok, lastWindow: { startMs: 0, endMs: HOUR }, fleetLastEndMs: 9 * HOUR, nowMs: 10 * HOUR }, 'silent'],
    ['three window lengths late exactly: not yet silent', { ...ok, lastWindow: { startMs: 0, endMs: HOUR }, fleetLastEndMs: 4 * HOUR, nowMs: 4 * HOUR }, 'ok'],
    ['the whole fleet stands still (a replay of history): nobody singled out', { ...ok, lastWindow: { startMs: 0, endMs: HOUR }, fleetLastEndMs: 5 * HOUR, nowMs: 100 * HOUR }, 'ok'],
    ['one-minute windows, four minutes quiet: silent', { activeAlerts: 0, lastWindow: { startMs: 0, endMs: 60_000 }, fleetLastEndMs: 300_000, nowMs: 300_000 }, 'silent'],
    ['silent with an active alert: at risk still', { activeAlerts: 1, lastWindow: { startMs: 0, endMs: HOUR }, fleetLastEndMs: 10 * HOUR, nowMs: 10 * HOUR }, 'at-risk'],
  ])('%s', (_name, inputs, state) => {
    expect(machineState(inputs)).toBe(state);
  });
});
