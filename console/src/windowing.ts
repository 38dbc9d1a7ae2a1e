/**
 * The arithmetic of a windowed (virtualised) list of fixed-height rows: which rows are in view,
 * and how tall the empty space above and below them is. Pure.
 *
 * Why by hand rather than @tanstack/virtual-core: the fleet's rows all have one height, so the
 * whole job is this division and its clamps (tested in windowing.test.ts); virtual-core's value
 * (measured, variable-size items, horizontal and grid layouts, scroll anchoring) would go unused,
 * and the list component that uses this stays about thirty lines.
 */

export interface Viewport {
  scrollTop: number;
  height: number;
  rowHeight: number;
  total: number;
  /** Rows rendered beyond each edge, so a fast scroll does not show blank space. */
  overscan?: number;
}

export interface RowRange {
  /** First row rendered. */
  start: number;
  /** One past the last row rendered. */
  end: number;
}

export function visibleRows({ scrollTop, height, rowHeight, total, overscan = 8 }: Viewport): RowRange {
  if (total <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const last = Math.ceil((Math.max(0, scrollTop) + Math.max(0, height)) / rowHeight);
  const start = Math.min(total, Math.max(0, first - overscan));
  const end = Math.min(total, Math.max(start, last + overscan));
  return { start, end };
}

/** The padding above and below the rendered rows that keeps the scrollbar as long as the whole list. */
export function spacers(range: RowRange, rowHeight: number, total: number): { before: number; after: number } {
  return { before: range.start * rowHeight, after: Math.max(0, total - range.end) * rowHeight };
}

/** The scrollTop that brings `row` into view (unchanged when it already is): for keyboard moves. */
export function scrollToRow(row: number, { scrollTop, height, rowHeight }: Omit<Viewport, 'total'>): number {
  const top = row * rowHeight;
  if (top < scrollTop) return top;
  if (top + rowHeight > scrollTop + height) return top + rowHeight - height;
  return scrollTop;
}
