import { checksumOf, forSchema, MigrationError, parseMigrationFiles, planMigrations, readMigrationFiles, type AppliedMigration } from './migrations';

const files = parseMigrationFiles([
  { file: '002_alerts.sql', sql: 'CREATE TABLE pdm.alerts ();' },
  { file: '001_window_features.sql', sql: 'CREATE SCHEMA IF NOT EXISTS pdm;' },
]);
const at = new Date('2026-01-05T08:00:00Z');
const applied = (version: number, sql: string, name = 'x'): AppliedMigration => ({ version, name, checksum: checksumOf(sql), appliedAt: at });

describe('migration files', () => {
  test('are ordered by version, named by their file', () => {
    expect(files.map((f) => [f.version, f.name])).toEqual([
      [1, 'window_features'],
      [2, 'alerts'],
    ]);
  });

  test.each([
    ['a name without a version', [{ file: 'alerts.sql', sql: '' }], 'MIGRATION_FILE_NAME'],
    ['two files of one version', [{ file: '001_a.sql', sql: '' }, { file: '001_b.sql', sql: '' }], 'MIGRATION_DUPLICATE'],
  ])('refuse %s', (_name, input, code) => {
    expect(() => parseMigrationFiles(input)).toThrow(expect.objectContaining({ code }));
  });

  test('the repository\'s migrations parse, 001 and 002 first', () => {
    const own = readMigrationFiles();
    expect(own.slice(0, 2).map((f) => f.file)).toEqual(['001_window_features.sql', '002_alerts.sql']);
  });

  test('a checksum ignores CRLF line ends, nothing else', () => {
    expect(checksumOf('a;\r\nb;')).toBe(checksumOf('a;\nb;'));
    expect(checksumOf('a;\nb;')).not.toBe(checksumOf('a; \nb;'));
  });
});

describe('planMigrations', () => {
  test.each([
    ['a new database: everything pending', [], [1, 2], []],
    ['001 applied: 002 pending', [applied(1, 'CREATE SCHEMA IF NOT EXISTS pdm;')], [2], []],
    ['all applied: nothing to do', [applied(1, 'CREATE SCHEMA IF NOT EXISTS pdm;'), applied(2, 'CREATE TABLE pdm.alerts ();')], [], []],
    ['an applied file changed', [applied(1, 'CREATE SCHEMA pdm;')], [2], ['MIGRATION_CHANGED']],
    ['an applied migration without a file', [applied(1, 'CREATE SCHEMA IF NOT EXISTS pdm;'), applied(2, 'CREATE TABLE pdm.alerts ();'), applied(3, 'x', 'notifications')], [], ['MIGRATION_MISSING']],
    ['a file slipped in before an applied one', [applied(2, 'CREATE TABLE pdm.alerts ();')], [1], ['MIGRATION_OUT_OF_ORDER']],
  ])('%s', (_name, done, pending, problems) => {
    const plan = planMigrations(files, done);
    expect(plan.pending.map((f) => f.version)).toEqual(pending);
    expect(plan.problems.map((p) => p.code)).toEqual(problems);
  });

  test('a changed migration is named with both checksums and what to do', () => {
    const plan = planMigrations(files, [applied(1, 'CREATE SCHEMA pdm;')]);
    expect(plan.status[0]).toMatchObject({ version: 1, state: 'changed' });
    expect(plan.problems[0]!.message).toMatch(/001_window_features\.sql was applied on 2026-01-05T08:00:00\.000Z with checksum [0-9a-f]{12}, and the file now has [0-9a-f]{12}: never edit an applied migration, add a new one/);
  });
});

describe('forSchema', () => {
  test.each([
    ['CREATE SCHEMA IF NOT EXISTS pdm;', 'CREATE SCHEMA IF NOT EXISTS t_x;'],
    ['CREATE TABLE pdm.alerts (a int); CREATE INDEX i ON pdm.alerts (a);', 'CREATE TABLE t_x.alerts (a int); CREATE INDEX i ON t_x.alerts (a);'],
    ['GRANT USAGE ON SCHEMA pdm TO pdm_writer, pdm_analyst;', 'GRANT USAGE ON SCHEMA t_x TO pdm_writer, pdm_analyst;'],
    ['ALTER DEFAULT PRIVILEGES IN SCHEMA pdm GRANT SELECT ON TABLES TO pdm_analyst;', 'ALTER DEFAULT PRIVILEGES IN SCHEMA t_x GRANT SELECT ON TABLES TO pdm_analyst;'],
    ['CREATE ROLE pdm_writer NOLOGIN;', 'CREATE ROLE pdm_writer NOLOGIN;'],
  ])('%s', (sql, expected) => {
    expect(forSchema(sql, 't_x')).toBe(expected);
  });

  test('pdm itself is left as written; a name that is not an identifier is refused', () => {
    expect(forSchema('CREATE TABLE pdm.a ();', 'pdm')).toBe('CREATE TABLE pdm.a ();');
    expect(() => forSchema('', 'x; DROP')).toThrow(MigrationError);
  });
});
