import { refuseRecord, type DeadLetter } from '../../lib/dead-letter';
import type { IncomingRecord } from '../../lib/kafka/runner';
import type { TopicBatch } from '../../lib/kafka/producer';
import type { Logger } from '../../lib/logger';
import { stageMetrics, type Registry, type StageMetrics } from '../../lib/metrics';
import { SerdeError, type Decoder } from '../../lib/serde';
import { lastPerKey, type RecordSpec } from './postgres.rows';
import type { PostgresSink, RowsToWrite } from './postgres.sink';

/**
 * One input topic into its tables: per batch of a partition, decode each record, map it to rows
 * (one row of one table for windows and alerts; an assessment row and its forecast's rows for
 * assessments), keep the last record of each key, and flush the rows in one database transaction.
 * What can't be written (no value, doesn't decode, can't be rows, refused by the database) becomes
 * a dead-letter record: the batch's only output, sent before its offsets are committed.
 */

export const STAGE = 'sink-postgres';

/** Window records the window processor marks as not final (`PDM_WINDOW_EARLY_UPDATES`) are not rows of pdm.window_features. */
export const NOT_FINAL = { header: 'pdm.window.final', value: 'false' } as const;

export interface TopicProcessorOptions<T> {
  topic: string;
  deadLetterTopic: string;
  spec: RecordSpec<T>;
  decode: Decoder<T>;
  sink: Pick<PostgresSink, 'flush'>;
  /** Skip records whose header says so (early window updates). */
  skip?: (record: IncomingRecord) => boolean;
  clock: () => number;
  metrics: Registry;
  logger: Logger;
}

interface Decoded<T> {
  value: T;
  record: IncomingRecord;
}

export class TopicProcessor<T> {
  private readonly stage: StageMetrics;

  constructor(private readonly options: TopicProcessorOptions<T>) {
    this.stage = stageMetrics(options.metrics);
  }

  async process(partition: number, records: IncomingRecord[]): Promise<TopicBatch[]> {
    const { spec, sink } = this.options;
    const deadLetters: DeadLetter[] = [];
    const refuse = (record: IncomingRecord, code: string, message: string) => {
      deadLetters.push(refuseRecord({ record, topic: this.options.topic, partition, stage: STAGE, code, message, failedAtMs: this.options.clock(), metrics: this.stage, logger: this.options.logger, what: 'record' }));
    };

    const decoded: Decoded<T>[] = [];
    for (const record of records) {
      this.stage.recordsIn.inc({ stage: STAGE });
      if (this.options.skip?.(record)) continue;
      if (record.value === null) {
        refuse(record, 'SINK_NO_VALUE', 'the record has no value (a tombstone): there is no row to write');
        continue;
      }
      try {
        decoded.push({ value: await this.options.decode(record.value), record });
      } catch (err) {
        // A registry outage is not the record's fault: the batch fails and is read again.
        if (err instanceof SerdeError && err.poison) refuse(record, err.code, err.message);
        else throw err;
      }
    }

    const { kept } = lastPerKey(decoded, (d) => spec.keyOf(d.value));
    const rows: RowsToWrite<IncomingRecord>[] = [];
    for (const d of kept) {
      try {
        rows.push({ rows: spec.toRows(d.value), item: d.record });
      } catch (err) {
        refuse(d.record, 'SINK_ROW_INVALID', `the record can't be a row of ${spec.tables.map((t) => t.table).join(' and ')}: ${(err as Error).message}`);
      }
    }

    // The runner heartbeats while this waits (lib/kafka/runner/group.ts), however long the database is away.
    const rejected = await sink.flush(spec.tables, rows);
    for (const r of rejected) refuse(r.item, 'SINK_ROW_REJECTED', `${r.table}: ${r.code}: ${r.message}`);

    if (deadLetters.length > 0) this.stage.recordsOut.inc({ stage: STAGE, topic: this.options.deadLetterTopic }, deadLetters.length);
    return [{ topic: this.options.deadLetterTopic, records: deadLetters }];
  }
}

export const isNotFinalWindow = (record: IncomingRecord): boolean => record.headers[NOT_FINAL.header] === NOT_FINAL.value;
