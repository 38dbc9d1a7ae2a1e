import { randomUUID } from 'node:crypto';

/**
 * What integration tests share: the connection settings global-setup put into the environment,
 * and unique names so tests never see each other's topics, groups or rows.
 */
export function testEnv(): { kafkaBrokers: string[]; registryUrl: string; databaseUrl: string; followerUrl: string; smtpUrl: string } {
  const need = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: integration tests run through jest's global setup (npm test)`);
    return value;
  };
  return {
    kafkaBrokers: need('KAFKA_BROKERS').split(','),
    registryUrl: need('SCHEMA_REGISTRY_URL'),
    databaseUrl: need('DATABASE_URL'),
    followerUrl: need('DATABASE_FOLLOWER_URL'),
    smtpUrl: need('SMTP_URL'),
  };
}

/** A name no other test run uses: `t-<label>-<8 hex>`. */
export const uniqueName = (label: string): string => `t-${label}-${randomUUID().slice(0, 8)}`;
