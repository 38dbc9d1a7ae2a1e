import { changepointConfusion, changepointPredictions, changepointScores, detectionWindows, pointScores, scaledReward, SKAB_LEADERBOARD } from './skab-metrics';

// Expected NAB rewards below were computed with SKAB's own core/metrics.py (`my_scale`,
// `single_evaluate_nab`) on the same inputs.

const S = 1000;
const T = Date.UTC(2020, 2, 9, 10, 14, 33);
const bits = (text: string) => [...text].map((c) => c === '1');
const at = (seconds: number) => T + seconds * S;

describe('point scores: F1, FAR, MAR pooled over files', () => {
  test.each([
    ['one of each', [['1100', '1010']], { tp: 1, fn: 1, fp: 1, tn: 1, f1: 0.5, farPct: 50, marPct: 50 }],
    ['perfect', [['0110', '0110']], { tp: 2, fn: 0, fp: 0, tn: 2, f1: 1, farPct: 0, marPct: 0 }],
    ['always alarm', [['0011', '1111']], { tp: 2, fn: 0, fp: 2, tn: 0, f1: 2 / 3, farPct: 100, marPct: 0 }],
    ['never alarm', [['0011', '0000']], { tp: 0, fn: 2, fp: 0, tn: 2, f1: 0, farPct: 0, marPct: 100 }],
    // Counts are summed before the ratios: not the mean of per-file F1s (which would be 0.5 here).
    ['pooled, not averaged', [['11', '11'], ['00', '10']], { tp: 2, fn: 0, fp: 1, tn: 1, f1: 0.8, farPct: 50, marPct: 0 }],
  ])('%s', (_label, files, expected) => {
    const scores = pointScores(files.map(([labels, predictions]) => ({ labels: bits(labels!), predictions: bits(predictions!) })));
    expect(scores).toEqual({ ...expected, f1: expect.closeTo(expected.f1, 12) });
  });

  test('labels and predictions of different lengths are refused', () => {
    expect(() => pointScores([{ labels: bits('01'), predictions: bits('0') }])).toThrow(/differ in length/);
  });
});

describe('changepoint predictions from row predictions', () => {
  test.each([
    ['edges: every switch, on and off (SKAB: abs(diff))', '011001', 'edges', '010101'],
    ['starts: switches on only', '011001', 'starts', '010001'],
    ['an alarm already on at the first scored row is a changepoint', '110', 'edges', '101'],
    ['... also for starts', '110', 'starts', '100'],
    ['no alarm, no changepoint', '0000', 'edges', '0000'],
  ] as const)('%s', (_label, predictions, rule, expected) => {
    expect(changepointPredictions(bits(predictions), rule)).toEqual(bits(expected));
  });
});

describe('detection windows around true changepoints', () => {
  const cps = [at(0), at(10), at(100)];
  test.each([
    ['righter, overlaps cut from the right window', 'righter', [[0, 30], [30, 40], [100, 130]]],
    ['lefter', 'lefter', [[-30, 0], [0, 10], [70, 100]]],
    ['center', 'center', [[-15, 15], [15, 25], [85, 115]]],
  ] as const)('%s', (_label, placement, expected) => {
    const windows = detectionWindows(cps, 30 * S, placement);
    expect(windows.map((w) => [(w.startMs - T) / S, (w.endMs - T) / S])).toEqual(expected);
  });

  test('a cut cascades along a run of close changepoints', () => {
    const windows = detectionWindows([at(0), at(1), at(2)], 30 * S);
    expect(windows.map((w) => [(w.startMs - T) / S, (w.endMs - T) / S])).toEqual([[0, 30], [30, 31], [31, 32]]);
  });
});

describe('changepoint confusion: detected, missed, false', () => {
  const windows = detectionWindows([at(0), at(10), at(100), at(200)], 30 * S);
  test('first prediction in a window detects it; predictions between windows are false; a second one in a window is neither', () => {
    const c = changepointConfusion(windows, [131, -5, 30, 50, 99, 100, 120].map(at));
    // 30 s lies on the boundary the cut gave windows 0 and 1: it detects both, as in SKAB.
    expect(c.detected.map((d) => [d.index, (d.detectedMs - T) / S])).toEqual([[0, 30], [1, 30], [2, 100]]);
    expect(c.missed).toEqual([3]);
    expect(c.falseMs.map((t) => (t - T) / S)).toEqual([-5, 50, 99, 131]);
  });

  test('without true changepoints every prediction is false', () => {
    expect(changepointConfusion([], [at(1), at(2)])).toEqual({ detected: [], falseMs: [at(1), at(2)], missed: [] });
  });
});

describe('NAB reward of a detection inside its window', () => {
  const w = { startMs: at(0), endMs: at(30) };
  test.each([
    ['at the changepoint: A_tp', 0, 1, 1],
    ['a quarter in (standard)', 7.5, -0.11, 0.8415720409613807],
    ['halfway (standard)', 15, -0.11, 0.44404850713138366],
    ['halfway (low FP)', 15, -0.22, 0.3889542150453045],
    ['at the window end: A_fp', 30, -0.11, -0.11],
  ])('%s', (_label, seconds, aFp, expected) => {
    expect(scaledReward({ ...w, detectedMs: at(seconds) }, 1, aFp)).toBeCloseTo(expected, 12);
  });
});

describe('changepoint scores: NAB profiles, missed and false changepoints', () => {
  const one = (predicted: number[]) => ({ changepointsMs: [at(0)], predictedMs: predicted.map(at) });
  test.each([
    ['detected at once: 100', [one([0])], { standard: 100, lowFP: 100, lowFN: 100 }, { missed: 0, falsePositives: 0, meanDelayMs: 0 }],
    ['nothing predicted: 0 (the null detector)', [one([])], { standard: 0, lowFP: 0, lowFN: 0 }, { missed: 1, falsePositives: 0, meanDelayMs: null }],
    ['only a false one: below 0', [one([-10])], { standard: -5.5, lowFP: -11, lowFN: (100 * -0.11) / 3 }, { missed: 1, falsePositives: 1, meanDelayMs: null }],
    [
      'detected halfway through the window',
      [one([15])],
      { standard: (100 * (0.44404850713138366 + 1)) / 2, lowFP: (100 * (0.3889542150453045 + 1)) / 2, lowFN: (100 * (0.44404850713138366 + 2)) / 3 },
      { missed: 0, falsePositives: 0, meanDelayMs: 15 * S },
    ],
    ['pooled over files: one perfect, one null', [one([0]), one([])], { standard: 50, lowFP: 50, lowFN: 50 }, { missed: 1, falsePositives: 0, meanDelayMs: 0 }],
  ])('%s', (_label, files, nab, counts) => {
    const scores = changepointScores(files, { windowMs: 30 * S });
    expect(scores.nab.standard).toBeCloseTo(nab.standard, 9);
    expect(scores.nab.lowFP).toBeCloseTo(nab.lowFP, 9);
    expect(scores.nab.lowFN).toBeCloseTo(nab.lowFN, 9);
    expect({ missed: scores.missed, falsePositives: scores.falsePositives, meanDelayMs: scores.meanDelayMs }).toEqual(counts);
    expect(scores.changepoints).toBe(files.length);
  });

  test('no true changepoint anywhere: NAB is undefined (NaN), false ones still counted', () => {
    const scores = changepointScores([{ changepointsMs: [], predictedMs: [at(1)] }], { windowMs: 30 * S });
    expect(scores.nab.standard).toBeNaN();
    expect(scores.falsePositives).toBe(1);
  });
});

test('the leaderboard table is complete and sorted as published', () => {
  expect(SKAB_LEADERBOARD.outliers.map((r) => r.f1)).toEqual([...SKAB_LEADERBOARD.outliers.map((r) => r.f1)].sort((a, b) => b - a));
  expect(SKAB_LEADERBOARD.changepoints.map((r) => r.nab.standard)).toEqual([...SKAB_LEADERBOARD.changepoints.map((r) => r.nab.standard)].sort((a, b) => b - a));
  expect(Math.min(...SKAB_LEADERBOARD.changepoints.map((r) => r.falsePositives))).toBe(18);
});
