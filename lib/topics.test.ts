import { diffTopic, keySubject, topicSpecs, valueSubject } from './topics';

describe('topic specs', () => {
  const specs = topicSpecs();
  const byName = Object.fromEntries(specs.map((s) => [s.name, s]));

  test('are the topics of the contract, with their names as written there (and the assessments and the control topics, added since)', () => {
    expect(specs.map((s) => s.name)).toEqual([
      'pdm.sensor-readings.v1', 'pdm.window-features.v1', 'pdm.alerts.v1', 'pdm.assessments.v2', 'pdm.assessments.v1', 'pdm.late-readings.v1', 'pdm.dead-letter.v1', 'pdm.machine-control.v1',
      'pdm.alert-control.v1',
    ]);
  });

  test('pdm.assessments.v2 carries the compact record; the deprecated v1 keeps its own, with the same key and retention', () => {
    const [v2, v1] = [byName['pdm.assessments.v2']!, byName['pdm.assessments.v1']!];
    expect([v2.valueSchema, v1.valueSchema]).toEqual(['machine-assessment-v2.avsc', 'machine-assessment.avsc']);
    expect(v2.keySchema).toBe(v1.keySchema);
    expect(v2.config).toEqual(v1.config);
  });

  test.each([
    ['pdm.machine-control.v1', 'machine-control.avsc'],
    ['pdm.alert-control.v1', 'alert-control.avsc'],
  ])('the control log %s is kept forever (it is the audit trail), keyed by a string like the alerts', (name, valueSchema) => {
    const control = byName[name]!;
    expect(control.config).toMatchObject({ 'cleanup.policy': 'delete', 'retention.ms': '-1' });
    expect(control.partitions).toBe(byName['pdm.window-features.v1']!.partitions);
    expect([control.keySchema, control.valueSchema]).toEqual([byName['pdm.alerts.v1']!.keySchema, valueSchema]);
    expect(topicSpecs({ prefix: 'test-1.' }).map((s) => s.name)).toContain(`test-1.${name}`);
  });

  test('window features are compacted: one record per machine and window', () => {
    expect(byName['pdm.window-features.v1']?.config).toMatchObject({ 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0' });
    for (const name of ['pdm.sensor-readings.v1', 'pdm.alerts.v1', 'pdm.late-readings.v1', 'pdm.dead-letter.v1']) {
      expect(byName[name]?.config['cleanup.policy']).toBe('delete');
    }
  });

  test('raw streams age from arrival, so replayed history is not deleted on landing', () => {
    expect(byName['pdm.sensor-readings.v1']?.config['message.timestamp.type']).toBe('LogAppendTime');
    expect(byName['pdm.dead-letter.v1']?.config['message.timestamp.type']).toBe('LogAppendTime');
  });

  test('late readings use the readings schemas; the dead-letter topic keeps raw bytes and has none', () => {
    const readings = byName['pdm.sensor-readings.v1']!;
    const late = byName['pdm.late-readings.v1']!;
    expect([late.keySchema, late.valueSchema]).toEqual([readings.keySchema, readings.valueSchema]);
    expect(byName['pdm.dead-letter.v1']?.keySchema).toBeUndefined();
    expect(byName['pdm.dead-letter.v1']?.valueSchema).toBeUndefined();
  });

  test('a prefix isolates names; partitions and replication are settable; min.insync never exceeds replicas', () => {
    const isolated = topicSpecs({ prefix: 'test-1.', partitions: 2, replicationFactor: 3 });
    expect(isolated[0]).toMatchObject({ name: 'test-1.pdm.sensor-readings.v1', contractName: 'pdm.sensor-readings.v1', partitions: 2, replicationFactor: 3 });
    expect(isolated[0]?.config['min.insync.replicas']).toBe('2');
    expect(topicSpecs({ replicationFactor: 1 })[0]?.config['min.insync.replicas']).toBe('1');
  });

  test('subjects follow TopicNameStrategy', () => {
    expect(keySubject('pdm.alerts.v1')).toBe('pdm.alerts.v1-key');
    expect(valueSubject('pdm.alerts.v1')).toBe('pdm.alerts.v1-value');
  });
});

describe('diffTopic', () => {
  const spec = topicSpecs().find((s) => s.contractName === 'pdm.window-features.v1')!;

  test('finds nothing when partitions and every expected setting match (other settings are ignored)', () => {
    expect(diffTopic(spec, { partitions: spec.partitions, config: { ...spec.config, 'max.message.bytes': '1000000' } })).toEqual([]);
  });

  test('names each difference with the expected and the found value', () => {
    const found = { partitions: 1, config: { ...spec.config, 'cleanup.policy': 'delete' } };
    delete (found.config as Record<string, string>)['segment.ms'];
    expect(diffTopic(spec, found)).toEqual(['partitions: expected 6, found 1', 'cleanup.policy: expected compact, found delete', 'segment.ms: expected 3600000, found (unset)']);
  });
});
