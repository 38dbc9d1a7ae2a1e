import { waitUntilHealthy } from './process';

describe('waitUntilHealthy', () => {
  test('returns as soon as the probe passes', async () => {
    const answers = ['starting', 'still starting', undefined];
    let calls = 0;
    const result = await waitUntilHealthy(async () => answers[calls++], { timeoutMs: 5000, alive: () => true, intervalMs: 1 });
    expect(result).toEqual({ ok: true });
    expect(calls).toBe(3);
  });

  test('a probe that throws counts as not ready yet, with its message as the reason', async () => {
    const result = await waitUntilHealthy(
      async () => {
        throw new Error('connect ECONNREFUSED');
      },
      { timeoutMs: 20, alive: () => true, intervalMs: 1 },
    );
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/no answer within 0 s \(last check: connect ECONNREFUSED\)/) });
  });

  test('gives up at once when the process has died, saying what the last check found', async () => {
    let alive = true;
    const result = await waitUntilHealthy(
      async () => {
        alive = false;
        return 'port closed';
      },
      { timeoutMs: 60_000, alive: () => alive, intervalMs: 1 },
    );
    expect(result).toEqual({ ok: false, reason: 'the process exited (last check: port closed)' });
  });
});
