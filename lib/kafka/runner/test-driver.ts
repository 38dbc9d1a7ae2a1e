import { createLogger } from '../../logger';
import type { OutgoingRecord, TopicBatch } from '../producer';
import { atLeastOnceCommitter, transactionalCommitter, type Committer } from './committers';
import { TaskQueue } from './task-queue';
import type { AtLeastOncePort, Delivery, IncomingRecord, OffsetPosition, RunnerClock, StageCallbacks, TransactionalProducerPort } from './types';

/**
 * A stage under test with no broker, in the spirit of Kafka Streams' TopologyTestDriver: the
 * real task queue and committers over a fake Kafka and a mock clock. A test pipes records into
 * input partitions, polls batches, assigns and revokes partitions, makes a producer or commit
 * fail once, hands a partition to another member (fencing), moves the clock, and reads what the
 * stage saw, what was committed downstream and which offsets the group holds.
 */

/** Time that moves only when a test says so. */
export class MockClock implements RunnerClock {
  private nowMs = 0;
  private sequence = 0;
  private readonly timers = new Map<number, { atMs: number; work: () => void }>();

  now(): number {
    return this.nowMs;
  }

  setTimeout(work: () => void, delayMs: number): () => void {
    const id = this.sequence++;
    this.timers.set(id, { atMs: this.nowMs + delayMs, work });
    return () => this.timers.delete(id);
  }

  /** Moves time on by `ms`, running the timers that fall due in time order (and those they set, if due). */
  advance(ms: number): void {
    const untilMs = this.nowMs + ms;
    for (;;) {
      const due = [...this.timers].filter(([, t]) => t.atMs <= untilMs).sort(([a, x], [b, y]) => x.atMs - y.atMs || a - b)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.nowMs = due[1].atMs;
      due[1].work();
    }
    this.nowMs = untilMs;
  }
}

/** A step of the fake Kafka that a test can make fail once. */
export type FailingStep = 'connect' | 'send' | 'sendOffsets' | 'commit' | 'commitOffsets';

/** Kafka as the committers see it: topics as read_committed consumers see them, the group's offsets, and fencing by transactional id. */
export class FakeKafka {
  /** Committed records by topic, in commit order. */
  readonly topics = new Map<string, OutgoingRecord[]>();
  /** The group's committed offset per input partition. */
  readonly offsets = new Map<number, string>();
  /** Every call a committer made, in order (`commit 0`, `abort 0`, `commitOffsets 0@2`...). */
  readonly calls: string[] = [];
  private readonly epochs = new Map<number, number>();
  private readonly failures: FailingStep[] = [];

  /** The next `step` fails (once per call of this method). */
  failNext(step: FailingStep): void {
    this.failures.push(step);
  }

  /** Another member takes the partition over: its producer initialises the id, which fences ours. */
  fence(partition: number): void {
    this.epochs.set(partition, (this.epochs.get(partition) ?? 0) + 1);
  }

  /** The values committed to `topic`, as text. */
  values(topic: string): string[] {
    return (this.topics.get(topic) ?? []).map((r) => r.value?.toString() ?? '');
  }

  transactional(partition: number): TransactionalProducerPort {
    let epoch: number | undefined;
    const live = (what: string) => {
      if (this.epochs.get(partition) !== epoch) throw new Error(`${what}: the producer of partition ${partition} was fenced`);
    };
    return {
      connect: async () => {
        this.call('connect', `connect ${partition}`);
        this.fence(partition);
        epoch = this.epochs.get(partition);
      },
      begin: async () => {
        live('begin');
        const pending: TopicBatch[] = [];
        let position: OffsetPosition | undefined;
        return {
          send: async (outputs) => {
            live('send');
            this.call('send', `send ${partition}`);
            pending.push(...outputs);
          },
          sendOffsets: async (offsets) => {
            live('sendOffsets');
            this.call('sendOffsets', `sendOffsets ${offsets.partition}@${offsets.offset}`);
            position = offsets;
          },
          commit: async () => {
            live('commit');
            this.call('commit', `commit ${partition}`);
            this.apply(pending, position);
          },
          abort: async () => void this.calls.push(`abort ${partition}`),
        };
      },
      disconnect: async () => void this.calls.push(`disconnect ${partition}`),
    };
  }

  atLeastOnce(): AtLeastOncePort {
    return {
      connect: async () => this.call('connect', 'connect'),
      send: async (outputs) => {
        this.call('send', 'send');
        this.apply(outputs);
      },
      commitOffsets: async (position) => {
        this.call('commitOffsets', `commitOffsets ${position.partition}@${position.offset}`);
        this.apply([], position);
      },
      disconnect: async () => void this.calls.push('disconnect'),
    };
  }

  private call(step: FailingStep, what: string): void {
    this.calls.push(what);
    const failing = this.failures.indexOf(step);
    if (failing < 0) return;
    this.failures.splice(failing, 1);
    throw new Error(`${what} failed (injected)`);
  }

  private apply(outputs: TopicBatch[], position?: OffsetPosition): void {
    for (const { topic, records } of outputs) this.topics.set(topic, [...(this.topics.get(topic) ?? []), ...records]);
    if (position) this.offsets.set(position.partition, position.offset);
  }
}

/** A record to pipe in: text key and value, and its timestamp. */
export interface TestRecord {
  key?: string;
  value: string;
  timestampMs: number;
}

export interface StageTestDriverOptions {
  delivery?: Delivery;
  /** Most records in one batch (default: every record waiting). */
  maxBatchRecords?: number;
  /** The fake Kafka, when the stage reads it too (a restore); else a new one. */
  kafka?: FakeKafka;
}

export class StageTestDriver {
  readonly clock = new MockClock();
  readonly kafka: FakeKafka;
  /** What the stage was asked to do, in order: `open 0`, `process 0 [0-2]`, `punctuate 0`, `close 0`. */
  readonly seen: string[] = [];
  /** Errors that reached the stage's `onFatal`. */
  readonly fatal: Error[] = [];
  /** Times the consumer was asked to rejoin its group after a crash. */
  rejoins = 0;
  readonly tasks: TaskQueue;
  private readonly committer: Committer;
  private readonly input = new Map<number, IncomingRecord[]>();
  /** Where the consumer's next fetch of each partition starts. */
  private readonly position = new Map<number, number>();

  constructor(
    stage: StageCallbacks,
    private readonly options: StageTestDriverOptions = {},
  ) {
    this.kafka = options.kafka ?? new FakeKafka();
    this.committer =
      options.delivery === 'at-least-once'
        ? atLeastOnceCommitter(this.kafka.atLeastOnce())
        : transactionalCommitter({ producerFor: (p) => this.kafka.transactional(p), clock: this.clock });
    this.tasks = new TaskQueue({ stage: this.recorded(stage), committer: this.committer, clock: this.clock, logger: createLogger({ level: 'silent' }) });
  }

  /** Appends records to an input partition, at the next offsets. */
  pipe(partition: number, records: TestRecord[]): void {
    const log = this.input.get(partition) ?? [];
    for (const r of records) {
      const key = r.key === undefined ? null : Buffer.from(r.key);
      log.push({ key, value: Buffer.from(r.value), headers: {}, offset: String(log.length), timestampMs: r.timestampMs });
    }
    this.input.set(partition, log);
  }

  /** The group assigns these partitions to this member (and no others); `rejoined`: under a new member id, after generations without it. */
  async assign(partitions: number[], rejoined = false): Promise<void> {
    // A new member's consumer starts every partition at its committed offset.
    if (rejoined) this.position.clear();
    this.tasks.assign(partitions, rejoined);
    await settle();
  }

  /**
   * The consumer fetches the partition's next batch and hands it over: resolves with the error
   * the batch failed with, if it did, after the consumer has gone back to the committed offset.
   */
  async poll(partition: number): Promise<Error | undefined> {
    const log = this.input.get(partition) ?? [];
    const from = this.position.get(partition) ?? Number(this.kafka.offsets.get(partition) ?? 0);
    const records = log.slice(from, from + (this.options.maxBatchRecords ?? log.length));
    if (records.length === 0) return undefined;
    const nextOffset = from + records.length;
    this.position.set(partition, nextOffset);
    try {
      await this.tasks.processBatch(partition, records, { highWatermark: String(log.length), nextOffset: String(nextOffset) }, async () => undefined);
      return undefined;
    } catch (err) {
      this.position.delete(partition);
      return err as Error;
    } finally {
      await settle();
    }
  }

  /** Moves the mock clock on, and lets the work it started finish. */
  async advance(ms: number): Promise<void> {
    this.clock.advance(ms);
    await settle();
  }

  /** The consumer crashes; `restart`: kafkajs restarts it by itself. */
  async crash(error: Error, restart = false): Promise<void> {
    this.tasks.consumerCrashed(error, restart, async () => void this.rejoins++);
    await settle();
  }

  /** The values committed to `topic`. */
  output(topic: string): string[] {
    return this.kafka.values(topic);
  }

  /** The group's committed offset of an input partition. */
  committedOffset(partition: number): string | undefined {
    return this.kafka.offsets.get(partition);
  }

  async stop(): Promise<void> {
    this.tasks.halt();
    await this.tasks.closeAll();
    await this.committer.close();
  }

  private recorded(stage: StageCallbacks): StageCallbacks {
    const { punctuate, punctuateStreamTime } = stage;
    return {
      ...stage,
      open: async (partition, context) => {
        this.seen.push(`open ${partition}`);
        await stage.open?.(partition, context);
      },
      process: (partition, records, batch) => {
        this.seen.push(`process ${partition} [${records[0]!.offset}-${records[records.length - 1]!.offset}]`);
        return stage.process(partition, records, batch);
      },
      close: (partition) => {
        this.seen.push(`close ${partition}`);
        stage.close?.(partition);
      },
      punctuate: punctuate && {
        intervalMs: punctuate.intervalMs,
        run: (partition) => {
          this.seen.push(`punctuate ${partition}`);
          return punctuate.run(partition);
        },
      },
      punctuateStreamTime: punctuateStreamTime && {
        intervalMs: punctuateStreamTime.intervalMs,
        run: (partition, streamTimeMs) => {
          this.seen.push(`punctuate ${partition} at ${streamTimeMs}`);
          return punctuateStreamTime.run(partition, streamTimeMs);
        },
      },
      onFatal: (error) => {
        this.fatal.push(error);
        stage.onFatal?.(error);
      },
    };
  }
}

/** Lets queued promise work run to its end (the fakes never wait on real I/O). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}
