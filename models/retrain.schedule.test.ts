import { MAX_TIMER_MS, nextRunAt, RetrainScheduler, type Timers } from './retrain.schedule';

/**
 * The retraining schedule with a mock clock: slots on the grid start + k·every, the first one
 * interval after the start, missed slots skipped, one run at a time.
 */

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);

describe('nextRunAt', () => {
  test.each([
    ['at the start: one interval later, never at once', T0, T0, T0 + HOUR],
    ['before the slot: the slot', T0, T0 + 20 * 60_000, T0 + HOUR],
    ['exactly at the slot: the slot (due now)', T0, T0 + HOUR, T0 + HOUR],
    ['a run that ended inside its interval: the next slot', T0 + HOUR, T0 + HOUR + 5 * 60_000, T0 + 2 * HOUR],
    ['a run that took 2.5 intervals: the missed slots are skipped', T0 + HOUR, T0 + 3.5 * HOUR, T0 + 4 * HOUR],
    ['a run that ended exactly on a later slot: that slot', T0 + HOUR, T0 + 3 * HOUR, T0 + 3 * HOUR],
    ['a clock that went backwards: still one interval after the last run', T0 + HOUR, T0, T0 + 2 * HOUR],
  ])('%s', (_name, lastRunMs, nowMs, expected) => {
    expect(nextRunAt(lastRunMs, HOUR, nowMs)).toBe(expected);
  });
});

/** A mock clock with timers that fire when it is advanced past them. */
function mockTime(startMs: number) {
  let now = startMs;
  let nextId = 0;
  const pending = new Map<number, { atMs: number; callback: () => void }>();
  const timers: Timers = {
    setTimeout: (callback, ms) => {
      pending.set(++nextId, { atMs: now + ms, callback });
      return nextId;
    },
    clearTimeout: (handle) => void pending.delete(handle as number),
  };
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
  return {
    timers,
    clock: () => now,
    pending: () => [...pending.values()].map((t) => t.atMs),
    /** Moves the clock to `toMs`, firing every timer due on the way (and letting promises settle after each). */
    async advanceTo(toMs: number) {
      for (;;) {
        const due = [...pending.entries()].filter(([, t]) => t.atMs <= toMs).sort((a, b) => a[1].atMs - b[1].atMs)[0];
        if (!due) break;
        pending.delete(due[0]);
        now = Math.max(now, due[1].atMs);
        due[1].callback();
        await flush();
      }
      now = toMs;
      await flush();
    },
    set(ms: number) {
      now = ms;
    },
    /** Fires the earliest timer without moving the clock (a timer that fires early). */
    async fireNext() {
      const first = [...pending.entries()].sort((a, b) => a[1].atMs - b[1].atMs)[0]!;
      pending.delete(first[0]);
      first[1].callback();
      await flush();
    },
    flush,
  };
}

function setup(runMs = 0, everyMs = HOUR) {
  const time = mockTime(T0);
  const slots: number[] = [];
  const finishing: Array<() => void> = [];
  let concurrent = 0;
  let maxConcurrent = 0;
  const scheduler = new RetrainScheduler({
    everyMs,
    clock: time.clock,
    timers: time.timers,
    run: async (slotMs) => {
      slots.push(slotMs);
      maxConcurrent = Math.max(maxConcurrent, ++concurrent);
      if (runMs > 0) {
        // The run's duration passes on the mock clock: it finishes when the test says so.
        await new Promise<void>((resolve) => finishing.push(resolve));
      }
      concurrent--;
    },
  });
  return { time, scheduler, slots, finishing, maxConcurrent: () => maxConcurrent };
}

describe('RetrainScheduler', () => {
  test('the first run comes one interval after the start, not at it', async () => {
    const { time, scheduler, slots } = setup();
    scheduler.start();
    expect(scheduler.nextRunMs).toBe(T0 + HOUR);
    await time.advanceTo(T0 + HOUR - 1);
    expect(slots).toEqual([]);
    await time.advanceTo(T0 + HOUR);
    expect(slots).toEqual([T0 + HOUR]);
    await time.advanceTo(T0 + 3 * HOUR);
    expect(slots).toEqual([T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR]);
    await scheduler.stop();
  });

  test('a run longer than the interval: no overlap, the missed slots are skipped', async () => {
    const { time, scheduler, slots, finishing, maxConcurrent } = setup(1);
    scheduler.start();
    await time.advanceTo(T0 + HOUR);
    expect(slots).toEqual([T0 + HOUR]);
    expect(scheduler.running).toBe(true);
    expect(scheduler.nextRunMs).toBeNull();
    // 2.5 intervals pass while the first run trains: nothing else starts.
    await time.advanceTo(T0 + 3.5 * HOUR);
    expect(slots).toEqual([T0 + HOUR]);
    finishing.shift()!();
    await time.flush();
    expect(scheduler.running).toBe(false);
    expect(scheduler.nextRunMs).toBe(T0 + 4 * HOUR);
    await time.advanceTo(T0 + 4 * HOUR);
    expect(slots).toEqual([T0 + HOUR, T0 + 4 * HOUR]);
    expect(maxConcurrent()).toBe(1);
    finishing.shift()!();
    await scheduler.stop();
  });

  test('a timer that fires early is re-armed: the clock decides', async () => {
    const { time, scheduler, slots } = setup();
    scheduler.start();
    time.set(T0 + HOUR - 10 * 60_000);
    await time.fireNext();
    expect(slots).toEqual([]);
    expect(scheduler.nextRunMs).toBe(T0 + HOUR);
    expect(time.pending()).toEqual([T0 + HOUR]);
    await time.advanceTo(T0 + HOUR);
    expect(slots).toEqual([T0 + HOUR]);
    await scheduler.stop();
  });

  test('an interval longer than setTimeout allows waits in steps of at most MAX_TIMER_MS', async () => {
    const every = 30 * 24 * HOUR;
    const { time, scheduler, slots } = setup(0, every);
    scheduler.start();
    expect(time.pending()).toEqual([T0 + MAX_TIMER_MS]);
    await time.advanceTo(T0 + MAX_TIMER_MS);
    expect(slots).toEqual([]);
    expect(time.pending()).toEqual([T0 + every]);
    await time.advanceTo(T0 + every);
    expect(slots).toEqual([T0 + every]);
    await scheduler.stop();
  });

  test('a failed run is reported and the schedule goes on', async () => {
    const time = mockTime(T0);
    const errors: unknown[] = [];
    let runs = 0;
    const scheduler = new RetrainScheduler({
      everyMs: HOUR,
      clock: time.clock,
      timers: time.timers,
      run: async () => {
        runs++;
        throw new Error('boom');
      },
      onError: (err) => errors.push(err),
    });
    scheduler.start();
    await time.advanceTo(T0 + 2 * HOUR);
    expect(runs).toBe(2);
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom', 'boom']);
    await scheduler.stop();
  });

  test('stop: no further runs, and it waits for the run in flight', async () => {
    const { time, scheduler, slots, finishing } = setup(1);
    scheduler.start();
    await time.advanceTo(T0 + HOUR);
    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await time.flush();
    expect(stopped).toBe(false);
    finishing.shift()!();
    await stopping;
    expect(time.pending()).toEqual([]);
    await time.advanceTo(T0 + 5 * HOUR);
    expect(slots).toEqual([T0 + HOUR]);
    expect(scheduler.nextRunMs).toBeNull();
  });
});
