import type { Command } from 'commander';
import { parseEnv } from '../lib/config';
import { redactUrl } from '../lib/logger';
import { migrate, migrationStatus } from '../sinks/postgres/migrations';
import { connectionEnv } from './connections';
import { postgresSettings } from '../lib/shared.settings';

/**
 * `pdmctl db migrate` / `db status`: the Postgres sink's migrations (sinks/postgres/migrations/),
 * applied with DATABASE_URL (the schema owner). sink-postgres applies them at start too.
 */
const schema = postgresSettings;

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('the Postgres schema of sink-postgres: migrations and their state');
  db.command('migrate')
    .description('apply pending migrations (under an advisory lock) and set the roles\' passwords from PDM_WRITER_PASSWORD / PDM_ANALYST_PASSWORD')
    .action(async () => {
      const env = parseEnv(schema, connectionEnv());
      const applied = await migrate({ url: env.DATABASE_URL, schema: env.PDM_POSTGRES_SCHEMA, writerPassword: env.PDM_WRITER_PASSWORD, analystPassword: env.PDM_ANALYST_PASSWORD });
      console.log(applied.length === 0 ? `${redactUrl(env.DATABASE_URL)} schema ${env.PDM_POSTGRES_SCHEMA}: up to date` : applied.map((m) => `applied ${m.file}`).join('\n'));
    });
  db.command('status')
    .description('each migration: applied (when), pending, changed since applied, or missing here; exit 1 unless all are applied')
    .action(async () => {
      const env = parseEnv(schema, connectionEnv());
      const plan = await migrationStatus({ url: env.DATABASE_URL, schema: env.PDM_POSTGRES_SCHEMA });
      for (const s of plan.status) console.log(`${String(s.version).padStart(3, '0')}_${s.name}\t${s.state}${s.appliedAt ? `\t${s.appliedAt.toISOString()}` : ''}`);
      for (const p of plan.problems) console.error(`${p.code}: ${p.message}`);
      if (plan.status.some((s) => s.state !== 'applied')) process.exitCode = 1;
    });
}
