import { loadStackSettings, privateStackPorts } from './settings';

describe('stack settings', () => {
  test('defaults keep away from the standard ports of servers a developer may already run', () => {
    const settings = loadStackSettings({});
    const ports = [settings.PDM_KAFKA_PORT, settings.PDM_REGISTRY_PORT, settings.PDM_POSTGRES_PORT, settings.PDM_POSTGRES_FOLLOWER_PORT, settings.PDM_SMTP_PORT, settings.PDM_INBOX_PORT, settings.PDM_PROMETHEUS_PORT];
    for (const standard of [9092, 8081, 5432, 25, 1025, 1080, 9090, 3000]) expect(ports).not.toContain(standard);
    expect(settings.PDM_KAFKA_VERSION).toBe('3.9.2');
  });

  test('environment variables override defaults, and the result is frozen', () => {
    const settings = loadStackSettings({ PDM_KAFKA_PORT: '29092', PDM_STATE_DIR: '/srv/pdm', PDM_KAFKA_VERSION: '4.1.1' });
    expect(settings.PDM_KAFKA_PORT).toBe(29092);
    expect(settings.PDM_STATE_DIR).toBe('/srv/pdm');
    expect(settings.PDM_KAFKA_VERSION).toBe('4.1.1');
    expect(Object.isFrozen(settings)).toBe(true);
  });

  test('an empty variable counts as unset', () => {
    expect(loadStackSettings({ PDM_KAFKA_PORT: '' }).PDM_KAFKA_PORT).toBe(19092);
  });

  test.each([
    [{ PDM_KAFKA_PORT: 'kafka' }, /PDM_KAFKA_PORT/],
    [{ PDM_POSTGRES_PORT: '70000' }, /PDM_POSTGRES_PORT/],
    [{ PDM_KAFKA_VERSION: '2.8.0' }, /PDM_KAFKA_VERSION: a Kafka release/],
    [{ PDM_KAFKA_HEAP: 'lots' }, /PDM_KAFKA_HEAP/],
  ])('a bad value %j fails at start and names the variable', (env, message) => {
    expect(() => loadStackSettings(env)).toThrow(message);
  });

  test('two servers on one port are refused before anything starts', () => {
    expect(() => loadStackSettings({ PDM_SMTP_PORT: '19092' })).toThrow(/PDM_SMTP_PORT and PDM_KAFKA_PORT are both 19092|PDM_KAFKA_PORT and PDM_SMTP_PORT are both 19092/);
  });
});

test('a private stack beside the default one: every default port moved by the offset, nothing else', () => {
  const ports = privateStackPorts(300);
  expect(ports).toEqual({
    PDM_KAFKA_PORT: '19392',
    PDM_KAFKA_CONTROLLER_PORT: '19393',
    PDM_REGISTRY_PORT: '18381',
    PDM_POSTGRES_PORT: '15732',
    PDM_POSTGRES_FOLLOWER_PORT: '15733',
    PDM_SMTP_PORT: '11325',
    PDM_INBOX_PORT: '11380',
    PDM_PROMETHEUS_PORT: '19390',
  });
  // Offsets from the defaults, whatever this shell's own port settings are.
  expect(loadStackSettings({ ...process.env, ...ports }).PDM_KAFKA_PORT).toBe(19392);
});
