import { refuseRecord, type DeadLetter } from '../../lib/dead-letter';
import type { BatchInfo, IncomingRecord } from '../../lib/kafka/runner';
import type { OutgoingRecord, TopicBatch } from '../../lib/kafka/producer';
import type { Logger } from '../../lib/logger';
import { metricOnce, Counter, Gauge, stageMetrics, type Registry, type StageMetrics } from '../../lib/metrics';
import { SerdeError, type Decoder, type Encoder } from '../../lib/serde';
import { FEATURES, type SensorReading, type WindowFeatures, type WindowKey } from '../../schemas';
import { MAX_ABS_READING, channelsProblem } from '../../schemas/channels';
import { closeIdle, finalize, processReading, windowKey, windowStartOf, type PartitionWindows, type ReadingOutcome, type WindowConfig } from './window';
import { FORGET_AFTER_MS, lastSeenOf, machineStates, noteReading, type LastSeen } from './silence';
import { PROGRESS_KEY, channelStateKey, encodeChannel, encodeProgress, encodeWindow, windowStateKey, type PartitionProgress } from './window.state';
import { PdmError } from '../../lib/errors';

/**
 * The window processor around the pure rule (window.ts): per input partition it decodes readings,
 * applies them, and turns what happened into records: final windows, late readings, dead letters
 * and the changelog that lets another instance pick the partition up. It touches no Kafka client
 * and no clock of its own; the runner (window.service.ts) feeds it batches inside transactions.
 */

export const STAGE = 'window';

export interface WindowProcessorConfig extends WindowConfig {
  /** A caught-up partition that receives nothing for this long closes its open windows. */
  idleTimeoutMs: number;
  /** Also emit each open window's running aggregates with every transaction (header pdm.window.final=false). */
  earlyUpdates: boolean;
  /** A machine with no reading for this long of its partition's stream time counts as silent (silence.ts); default size plus grace. */
  silentAfterMs?: number;
  /**
   * A reading dated more than this after its record's timestamp (when the broker appended it: the
   * readings topic keeps LogAppendTime) is refused. One reading from the far future would move its
   * partition's stream time years ahead and make every later reading of the partition late.
   * Undefined: not checked.
   */
  maxAheadMs?: number;
  /**
   * Most distinct extra channel names a partition takes, over its whole history (its machines'
   * channels, fleet-wide): a reading bringing a name beyond it is dead-lettered. It bounds what one
   * producer inventing names (a serial number as a name) can cost downstream: window state, records,
   * rows and the detector's channels. Undefined: no cap.
   */
  maxExtraChannels?: number;
}

export interface WindowTopics {
  output: string;
  /**
   * Partitions of the output topic. A window record goes to partition (input partition mod this):
   * the readings are keyed by machine id, so every window of a machine lands in one partition, in
   * order, where a consumer that keeps per-machine state (the inference processor) finds them all.
   */
  outputPartitions: number;
  late: string;
  deadLetter: string;
  changelog: string;
  /** The input, as named in dead-letter headers. */
  input: string;
}

export interface WindowProcessorOptions {
  config: WindowProcessorConfig;
  topics: WindowTopics;
  decodeReading: Decoder<SensorReading>;
  encodeKey: Encoder<WindowKey>;
  encodeFeatures: Encoder<WindowFeatures>;
  clock: () => number;
  metrics: Registry;
  logger: Logger;
}

/** What the processor keeps for one input partition. */
interface PartitionTask {
  windows: PartitionWindows;
  /** Input records before this offset are in the state already (a redelivered batch skips them). */
  nextOffset: bigint | null;
  /** Wall-clock time of the last batch (or of the restore). */
  lastInputMs: number;
  /** Whether the last batch reached the partition's end: only then can the partition be idle. */
  caughtUp: boolean;
  /** Each machine's newest reading, for the silent-machine count. */
  lastSeen: LastSeen;
  /** Extra channel names the partition has taken (the cap counts them); in the changelog, one record each. */
  channels: Set<string>;
}

export const WINDOW_HEADERS = {
  final: 'pdm.window.final',
  trigger: 'pdm.window.trigger',
  lateStreamTime: 'pdm.late.stream-time',
  lateWindowEnd: 'pdm.late.window-end',
} as const;

type CloseTrigger = 'stream-time' | 'idle';

function windowMetrics(registry: Registry, tasks: Map<number, PartitionTask>, config: WindowProcessorConfig) {
  const silence = { silentAfterMs: config.silentAfterMs ?? config.sizeMs + config.graceMs, forgetAfterMs: FORGET_AFTER_MS };
  const metrics = {
    stage: stageMetrics(registry),
    readings: metricOnce(registry, 'pdm_window_readings_total', () => new Counter({ name: 'pdm_window_readings_total', help: 'Readings the window processor applied, by outcome (added, duplicate, late).', labelNames: ['outcome'], registers: [registry] })),
    closed: metricOnce(registry, 'pdm_window_windows_closed_total', () => new Counter({ name: 'pdm_window_windows_closed_total', help: 'Windows closed and emitted, by what closed them (stream-time, idle).', labelNames: ['trigger'], registers: [registry] })),
    machines: metricOnce(registry,
      'pdm_window_machines',
      () =>
        new Gauge({
          name: 'pdm_window_machines',
          help: 'Machines of each partition this instance owns, by state: reporting, or silent (no reading for size plus grace of the partition\'s stream time, or PDM_WINDOW_SILENT_AFTER; forgotten after 7 days).',
          labelNames: ['partition', 'state'],
          registers: [registry],
          collect() {
            this.reset();
            for (const [partition, task] of tasks) {
              const { reporting, silent } = machineStates(task.lastSeen, task.windows.streamTimeMs, silence);
              this.set({ partition: String(partition), state: 'reporting' }, reporting);
              this.set({ partition: String(partition), state: 'silent' }, silent);
            }
          },
        }),
    ),
    open: metricOnce(registry, 
      'pdm_window_open_windows',
      () =>
        new Gauge({
          name: 'pdm_window_open_windows',
          help: 'Windows open in this instance, summed over its partitions.',
          registers: [registry],
          collect() {
            let n = 0;
            for (const task of tasks.values()) n += task.windows.open.size;
            this.set(n);
          },
        }),
    ),
    streamTime: metricOnce(registry, 
      'pdm_window_stream_time_seconds',
      () =>
        new Gauge({
          name: 'pdm_window_stream_time_seconds',
          help: 'Stream time (highest event time seen) of each partition this instance owns, as a Unix time.',
          labelNames: ['partition'],
          registers: [registry],
          collect() {
            this.reset();
            for (const [partition, task] of tasks) if (Number.isFinite(task.windows.streamTimeMs)) this.set({ partition: String(partition) }, task.windows.streamTimeMs / 1000);
          },
        }),
    ),
    channels: metricOnce(registry,
      'pdm_window_extra_channels',
      () =>
        new Gauge({
          name: 'pdm_window_extra_channels',
          help: 'Distinct extra channel names each partition this instance owns has taken (PDM_WINDOW_MAX_EXTRA_CHANNELS caps them).',
          labelNames: ['partition'],
          registers: [registry],
          collect() {
            this.reset();
            for (const [partition, task] of tasks) this.set({ partition: String(partition) }, task.channels.size);
          },
        }),
    ),
  };
  // Every outcome and trigger from the start: a rate of late readings is 0, not missing, until the first one.
  for (const outcome of ['added', 'duplicate', 'late'] satisfies ReadingOutcome[]) metrics.readings.inc({ outcome }, 0);
  for (const trigger of ['stream-time', 'idle'] satisfies CloseTrigger[]) metrics.closed.inc({ trigger }, 0);
  return metrics;
}

/** schemas/channels.ts's bound, re-exported where the window processor's checks are. */
export { MAX_ABS_READING };

const valueProblem = (name: string, value: number): string | undefined => {
  if (!Number.isFinite(value)) return `${name} is ${value}, not a finite number`;
  if (Math.abs(value) > MAX_ABS_READING) return `${name} is ${value}, beyond the ${MAX_ABS_READING} a sensor value may be`;
  return undefined;
};

/**
 * A reading the window rule can't apply: the reason for its dead-letter record, or undefined.
 * `appendedAtMs` is its record's timestamp; with `maxAheadMs`, a reading dated further ahead of it is refused.
 */
export function readingProblem(reading: SensorReading, appendedAtMs?: number, maxAheadMs?: number): string | undefined {
  if (!Number.isSafeInteger(reading.timestamp)) return `timestamp ${reading.timestamp} is not a whole number of milliseconds`;
  if (reading.machineId.length === 0) return 'machineId is empty';
  for (const feature of FEATURES) {
    const value = reading[feature];
    const problem = value === null ? undefined : valueProblem(feature, value);
    if (problem) return problem;
  }
  // Our producers check the extras too (schemas/channels.ts); another producer on the topic may not.
  const names = Object.keys(reading.extras);
  const channels = channelsProblem(names);
  if (channels) return channels.reason;
  for (const name of names) {
    const value = reading.extras[name]!;
    const problem = value === null ? undefined : valueProblem(`extra channel ${name}`, value);
    if (problem) return problem;
  }
  // A record without a timestamp (-1 in old formats) has nothing to compare with.
  if (maxAheadMs !== undefined && appendedAtMs !== undefined && appendedAtMs > 0 && reading.timestamp > appendedAtMs + maxAheadMs) {
    const when = Number.isFinite(new Date(reading.timestamp).getTime()) ? new Date(reading.timestamp).toISOString() : String(reading.timestamp);
    return `timestamp ${when} is more than ${Math.round(maxAheadMs / 1000)} s after the record was appended (${new Date(appendedAtMs).toISOString()})`;
  }
  return undefined;
}

export class WindowProcessor {
  private readonly tasks = new Map<number, PartitionTask>();
  private readonly metrics: ReturnType<typeof windowMetrics>;

  constructor(private readonly options: WindowProcessorOptions) {
    this.metrics = windowMetrics(options.metrics, this.tasks, options.config);
  }

  /**
   * Takes a partition on with its restored state. `endOffset` is where the input partition ends
   * now: a partition restored at its end is caught up, and may go idle with no batch arriving.
   */
  open(partition: number, restored: { windows: PartitionWindows; progress: PartitionProgress | undefined; channels?: Set<string> }, endOffset: bigint): void {
    const nextOffset = restored.progress?.nextOffset ?? null;
    const channels = new Set(restored.channels);
    // A state written before channel records existed still knows the channels of its open windows.
    for (const window of restored.windows.open.values()) for (const name of window.extras.keys()) channels.add(name);
    const caughtUp = (nextOffset ?? 0n) >= endOffset;
    this.tasks.set(partition, { windows: restored.windows, nextOffset, lastInputMs: this.options.clock(), caughtUp, lastSeen: lastSeenOf(restored.windows.open.values()), channels });
  }

  close(partition: number): void {
    this.tasks.delete(partition);
  }

  partitions(): number[] {
    return [...this.tasks.keys()];
  }

  openWindows(partition: number): number {
    return this.tasks.get(partition)?.windows.open.size ?? 0;
  }

  /** One batch of one partition, in offset order: the records its transaction must write. */
  async process(partition: number, records: IncomingRecord[], batch: BatchInfo): Promise<TopicBatch[]> {
    const task = this.tasks.get(partition);
    if (!task) throw new PdmError('STAGE_NOT_OPEN', `partition ${partition} is not open in the window processor`);
    const { config, topics } = this.options;
    const out = new Outputs(topics, partition);
    const touched = new Set<string>();
    const closedNow: WindowFeatures[] = [];

    for (const record of records) {
      if (task.nextOffset !== null && BigInt(record.offset) < task.nextOffset) continue;
      this.metrics.stage.recordsIn.inc({ stage: STAGE });
      const reading = await this.decode(partition, record, out);
      if (!reading || !this.admitChannels(task, partition, record, reading, out)) continue;
      noteReading(task.lastSeen, reading.machineId, reading.timestamp);
      const { outcome, closed } = processReading(task.windows, reading, config);
      this.metrics.readings.inc({ outcome });
      if (outcome === 'added') touched.add(windowKey(reading.machineId, windowStartOf(reading.timestamp, config.sizeMs)));
      else if (outcome === 'late') out.late(record, task.windows.streamTimeMs, windowStartOf(reading.timestamp, config.sizeMs) + config.sizeMs);
      closedNow.push(...closed);
    }

    for (const window of closedNow) this.emitFinal(out, window, 'stream-time');
    for (const key of touched) {
      const window = task.windows.open.get(key);
      if (!window) continue; // closed in this batch: its tombstone is written
      out.changelog.push({ key: windowStateKey(window.machineId, window.windowStartMs), value: encodeWindow(window), partition });
      if (config.earlyUpdates) out.features(this.options.encodeKey, this.options.encodeFeatures, finalize(window), { [WINDOW_HEADERS.final]: 'false' });
    }
    for (const window of closedNow) out.changelog.push({ key: windowStateKey(window.machineId, window.windowStart), value: null, partition });

    task.nextOffset = BigInt(batch.nextOffset);
    task.lastInputMs = this.options.clock();
    task.caughtUp = BigInt(batch.highWatermark) <= task.nextOffset;
    out.changelog.push({ key: PROGRESS_KEY, value: encodeProgress(this.progress(task)), partition });
    return out.batches(this.metrics.stage);
  }

  /**
   * Wall-clock check of one partition: when it has been caught up and silent for the idle
   * timeout, its open windows close now (window.ts closeIdle), so a machine that stopped
   * talking still gets its last window.
   */
  punctuate(partition: number): TopicBatch[] {
    const task = this.tasks.get(partition);
    const { config, topics } = this.options;
    if (!task || !task.caughtUp || task.windows.open.size === 0 || task.nextOffset === null) return [];
    if (this.options.clock() - task.lastInputMs < config.idleTimeoutMs) return [];
    const closed = closeIdle(task.windows, config);
    const out = new Outputs(topics, partition);
    for (const window of closed) {
      this.emitFinal(out, window, 'idle');
      out.changelog.push({ key: windowStateKey(window.machineId, window.windowStart), value: null, partition });
    }
    out.changelog.push({ key: PROGRESS_KEY, value: encodeProgress(this.progress(task)), partition });
    this.options.logger.info({ partition, windows: closed.length, idleMs: this.options.clock() - task.lastInputMs }, 'partition idle: closed its open windows');
    return out.batches(this.metrics.stage);
  }

  private progress(task: PartitionTask): PartitionProgress {
    const { sizeMs, graceMs } = this.options.config;
    return { streamTimeMs: Number.isFinite(task.windows.streamTimeMs) ? task.windows.streamTimeMs : null, nextOffset: task.nextOffset ?? 0n, sizeMs, graceMs };
  }

  private emitFinal(out: Outputs, window: WindowFeatures, trigger: CloseTrigger): void {
    out.features(this.options.encodeKey, this.options.encodeFeatures, window, { [WINDOW_HEADERS.final]: 'true', [WINDOW_HEADERS.trigger]: trigger });
    this.metrics.closed.inc({ trigger });
  }

  /**
   * Whether the reading's extra channel names fit the partition's cap; takes the new ones (a
   * changelog record each, so a restore knows them). Else dead-letters the reading.
   */
  private admitChannels(task: PartitionTask, partition: number, record: IncomingRecord, reading: SensorReading, out: Outputs): boolean {
    const cap = this.options.config.maxExtraChannels;
    const fresh = Object.keys(reading.extras).filter((name) => !task.channels.has(name));
    if (fresh.length === 0) return true;
    if (cap !== undefined && task.channels.size + fresh.length > cap) {
      const message =
        `extra channel(s) ${fresh.slice(0, 5).join(', ')} would make ${task.channels.size + fresh.length} distinct extra channel names on this partition, ` +
        `more than the ${cap} it takes (PDM_WINDOW_MAX_EXTRA_CHANNELS)`;
      const { topics, clock, logger } = this.options;
      out.deadLetters.push(refuseRecord({ record, topic: topics.input, partition, stage: STAGE, code: 'WINDOW_TOO_MANY_CHANNELS', message, failedAtMs: clock(), metrics: this.metrics.stage, logger, what: 'reading' }));
      return false;
    }
    for (const name of fresh) {
      task.channels.add(name);
      out.changelog.push({ key: channelStateKey(name), value: encodeChannel(), partition });
    }
    return true;
  }

  /** The reading in `record`, or undefined after dead-lettering it. Registry outages throw (the batch is retried). */
  private async decode(partition: number, record: IncomingRecord, out: Outputs): Promise<SensorReading | undefined> {
    const refuse = (code: string, message: string) => {
      out.deadLetters.push(refuseRecord({ record, topic: this.options.topics.input, partition, stage: STAGE, code, message, failedAtMs: this.options.clock(), metrics: this.metrics.stage, logger: this.options.logger, what: 'reading' }));
      return undefined;
    };
    if (record.value === null) return refuse('WINDOW_NO_VALUE', 'the record has no value (a tombstone on a readings topic)');
    let reading: SensorReading;
    try {
      reading = await this.options.decodeReading(record.value);
    } catch (err) {
      if (err instanceof SerdeError && err.poison) return refuse(err.code, err.message);
      throw err;
    }
    const problem = readingProblem(reading, record.timestampMs, this.options.config.maxAheadMs);
    return problem ? refuse('WINDOW_READING_INVALID', problem) : reading;
  }
}

/** The records one transaction writes, by topic. */
class Outputs {
  readonly windows: OutgoingRecord[] = [];
  readonly lateReadings: OutgoingRecord[] = [];
  readonly deadLetters: DeadLetter[] = [];
  readonly changelog: OutgoingRecord[] = [];

  constructor(
    private readonly topics: WindowTopics,
    private readonly inputPartition: number,
  ) {}

  features(encodeKey: Encoder<WindowKey>, encodeFeatures: Encoder<WindowFeatures>, window: WindowFeatures, headers: Record<string, string>): void {
    const partition = this.inputPartition % this.topics.outputPartitions;
    this.windows.push({ key: encodeKey({ machineId: window.machineId, windowStart: window.windowStart }), value: encodeFeatures(window), headers, partition });
  }

  /** A late reading goes on as it came (key, value, headers), with why it was late. */
  late(record: IncomingRecord, streamTimeMs: number, windowEndMs: number): void {
    this.lateReadings.push({
      key: record.key,
      value: record.value,
      headers: { ...record.headers, [WINDOW_HEADERS.lateStreamTime]: new Date(streamTimeMs).toISOString(), [WINDOW_HEADERS.lateWindowEnd]: new Date(windowEndMs).toISOString() },
    });
  }

  batches(stage: StageMetrics): TopicBatch[] {
    const batches: TopicBatch[] = [
      { topic: this.topics.output, records: this.windows },
      { topic: this.topics.late, records: this.lateReadings },
      { topic: this.topics.deadLetter, records: this.deadLetters },
    ];
    for (const b of batches) if (b.records.length > 0) stage.recordsOut.inc({ stage: STAGE, topic: b.topic }, b.records.length);
    batches.push({ topic: this.topics.changelog, records: this.changelog });
    return batches;
  }
}
