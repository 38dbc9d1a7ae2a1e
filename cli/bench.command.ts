import type { Command } from 'commander';
import { apiBench } from '../bench/api.bench';
import { inferenceBench } from '../bench/inference.bench';
import { produceBench } from '../bench/produce.bench';
import { SCALE_SERVICES, scaleBench, type ScaleBenchOptions, type ScaleService } from '../bench/scale.bench';
import { windowBench } from '../bench/window.bench';
import { parseDuration } from '../lib/duration';
import { MAX_EXTRAS } from '../schemas/channels';
import type { Compression } from '../lib/kafka/compression';
import { connectionEnv } from './connections';
import { PdmError } from '../lib/errors';

const BENCHMARKS = ['produce', 'window', 'inference', 'api', 'scale'] as const;

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
  quick?: boolean;
  interval?: string;
  instances: string;
  sessionTimeout?: string;
  services: string;
  handOver: boolean;
  browser: boolean;
  keep?: boolean;
  cpuProf?: boolean;
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

export function registerBenchCommand(program: Command): void {
  program
    .command('bench <name>')
    .description(`the benchmarks, each printing its figures: ${BENCHMARKS.join(', ')}`)
    .option('--records <n>', 'readings to produce (produce: 1000000; window: 2000000)')
    .option('--machines <n>', 'simulated machines (produce, window: 20; inference, api: 10000; scale: 400, --quick 200)')
    .option('--live-hours <n>', 'inference: hours of every machine\'s windows measured after the warm-up', '12')
    .option('--cpu-prof', 'inference: profile the processor (node --cpu-prof) and print where its time went')
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
    .option('--keep', 'api: leave the seeded schema (to EXPLAIN its queries) instead of dropping it')
    .action(async (name: string, flags: BenchFlags) => {
      const print = (line: string) => console.log(line);
      if (name === 'produce') {
        if (!['zstd', 'gzip', 'none'].includes(flags.compression)) throw new PdmError('USAGE', `--compression is zstd, gzip or none, not ${flags.compression}`);
        await produceBench(
          { records: count('--records', flags.records ?? '1000000'), machines: count('--machines', flags.machines ?? '20'), compression: flags.compression as Compression, batchSize: count('--batch-size', flags.batchSize) },
          connectionEnv(),
          print,
        );
        return;
      }
      if (name === 'window') {
        await windowBench(
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
        );
        return;
      }
      if (name === 'inference') {
        await inferenceBench({ machines: count('--machines', flags.machines ?? '10000'), liveHours: count('--live-hours', flags.liveHours), cpuProf: flags.cpuProf === true }, connectionEnv(), print);
        return;
      }
      if (name === 'api') {
        const machines = count('--machines', flags.machines ?? '10000');
        await apiBench({ machines, hours: count('--hours', flags.hours ?? '168'), browser: flags.browser, keep: flags.keep === true }, connectionEnv(), print);
        return;
      }
      if (name === 'scale') {
        await scaleBench(scaleOptions(flags), connectionEnv(), print);
        return;
      }
      console.error(`pdmctl bench: unknown benchmark ${JSON.stringify(name)}; one of ${BENCHMARKS.join(', ')}`);
      process.exitCode = 2;
    });
}
