import { Random } from '../../producers/simulate/random';
import type { SensorReading } from '../../schemas';
import { compareWindows, windowOracle } from '../window-oracle';
import { StreamingWindowOracle } from './streaming-oracle';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 2, 2);
const CONFIG = { sizeMs: 10 * MINUTE, graceMs: 2 * MINUTE };

/** Readings of a few machines per partition, in a disorderly offset order: late, duplicated, out of order, nulls. */
function streams(seed: number): SensorReading[][] {
  const random = new Random(seed);
  return Array.from({ length: 3 }, (_, p) => {
    const out: SensorReading[] = [];
    const machines = [`m${p}a`, `m${p}b`];
    for (let tick = 0; tick < 400; tick++) {
      for (const machineId of machines) {
        let t = T0 + tick * 15_000;
        if (random.chance(0.05)) t -= random.int(1, 40) * MINUTE; // late or out of order, by up to 40 min
        const value = () => (random.chance(0.05) ? null : random.between(-5, 5));
        const reading: SensorReading = { machineId, timestamp: t, current: value(), accX: value(), accY: value(), accZ: value(), tempA: value(), tempB: value(), extras: machineId.endsWith('a') ? { pressure: value(), flow: value() } : {} };
        out.push(reading);
        if (random.chance(0.03)) out.push({ ...reading, current: 99 }); // a duplicate: the first one's values stand
      }
    }
    return out;
  });
}

describe('the streaming window oracle', () => {
  test.each([1, 2, 3, 4, 5])('equals windowOracle on a disorderly stream (seed %i)', (seed) => {
    const partitions = streams(seed);
    const batch = windowOracle(partitions, CONFIG);
    const streaming = new StreamingWindowOracle(CONFIG);
    partitions.forEach((readings, p) => readings.forEach((r) => streaming.add(p, r)));
    const result = streaming.finish();
    expect(batch.late.length).toBeGreaterThan(0);
    expect(batch.duplicates).toBeGreaterThan(0);
    expect(compareWindows([...result.windows.values()], batch.windows, 0)).toEqual([]);
    expect(result.windows.size).toBe(batch.windows.size);
    expect([...result.late].sort()).toEqual(batch.late.map((r) => `${r.machineId}@${r.timestamp}`).sort());
    expect(result.duplicates).toBe(batch.duplicates);
    expect(result.readings).toBe(partitions.flat().length);
  });

  test('partitions interleaved: each keeps its own stream time', () => {
    const partitions = streams(9);
    const streaming = new StreamingWindowOracle(CONFIG);
    const longest = Math.max(...partitions.map((p) => p.length));
    for (let i = 0; i < longest; i++) {
      partitions.forEach((readings, p) => {
        const reading = readings[i];
        if (reading) streaming.add(p, reading);
      });
    }
    const batch = windowOracle(partitions, CONFIG);
    const result = streaming.finish();
    expect(compareWindows([...result.windows.values()], batch.windows, 0)).toEqual([]);
    expect(result.late.length).toBe(batch.late.length);
  });

  test('a window closes once stream time passes its end plus grace, not before', () => {
    const reading = (t: number, current: number): SensorReading => ({ machineId: 'm', timestamp: t, current, accX: null, accY: null, accZ: null, tempA: null, tempB: null, extras: {} });
    const streaming = new StreamingWindowOracle(CONFIG);
    streaming.add(0, reading(T0, 1));
    streaming.add(0, reading(T0 + 11 * MINUTE, 2)); // stream time at end + 1 min: the first window is still open
    streaming.add(0, reading(T0 + 5 * MINUTE, 3)); // so this one joins it
    streaming.add(0, reading(T0 + 12 * MINUTE, 4)); // end + grace: it closes
    streaming.add(0, reading(T0 + 6 * MINUTE, 5)); // late
    const result = streaming.finish();
    expect(result.late).toEqual([`m@${T0 + 6 * MINUTE}`]);
    expect(result.windows.get(`m@${T0}`)?.current).toEqual({ count: 2, mean: 2, min: 1, max: 3, stddev: 1 });
  });
});
