import { FEATURES, type Feature } from '../../schemas';
import type { Random } from './random';
import { PdmError } from '../../lib/errors';

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
  /** The features this machine reports, in FEATURES order; the others are null in every reading. */
  sensors: readonly Feature[];
  /** Extra channels it reports beyond the six (SensorReading.extras), by its type: EXTRA_CHANNELS. */
  extras: readonly string[];
}

/**
 * Extra channels by machine type: a pump's discharge pressure (bar) and flow (m³/h), which follow
 * its load. Every pump has them, whatever --sensors or --fleet choose among the six.
 */
export const EXTRA_CHANNELS: Record<MachineType, readonly string[]> = { lathe: [], 'cnc-mill': [], 'robot-arm': [], pump: ['pressure', 'flow'] };

/** A pump's hydraulics at idle and at full load (each pump differs from these by up to 7 %). */
export const PUMP_HYDRAULICS = { pressureIdleBar: 0.4, pressureFullBar: 4.5, flowIdleM3h: 0.9, flowFullM3h: 18 } as const;

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

const identity = (index: number): [string, MachineType] =>
  index < ORIGINAL.length ? ORIGINAL[index]! : [`${TYPES[index % TYPES.length]}-${String(index + 1).padStart(2, '0')}`, TYPES[index % TYPES.length]!];

/** The ids of a fleet of `count` machines: they depend on the index only, not on the seed. */
export const fleetIds = (count: number): string[] => Array.from({ length: count }, (_, i) => identity(i)[0]);

export const FLEET_KINDS = ['uniform', 'heterogeneous'] as const;
export type FleetKind = (typeof FLEET_KINDS)[number];

/**
 * The sensors of a heterogeneous fleet by machine index modulo 8: the first three of every eight
 * (so the original three machines) report all six, the others the kinds of retrofit a real shop
 * floor has: one thermocouple, one accelerometer, a current clamp and a motor probe, a triaxial
 * accelerometer, two temperatures.
 */
export const HETEROGENEOUS_SENSORS: ReadonlyArray<readonly Feature[]> = [
  FEATURES,
  FEATURES,
  FEATURES,
  ['tempA'],
  ['accX'],
  ['current', 'tempA'],
  ['accX', 'accY', 'accZ'],
  ['tempA', 'tempB'],
];

export interface FleetOptions {
  /** What every machine of a uniform fleet reports (default all six). */
  sensors?: readonly Feature[];
  /** uniform: every machine reports `sensors`; heterogeneous: HETEROGENEOUS_SENSORS by index. */
  fleet?: FleetKind;
}

/** The sensors of the machine at `index`: deterministic from the index, never from the seed. */
export function machineSensors(index: number, options: FleetOptions = {}): readonly Feature[] {
  const sensors = options.sensors ?? FEATURES;
  if (options.fleet === 'heterogeneous') {
    // Both would choose each machine's sensors; a silent intersection could leave a machine with none.
    if (FEATURES.some((f) => !sensors.includes(f))) {
      throw new PdmError('USAGE', 'a heterogeneous fleet chooses each machine\'s sensors itself: give --sensors or --fleet heterogeneous, not both');
    }
    return HETEROGENEOUS_SENSORS[index % HETEROGENEOUS_SENSORS.length]!;
  }
  const own = FEATURES.filter((f) => sensors.includes(f));
  if (own.length === 0) throw new PdmError('USAGE', `a machine needs at least one of the sensors ${FEATURES.join(', ')}`);
  return own;
}

export function buildFleet(count: number, random: Random, options: FleetOptions = {}): Machine[] {
  const machines: Machine[] = [];
  for (let i = 0; i < count; i++) {
    const [id, type] = identity(i);
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
      sensors: machineSensors(i, options),
      extras: EXTRA_CHANNELS[type],
    });
  }
  return machines;
}

/** Faults that break the machine (they end in a failure, then downtime and repair). */
export const MACHINE_FAULTS = ['bearing-wear', 'overheating', 'electrical', 'cavitation'] as const;
/** Faults of a sensor: the machine is fine, its data is not. */
export const SENSOR_FAULTS = ['sensor-stuck', 'sensor-dropout', 'sensor-spikes'] as const;
/** Faults between machine and broker. */
export const TRANSPORT_FAULTS = ['duplicates', 'out-of-order', 'late', 'clock-skew'] as const;
export const FAULT_KINDS = [...MACHINE_FAULTS, ...SENSOR_FAULTS, ...TRANSPORT_FAULTS] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export type MachineFaultKind = (typeof MACHINE_FAULTS)[number];

/**
 * The kinds of the `mixed` scenario: every kind but cavitation, which came later and is asked for
 * by name (`--scenario cavitation` or `--fault`), so that a seed's mixed runs stay what they were.
 */
export const MIXED_KINDS: readonly FaultKind[] = FAULT_KINDS.filter((k) => k !== 'cavitation');

/** Machine faults only some machine types can have (the others can have any type). */
export const FAULT_MACHINE_TYPES: Partial<Record<MachineFaultKind, readonly MachineType[]>> = { cavitation: ['pump'] };

/** Whether a machine of `type` can have a fault of `kind`. */
export const faultFits = (kind: MachineFaultKind, type: MachineType): boolean => FAULT_MACHINE_TYPES[kind]?.includes(type) ?? true;

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
  cavitation: [48, 168],
};

/**
 * The features and extra channels where each machine fault shows clearly (see the simulator's
 * physics). Bearing wear also lifts the current by 4 %, overheating by 12 %, and cavitation
 * lowers it by 6 %: too little against load swings to count. Cavitation shows in a pump's extras
 * alone: its pressure pulsates and sags, its flow drops.
 */
export const FAULT_SIGNS: Record<MachineFaultKind, readonly string[]> = {
  'bearing-wear': ['accX', 'accY', 'accZ', 'tempB'],
  overheating: ['tempA', 'tempB'],
  electrical: ['current'],
  cavitation: ['pressure', 'flow'],
};

/** Hours from failure to repair of a requested fault (planned faults draw 4 to 12). */
export const REPAIR_HOURS = 8;

/** A machine fault asked for by hand (`--fault machine:kind:onset[:failure]`). */
export interface FaultRequest {
  machineId: string;
  kind: MachineFaultKind;
  onsetMs: number;
  /** Default: the onset plus the middle of the kind's DEVELOPMENT_HOURS. */
  failureMs?: number;
}

const describeRequest = (r: FaultRequest) => `fault ${r.machineId}:${r.kind} at ${new Date(r.onsetMs).toISOString()}`;

/** Requested faults as planned ones, checked against the fleet (ids, or machines to check the kind fits) and the run's end. */
export function requestedFaults(fleet: ReadonlyArray<string | Pick<Machine, 'id' | 'type'>>, requests: readonly FaultRequest[], toMs: number): Fault[] {
  const machineIds = fleet.map((m) => (typeof m === 'string' ? m : m.id));
  return requests.map((r) => {
    if (!machineIds.includes(r.machineId)) {
      const listed = machineIds.length <= 6 ? machineIds.join(', ') : `${machineIds.slice(0, 5).join(', ')}, ..., ${machineIds.at(-1)}`;
      throw new PdmError('USAGE', `${describeRequest(r)}: no machine ${r.machineId} in this fleet of ${machineIds.length} (${listed})`);
    }
    const machine = fleet.find((m): m is Pick<Machine, 'id' | 'type'> => typeof m !== 'string' && m.id === r.machineId);
    if (machine && !faultFits(r.kind, machine.type)) {
      throw new PdmError('USAGE', `${describeRequest(r)}: ${r.machineId} is a ${machine.type}; ${r.kind} is a fault of ${FAULT_MACHINE_TYPES[r.kind]!.join(', ')} machines`);
    }
    if (!(r.onsetMs < toMs)) throw new PdmError('USAGE', `${describeRequest(r)}: the onset is not before the end of the run (${new Date(toMs).toISOString()})`);
    const [minH, maxH] = DEVELOPMENT_HOURS[r.kind];
    const failureMs = r.failureMs ?? r.onsetMs + Math.round(((minH + maxH) / 2) * HOUR);
    if (!(failureMs > r.onsetMs)) throw new PdmError('USAGE', `${describeRequest(r)}: the failure must come after the onset`);
    return { machineId: r.machineId, kind: r.kind, category: 'machine', onsetMs: r.onsetMs, failureMs, endMs: failureMs + REPAIR_HOURS * HOUR };
  });
}

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
  // The machines a kind of the run fits (all of them, unless the run asks only for pump faults, say).
  const eligible = machines.filter((m) => machineKinds.some((k) => faultFits(k, m.type)));
  // At least one when any are asked for (3 machines x 0.1 still gets its fault); none at 0.
  const faultyCount = eligible.length === 0 || options.faultyFraction <= 0 ? 0 : Math.max(1, Math.round(eligible.length * options.faultyFraction));
  // Spread faulty machines over the eligible ones deterministically (every k-th, starting from a random one).
  const stride = eligible.length / Math.max(1, faultyCount);
  const start = random.int(0, Math.max(0, Math.floor(stride) - 1));
  const faulty = new Set<string>();
  for (let i = 0; i < faultyCount; i++) faulty.add(eligible[Math.floor(start + i * stride) % eligible.length]!.id);

  machines.forEach((machine) => {
    const rand = random.fork();
    if (faulty.has(machine.id)) {
      // A kind that fits the machine and that its sensors can see, when the run allows one (a full machine sees them all).
      const fitting = machineKinds.filter((k) => faultFits(k, machine.type));
      const channels: readonly string[] = [...machine.sensors, ...machine.extras];
      const visible = fitting.filter((k) => FAULT_SIGNS[k].some((f) => channels.includes(f)));
      const kind = rand.pick(visible.length > 0 ? visible : fitting);
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
      const feature = rand.pick(machine.sensors); // a full machine: FEATURES, as before
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
