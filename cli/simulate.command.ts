import { Option, type Command } from 'commander';
import { parseEnv } from '../lib/config';
import { parseDuration } from '../lib/duration';
import { commandLogger } from '../lib/logger';
import { createRegistry } from '../lib/metrics';
import { progressBar } from '../lib/progress';
import { serviceSettings } from '../lib/shared.settings';
import { closeServer, healthApp, listen } from '../lib/service';
import { onShutdown } from '../lib/shutdown';
import { FEATURES } from '../schemas';
import {
  FAULT_KINDS,
  HETEROGENEOUS_SENSORS,
  MACHINE_FAULTS,
  fleetIds,
  machineSensors,
  requestedFaults,
  type FaultRequest,
  type MachineFaultKind,
} from '../producers/simulate/fleet';
import { parseFleet, parseSensors, runSimulation, scenarioKinds, type SimulateOptions } from '../producers/simulate/simulate.job';
import { openReadingsOutput } from '../producers/runtime';
import { connectionEnv } from './connections';
import { PdmError } from '../lib/errors';

/** The fleet's sensors and requested faults: shared by simulate, train --simulate and evaluate --simulate. */
export interface FleetFlags {
  sensors?: string;
  fleet?: string;
  fault?: string[];
}

interface Flags extends FleetFlags {
  machines: string;
  interval: string;
  from?: string;
  to?: string;
  duration?: string;
  speed: string;
  scenario: string;
  seed: string;
  faultyFraction: string;
  truth?: string;
}

/** An ISO-8601 time; one written without a zone is UTC (Date.parse would take the machine's zone). */
function parseTime(text: string, flag: string): number {
  const zoned = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text) ? `${text}Z` : text;
  const ms = Date.parse(zoned);
  if (Number.isNaN(ms)) throw new PdmError('USAGE', `${flag} ${JSON.stringify(text)} is not an ISO-8601 time (example: 2026-01-01T00:00:00Z)`);
  return ms;
}

/** `--fault MACHINE:KIND:ONSET[:FAILURE]`; the times are ISO-8601, their own colons included. */
export function parseFaultFlag(text: string): FaultRequest {
  const flag = `--fault ${JSON.stringify(text)}`;
  const usage = `${flag}: use MACHINE:KIND:ONSET[:FAILURE], such as lathe-1-spindle:overheating:2026-01-07T08:00:00Z`;
  const match = /^([^:]+):([^:]+):(.+)$/.exec(text.trim());
  if (!match) throw new PdmError('USAGE', usage);
  const [, machineId, kind, times] = match as unknown as [string, string, string, string];
  if (!(MACHINE_FAULTS as readonly string[]).includes(kind)) {
    throw new PdmError('USAGE', `${flag}: ${JSON.stringify(kind)} is not a machine fault: use ${MACHINE_FAULTS.join(', ')}`);
  }
  // The failure time starts where a date follows a colon; an offset such as +01:00 never does.
  const [onset, failure, ...rest] = times.split(/:(?=\d{4}-\d\d-\d\d)/);
  if (rest.length > 0) throw new PdmError('USAGE', usage);
  const request: FaultRequest = { machineId, kind: kind as MachineFaultKind, onsetMs: parseTime(onset!, `--fault ${machineId}:${kind} onset`) };
  if (failure !== undefined) request.failureMs = parseTime(failure, `--fault ${machineId}:${kind} failure`);
  return request;
}

export type FleetSettings = Required<Pick<SimulateOptions, 'sensors' | 'fleet' | 'faults'>>;

/**
 * The fleet flags as options, checked at the start against the fleet and the run's end: an
 * unknown machine or an onset after the run fails here rather than after the simulation.
 */
export function fleetOptions(flags: FleetFlags, machines: number, toMs: number): FleetSettings {
  const sensors = flags.sensors === undefined ? [...FEATURES] : parseSensors(flags.sensors);
  const fleet = parseFleet(flags.fleet ?? 'uniform');
  machineSensors(0, { sensors, fleet }); // refuses --sensors with --fleet heterogeneous
  const faults = (flags.fault ?? []).map(parseFaultFlag);
  requestedFaults(fleetIds(machines), faults, toMs);
  return { sensors, fleet, faults };
}

const describeSubset = (sensors: readonly string[]) => (sensors.length === FEATURES.length ? 'all' : sensors.join('+'));

/** The options of FleetFlags, declared once for the three commands that simulate. */
export const FLEET_OPTIONS = {
  sensors: () => new Option('--sensors <features>', `features every machine reports, separated by commas; the others are null (default all: ${FEATURES.join(',')})`),
  fleet: () =>
    new Option(
      '--fleet <kind>',
      `uniform: every machine has --sensors; heterogeneous: by machine index modulo 8: ${HETEROGENEOUS_SENSORS.map(describeSubset).join(', ')}`,
    ).default('uniform'),
  fault: () =>
    new Option(
      '--fault <machine:kind:onset[:failure]>',
      `inject a machine fault (${MACHINE_FAULTS.join(', ')}), failing at FAILURE or after the kind's usual time; repeatable`,
    ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
};

/** A whole number written as one ("3", not "3x" or "2.5", which parseInt would take as 3 and 2). */
const parseWhole = (text: string): number => (/^\s*-?\d+\s*$/.test(text) ? Number(text) : Number.NaN);

/** Turns the flags into a run: max speed defaults to the day before now, realtime to from now on. */
export function simulateOptions(flags: Flags, nowMs: number): SimulateOptions & FleetSettings {
  const intervalMs = parseDuration(flags.interval);
  const machines = parseWhole(flags.machines);
  if (!Number.isInteger(machines) || machines < 1) throw new PdmError('USAGE', `--machines must be a positive whole number, not ${flags.machines}`);
  if (flags.speed !== 'max' && flags.speed !== 'realtime') throw new PdmError('USAGE', `--speed is max or realtime, not ${flags.speed}`);
  if (flags.to && flags.duration && flags.from) throw new PdmError('USAGE', 'give two of --from, --to and --duration, not all three');
  const seed = parseWhole(flags.seed);
  if (!Number.isSafeInteger(seed)) throw new PdmError('USAGE', `--seed must be a whole number, not ${flags.seed}`);
  scenarioKinds(flags.scenario);
  const align = (ms: number) => Math.floor(ms / intervalMs) * intervalMs;
  const duration = flags.duration ? parseDuration(flags.duration) : undefined;
  let fromMs: number;
  let toMs: number;
  if (flags.from) {
    fromMs = parseTime(flags.from, '--from');
    toMs = flags.to ? parseTime(flags.to, '--to') : duration !== undefined ? fromMs + duration : flags.speed === 'realtime' ? Infinity : nowMs;
  } else if (flags.to) {
    toMs = parseTime(flags.to, '--to');
    fromMs = toMs - (duration ?? 86_400_000);
  } else if (flags.speed === 'realtime') {
    fromMs = nowMs;
    toMs = duration !== undefined ? nowMs + duration : Infinity;
  } else {
    toMs = nowMs;
    fromMs = nowMs - (duration ?? 86_400_000);
  }
  fromMs = align(fromMs);
  if (!(toMs > fromMs)) throw new PdmError('USAGE', 'the simulated time range is empty: --to must come after --from');
  const faultyFraction = Number(flags.faultyFraction);
  if (!(faultyFraction >= 0 && faultyFraction <= 1)) throw new PdmError('USAGE', `--faulty-fraction is between 0 and 1, not ${flags.faultyFraction}`);
  const fleet = fleetOptions(flags, machines, toMs);
  return { machines, intervalMs, fromMs, toMs, speed: flags.speed, scenario: flags.scenario, seed, faultyFraction, truthFile: flags.truth, ...fleet };
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('simulated machines with realistic faults, into pdm.sensor-readings.v1')
    .option('--machines <n>', 'number of machines (the first three are the original system\'s)', '3')
    .option('--interval <duration>', 'event time between two readings of a machine', '2s')
    .option('--from <iso>', 'first event time (default: --duration before now at max speed, now at realtime)')
    .option('--to <iso>', 'end of event time, exclusive (default: now at max speed, never at realtime)')
    .option('--duration <duration>', 'event time to simulate, such as 30d (default 1d at max speed)')
    .option('--speed <speed>', 'max: as fast as the broker takes it; realtime: wall-clock pace', 'max')
    .option('--scenario <scenario>', `normal, mixed (every kind but cavitation), or fault kinds separated by commas: ${FAULT_KINDS.join(', ')} (cavitation: pumps only)`, 'mixed')
    .option('--faulty-fraction <share>', 'share of machines that develop a machine fault', '0.3')
    .option('--seed <n>', 'random seed: the same seed gives the same readings', '1')
    .addOption(FLEET_OPTIONS.sensors())
    .addOption(FLEET_OPTIONS.fleet())
    .addOption(FLEET_OPTIONS.fault())
    .option('--truth <file>', 'write the injected faults (machine, kind, onset, failure time, the machine\'s sensors) as JSON lines')
    .option('--metrics-port <port>', 'serve /health, /ready and /metrics on this port while running (npm start uses 19406)')
    .action(async (flags: Flags & { metricsPort?: string }) => {
      const options = simulateOptions(flags, Date.now());
      const logger = commandLogger('simulate');
      const metrics = createRegistry('simulate', flags.metricsPort !== undefined);
      const env = connectionEnv();
      const output = await openReadingsOutput({ stage: 'simulate', env, logger, metrics });
      const server = flags.metricsPort
        ? await listen(healthApp('simulate', metrics, async () => undefined, Date.now(), Date.now), Number(flags.metricsPort), parseEnv(serviceSettings, env).PDM_METRICS_HOST)
        : undefined;
      const abort = new AbortController();
      const release = onShutdown(() => abort.abort());
      const finite = Number.isFinite(options.toMs);
      const span = `from ${new Date(options.fromMs).toISOString()} ${finite ? `to ${new Date(options.toMs).toISOString()}` : 'on, until stopped'}`;
      const requested = options.faults.length > 0 ? ` plus ${options.faults.length} requested fault(s)` : '';
      const sensors = options.fleet === 'heterogeneous' ? 'heterogeneous fleet' : `sensors ${describeSubset(options.sensors)}`;
      console.error(
        `Simulating ${options.machines} machine(s) every ${flags.interval} ${span} at ${options.speed} speed (scenario ${options.scenario}${requested}, ${sensors}, seed ${options.seed})`,
      );
      const progress = options.speed === 'max' && finite ? progressBar(Math.ceil((options.toMs - options.fromMs) / options.intervalMs), 'simulate') : undefined;
      try {
        const summary = await runSimulation(options, { output: output.readings, logger, progress, signal: abort.signal });
        console.error(
          `${summary.stoppedEarly ? 'Stopped' : 'Done'}: ${summary.readings.toLocaleString('en')} readings produced${summary.refused ? `, ${summary.refused.toLocaleString('en')} refused into the dead-letter topic` : ''} in ${summary.seconds.toFixed(1)} s (${Math.round(summary.readings / Math.max(summary.seconds, 0.001)).toLocaleString('en')}/s)${options.truthFile ? `; injected faults in ${options.truthFile}` : ''}`,
        );
      } finally {
        await output.close();
        if (server) await closeServer(server);
        release();
      }
    });
}
