import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { deleteTopics } from '../../lib/kafka/admin';
import { kafkaConnectionFromEnv } from '../../lib/kafka/client';
import { repoRoot } from '../../lib/paths';
import { topicSpecs } from '../../lib/topics';
import { uniqueName } from './servers';

const pdmctl = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'pdmctl.js'), ...args], { encoding: 'utf8', env, timeout: 120_000 });

describe('pdmctl as a person runs it', () => {
  test('train without a data source names the sources and exits non-zero', () => {
    const result = pdmctl(['train']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/choose one source: --simulate, --from-csv FILE, --from-postgres/);
  });

  test('stack env prints export lines a shell can eval', () => {
    const result = pdmctl(['stack', 'env']);
    expect(result.status).toBe(0);
    const shell = spawnSync('sh', ['-c', `${result.stdout}\nprintf '%s|%s|%s' "$KAFKA_BROKERS" "$SCHEMA_REGISTRY_URL" "$DATABASE_FOLLOWER_URL"`], { encoding: 'utf8' });
    const [brokers, registry, follower] = shell.stdout.split('|');
    expect(brokers).toMatch(/^[\w.-]+:\d+$/);
    expect(registry).toMatch(/^http:\/\/.+\/apis\/ccompat\/v7$/);
    expect(follower).toMatch(/^postgres:\/\/pdm:.+@.+:\d+\/pdm$/);
  });

  (process.env.PDM_TEST_SERVERS === 'local' ? test : test.skip)('stack status reports every server healthy', () => {
    const result = pdmctl(['stack', 'status', '--json']);
    expect(result.status).toBe(0);
    const statuses = JSON.parse(result.stdout) as Array<{ name: string; state: string }>;
    expect(statuses.map((s) => s.name)).toEqual(['kafka', 'registry', 'postgres', 'postgres-follower', 'smtp', 'prometheus']);
    expect(statuses.every((s) => s.state === 'healthy')).toBe(true);
  });

  test('topics creates and registers everything, and a second run finds it all in order', () => {
    const prefix = `${uniqueName('cli')}.`;
    const first = pdmctl(['topics', '--prefix', prefix, '--partitions', '2']);
    expect(first.stderr).toContain(`${prefix}pdm.window-features.v1`);
    expect(first.status).toBe(0);
    const second = pdmctl(['topics', '--prefix', prefix, '--partitions', '2']);
    expect(second.status).toBe(0);
    expect(second.stderr.match(/ ok$/gm)).toHaveLength(topicSpecs().length);
  });

  test('PDM_TOPIC_PREFIX, as a new user sets it, prefixes the topics pdmctl topics creates and the ones simulate then writes', async () => {
    const prefix = `${uniqueName('cli-env')}.`;
    const env = { ...process.env, PDM_TOPIC_PREFIX: prefix };
    try {
      const topics = pdmctl(['topics', '--partitions', '1'], env);
      expect(topics.status).toBe(0);
      expect(topics.stderr).toContain(`${prefix}pdm.sensor-readings.v1 `);
      expect(topics.stderr).toContain(`${prefix}pdm.sensor-readings.v1-value`);
      const simulate = pdmctl(['simulate', '--machines', '1', '--duration', '1m', '--speed', 'max'], env);
      expect(simulate.stderr).toMatch(/Done: \d+ readings produced/);
      expect(simulate.status).toBe(0);
    } finally {
      await deleteTopics(kafkaConnectionFromEnv('cli-itest-cleanup'), topicSpecs({ prefix }).map((spec) => spec.name));
    }
  });
});
