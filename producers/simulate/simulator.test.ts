import type { Feature } from '../../schemas';
import { MACHINE_FAULTS, SENSOR_FAULTS, buildFleet, type Fault, type FaultKind, type Machine } from './fleet';
import { Random } from './random';
import { planSimulation, type SimulateOptions } from './simulate.job';
import { shiftLoad, simulate, type RawReading, type SimulationConfig, type Tick } from './simulator';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MONDAY = Date.UTC(2026, 0, 5); // 00:00 UTC on a Monday
const FEATURES: readonly Feature[] = ['current', 'accX', 'accY', 'accZ', 'tempA', 'tempB'];

const [LATHE, MILL] = buildFleet(2, new Random(11)) as [Machine, Machine];

function fault(kind: FaultKind, onsetMs: number, endMs: number, extra: Partial<Fault> = {}): Fault {
  const category = (MACHINE_FAULTS as readonly string[]).includes(kind) ? 'machine' : (SENSOR_FAULTS as readonly string[]).includes(kind) ? 'sensor' : 'transport';
  return { machineId: LATHE.id, kind, category, onsetMs, failureMs: null, endMs, ...extra };
}

function ticks(config: Partial<SimulationConfig> & Pick<SimulationConfig, 'fromMs' | 'toMs'>): Tick[] {
  return [...simulate({ machines: [LATHE], faults: [], intervalMs: MINUTE, seed: 1, ...config })];
}

const readingsOf = (all: readonly Tick[]): RawReading[] => all.flatMap((t) => t.readings);
const mean = (values: readonly number[]) => {
  expect(values.length).toBeGreaterThan(0); // a mean of nothing would hide a wrong filter
  return values.reduce((a, b) => a + b, 0) / values.length;
};
const values = (readings: readonly RawReading[], feature: Feature) => readings.map((r) => r[feature]).filter((v): v is number => v !== null);
/** Full nominal load: a weekday shift outside ramps and breaks, so load matches load. */
const onShift = (r: RawReading) => shiftLoad(r.timestamp, 1) > 0.9;
const between = (readings: readonly RawReading[], fromMs: number, toMs: number) => readings.filter((r) => r.timestamp >= fromMs && r.timestamp < toMs);
const key = (r: RawReading) => `${r.machineId}@${r.timestamp}`;
/** Readings far above both neighbours of the same machine (in event-time order). */
function outliers(readings: readonly RawReading[], feature: Feature, isOutlier: (value: number, neighbour: number) => boolean): RawReading[] {
  const sorted = [...readings].sort((a, b) => a.timestamp - b.timestamp);
  return sorted.filter((r, i) => {
    const [prev, value, next] = [sorted[i - 1]?.[feature], r[feature], sorted[i + 1]?.[feature]];
    if (value == null || prev == null || next == null) return false;
    return isOutlier(value, Math.max(prev, next));
  });
}

function options(overrides: Partial<SimulateOptions>): SimulateOptions {
  return { machines: 3, intervalMs: MINUTE, fromMs: MONDAY, toMs: MONDAY + DAY, speed: 'max', scenario: 'mixed', seed: 1, faultyFraction: 0.3, ...overrides };
}
function runPlanned(overrides: Partial<SimulateOptions>) {
  const opts = options(overrides);
  const plan = planSimulation(opts);
  const all = [...simulate({ ...plan, fromMs: opts.fromMs, toMs: opts.toMs, intervalMs: opts.intervalMs, seed: opts.seed })];
  return { ...plan, ticks: all, readings: readingsOf(all) };
}

describe('shiftLoad', () => {
  const u = 0.8;
  test.each([
    ['Monday 12:00 (day shift)', MONDAY + 12 * HOUR, u],
    ['Monday 20:00 (late shift)', MONDAY + 20 * HOUR, u],
    ['Monday 03:00 (night)', MONDAY + 3 * HOUR, 0.08],
    ['Monday 22:00 (after the late shift)', MONDAY + 22 * HOUR, 0.08],
    ['Monday 06:10 (ramping up, halfway)', MONDAY + 6 * HOUR + 10 * MINUTE, 0.08 + (u - 0.08) * 0.5],
    ['Monday 10:15 (break)', MONDAY + 10 * HOUR + 15 * MINUTE, 0.08 + (u - 0.08) * 0.35],
    ['Saturday 12:00 (one shift)', MONDAY + 5 * DAY + 12 * HOUR, u],
    ['Saturday 15:00 (off)', MONDAY + 5 * DAY + 15 * HOUR, 0.08],
    ['Sunday 12:00 (off)', MONDAY + 6 * DAY + 12 * HOUR, 0.08],
  ])('%s', (_label, tMs, expected) => {
    expect(shiftLoad(tMs, u)).toBeCloseTo(expected, 10);
  });
});

describe('simulate', () => {
  test('is deterministic: the same seed and options give the same readings; another seed differs', () => {
    const a = runPlanned({ seed: 42, toMs: MONDAY + 12 * HOUR });
    const b = runPlanned({ seed: 42, toMs: MONDAY + 12 * HOUR });
    const c = runPlanned({ seed: 43, toMs: MONDAY + 12 * HOUR });
    expect(a.readings.length).toBeGreaterThan(1000);
    expect(b.ticks).toEqual(a.ticks);
    expect(c.readings.slice(0, 100)).not.toEqual(a.readings.slice(0, 100));
    // The same plan under another simulation seed gives other noise too.
    const other = [...simulate({ ...a, fromMs: MONDAY, toMs: MONDAY + 12 * HOUR, intervalMs: MINUTE, seed: 43 })];
    expect(readingsOf(other).slice(0, 100)).not.toEqual(a.readings.slice(0, 100));
  });

  test('scenario normal: no faults; one complete reading per machine per tick, on the interval grid', () => {
    const intervalMs = 10_000;
    const run = runPlanned({ scenario: 'normal', machines: 4, intervalMs, toMs: MONDAY + 6 * HOUR });
    expect(run.faults).toEqual([]);
    const tickCount = (6 * HOUR) / intervalMs;
    expect(run.ticks).toHaveLength(tickCount); // nothing held back, so no closing tick
    const ids = run.machines.map((m) => m.id).join();
    // Collected, then asserted once: thousands of expect() calls would make the test slow.
    const offGrid = run.ticks.filter((tick, i) => tick.tickMs !== MONDAY + i * intervalMs || tick.readings.some((r) => r.timestamp !== tick.tickMs));
    const notOnePerMachine = run.ticks.filter((tick) => tick.readings.map((r) => r.machineId).join() !== ids);
    const incomplete = run.readings.filter((r) => FEATURES.some((f) => !Number.isFinite(r[f])));
    expect([offGrid, notOnePerMachine, incomplete]).toEqual([[], [], []]);
    expect(new Set(run.readings.map(key)).size).toBe(4 * tickCount);
  });

  test('daily load cycle: current on weekday shifts is well above night and Sunday', () => {
    const readings = readingsOf(ticks({ machines: [LATHE, MILL], fromMs: MONDAY, toMs: MONDAY + 7 * DAY }));
    for (const machine of [LATHE, MILL]) {
      const own = readings.filter((r) => r.machineId === machine.id);
      const weekdayShift = own.filter((r) => new Date(r.timestamp).getUTCDay() !== 6 && onShift(r));
      const night = own.filter((r) => new Date(r.timestamp).getUTCHours() < 5);
      const sunday = own.filter((r) => new Date(r.timestamp).getUTCDay() === 0);
      const shiftA = mean(values(weekdayShift, 'current'));
      expect(shiftA).toBeGreaterThan(2 * mean(values(night, 'current')));
      expect(shiftA).toBeGreaterThan(2 * mean(values(sunday, 'current')));
      // A loaded machine vibrates more and runs warmer, too.
      expect(mean(values(weekdayShift, 'accX'))).toBeGreaterThan(1.8 * mean(values(sunday, 'accX')));
      expect(mean(values(weekdayShift, 'tempA'))).toBeGreaterThan(mean(values(sunday, 'tempA')) + 10);
    }
  });

  describe('machine faults', () => {
    test('bearing wear: vibration and bearing temperature grow to failure, silence while down, baseline after repair', () => {
      const onsetMs = MONDAY + DAY; // Tuesday 00:00
      const failureMs = onsetMs + 72 * HOUR; // Friday 00:00
      const endMs = failureMs + 8 * HOUR; // repaired Friday 08:00
      const bearing = fault('bearing-wear', onsetMs, endMs, { failureMs });
      const readings = readingsOf(ticks({ faults: [bearing], fromMs: MONDAY, toMs: MONDAY + 5 * DAY }));

      const before = between(readings, MONDAY, onsetMs).filter(onShift);
      const lastTenth = between(readings, failureMs - 0.1 * (failureMs - onsetMs), failureMs).filter(onShift);
      const afterRepair = between(readings, endMs, MONDAY + 5 * DAY).filter(onShift);
      expect(mean(values(lastTenth, 'accX'))).toBeGreaterThan(2 * mean(values(before, 'accX')));
      expect(mean(values(lastTenth, 'tempB'))).toBeGreaterThan(mean(values(before, 'tempB')) + 7);

      expect(between(readings, failureMs, endMs)).toEqual([]);
      expect(readings.some((r) => r.timestamp === failureMs - MINUTE)).toBe(true);
      expect(readings.some((r) => r.timestamp === endMs)).toBe(true);

      expect(mean(values(afterRepair, 'accX')) / mean(values(before, 'accX'))).toBeCloseTo(1, 0.7);
      expect(Math.abs(mean(values(afterRepair, 'tempB')) - mean(values(before, 'tempB')))).toBeLessThan(2);
    });

    test('bearing wear planned by planSimulation (faultyFraction 1) shows in the readings and silences the machine', () => {
      const run = runPlanned({ scenario: 'bearing-wear', faultyFraction: 1, machines: 2, intervalMs: MINUTE, toMs: MONDAY + 8 * DAY });
      expect(run.faults.map((f) => f.kind)).toEqual(['bearing-wear', 'bearing-wear']);
      for (const planned of run.faults) {
        const own = run.readings.filter((r) => r.machineId === planned.machineId);
        const failureMs = planned.failureMs!;
        const lastTenth = between(own, failureMs - 0.1 * (failureMs - planned.onsetMs), failureMs);
        const before = between(own, MONDAY, planned.onsetMs);
        // Compare at comparable load: full shift with full shift, idle with idle.
        const idle = (r: RawReading) => shiftLoad(r.timestamp, 1) < 0.1;
        const compared = [onShift, idle].filter((group) => lastTenth.filter(group).length >= 10);
        expect(compared.length).toBeGreaterThan(0);
        for (const group of compared) {
          expect(mean(values(lastTenth.filter(group), 'accX'))).toBeGreaterThan(2 * mean(values(before.filter(group), 'accX')));
        }
        expect(between(own, failureMs, planned.endMs)).toEqual([]);
      }
    });

    test('overheating drives the motor temperature well above the healthy level before failure', () => {
      const onsetMs = MONDAY + DAY; // Tuesday 00:00
      const failureMs = onsetMs + 20 * HOUR; // Tuesday 20:00
      const readings = readingsOf(ticks({ faults: [fault('overheating', onsetMs, failureMs + 6 * HOUR, { failureMs })], fromMs: MONDAY, toMs: onsetMs + DAY }));
      // The same hours (18:00-20:00, on shift) on the healthy Monday and the failing Tuesday.
      const healthy = between(readings, MONDAY + 18 * HOUR, MONDAY + 20 * HOUR).filter(onShift);
      const failing = between(readings, failureMs - 2 * HOUR, failureMs).filter(onShift);
      expect(mean(values(failing, 'tempA'))).toBeGreaterThan(mean(values(healthy, 'tempA')) + 15);
      expect(between(readings, failureMs, failureMs + 6 * HOUR)).toEqual([]);
    });

    test('electrical faults raise the current and add spikes to it', () => {
      const onsetMs = MONDAY + 16 * HOUR;
      const failureMs = onsetMs + DAY; // Tuesday 16:00
      const electrical = fault('electrical', onsetMs, failureMs + 6 * HOUR, { failureMs });
      const readings = readingsOf(ticks({ faults: [electrical], fromMs: MONDAY, toMs: failureMs, intervalMs: 10_000 }));
      const healthy = between(readings, MONDAY + 6 * HOUR, onsetMs).filter(onShift);
      const failing = between(readings, failureMs - 0.1 * DAY, failureMs).filter(onShift);
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      expect(median(values(failing, 'current'))).toBeGreaterThan(1.1 * median(values(healthy, 'current')));
      const spike = (value: number, neighbour: number) => value > 1.3 * neighbour;
      expect(outliers(healthy, 'current', spike)).toEqual([]);
      expect(outliers(failing, 'current', spike).length).toBeGreaterThan(10);
    });
  });

  describe('sensor faults', () => {
    const onsetMs = MONDAY + 7 * HOUR;
    const endMs = MONDAY + 10 * HOUR;

    test.each(FEATURES)('dropout of %s: null for exactly that feature inside [onset, end), values outside', (feature) => {
      const readings = readingsOf(ticks({ faults: [fault('sensor-dropout', onsetMs, endMs, { feature })], fromMs: MONDAY + 6 * HOUR, toMs: MONDAY + 11 * HOUR }));
      expect(readings).toHaveLength(5 * 60);
      const wrong = readings.filter((r) => FEATURES.some((f) => (r[f] === null) !== (r.timestamp >= onsetMs && r.timestamp < endMs && f === feature)));
      expect(wrong).toEqual([]);
      expect(readings.filter((r) => r[feature] === null)).toHaveLength(3 * 60);
    });

    test('a stuck sensor repeats one value inside its window; the others and the outside keep moving', () => {
      const readings = readingsOf(ticks({ faults: [fault('sensor-stuck', onsetMs, endMs, { feature: 'accX' })], fromMs: MONDAY + 6 * HOUR, toMs: MONDAY + 12 * HOUR }));
      const inside = between(readings, onsetMs, endMs);
      expect(inside).toHaveLength(3 * 60);
      expect(new Set(inside.map((r) => r.accX)).size).toBe(1);
      expect(inside[0]!.accX).not.toBeNull();
      expect(new Set(inside.map((r) => r.accY)).size).toBeGreaterThan(50);
      expect(new Set(between(readings, MONDAY + 6 * HOUR, onsetMs).map((r) => r.accX)).size).toBeGreaterThan(20);
      expect(new Set(between(readings, endMs, MONDAY + 12 * HOUR).map((r) => r.accX)).size).toBeGreaterThan(50);
    });

    test.each<[Feature, (value: number, neighbour: number) => boolean]>([
      ['accY', (value, neighbour) => value > 2.5 * neighbour],
      ['current', (value, neighbour) => value > 2.5 * neighbour],
      ['tempB', (value, neighbour) => value > neighbour + 15],
    ])('spikes on %s: outliers inside the window only', (feature, isOutlier) => {
      const spikes = fault('sensor-spikes', onsetMs, endMs, { feature, magnitude: 0.05 });
      const readings = readingsOf(ticks({ faults: [spikes], fromMs: MONDAY + 6 * HOUR, toMs: MONDAY + 12 * HOUR }));
      const found = outliers(readings, feature, isOutlier);
      expect(found.length).toBeGreaterThan(3);
      expect(found.every((r) => r.timestamp >= onsetMs && r.timestamp < endMs)).toBe(true);
    });
  });

  describe('transport faults', () => {
    const fromMs = MONDAY + 6 * HOUR;
    const toMs = fromMs + 8 * HOUR;
    const intervalMs = 10_000;
    const gridCount = (8 * HOUR) / intervalMs;

    test('duplicates repeat (machine, timestamp) at about the planned rate', () => {
      const run = runPlanned({ scenario: 'duplicates', machines: 5, intervalMs, fromMs, toMs: fromMs + 12 * HOUR });
      const ticksPerMachine = (12 * HOUR) / intervalMs;
      const expected = run.faults.reduce((sum, f) => sum + f.magnitude! * ticksPerMachine, 0);
      const repeats = run.readings.length - new Set(run.readings.map(key)).size;
      expect(new Set(run.readings.map(key)).size).toBe(5 * ticksPerMachine);
      expect(repeats).toBeGreaterThan(0.6 * expected);
      expect(repeats).toBeLessThan(1.4 * expected);
    });

    test('duplicates happen inside the fault window only', () => {
      const window = fault('duplicates', fromMs + 2 * HOUR, fromMs + 4 * HOUR, { magnitude: 0.05 });
      const readings = readingsOf(ticks({ faults: [window], fromMs, toMs, intervalMs }));
      const seen = new Set<string>();
      const repeated = readings.filter((r) => (seen.has(key(r)) ? true : (seen.add(key(r)), false)));
      expect(repeated.length).toBeGreaterThan(0.5 * 0.05 * (2 * HOUR) / intervalMs);
      expect(repeated.every((r) => r.timestamp >= window.onsetMs && r.timestamp < window.endMs)).toBe(true);
      // A redelivery is the same reading, not a new measurement.
      const first = new Map(readings.map((r) => [key(r), JSON.stringify(r)] as const).reverse());
      expect(repeated.filter((r) => JSON.stringify(r) !== first.get(key(r)))).toEqual([]);
    });

    test('out-of-order: some readings arrive after a newer one of the same machine, a few ticks late', () => {
      const all = ticks({ faults: [fault('out-of-order', fromMs, toMs, { magnitude: 0.05 })], fromMs, toMs, intervalMs });
      const arrivals = all.flatMap((t) => t.readings.map((r) => ({ timestamp: r.timestamp, lagMs: t.tickMs - r.timestamp })));
      const reordered = arrivals.filter((a, i) => i > 0 && a.timestamp < arrivals[i - 1]!.timestamp);
      expect(reordered.length).toBeGreaterThan(0.5 * 0.05 * gridCount);
      expect(Math.max(...arrivals.map((a) => a.lagMs))).toBeLessThanOrEqual(5 * intervalMs);
      expect(new Set(readingsOf(all).map(key)).size).toBe(gridCount);
    });

    test('out-of-order happens inside the fault window only', () => {
      const window = fault('out-of-order', fromMs + 2 * HOUR, fromMs + 4 * HOUR, { magnitude: 0.05 });
      const all = ticks({ faults: [window], fromMs, toMs, intervalMs });
      const delayed = all.flatMap((t) => t.readings.filter((r) => r.timestamp !== t.tickMs));
      expect(delayed.length).toBeGreaterThan(0);
      expect(delayed.every((r) => r.timestamp >= window.onsetMs && r.timestamp < window.endMs)).toBe(true);
    });

    test('late readings arrive one to three hours after their tick, only from the fault window', () => {
      const late = fault('late', fromMs + HOUR, fromMs + 3 * HOUR, { magnitude: 0.05 });
      const all = ticks({ faults: [late], fromMs, toMs, intervalMs });
      const delayed = all.flatMap((t) => t.readings.filter((r) => r.timestamp !== t.tickMs).map((r) => ({ r, lagMs: t.tickMs - r.timestamp })));
      expect(delayed.length).toBeGreaterThan(0.5 * 0.05 * (2 * HOUR) / intervalMs);
      for (const { r, lagMs } of delayed) {
        expect(lagMs).toBeGreaterThanOrEqual(HOUR);
        expect(lagMs).toBeLessThanOrEqual(3 * HOUR);
        expect(r.timestamp >= late.onsetMs && r.timestamp < late.endMs).toBe(true);
      }
      expect(new Set(readingsOf(all).map(key)).size).toBe(gridCount);
    });

    test.each([25_000, -90_000])('clock skew of %i ms shifts timestamps by that much inside its window only', (magnitude) => {
      const skew = fault('clock-skew', fromMs + HOUR, fromMs + 2 * HOUR, { magnitude });
      const all = ticks({ faults: [skew], fromMs, toMs: fromMs + 3 * HOUR, intervalMs });
      const offsets = all.map((t) => ({ inside: t.tickMs >= skew.onsetMs && t.tickMs < skew.endMs, offsetMs: t.readings[0]!.timestamp - t.tickMs }));
      expect(offsets.filter((o) => o.offsetMs !== (o.inside ? magnitude : 0))).toEqual([]);
      expect(offsets.filter((o) => o.inside)).toHaveLength(HOUR / intervalMs);
    });

    test('no reading is lost: every grid point outside downtime arrives, at its possibly skewed time', () => {
      const intervalMs = MINUTE;
      const to = MONDAY + 2 * DAY;
      const failureMs = MONDAY + DAY + 12 * HOUR;
      const faults: Fault[] = [
        fault('bearing-wear', MONDAY + 12 * HOUR, failureMs + 6 * HOUR, { failureMs }),
        fault('duplicates', MONDAY, to, { magnitude: 0.02 }),
        fault('out-of-order', MONDAY, to, { magnitude: 0.02 }),
        { ...fault('late', MONDAY + 8 * HOUR, MONDAY + 20 * HOUR, { magnitude: 0.05 }), machineId: MILL.id },
        { ...fault('clock-skew', MONDAY + 30 * HOUR, MONDAY + 34 * HOUR, { magnitude: -MINUTE }), machineId: MILL.id },
        { ...fault('out-of-order', MONDAY, to, { magnitude: 0.02 }), machineId: MILL.id },
      ];
      const readings = readingsOf(ticks({ machines: [LATHE, MILL], faults, fromMs: MONDAY, toMs: to, intervalMs }));

      const expected = new Map<string, number>();
      for (const machine of [LATHE, MILL]) {
        for (let t = MONDAY; t < to; t += intervalMs) {
          const own = faults.filter((f) => f.machineId === machine.id && t >= f.onsetMs && t < f.endMs);
          if (own.some((f) => f.failureMs !== null && t >= f.failureMs)) continue; // down
          const skewMs = own.find((f) => f.kind === 'clock-skew')?.magnitude ?? 0;
          const k = `${machine.id}@${t + skewMs}`;
          expected.set(k, (expected.get(k) ?? 0) + 1);
        }
      }
      const actual = new Map<string, number>();
      for (const r of readings) actual.set(key(r), (actual.get(key(r)) ?? 0) + 1);

      const missing = [...expected].filter(([k, n]) => (actual.get(k) ?? 0) < n);
      const unexpected = [...actual.keys()].filter((k) => !expected.has(k));
      expect(missing).toEqual([]);
      expect(unexpected).toEqual([]);
      const expectedCount = [...expected.values()].reduce((a, b) => a + b, 0);
      expect(readings.length - expectedCount).toBeGreaterThan(0); // the duplicates
      expect(readings.length - expectedCount).toBeLessThan(0.05 * expectedCount);
    });

    test('a finite run ends with a tick that releases the readings still delayed', () => {
      const late = fault('late', fromMs + 6 * HOUR, toMs, { magnitude: 0.1 });
      const all = ticks({ faults: [late], fromMs, toMs, intervalMs });
      expect(all).toHaveLength(gridCount + 1);
      const last = all[all.length - 1]!;
      expect(last.tickMs).toBe(toMs);
      expect(last.readings.length).toBeGreaterThan(0);
      expect(last.readings.every((r) => r.timestamp >= late.onsetMs && r.timestamp < toMs)).toBe(true);
      expect(new Set(readingsOf(all).map(key)).size).toBe(gridCount);
    });
  });
  describe('machines with some sensors', () => {
    /** The lathe of LATHE (same seed, same profile) with only these sensors. */
    const latheWith = (sensors: readonly Feature[]) => buildFleet(1, new Random(11), { sensors })[0]!;
    const TEMP_A_ONLY = latheWith(['tempA']);
    const ACC_X_ONLY = latheWith(['accX']);
    /** Readings with a value where the machine has no sensor, or a null where it has one. */
    const absentSet = (readings: readonly RawReading[], has: readonly Feature[]) =>
      readings.filter((r) => FEATURES.some((f) => (r[f] === null) === has.includes(f)));

    test('the others are null in every reading (never 0); the ones it has read as on the fully equipped machine', () => {
      const sensors: Feature[] = ['current', 'tempA'];
      const partial = readingsOf(ticks({ machines: [latheWith(sensors)], fromMs: MONDAY, toMs: MONDAY + 2 * DAY }));
      const full = readingsOf(ticks({ machines: [LATHE], fromMs: MONDAY, toMs: MONDAY + 2 * DAY }));
      expect(partial).toHaveLength(2 * 24 * 60);
      expect(absentSet(partial, sensors)).toEqual([]);
      expect(partial).toEqual(full.map((r) => ({ ...r, accX: null, accY: null, accZ: null, tempB: null })));
    });

    test('overheating on a machine with only tempA: tempA climbs well above the healthy level before failure', () => {
      const onsetMs = MONDAY + DAY; // Tuesday 00:00
      const failureMs = onsetMs + 20 * HOUR; // Tuesday 20:00
      const overheating = fault('overheating', onsetMs, failureMs + 6 * HOUR, { failureMs });
      const readings = readingsOf(ticks({ machines: [TEMP_A_ONLY], faults: [overheating], fromMs: MONDAY, toMs: onsetMs + DAY }));
      expect(absentSet(readings, ['tempA'])).toEqual([]);
      // The same hours (18:00-20:00, on shift) on the healthy Monday and the failing Tuesday.
      const healthy = between(readings, MONDAY + 18 * HOUR, MONDAY + 20 * HOUR).filter(onShift);
      const failing = between(readings, failureMs - 2 * HOUR, failureMs).filter(onShift);
      expect(mean(values(failing, 'tempA'))).toBeGreaterThan(mean(values(healthy, 'tempA')) + 15);
      expect(between(readings, failureMs, failureMs + 6 * HOUR)).toEqual([]);
    });

    test('bearing wear on a machine with only accX: accX grows to more than twice its healthy level', () => {
      const onsetMs = MONDAY + DAY; // Tuesday 00:00
      const failureMs = onsetMs + 72 * HOUR; // Friday 00:00
      const bearing = fault('bearing-wear', onsetMs, failureMs + 8 * HOUR, { failureMs });
      const readings = readingsOf(ticks({ machines: [ACC_X_ONLY], faults: [bearing], fromMs: MONDAY, toMs: failureMs }));
      expect(absentSet(readings, ['accX'])).toEqual([]);
      const before = between(readings, MONDAY, onsetMs).filter(onShift);
      const lastTenth = between(readings, failureMs - 0.1 * (failureMs - onsetMs), failureMs).filter(onShift);
      expect(mean(values(lastTenth, 'accX'))).toBeGreaterThan(2 * mean(values(before, 'accX')));
    });

    test('a heterogeneous planned run: each machine reports its own subset and gets a machine fault its sensors can see', () => {
      const scenario = 'bearing-wear,overheating,electrical';
      const run = runPlanned({ fleet: 'heterogeneous', machines: 8, scenario, faultyFraction: 1, toMs: MONDAY + 8 * DAY, intervalMs: 5 * MINUTE });
      expect(run.faults).toHaveLength(8);
      for (const machine of run.machines) {
        const own = run.readings.filter((r) => r.machineId === machine.id);
        expect(absentSet(own, machine.sensors)).toEqual([]);
      }
      // Machine faults on the single-sensor machines: pump-04 (tempA) can only see heat, lathe-05 (accX) only wear.
      expect(run.faults.filter((f) => f.machineId === 'pump-04').map((f) => f.kind)).toEqual(['overheating']);
      expect(run.faults.filter((f) => f.machineId === 'lathe-05').map((f) => f.kind)).toEqual(['bearing-wear']);
    });
  });

  describe('pumps: extra channels', () => {
    const PUMP = buildFleet(4, new Random(11))[3]!;
    const extraValues = (readings: readonly RawReading[], channel: string) => readings.map((r) => r.extras?.[channel]).filter((v): v is number => typeof v === 'number');
    const spread = (xs: readonly number[]) => {
      const m = mean(xs);
      return Math.sqrt(mean(xs.map((x) => (x - m) ** 2))) / m;
    };

    test('a pump reports pressure (bar) and flow (m³/h) that follow its load; other machines report no extras', () => {
      expect([PUMP.type, PUMP.extras]).toEqual(['pump', ['pressure', 'flow']]);
      const readings = readingsOf(ticks({ machines: [LATHE, PUMP], fromMs: MONDAY, toMs: MONDAY + 7 * DAY }));
      const pump = readings.filter((r) => r.machineId === PUMP.id);
      expect(readings.filter((r) => r.machineId === LATHE.id && 'extras' in r)).toEqual([]);
      expect(pump.filter((r) => Object.keys(r.extras ?? {}).join() !== 'pressure,flow')).toEqual([]);
      const shift = pump.filter((r) => new Date(r.timestamp).getUTCDay() !== 6 && onShift(r));
      const sunday = pump.filter((r) => new Date(r.timestamp).getUTCDay() === 0);
      expect(mean(extraValues(shift, 'flow'))).toBeGreaterThan(5 * mean(extraValues(sunday, 'flow')));
      expect(mean(extraValues(shift, 'pressure'))).toBeGreaterThan(3 * mean(extraValues(sunday, 'pressure')));
      expect(mean(extraValues(shift, 'pressure'))).toBeGreaterThan(2);
      expect(mean(extraValues(shift, 'pressure'))).toBeLessThan(5);
    });

    test('extra channels take nothing from the six features\' random streams', () => {
      const withExtras = readingsOf(ticks({ machines: [LATHE, PUMP], fromMs: MONDAY, toMs: MONDAY + DAY }));
      const without = readingsOf(ticks({ machines: [LATHE, { ...PUMP, extras: [] }], fromMs: MONDAY, toMs: MONDAY + DAY }));
      expect(without.some((r) => 'extras' in r)).toBe(false);
      expect(withExtras.map(({ extras: _extras, ...six }) => six)).toEqual(without);
    });

    describe('cavitation', () => {
      const onsetMs = MONDAY + DAY; // Tuesday 00:00
      const failureMs = onsetMs + 72 * HOUR; // Friday 00:00
      const cavitation = fault('cavitation', onsetMs, failureMs + 8 * HOUR, { failureMs, machineId: PUMP.id });
      const sick = readingsOf(ticks({ machines: [PUMP], faults: [cavitation], fromMs: MONDAY, toMs: failureMs }));
      const healthy = readingsOf(ticks({ machines: [PUMP], fromMs: MONDAY, toMs: failureMs }));
      // The last tenth before failure (Thursday evening, on shift) against the healthy Monday shift.
      const before = between(sick, MONDAY, onsetMs).filter(onShift);
      const lastTenth = between(sick, failureMs - 0.1 * (failureMs - onsetMs), failureMs).filter(onShift);

      test.each<[string, string, (xs: readonly number[]) => number, number, number]>([
        ['flow drops by about a third', 'flow', mean, 0.55, 0.75],
        ['pressure sags', 'pressure', mean, 0.7, 0.92],
        ['pressure pulsates: its relative spread grows threefold', 'pressure', spread, 2.5, Infinity],
        ['flow barely scatters more', 'flow', spread, 0.5, 2],
      ])('%s', (_label, channel, statistic, low, high) => {
        const ratio = statistic(extraValues(lastTenth, channel)) / statistic(extraValues(before, channel));
        expect(ratio).toBeGreaterThan(low);
        expect(ratio).toBeLessThan(high);
      });

      test('the six features barely notice: only the current dips a little, the rest are the healthy run\'s', () => {
        const six = (readings: readonly RawReading[]) => readings.map(({ extras: _extras, current: _current, ...rest }) => rest);
        expect(six(sick)).toEqual(six(healthy));
        const currentRatio = mean(values(lastTenth, 'current')) / mean(values(between(healthy, failureMs - 0.1 * (failureMs - onsetMs), failureMs).filter(onShift), 'current'));
        expect(currentRatio).toBeGreaterThan(0.93);
        expect(currentRatio).toBeLessThan(0.96);
      });

      test('planned by --scenario cavitation on pumps only; asked for on a lathe, refused', () => {
        const run = runPlanned({ scenario: 'cavitation', faultyFraction: 1, machines: 8, toMs: MONDAY + 10 * DAY, intervalMs: 10 * MINUTE });
        expect(run.faults.map((f) => `${f.machineId}:${f.kind}`)).toEqual(['pump-04:cavitation', 'pump-08:cavitation']);
        expect(() => planSimulation(options({ machines: 8, faults: [{ machineId: 'lathe-05', kind: 'cavitation', onsetMs }] }))).toThrow(/lathe-05 is a lathe; cavitation is a fault of pump machines/);
      });
    });
  });
});
