import type { Logger } from './logger';
import type { StageMetrics } from './metrics';

/**
 * Dead-letter records: the original bytes, untouched, with headers that say where they came from
 * and why they were refused (the convention of Kafka Connect's `__connect.errors.*` headers).
 * Nothing a stage can't process is dropped: it lands here, and the stage moves on.
 */

export const DLQ_HEADERS = {
  topic: 'pdm.errors.topic',
  partition: 'pdm.errors.partition',
  offset: 'pdm.errors.offset',
  source: 'pdm.errors.source',
  stage: 'pdm.errors.stage',
  code: 'pdm.errors.code',
  message: 'pdm.errors.message',
  failedAt: 'pdm.errors.failed.at',
} as const;

export interface DeadLetterSource {
  /** Kafka origin, when the record came from a topic. */
  topic?: string;
  partition?: number;
  offset?: string;
  /** Anything else: `mqtt:sensors/lathe-1/telemetry`, `csv:/data/valve1/3.csv:118`, `simulate`. */
  description?: string;
}

export interface DeadLetter {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

const toBuffer = (data: Buffer | string | null | undefined): Buffer | null => (data === null || data === undefined ? null : Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'));

export function deadLetter(input: {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  source: DeadLetterSource;
  stage: string;
  code: string;
  message: string;
  failedAtMs: number;
}): DeadLetter {
  const headers: Record<string, string> = {
    [DLQ_HEADERS.stage]: input.stage,
    [DLQ_HEADERS.code]: input.code,
    // Header values are bounded: a reason never carries a whole payload.
    [DLQ_HEADERS.message]: input.message.length > 1000 ? `${input.message.slice(0, 997)}...` : input.message,
    [DLQ_HEADERS.failedAt]: new Date(input.failedAtMs).toISOString(),
  };
  if (input.source.topic !== undefined) headers[DLQ_HEADERS.topic] = input.source.topic;
  if (input.source.partition !== undefined) headers[DLQ_HEADERS.partition] = String(input.source.partition);
  if (input.source.offset !== undefined) headers[DLQ_HEADERS.offset] = input.source.offset;
  if (input.source.description !== undefined) headers[DLQ_HEADERS.source] = input.source.description;
  return { key: toBuffer(input.key), value: toBuffer(input.value), headers };
}

/**
 * A consumed record a stage refuses: its dead-letter copy (headers naming the topic, partition and
 * offset it came from), counted in the stage's failed and dead-letter counters, and logged once.
 */
export function refuseRecord(input: {
  record: { key: Buffer | null; value: Buffer | null; offset: string };
  topic: string;
  partition: number;
  stage: string;
  code: string;
  message: string;
  failedAtMs: number;
  metrics: StageMetrics;
  logger: Logger;
  /** What the record is, for the log line: `reading`, `window`, `alert`, `record`. */
  what: string;
}): DeadLetter {
  const { record, topic, partition, stage, code, message } = input;
  input.metrics.recordsFailed.inc({ stage, reason: code });
  input.metrics.deadLetters.inc({ stage, reason: code });
  input.logger.warn({ topic, partition, offset: record.offset, code, reason: message }, `${input.what} dead-lettered`);
  return deadLetter({ key: record.key, value: record.value, source: { topic, partition, offset: record.offset }, stage, code, message, failedAtMs: input.failedAtMs });
}
