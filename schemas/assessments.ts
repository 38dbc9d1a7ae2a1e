import type { IoPdmstreamV1 as V1 } from './types/machine-assessment';
import type { MachineAssessment } from './types/machine-assessment-v2';

/**
 * pdm.assessments.v2 carries a forecast as a series per feature (arrays over the steps);
 * pdm.assessments.v1 carried a record per feature and step. Readers that want points (the
 * Postgres rows, one per feature and step, and the deprecated v1 topic) expand a series here.
 */

export type ForecastPoint = V1.ForecastPoint;

/** The forecast's points, feature by feature and step by step: step h starts at `windowEnd + h × stepMillis`. */
export function forecastPoints(a: Pick<MachineAssessment, 'windowEnd' | 'forecast'>): ForecastPoint[] {
  const forecast = a.forecast;
  if (!forecast) return [];
  const points: ForecastPoint[] = [];
  for (const s of forecast.series) {
    if (s.lower.length !== s.mean.length || s.upper.length !== s.mean.length) {
      throw new RangeError(`the forecast of ${s.feature} has ${s.mean.length} means, ${s.lower.length} lower and ${s.upper.length} upper bounds`);
    }
    for (let h = 0; h < s.mean.length; h++) {
      points.push({ feature: s.feature, windowStart: a.windowEnd + h * forecast.stepMillis, mean: s.mean[h]!, lower: s.lower[h]!, upper: s.upper[h]!, limitLower: s.limitLower, limitUpper: s.limitUpper });
    }
  }
  return points;
}

/** The same assessment as pdm.assessments.v1 wrote it, for consumers not yet on v2. */
export function assessmentV1(a: MachineAssessment): V1.MachineAssessment {
  const { forecast, ...rest } = a;
  return { ...rest, forecast: forecast ? { modelName: forecast.modelName, modelVersion: forecast.modelVersion, points: forecastPoints(a) } : null };
}
