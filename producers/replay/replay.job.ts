import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as timersSleep } from 'node:timers/promises';
import type { Logger } from '../../lib/logger';
import type { Progress } from '../../lib/progress';
import type { ReadingsProducer } from '../readings.producer';
import { ReplayError, detectSeparator, lineToReading, parseHeader, splitLine, type ReplaySpeed, type RowPlan } from './csv';

/** What the replay needs of the readings producer; tests may pass their own. */
export type ReadingsSink = Pick<ReadingsProducer, 'add' | 'reject' | 'flush'>;

export interface CsvHead {
  header: string[];
  separator: string;
  sizeBytes: number;
  /** The first data rows (up to SAMPLE_ROWS), split: where `--extras all` looks for numeric columns. */
  sample: string[][];
}

export const SAMPLE_ROWS = 100;

/** The first line (and the next, to choose a separator) without reading a large file whole. */
const HEAD_LIMIT_BYTES = 1 << 20;

/** The header and separator of a file, read before anything connects so a bad flag fails fast. */
export async function readCsvHead(file: string, separator?: string): Promise<CsvHead> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not readable (permission denied)' : (cause as Error).message;
    throw new ReplayError('REPLAY_FILE', `--csv ${file}: ${why}`, { cause });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new ReplayError('REPLAY_FILE', `--csv ${file}: not a file`);
    const buffer = Buffer.alloc(Math.min(stat.size, HEAD_LIMIT_BYTES));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const lines = buffer.subarray(0, bytesRead).toString('utf8').split(/\r?\n/);
    // The last piece may be cut off mid-line, unless the whole file fit.
    const complete = bytesRead === stat.size ? lines : lines.slice(0, -1);
    const headerLine = complete[0]?.replace(/^\uFEFF/, '');
    if (headerLine === undefined || headerLine.trim() === '') throw new ReplayError('REPLAY_FILE', `--csv ${file}: the first line must be the header, and it is ${stat.size === 0 ? 'an empty file' : 'empty'}`);
    const chosen = separator ?? detectSeparator(headerLine, complete.slice(1).find((l) => l.trim() !== ''));
    const sample = complete
      .slice(1)
      .filter((l) => l.trim() !== '')
      .slice(0, SAMPLE_ROWS)
      .flatMap((l) => {
        const split = splitLine(l, chosen);
        return split.ok ? [split.fields] : [];
      });
    return { header: parseHeader(headerLine, chosen), separator: chosen, sizeBytes: stat.size, sample };
  } finally {
    await handle.close();
  }
}

export interface ReplayOptions {
  file: string;
  separator: string;
  plan: RowPlan;
  speed: ReplaySpeed;
}

export interface ReplaySummary {
  /** Data rows handled (produced or refused): every line after the header but blank ones. */
  rows: number;
  produced: number;
  /** Rows dead-lettered: unreadable here, or refused by validation. */
  refused: number;
  seconds: number;
  stoppedEarly: boolean;
  /** Event times of the first and last reading produced; null when none was. */
  firstEventMs: number | null;
  lastEventMs: number | null;
}

export interface ReplayDeps {
  readings: ReadingsSink;
  logger: Logger;
  /** Fed bytes read out of the file's size. */
  progress?: Progress;
  signal?: AbortSignal;
  clock?: () => number;
  /** Resolves after `ms`, or early once `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const abortableSleep = (ms: number, signal?: AbortSignal): Promise<void> => timersSleep(ms, undefined, { signal }).catch(() => undefined);

/**
 * Paced replay keeps the file's event-time gaps, divided by the factor, on the wall clock: the
 * first reading goes at once, and each later one when the wall clock has advanced by its event
 * time's distance from the first, over the factor. The schedule hangs off the first reading, not
 * the previous one, so time spent producing doesn't accumulate as drift. Rows out of time order
 * are due in the past and go at once.
 */
class Pacer {
  private origin: { eventMs: number; wallMs: number } | undefined;

  constructor(
    private readonly factor: number,
    private readonly clock: () => number,
  ) {}

  waitMs(eventMs: number): number {
    if (!this.origin) {
      this.origin = { eventMs, wallMs: this.clock() };
      return 0;
    }
    return this.origin.wallMs + (eventMs - this.origin.eventMs) / this.factor - this.clock();
  }
}

/** How often the progress line is redrawn, at most. */
const PROGRESS_EVERY_MS = 250;

/**
 * Streams the file line by line into the readings producer. Event times are the file's own;
 * unreadable lines and refused readings go to the dead-letter topic with the file and line as
 * their source, and the replay goes on. An abort stops reading; what was read is still flushed.
 */
export async function runReplay(options: ReplayOptions, deps: ReplayDeps): Promise<ReplaySummary> {
  const clock = deps.clock ?? Date.now;
  const sleep = deps.sleep ?? abortableSleep;
  const pacer = options.speed.kind === 'paced' ? new Pacer(options.speed.factor, clock) : undefined;
  const sourcePath = path.resolve(options.file);
  const started = clock();
  const summary: ReplaySummary = { rows: 0, produced: 0, refused: 0, seconds: 0, stoppedEarly: false, firstEventMs: null, lastEventMs: null };
  deps.logger.info({ file: sourcePath, separator: options.separator, speed: options.speed }, 'replay starting');

  const input = fs.createReadStream(options.file);
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  let lastProgressMs = started;
  try {
    for await (const line of lines) {
      lineNumber++;
      if (lineNumber === 1) continue; // the header, read by readCsvHead
      if (deps.signal?.aborted) {
        summary.stoppedEarly = true;
        break;
      }
      const result = lineToReading(line, options.separator, options.plan);
      if (result === undefined) continue;
      const source = { description: `csv:${sourcePath}:${lineNumber}` };
      if (!result.ok) {
        summary.rows++;
        await deps.readings.reject(line, source, result.code, result.reason);
        summary.refused++;
        continue;
      }
      if (pacer) {
        const waitMs = pacer.waitMs(result.reading.timestamp);
        if (waitMs > 0) await sleep(waitMs, deps.signal);
        if (deps.signal?.aborted) {
          summary.stoppedEarly = true;
          break;
        }
      }
      summary.rows++;
      if (await deps.readings.add(result.reading, source, () => line)) {
        summary.produced++;
        summary.firstEventMs ??= result.reading.timestamp;
        summary.lastEventMs = result.reading.timestamp;
      } else {
        summary.refused++;
      }
      if (deps.progress && clock() - lastProgressMs >= PROGRESS_EVERY_MS) {
        lastProgressMs = clock();
        deps.progress.update(input.bytesRead, progressDetail(summary, result.reading.timestamp, (clock() - started) / 1000));
      }
    }
  } finally {
    lines.close();
    input.destroy();
  }
  await deps.readings.flush();
  summary.seconds = (clock() - started) / 1000;
  if (deps.progress) {
    deps.progress.update(input.bytesRead, progressDetail(summary, summary.lastEventMs, summary.seconds));
    deps.progress.stop();
  }
  deps.logger.info({ file: sourcePath, ...summary }, summary.stoppedEarly ? 'replay stopped' : 'replay done');
  return summary;
}

function progressDetail(summary: ReplaySummary, eventMs: number | null, seconds: number): string {
  const at = eventMs === null ? '' : `${new Date(eventMs).toISOString().slice(0, 19)}Z | `;
  return `${at}${summary.produced.toLocaleString('en')} readings | ${Math.round(summary.rows / Math.max(seconds, 0.001)).toLocaleString('en')} rows/s`;
}
