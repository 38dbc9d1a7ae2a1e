import { backoffDelayMs } from '../../backoff';
import type { Logger } from '../../logger';
import { isTransientKafkaError } from '../errors';
import type { TopicBatch } from '../producer';
import type { Committer, TaskCommitter } from './committers';
import type { BatchInfo, IncomingRecord, RunnerClock, StageCallbacks } from './types';

/**
 * The tasks of one group member, without kafkajs: group.ts feeds it assignments, batches and
 * consumer failures; the test driver feeds it the same with a mock clock.
 *
 * Each owned partition is a task (Kafka Streams' word): its committer, and whatever state the
 * stage keeps for it. A task opens when its partition is assigned (or its first batch arrives),
 * after its committer fenced any previous owner, so the stage's `open` (a state restore) sees
 * everything that owner committed and nothing it did not. A task closes when the partition is
 * revoked or one of its commits fails: the stage drops its state, and the task opens afresh from
 * what Kafka holds. Batches, punctuations and the close of one task run one at a time, in order.
 */

/** One partition's task: its queue of work, run one item after another. */
class Task {
  /** The tail of this task's work. */
  private tail: Promise<unknown>;
  closed = false;
  /** The highest record timestamp this task has committed (stream time), once it has seen one. */
  streamTimeMs: number | undefined;

  /** `ready` resolves once the committer has fenced the previous owner and the stage's `open` has run. */
  constructor(
    readonly partition: number,
    readonly ready: Promise<TaskCommitter>,
  ) {
    this.tail = ready.catch(() => undefined);
  }

  /** Runs `work` after everything queued on the task so far. */
  enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

export interface TaskQueueOptions {
  stage: StageCallbacks;
  committer: Committer;
  clock: RunnerClock;
  logger: Logger;
  /** A partition went to another member, or the runner stopped: its lag is no longer ours to report. */
  onReleased?(partition: number): void;
}

export class TaskQueue {
  private readonly tasks = new Map<number, Task>();
  /** A partition's task being closed: its next task opens after it (the stage's close must not undo the new task's restore). */
  private readonly closing = new Map<number, Promise<void>>();
  /** The partitions of the group's last assignment to this member (none while it is out of the group). */
  private assigned = new Set<number>();
  private readonly timers = new Set<() => void>();
  private stopping = false;
  private rejoins = 0;
  private punctuating = false;

  constructor(private readonly options: TaskQueueOptions) {
    const { punctuate } = options.stage;
    if (punctuate) {
      const tick = () => {
        this.later(punctuate.intervalMs, tick);
        void this.punctuate();
      };
      this.later(punctuate.intervalMs, tick);
    }
  }

  get commits(): number {
    return this.options.committer.commits;
  }

  has(partition: number): boolean {
    return this.tasks.has(partition);
  }

  /** Partitions currently open (restored and processing). */
  openPartitions(): number[] {
    return [...this.tasks.keys()].sort((a, b) => a - b);
  }

  /**
   * The group's new assignment to this member. A partition given away closes its task: if it
   * comes back, its committer fences again (the member that had it meanwhile fenced the old one)
   * and the state is restored anew. Assigned partitions open now, as Kafka Streams does, not at
   * their first batch: a partition with nothing new to read still has open windows to close.
   *
   * `rejoined`: this member had been dropped from the group (it joined again under a new member
   * id), so generations went by without it, its partitions may have been another member's
   * meanwhile, and none of its tasks can be trusted: every one closes and what is assigned now
   * opens anew (fence, restore). Keeping them lost readings: a window instance busy past its
   * session kept partition 2 across a generation in which another instance processed it, and its
   * stale state then overwrote the other's (the chaos suite with 3 instances, seed 226173).
   */
  assign(partitions: Iterable<number>, rejoined = false): void {
    this.rejoins = 0;
    this.assigned = new Set(partitions);
    this.options.logger.info({ partitions: [...this.assigned].sort((a, b) => a - b), ...(rejoined ? { rejoined } : {}) }, 'partitions assigned');
    for (const task of [...this.tasks.values()]) if (rejoined || !this.assigned.has(task.partition)) void this.close(task, rejoined ? 'rejoined' : 'revoked');
    for (const partition of this.assigned) this.openAhead(partition);
  }

  /** One batch of a partition, processed after the task's earlier work and committed with its offsets; throws if it was not. */
  async processBatch(partition: number, records: IncomingRecord[], batch: BatchInfo, heartbeat: () => Promise<void>): Promise<void> {
    // A batch fetched after the runner halted comes from a consumer the client started again
    // behind its back (kafkajs restarts a crashed consumer on a timer the disconnect can miss):
    // the stage's resources are being released, so the batch is left to the partition's next owner.
    if (this.stopping) throw new Error(`partition ${partition}: the runner is stopping, its batch is left to the next owner`);
    const task = this.tasks.get(partition) ?? this.open(partition, heartbeat);
    try {
      await task.enqueue(async () => {
        if (task.closed) throw new Error(`partition ${partition} was revoked while its batch waited`);
        const committer = await task.ready;
        const outputs = await this.options.stage.process(partition, records, batch);
        const streamTimeMs = records.reduce((highest, r) => Math.max(highest, r.timestampMs), task.streamTimeMs ?? -Infinity);
        const punctuated = this.streamTimePunctuation(partition, task.streamTimeMs, streamTimeMs);
        await committer.commit(punctuated.length > 0 ? [...outputs, ...punctuated] : outputs, { partition, offset: batch.nextOffset });
        task.streamTimeMs = streamTimeMs;
      });
    } catch (err) {
      // The stage's state may hold this batch while Kafka does not: start the partition over.
      await this.close(task, 'transaction failed');
      throw err;
    }
  }

  /** The outputs of a stream-time punctuation, when the batch moved stream time past its next multiple of the interval. */
  private streamTimePunctuation(partition: number, beforeMs: number | undefined, afterMs: number): TopicBatch[] {
    const punctuate = this.options.stage.punctuateStreamTime;
    if (!punctuate || beforeMs === undefined || Math.floor(afterMs / punctuate.intervalMs) <= Math.floor(beforeMs / punctuate.intervalMs)) return [];
    return punctuate.run(partition, afterMs);
  }

  /** One wall-clock punctuation of every open task; a tick that comes while the last one runs is skipped. */
  async punctuate(): Promise<void> {
    const run = this.options.stage.punctuate?.run;
    if (!run || this.punctuating || this.stopping) return;
    this.punctuating = true;
    const due = [...this.tasks.values()].map((task) =>
      task
        .enqueue(async () => {
          if (task.closed) return;
          const committer = await task.ready;
          const outputs = run(task.partition);
          if (outputs.every((b) => b.records.length === 0)) return;
          await committer.commit(outputs);
        })
        .catch((err: unknown) => {
          this.options.logger.warn({ partition: task.partition, err }, 'punctuation failed; the partition task is reopened from Kafka');
          void this.close(task, 'punctuation failed').then(() => this.openAhead(task.partition));
        }),
    );
    await Promise.all(due).finally(() => {
      this.punctuating = false;
    });
  }

  /**
   * The consumer crashed. kafkajs has left the group by now, and another member may own these
   * partitions before this one is back: every task closes, and the rejoin opens (restores)
   * whatever it is given. kafkajs restarts the consumer itself after most failures; it gives up
   * for good on a broker away longer than its few retries, and on a group coordinator it cannot
   * find yet: both are what a broker restart looks like, so `rejoin` runs when it is back.
   * Anything else is fatal.
   */
  consumerCrashed(error: Error, restartedByKafkajs: boolean, rejoin: () => Promise<void>): void {
    if (this.stopping) return;
    const { logger } = this.options;
    this.assigned = new Set();
    for (const task of [...this.tasks.values()]) void this.close(task, 'consumer restart');
    if (restartedByKafkajs) {
      logger.warn({ err: error }, 'consumer failed; kafkajs restarts it');
      return;
    }
    if (isTransientKafkaError(error)) {
      const delayMs = backoffDelayMs(++this.rejoins, 1000, 10_000);
      logger.warn({ err: error, delayMs, attempt: this.rejoins }, 'Kafka does not answer; the consumer rejoins its group when it does');
      // A failed join crashes the consumer again (another call here, another try); rejoin itself rarely throws.
      this.later(delayMs, () => void rejoin().catch((err: unknown) => this.fatal(err as Error)));
      return;
    }
    this.fatal(error);
  }

  /** The runner is stopping: the client must not start its consumer again after a crash. */
  get halted(): boolean {
    return this.stopping;
  }

  /** No more batches, punctuations, retries or rejoins: the runner is stopping (its consumer is leaving the group). */
  halt(): void {
    this.stopping = true;
    for (const cancel of this.timers) cancel();
    this.timers.clear();
  }

  /** Closes every task, after its queued work. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.tasks.values()].map((task) => this.close(task, 'stopped')));
  }

  private fatal(error: Error): void {
    this.options.logger.error({ err: error }, 'consumer failed for good');
    this.options.stage.onFatal?.(error);
  }

  private later(delayMs: number, work: () => void): void {
    const cancel = this.options.clock.setTimeout(() => {
      this.timers.delete(cancel);
      if (!this.stopping) work();
    }, delayMs);
    this.timers.add(cancel);
  }

  private open(partition: number, heartbeat: () => Promise<void>): Task {
    const { stage, committer, clock, logger } = this.options;
    const previous = this.closing.get(partition);
    const ready = (async () => {
      await previous;
      const startedMs = clock.now();
      const taskCommitter = await committer.openTask(partition);
      await stage.open?.(partition, { heartbeat });
      logger.debug({ partition, ms: clock.now() - startedMs }, 'partition task opened');
      return taskCommitter;
    })();
    const task = new Task(partition, ready);
    this.tasks.set(partition, task);
    return task;
  }

  /** Opens an assigned partition's task; a failed open (the broker restarting) tries again for as long as the partition stays ours. */
  private openAhead(partition: number, attempt = 1): void {
    if (this.tasks.has(partition) || this.stopping || !this.assigned.has(partition)) return;
    const task = this.open(partition, async () => undefined);
    task.ready.catch((err: unknown) => {
      const delayMs = backoffDelayMs(attempt, 500, 10_000);
      this.options.logger.warn({ partition, err, delayMs }, 'opening the partition failed; trying again');
      void this.close(task, 'open failed').then(() => this.later(delayMs, () => this.openAhead(partition, attempt + 1)));
    });
  }

  /** Closes a task after its queued work; the partition's next batch or assignment opens a new one. */
  private close(task: Task, why: string): Promise<void> {
    if (task.closed) return Promise.resolve();
    task.closed = true;
    if (this.tasks.get(task.partition) === task) this.tasks.delete(task.partition);
    // A failed task reopens and keeps reporting its lag; a partition gone to another member does not.
    if (why === 'revoked' || why === 'stopped') this.options.onReleased?.(task.partition);
    const closed = task
      .enqueue(async () => {
        this.options.stage.close?.(task.partition);
        const committer = await task.ready.catch(() => undefined);
        await committer?.close();
        this.options.logger.debug({ partition: task.partition, why }, 'partition task closed');
      })
      .finally(() => {
        if (this.closing.get(task.partition) === settled) this.closing.delete(task.partition);
      });
    const settled = closed.catch(() => undefined);
    this.closing.set(task.partition, settled);
    return closed;
  }
}
