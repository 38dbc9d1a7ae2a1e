import { FEATURES, type Feature } from '../../schemas';
import { PUMP_HYDRAULICS, type Fault, type Machine } from './fleet';
import { Random } from './random';

/**
 * The simulated machines, as a pure generator over event time: for each tick of `intervalMs`, the
 * readings the fleet sends in that tick (after transport faults have delayed, duplicated or
 * skewed some of them). Same seed, same readings.
 */

/** What a machine sends: the shape validateReading accepts. */
export interface RawReading {
  machineId: string;
  timestamp: number;
  current: number | null;
  accX: number | null;
  accY: number | null;
  accZ: number | null;
  tempA: number | null;
  tempB: number | null;
  /** Only on machines with extra channels (pumps: pressure, flow). */
  extras?: Record<string, number | null>;
}

export interface Tick {
  tickMs: number;
  readings: RawReading[];
}

export interface SimulationConfig {
  machines: readonly Machine[];
  faults: readonly Fault[];
  fromMs: number;
  /** Exclusive; Infinity runs until the consumer stops iterating. */
  toMs: number;
  intervalMs: number;
  seed: number;
}

const MINUTE = 60_000;
const LOAD_PHI = 0.98;
const HOUR = 60 * MINUTE;

/** Nominal load from the shift plan (UTC): two shifts on weekdays, one on Saturday, Sunday off. */
export function shiftLoad(tMs: number, utilisation: number): number {
  const date = new Date(tMs);
  const day = date.getUTCDay(); // 0 Sunday
  const hour = date.getUTCHours() + date.getUTCMinutes() / 60 + date.getUTCSeconds() / 3600;
  const end = day === 6 ? 14 : 22;
  if (day === 0 || hour < 6 || hour >= end) return 0.08; // idle: controls, coolant pumps, spindle off
  const ramp = Math.min(1, (hour - 6) * 3, (end - hour) * 3); // 20 minutes up and down
  const breaks = [10, 18].some((b) => hour >= b && hour < b + 0.5) ? 0.35 : 1; // half-hour breaks
  return 0.08 + (utilisation - 0.08) * ramp * breaks;
}

const round = (value: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

/**
 * A pump's extra channels. Flow follows the pump's speed and pressure its square (the affinity
 * laws); cavitation starves the impeller: flow drops, pressure sags, pulsates and dips. They draw
 * on a random stream of their own, so adding them changed no draw of the six features.
 */
class Hydraulics {
  private readonly pressureIdleBar: number;
  private readonly pressureFullBar: number;
  private readonly flowIdleM3h: number;
  private readonly flowFullM3h: number;

  constructor(
    private readonly channels: readonly string[],
    private readonly random: Random,
  ) {
    const jitter = () => random.between(0.93, 1.07);
    this.pressureIdleBar = PUMP_HYDRAULICS.pressureIdleBar * jitter();
    this.pressureFullBar = PUMP_HYDRAULICS.pressureFullBar * jitter();
    this.flowIdleM3h = PUMP_HYDRAULICS.flowIdleM3h * jitter();
    this.flowFullM3h = PUMP_HYDRAULICS.flowFullM3h * jitter();
  }

  /** The channels at `load`, with cavitation developed to `cavitation` (0 none, 1 at failure). */
  read(load: number, cavitation: number): Record<string, number | null> {
    const r = this.random;
    const flow = (this.flowIdleM3h + (this.flowFullM3h - this.flowIdleM3h) * load) * (1 - 0.35 * cavitation) * (1 + 0.02 * r.gaussian());
    const head = this.pressureIdleBar + (this.pressureFullBar - this.pressureIdleBar) * load * load;
    let pressure = head * (1 - 0.15 * cavitation) * (1 + (0.015 + 0.2 * cavitation) * r.gaussian());
    if (r.chance(0.03 * cavitation)) pressure *= r.between(0.3, 0.6); // vapour bubbles collapsing
    const values: Record<string, number> = { pressure: round(Math.max(0, pressure), 3), flow: round(Math.max(0, flow), 2) };
    return Object.fromEntries(this.channels.map((c) => [c, values[c] ?? null]));
  }
}

interface Delayed {
  releaseTick: number;
  reading: RawReading;
}

/** What the active machine faults do to one tick: factors on vibration and current, extra heat, a current spike, cavitation's progress, down. */
interface FaultEffects {
  vibration: number;
  vibrationZ: number;
  current: number;
  heatA: number;
  heatB: number;
  spike: number;
  cavitation: number;
  down: boolean;
}

class MachineState {
  private loadNoise = 0;
  private tempA: number;
  private tempB: number;
  private readonly stuck = new Map<Feature, number | null>();
  /** Features the machine has no sensor for. */
  private readonly absent: readonly Feature[];
  private readonly hydraulics: Hydraulics | undefined;
  readonly delayed: Delayed[] = [];

  constructor(
    readonly machine: Machine,
    readonly faults: readonly Fault[],
    readonly random: Random,
    fromMs: number,
    extrasRandom: Random,
  ) {
    this.absent = FEATURES.filter((f) => !machine.sensors.includes(f));
    this.hydraulics = machine.extras.length > 0 ? new Hydraulics(machine.extras, extrasRandom) : undefined;
    const load = shiftLoad(fromMs, machine.profile.utilisation);
    this.tempA = machine.profile.ambientC + machine.profile.riseAC * load;
    this.tempB = machine.profile.ambientC + machine.profile.riseBC * load;
  }

  active(kind: Fault['kind'], tMs: number): Fault | undefined {
    return this.faults.find((f) => f.kind === kind && tMs >= f.onsetMs && tMs < f.endMs);
  }

  /**
   * What the machine faults active at `tMs` do to this tick's physics: progress p from onset (0) to
   * failure (1); down from failure to repair.
   */
  private machineFaultEffects(tMs: number): FaultEffects {
    const r = this.random;
    const e: FaultEffects = { vibration: 1, vibrationZ: 1, current: 1, heatA: 0, heatB: 0, spike: 1, cavitation: 0, down: false };
    for (const fault of this.faults) {
      if (fault.category !== 'machine' || tMs < fault.onsetMs || tMs >= fault.endMs || fault.failureMs === null) continue;
      if (tMs >= fault.failureMs) {
        e.down = true;
        continue;
      }
      const p = (tMs - fault.onsetMs) / (fault.failureMs - fault.onsetMs);
      if (fault.kind === 'bearing-wear') {
        const s = p * p; // wear accelerates
        e.vibration *= 1 + 3.5 * s * (r.chance(0.02 * s) ? 2 : 1);
        e.vibrationZ *= 1 + 1.5 * s;
        e.heatB += 14 * s;
        e.current *= 1 + 0.04 * s;
      } else if (fault.kind === 'overheating') {
        e.heatA += 30 * p;
        e.heatB += 12 * p;
        e.current *= 1 + 0.12 * p;
      } else if (fault.kind === 'electrical') {
        e.current *= 1 + 0.18 * p;
        if (r.chance(0.01 + 0.05 * p)) e.spike = r.between(1.4, 2.2);
        e.vibration *= 1 + 0.1 * p;
      } else if (fault.kind === 'cavitation') {
        // No draw from r: the six features' random stream stays what it is without the fault.
        e.cavitation = Math.max(e.cavitation, p);
        e.current *= 1 - 0.06 * p;
      }
    }
    return e;
  }

  /** Sensor faults at `tMs`, applied to the tick's values: the machine is fine, one feature's data is not. */
  private applySensorFaults(tMs: number, values: Record<Feature, number | null>): void {
    const r = this.random;
    for (const fault of this.faults) {
      if (fault.category !== 'sensor' || !fault.feature) continue;
      if (tMs < fault.onsetMs || tMs >= fault.endMs) {
        this.stuck.delete(fault.feature);
        continue;
      }
      if (fault.kind === 'sensor-dropout') values[fault.feature] = null;
      if (fault.kind === 'sensor-stuck') {
        if (!this.stuck.has(fault.feature)) this.stuck.set(fault.feature, values[fault.feature]);
        values[fault.feature] = this.stuck.get(fault.feature) ?? null;
      }
      if (fault.kind === 'sensor-spikes' && values[fault.feature] !== null && r.chance(fault.magnitude ?? 0.005)) {
        const v = values[fault.feature]!;
        values[fault.feature] = fault.feature.startsWith('temp') ? round(v + r.between(20, 60), 2) : round(v * r.between(3, 8), 5);
      }
    }
  }

  /** The reading of this tick, or null while the machine is down after a failure. */
  read(tMs: number, intervalMs: number): RawReading | null {
    const { profile } = this.machine;
    const r = this.random;
    // Load wanders around the shift plan: an AR(1) process with a stationary spread of 0.03.
    this.loadNoise = LOAD_PHI * this.loadNoise + 0.03 * Math.sqrt(1 - LOAD_PHI * LOAD_PHI) * r.gaussian();
    let load = Math.min(1, Math.max(0, shiftLoad(tMs, profile.utilisation) + this.loadNoise));

    const { vibration, vibrationZ, current, heatA, heatB, spike, cavitation, down } = this.machineFaultEffects(tMs);
    if (down) load = 0;

    // Temperatures follow load (and fault heat) with a thermal lag; the ambient has a daily swing.
    const hour = (tMs % (24 * HOUR)) / HOUR;
    const ambient = profile.ambientC + 1.5 * Math.sin((2 * Math.PI * (hour - 9)) / 24);
    const alphaA = 1 - Math.exp(-intervalMs / (profile.thermalTauMin * MINUTE));
    const alphaB = 1 - Math.exp(-intervalMs / (profile.thermalTauMin * 1.5 * MINUTE));
    this.tempA += (ambient + profile.riseAC * load + (down ? 0 : heatA) - this.tempA) * alphaA;
    this.tempB += (ambient + profile.riseBC * load + (down ? 0 : heatB) - this.tempB) * alphaB;
    if (down) return null;

    const amps = (profile.currentIdleA + (profile.currentFullA - profile.currentIdleA) * load) * current * spike * (1 + 0.015 * r.gaussian());
    const level = 0.25 + 0.75 * load;
    const acc = (axis: 0 | 1 | 2, factor: number) => Math.abs(profile.vibrationG[axis] * level * factor * (1 + 0.08 * r.gaussian()));
    const values: Record<Feature, number | null> = {
      current: round(amps, 3),
      accX: round(acc(0, vibration), 5),
      accY: round(acc(1, vibration), 5),
      accZ: round(acc(2, vibrationZ), 5),
      tempA: round(this.tempA + 0.15 * r.gaussian(), 2),
      tempB: round(this.tempB + 0.15 * r.gaussian(), 2),
    };
    // The physics (and their random draws) run in full: the sensors a machine has read as on a fully equipped one.
    for (const feature of this.absent) values[feature] = null;

    this.applySensorFaults(tMs, values);

    const skew = this.active('clock-skew', tMs)?.magnitude ?? 0;
    const reading: RawReading = { machineId: this.machine.id, timestamp: tMs + skew, ...values };
    if (this.hydraulics) reading.extras = this.hydraulics.read(load, cavitation);
    return reading;
  }
}

export function* simulate(config: SimulationConfig): Generator<Tick> {
  const root = new Random(config.seed);
  const states = config.machines.map(
    (machine) => new MachineState(machine, config.faults.filter((f) => f.machineId === machine.id), root.fork(), config.fromMs, Random.keyed(config.seed, `extras:${machine.id}`)),
  );
  let tick = 0;
  for (let tMs = config.fromMs; tMs < config.toMs; tMs += config.intervalMs, tick++) {
    const readings: RawReading[] = [];
    for (const state of states) {
      const reading = state.read(tMs, config.intervalMs);
      if (reading) {
        const r = state.random;
        // Only inside each fault's window, as the ground truth says.
        const lateFault = state.active('late', tMs);
        const reorder = state.active('out-of-order', tMs);
        const duplicate = state.active('duplicates', tMs);
        if (lateFault && r.chance(lateFault.magnitude ?? 0)) {
          // Buffered on the device during a network outage, delivered one to three hours later.
          state.delayed.push({ releaseTick: tick + Math.round((r.between(1, 3) * HOUR) / config.intervalMs), reading });
        } else if (reorder && r.chance(reorder.magnitude ?? 0)) {
          state.delayed.push({ releaseTick: tick + r.int(1, 5), reading });
        } else {
          readings.push(reading);
        }
        if (duplicate && r.chance(duplicate.magnitude ?? 0)) readings.push({ ...reading }); // an MQTT QoS 1 redelivery
      }
      if (state.delayed.length > 0) {
        for (let i = state.delayed.length - 1; i >= 0; i--) {
          if (state.delayed[i]!.releaseTick <= tick) readings.push(state.delayed.splice(i, 1)[0]!.reading);
        }
      }
    }
    yield { tickMs: tMs, readings };
  }
  // A finite run ends with whatever the network still held.
  const rest = states.flatMap((s) => s.delayed.map((d) => d.reading));
  if (rest.length > 0) yield { tickMs: config.toMs, readings: rest };
}
