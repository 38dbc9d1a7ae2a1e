/**
 * The topics of CONTRACT.md with their explicit configuration. Pure data and comparison; the
 * Kafka adapter creates them.
 */

export interface TopicSpec {
  /** Full topic name, with the prefix when one is given (tests use their own). */
  name: string;
  /** Name in CONTRACT.md, without prefix. */
  contractName: string;
  partitions: number;
  replicationFactor: number;
  config: Record<string, string>;
  /** Avro schema files (in schemas/) of key and value; none for raw-bytes topics. */
  keySchema?: string;
  valueSchema?: string;
  description: string;
}

export interface TopicReport {
  topic: string;
  status: 'created' | 'ok' | 'drift';
  differences: string[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

export interface TopicOptions {
  prefix?: string;
  partitions?: number;
  replicationFactor?: number;
}

export const TOPICS = {
  readings: 'pdm.sensor-readings.v1',
  windowFeatures: 'pdm.window-features.v1',
  alerts: 'pdm.alerts.v1',
  assessments: 'pdm.assessments.v2',
  /** Deprecated: written only with PDM_INFERENCE_ASSESSMENTS_V1=true, for consumers not yet on v2. */
  assessmentsV1: 'pdm.assessments.v1',
  lateReadings: 'pdm.late-readings.v1',
  deadLetter: 'pdm.dead-letter.v1',
  machineControl: 'pdm.machine-control.v1',
  alertControl: 'pdm.alert-control.v1',
} as const;

/** The topic names a component uses, each contract name behind `prefix` (PDM_TOPIC_PREFIX): `{ input: TOPICS.readings }` gives `{ input: '<prefix>pdm.sensor-readings.v1' }`. */
export function prefixedTopics<K extends string>(prefix: string, names: Record<K, string>): Record<K, string> {
  return Object.fromEntries(Object.entries<string>(names).map(([role, name]) => [role, `${prefix}${name}`])) as Record<K, string>;
}

// Retention of raw streams counts from arrival (LogAppendTime): simulated or replayed history
// carries old event times in its values and must not be deleted the moment it lands.
const byArrival = { 'message.timestamp.type': 'LogAppendTime' };

/** Config of a raw stream deleted `days` after arrival, given min.insync.replicas. */
const deletedAfterDays =
  (days: number) =>
  (minIsr: string): Record<string, string> => ({ 'cleanup.policy': 'delete', 'retention.ms': String(days * DAY_MS), 'min.insync.replicas': minIsr, ...byArrival });

/** Config of operators' requests: kept forever, a handful of records a day, and the audit trail of who asked what when. */
const keptForever = (minIsr: string): Record<string, string> => ({ 'cleanup.policy': 'delete', 'retention.ms': '-1', 'min.insync.replicas': minIsr });

/** A topic of CONTRACT.md as the table below states it: its config given min.insync.replicas. */
interface TopicEntry extends Omit<TopicSpec, 'name' | 'replicationFactor' | 'partitions' | 'config'> {
  config: (minIsr: string) => Record<string, string>;
}

/** The topics of CONTRACT.md, in its order. */
const TOPIC_TABLE: readonly TopicEntry[] = [
  {
    contractName: TOPICS.readings,
    config: deletedAfterDays(7),
    keySchema: 'machine-id.avsc',
    valueSchema: 'sensor-reading.avsc',
    description: 'raw sensor readings, keyed by machine id',
  },
  {
    contractName: TOPICS.windowFeatures,
    // Compacted: one final record per machine and window. Segments roll hourly and the cleaner
    // runs on a small dirty ratio so duplicates do not pile up; tombstones stay a day so every
    // consumer sees them.
    config: (minIsr) => ({
      'cleanup.policy': 'compact',
      'min.cleanable.dirty.ratio': '0.1',
      'segment.ms': String(60 * 60 * 1000),
      'delete.retention.ms': String(DAY_MS),
      'min.compaction.lag.ms': '0',
      'min.insync.replicas': minIsr,
    }),
    keySchema: 'window-key.avsc',
    valueSchema: 'window-features.avsc',
    description: 'final per-machine window aggregates',
  },
  {
    contractName: TOPICS.alerts,
    config: deletedAfterDays(365),
    keySchema: 'machine-id.avsc',
    valueSchema: 'alert-event.avsc',
    description: 'alert transitions (FIRING, RESOLVED)',
  },
  {
    contractName: TOPICS.assessments,
    config: deletedAfterDays(30),
    keySchema: 'machine-id.avsc',
    valueSchema: 'machine-assessment-v2.avsc',
    description: 'per machine and window: anomaly score and forecast of the coming windows (a series per feature)',
  },
  {
    contractName: TOPICS.assessmentsV1,
    config: deletedAfterDays(30),
    keySchema: 'machine-id.avsc',
    valueSchema: 'machine-assessment.avsc',
    description: 'deprecated: the assessments with a record per forecast point, only with PDM_INFERENCE_ASSESSMENTS_V1=true',
  },
  {
    contractName: TOPICS.lateReadings,
    config: deletedAfterDays(30),
    keySchema: 'machine-id.avsc',
    valueSchema: 'sensor-reading.avsc',
    description: 'readings that arrived after their window closed',
  },
  {
    contractName: TOPICS.deadLetter,
    config: deletedAfterDays(90),
    description: 'original bytes of records that could not be processed; headers say why',
  },
  {
    contractName: TOPICS.machineControl,
    config: keptForever,
    keySchema: 'machine-id.avsc',
    valueSchema: 'machine-control.avsc',
    description: 'operator requests per machine (relearn its baseline), read by the inference processor',
  },
  {
    contractName: TOPICS.alertControl,
    // Keyed by the machine an action is about (an ACK's machine id, a silence's pattern, `*` for a
    // kind on every machine; lib/alert-control.ts, controlKey): the actions on one machine share a
    // partition and keep their order, and the key is a plain string like the alerts'.
    config: keptForever,
    keySchema: 'machine-id.avsc',
    valueSchema: 'alert-control.avsc',
    description: 'operator acknowledgements and silences of alert mail, read by the email sink',
  },
];

export function topicSpecs(options: TopicOptions = {}): TopicSpec[] {
  const prefix = options.prefix ?? '';
  const partitions = options.partitions ?? 6;
  const replicationFactor = options.replicationFactor ?? 1;
  // Producers write with acks=all; min.insync.replicas can't exceed the replication factor.
  const minIsr = String(Math.min(2, replicationFactor));
  return TOPIC_TABLE.map(({ contractName, config, ...rest }) => ({
    name: `${prefix}${contractName}`,
    contractName,
    replicationFactor,
    partitions,
    config: config(minIsr),
    ...rest,
  }));
}

/** Differences between the expected spec and what the broker has, as sentences. */
export function diffTopic(spec: TopicSpec, actual: { partitions: number; config: Record<string, string> }): string[] {
  const differences: string[] = [];
  if (actual.partitions !== spec.partitions) differences.push(`partitions: expected ${spec.partitions}, found ${actual.partitions}`);
  for (const [name, expected] of Object.entries(spec.config)) {
    const found = actual.config[name];
    if (found !== expected) differences.push(`${name}: expected ${expected}, found ${found ?? '(unset)'}`);
  }
  return differences;
}

/** Subject names under Confluent's TopicNameStrategy. */
export const keySubject = (topic: string): string => `${topic}-key`;
export const valueSubject = (topic: string): string => `${topic}-value`;
