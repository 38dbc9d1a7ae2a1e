import fs from 'node:fs';
import path from 'node:path';
import { COMPATIBILITY, SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { parseEnv } from './config';
import { PdmError } from './errors';
import { kafkaSettings } from './shared.settings';
import { repoRoot } from './paths';
import { keySubject, valueSubject, type TopicSpec } from './topics';

/** schemas/ is the source of truth for every key and value (CONTRACT.md). */
export const schemasDir = path.join(repoRoot, 'schemas');

export function readSchema(file: string): string {
  return fs.readFileSync(path.join(schemasDir, file), 'utf8');
}

/** The registry client of @kafkajs/confluent-schema-registry, with the base URL it was made for. */
export interface Registry {
  url: string;
  client: SchemaRegistry;
}

export function createRegistry(url: string): Registry {
  return { url: url.replace(/\/+$/, ''), client: new SchemaRegistry({ host: url }) };
}

/** SCHEMA_REGISTRY_URL, as every command reads it; a clear error when it is missing. */
export function registryUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const url = parseEnv(kafkaSettings, env).SCHEMA_REGISTRY_URL;
  if (!url) throw new PdmError('CONFIG_INVALID', 'SCHEMA_REGISTRY_URL is not set (run `eval "$(npx pdmctl stack env)"` for the local stack)');
  return url;
}

/** One call to the Confluent-compatible REST API; errors carry the registry's own message. */
async function call<T>(registry: Registry, method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${registry.url}${path}`, {
    method,
    headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json', Accept: 'application/vnd.schemaregistry.v1+json, application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok) throw new PdmError('REGISTRY', `${method} ${path}: HTTP ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Sets a subject's compatibility level (PUT /config/{subject}). */
export async function setSubjectCompatibility(registry: Registry, subject: string, compatibility: COMPATIBILITY): Promise<void> {
  await call(registry, 'PUT', `/config/${encodeURIComponent(subject)}`, { compatibility });
}

export interface SubjectReport {
  subject: string;
  schema: string;
  id: number;
}

/**
 * Registers the key and value schema of every topic under `<topic>-key` / `<topic>-value` with
 * BACKWARD compatibility (set on the subject before the first version, so even the first
 * registration is checked against later ones). Registering the same schema again returns its id.
 */
export async function registerTopicSchemas(registry: Registry, specs: readonly TopicSpec[]): Promise<SubjectReport[]> {
  const reports: SubjectReport[] = [];
  for (const spec of specs) {
    for (const [subject, file] of [
      [keySubject(spec.name), spec.keySchema],
      [valueSubject(spec.name), spec.valueSchema],
    ] as const) {
      if (!file) continue;
      reports.push({ subject, schema: file, id: await registerSchema(registry, subject, readSchema(file)) });
    }
  }
  return reports;
}

/**
 * Registers an Avro schema under a subject with BACKWARD compatibility and returns its id. Plain
 * REST rather than the client's register(), which only takes named (record) schemas and so can't
 * register a `"string"` key.
 */
export async function registerSchema(registry: Registry, subject: string, schema: string): Promise<number> {
  try {
    await setSubjectCompatibility(registry, subject, COMPATIBILITY.BACKWARD);
    const { id } = await call<{ id: number }>(registry, 'POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema, schemaType: 'AVRO' });
    return id;
  } catch (cause) {
    throw new PdmError('REGISTRY', `registering ${subject} failed: ${describeRegistryError(cause)}`, { cause });
  }
}

function describeRegistryError(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { message?: string; status?: number };
    return [e.status ? `HTTP ${e.status}` : undefined, e.message].filter(Boolean).join(' ');
  }
  return String(err);
}
