import { PdmError } from '../../errors';
import type { KafkaConnection } from '../client';
import type { PartitionReader } from '../partition-reader';
import type { IncomingRecord } from '../runner/types';
import { confluentModule, createConfluentKafka, rdkafkaConnection, type RdkafkaConsumer, type RdkafkaMessage } from './client';

/**
 * openPartitionReader (partition-reader.ts) on librdkafka: a consumer with `assign()` and
 * read_committed, outside any group (it never commits), as Kafka Streams' restore consumer. The
 * client drops aborted records and transaction markers itself. The end is the last stable offset
 * from ListOffsets (read_committed); the read also stops at librdkafka's end-of-partition event,
 * which it raises at that offset, so a range ending in markers does not wait for records.
 */

const CHUNK = 5000;

const toIncoming = (m: RdkafkaMessage): IncomingRecord => {
  const headers: Record<string, string> = {};
  for (const header of m.headers ?? []) {
    for (const [name, value] of Object.entries(header)) if (!(name in headers)) headers[name] = value.toString();
  }
  const key = m.key === undefined || m.key === null ? null : Buffer.isBuffer(m.key) ? m.key : Buffer.from(m.key);
  return { key, value: m.value, headers, offset: String(m.offset), timestampMs: m.timestamp ?? 0 };
};

const call = <T>(work: (done: (err: Error | null, result?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => work((err, result) => (err ? reject(err) : resolve(result as T))));

async function offsets(connection: KafkaConnection, topic: string, partition: number): Promise<{ first: bigint; end: bigint }> {
  const admin = createConfluentKafka(connection).admin();
  await admin.connect();
  try {
    const { KafkaJS } = confluentModule();
    const found = (await admin.fetchTopicOffsets(topic, { isolationLevel: KafkaJS.IsolationLevel.READ_COMMITTED })).find((p) => p.partition === partition);
    if (!found) throw new PdmError('KAFKA_PARTITION_UNKNOWN', `${topic} has no partition ${partition}`);
    return { first: BigInt(found.low), end: BigInt(found.offset) };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

interface Range {
  topic: string;
  partition: number;
  from: bigint;
  end: bigint;
  maxBytes: number;
}

/** A consumer of the callback API that reads committed records only and reports the partition's end; it never commits. */
const restoreConsumer = (connection: KafkaConnection, maxBytes: number): RdkafkaConsumer =>
  new (confluentModule().KafkaConsumer)(
    {
      ...rdkafkaConnection(connection),
      'group.id': `pdm-partition-reader-${process.pid}`,
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
      'enable.partition.eof': true,
      // One fetch of at most maxBytes, and no more than that queued ahead of the reader.
      'fetch.max.bytes': maxBytes,
      'message.max.bytes': maxBytes, // librdkafka wants it no larger than a fetch; a larger record is still read whole
      'max.partition.fetch.bytes': maxBytes,
      'queued.max.messages.kbytes': Math.max(1, Math.ceil(maxBytes / 1024)),
    },
    { 'auto.offset.reset': 'earliest' },
  );

async function readRange(connection: KafkaConnection, range: Range, onRecords: (records: IncomingRecord[]) => void | Promise<void>) {
  const { topic, partition, from, end } = range;
  const consumer = restoreConsumer(connection, range.maxBytes);
  let atEof = false;
  consumer.on('partition.eof', () => void (atEof = true));
  await call((done) => consumer.connect({}, done));
  let records = 0;
  let fetches = 0;
  try {
    // A chunk is what the client holds when the first record arrives (at most about maxBytes).
    consumer.setDefaultConsumeTimeout(200);
    consumer.setDefaultIsTimeoutOnlyForFirstMessage(true);
    consumer.assign([{ topic, partition, offset: Number(from) }]);
    for (let next = from; next < end && !atEof; ) {
      const messages = await call<RdkafkaMessage[]>((done) => consumer.consume(CHUNK, done));
      fetches++;
      const chunk = messages.filter((m) => BigInt(m.offset) < end).map(toIncoming);
      if (messages.length > 0) next = BigInt(messages[messages.length - 1]!.offset) + 1n;
      records += chunk.length;
      if (chunk.length > 0) await onRecords(chunk);
    }
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
  return { records, fetches };
}

export async function openConfluentPartitionReader(connection: KafkaConnection, options: { maxBytes?: number } = {}): Promise<PartitionReader> {
  confluentModule();
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  return {
    async read(topic, partition, onRecords, readOptions = {}) {
      const { first, end } = await offsets(connection, topic, partition);
      const from = readOptions.fromOffset !== undefined && readOptions.fromOffset > first ? readOptions.fromOffset : first;
      // librdkafka steps over the offsets of an aborted transaction's emptied batch itself: nothing is skipped here.
      if (from >= end) return { records: 0, endOffset: end.toString(), fetches: 0, skipped: 0 };
      const { records, fetches } = await readRange(connection, { topic, partition, from, end, maxBytes }, onRecords);
      return { records, endOffset: end.toString(), fetches, skipped: 0 };
    },
    endOffset: async (topic, partition) => (await offsets(connection, topic, partition)).end,
    close: async () => undefined,
  };
}
