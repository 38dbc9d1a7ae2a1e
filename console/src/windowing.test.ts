import { scrollToRow, spacers, visibleRows } from './windowing';

describe('visibleRows', () => {
  const view = { rowHeight: 30, height: 300, total: 10_000, overscan: 5 };

  it.each([
    ['the top', 0, { start: 0, end: 15 }],
    ['a row boundary', 3000, { start: 95, end: 115 }],
    ['part-way through a row', 3015, { start: 95, end: 116 }],
    ['the bottom', 300_000 - 300, { start: 9985, end: 10_000 }],
    ['past the bottom (overscroll)', 400_000, { start: 10_000, end: 10_000 }],
    ['above the top (overscroll)', -50, { start: 0, end: 15 }],
  ])('at %s', (_at, scrollTop, expected) => {
    expect(visibleRows({ ...view, scrollTop })).toEqual(expected);
  });

  it('renders every row of a list shorter than the view', () => {
    expect(visibleRows({ ...view, total: 4, scrollTop: 0 })).toEqual({ start: 0, end: 4 });
  });

  it('renders nothing of an empty list', () => {
    expect(visibleRows({ ...view, total: 0, scrollTop: 0 })).toEqual({ start: 0, end: 0 });
  });

  it('keeps the DOM small whatever the list length', () => {
    const { start, end } = visibleRows({ ...view, total: 1_000_000, scrollTop: 12_345_678 });
    expect(end - start).toBeLessThanOrEqual(300 / 30 + 1 + 2 * 5);
  });
});

describe('spacers', () => {
  it('makes the rendered rows plus the spacers as tall as the whole list', () => {
    const range = { start: 95, end: 116 };
    const { before, after } = spacers(range, 30, 10_000);
    expect(before).toBe(95 * 30);
    expect(before + (range.end - range.start) * 30 + after).toBe(10_000 * 30);
  });
});

describe('scrollToRow', () => {
  const view = { scrollTop: 300, height: 300, rowHeight: 30 };
  it('leaves a row in view where it is', () => expect(scrollToRow(12, view)).toBe(300));
  it('scrolls up to a row above', () => expect(scrollToRow(5, view)).toBe(150));
  it('scrolls down just enough for a row below', () => expect(scrollToRow(20, view)).toBe(20 * 30 + 30 - 300));
});
