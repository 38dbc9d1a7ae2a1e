import { machineState } from './machine-state';

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
  ])('%s', (_name, inputs, state) => {
    expect(machineState(inputs)).toBe(state);
  });
});
