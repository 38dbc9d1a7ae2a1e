/**
 * Epoch milliseconds as text Postgres reads as timestamptz, for every time JavaScript represents
 * that Postgres does too. `toISOString()` writes years past 9999 as `+012000-...` and years before 1
 * as `-000100-...` (astronomical: year 0 is 1 BC), which Postgres refuses; Postgres takes
 * `12000-01-01T...Z` and `0101-01-01T...Z BC`. Throws RangeError for a time JavaScript can't
 * represent; a year before 4713 BC is still refused by Postgres (a row error).
 */
export function pgTimestamp(ms: number): string {
  const text = new Date(ms).toISOString();
  if (text.startsWith('+')) return text.slice(1).replace(/^0+(?=\d{5})/, '');
  const year = Number(text.startsWith('-') ? text.slice(0, 7) : text.slice(0, 4));
  if (year > 0) return text;
  const rest = text.slice(text.startsWith('-') ? 7 : 4);
  return `${String(1 - year).padStart(4, '0')}${rest} BC`;
}
