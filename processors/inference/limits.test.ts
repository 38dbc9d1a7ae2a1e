import { coversChannels, learnLimits, type LearnedLimitPolicy } from './limits';

const policy: LearnedLimitPolicy = { kind: 'learned', margin: 1, floorShare: 0.1 };
const manifest = {
  channels: ['current.mean', 'tempA.mean'],
  limits: { 'current.mean': { lower: null, upper: 17 }, 'tempA.mean': { lower: 5, upper: 68 } },
  normalization: { channelSd: [4, 10] },
};

/** [L x 2] input from two columns; null is an imputed (masked) value. */
function input(current: Array<number | null>, tempA: Array<number | null>) {
  const x: number[] = [];
  const mask: number[] = [];
  current.forEach((c, t) => {
    x.push(c ?? 999, tempA[t] ?? 999);
    mask.push(c === null ? 0 : 1, tempA[t] === null ? 0 : 1);
  });
  return { x, mask };
}

describe('learned limits', () => {
  test('an upper limit sits above the baseline maximum by the margin times its reach above the median', () => {
    // current: median 5, max 8 -> 8 + 1 * (8 - 5) = 11; tempA: median 70, max 72 -> 72 + 2 = 74
    const learned = learnLimits(input([4, 5, 5, 6, 8], [69, 70, 70, 71, 72]), manifest, policy, 1000);
    expect(learned.learnedAtMs).toBe(1000);
    expect(learned.limits['current.mean']).toEqual({ lower: null, upper: 11 });
    expect(learned.limits['tempA.mean']!.upper).toBe(74);
  });

  test('only the sides the fleet limits bound are learned, and the lower one mirrors the upper', () => {
    const learned = learnLimits(input([4, 5, 5, 6, 8], [60, 69, 70, 71, 72]), manifest, policy, 0);
    expect(learned.limits['current.mean']!.lower).toBeNull();
    // tempA: median 70, min 60 -> 60 - 1 * 10 = 50
    expect(learned.limits['tempA.mean']!.lower).toBe(50);
  });

  test('a machine steady in its baseline gets the floor, a share of the fleet spread, not a zero-width band', () => {
    const learned = learnLimits(input([5, 5, 5, 5], [40, 40, 40, 40]), manifest, { ...policy, margin: 2 }, 0);
    expect(learned.limits['current.mean']!.upper).toBeCloseTo(5 + 2 * 0.4, 12);
    expect(learned.limits['tempA.mean']!.upper).toBeCloseTo(40 + 2 * 1, 12);
  });

  test('imputed values do not count; a channel never observed keeps the fleet limit', () => {
    const learned = learnLimits(input([4, null, 5, 6], [null, null, null, null]), manifest, policy, 0);
    expect(learned.limits['current.mean']!.upper).toBe(6 + 1);
    expect(learned.limits['tempA.mean']).toEqual({ lower: 5, upper: 68 });
  });

  test('learned limits cover a model only when every bounded channel has one', () => {
    const learned = learnLimits(input([4, 5], [60, 61]), manifest, policy, 0);
    expect(coversChannels(learned, manifest.limits)).toBe(true);
    expect(coversChannels(undefined, manifest.limits)).toBe(false);
    expect(coversChannels(learned, { ...manifest.limits, 'accX.mean': { lower: null, upper: 1 } })).toBe(false);
    expect(coversChannels(learned, { ...manifest.limits, 'accX.mean': { lower: null, upper: null } })).toBe(true);
  });
});
