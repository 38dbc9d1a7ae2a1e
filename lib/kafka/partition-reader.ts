import type { Kafka } from 'kafkajs';
import { PdmError } from '../errors';
import { createKafka, kafkaClientName, type KafkaConnection } from './client';
import { openConfluentPartitionReader } from './confluent/partition-reader';
import { incomingRecord, type IncomingRecord } from './runner';

/**
 * Reads one partition from its start to its last stable offset, read_committed, outside any
 * consumer group: how a processor restores a co-partitioned changelog, as Kafka Streams' restore
 * consumer does with `assign()`.
 *
 * kafkajs has no `assign()`: its consumers exist only in groups. So this reader talks to the
 * partition leader through kafkajs's cluster and broker objects (Fetch with READ_COMMITTED) and
 * filters aborted transactions and control records with kafkajs's own `Batch`, the code its
 * consumer uses. Those are internals of kafkajs 2.2.4, pinned in package.json and covered by
 * test/integration/partition-reader.itest.ts, which fails if an upgrade moves them.
 */

const READ_COMMITTED = 1;
const CREATE_CLUSTER = 'private:Kafka:createCluster';

interface KafkajsMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  isControlRecord?: boolean;
}

interface KafkajsBatch {
  messages: KafkajsMessage[];
  messagesWithinOffset: KafkajsMessage[];
}

interface KafkajsBroker {
  fetch(request: {
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }>;
  }): Promise<{ responses: Array<{ topicName: string; partitions: Array<{ partition: number; errorCode: number; highWatermark: string; lastStableOffset: string; messages: KafkajsMessage[]; abortedTransactions: unknown[] }> }> }>;
}

interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(options: { nodeId: string }): Promise<KafkajsBroker>;
  fetchTopicsOffset(topics: Array<{ topic: string; partitions: Array<{ partition: number }>; fromBeginning: boolean }>): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
}

const Batch = require('kafkajs/src/consumer/batch') as new (topic: string, fetchedOffset: string, partitionData: unknown) => KafkajsBatch;

function clusterOf(kafka: Kafka): KafkajsCluster {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === CREATE_CLUSTER);
  if (!symbol) throw new PdmError('KAFKA_INTERNALS', 'this kafkajs version has no cluster factory where 2.2.4 had it: the partition reader needs updating');
  const create = (kafka as unknown as Record<symbol, (options: { isolationLevel: number; allowAutoTopicCreation: boolean }) => KafkajsCluster>)[symbol]!;
  return create({ isolationLevel: READ_COMMITTED, allowAutoTopicCreation: false });
}

export interface PartitionReadResult {
  /** Records read (committed data only). */
  records: number;
  /** The offset reading stopped at: the partition's last stable offset when it began. */
  endOffset: string;
  fetches: number;
  /** Offsets passed one by one because the broker had nothing at them (the empty batch compaction leaves of an aborted transaction). */
  skipped: number;
}

/** One fetch at an offset: the offset of the last record (data or control) it returned at or after that offset, none if nothing; and its data records below the end. */
export interface FetchedRange {
  lastOffset: bigint | undefined;
  records: IncomingRecord[];
}

/**
 * Reads from `from` to `end`, fetch after fetch, each at the offset after the last record the
 * previous one returned.
 *
 * A fetch can return nothing at an offset below the end: compaction removes the records of an
 * aborted transaction but keeps their batch's header (the producer's state), and kafkajs decodes
 * such an empty batch as no records at all; the broker serves one segment per fetch, so the same
 * empty batch comes back for every offset it spans (a restore then stalled there for good: the
 * window changelog, an aborted transaction at 66 to 100, the abort marker at 101). Nothing at an
 * offset, asked twice, means there is no record at that offset: it is passed, one offset at a
 * time (a longer jump could pass a record), until a fetch returns records again.
 */
export async function readRange(fetch: (offset: bigint) => Promise<FetchedRange>, from: bigint, end: bigint, onRecords: (records: IncomingRecord[]) => void | Promise<void>): Promise<Omit<PartitionReadResult, 'endOffset'>> {
  let next = from;
  let fetches = 0;
  let records = 0;
  let skipped = 0;
  let inEmptyBatch = false;
  let askedOnce = false;
  while (next < end) {
    const got = await fetch(next);
    fetches++;
    if (got.lastOffset === undefined || got.lastOffset < next) {
      // Asked twice (or already inside an empty batch): nothing at `next`.
      if (inEmptyBatch || askedOnce) {
        next++;
        skipped++;
        inEmptyBatch = true;
        askedOnce = false;
      } else askedOnce = true;
      continue;
    }
    inEmptyBatch = false;
    askedOnce = false;
    next = got.lastOffset + 1n;
    records += got.records.length;
    if (got.records.length > 0) await onRecords(got.records);
  }
  return { records, fetches, skipped };
}

export interface PartitionReader {
  /**
   * Reads `topic`/`partition` from its first offset (or `fromOffset`, when it is later: a reader
   * that follows a topic resumes where it stopped) up to its last stable offset at the time of the
   * call, handing records over in fetch-sized chunks.
   */
  read(topic: string, partition: number, onRecords: (records: IncomingRecord[]) => void | Promise<void>, options?: { fromOffset?: bigint }): Promise<PartitionReadResult>;
  /** The partition's last stable offset now (its end, for a topic without transactions). */
  endOffset(topic: string, partition: number): Promise<bigint>;
  close(): Promise<void>;
}

/** The partition's first offset (`fromBeginning`) or its last stable one (READ_COMMITTED's "latest"). */
async function offsetOf(cluster: KafkajsCluster, topic: string, partition: number, fromBeginning: boolean): Promise<bigint> {
  const [result] = await cluster.fetchTopicsOffset([{ topic, partitions: [{ partition }], fromBeginning }]);
  const found = result?.partitions.find((p) => p.partition === partition);
  if (!found) throw new PdmError('KAFKA_PARTITION_UNKNOWN', `${topic} has no partition ${partition}`);
  return BigInt(found.offset);
}

/** One Fetch (READ_COMMITTED) from the partition's leader at `offset`, as kafkajs's `Batch`. */
async function fetchBatch(cluster: KafkajsCluster, topic: string, partition: number, offset: bigint, maxBytes: number): Promise<KafkajsBatch> {
  const leader = Object.entries(cluster.findLeaderForPartitions(topic, [partition]))[0];
  if (!leader) throw new PdmError('KAFKA_PARTITION_UNKNOWN', `no leader for ${topic}/${partition}`);
  const broker = await cluster.findBroker({ nodeId: leader[0] });
  const response = await broker.fetch({
    isolationLevel: READ_COMMITTED,
    maxWaitTime: 100,
    minBytes: 1,
    maxBytes,
    topics: [{ topic, partitions: [{ partition, fetchOffset: offset.toString(), maxBytes }] }],
  });
  const data = response.responses[0]?.partitions.find((p) => p.partition === partition);
  if (!data) throw new PdmError('KAFKA_FETCH', `fetching ${topic}/${partition} at ${offset} returned no data for the partition`);
  return new Batch(topic, offset.toString(), data);
}

/** The batch's records below `end` (the last stable offset the read stops at). */
function recordsBelow(batch: KafkajsBatch, end: bigint): IncomingRecord[] {
  const chunk: IncomingRecord[] = [];
  for (const m of batch.messages) {
    if (BigInt(m.offset) >= end) break;
    chunk.push(incomingRecord(m));
  }
  return chunk;
}

export async function openPartitionReader(connection: KafkaConnection, options: { maxBytes?: number } = {}): Promise<PartitionReader> {
  if (kafkaClientName() === 'confluent') return openConfluentPartitionReader(connection, options);
  const kafka = createKafka(connection);
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  const open = new Set<KafkajsCluster>();

  // A cluster object of its own for every call: kafkajs's broker pool is not safe for concurrent
  // use (two partitions restoring at once can each open a connection to one broker and orphan
  // one of them, which then keeps the process alive).
  const withCluster = async <T>(work: (cluster: KafkajsCluster) => Promise<T>): Promise<T> => {
    const cluster = clusterOf(kafka);
    open.add(cluster);
    try {
      await cluster.connect();
      return await work(cluster);
    } finally {
      open.delete(cluster);
      await cluster.disconnect().catch(() => undefined);
    }
  };

  return {
    read: (topic, partition, onRecords, readOptions = {}) =>
      withCluster(async (cluster) => {
        await cluster.addTargetTopic(topic);
        // With READ_COMMITTED, the "latest" offset ListOffsets returns is the last stable offset.
        const end = await offsetOf(cluster, topic, partition, false);
        const first = await offsetOf(cluster, topic, partition, true);
        const from = readOptions.fromOffset !== undefined && readOptions.fromOffset > first ? readOptions.fromOffset : first;
        const fetch = async (offset: bigint): Promise<FetchedRange> => {
          const batch = await fetchBatch(cluster, topic, partition, offset, maxBytes);
          const within = batch.messagesWithinOffset;
          return { lastOffset: within.length === 0 ? undefined : BigInt(within[within.length - 1]!.offset), records: recordsBelow(batch, end) };
        };
        return { ...(await readRange(fetch, from, end, onRecords)), endOffset: end.toString() };
      }),
    endOffset: (topic, partition) =>
      withCluster(async (cluster) => {
        await cluster.addTargetTopic(topic);
        return offsetOf(cluster, topic, partition, false);
      }),
    async close() {
      await Promise.all([...open].map((cluster) => cluster.disconnect().catch(() => undefined)));
    },
  };
}
