import { spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../../lib/paths';
import { TOPICS } from '../../lib/topics';
import { consumeAll } from './consume';
import { testEnv, useIsolatedTopics } from './servers';

describe('a producer stopped with SIGTERM', () => {
  const env = testEnv();
  const { prefix } = useIsolatedTopics('sigterm');

  test('flushes what it has queued, exits 0, and every reading it reports is on the topic', async () => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'pdmctl.js'), 'simulate', '--machines', '5', '--duration', '60d', '--speed', 'max', '--seed', '3'], {
      env: { ...process.env, PDM_TOPIC_PREFIX: prefix },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Let it get well into its 60 days, then ask it to stop mid-stream.
    for (let i = 0; i < 300 && !/readings \|/.test(stderr); i++) await sleep(100);
    await sleep(1500);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const reported = stderr.match(/Stopped: ([\d,]+) readings produced/);
    expect(reported).not.toBeNull();
    const produced = Number(reported![1]!.replace(/,/g, ''));
    expect(produced).toBeGreaterThan(1000);
    const records = await consumeAll(env.kafkaBrokers, `${prefix}${TOPICS.readings}`, { quietMs: 3000, timeoutMs: 60_000 });
    expect(records).toHaveLength(produced);
  });
});
