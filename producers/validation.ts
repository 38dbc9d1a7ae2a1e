import { FEATURES, type SensorReading } from '../schemas';
import { MAX_ABS_READING, channelsProblem } from '../schemas/channels';

/**
 * What a producer accepts as a sensor reading, as a pure function: every source (simulator, CSV,
 * MQTT) maps its input to a plain object and passes it here. A refusal names a reason code
 * (bounded, so it can label a metric) and a sentence for the dead-letter header.
 */

export type RejectionCode =
  | 'malformed'
  | 'missing_field'
  | 'extra_field'
  | 'not_a_number'
  | 'not_finite'
  | 'out_of_range'
  | 'bad_channel_name'
  | 'too_many_channels'
  | 'bad_machine_id'
  | 'machine_not_allowed'
  | 'bad_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_in_future';

export type Validated = { ok: true; reading: SensorReading } | { ok: false; code: RejectionCode; reason: string };

export interface ValidationRules {
  /** Machine ids accepted; undefined accepts any well-formed id. */
  allowList?: (machineId: string) => boolean;
  /** Readings more than this far ahead of `nowMs` are refused (clock skew tolerance). */
  maxFutureMs: number;
  /** Readings before this are refused (a dead clock battery reads 1970). */
  minTimestampMs: number;
}

export const DEFAULT_RULES: ValidationRules = {
  maxFutureMs: 5 * 60 * 1000,
  minTimestampMs: Date.UTC(2000, 0, 1),
};

const MACHINE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const REQUIRED_FIELDS = ['machineId', 'timestamp', ...FEATURES] as const;
/** `extras` may be left out: a machine with only the six features sends none. */
const ALLOWED_FIELDS = new Set<string>([...REQUIRED_FIELDS, 'extras']);
/** An ISO-8601 date-time that names its zone (Z or ±hh:mm); without one the time is ambiguous. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Machine-id patterns with `*` wildcards (`lathe-*,cnc-mill-5-axis`) as a predicate. */
export function allowListFrom(patterns: string | undefined): ((machineId: string) => boolean) | undefined {
  const list = (patterns ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  if (list.length === 0) return undefined;
  const regexes = list.map((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`));
  return (machineId) => regexes.some((r) => r.test(machineId));
}

function parseTimestamp(value: unknown): number | string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || !Number.isInteger(value)) return `timestamp ${value} is not a whole number of milliseconds`;
    return value;
  }
  if (typeof value === 'string') {
    if (!ISO_WITH_ZONE.test(value)) return `timestamp ${JSON.stringify(value.slice(0, 40))} is not an ISO-8601 time with a zone`;
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? `timestamp ${JSON.stringify(value.slice(0, 40))} is not a valid date` : ms;
  }
  return `timestamp is ${value === null ? 'null' : typeof value}, expected epoch milliseconds or an ISO-8601 string`;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function validateReading(input: unknown, rules: ValidationRules, nowMs: number): Validated {
  if (!isPlainObject(input)) return { ok: false, code: 'malformed', reason: 'a reading must be an object' };
  const record = input;
  for (const key of Object.keys(record)) {
    if (!ALLOWED_FIELDS.has(key)) return { ok: false, code: 'extra_field', reason: `unknown field ${JSON.stringify(key.slice(0, 40))}` };
  }
  for (const key of REQUIRED_FIELDS) {
    if (!(key in record)) return { ok: false, code: 'missing_field', reason: `field ${key} is missing (a missing sensor is sent as null)` };
  }
  const machineId = record.machineId;
  if (typeof machineId !== 'string' || !MACHINE_ID.test(machineId)) {
    return { ok: false, code: 'bad_machine_id', reason: `machineId ${JSON.stringify(String(machineId).slice(0, 40))} is not an id (letters, digits, . _ : -; at most 128)` };
  }
  if (rules.allowList && !rules.allowList(machineId)) return { ok: false, code: 'machine_not_allowed', reason: `machine ${machineId} is not in the allow-list` };
  const timestamp = parseTimestamp(record.timestamp);
  if (typeof timestamp === 'string') return { ok: false, code: 'bad_timestamp', reason: timestamp };
  if (timestamp < rules.minTimestampMs) return { ok: false, code: 'timestamp_too_old', reason: `timestamp ${new Date(timestamp).toISOString()} is before ${new Date(rules.minTimestampMs).toISOString()}` };
  if (timestamp > nowMs + rules.maxFutureMs) {
    return { ok: false, code: 'timestamp_in_future', reason: `timestamp ${new Date(timestamp).toISOString()} is more than ${Math.round(rules.maxFutureMs / 1000)} s ahead of now (${new Date(nowMs).toISOString()})` };
  }
  const reading = { machineId, timestamp } as SensorReading;
  for (const feature of FEATURES) {
    const problem = valueProblem(feature, record[feature]);
    if (problem) return { ok: false, ...problem };
    reading[feature] = record[feature] as number | null;
  }
  const extras = record.extras ?? {};
  if (!isPlainObject(extras)) return { ok: false, code: 'malformed', reason: 'extras must be an object of channel names to numbers or null' };
  const channels = Object.keys(extras);
  const channelProblem = channelsProblem(channels);
  if (channelProblem) return { ok: false, ...channelProblem };
  reading.extras = {};
  for (const channel of channels) {
    const problem = valueProblem(`extras.${channel}`, extras[channel]);
    if (problem) return { ok: false, ...problem };
    reading.extras[channel] = extras[channel] as number | null;
  }
  return { ok: true, reading };
}

/** What is wrong with a sensor value, the six features' and the extra channels' alike: null is a missing sensor. */
function valueProblem(name: string, value: unknown): { code: RejectionCode; reason: string } | undefined {
  if (value === null) return undefined;
  if (typeof value !== 'number') return { code: 'not_a_number', reason: `${name} is ${JSON.stringify(value)?.slice(0, 40) ?? typeof value}, expected a number or null` };
  if (!Number.isFinite(value)) return { code: 'not_finite', reason: `${name} is ${value}` };
  if (Math.abs(value) > MAX_ABS_READING) return { code: 'out_of_range', reason: `${name} is ${value}, beyond the ${MAX_ABS_READING} a sensor value may be` };
  return undefined;
}
