import type { AlertView, AssessmentPoint, FeatureStatsView, ForecastView, WindowView } from '../../api/schemas';
import { alertMarkers, channelOf, channelSeries, channelsOf, machineGrid, scoreSeries, timeGrid, windowLengthMs } from './series';

const H = 3_600_000;
const T0 = Date.parse('2026-01-05T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const none: FeatureStatsView = { count: 0, mean: null, min: null, max: null, stddev: null };
const stats = (mean: number): FeatureStatsView => ({ count: 60, mean, min: mean - 1, max: mean + 1, stddev: 0.5 });

/** A window of hour `h` with the channels given (the others absent). */
function win(
  h: number,
  channels: Partial<Record<'current' | 'accX' | 'accY' | 'accZ' | 'tempA' | 'tempB', number>>,
  extras: Record<string, number> = {},
): WindowView {
  const of = (c: keyof typeof channels) => (channels[c] === undefined ? none : stats(channels[c]));
  return {
    machineId: 'm1',
    windowStart: iso(T0 + h * H),
    windowEnd: iso(T0 + (h + 1) * H),
    count: 60,
    current: of('current'),
    accX: of('accX'),
    accY: of('accY'),
    accZ: of('accZ'),
    tempA: of('tempA'),
    tempB: of('tempB'),
    extras: Object.fromEntries(Object.entries(extras).map(([k, v]) => [k, stats(v)])),
  };
}

const forecast = (madeAtHour: number, feature: string, means: number[], limits: { lower?: number; upper?: number } = {}): ForecastView => ({
  madeAt: iso(T0 + madeAtHour * H),
  modelName: 'f',
  modelVersion: 'v1',
  points: means.map((mean, i) => ({
    feature,
    windowStart: iso(T0 + (madeAtHour + i) * H),
    mean,
    lower: mean - 2,
    upper: mean + 2,
    limitLower: limits.lower ?? null,
    limitUpper: limits.upper ?? null,
  })),
});

describe('channels', () => {
  it('shows the six that have a value somewhere, in their order, then the extras by name', () => {
    const windows = [win(0, { tempA: 40, current: 2 }, { pressure: 3 }), win(1, { accX: 0.1 }, { flow: 5, dead: Number.NaN })];
    windows[1]!.extras.dead = none;
    expect(channelsOf(windows)).toEqual(['current', 'accX', 'tempA', 'flow', 'pressure']);
  });

  it("names a feature's channel", () => {
    expect(channelOf('tempA.mean')).toBe('tempA');
    expect(channelOf('pressure')).toBe('pressure');
  });

  it('takes the common window length, an hour when there is none', () => {
    expect(windowLengthMs([win(0, {}), win(1, {})])).toBe(H);
    expect(windowLengthMs([])).toBe(H);
  });
});

describe('timeGrid', () => {
  it("steps through the range on the windows' phase and keeps the extra times", () => {
    const half = 30 * 60_000;
    expect(timeGrid(T0, T0 + 3 * H, H, [T0 + half])).toEqual([T0 + half, T0 + H + half, T0 + 2 * H + half]);
    expect(timeGrid(T0, T0 + 3 * H, H)).toEqual([T0, T0 + H, T0 + 2 * H]);
  });
});

describe('channelSeries', () => {
  const windows = [win(3, { tempA: 43 }), win(0, { tempA: 40 }), win(1, { tempA: 41, current: 1 })];
  const grid = timeGrid(T0, T0 + 6 * H, H);

  it('puts each window on its start and leaves a gap (null) for a missing window', () => {
    const s = channelSeries(windows, 'tempA', grid, null);
    expect(s.x).toEqual(grid.map((t) => t / 1000));
    expect(s.mean).toEqual([40, 41, null, 43, null, null]);
    expect(s.min).toEqual([39, 40, null, 42, null, null]);
    expect(s.max).toEqual([41, 42, null, 44, null, null]);
    expect(s.points).toBe(3);
    expect(s.forecast.every((v) => v === null)).toBe(true);
    expect(s.limitUpper.every((v) => v === null)).toBe(true);
  });

  it('counts only the windows where the channel has a value', () => {
    expect(channelSeries(windows, 'current', grid, null).points).toBe(1);
  });

  it('draws the forecast from the window it was made on, with its interval and the limits across the chart', () => {
    const s = channelSeries(windows, 'tempA', grid, forecast(4, 'tempA', [44, 45], { upper: 50 }));
    expect(s.forecast).toEqual([null, null, null, 43, 44, 45]);
    expect(s.forecastLower).toEqual([null, null, null, 43, 42, 43]);
    expect(s.forecastUpper).toEqual([null, null, null, 43, 46, 47]);
    expect(s.limitUpper).toEqual(grid.map(() => 50));
    expect(s.limitLower).toEqual(grid.map(() => null));
    expect(s.forecastPoints).toBe(2);
  });

  it('does not join a forecast made on a window it does not have', () => {
    const s = channelSeries(windows, 'tempA', grid, forecast(5, 'tempA', [44]));
    expect(s.forecast).toEqual([null, null, null, null, null, 44]);
  });

  it("takes a statistic's forecast when the mean has none, and the limits of any", () => {
    const f = forecast(4, 'tempA.max', [46], { upper: 55 });
    f.points.push({ feature: 'tempB', windowStart: iso(T0 + 4 * H), mean: 1, lower: 0, upper: 2, limitLower: -1, limitUpper: 9 });
    const s = channelSeries(windows, 'tempA', grid, f);
    expect(s.forecast[4]).toBe(46);
    expect(s.limitUpper[0]).toBe(55);
    expect(s.limitLower[0]).toBeNull();
  });
});

describe('machineGrid', () => {
  it('covers the range and the forecast steps after it', () => {
    const grid = machineGrid({
      fromMs: T0,
      toMs: T0 + 4 * H,
      windowMs: H,
      windows: [win(0, {}), win(3, {})],
      assessments: [],
      forecast: forecast(4, 'tempA', [1, 2]),
    });
    expect(grid).toEqual([0, 1, 2, 3, 4, 5].map((h) => T0 + h * H));
  });
});

describe('scoreSeries', () => {
  it('puts each score and its threshold on the window it assessed', () => {
    const points: AssessmentPoint[] = [
      { windowStart: iso(T0), windowEnd: iso(T0 + H), state: 'ok', anomaly: { score: 0.2, threshold: 1 }, deviation: null },
      {
        windowStart: iso(T0 + 2 * H),
        windowEnd: iso(T0 + 3 * H),
        state: 'at-risk',
        anomaly: { score: 1.5, threshold: 1 },
        deviation: { score: 4, threshold: 3 },
      },
    ];
    const grid = timeGrid(T0, T0 + 3 * H, H);
    expect(scoreSeries(points, 'anomaly', grid)).toMatchObject({ score: [0.2, null, 1.5], threshold: [1, null, 1], points: 2 });
    expect(scoreSeries(points, 'deviation', grid)).toMatchObject({ score: [null, null, 4], threshold: [null, null, 3], points: 1 });
  });
});

describe('alertMarkers', () => {
  const alert = (id: string, windowEndHour: number, status: string, feature: string | null): AlertView => ({
    alertId: id,
    dedupKey: `m1/DEVIATION/${feature ?? '*'}`,
    machineId: 'm1',
    status,
    severity: 'WARNING',
    kind: 'DEVIATION',
    feature,
    windowEnd: iso(T0 + windowEndHour * H),
    predictedBreachAt: null,
    score: 4,
    threshold: 3,
    modelName: 'd',
    modelVersion: 'v1',
    message: '',
    createdAt: iso(T0 + windowEndHour * H),
    drivers: [],
    acknowledgement: null,
    notifications: [],
  });

  it('places each transition on the window it was decided on, oldest first, within the range', () => {
    const markers = alertMarkers([alert('b', 5, 'RESOLVED', null), alert('a', 2, 'FIRING', 'tempA'), alert('old', -3, 'FIRING', null)], H, T0, T0 + 6 * H);
    expect(markers).toEqual([
      { alertId: 'a', x: (T0 + H) / 1000, status: 'FIRING', severity: 'WARNING', kind: 'DEVIATION', channel: 'tempA' },
      { alertId: 'b', x: (T0 + 4 * H) / 1000, status: 'RESOLVED', severity: 'WARNING', kind: 'DEVIATION', channel: null },
    ]);
  });
});
