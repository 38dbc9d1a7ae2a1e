import { avroType, SCHEMA_FILES, type MachineAssessment } from '.';
import { assessmentV1, forecastPoints } from './assessments';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 7);

const assessment = (): MachineAssessment => ({
  machineId: 'lathe-01',
  windowStart: T0,
  windowEnd: T0 + HOUR,
  warmingUp: null,
  anomaly: null,
  forecast: {
    modelName: 'forecaster',
    modelVersion: 'v3',
    stepMillis: HOUR,
    series: [
      { feature: 'tempA', mean: [40.5, 41.25], lower: [39, 39.5], upper: [42, 43], limitLower: null, limitUpper: 80 },
      { feature: 'current', mean: [10, 11], lower: [9, 9.5], upper: [11, 12.5], limitLower: 0.5, limitUpper: null },
    ],
  },
  state: 'ok',
  deviation: null,
});

describe('forecast series and points', () => {
  test('a series expands to a point per step, step h starting h steps after the window end', () => {
    expect(forecastPoints(assessment())).toEqual([
      { feature: 'tempA', windowStart: T0 + HOUR, mean: 40.5, lower: 39, upper: 42, limitLower: null, limitUpper: 80 },
      { feature: 'tempA', windowStart: T0 + 2 * HOUR, mean: 41.25, lower: 39.5, upper: 43, limitLower: null, limitUpper: 80 },
      { feature: 'current', windowStart: T0 + HOUR, mean: 10, lower: 9, upper: 11, limitLower: 0.5, limitUpper: null },
      { feature: 'current', windowStart: T0 + 2 * HOUR, mean: 11, lower: 9.5, upper: 12.5, limitLower: 0.5, limitUpper: null },
    ]);
  });

  test('series of different lengths are refused, not cut', () => {
    const a = assessment();
    a.forecast!.series[1]!.upper.pop();
    expect(() => forecastPoints(a)).toThrow('the forecast of current has 2 means, 2 lower and 1 upper bounds');
  });

  test('no forecast, no points', () => {
    expect(forecastPoints({ ...assessment(), forecast: null })).toEqual([]);
  });

  test('the v1 record of a v2 assessment is valid under the v1 schema and keeps everything else', () => {
    const v1 = assessmentV1(assessment());
    expect(avroType(SCHEMA_FILES.machineAssessmentV1).isValid(v1)).toBe(true);
    expect(v1.forecast!.points).toHaveLength(4);
    expect({ ...v1, forecast: null }).toEqual({ ...assessment(), forecast: null });
  });

  test('the compact record is a fraction of the v1 record for the shipped forecaster (6 features, 6 steps)', () => {
    const steps = [1, 2, 3, 4, 5, 6].map((h) => 20 + h / 7);
    const a = assessment();
    a.forecast!.series = ['current', 'accX', 'accY', 'accZ', 'tempA', 'tempB'].map((feature) => ({ feature, mean: steps, lower: steps, upper: steps, limitLower: 0, limitUpper: 90 }));
    const v2Bytes = avroType(SCHEMA_FILES.machineAssessment).toBuffer(a).length;
    const v1Bytes = avroType(SCHEMA_FILES.machineAssessmentV1).toBuffer(assessmentV1(a)).length;
    expect(v2Bytes).toBeLessThan(v1Bytes / 2.5);
  });
});
