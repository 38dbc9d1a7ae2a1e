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
}

export function loadSecrets(stateDir: string): StackSecrets {
  const file = path.join(stateDir, 'secrets.json');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as StackSecrets;
  } catch {
    const secrets: StackSecrets = {
      postgresSuperuserPassword: crypto.randomBytes(18).toString('base64url'),
      pdmPassword: crypto.randomBytes(18).toString('base64url'),
      replicationPassword: crypto.randomBytes(18).toString('base64url'),
    };
    fs.mkdirSync(stateDir, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    return secrets;
  }
}
