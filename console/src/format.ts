/**
 * How the console writes times and numbers. Pure: the time now and the time zone are arguments
 * (the browser's own zone unless a test names one).
 */

const pad = (n: number): string => String(n).padStart(2, '0');

/** Epoch milliseconds of an ISO time, or null. */
export const toMs = (iso: string | null | undefined): number | null => {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
};

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(key, f);
  }
  return f;
}

/** "2026-01-05 14:00" in `timeZone` (the browser's by default); with seconds when asked. */
export function formatLocal(ms: number, options: { seconds?: boolean; timeZone?: string } = {}): string {
  const parts = Object.fromEntries(
    formatter(options.timeZone)
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  const time = `${parts.hour}:${parts.minute}${options.seconds ? `:${parts.second}` : ''}`;
  return `${parts.year}-${parts.month}-${parts.day} ${time}`;
}

/** "2026-01-05 13:00:00 UTC": what the console shows on hover beside a local time. */
export function formatUtc(ms: number): string {
  // toISOString is always UTC: 2026-01-05T13:00:00.000Z.
  const text = new Date(ms).toISOString();
  return `${text.slice(0, 10)} ${text.slice(11, 19)} UTC`;
}

/** "just now", "40 s ago", "5 min ago", "3 h ago", "2 d ago"; "in 5 min" for a time ahead. */
export function relativeTime(ms: number, nowMs: number): string {
  const delta = nowMs - ms;
  const ahead = delta < 0;
  const s = Math.abs(delta) / 1000;
  if (s < 10) return 'just now';
  const text =
    s < 60 ? `${Math.floor(s)} s` : s < 3600 ? `${Math.floor(s / 60)} min` : s < 86_400 ? `${Math.floor(s / 3600)} h` : `${Math.floor(s / 86_400)} d`;
  return ahead ? `in ${text}` : `${text} ago`;
}

/** A duration in words for spans such as a silence's: "45 min", "2 h 30 min", "3 d 4 h". */
export function formatSpan(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

/** A reading or score: four significant digits, no exponent for everyday sizes; "—" for none. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e6 || abs < 1e-3) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

/** A share 0..1 as a whole percentage: "42%". */
export const formatShare = (share: number): string => `${Math.round(share * 100)}%`;

/** An <input type="datetime-local"> value for `ms` in the browser's zone, and back. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(value: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return null;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? null : ms;
}

/**
 * The time axis' labels, one line each: "12-03" across days, "06:00" within them ("12-03" at
 * midnight, so the day still shows).
 */
export function tickLabels(ticksMs: readonly number[], spanMs: number, timeZone?: string): string[] {
  return ticksMs.map((ms) => {
    const text = formatLocal(ms, { timeZone });
    const day = text.slice(5, 10);
    const time = text.slice(11, 16);
    return spanMs >= 3 * 86_400_000 || time === '00:00' ? day : time;
  });
}
