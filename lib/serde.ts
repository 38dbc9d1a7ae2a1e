import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type avro from 'avsc';
import { PdmError } from './errors';

/**
 * Confluent wire format: magic byte 0, the schema id as a 4-byte big-endian integer, then the Avro
 * body. Encoding uses our own schema (from schemas/) with the id the registry gave it; decoding
 * reads the writer's schema by id and resolves it into the reader's, so a consumer on an older
 * schema still reads records written with a newer compatible one. Ids, writer schemas and
 * resolvers are cached: after the first record of a schema, encode and decode do no I/O.
 */

export const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;

export type SerdeErrorCode =
  | 'SERDE_TOO_SHORT'
  | 'SERDE_MAGIC_BYTE'
  | 'SERDE_UNKNOWN_SCHEMA'
  | 'SERDE_INCOMPATIBLE_SCHEMA'
  | 'SERDE_DECODE'
  | 'SERDE_ENCODE'
  | 'SERDE_NOT_REGISTERED'
  | 'SERDE_REGISTRY_UNAVAILABLE';

export class SerdeError extends PdmError<SerdeErrorCode> {
  /** True when the record itself is at fault (dead-letter it), false when a retry may succeed. */
  get poison(): boolean {
    return this.code !== 'SERDE_REGISTRY_UNAVAILABLE' && this.code !== 'SERDE_NOT_REGISTERED';
  }

  constructor(code: SerdeErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'SerdeError';
  }
}

export function frame(schemaId: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out.writeUInt8(MAGIC_BYTE, 0);
  out.writeInt32BE(schemaId, 1);
  body.copy(out, HEADER_BYTES);
  return out;
}

export function unframe(buffer: Buffer): { schemaId: number; body: Buffer } {
  if (buffer.length < HEADER_BYTES) throw new SerdeError('SERDE_TOO_SHORT', `record of ${buffer.length} bytes is shorter than the 5-byte wire-format header`);
  const magic = buffer.readUInt8(0);
  if (magic !== MAGIC_BYTE) throw new SerdeError('SERDE_MAGIC_BYTE', `magic byte is ${magic}, expected 0 (not Confluent wire format)`);
  return { schemaId: buffer.readInt32BE(1), body: buffer.subarray(HEADER_BYTES) };
}

/** Describes why avsc refused a value: the paths of the fields that do not fit the schema. */
function invalidPaths(type: avro.Type, value: unknown): string {
  const paths: string[] = [];
  type.isValid(value, { errorHook: (path) => paths.push(path.join('.') || '(root)') });
  return paths.length > 0 ? `invalid field(s): ${paths.join(', ')}` : 'value does not fit the schema';
}

export type Encoder<T> = (value: T) => Buffer;
export type Decoder<T> = (buffer: Buffer) => Promise<T>;

export class Serde {
  private readonly ids = new Map<string, Promise<number>>();
  private readonly resolvers = new Map<string, Promise<{ writer: avro.Type; resolver: avro.Resolver | undefined }>>();

  constructor(private readonly registry: SchemaRegistry) {}

  /** An encoder for `type` under `subject`; the schema must be registered (`pdmctl topics`). */
  async encoder<T>(subject: string, type: avro.Type, schemaText: string): Promise<Encoder<T>> {
    const schemaId = await this.schemaId(subject, schemaText);
    return (value: T) => {
      let body: Buffer;
      try {
        body = type.toBuffer(value);
      } catch (cause) {
        throw new SerdeError('SERDE_ENCODE', `cannot encode for ${subject}: ${invalidPaths(type, value)}`, { cause });
      }
      return frame(schemaId, body);
    };
  }

  /** A decoder into `reader`'s shape, whatever compatible schema the writer used. */
  decoder<T>(reader: avro.Type): Decoder<T> {
    return async (buffer: Buffer) => {
      const { schemaId, body } = unframe(buffer);
      const { resolver } = await this.writer(schemaId, reader);
      try {
        return (resolver ? reader.fromBuffer(body, resolver) : reader.fromBuffer(body)) as T;
      } catch (cause) {
        throw new SerdeError('SERDE_DECODE', `body does not decode with schema id ${schemaId}: ${(cause as Error).message}`, { cause });
      }
    };
  }

  private schemaId(subject: string, schemaText: string): Promise<number> {
    const key = `${subject}\n${schemaText}`;
    let id = this.ids.get(key);
    if (!id) {
      id = this.registry.getRegistryIdBySchema(subject, { type: 'AVRO' as never, schema: schemaText }).catch((cause: unknown) => {
        this.ids.delete(key);
        throw new SerdeError('SERDE_NOT_REGISTERED', `schema for ${subject} is not registered (run \`npx pdmctl topics\`): ${(cause as Error).message}`, { cause });
      });
      this.ids.set(key, id);
    }
    return id;
  }

  private writer(schemaId: number, reader: avro.Type) {
    const key = `${schemaId}\n${reader.name ?? reader.typeName}`;
    let entry = this.resolvers.get(key);
    if (!entry) {
      entry = (this.registry.getSchema(schemaId) as Promise<unknown>).then(
        (writer) => {
          const writerType = writer as avro.Type;
          if (writerType.equals(reader)) return { writer: writerType, resolver: undefined };
          try {
            return { writer: writerType, resolver: reader.createResolver(writerType) };
          } catch (cause) {
            // A record written with a schema ours can't read (another subject's id) is the record's fault.
            throw new SerdeError('SERDE_INCOMPATIBLE_SCHEMA', `schema id ${schemaId} can't be read as ${reader.name ?? reader.typeName}: ${(cause as Error).message}`, { cause });
          }
        },
        (cause: unknown) => {
          this.resolvers.delete(key);
          // A 404 is the record's fault (dead-letter it); anything else is the registry's (retry).
          if ((cause as { status?: number }).status === 404) {
            throw new SerdeError('SERDE_UNKNOWN_SCHEMA', `schema id ${schemaId} is unknown to the registry`, { cause });
          }
          throw new SerdeError('SERDE_REGISTRY_UNAVAILABLE', `the registry did not answer for schema id ${schemaId}: ${(cause as Error).message}`, { cause });
        },
      );
      this.resolvers.set(key, entry);
    }
    return entry;
  }
}
