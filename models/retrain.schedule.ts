/**
 * When the retraining job runs. The slots are the grid `startMs + k·everyMs` (k ≥ 1): the first
 * run comes one interval after the start, never at it (a restart loop must not retrain in a
 * loop). A slot missed because a run took longer than the interval (or the host slept) is skipped,
 * not caught up: a slow run is followed by one run at the next slot, not by a burst.
 */
export function nextRunAt(lastRunMs: number, everyMs: number, nowMs: number): number {
  const k = Math.max(1, Math.ceil((nowMs - lastRunMs) / everyMs));
  return lastRunMs + k * everyMs;
}

/** setTimeout and clearTimeout, or a test's fake ones. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** setTimeout's longest delay (2^31 - 1 ms, about 24.8 days): longer waits are re-armed on waking. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface SchedulerOptions {
  everyMs: number;
  clock: () => number;
  /** One run, given its slot; it reports its own failures (a rejection is passed to onError). */
  run: (slotMs: number) => Promise<void>;
  onError?: (error: unknown) => void;
  timers?: Timers;
}

/**
 * Runs `run` on the slots of `nextRunAt`, one at a time: the next slot is chosen only once a run
 * has finished. The clock decides whether a slot is due; a timer that fires early is re-armed.
 */
export class RetrainScheduler {
  private readonly timers: Timers;
  private handle: unknown = undefined;
  private dueMs: number | null = null;
  private inFlight: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly options: SchedulerOptions) {
    this.timers = options.timers ?? realTimers;
  }

  /** The first slot is one interval from now. */
  start(): void {
    this.stopped = false;
    this.arm(nextRunAt(this.options.clock(), this.options.everyMs, this.options.clock()));
  }

  /** The slot the scheduler waits for; null while a run is in flight or once stopped. */
  get nextRunMs(): number | null {
    return this.dueMs;
  }

  get running(): boolean {
    return this.inFlight !== null;
  }

  /** No further runs; resolves when the run in flight (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.dueMs = null;
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
    await this.inFlight;
  }

  private arm(dueMs: number): void {
    if (this.stopped) return;
    this.dueMs = dueMs;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, dueMs - this.options.clock()));
    this.handle = this.timers.setTimeout(() => this.wake(), delay);
  }

  private wake(): void {
    this.handle = undefined;
    const dueMs = this.dueMs;
    if (this.stopped || dueMs === null || this.inFlight) return;
    if (this.options.clock() < dueMs) {
      this.arm(dueMs);
      return;
    }
    this.dueMs = null;
    this.inFlight = this.options
      .run(dueMs)
      .catch((err: unknown) => this.options.onError?.(err))
      .finally(() => {
        this.inFlight = null;
        this.arm(nextRunAt(dueMs, this.options.everyMs, this.options.clock()));
      });
  }
}
