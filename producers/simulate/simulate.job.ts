import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../lib/logger';
import type { Progress } from '../../lib/progress';
import type { ReadingsProducer } from '../readings.producer';
import { FEATURES, type Feature } from '../../schemas';
import {
  FAULT_KINDS,
  FLEET_KINDS,
  MIXED_KINDS,
  buildFleet,
  planFaults,
  requestedFaults,
  type Fault,
  type FaultKind,
  type FaultRequest,
  type FleetKind,
  type Machine,
} from './fleet';
import { Random } from './random';
import { simulate } from './simulator';
import { PdmError } from '../../lib/errors';

export interface SimulateOptions {
  machines: number;
  intervalMs: number;
  fromMs: number;
  /** Exclusive end; Infinity for a realtime run that goes on until stopped. */
  toMs: number;
  speed: 'max' | 'realtime';
  /** `normal`, `mixed`, or fault kinds separated by commas. */
  scenario: string;
  seed: number;
  faultyFraction: number;
  truthFile?: string;
  /** Features every machine reports; the others are null. Default all six. */
  sensors?: readonly Feature[];
  /** uniform (default): every machine reports `sensors`; heterogeneous: HETEROGENEOUS_SENSORS by machine index. */
  fleet?: FleetKind;
  /** Machine faults asked for by hand, on top of the scenario's. */
  faults?: readonly FaultRequest[];
}

export function scenarioKinds(scenario: string): FaultKind[] {
  if (scenario === 'normal') return [];
  if (scenario === 'mixed') return [...MIXED_KINDS];
  const kinds = scenario.split(',').map((k) => k.trim()).filter(Boolean);
  const unknown = kinds.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0 || kinds.length === 0) {
    throw new PdmError('USAGE', `unknown scenario ${JSON.stringify(unknown.join(',') || scenario)}: use normal, mixed, or any of ${FAULT_KINDS.join(', ')}`);
  }
  return kinds as FaultKind[];
}

/** `--sensors`: features separated by commas, any case, in FEATURES order without repeats. */
export function parseSensors(text: string): Feature[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !FEATURES.some((f) => f.toLowerCase() === n.toLowerCase()));
  if (unknown.length > 0 || names.length === 0) {
    const named = JSON.stringify(unknown.join(',') || text);
    throw new PdmError('USAGE', `unknown sensor ${named} in --sensors: use one or more of ${FEATURES.join(', ')}, separated by commas`);
  }
  return FEATURES.filter((f) => names.some((n) => n.toLowerCase() === f.toLowerCase()));
}

export function parseFleet(text: string): FleetKind {
  if (!(FLEET_KINDS as readonly string[]).includes(text)) throw new PdmError('USAGE', `--fleet is ${FLEET_KINDS.join(' or ')}, not ${text}`);
  return text as FleetKind;
}

/**
 * The fleet and its faults: pure, from the seed. A realtime run without end plans over 30 days.
 * Requested faults come after the planned ones and take nothing from the random streams, so
 * the planned faults and the readings of other machines stay what the seed gives without them.
 */
export function planSimulation(options: SimulateOptions): { machines: Machine[]; faults: Fault[] } {
  const random = new Random(options.seed);
  const machines = buildFleet(options.machines, random.fork(), { sensors: options.sensors, fleet: options.fleet });
  const planTo = Number.isFinite(options.toMs) ? options.toMs : options.fromMs + 30 * 86_400_000;
  const plan = { fromMs: options.fromMs, toMs: planTo, kinds: scenarioKinds(options.scenario), faultyFraction: options.faultyFraction };
  const planned = planFaults(machines, plan, random.fork());
  const requested = requestedFaults(machines, options.faults ?? [], options.toMs);
  return { machines, faults: [...planned, ...requested] };
}

/**
 * Ground truth as JSON lines: what `pdmctl evaluate` compares alerts against. Given the fleet,
 * each line also names the sensors of the fault's machine (`sensors`): a fault shows only there.
 */
export function truthLines(faults: readonly Fault[], machines?: readonly Machine[]): string {
  const sensorsOf = new Map(machines?.map((m) => [m.id, m.sensors]));
  return faults
    .map((f) =>
      JSON.stringify({
        machineId: f.machineId,
        kind: f.kind,
        category: f.category,
        onset: new Date(f.onsetMs).toISOString(),
        failureAt: f.failureMs === null ? null : new Date(f.failureMs).toISOString(),
        end: new Date(f.endMs).toISOString(),
        ...(f.feature ? { feature: f.feature } : {}),
        ...(f.magnitude !== undefined ? { magnitude: f.magnitude } : {}),
        ...(sensorsOf.has(f.machineId) ? { sensors: sensorsOf.get(f.machineId) } : {}),
      }),
    )
    .join('\n');
}

export interface SimulationSummary {
  readings: number;
  refused: number;
  ticks: number;
  lastTickMs: number;
  seconds: number;
  stoppedEarly: boolean;
}

export async function runSimulation(
  options: SimulateOptions,
  deps: { output: ReadingsProducer; logger: Logger; progress?: Progress; signal?: AbortSignal; clock?: () => number },
): Promise<SimulationSummary> {
  const clock = deps.clock ?? Date.now;
  const { machines, faults } = planSimulation(options);
  if (options.truthFile) fs.writeFileSync(options.truthFile, `${truthLines(faults, machines)}\n`);
  const partial = machines.filter((m) => m.sensors.length < FEATURES.length);
  deps.logger.info(
    {
      machines: machines.map((m) => m.id),
      ...(partial.length > 0 ? { sensors: Object.fromEntries(partial.map((m) => [m.id, m.sensors.join(',')])) } : {}),
      faults: faults.filter((f) => f.category === 'machine').map((f) => `${f.machineId}:${f.kind}`),
      from: new Date(options.fromMs).toISOString(),
      to: Number.isFinite(options.toMs) ? new Date(options.toMs).toISOString() : 'until stopped',
      speed: options.speed,
    },
    'simulation starting',
  );
  const started = clock();
  const totalTicks = Number.isFinite(options.toMs) ? Math.ceil((options.toMs - options.fromMs) / options.intervalMs) : 0;
  let readings = 0;
  let refused = 0;
  let ticks = 0;
  let lastTickMs = options.fromMs;
  let stoppedEarly = false;
  for (const tick of simulate({ machines, faults, fromMs: options.fromMs, toMs: options.toMs, intervalMs: options.intervalMs, seed: options.seed })) {
    if (deps.signal?.aborted) {
      stoppedEarly = true;
      break;
    }
    if (options.speed === 'realtime') {
      const wait = tick.tickMs - clock();
      if (wait > 0) await sleep(wait, undefined, { signal: deps.signal }).catch(() => undefined);
      if (deps.signal?.aborted) {
        stoppedEarly = true;
        break;
      }
    }
    for (const reading of tick.readings) {
      const accepted = await deps.output.add(reading, { description: `simulate:${reading.machineId}` }, () => JSON.stringify(reading));
      if (accepted) readings++;
      else refused++;
    }
    ticks++;
    lastTickMs = tick.tickMs;
    if (deps.progress && ticks % 500 === 0) {
      const seconds = (clock() - started) / 1000;
      deps.progress.update(ticks, `${new Date(tick.tickMs).toISOString().slice(0, 16)}Z | ${readings.toLocaleString('en')} readings | ${Math.round(readings / Math.max(seconds, 0.001)).toLocaleString('en')}/s`);
    }
  }
  await deps.output.flush();
  deps.progress?.update(totalTicks, `${readings.toLocaleString('en')} readings`);
  deps.progress?.stop();
  return { readings, refused, ticks, lastTickMs, seconds: (clock() - started) / 1000, stoppedEarly };
}
