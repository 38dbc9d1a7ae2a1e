import type { Command } from 'commander';
import { produceBench } from '../bench/produce.bench';
import type { Compression } from '../lib/kafka/compression';
import { connectionEnv } from './connections';

const BENCHMARKS = ['produce'] as const;
const PENDING: Record<string, string> = { window: 'the window processor (#4)', inference: 'the inference processor (#6)' };

export function registerBenchCommand(program: Command): void {
  program
    .command('bench <name>')
    .description(`the benchmarks, each printing its figures: ${BENCHMARKS.join(', ')}`)
    .option('--records <n>', 'readings to produce', '1000000')
    .option('--machines <n>', 'simulated machines', '20')
    .option('--compression <codec>', 'zstd, gzip or none', 'zstd')
    .option('--batch-size <n>', 'records per request', '5000')
    .action(async (name: string, flags: { records: string; machines: string; compression: string; batchSize: string }) => {
      if (name in PENDING) {
        console.error(`pdmctl bench ${name} is not built yet: it arrives with ${PENDING[name]}.`);
        process.exitCode = 2;
        return;
      }
      if (name !== 'produce') {
        console.error(`pdmctl bench: unknown benchmark ${JSON.stringify(name)}; one of ${BENCHMARKS.join(', ')}`);
        process.exitCode = 2;
        return;
      }
      if (!['zstd', 'gzip', 'none'].includes(flags.compression)) throw new Error(`--compression is zstd, gzip or none, not ${flags.compression}`);
      await produceBench(
        { records: Number(flags.records), machines: Number(flags.machines), compression: flags.compression as Compression, batchSize: Number(flags.batchSize) },
        connectionEnv(),
        (line) => console.log(line),
      );
    });
}
