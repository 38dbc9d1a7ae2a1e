import { deleteTopics, ensureTopics } from '../../lib/kafka/admin';
import { createRegistry, registerTopicSchemas } from '../../lib/registry';
import { topicSpecs } from '../../lib/topics';
import { testEnv, uniqueName } from './servers';

describe('pdmctl topics, on a real broker and registry', () => {
  const env = testEnv();
  const connection = { brokers: env.kafkaBrokers, clientId: 'topics-test' };

  test('creates every topic with its configuration, then finds it in order on the next run', async () => {
    const prefix = `${uniqueName('topics')}.`;
    const specs = topicSpecs({ prefix, partitions: 3 });
    try {
      const first = await ensureTopics(connection, specs);
      expect(first.map((r) => r.status)).toEqual(specs.map(() => 'created'));
      const second = await ensureTopics(connection, specs);
      expect(second).toEqual(specs.map((s) => ({ topic: s.name, status: 'ok', differences: [] })));
    } finally {
      await deleteTopics(connection, specs.map((s) => s.name));
    }
  });

  test('reports a topic whose partitions or cleanup policy differ, and leaves it as it is', async () => {
    const prefix = `${uniqueName('drift')}.`;
    const expected = topicSpecs({ prefix, partitions: 3 });
    const windowSpec = expected.find((s) => s.contractName === 'pdm.window-features.v1')!;
    // Someone created the compacted topic by hand, with defaults.
    await ensureTopics(connection, [{ ...windowSpec, partitions: 1, config: {} }]);
    try {
      const reports = await ensureTopics(connection, expected);
      const drift = reports.find((r) => r.topic === windowSpec.name)!;
      expect(drift.status).toBe('drift');
      expect(drift.differences).toEqual(expect.arrayContaining(['partitions: expected 3, found 1', 'cleanup.policy: expected compact, found delete']));
      expect(reports.filter((r) => r.topic !== windowSpec.name).every((r) => r.status === 'created')).toBe(true);
      // Still drifted on the next run: pdmctl reports, it does not alter.
      expect((await ensureTopics(connection, expected)).find((r) => r.topic === windowSpec.name)?.status).toBe('drift');
    } finally {
      await deleteTopics(connection, expected.map((s) => s.name));
    }
  });

  test('registers key and value schemas under <topic>-key / <topic>-value with BACKWARD compatibility, idempotently', async () => {
    const prefix = `${uniqueName('subjects')}.`;
    const specs = topicSpecs({ prefix });
    const registry = createRegistry(env.registryUrl);
    const first = await registerTopicSchemas(registry, specs);
    const second = await registerTopicSchemas(registry, specs);
    expect(second).toEqual(first);
    expect(first.map((r) => r.subject)).toEqual(
      expect.arrayContaining([`${prefix}pdm.sensor-readings.v1-key`, `${prefix}pdm.sensor-readings.v1-value`, `${prefix}pdm.window-features.v1-key`, `${prefix}pdm.alerts.v1-value`]),
    );
    expect(first.some((r) => r.subject.startsWith(`${prefix}pdm.dead-letter.v1`))).toBe(false);
    for (const { subject } of first) {
      const config = await fetch(`${env.registryUrl}/config/${encodeURIComponent(subject)}`).then((r) => r.json() as Promise<{ compatibilityLevel: string }>);
      expect(config.compatibilityLevel).toBe('BACKWARD');
    }
  });
});
