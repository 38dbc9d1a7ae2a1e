import type { Random } from '../../producers/simulate/random';
import { frame } from '../../lib/serde';
import { FEATURES, SCHEMA_FILES, avroType, type SensorReading } from '../../schemas';

/**
 * Records that are not readings a window can take, for mixing into pdm.sensor-readings.v1 the
 * way a broken client or a bit flip would put them there. Pure: the schema ids come in, the
 * bytes come out. Each kind says whether the Confluent wire format still decodes (the schema
 * check counts the ones that don't) and every one of them must end in pdm.dead-letter.v1.
 */

export const BAD_KINDS = ['random-bytes', 'wrong-magic', 'unknown-schema', 'wrong-schema', 'truncated', 'no-value', 'not-finite', 'huge-value', 'far-future'] as const;
export type BadKind = (typeof BAD_KINDS)[number];

/** Kinds whose value is a well-formed SensorReading under a registered id: they decode, and the window processor must refuse what they say. */
const DECODABLE: ReadonlySet<BadKind> = new Set(['not-finite', 'huge-value', 'far-future']);

export interface BadRecord {
  kind: BadKind;
  key: Buffer | null;
  value: Buffer | null;
  /** Whether the value decodes with the readings subject's registered schemas. */
  decodable: boolean;
}

export interface BadInputContext {
  /** Registry ids of the readings topic's key and value schemas. */
  keySchemaId: number;
  readingSchemaId: number;
  /** An id the registry has never handed out. */
  unknownSchemaId: number;
  /** A machine of the fleet: the bad record lands in its partition, among its readings. */
  machineId: string;
  /** A plausible event time (inside the simulated range). */
  timestampMs: number;
  /** Wall-clock time of the run: `far-future` is years after it. */
  nowMs: number;
}

const YEAR_MS = 365 * 86_400_000;

export function badRecord(kind: BadKind, random: Random, ctx: BadInputContext): BadRecord {
  const keyType = avroType(SCHEMA_FILES.machineId);
  const readingType = avroType(SCHEMA_FILES.sensorReading);
  const key = frame(ctx.keySchemaId, keyType.toBuffer(ctx.machineId));
  const base: SensorReading = { machineId: ctx.machineId, timestamp: ctx.timestampMs, current: 10, accX: 0.02, accY: 0.02, accZ: 0.02, tempA: 40, tempB: 35, extras: {} };
  const reading = (over: Partial<SensorReading>) => frame(ctx.readingSchemaId, readingType.toBuffer({ ...base, ...over }));
  const feature = random.pick(FEATURES);
  let value: Buffer | null;
  switch (kind) {
    case 'random-bytes': {
      // Never starting with the magic byte 0: random noise that happened to look like wire format
      // could decode into a reading by chance.
      const bytes = Buffer.from(Array.from({ length: random.int(1, 64) }, () => random.int(0, 255)));
      bytes[0] = random.int(1, 255);
      value = bytes;
      break;
    }
    case 'wrong-magic': {
      value = reading({});
      value[0] = random.int(1, 255);
      break;
    }
    case 'unknown-schema':
      value = frame(ctx.unknownSchemaId, readingType.toBuffer(base));
      break;
    case 'wrong-schema':
      // The key's schema id where a reading belongs: a registered id of another subject.
      value = frame(ctx.keySchemaId, keyType.toBuffer(ctx.machineId));
      break;
    case 'truncated': {
      const whole = reading({});
      value = whole.subarray(0, random.int(1, whole.length - 1));
      break;
    }
    case 'no-value':
      value = null;
      break;
    case 'not-finite':
      value = reading({ [feature]: random.pick([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) });
      break;
    case 'huge-value':
      value = reading({ [feature]: random.pick([1e16, -1e100, 1e300, Number.MAX_VALUE]) });
      break;
    case 'far-future':
      value = reading({ timestamp: ctx.nowMs + random.int(1, 30) * YEAR_MS });
      break;
  }
  return { kind, key, value, decodable: DECODABLE.has(kind) };
}
