import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { deadLetter, type DeadLetterSource } from '../lib/dead-letter';
import type { BatchProducer, OutgoingRecord } from '../lib/kafka/producer';
import type { Logger } from '../lib/logger';
import type { StageMetrics } from '../lib/metrics';
import { Serde, SerdeError, type Encoder } from '../lib/serde';
import { keySubject, valueSubject } from '../lib/topics';
import { SCHEMA_FILES, avroType, schemaText, type SensorReading } from '../schemas';
import { validateReading, type ValidationRules } from './validation';

export interface ReadingsProducerOptions {
  producer: BatchProducer;
  registry: SchemaRegistry;
  topics: { readings: string; deadLetter: string };
  /** Label of the producing stage in metrics and dead-letter headers: simulate, replay, mqtt-bridge. */
  stage: string;
  metrics: StageMetrics;
  rules: ValidationRules;
  clock: () => number;
  logger: Logger;
  /** Records per request to the broker. */
  batchSize?: number;
  /** A record waits at most this long for its batch to fill. */
  lingerMs?: number;
}

type DeliveryCallback = (error?: Error) => void;

/**
 * The one path by which readings enter Kafka, whatever their source: validate, encode as Avro
 * (Confluent wire format), batch, send idempotently with zstd compression. A refused input goes to
 * the dead-letter topic with its reason and original bytes; the producer carries on.
 *
 * Backpressure: one batch is in flight while the next fills; `add` waits when both are full, so
 * a fast source runs at the broker's pace with bounded memory.
 */
export class ReadingsProducer {
  private filling: OutgoingRecord[] = [];
  private fillingLetters: OutgoingRecord[] = [];
  private fillingCallbacks: DeliveryCallback[] = [];
  private inFlight: Promise<void> | undefined;
  private failure: Error | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private readonly batchSize: number;
  private readonly lingerMs: number;
  private readonly refusals = new Map<string, number>();
  readonly counts = { produced: 0, deadLettered: 0 };

  private constructor(
    private readonly options: ReadingsProducerOptions,
    private readonly encodeKey: Encoder<string>,
    private readonly encodeValue: Encoder<SensorReading>,
  ) {
    this.batchSize = options.batchSize ?? 5000;
    this.lingerMs = options.lingerMs ?? 50;
  }

  static async create(options: ReadingsProducerOptions): Promise<ReadingsProducer> {
    const serde = new Serde(options.registry);
    const topic = options.topics.readings;
    const [encodeKey, encodeValue] = await Promise.all([
      serde.encoder<string>(keySubject(topic), avroType(SCHEMA_FILES.machineId), schemaText(SCHEMA_FILES.machineId)),
      serde.encoder<SensorReading>(valueSubject(topic), avroType(SCHEMA_FILES.sensorReading), schemaText(SCHEMA_FILES.sensorReading)),
    ]);
    return new ReadingsProducer(options, encodeKey, encodeValue);
  }

  /**
   * Validates `input` and queues it. `raw` is what the source received (for the dead-letter copy
   * when the input is refused); `onDelivered` runs once the broker has the record, or its
   * dead-letter copy.
   */
  async add(input: unknown, source: DeadLetterSource, raw: () => Buffer | string, onDelivered?: DeliveryCallback): Promise<boolean> {
    if (this.failure) throw this.failure;
    const { metrics, stage } = this.options;
    metrics.recordsIn.inc({ stage });
    const validated = validateReading(input, this.options.rules, this.options.clock());
    if (!validated.ok) {
      this.queueLetter(raw(), source, validated.code, validated.reason, onDelivered);
      await this.maybeShip();
      return false;
    }
    let record: OutgoingRecord;
    try {
      record = { key: this.encodeKey(validated.reading.machineId), value: this.encodeValue(validated.reading) };
    } catch (err) {
      this.queueLetter(raw(), source, err instanceof SerdeError ? err.code : 'encode_failed', (err as Error).message, onDelivered);
      await this.maybeShip();
      return false;
    }
    this.filling.push(record);
    if (onDelivered) this.fillingCallbacks.push(onDelivered);
    await this.maybeShip();
    return true;
  }

  /** Dead-letters an input the source itself could not make sense of (bad JSON, a bad CSV row). */
  async reject(raw: Buffer | string, source: DeadLetterSource, code: string, reason: string, onDelivered?: DeliveryCallback): Promise<void> {
    if (this.failure) throw this.failure;
    this.options.metrics.recordsIn.inc({ stage: this.options.stage });
    this.queueLetter(raw, source, code, reason, onDelivered);
    await this.maybeShip();
  }

  private queueLetter(raw: Buffer | string, source: DeadLetterSource, code: string, reason: string, onDelivered?: DeliveryCallback): void {
    const { metrics, stage, logger } = this.options;
    metrics.recordsFailed.inc({ stage, reason: code });
    metrics.deadLetters.inc({ stage, reason: code });
    // Bad input can come in floods; the log shows the first ten of each kind, then every power of ten.
    const occurrences = (this.refusals.get(code) ?? 0) + 1;
    this.refusals.set(code, occurrences);
    if (occurrences <= 10 || Number.isInteger(Math.log10(occurrences))) {
      logger.warn({ source, code, reason, occurrences }, 'reading refused, sent to the dead-letter topic');
    }
    const letter = deadLetter({ value: raw, source, stage, code, message: reason, failedAtMs: this.options.clock() });
    this.fillingLetters.push(letter);
    if (onDelivered) this.fillingCallbacks.push(onDelivered);
  }

  private async maybeShip(): Promise<void> {
    const size = this.filling.length + this.fillingLetters.length;
    if (size >= this.batchSize) {
      await this.ship();
    } else if (size > 0 && !this.lingerTimer) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        this.ship().catch((err: Error) => (this.failure ??= err));
      }, this.lingerMs);
    }
  }

  /** Waits for the batch in flight, then sends what has filled since. */
  private async ship(): Promise<void> {
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    while (this.inFlight) await this.inFlight;
    if (this.failure) throw this.failure;
    const records = this.filling;
    const letters = this.fillingLetters;
    const callbacks = this.fillingCallbacks;
    if (records.length + letters.length === 0) return;
    this.filling = [];
    this.fillingLetters = [];
    this.fillingCallbacks = [];
    const { producer, topics, metrics, stage } = this.options;
    this.inFlight = producer
      .send([
        { topic: topics.readings, records },
        { topic: topics.deadLetter, records: letters },
      ])
      .then(
        () => {
          this.counts.produced += records.length;
          this.counts.deadLettered += letters.length;
          if (records.length > 0) metrics.recordsOut.inc({ stage, topic: topics.readings }, records.length);
          if (letters.length > 0) metrics.recordsOut.inc({ stage, topic: topics.deadLetter }, letters.length);
          for (const cb of callbacks) cb();
        },
        (err: Error) => {
          this.failure = err;
          for (const cb of callbacks) cb(err);
        },
      )
      .finally(() => {
        this.inFlight = undefined;
      });
  }

  /** Sends everything queued and waits until the broker has it. */
  async flush(): Promise<void> {
    await this.ship();
    while (this.inFlight) await this.inFlight;
    if (this.failure) throw this.failure;
  }
}
