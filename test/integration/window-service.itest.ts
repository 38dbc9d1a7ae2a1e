import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createLogger } from '../../lib/logger';
import { createRegistry as createMetrics } from '../../lib/metrics';
import { repoRoot } from '../../lib/paths';
import { TOPICS } from '../../lib/topics';
import { SCHEMA_FILES, avroType, type WindowKey } from '../../schemas';
import { openReadingsOutput } from '../../producers/runtime';
import { consumeAll } from './consume';
import { killServices, startService, testEnv, uniqueName, useIsolatedTopics, waitFor } from './servers';

/**
 * `pdmctl run window` as an operator meets it: a bad setting or a missing topic stops it at once
 * with the reason; a running processor serves its metrics; a restart with another window size on
 * the same group's state is refused with what to do, instead of mixing two window sizes.
 */

const pdmctl = (args: string[], env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'pdmctl.js'), ...args], { encoding: 'utf8', env, timeout: 60_000 });

afterAll(() => killServices());

const startWindow = (env: NodeJS.ProcessEnv) => startService(['run', 'window', '--metrics-port', '0'], env);

describe('pdmctl run window', () => {
  const env = testEnv();
  const { prefix } = useIsolatedTopics('wsvc', 2);

  test('a window size that is not whole seconds stops it at start, naming the setting', () => {
    const result = pdmctl(['run', 'window'], { ...process.env, PDM_TOPIC_PREFIX: prefix, PDM_WINDOW_SIZE: '1500ms' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('PDM_WINDOW_SIZE: 1500 ms is not a whole number of seconds');
  });

  test('without its topics it says to create them', () => {
    const result = pdmctl(['run', 'window'], { ...process.env, PDM_TOPIC_PREFIX: `${uniqueName('none')}.` });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/pdm\.sensor-readings\.v1 does not exist: run `npx pdmctl topics` first/);
  });

  test('serves clean metrics while running; restarted with another window size on the same state, it refuses and says what to do', async () => {
    const output = await openReadingsOutput({ stage: 'test', env: { ...process.env, PDM_TOPIC_PREFIX: prefix }, logger: createLogger({ level: 'silent' }), metrics: createMetrics('test', false) });
    const t0 = Date.UTC(2026, 0, 5, 8);
    for (let i = 0; i < 600; i++) {
      await output.readings.add({ machineId: `pump-${i % 3}`, timestamp: t0 + Math.floor(i / 3) * 10_000, current: 5 + (i % 7), accX: 0.1, accY: 0.1, accZ: null, tempA: 40, tempB: 30 }, { description: 'test' }, () => '');
    }
    await output.close();
    const group = uniqueName('wsvc-group');
    const runEnv = { ...process.env, PDM_TOPIC_PREFIX: prefix, PDM_WINDOW_GROUP_ID: group, PDM_WINDOW_SIZE: '10m', PDM_WINDOW_GRACE: '0s', PDM_WINDOW_IDLE_TIMEOUT: '1h' };

    const first = startWindow(runEnv);
    // 600 readings of 3 machines over 33 minutes: windows 08:00, 08:10 and 08:20 close, 08:30 stays open.
    const windows = await consumeAll(env.kafkaBrokers, `${prefix}${TOPICS.windowFeatures}`, { expected: 9, timeoutMs: 60_000 });
    if (windows.length !== 9) process.stderr.write(first.output());
    expect(windows).toHaveLength(9);
    // Every window of a machine is in one partition (its readings' partition), so per-machine consumers see them in order.
    const partitionsOf = new Map<string, Set<number>>();
    for (const w of windows) {
      const { machineId } = avroType(SCHEMA_FILES.windowKey).fromBuffer(w.key!.subarray(5)) as WindowKey;
      partitionsOf.set(machineId, (partitionsOf.get(machineId) ?? new Set()).add(w.partition));
    }
    expect([...partitionsOf.values()].map((p) => p.size)).toEqual([1, 1, 1]);
    const port = await first.metricsPort();
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/pdm_window_windows_closed_total\{trigger="stream-time",service="window"\} 9/);
    expect(metrics).toMatch(/pdm_window_open_windows\{service="window"\} 3/);
    expect(metrics).toMatch(/pdm_transactions_total\{stage="window",outcome="committed",service="window"\} [1-9]/);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
    if (!check.error) expect(check.stdout + check.stderr).toBe('');
    const ready = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(ready.status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = startWindow({ ...runEnv, PDM_WINDOW_SIZE: '5m' });
    await waitFor('the processor with another window size to exit', () => second.child.exitCode !== null, 90_000, 100);
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain('the state was built with windows of 600000 ms and 0 ms grace, this processor is set to 300000 ms and 0 ms');
    expect(second.output()).toContain('Give this configuration its own PDM_WINDOW_GROUP_ID');
  });
});
