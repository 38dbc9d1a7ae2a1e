import type { Command } from 'commander';
import { apiBench } from '../bench/api.bench';
import { inferenceBench } from '../bench/inference.bench';
import { inferenceCoreBench } from '../bench/inference-core.bench';
import { postgresBench } from '../bench/postgres.bench';
import { produceBench } from '../bench/produce.bench';
import { SCALE_SERVICES, scaleBench, type ScaleBenchOptions, type ScaleService } from '../bench/scale.bench';
import { windowBench } from '../bench/window.bench';
import { parseDuration } from '../lib/duration';
import { MAX_EXTRAS } from '../schemas/channels';
import type { Compression } from '../lib/kafka/compression';
import { connectionEnv } from './connections';
import { PdmError } from '../lib/errors';

const BENCHMARKS = ['produce', 'window', 'inference', 'api', 'postgres', 'scale'] as const;

interface BenchFlags {
  records?: string;
  machines?: string;
  liveHours: string;
  compression: string;
  batchSize: string;
  window: string;
  grace: string;
  restoreMachines: string;
  restoreReadings: string;
  kafkaStreams: boolean;
  extras: string;
  hours?: string;
  days: string;
  forecasts: boolean;
  quick?: boolean;
  interval?: string;
  instances: string;
  sessionTimeout?: string;
  services: string;
  handOver: boolean;
  browser: boolean;
  keep?: boolean;
  cpuProf?: boolean;
  core?: boolean;
}

const count = (flag: string, value: string): number => {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 1) throw new PdmError('USAGE', `${flag} must be a whole number above 0, not ${JSON.stringify(value)}`);
  return n;
};

const extraChannels = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > MAX_EXTRAS) throw new PdmError('USAGE', `--extras must be a whole number from 0 to ${MAX_EXTRAS}, not ${JSON.stringify(value)}`);
  return n;
};

function scaleOptions(flags: BenchFlags): ScaleBenchOptions {
  const services = flags.services.split(',').map((s) => s.trim());
  const unknown = services.filter((s) => !(SCALE_SERVICES as readonly string[]).includes(s));
  if (unknown.length > 0) throw new PdmError('USAGE', `--services: ${unknown.join(', ')} is not one of ${SCALE_SERVICES.join(', ')}`);
  const instances = flags.instances.split(',').map((n) => count('--instances', n.trim()));
  const sessionTimeout = flags.sessionTimeout ?? process.env.PDM_SESSION_TIMEOUT ?? '30s';
  parseDuration(sessionTimeout);
  return {
    machines: count('--machines', flags.machines ?? (flags.quick ? '200' : '400')),
    hours: count('--hours', flags.hours ?? (flags.quick ? '72' : '96')),
    intervalSeconds: count('--interval', flags.interval ?? (flags.quick ? '120' : '60')),
    instances,
    sessionTimeout,
    services: services as ScaleService[],
    handOver: flags.handOver,
  };
}

type Benchmark = (typeof BENCHMARKS)[number];
type Print = (line: string) => void;

/** Each benchmark from the command's flags. */
const RUNNERS: Record<Benchmark, (flags: BenchFlags, print: Print) => Promise<void>> = {
  produce: async (flags, print) => {
    if (!['zstd', 'gzip', 'none'].includes(flags.compression)) throw new PdmError('USAGE', `--compression is zstd, gzip or none, not ${flags.compression}`);
    const options = { records: count('--records', flags.records ?? '1000000'), machines: count('--machines', flags.machines ?? '20'), compression: flags.compression as Compression, batchSize: count('--batch-size', flags.batchSize) };
    await produceBench(options, connectionEnv(), print);
  },
  window: (flags, print) =>
    windowBench(
      {
        records: count('--records', flags.records ?? '2000000'),
        machines: count('--machines', flags.machines ?? '20'),
        windowMs: parseDuration(flags.window),
        graceMs: parseDuration(flags.grace),
        restoreMachines: count('--restore-machines', flags.restoreMachines),
        restoreReadings: count('--restore-readings', flags.restoreReadings),
        kafkaStreams: flags.kafkaStreams,
        extras: extraChannels(flags.extras),
      },
      connectionEnv(),
      print,
    ),
  inference: (flags, print) =>
    flags.core
      ? inferenceCoreBench({ machines: count('--machines', flags.machines ?? '2000'), liveHours: count('--live-hours', flags.liveHours) }, process.env, print)
      : inferenceBench({ machines: count('--machines', flags.machines ?? '10000'), liveHours: count('--live-hours', flags.liveHours), cpuProf: flags.cpuProf === true }, connectionEnv(), print),
  api: (flags, print) =>
    apiBench({ machines: count('--machines', flags.machines ?? '10000'), hours: count('--hours', flags.hours ?? '168'), browser: flags.browser, keep: flags.keep === true }, connectionEnv(), print),
  postgres: (flags, print) =>
    postgresBench({ machines: count('--machines', flags.machines ?? '500'), days: count('--days', flags.days), forecasts: flags.forecasts, keep: flags.keep === true }, connectionEnv(), print),
  scale: (flags, print) => scaleBench(scaleOptions(flags), connectionEnv(), print),
};

export function registerBenchCommand(program: Command): void {
  program
    .command('bench <name>')
    .description(`the benchmarks, each printing its figures: ${BENCHMARKS.join(', ')}`)
    .option('--records <n>', 'readings to produce (produce: 1000000; window: 2000000)')
    .option('--machines <n>', 'simulated machines (produce, window: 20; inference, api: 10000; postgres: 500; scale: 400, --quick 200)')
    .option('--live-hours <n>', 'inference: hours of every machine\'s windows measured after the warm-up', '12')
    .option('--cpu-prof', 'inference: profile the processor (node --cpu-prof) and print where its time went')
    .option('--core', 'inference: the processor\'s own work alone, in this process, no Kafka: CPU per window by step (machines default 2000)')
    .option('--compression <codec>', 'produce: zstd, gzip or none', 'zstd')
    .option('--batch-size <n>', 'produce: records per request', '5000')
    .option('--window <duration>', 'window: window size', '1h')
    .option('--grace <duration>', 'window: grace period', '5m')
    .option('--restore-machines <n>', 'window: machines whose open windows are restored', '10000')
    .option('--restore-readings <n>', 'window: readings per machine in those windows', '60')
    .option('--no-kafka-streams', 'window: skip the Kafka Streams comparison')
    .option('--extras <n>', 'window: extra channels per reading beyond the six features, 0 to 64 (the Kafka Streams comparison runs only without)', '0')
    .option('--hours <n>', 'api: hourly windows of every machine seeded (168); scale: hours of readings (96, --quick 72)')
    .option('--interval <seconds>', 'scale: seconds between two readings of a machine (60, --quick 120)')
    .option('--quick', 'scale: a smaller input (200 machines, 72 h, a reading every 2 min): about 8 minutes, most of it the 30 s sessions of the hand-overs')
    .option('--instances <list>', 'scale: group sizes measured', '1,2,3')
    .option('--services <list>', `scale: which services, of ${SCALE_SERVICES.join(',')}`, SCALE_SERVICES.join(','))
    .option('--session-timeout <duration>', 'scale: PDM_SESSION_TIMEOUT of the processes (default: the environment\'s, else the services\' 30s)')
    .option('--no-hand-over', 'scale: only the throughput, no kills')
    .option('--no-browser', 'api: skip the console in Chromium')
    .option('--days <n>', 'postgres: days of every machine\'s hourly windows and assessments written', '3')
    .option('--no-forecasts', 'postgres: a forecast on each machine\'s latest assessment only (quicker, for many days; no million-machine volume)')
    .option('--keep', 'api, postgres: leave the seeded schemas (to EXPLAIN their queries) instead of dropping them')
    .action(async (name: string, flags: BenchFlags) => {
      const run = Object.hasOwn(RUNNERS, name) ? RUNNERS[name as Benchmark] : undefined;
      if (!run) {
        console.error(`pdmctl bench: unknown benchmark ${JSON.stringify(name)}; one of ${BENCHMARKS.join(', ')}`);
        process.exitCode = 2;
        return;
      }
      await run(flags, (line: string) => console.log(line));
    });
}
