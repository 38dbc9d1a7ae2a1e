import {
  DEVELOPMENT_HOURS,
  FAULT_KINDS,
  FAULT_SIGNS,
  MACHINE_FAULTS,
  SENSOR_FAULTS,
  TRANSPORT_FAULTS,
  buildFleet,
  fleetIds,
  machineSensors,
  planFaults,
  requestedFaults,
  type Fault,
  type FaultKind,
  type MachineFaultKind,
} from './fleet';
import { Random } from './random';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FROM = Date.UTC(2026, 0, 5); // a Monday

const machineFaults = (faults: readonly Fault[]) => faults.filter((f) => f.category === 'machine');

describe('buildFleet', () => {
  test('the original three machines come first, then the types cycle with numbered ids', () => {
    const fleet = buildFleet(6, new Random(1));
    expect(fleet.map((m) => [m.id, m.type])).toEqual([
      ['lathe-1-spindle', 'lathe'],
      ['cnc-mill-5-axis', 'cnc-mill'],
      ['robot-arm-02', 'robot-arm'],
      ['pump-04', 'pump'],
      ['lathe-05', 'lathe'],
      ['cnc-mill-06', 'cnc-mill'],
    ]);
  });

  test('20 machines get 20 distinct ids', () => {
    const ids = buildFleet(20, new Random(1)).map((m) => m.id);
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
  });

  test('the same seed builds the same fleet; profiles vary by machine within their type', () => {
    expect(buildFleet(8, new Random(5))).toEqual(buildFleet(8, new Random(5)));
    const [lathe1, , , , lathe5] = buildFleet(5, new Random(5));
    expect(lathe1!.profile).not.toEqual(lathe5!.profile);
    for (const machine of buildFleet(20, new Random(5))) {
      expect(machine.profile.currentFullA).toBeGreaterThan(machine.profile.currentIdleA);
      expect(machine.profile.utilisation).toBeGreaterThanOrEqual(0.65);
      expect(machine.profile.utilisation).toBeLessThan(0.95);
    }
  });
});

describe('planFaults', () => {
  const fleet = buildFleet(20, new Random(3));

  test.each([
    [20, 0.3, 6],
    [20, 1, 20],
    [10, 0.5, 5],
    [3, 0.3, 1], // a small fleet still gets the fault it asked for
  ])('%i machines x faultyFraction %f give %i machine faults, one per machine', (count, faultyFraction, expected) => {
    const machines = buildFleet(count, new Random(3));
    const faults = machineFaults(planFaults(machines, { fromMs: FROM, toMs: FROM + 30 * DAY, kinds: MACHINE_FAULTS, faultyFraction }, new Random(9)));
    expect(faults).toHaveLength(expected);
    expect(new Set(faults.map((f) => f.machineId)).size).toBe(expected);
  });

  test('faultyFraction 0 plans no machine fault, but still sensor and transport faults', () => {
    const faults = planFaults(fleet, { fromMs: FROM, toMs: FROM + 30 * DAY, kinds: FAULT_KINDS, faultyFraction: 0 }, new Random(9));
    expect(machineFaults(faults)).toEqual([]);
    expect(faults.some((f) => f.category === 'sensor')).toBe(true);
    expect(faults.some((f) => f.category === 'transport')).toBe(true);
  });

  // 30 days: development times as in DEVELOPMENT_HOURS; 3 days: capped at 60% of the span.
  test.each([
    ['a 30-day run', 30 * DAY],
    ['a 3-day run', 3 * DAY],
  ])('in %s each machine fault starts and fails inside the run, developing for its kind\'s time', (_label, span) => {
    for (const seed of [1, 2, 3, 4]) {
      const toMs = FROM + span;
      const faults = machineFaults(planFaults(fleet, { fromMs: FROM, toMs, kinds: MACHINE_FAULTS, faultyFraction: 1 }, new Random(seed)));
      expect(faults).toHaveLength(20);
      for (const fault of faults) {
        expect(fault.onsetMs).toBeGreaterThanOrEqual(FROM);
        expect(fault.failureMs).not.toBeNull();
        const failureMs = fault.failureMs!;
        expect(failureMs).toBeGreaterThan(fault.onsetMs);
        expect(failureMs).toBeLessThan(toMs);
        expect(fault.endMs).toBeGreaterThan(failureMs); // downtime, then repair
        const [minH, maxH] = DEVELOPMENT_HOURS[fault.kind as MachineFaultKind];
        const developMs = failureMs - fault.onsetMs;
        expect(developMs).toBeGreaterThanOrEqual(Math.min(minH * HOUR, 0.6 * span) - 1);
        expect(developMs).toBeLessThanOrEqual(Math.min(maxH * HOUR, 0.6 * span) + 1);
      }
    }
  });

  test('all three machine fault kinds occur over a large fleet', () => {
    const kinds = machineFaults(planFaults(fleet, { fromMs: FROM, toMs: FROM + 30 * DAY, kinds: MACHINE_FAULTS, faultyFraction: 1 }, new Random(1))).map((f) => f.kind);
    expect(new Set(kinds)).toEqual(new Set(MACHINE_FAULTS));
  });

  test.each<[string, FaultKind[]]>([
    ['one machine fault', ['overheating']],
    ['a sensor fault only', ['sensor-dropout']],
    ['a mix', ['electrical', 'sensor-stuck', 'late', 'clock-skew']],
    ['transport faults only', ['duplicates', 'out-of-order']],
  ])('only the kinds asked for are planned: %s', (_label, kinds) => {
    const seen = new Set<FaultKind>();
    for (const seed of [1, 2, 3]) {
      for (const fault of planFaults(fleet, { fromMs: FROM, toMs: FROM + 30 * DAY, kinds, faultyFraction: 0.5 }, new Random(seed))) seen.add(fault.kind);
    }
    expect([...seen].every((kind) => kinds.includes(kind))).toBe(true);
    expect(seen.size).toBeGreaterThan(0);
  });

  test('no kinds (scenario normal) plans nothing', () => {
    expect(planFaults(fleet, { fromMs: FROM, toMs: FROM + 30 * DAY, kinds: [], faultyFraction: 0.3 }, new Random(1))).toEqual([]);
  });

  test('sensor and transport faults lie inside the run and carry what the simulator needs', () => {
    const toMs = FROM + 30 * DAY;
    const faults = planFaults(fleet, { fromMs: FROM, toMs, kinds: [...SENSOR_FAULTS, ...TRANSPORT_FAULTS], faultyFraction: 0.3 }, new Random(2));
    for (const fault of faults) {
      expect(fault.failureMs).toBeNull();
      expect(fault.onsetMs).toBeGreaterThanOrEqual(FROM);
      expect(fault.endMs).toBeGreaterThan(fault.onsetMs);
      expect(fault.endMs).toBeLessThanOrEqual(toMs);
      if (fault.category === 'sensor') expect(fault.feature).toMatch(/^(current|accX|accY|accZ|tempA|tempB)$/);
      if (fault.kind === 'clock-skew') expect(Math.abs(fault.magnitude!)).toBeGreaterThanOrEqual(20_000);
      if (fault.kind === 'clock-skew') expect(Math.abs(fault.magnitude!)).toBeLessThanOrEqual(120_000);
    }
    // Duplicates and reordering are the usual state of the network: every machine, all run long.
    for (const kind of ['duplicates', 'out-of-order'] as const) {
      const ofKind = faults.filter((f) => f.kind === kind);
      expect(ofKind.map((f) => f.machineId)).toEqual(fleet.map((m) => m.id));
      for (const fault of ofKind) {
        expect([fault.onsetMs, fault.endMs]).toEqual([FROM, toMs]);
        expect(fault.magnitude).toBeGreaterThan(0);
        expect(fault.magnitude).toBeLessThan(0.01);
      }
    }
  });

  test('the same seed plans the same faults; another seed plans others', () => {
    const options = { fromMs: FROM, toMs: FROM + 30 * DAY, kinds: FAULT_KINDS, faultyFraction: 0.3 };
    expect(planFaults(fleet, options, new Random(4))).toEqual(planFaults(fleet, options, new Random(4)));
    expect(planFaults(fleet, options, new Random(4))).not.toEqual(planFaults(fleet, options, new Random(5)));
  });
});

const ALL = ['current', 'accX', 'accY', 'accZ', 'tempA', 'tempB'];

describe('machine sensors', () => {
  test('a uniform fleet reports all six by default, or the subset asked for (in feature order) on every machine', () => {
    expect(buildFleet(5, new Random(1)).map((m) => m.sensors)).toEqual(Array(5).fill(ALL));
    expect(buildFleet(5, new Random(1), { sensors: ['tempA', 'current'] }).map((m) => m.sensors)).toEqual(Array(5).fill(['current', 'tempA']));
  });

  test('a heterogeneous fleet: the pattern by index modulo 8, the first three of each eight full', () => {
    const fleet = buildFleet(16, new Random(1), { fleet: 'heterogeneous' });
    const pattern = [ALL, ALL, ALL, ['tempA'], ['accX'], ['current', 'tempA'], ['accX', 'accY', 'accZ'], ['tempA', 'tempB']];
    expect(fleet.map((m) => m.sensors)).toEqual([...pattern, ...pattern]);
    expect(fleet.slice(0, 3).map((m) => m.id)).toEqual(['lathe-1-spindle', 'cnc-mill-5-axis', 'robot-arm-02']);
  });

  test('sensors do not touch the seed: ids and profiles are those of the uniform fleet', () => {
    const strip = (machines: ReturnType<typeof buildFleet>) => machines.map(({ sensors: _sensors, ...rest }) => rest);
    expect(strip(buildFleet(12, new Random(4), { fleet: 'heterogeneous' }))).toEqual(strip(buildFleet(12, new Random(4))));
    expect(fleetIds(12)).toEqual(buildFleet(12, new Random(4)).map((m) => m.id));
  });

  test.each<[string, Parameters<typeof machineSensors>[1], RegExp]>([
    ['no sensor at all', { sensors: [] }, /at least one of the sensors current, accX, accY, accZ, tempA, tempB/],
    ['a subset with a heterogeneous fleet', { sensors: ['tempA'], fleet: 'heterogeneous' }, /give --sensors or --fleet heterogeneous, not both/],
  ])('refuses %s', (_label, options, message) => {
    expect(() => machineSensors(0, options)).toThrow(message);
  });
});

describe('planFaults on machines with some sensors', () => {
  const options = { fromMs: FROM, toMs: FROM + 30 * DAY, kinds: FAULT_KINDS, faultyFraction: 1 };

  test('each machine fault is of a kind its machine can see; each sensor fault is on a sensor it has', () => {
    for (const seed of [1, 2, 3]) {
      const fleet = buildFleet(24, new Random(seed), { fleet: 'heterogeneous' });
      const faults = planFaults(fleet, options, new Random(seed));
      const sensorsOf = new Map(fleet.map((m) => [m.id, m.sensors]));
      const channelsOf = new Map(fleet.map((m): [string, readonly string[]] => [m.id, [...m.sensors, ...m.extras]]));
      expect(machineFaults(faults)).toHaveLength(24);
      const blind = machineFaults(faults).filter((f) => !FAULT_SIGNS[f.kind as MachineFaultKind].some((x) => channelsOf.get(f.machineId)!.includes(x)));
      const offSensor = faults.filter((f) => f.category === 'sensor' && !sensorsOf.get(f.machineId)!.includes(f.feature!));
      expect([blind, offSensor]).toEqual([[], []]);
    }
  });

  test('the fully equipped machines get the faults a uniform fleet of the same seed gets', () => {
    const uniform = planFaults(buildFleet(16, new Random(2)), options, new Random(6));
    const mixed = planFaults(buildFleet(16, new Random(2), { fleet: 'heterogeneous' }), options, new Random(6));
    const full = new Set(fleetIds(16).filter((_id, i) => i % 8 < 3));
    expect(mixed.filter((f) => full.has(f.machineId))).toEqual(uniform.filter((f) => full.has(f.machineId)));
  });

  test('a kind no sensor of the machine shows is still injected when the run asks for nothing else', () => {
    const fleet = buildFleet(4, new Random(1), { sensors: ['tempA'] });
    const faults = machineFaults(planFaults(fleet, { ...options, kinds: ['electrical'] }, new Random(1)));
    expect(faults.map((f) => f.kind)).toEqual(['electrical', 'electrical', 'electrical', 'electrical']);
  });
});

describe('requestedFaults', () => {
  const ids = fleetIds(3);
  const onsetMs = FROM + 2 * DAY;

  test.each<[MachineFaultKind, number]>([
    ['bearing-wear', 156],
    ['overheating', 42],
    ['electrical', 60],
  ])('%s without a failure time fails after the middle of its development hours (%i h), repaired 8 h later', (kind, hours) => {
    expect(DEVELOPMENT_HOURS[kind][0] + DEVELOPMENT_HOURS[kind][1]).toBe(2 * hours);
    expect(requestedFaults(ids, [{ machineId: 'robot-arm-02', kind, onsetMs }], FROM + 30 * DAY)).toEqual([
      { machineId: 'robot-arm-02', kind, category: 'machine', onsetMs, failureMs: onsetMs + hours * HOUR, endMs: onsetMs + (hours + 8) * HOUR },
    ]);
  });

  test('a failure time given is kept', () => {
    const [fault] = requestedFaults(ids, [{ machineId: 'lathe-1-spindle', kind: 'overheating', onsetMs, failureMs: onsetMs + 5 * HOUR }], FROM + 3 * DAY);
    expect([fault!.failureMs, fault!.endMs]).toEqual([onsetMs + 5 * HOUR, onsetMs + 13 * HOUR]);
  });

  test.each<[string, Parameters<typeof requestedFaults>[1][number], RegExp]>([
    [
      'an unknown machine, listing the fleet',
      { machineId: 'lathe-9', kind: 'overheating', onsetMs },
      /no machine lathe-9 in this fleet of 3 \(lathe-1-spindle, cnc-mill-5-axis, robot-arm-02\)/,
    ],
    ['an onset at the end of the run', { machineId: 'lathe-1-spindle', kind: 'overheating', onsetMs: FROM + 3 * DAY }, /onset is not before the end of the run/],
    ['a failure before its onset', { machineId: 'lathe-1-spindle', kind: 'electrical', onsetMs, failureMs: onsetMs - HOUR }, /failure must come after the onset/],
  ])('refuses %s', (_label, request, message) => {
    expect(() => requestedFaults(ids, [request], FROM + 3 * DAY)).toThrow(message);
  });

  test('a long fleet is listed by its first and last ids', () => {
    const unknown = { machineId: 'x', kind: 'overheating', onsetMs } as const;
    expect(() => requestedFaults(fleetIds(20), [unknown], FROM + 3 * DAY)).toThrow(/fleet of 20 \(lathe-1-spindle, .*, pump-20\)/);
  });
});
