import { spawnSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { repoRoot } from '../../lib/paths';
import { migrate, readMigrationFiles } from '../../sinks/postgres/migrations';
import { testEnv, uniqueName } from './servers';

/**
 * The sink's migrations against the real primary, in a schema of this run's own: two runners at
 * once apply each file once (advisory lock), `pdmctl db status` / `db migrate` say where things
 * stand, and a migration changed after it was applied is refused with what to do.
 */

const pdmctl = (args: string[], env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'pdmctl.js'), ...args], { encoding: 'utf8', env, timeout: 60_000 });

describe('postgres migrations', () => {
  const env = testEnv();
  const schema = uniqueName('mig').replace(/-/g, '_');
  const owner = new pg.Client({ connectionString: env.databaseUrl });
  const files = readMigrationFiles();

  beforeAll(() => owner.connect());
  afterAll(async () => {
    await owner.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await owner.end();
  });

  test('two runners at once apply every file exactly once, recorded with its checksum', async () => {
    const [a, b] = await Promise.all([migrate({ url: env.databaseUrl, schema }), migrate({ url: env.databaseUrl, schema })]);
    expect([a.length, b.length].sort()).toEqual([0, files.length]);
    const recorded = (await owner.query(`SELECT version, name, checksum FROM ${schema}.schema_migrations ORDER BY version`)).rows;
    expect(recorded).toEqual(files.map((f) => ({ version: f.version, name: f.name, checksum: f.checksum })));
    const tables = (await owner.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [schema])).rows.map((r) => r.table_name as string);
    expect(tables).toEqual(expect.arrayContaining(['alerts', 'assessments', 'forecasts', 'notifications', 'schema_migrations', 'window_features']));
  });

  test('db status lists them applied; db migrate has nothing to do', () => {
    const runEnv = { ...process.env, PDM_POSTGRES_SCHEMA: schema };
    const status = pdmctl(['db', 'status'], runEnv);
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/^001_window_features\tapplied\t\d{4}-/m);
    expect(status.stdout).toMatch(/^002_alerts\tapplied\t/m);
    const again = pdmctl(['db', 'migrate'], runEnv);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`schema ${schema}: up to date`);
  });

  test('an applied migration whose file changed is refused, by migrate and by status', async () => {
    await owner.query(`UPDATE ${schema}.schema_migrations SET checksum = 'a1b2c3d4e5f6' || checksum WHERE version = 2`);
    await expect(migrate({ url: env.databaseUrl, schema })).rejects.toMatchObject({ code: 'MIGRATION_CHANGED', message: expect.stringContaining('002_alerts.sql was applied on') });
    const status = pdmctl(['db', 'status'], { ...process.env, PDM_POSTGRES_SCHEMA: schema });
    expect(status.status).toBe(1);
    expect(status.stdout).toMatch(/^002_alerts\tchanged\t/m);
    expect(status.stderr).toContain('never edit an applied migration, add a new one');
    const run = pdmctl(['db', 'migrate'], { ...process.env, PDM_POSTGRES_SCHEMA: schema });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('002_alerts.sql was applied on');
  });
});
