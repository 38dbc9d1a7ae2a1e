import type { Feature } from '../../schemas';
import type { Random } from './random';

/**
 * The simulated fleet: machine types with their physics, and the faults a run injects. Pure data
 * and functions of a seeded Random.
 */

export type MachineType = 'lathe' | 'cnc-mill' | 'robot-arm' | 'pump';

export interface MachineProfile {
  /** Motor current at idle and at full load, A. */
  currentIdleA: number;
  currentFullA: number;
  /** Vibration RMS per axis at full load, g; a running machine at idle shows a quarter of it. */
  vibrationG: readonly [number, number, number];
  /** Ambient and the rise of temperatures A (motor) and B (bearing/fluid) at full load, °C. */
  ambientC: number;
  riseAC: number;
  riseBC: number;
  /** Thermal time constant, minutes. */
  thermalTauMin: number;
  /** Share of a shift the machine works. */
  utilisation: number;
}

export interface Machine {
  id: string;
  type: MachineType;
  profile: MachineProfile;
}

const BASE: Record<MachineType, Omit<MachineProfile, 'utilisation'>> = {
  lathe: { currentIdleA: 2.2, currentFullA: 11.5, vibrationG: [0.021, 0.018, 0.012], ambientC: 23, riseAC: 24, riseBC: 15, thermalTauMin: 25 },
  'cnc-mill': { currentIdleA: 3.5, currentFullA: 18.0, vibrationG: [0.034, 0.03, 0.026], ambientC: 23, riseAC: 27, riseBC: 18, thermalTauMin: 30 },
  'robot-arm': { currentIdleA: 1.1, currentFullA: 6.2, vibrationG: [0.015, 0.017, 0.022], ambientC: 23, riseAC: 16, riseBC: 11, thermalTauMin: 15 },
  pump: { currentIdleA: 0.8, currentFullA: 2.4, vibrationG: [0.028, 0.025, 0.01], ambientC: 21, riseAC: 50, riseBC: 10, thermalTauMin: 40 },
};

/** The original system's three machines come first; more machines cycle through the types. */
const ORIGINAL: ReadonlyArray<[string, MachineType]> = [
  ['lathe-1-spindle', 'lathe'],
  ['cnc-mill-5-axis', 'cnc-mill'],
  ['robot-arm-02', 'robot-arm'],
];
const TYPES: readonly MachineType[] = ['lathe', 'cnc-mill', 'robot-arm', 'pump'];

export function buildFleet(count: number, random: Random): Machine[] {
  const machines: Machine[] = [];
  for (let i = 0; i < count; i++) {
    const [id, type] = i < ORIGINAL.length ? ORIGINAL[i]! : [`${TYPES[i % TYPES.length]}-${String(i + 1).padStart(2, '0')}`, TYPES[i % TYPES.length]!];
    const base = BASE[type];
    // Each machine differs a little from its type: wear, mounting, cooling.
    const jitter = () => random.between(0.93, 1.07);
    machines.push({
      id,
      type,
      profile: {
        currentIdleA: base.currentIdleA * jitter(),
        currentFullA: base.currentFullA * jitter(),
        vibrationG: [base.vibrationG[0] * jitter(), base.vibrationG[1] * jitter(), base.vibrationG[2] * jitter()],
        ambientC: base.ambientC + random.between(-1.5, 1.5),
        riseAC: base.riseAC * jitter(),
        riseBC: base.riseBC * jitter(),
        thermalTauMin: base.thermalTauMin * jitter(),
        utilisation: random.between(0.65, 0.95),
      },
    });
  }
  return machines;
}

/** Faults that break the machine (they end in a failure, then downtime and repair). */
export const MACHINE_FAULTS = ['bearing-wear', 'overheating', 'electrical'] as const;
/** Faults of a sensor: the machine is fine, its data is not. */
export const SENSOR_FAULTS = ['sensor-stuck', 'sensor-dropout', 'sensor-spikes'] as const;
/** Faults between machine and broker. */
export const TRANSPORT_FAULTS = ['duplicates', 'out-of-order', 'late', 'clock-skew'] as const;
export const FAULT_KINDS = [...MACHINE_FAULTS, ...SENSOR_FAULTS, ...TRANSPORT_FAULTS] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export type MachineFaultKind = (typeof MACHINE_FAULTS)[number];

export interface Fault {
  machineId: string;
  kind: FaultKind;
  category: 'machine' | 'sensor' | 'transport';
  onsetMs: number;
  /** When the machine fails (machine faults only). */
  failureMs: number | null;
  /** When the effect ends: repair done, sensor fixed, network healthy again. */
  endMs: number;
  /** The feature a sensor fault affects. */
  feature?: Feature;
  /** Rate or size of the fault: probability per reading, or clock offset in ms. */
  magnitude?: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** How long each machine fault takes from first sign to failure, hours (min, max). */
export const DEVELOPMENT_HOURS: Record<MachineFaultKind, [number, number]> = {
  'bearing-wear': [72, 240],
  overheating: [12, 72],
  electrical: [24, 96],
};

export interface FaultPlanOptions {
  fromMs: number;
  toMs: number;
  /** Kinds this run may inject; empty for a healthy fleet. */
  kinds: readonly FaultKind[];
  /** Share of machines that get a machine fault. */
  faultyFraction: number;
}

/**
 * Chooses the faults of a run. Machine faults start early enough to fail inside the run when the
 * run is long enough, and each faulty machine gets one. Sensor and transport faults land on
 * other machines as well, at rates seen on real shop floors.
 */
export function planFaults(machines: readonly Machine[], options: FaultPlanOptions, random: Random): Fault[] {
  const faults: Fault[] = [];
  const span = options.toMs - options.fromMs;
  const machineKinds = MACHINE_FAULTS.filter((k) => options.kinds.includes(k));
  const sensorKinds = SENSOR_FAULTS.filter((k) => options.kinds.includes(k));
  // At least one when any are asked for (3 machines x 0.1 still gets its fault); none at 0.
  const faultyCount = machineKinds.length === 0 || options.faultyFraction <= 0 ? 0 : Math.max(1, Math.round(machines.length * options.faultyFraction));
  // Spread faulty machines over the fleet deterministically (every k-th, starting from a random one).
  const stride = machines.length / Math.max(1, faultyCount);
  const start = random.int(0, Math.max(0, Math.floor(stride) - 1));
  const faulty = new Set<number>();
  for (let i = 0; i < faultyCount; i++) faulty.add(Math.floor(start + i * stride) % machines.length);

  machines.forEach((machine, index) => {
    const rand = random.fork();
    if (faulty.has(index)) {
      const kind = rand.pick(machineKinds);
      const [minH, maxH] = DEVELOPMENT_HOURS[kind];
      const developMs = Math.min(rand.between(minH, maxH) * HOUR, span * 0.6);
      const latestOnset = options.toMs - developMs - 0.1 * span;
      const onsetMs = Math.round(rand.between(options.fromMs + 0.15 * span, Math.max(options.fromMs + 0.15 * span, latestOnset)));
      const failureMs = Math.round(onsetMs + developMs);
      faults.push({ machineId: machine.id, kind, category: 'machine', onsetMs, failureMs, endMs: Math.round(failureMs + rand.between(4, 12) * HOUR) });
    }
    if (sensorKinds.length > 0 && rand.chance(0.25)) {
      const kind = rand.pick(sensorKinds);
      const durationMs = kind === 'sensor-spikes' ? rand.between(1, 2) * DAY : rand.between(2, 10) * HOUR;
      const onsetMs = Math.round(rand.between(options.fromMs, Math.max(options.fromMs, options.toMs - durationMs)));
      const feature = rand.pick(['current', 'accX', 'accY', 'accZ', 'tempA', 'tempB'] as const);
      faults.push({ machineId: machine.id, kind, category: 'sensor', onsetMs, failureMs: null, endMs: Math.round(onsetMs + durationMs), feature, magnitude: kind === 'sensor-spikes' ? 0.005 : undefined });
    }
    for (const kind of TRANSPORT_FAULTS) {
      if (!options.kinds.includes(kind)) continue;
      if (kind === 'duplicates' || kind === 'out-of-order') {
        // A little of both, on every machine, all the time: the usual state of an MQTT/Wi-Fi path.
        faults.push({ machineId: machine.id, kind, category: 'transport', onsetMs: options.fromMs, failureMs: null, endMs: options.toMs, magnitude: rand.between(0.001, 0.005) });
      } else if (rand.chance(0.15)) {
        const durationMs = rand.between(2, 8) * HOUR;
        const onsetMs = Math.round(rand.between(options.fromMs, Math.max(options.fromMs, options.toMs - durationMs)));
        const magnitude = kind === 'late' ? 0.02 : Math.round(rand.between(20, 120)) * 1000 * (rand.chance(0.5) ? 1 : -1);
        faults.push({ machineId: machine.id, kind, category: 'transport', onsetMs, failureMs: null, endMs: Math.round(onsetMs + durationMs), magnitude });
      }
    }
  });
  return faults;
}
