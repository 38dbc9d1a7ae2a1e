import { BAD_KINDS } from './bad-input';
import { SERVICES, describePlan, planChaos } from './plan';

describe('the chaos plan', () => {
  const options = { killsPerService: 3, badPerKind: 2, machines: 20 };

  test('a seed replays the same plan; another seed makes another', () => {
    expect(planChaos(42, options)).toEqual(planChaos(42, options));
    expect(planChaos(43, options)).not.toEqual(planChaos(42, options));
  });

  test('every service is killed as often as asked, spread over the run, each once its own input has moved', () => {
    const plan = planChaos(7, options);
    for (const service of SERVICES) {
      const kills = plan.kills.filter((k) => k.service === service);
      expect(kills).toHaveLength(3);
      const points = kills.map((k) => k.trigger.at);
      expect([...points].sort((a, b) => a - b)).toEqual(points);
      if (service === 'sink-email') expect(points).toEqual([1, 2, 3]);
      else for (const at of points) expect(at > 0.05 && at < 0.85).toBe(true);
    }
    expect(new Set(plan.kills.map((k) => k.trigger.gauge))).toEqual(new Set(['windowed', 'assessed', 'written', 'mailed']));
  });

  test('the broker is restarted once, Postgres and the SMTP server each stopped once, early in the run', () => {
    for (let seed = 1; seed < 20; seed++) {
      const plan = planChaos(seed, options);
      expect([...plan.stackFaults].sort()).toEqual(['broker-restart', 'postgres-outage', 'smtp-outage']);
      expect(plan.stackTrigger.gauge).toBe('produced');
      expect(plan.stackTrigger.at).toBeLessThan(0.15);
    }
  });

  test('bad records of every kind, on fleet machines, in the order they are written', () => {
    const plan = planChaos(7, options);
    expect(plan.bad).toHaveLength(BAD_KINDS.length * 2);
    for (const kind of BAD_KINDS) expect(plan.bad.filter((b) => b.kind === kind)).toHaveLength(2);
    expect(plan.bad.map((b) => b.at)).toEqual([...plan.bad.map((b) => b.at)].sort((a, b) => a - b));
    for (const b of plan.bad) expect(b.machine >= 0 && b.machine < 20 && b.at > 0 && b.at < 1).toBe(true);
    expect(describePlan(plan)).toHaveLength(SERVICES.length * 3 + 2);
  });
});
