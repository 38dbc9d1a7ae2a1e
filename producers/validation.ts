import { FEATURES, type SensorReading } from '../schemas';

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
const ALLOWED_FIELDS = new Set<string>(['machineId', 'timestamp', ...FEATURES]);
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

export function validateReading(input: unknown, rules: ValidationRules, nowMs: number): Validated {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { ok: false, code: 'malformed', reason: 'a reading must be an object' };
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!ALLOWED_FIELDS.has(key)) return { ok: false, code: 'extra_field', reason: `unknown field ${JSON.stringify(key.slice(0, 40))}` };
  }
  for (const key of ALLOWED_FIELDS) {
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
    const value = record[feature];
    if (value === null) {
      reading[feature] = null;
    } else if (typeof value !== 'number') {
      return { ok: false, code: 'not_a_number', reason: `${feature} is ${JSON.stringify(value)?.slice(0, 40) ?? typeof value}, expected a number or null` };
    } else if (!Number.isFinite(value)) {
      return { ok: false, code: 'not_finite', reason: `${feature} is ${value}` };
    } else {
      reading[feature] = value;
    }
  }
  return { ok: true, reading };
}
