import { alarmMetrics, calibrateThreshold, confusion, fitAnomaly, lookbackMean, score } from './anomaly';

/** Normal operation: two channels that move together (y = 2x) with a little noise, and a constant third. */
function normal(n: number): Float64Array[] {
  const out: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const x = Math.sin(i * 0.37) * 5;
    out.push(Float64Array.from([x, 2 * x + 0.05 * Math.cos(i * 1.7), 7]));
  }
  return out;
}
const options = { lookback: 1, logChannels: [0, 0, 0], explained: 0.95, limitQuantile: 0.99 };

describe('PCA T²+Q', () => {
  const params = fitAnomaly(normal(500), 3, options);

  test('one component carries the normal variation; the constant channel is dropped', () => {
    expect(params.k).toBe(1);
    expect(params.weight).toEqual([1, 1, 0]);
  });

  test('normal points score at most about 1; breaking the correlation scores high (Q)', () => {
    expect(score(params, Float64Array.from([2, 4, 7])).score).toBeLessThan(1.5);
    const broken = score(params, Float64Array.from([2, -4, 7]));
    expect(broken.score).toBeGreaterThan(100);
    expect(broken.q / params.qLimit).toBeGreaterThan(broken.t2 / params.t2Limit);
  });

  test('moving far along the normal direction scores high too (T²)', () => {
    const far = score(params, Float64Array.from([50, 100, 7]));
    expect(far.t2 / params.t2Limit).toBeGreaterThan(10);
  });

  test('the dropped channel does not matter', () => {
    expect(score(params, Float64Array.from([2, 4, 1000])).score).toBeCloseTo(score(params, Float64Array.from([2, 4, 7])).score, 12);
  });

  test('the calibrated threshold is never below 1 and passes the held-out normal data at the chosen rate', () => {
    const held = normal(1000).slice(500);
    const threshold = calibrateThreshold(params, held, 0.01);
    expect(threshold).toBeGreaterThanOrEqual(1);
    expect(held.filter((x) => score(params, x).score > threshold).length).toBeLessThanOrEqual(10);
  });

  test('the lookback is averaged: [L x C] row-major', () => {
    expect(Array.from(lookbackMean(Float64Array.from([1, 10, 3, 30]), 2, 2))).toEqual([2, 20]);
  });

  test('fitting is deterministic (same data, same parameters)', () => {
    const again = fitAnomaly(normal(500), 3, options);
    expect(Array.from(again.components)).toEqual(Array.from(params.components));
  });
});

describe('alarm metrics (SKAB definitions)', () => {
  test.each([
    // alarms, labels, f1, far, mar
    [[true, true, false, false], [true, false, true, false], 0.5, 0.5, 0.5],
    [[true, true, true, true], [true, true, false, false], 2 / 3, 1, 0],
    [[false, false], [true, true], 0, 0, 1],
    [[false, false], [false, false], 0, 0, 0],
  ])('%j against %j', (alarms, labels, f1, far, mar) => {
    const m = alarmMetrics(confusion(alarms, labels));
    expect(m.f1).toBeCloseTo(f1, 12);
    expect(m.far).toBeCloseTo(far, 12);
    expect(m.mar).toBeCloseTo(mar, 12);
  });
});
