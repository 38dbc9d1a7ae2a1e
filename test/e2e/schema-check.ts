import avro from 'avsc';

/**
 * Decoding as another team's consumer does: the schemas come from the registry (every version
 * registered under the topic's subject), not from this repository, and a record decodes only if
 * it is Confluent wire format with the id of one of them and a body that schema reads exactly.
 */

export interface RegisteredSchema {
  subject: string;
  version: number;
  id: number;
  schema: string;
}

export type Decoded = { ok: true; value: unknown } | { ok: false; reason: string };

export class SubjectDecoder {
  private readonly types = new Map<number, avro.Type>();

  constructor(
    readonly subject: string,
    schemas: readonly RegisteredSchema[],
  ) {
    for (const s of schemas) this.types.set(s.id, avro.Type.forSchema(JSON.parse(s.schema) as avro.Schema));
  }

  get ids(): number[] {
    return [...this.types.keys()];
  }

  decode(buffer: Buffer | null): Decoded {
    if (buffer === null) return { ok: false, reason: 'no value' };
    if (buffer.length < 5) return { ok: false, reason: `${buffer.length} bytes, shorter than the wire-format header` };
    if (buffer[0] !== 0) return { ok: false, reason: `magic byte ${buffer[0]}` };
    const id = buffer.readInt32BE(1);
    const type = this.types.get(id);
    if (!type) return { ok: false, reason: `schema id ${id} is not registered under ${this.subject}` };
    try {
      return { ok: true, value: type.fromBuffer(buffer.subarray(5)) };
    } catch (err) {
      return { ok: false, reason: `body does not decode with schema id ${id}: ${(err as Error).message}` };
    }
  }
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return (await response.json()) as T;
}

/** Every subject of the registry with every version registered under it. */
export async function registeredSchemas(registryUrl: string): Promise<Map<string, RegisteredSchema[]>> {
  const base = registryUrl.replace(/\/+$/, '');
  const subjects = await getJson<string[]>(`${base}/subjects`);
  const out = new Map<string, RegisteredSchema[]>();
  for (const subject of subjects) {
    const at = `${base}/subjects/${encodeURIComponent(subject)}/versions`;
    const versions = await getJson<number[]>(at);
    out.set(subject, await Promise.all(versions.map(async (v) => ({ ...(await getJson<{ id: number; schema: string }>(`${at}/${v}`)), subject, version: v }))));
  }
  return out;
}
