import { boundedFeatures, firstBreach, forecastName, interpretForecast } from './forecast';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 8);

describe('the first breach of one feature', () => {
  const limit = { lower: 10, upper: 50 };
  const series = (forecast: number[], spread = 2) => ({ forecast, lower: forecast.map((v) => v - spread), upper: forecast.map((v) => v + spread) });

  test.each([
    ['within limits and interval: none', [40, 42, 44], undefined],
    ['the point forecast crosses the upper limit at step 2', [40, 45, 51], { atMs: T0 + 2 * HOUR, value: 51, direction: 'above', pointCrosses: true }],
    ['the point forecast falls below the lower limit first', [20, 9, 60], { atMs: T0 + HOUR, value: 9, direction: 'below', pointCrosses: true }],
    ['only the interval crosses', [40, 49, 44], { atMs: T0 + HOUR, value: 51, direction: 'above', pointCrosses: false }],
    ['a point crossing later wins over an interval crossing earlier', [49, 40, 55], { atMs: T0 + 2 * HOUR, value: 55, pointCrosses: true }],
  ])('%s', (_label, forecast, expected) => {
    const breach = firstBreach('tempA', series(forecast), limit, T0, HOUR);
    if (expected === undefined) expect(breach).toBeUndefined();
    else expect(breach).toMatchObject({ feature: 'tempA', ...expected });
  });

  test('a limit that is null on one side is never crossed on that side', () => {
    expect(firstBreach('accX', series([-100, -200]), { lower: null, upper: 1 }, T0, HOUR)).toBeUndefined();
  });});

describe('a forecast read against limits', () => {
  const shape = { channels: ['tempA.mean', 'tempA.max', 'current.mean'], horizon: 3, windowMs: HOUR };
  /** Step-major output ([h * C + c]) from one series per channel, the interval ±1 around the point. */
  const output = (...perChannel: number[][]) => {
    const forecast = Array.from({ length: shape.horizon * perChannel.length }, (_, i) => perChannel[i % perChannel.length]![Math.floor(i / perChannel.length)]!);
    return { forecast, lower: forecast.map((v) => v - 1), upper: forecast.map((v) => v + 1) };
  };
  const tempLimits = { 'tempA.mean': { lower: null, upper: 60 }, 'tempA.max': { lower: null, upper: 80 } };

  test.each([
    ['all within: a series per channel, no breach', output([40, 41, 42], [50, 51, 52], [5, 5, 5]), tempLimits, []],
    ['the mean crosses at step 2', output([40, 55, 61], [50, 51, 52], [5, 5, 5]), tempLimits, [{ feature: 'tempA', atMs: T0 + 2 * HOUR, value: 61, pointCrosses: true }]],
    ['two channels of one feature: one breach, the earliest', output([40, 55, 61], [79.5, 90, 90], [5, 5, 5]), tempLimits, [{ feature: 'tempA', atMs: T0 + HOUR, value: 90, pointCrosses: true }]],
    ['only an interval crosses: the breach at its edge', output([40, 41, 42], [79.5, 79, 79], [5, 5, 5]), tempLimits, [{ feature: 'tempA', atMs: T0, value: 80.5, pointCrosses: false }]],
    ['a channel without a limit never breaches', output([40, 41, 42], [50, 51, 52], [500, 500, 500]), tempLimits, []],
    ['a lower limit', output([40, 41, 42], [50, 51, 52], [5, 2, 1]), { 'current.mean': { lower: 3, upper: null } }, [{ feature: 'current', atMs: T0 + HOUR, value: 2, direction: 'below', pointCrosses: true }]],
    ['no limits at all', output([400, 400, 400], [500, 500, 500], [5, 5, 5]), {}, []],
  ])('%s', (_label, out, limits, expected) => {
    const { breaches, series } = interpretForecast(out, shape, limits, T0);
    expect(breaches).toHaveLength(expected.length);
    expected.forEach((e, i) => expect(breaches[i]).toMatchObject(e));
    expect(series).toHaveLength(shape.channels.length);
    expect(series.every((s) => s.mean.length === shape.horizon)).toBe(true);
  });

  test('series: one per channel, a value per step, named by feature for a mean, with the limit in force', () => {
    const { series } = interpretForecast(output([40, 41, 42], [50, 51, 52], [5, 6, 7]), shape, tempLimits, T0);
    expect(series.map((s) => s.feature)).toEqual(['tempA', 'tempA.max', 'current']);
    expect(series[0]).toEqual({ feature: 'tempA', mean: [40, 41, 42], lower: [39, 40, 41], upper: [41, 42, 43], limitLower: null, limitUpper: 60 });
    expect(series[1]!.mean).toEqual([50, 51, 52]);
    expect(series[2]).toMatchObject({ mean: [5, 6, 7], limitLower: null, limitUpper: null });
  });

  test('names and bounded features', () => {
    expect(['tempA.mean', 'tempA.max', 'accX.rms'].map(forecastName)).toEqual(['tempA', 'tempA.max', 'accX.rms']);
    expect(boundedFeatures(shape.channels, { ...tempLimits, 'current.mean': { lower: null, upper: null } })).toEqual(['tempA']);
  });
});
