import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { PdmError } from '../../lib/errors';
import { ensureDebianPackages, findPostgresBinDir } from '../artifacts';
import { serverDir, type LaunchSpec, type StackContext, type StackServer } from '../server';

/**
 * Postgres primary and a streaming-replication follower (hot standby, read-only), as the
 * analysts' setup has it. initdb refuses to run as root, so when the stack is started by root
 * the clusters belong to the `postgres` user that Debian's package creates.
 */

export const FOLLOWER_SLOT = 'pdm_follower';
export const PIPELINE_DATABASE = 'pdm';
export const PIPELINE_ROLE = 'pdm';

function binDir(ctx: StackContext): string {
  let dir = findPostgresBinDir();
  if (!dir) {
    ensureDebianPackages(['postgresql'], ctx.reporter);
    dir = findPostgresBinDir();
  }
  if (!dir) throw new PdmError('STACK_PREREQUISITE', 'no Postgres server binaries found (initdb, postgres, pg_basebackup); set PDM_PG_BINDIR to their folder');
  return dir;
}

/** The user the clusters run as: ourselves, or `postgres` when we are root. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0) {
    const created = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { encoding: 'utf8' });
    if (created.status !== 0) throw new PdmError('STACK_PREREQUISITE', `Postgres can't run as root and no postgres user could be created: ${created.stderr}`);
    return runAs();
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Fails clearly when the user the cluster runs as can't reach its folder (a private home, say). */
function assertReachable(dir: string, user: { uid: number; gid: number } | undefined): void {
  if (!user) return;
  const probe = spawnSync('test', ['-x', dir], { uid: user.uid, gid: user.gid });
  if (probe.status !== 0) {
    throw new PdmError('STACK_PREREQUISITE', `Postgres runs as the unprivileged user postgres, which can't reach ${dir}: put PDM_STATE_DIR under folders others may traverse (chmod o+x on its parents)`);
  }
}

function makeOwnedDir(dir: string, user: { uid: number; gid: number } | undefined, mode = 0o700): void {
  fs.mkdirSync(dir, { recursive: true, mode });
  fs.chmodSync(dir, mode);
  if (user) fs.chownSync(dir, user.uid, user.gid);
}

function run(command: string, args: string[], user: { uid: number; gid: number } | undefined, env: NodeJS.ProcessEnv = process.env, what = command): void {
  const result = spawnSync(command, args, { encoding: 'utf8', uid: user?.uid, gid: user?.gid, env, cwd: '/' });
  if (result.status !== 0) throw new PdmError('STACK_SERVER_FAILED', `${what} failed (exit ${result.status}):\n${(result.stdout + result.stderr).trim().slice(-3000)}`);
}

/** Settings given on the command line, so a change of port takes effect at the next start. */
function serverArgs(dataDir: string, host: string, port: number): string[] {
  return [
    '-D', dataDir,
    '-c', `listen_addresses=${host}`,
    '-c', `port=${port}`,
    // No Unix socket: its path would depend on folders we may not own. Clients use TCP.
    '-c', 'unix_socket_directories=',
    '-c', 'wal_level=replica',
    '-c', 'max_wal_senders=10',
    '-c', 'max_replication_slots=10',
    '-c', 'hot_standby=on',
    '-c', 'hot_standby_feedback=on',
    '-c', 'logging_collector=off',
    '-c', 'log_min_messages=warning',
    '-c', 'log_connections=off',
  ];
}

export function superuserUrl(ctx: StackContext, port: number): string {
  return `postgres://postgres:${encodeURIComponent(ctx.secrets.postgresSuperuserPassword)}@${ctx.settings.PDM_STACK_HOST}:${port}/postgres`;
}

async function query<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const postgresPrimary: StackServer = {
  name: 'postgres',
  dependsOn: [],
  stopSignal: 'SIGINT', // fast shutdown: roll back open transactions, checkpoint, exit
  title: () => 'Postgres primary',
  address: (ctx) => `${ctx.settings.PDM_STACK_HOST}:${ctx.settings.PDM_POSTGRES_PORT}`,
  ports: (ctx) => [ctx.settings.PDM_POSTGRES_PORT],
  marker: (ctx) => path.join(serverDir(ctx, 'postgres'), 'data'),

  async prepare(ctx): Promise<LaunchSpec> {
    const bin = binDir(ctx);
    const user = runAs();
    const dir = serverDir(ctx, 'postgres');
    const dataDir = path.join(dir, 'data');
    makeOwnedDir(dir, user, 0o755);
    assertReachable(dir, user);
    if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
      fs.rmSync(dataDir, { recursive: true, force: true });
      makeOwnedDir(dataDir, user);
      const pwfile = path.join(dir, '.pwfile');
      fs.writeFileSync(pwfile, `${ctx.secrets.postgresSuperuserPassword}\n`, { mode: 0o600 });
      if (user) fs.chownSync(pwfile, user.uid, user.gid);
      try {
        run(path.join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth-local=scram-sha-256', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8'], user, process.env, 'initdb');
      } finally {
        fs.rmSync(pwfile, { force: true });
      }
      fs.writeFileSync(
        path.join(dataDir, 'pg_hba.conf'),
        [
          '# written by pdmctl stack: password logins over loopback only',
          'host all all 127.0.0.1/32 scram-sha-256',
          'host all all ::1/128 scram-sha-256',
          'host replication replicator 127.0.0.1/32 scram-sha-256',
          'host replication replicator ::1/128 scram-sha-256',
          '',
        ].join('\n'),
      );
    }
    return { command: path.join(bin, 'postgres'), args: serverArgs(dataDir, ctx.settings.PDM_STACK_HOST, ctx.settings.PDM_POSTGRES_PORT), user };
  },

  async probe(ctx) {
    await query(superuserUrl(ctx, ctx.settings.PDM_POSTGRES_PORT), (c) => c.query('SELECT 1'));
    return undefined;
  },

  async afterReady(ctx) {
    await query(superuserUrl(ctx, ctx.settings.PDM_POSTGRES_PORT), async (client) => {
      const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
      const roles = await client.query<{ rolname: string }>(`SELECT rolname FROM pg_roles WHERE rolname IN ('replicator', '${PIPELINE_ROLE}')`);
      const have = new Set(roles.rows.map((r) => r.rolname));
      if (!have.has('replicator')) await client.query(`CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD ${quote(ctx.secrets.replicationPassword)}`);
      if (!have.has(PIPELINE_ROLE)) await client.query(`CREATE ROLE ${PIPELINE_ROLE} WITH LOGIN CREATEROLE PASSWORD ${quote(ctx.secrets.pdmPassword)}`);
      const db = await client.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [PIPELINE_DATABASE]);
      if (db.rowCount === 0) await client.query(`CREATE DATABASE ${PIPELINE_DATABASE} OWNER ${PIPELINE_ROLE}`);
    });
  },
};

export const postgresFollower: StackServer = {
  name: 'postgres-follower',
  dependsOn: ['postgres'],
  stopSignal: 'SIGINT',
  title: () => 'Postgres follower (streaming replica, read-only)',
  address: (ctx) => `${ctx.settings.PDM_STACK_HOST}:${ctx.settings.PDM_POSTGRES_FOLLOWER_PORT}`,
  ports: (ctx) => [ctx.settings.PDM_POSTGRES_FOLLOWER_PORT],
  marker: (ctx) => path.join(serverDir(ctx, 'postgres-follower'), 'data'),

  async prepare(ctx): Promise<LaunchSpec> {
    const bin = binDir(ctx);
    const user = runAs();
    const dir = serverDir(ctx, 'postgres-follower');
    const dataDir = path.join(dir, 'data');
    makeOwnedDir(dir, user, 0o755);
    assertReachable(dir, user);
    if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
      fs.rmSync(dataDir, { recursive: true, force: true });
      // A slot left by an earlier follower would make the new base backup fail; its WAL is no
      // longer of use to anyone.
      await query(superuserUrl(ctx, ctx.settings.PDM_POSTGRES_PORT), (c) =>
        c.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [FOLLOWER_SLOT]),
      );
      ctx.reporter.progress('  postgres-follower: taking a base backup of the primary');
      run(
        path.join(bin, 'pg_basebackup'),
        ['-h', ctx.settings.PDM_STACK_HOST, '-p', String(ctx.settings.PDM_POSTGRES_PORT), '-U', 'replicator', '-D', dataDir, '-R', '-X', 'stream', '-C', '-S', FOLLOWER_SLOT, '--checkpoint=fast'],
        user,
        { ...process.env, PGPASSWORD: ctx.secrets.replicationPassword },
        'pg_basebackup',
      );
      ctx.reporter.done();
    }
    return { command: path.join(bin, 'postgres'), args: serverArgs(dataDir, ctx.settings.PDM_STACK_HOST, ctx.settings.PDM_POSTGRES_FOLLOWER_PORT), user };
  },

  async probe(ctx) {
    return query(superuserUrl(ctx, ctx.settings.PDM_POSTGRES_FOLLOWER_PORT), async (client) => {
      const recovery = await client.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby');
      if (!recovery.rows[0]?.standby) return 'it answers but is not in recovery (not a standby)';
      const receiver = await client.query<{ status: string }>('SELECT status FROM pg_stat_wal_receiver');
      const status = receiver.rows[0]?.status;
      return status === 'streaming' ? undefined : `WAL receiver is ${status ?? 'not running'}`;
    });
  },
};
