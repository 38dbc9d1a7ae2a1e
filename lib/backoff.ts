/** Delay before retry `attempt` (1, 2, ...): doubling from `initialMs`, never above `maxMs`. */
export function backoffDelayMs(attempt: number, initialMs: number, maxMs: number): number {
  if (attempt < 1) return 0;
  return Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));
}
