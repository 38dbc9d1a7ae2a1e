import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Passwords of the local stack, generated on first `stack up` and kept in the state folder
 * (mode 0600, git-ignored). `stack env` hands them to the shell that asks; logs never show them.
 */
export interface StackSecrets {
  postgresSuperuserPassword: string;
  pdmPassword: string;
  replicationPassword: string;
  /** Logins of sink-postgres' roles (sinks/postgres/migrations/002_alerts.sql); added to older secrets files on first read. */
  writerPassword: string;
  analystPassword: string;
}

export function loadSecrets(stateDir: string): StackSecrets {
  const file = path.join(stateDir, 'secrets.json');
  const generate = () => crypto.randomBytes(18).toString('base64url');
  let existing: Partial<StackSecrets> | undefined;
  try {
    existing = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<StackSecrets>;
  } catch {
    existing = undefined;
  }
  if (existing) {
    if (existing.writerPassword && existing.analystPassword) return existing as StackSecrets;
    const completed = { ...existing, writerPassword: existing.writerPassword ?? generate(), analystPassword: existing.analystPassword ?? generate() } as StackSecrets;
    fs.writeFileSync(file, JSON.stringify(completed, null, 2), { mode: 0o600 });
    return completed;
  }
  const secrets: StackSecrets = {
    postgresSuperuserPassword: generate(),
    pdmPassword: generate(),
    replicationPassword: generate(),
    writerPassword: generate(),
    analystPassword: generate(),
  };
  fs.mkdirSync(stateDir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}
