import { BAD_KINDS } from './bad-input';
import { SERVICES, describePlan, instanceId, instancesOf, planChaos, serviceOf } from './plan';

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

describe('the chaos plan with several instances per service', () => {
  const options = { killsPerService: 1, badPerKind: 2, machines: 6 };

  test('one instance plans what the suite always planned: every kill a kill -9 of instance 1', () => {
    const single = planChaos(11, options);
    expect(planChaos(11, { ...options, instances: 1 })).toEqual(single);
    expect(single.kills.every((k) => k.signal === 'SIGKILL' && k.instance === 1)).toBe(true);
  });

  test('the stack faults and bad records stay those of the seed; a seed replays the same instances', () => {
    const single = planChaos(11, options);
    const three = planChaos(11, { ...options, instances: 3 });
    expect({ ...three, kills: [] }).toEqual({ ...single, kills: [] });
    expect(planChaos(11, { ...options, instances: 3 })).toEqual(three);
    const instancesBySeed = new Set(Array.from({ length: 20 }, (_, seed) => JSON.stringify(planChaos(seed, { ...options, instances: 3 }).kills.map((k) => k.instance))));
    expect(instancesBySeed.size).toBeGreaterThan(1);
  });

  test.each([2, 3, 5])('%i instances: per service its kill -9 on one instance, one SIGTERM on another, in the order of their points', (instances) => {
    for (let seed = 0; seed < 30; seed++) {
      const plan = planChaos(seed, { ...options, killsPerService: 2, instances });
      for (const service of SERVICES) {
        const own = plan.kills.filter((k) => k.service === service);
        const kills = own.filter((k) => k.signal === 'SIGKILL');
        const terms = own.filter((k) => k.signal === 'SIGTERM');
        expect([kills.length, terms.length]).toEqual([2, 1]);
        for (const k of own) expect(k.instance >= 1 && k.instance <= instances).toBe(true);
        // The SIGTERM leaves the group while the instance killed first is not the one stopped.
        expect(terms[0]!.instance).not.toBe(kills[0]!.instance);
        const points = own.map((k) => k.trigger.at);
        expect([...points].sort((a, b) => a - b)).toEqual(points);
        if (service === 'sink-email') expect(terms[0]!.trigger.at).toBe(3);
      }
    }
  });

  test('names of instances and their service', () => {
    expect(instancesOf('sink-email', 3)).toEqual(['sink-email#1', 'sink-email#2', 'sink-email#3']);
    expect(serviceOf(instanceId('sink-postgres', 2))).toBe('sink-postgres');
    expect(() => serviceOf('nothing#1' as never)).toThrow(/not an instance of a service/);
  });

  test('the description names each fault, its signal and its instance', () => {
    const lines = describePlan(planChaos(5, { ...options, instances: 3 }));
    expect(lines.filter((l) => l.startsWith('kill -9 '))).toHaveLength(4);
    expect(lines.filter((l) => /^SIGTERM (window|inference|sink-postgres|sink-email)#[123] at /.test(l))).toHaveLength(4);
  });
});
