import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { PdmError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';

/**
 * Versioned SQL migrations (`migrations/NNN_name.sql`), applied in order, each in its own
 * transaction, and recorded with a checksum in `<schema>.schema_migrations`. A migration that was
 * applied and has changed since is refused: a database must never silently differ from what its
 * files say. Runs under an advisory lock, so two sinks starting at once apply each file once.
 *
 * Files name the schema `pdm`. Applied to another schema (each integration test run has its
 * own), the runner renames that identifier: `pdm.` before a name, and `SCHEMA pdm`. The checksum
 * is of the file as written, whatever schema it is applied to.
 *
 * The planning (which files are pending, which applied ones changed) is pure; the rest is I/O.
 */

export type MigrationErrorCode = 'MIGRATION_FILE_NAME' | 'MIGRATION_DUPLICATE' | 'MIGRATION_CHANGED' | 'MIGRATION_MISSING' | 'MIGRATION_OUT_OF_ORDER' | 'MIGRATION_FAILED' | 'MIGRATION_DB';

export class MigrationError extends PdmError<MigrationErrorCode> {
  constructor(code: MigrationErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'MigrationError';
  }
}

export const MIGRATIONS_DIR = path.join(__dirname, 'migrations');
export const DEFAULT_SCHEMA = 'pdm';
/** pg_advisory_lock key of migration runs: "pdm_migr" as a 64-bit integer. Roles are cluster-wide, so all schemas share it. */
export const MIGRATION_LOCK_KEY = '8098989675432290162';

export interface MigrationFile {
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
  appliedAt: Date;
}

export type MigrationState = 'applied' | 'pending' | 'changed' | 'missing';

export interface MigrationStatus {
  version: number;
  name: string;
  state: MigrationState;
  appliedAt?: Date;
}

export interface MigrationPlan {
  status: MigrationStatus[];
  pending: MigrationFile[];
  /** Why nothing may be applied; empty when the plan can run. */
  problems: Array<{ code: MigrationErrorCode; message: string }>;
}

const FILE_NAME = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

export const checksumOf = (sql: string): string => createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');

/** The migration files of a folder text, by version. Pure: takes names and contents. */
export function parseMigrationFiles(files: ReadonlyArray<{ file: string; sql: string }>): MigrationFile[] {
  const out: MigrationFile[] = [];
  for (const { file, sql } of files) {
    const match = FILE_NAME.exec(file);
    if (!match) throw new MigrationError('MIGRATION_FILE_NAME', `${file}: a migration is named NNN_name.sql (digits, underscore, lower-case name)`);
    out.push({ version: Number(match[1]), name: match[2]!, file, sql, checksum: checksumOf(sql) });
  }
  out.sort((a, b) => a.version - b.version);
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.version === out[i - 1]!.version) throw new MigrationError('MIGRATION_DUPLICATE', `${out[i - 1]!.file} and ${out[i]!.file} have the same version ${out[i]!.version}`);
  }
  return out;
}

export function readMigrationFiles(dir: string = MIGRATIONS_DIR): MigrationFile[] {
  const names = fs.readdirSync(dir).filter((f) => f.endsWith('.sql'));
  return parseMigrationFiles(names.map((file) => ({ file, sql: fs.readFileSync(path.join(dir, file), 'utf8') })));
}

/** What to apply, given the files and what the database has recorded. */
export function planMigrations(files: readonly MigrationFile[], applied: readonly AppliedMigration[]): MigrationPlan {
  const byVersion = new Map(applied.map((a) => [a.version, a]));
  const fileVersions = new Set(files.map((f) => f.version));
  const status: MigrationStatus[] = [];
  const pending: MigrationFile[] = [];
  const problems: MigrationPlan['problems'] = [];
  const highestApplied = Math.max(0, ...applied.map((a) => a.version));
  for (const file of files) {
    const done = byVersion.get(file.version);
    if (!done) {
      status.push({ version: file.version, name: file.name, state: 'pending' });
      pending.push(file);
      if (file.version < highestApplied) {
        problems.push({ code: 'MIGRATION_OUT_OF_ORDER', message: `${file.file} is not applied but ${highestApplied} is: give it a version after ${highestApplied}` });
      }
    } else if (done.checksum !== file.checksum) {
      status.push({ version: file.version, name: file.name, state: 'changed', appliedAt: done.appliedAt });
      problems.push({
        code: 'MIGRATION_CHANGED',
        message: `${file.file} was applied on ${done.appliedAt.toISOString()} with checksum ${done.checksum.slice(0, 12)}, and the file now has ${file.checksum.slice(0, 12)}: never edit an applied migration, add a new one`,
      });
    } else status.push({ version: file.version, name: file.name, state: 'applied', appliedAt: done.appliedAt });
  }
  for (const done of applied) {
    if (fileVersions.has(done.version)) continue;
    status.push({ version: done.version, name: done.name, state: 'missing', appliedAt: done.appliedAt });
    problems.push({ code: 'MIGRATION_MISSING', message: `migration ${done.version} (${done.name}) is applied but has no file here: this code is older than the database` });
  }
  status.sort((a, b) => a.version - b.version);
  return { status, pending, problems };
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** A migration's SQL for `schema` instead of `pdm` (see above). */
export function forSchema(sql: string, schema: string): string {
  if (!IDENTIFIER.test(schema)) throw new MigrationError('MIGRATION_FAILED', `not a schema name: ${JSON.stringify(schema)}`);
  if (schema === DEFAULT_SCHEMA) return sql;
  return sql.replace(/\bpdm\./g, `${schema}.`).replace(/(\bSCHEMA\s+(?:IF\s+NOT\s+EXISTS\s+)?)pdm\b/gi, `$1${schema}`);
}

export interface MigrateOptions {
  /** The owner's connection (DDL): DATABASE_URL. */
  url: string;
  schema?: string;
  dir?: string;
  /** Set as the login password of pdm_writer / pdm_analyst after the migrations, when given. */
  writerPassword?: string;
  analystPassword?: string;
  logger?: Logger;
  connectTimeoutMs?: number;
}

async function withClient<T>(options: MigrateOptions, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: options.connectTimeoutMs ?? 5000 });
  // A connection lost between queries must surface as a failed query, not an uncaught error.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (cause) {
    throw new MigrationError('MIGRATION_DB', `cannot connect to the database to migrate: ${(cause as Error).message}`, { cause });
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function readApplied(client: pg.Client, schema: string): Promise<AppliedMigration[] | undefined> {
  const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${schema}.schema_migrations`]);
  if (!exists.rows[0]?.t) return undefined;
  const rows = await client.query<{ version: number; name: string; checksum: string; applied_at: Date }>(`SELECT version, name, checksum, applied_at FROM ${schema}.schema_migrations ORDER BY version`);
  return rows.rows.map((r) => ({ version: r.version, name: r.name, checksum: r.checksum, appliedAt: r.applied_at }));
}

export async function migrationStatus(options: MigrateOptions): Promise<MigrationPlan> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const files = readMigrationFiles(options.dir);
  return withClient(options, async (client) => planMigrations(files, (await readApplied(client, schema)) ?? []));
}

/** Applies what is pending (refusing a changed or missing one), then sets the roles' passwords. Returns the files applied. */
export async function migrate(options: MigrateOptions): Promise<MigrationFile[]> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  forSchema('', schema); // validates the name before it reaches SQL
  const files = readMigrationFiles(options.dir);
  const log = options.logger?.child({ component: 'migrations', schema });
  return withClient(options, async (client) => {
    const sql = async (text: string, values?: unknown[]) => {
      try {
        return await client.query(text, values);
      } catch (cause) {
        throw new MigrationError('MIGRATION_DB', `${(cause as Error).message} (in: ${text.slice(0, 80)})`, { cause });
      }
    };
    await sql('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      // Nothing pending means no DDL at all: a sink connected as pdm_writer may run this too.
      let applied = await readApplied(client, schema);
      if (!applied) {
        await sql(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        await sql(`CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
          version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now(), duration_ms integer NOT NULL)`);
        applied = [];
      }
      const plan = planMigrations(files, applied);
      if (plan.problems.length > 0) {
        const first = plan.problems[0]!;
        throw new MigrationError(first.code, plan.problems.map((p) => p.message).join('; '));
      }
      for (const file of plan.pending) {
        const started = Date.now();
        await sql('BEGIN');
        try {
          await client.query(forSchema(file.sql, schema));
          await client.query(`INSERT INTO ${schema}.schema_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)`, [file.version, file.name, file.checksum, Date.now() - started]);
          await client.query('COMMIT');
        } catch (cause) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new MigrationError('MIGRATION_FAILED', `${file.file} failed and was rolled back: ${(cause as Error).message}`, { cause });
        }
        log?.info({ migration: file.file, ms: Date.now() - started }, 'migration applied');
      }
      await setRolePasswords(client, options);
      return plan.pending;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  });
}

/** Logins for the contract's roles, with passwords from the environment (never from a file). */
async function setRolePasswords(client: pg.Client, options: MigrateOptions): Promise<void> {
  for (const [role, password] of [
    ['pdm_writer', options.writerPassword],
    ['pdm_analyst', options.analystPassword],
  ] as const) {
    if (!password) continue;
    try {
      // ALTER ROLE takes no bind parameters; escapeLiteral quotes the password.
      await client.query(`ALTER ROLE ${role} WITH LOGIN PASSWORD ${client.escapeLiteral(password)}`);
    } catch (cause) {
      throw new MigrationError('MIGRATION_DB', `cannot set the password of ${role} (the migrating user needs CREATEROLE): ${(cause as Error).message}`, { cause });
    }
  }
}
