/**
 * The pure parts of `pdmctl bench scale`: the hand-over time read from committed offsets, the
 * partitions a process said it was assigned, the paced feed's next records, and the table.
 */

/** Committed offsets of a group's partitions on one topic at one moment (partitions never committed are absent). */
export interface OffsetSample {
  atMs: number;
  committed: ReadonlyMap<number, number>;
}

export interface HandOver {
  /** Per partition of the stopped instance: milliseconds from the signal until its committed offset moved past `baseline`; undefined when it never did. */
  partitions: Array<{ partition: number; ms: number | undefined; assignedMs?: number | undefined }>;
  /** The longest of them (undefined if any partition never moved): how long the last of its partitions went unwatched. */
  maxMs: number | undefined;
}

/**
 * How long the partitions of a stopped instance went unwatched: for each, the time from the
 * signal (`signalMs`) to the first sample whose committed offset is past the partition's
 * baseline (what was committed when the instance was gone: at the kill for SIGKILL, after its
 * drained exit for SIGTERM, so its own last commit does not count as the hand-over). Samples
 * before the signal are ignored. Resolution: the polling interval plus the group's commit cadence.
 */
export function handOverTime(samples: readonly OffsetSample[], signalMs: number, baseline: ReadonlyMap<number, number>, partitions: readonly number[]): HandOver {
  const result = partitions.map((partition) => {
    const from = baseline.get(partition) ?? -1;
    const moved = samples.find((s) => s.atMs >= signalMs && (s.committed.get(partition) ?? -1) > from);
    return { partition, ms: moved ? moved.atMs - signalMs : undefined };
  });
  const all = result.map((r) => r.ms);
  return { partitions: result, maxMs: all.length > 0 && all.every((ms) => ms !== undefined) ? Math.max(...(all as number[])) : undefined };
}

/**
 * The partitions of `topic` a process was last assigned, from its JSON log (the runner's
 * `partitions assigned` line, one per rebalance); undefined if it logged none.
 */
export function lastAssignment(logText: string, topic: string): number[] | undefined {
  let last: number[] | undefined;
  for (const line of logText.split('\n')) {
    if (!line.includes('"partitions assigned"')) continue;
    try {
      const entry = JSON.parse(line) as { topic?: string; partitions?: number[] };
      if (entry.topic === topic && Array.isArray(entry.partitions)) last = entry.partitions;
    } catch {
      // A line cut short by a kill: not an assignment.
    }
  }
  return last;
}

/**
 * When one of `partitions` was first given to a surviving process after `sinceMs` (epoch ms),
 * from the survivors' JSON logs (`partitions assigned` lines, with their `time`): the group's
 * part of a hand-over, before the new owner's restore and first commit. Per partition, ms after
 * `sinceMs`; undefined if no survivor logged it.
 */
export function assignedAfter(logTexts: readonly string[], topic: string, partitions: readonly number[], sinceMs: number): Map<number, number | undefined> {
  const first = new Map<number, number | undefined>(partitions.map((p) => [p, undefined]));
  for (const text of logTexts) {
    for (const line of text.split('\n')) {
      if (!line.includes('"partitions assigned"')) continue;
      let entry: { time?: string; topic?: string; partitions?: number[] };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue;
      }
      const atMs = entry.time ? Date.parse(entry.time) : NaN;
      if (entry.topic !== topic || !Array.isArray(entry.partitions) || !(atMs >= sinceMs)) continue;
      for (const p of entry.partitions) {
        const known = first.get(p);
        if (first.has(p) && (known === undefined || atMs - sinceMs < known)) first.set(p, atMs - sinceMs);
      }
    }
  }
  return first;
}

/**
 * The paced feed: the indexes of the next `count` source records after `cursor`, wrapping
 * around a source of `total` records (a hand-over needs input for longer than a small source
 * lasts; a repeated record is one more record for the stage to read and commit).
 */
export function nextIndexes(total: number, cursor: number, count: number): number[] {
  if (total <= 0) return [];
  return Array.from({ length: count }, (_, i) => (cursor + i) % total);
}

/** Positions of records kept per partition (`counts[p]` records of partition p), the partitions taken in turn, each in its own order. */
export function interleave(counts: readonly number[]): Array<{ partition: number; index: number }> {
  const out: Array<{ partition: number; index: number }> = [];
  const longest = Math.max(0, ...counts);
  for (let index = 0; index < longest; index++) for (let partition = 0; partition < counts.length; partition++) if (index < counts[partition]!) out.push({ partition, index });
  return out;
}

/** `[from, to)` ranges of consecutive items whose sizes add up to at most `maxBytes` (an item larger than that alone). */
export function chunksBySize(sizes: readonly number[], maxBytes: number): Array<[number, number]> {
  const chunks: Array<[number, number]> = [];
  let from = 0;
  let bytes = 0;
  sizes.forEach((size, i) => {
    if (i > from && bytes + size > maxBytes) {
      chunks.push([from, i]);
      from = i;
      bytes = 0;
    }
    bytes += size;
  });
  if (sizes.length > from) chunks.push([from, sizes.length]);
  return chunks;
}

/** Records a second to drain `records` in `seconds`. */
export const perSecond = (records: number, seconds: number): number => (seconds > 0 ? records / seconds : 0);

/** One drain of the fixed input by a group of `instances` processes. */
export interface Drain {
  instances: number;
  /** Records the formed group read (the input less what its first processes read while the others still started). */
  records: number;
  /** From the group formed (all processes in, state Stable) to the input's last record committed. */
  seconds: number;
  /** From the processes' start to the group formed. */
  startSeconds: number;
}

export interface ScaleRow {
  service: string;
  /** What a record is for this service: readings, windows, rows, alerts. */
  unit: string;
  /** Records in the fixed input. */
  input: number;
  drains: Drain[];
  sigkill?: HandOver;
  sigterm?: HandOver;
}

const whole = (n: number) => Math.round(n).toLocaleString('en');
const seconds = (ms: number | undefined) => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);

/** The side-by-side table: throughput with 1, 2 and 3 instances, speed-up, and the hand-over times. */
export function renderScaleTable(rows: readonly ScaleRow[], counts: readonly number[]): string[] {
  const head = ['service (input)', ...counts.map((n) => `${n} instance${n === 1 ? '' : 's'} /s`), `${counts[counts.length - 1]} vs 1`, 'hand-over SIGKILL', 'hand-over SIGTERM'];
  const lines = [`| ${head.join(' | ')} |`, `| --- | ${head.slice(1).map(() => '---:').join(' | ')} |`];
  for (const row of rows) {
    const rate = (n: number) => {
      const d = row.drains.find((x) => x.instances === n);
      return d ? perSecond(d.records, d.seconds) : undefined;
    };
    const one = rate(counts[0]!);
    const most = rate(counts[counts.length - 1]!);
    const cells = counts.map((n) => {
      const r = rate(n);
      return r === undefined ? '-' : whole(r);
    });
    const ratio = one && most ? `${(most / one).toFixed(2)}x` : '-';
    const hand = (h: HandOver | undefined) => {
      if (!h) return '-';
      const assigned = h.partitions.map((p) => p.assignedMs);
      const given = assigned.every((ms) => ms !== undefined) && assigned.length > 0 ? `, assigned after ${seconds(Math.max(...(assigned as number[])))}` : '';
      return `${seconds(h.maxMs)} (${h.partitions.length} partition${h.partitions.length === 1 ? '' : 's'}${given})`;
    };
    lines.push(`| ${row.service} (${whole(row.input)} ${row.unit}) | ${cells.join(' | ')} | ${ratio} | ${hand(row.sigkill)} | ${hand(row.sigterm)} |`);
  }
  return lines;
}
