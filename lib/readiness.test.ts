import { probe, readiness } from './readiness';

describe('readiness', () => {
  test('ready when every probe answers; otherwise names the first that does not, with its error', async () => {
    let registryUp = true;
    const ready = readiness(
      [
        probe('kafka', async () => undefined),
        probe('schema registry', async () => {
          if (!registryUp) throw new Error('connect ECONNREFUSED 127.0.0.1:18081');
        }),
      ],
      { cacheMs: 0 },
    );
    expect(await ready()).toBeUndefined();
    registryUp = false;
    expect(await ready()).toBe('schema registry does not answer: connect ECONNREFUSED 127.0.0.1:18081');
  });

  test('probes run at most once per cache interval, however often /ready is asked', async () => {
    let now = 0;
    let calls = 0;
    const ready = readiness([probe('database', async () => calls++)], { cacheMs: 5000, clock: () => now });
    await Promise.all([ready(), ready(), ready()]);
    now = 4999;
    await ready();
    expect(calls).toBe(1);
    now = 5000;
    await ready();
    expect(calls).toBe(2);
  });
});
