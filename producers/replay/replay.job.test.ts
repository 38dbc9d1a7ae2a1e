import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DeadLetterSource } from '../../lib/dead-letter';
import { createLogger } from '../../lib/logger';
import { parseSpeed, planColumns, type RawReading } from './csv';
import { runReplay, type ReadingsSink } from './replay.job';

// Component tests of the replay job: a small file, a producer stand-in and an injected clock.
const silent = createLogger({ level: 'silent' });

function writeCsv(name: string, lines: string[]): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'replay-')), name);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** A stand-in for the producer that keeps what it gets: pacing is about when, not where. */
function recordingSink(): ReadingsSink & { added: RawReading[]; flushed: number } {
  const sink = {
    added: [] as RawReading[],
    flushed: 0,
    async add(input: unknown, _source: DeadLetterSource, _raw: () => Buffer | string): Promise<boolean> {
      sink.added.push(input as RawReading);
      return true;
    },
    async reject(): Promise<void> {},
    async flush(): Promise<void> {
      sink.flushed++;
    },
  };
  return sink;
}

describe('replay pacing, on an injected clock', () => {
  // Event times 0 s, 1 s, 4 s, 3 s (out of order), 5 s.
  const file = writeCsv('paced.csv', ['time,current', '2024-05-01 10:00:00,1', '2024-05-01 10:00:01,2', '2024-05-01 10:00:04,3', '2024-05-01 10:00:03,4', '2024-05-01 10:00:05,5']);
  const plan = planColumns(['time', 'current'], { machineId: 'paced-1' });

  function fakeTime(onSleep?: (sleeps: number[]) => void) {
    let nowMs = 1_000_000;
    const sleeps: number[] = [];
    return {
      sleeps,
      clock: () => nowMs,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        nowMs += ms;
        onSleep?.(sleeps);
      },
    };
  }

  test.each([
    ['max: no waiting', 'max', []],
    ['realtime: the file\'s gaps; the row out of order goes at once', 'realtime', [1000, 3000, 1000]],
    ['10: a tenth of the gaps', '10', [100, 300, 100]],
  ])('%s', async (_name, speed, expectedSleeps) => {
    const time = fakeTime();
    const sink = recordingSink();
    const summary = await runReplay({ file, separator: ',', plan, speed: parseSpeed(speed) }, { readings: sink, logger: silent, clock: time.clock, sleep: time.sleep });
    expect(time.sleeps).toEqual(expectedSleeps);
    // Event times are the file's own, whatever the pace.
    expect(sink.added.map((r) => r.timestamp - Date.UTC(2024, 4, 1, 10))).toEqual([0, 1000, 4000, 3000, 5000]);
    expect(summary).toMatchObject({ rows: 5, produced: 5, stoppedEarly: false });
  });

  test('an abort during a wait stops the replay there and still flushes what was read', async () => {
    const abort = new AbortController();
    const time = fakeTime((sleeps) => sleeps.length === 2 && abort.abort());
    const sink = recordingSink();
    const summary = await runReplay({ file, separator: ',', plan, speed: parseSpeed('realtime') }, { readings: sink, logger: silent, clock: time.clock, sleep: time.sleep, signal: abort.signal });
    expect(summary).toMatchObject({ rows: 2, produced: 2, refused: 0, stoppedEarly: true });
    expect(sink.added.map((r) => r.current)).toEqual([1, 2]);
    expect(sink.flushed).toBe(1);
  });
});
