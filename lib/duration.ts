import { PdmError } from './errors';
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "500ms", "2s", "15m", "1h", "30d", "2w" (or a sum such as "1h30m") as milliseconds; "0s" only when `allowZero`. */
export function parseDuration(text: string, options: { allowZero?: boolean } = {}): number {
  const parts = text.trim().match(/^(\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/) ? text.trim().match(/\d+(?:\.\d+)?(?:ms|s|m|h|d|w)/g) : null;
  if (!parts) throw new PdmError('CONFIG_INVALID', `"${text}" is not a duration (examples: 500ms, 2s, 15m, 1h, 30d, 1h30m)`);
  let total = 0;
  for (const part of parts) {
    const [, value, unit] = part.match(/^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/)!;
    total += Number(value) * UNITS[unit!]!;
  }
  if (total <= 0 && !(options.allowZero && total === 0)) throw new PdmError('CONFIG_INVALID', `"${text}" must be longer than zero`);
  return Math.round(total);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  let rest = Math.round(ms / 1000) * 1000;
  const out: string[] = [];
  for (const [unit, size] of units) {
    if (rest >= size) {
      out.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return out.join('');
}
