import { Counter, createRegistry, stageMetrics } from './metrics';

/** What every service's /metrics starts with: the process and Node.js metrics, named as ours. */
describe('a service registry', () => {
  test('names every metric pdm_ once, with the service as a label, and `_total` only on counters', async () => {
    const registry = createRegistry('window');
    stageMetrics(registry);
    const metrics = await registry.getMetricsAsJSON();
    const names = metrics.map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['pdm_process_cpu_seconds_total', 'pdm_process_resident_memory_bytes', 'pdm_nodejs_heap_size_used_bytes', 'pdm_records_in_total']));
    for (const name of names) expect(name).toMatch(/^pdm_(?!pdm_|process_process_)[a-z0-9_]+$/);
    for (const m of metrics) if (m.name.endsWith('_total')) expect({ name: m.name, type: m.type }).toEqual({ name: m.name, type: 'counter' });
    expect(await registry.metrics()).toContain('pdm_process_start_time_seconds{service="window"}');
  });

  test('tests make theirs without the process metrics', async () => {
    const registry = createRegistry('test', false);
    new Counter({ name: 'pdm_test_total', help: 'a test counter', registers: [registry] });
    expect((await registry.getMetricsAsJSON()).map((m) => m.name)).toEqual(['pdm_test_total']);
  });
});
