import type { Logger } from '../../logger';
import type { Registry } from '../../metrics';
import type { KafkaConnection } from '../client';
import type { Compression } from '../compression';
import type { TopicBatch } from '../producer';

/**
 * The stage runner's vocabulary: what a stage is given (records, batches, its task's context),
 * what it provides (the callbacks), how a runner is configured, and the two ports a committer
 * writes through. Types only, so that the task queue, the committers and the test driver share
 * them without touching kafkajs.
 */

export interface IncomingRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  offset: string;
  timestampMs: number;
}

export interface BatchInfo {
  /** Offset after the partition's last record when the batch was fetched: equal to `nextOffset` when caught up. */
  highWatermark: string;
  /** Offset after the batch's last record. */
  nextOffset: string;
}

export interface TaskContext {
  /** Keeps group membership alive during long work (a restore). */
  heartbeat(): Promise<void>;
}

/** How a stage's outputs and its consumed offsets reach Kafka. */
export type Delivery = 'exactly-once' | 'at-least-once';

/** What a stage does with its partitions: Kafka Streams' `init/process/close`, and its punctuations. */
export interface StageCallbacks {
  /** The outputs of one partition's batch; with exactly-once, they commit in one transaction with its offsets. */
  process(partition: number, records: IncomingRecord[], batch: BatchInfo): Promise<TopicBatch[]> | TopicBatch[];
  /** A partition's task opens: restore its state. Runs after its producer fenced any previous owner. */
  open?(partition: number, context: TaskContext): Promise<void>;
  /** A partition's task closes (revoked, stopped, or a failed commit): drop its state. */
  close?(partition: number): void;
  /**
   * Wall-clock work (Kafka Streams' WALL_CLOCK_TIME punctuation): every `intervalMs`, each open
   * task may emit records, committed on their own (no offsets move).
   */
  punctuate?: { intervalMs: number; run(partition: number): TopicBatch[] };
  /**
   * Stream-time work (Kafka Streams' STREAM_TIME punctuation): after a batch moves a partition's
   * stream time (its highest record timestamp) past the next multiple of `intervalMs`, the
   * outputs of `run` join that batch's commit.
   */
  punctuateStreamTime?: { intervalMs: number; run(partition: number, streamTimeMs: number): TopicBatch[] };
  /** The consumer gave up (an error neither kafkajs retries nor a Kafka outage explains): the runner is dead. */
  onFatal?(error: Error): void;
}

export interface StageOptions extends StageCallbacks {
  connection: KafkaConnection;
  groupId: string;
  inputTopic: string;
  /** Exactly-once: one transactional producer per input partition, with the id `<prefix>-<topic>-<partition>`. */
  transactionalIdPrefix: string;
  /**
   * exactly-once (the default): each batch's outputs and offsets in one transaction.
   * at-least-once: outputs sent by one idempotent producer, offsets committed once the batch's
   * work is done and sent; a crash may repeat a batch (the sinks, whose writes are idempotent).
   */
  delivery?: Delivery;
  logger: Logger;
  /** Transactions and lag are counted here when given. */
  metrics?: { registry: Registry; stage: string };
  compression?: Compression;
  /** A transaction left open by a crashed instance is aborted by the broker after this long at most. */
  transactionTimeoutMs?: number;
  /** Upper bound of one partition's fetch, and so of one transaction's input. */
  maxBytesPerPartition?: number;
  /** A member that stops heartbeating (killed) loses its partitions after this long. */
  sessionTimeoutMs?: number;
  /**
   * Partitions whose batches are processed at once (default 1). Each partition is still one task
   * in order with its own transaction; more than one lets a partition compute while another's
   * transaction commits.
   */
  partitionsConcurrently?: number;
}

export interface StageRunner {
  stop(): Promise<void>;
  /** Commits so far (transactions, or offset commits at least once). */
  readonly commits: number;
  /** Partitions currently open (restored and processing). */
  openPartitions(): number[];
}

/** Time as the runner sees it: durations and timers, replaced by a mock clock in tests. */
export interface RunnerClock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Runs `work` once after `delayMs`, without keeping the process alive; the result cancels it. */
  setTimeout(work: () => void, delayMs: number): () => void;
}

/** An input partition's position: the offset of the next record to read. */
export interface OffsetPosition {
  partition: number;
  offset: string;
}

/** One open Kafka transaction, as a committer drives it. */
export interface KafkaTransaction {
  send(outputs: TopicBatch[]): Promise<void>;
  /** Adds the input offsets to the transaction (the group's commit, made visible by the transaction's). */
  sendOffsets(position: OffsetPosition): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** A producer with a transactional id: connecting fences any previous producer of that id. */
export interface TransactionalProducerPort {
  connect(): Promise<void>;
  begin(): Promise<KafkaTransaction>;
  disconnect(): Promise<void>;
}

/** What the at-least-once committer writes through: an idempotent producer and the group's offsets. */
export interface AtLeastOncePort {
  connect(): Promise<void>;
  send(outputs: TopicBatch[]): Promise<void>;
  commitOffsets(position: OffsetPosition): Promise<void>;
  disconnect(): Promise<void>;
}
