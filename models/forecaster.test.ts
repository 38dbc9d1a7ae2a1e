import { anchorOf, calendarOneHot, coverage, fitForecaster, lastValueForecast, maeByStep, predict, quantile, seasonalNaiveForecast, shiftAndScale, type ForecastSample } from './forecaster';

const fromArray = (values: number[]) => Float64Array.from(values);

describe('baselines', () => {
  // One channel, lookback 4: 1, 2, 3, 4.
  const x = fromArray([1, 2, 3, 4]);
  test('last value repeats the newest window', () => expect(Array.from(lastValueForecast(x, 4, 1, 2))).toEqual([4, 4]));
  test('seasonal naive repeats the window one period earlier', () => expect(Array.from(seasonalNaiveForecast(x, 4, 1, 2, 3))).toEqual([2, 3]));
  test('the anchor is the seasonal naive value, or the last value with period 0', () => {
    expect(Array.from(anchorOf(x, 4, 1, 2, 3))).toEqual([2, 3]);
    expect(Array.from(anchorOf(x, 4, 1, 2, 0))).toEqual([4, 4]);
  });
  test('two channels stay apart', () => expect(Array.from(lastValueForecast(fromArray([1, 10, 2, 20]), 2, 2, 1))).toEqual([2, 20]));
});

describe('shiftAndScale', () => {
  test('instance scaling: spread of the lookback with a floor; global: the given scale', () => {
    const x = fromArray([1, 3]); // mean 2, variance 1
    expect(shiftAndScale(x, 2, 1, 'instance', [0])).toEqual({ shift: fromArray([3]), scale: fromArray([1]) });
    expect(shiftAndScale(x, 2, 1, 'instance', [1]).scale[0]).toBeCloseTo(Math.SQRT2, 12);
    expect(shiftAndScale(x, 2, 1, 'global', [5]).scale[0]).toBe(5);
  });
});

describe('calendarOneHot', () => {
  test('hour of day and day of week, UTC', () => {
    const v = calendarOneHot(Date.UTC(2026, 0, 5, 7, 30)); // a Monday, 07:30
    expect(v.length).toBe(31);
    expect(v[7]).toBe(1);
    expect(v[24 + 1]).toBe(1);
    expect(Array.from(v).reduce((a, b) => a + b, 0)).toBe(2);
  });
});

describe('fitForecaster', () => {
  // A series whose next value is exactly 0.5 * (x[t] - x[t-1]) + x[t]: a linear rule the ridge fit must recover.
  function samples(n: number, seed: number): ForecastSample[] {
    const out: ForecastSample[] = [];
    let state = seed;
    const rand = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
    for (let i = 0; i < n; i++) {
      const a = rand() * 10;
      const b = a + rand() * 4;
      const next = b + 0.5 * (b - a);
      out.push({ x: fromArray([a, b]), y: fromArray([next, next + 0.5 * (next - b)]), calendar: new Float64Array(0) });
    }
    return out;
  }
  const options = { lookback: 2, horizon: 2, channels: 1, scaling: 'global' as const, calendar: false, period: 0, ridge: 1e-9, channelSd: [3], coverage: 0.8 };

  test('recovers a linear rule and forecasts it', () => {
    const params = fitForecaster(samples(200, 1), samples(50, 2), options);
    const forecast = predict(params, { x: fromArray([2, 4]), calendar: new Float64Array(0) });
    expect(forecast.mean[0]).toBeCloseTo(5, 6);
    expect(forecast.mean[1]).toBeCloseTo(5.5, 6);
  });

  test('intervals come from held-out residual quantiles and contain the forecast', () => {
    const params = fitForecaster(samples(200, 1), samples(50, 2), options);
    const f = predict(params, { x: fromArray([2, 4]), calendar: new Float64Array(0) });
    for (let j = 0; j < 2; j++) {
      expect(f.lower[j]!).toBeLessThanOrEqual(f.mean[j]! + 1e-9);
      expect(f.upper[j]!).toBeGreaterThanOrEqual(f.mean[j]! - 1e-9);
    }
  });

  test('a seasonal period outside [horizon, lookback] is refused', () => {
    expect(() => fitForecaster(samples(20, 1), samples(5, 2), { ...options, period: 5 })).toThrow(/seasonal period 5/);
  });
});

describe('metrics', () => {
  test('MAE per step and channel', () => {
    const mae = maeByStep([fromArray([1, 2]), fromArray([3, 4])], [fromArray([2, 2]), fromArray([3, 0])], 2, 1);
    expect(Array.from(mae)).toEqual([0.5, 2]);
  });
  test('coverage counts targets inside the interval', () => {
    const f = { mean: fromArray([0, 0]), lower: fromArray([-1, -1]), upper: fromArray([1, 1]) };
    expect(coverage([f], [fromArray([0.5, 2])])).toBe(0.5);
  });
  test.each([
    [[1, 2, 3, 4], 0.5, 2.5],
    [[1, 2, 3, 4], 0, 1],
    [[1, 2, 3, 4], 1, 4],
    [[5], 0.9, 5],
    [[], 0.5, 0],
  ])('quantile(%j, %d) = %d', (values, p, expected) => expect(quantile(values, p)).toBeCloseTo(expected, 12));
});
