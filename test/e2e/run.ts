import { Command } from 'commander';
import { silenceKnownWarnings } from '../../lib/node-warnings';
import { runChaosSuite } from './chaos';
import { mismatches, renderSummary } from './summary';

/**
 * `npm run test:e2e`: the end-to-end and chaos suite at full size (issue #9): 20 machines, 60 days
 * of 2-second readings, every service killed three times. Prints the summary table; exits 1 on any
 * mismatch. `PDM_CHAOS_SEED` (or `--seed`) replays a run.
 */

silenceKnownWarnings();

const program = new Command()
  .name('test:e2e')
  .description('the whole pipeline under faults, on a private stack, checked end to end')
  .option('--seed <n>', 'seed of the faults and the readings (default: PDM_CHAOS_SEED, else random)')
  .option('--simulate-seed <n>', 'seed of pdmctl simulate alone (default: the seed)')
  .option('--machines <n>', 'simulated machines', '20')
  .option('--duration <duration>', 'simulated event time', '60d')
  .option('--interval <duration>', 'event time between two readings of a machine', '2s')
  .option('--from <iso>', 'first event time', '2026-03-02T00:00:00Z')
  .option('--partitions <n>', 'partitions of every topic', '6')
  .option('--instances <n>', 'processes of each service in its group; above 1, each service also gets one SIGTERM on another instance than its kill -9', '1')
  .option('--kills <n>', 'kill -9 of each service', '3')
  .option('--outage <seconds>', 'how long Postgres and the SMTP server are each stopped', '30')
  .option('--bad <n>', 'bad records of each kind mixed into the readings', '5')
  .option('--pace <readings/s>', 'throttle simulate to about this many readings a second (a broker quota)')
  .option('--port-offset <n>', "the private stack listens on the shared stack's ports plus this (Kafka 19592, registry 18581, ...)", '500')
  .option('--state-dir <dir>', 'state folder of the private stack (default: a new temporary one)')
  .option('--keep-stack', 'leave the private stack running afterwards')
  .parse();

const flags = program.opts<Record<string, string | boolean | undefined>>();
const whole = (name: string, value: unknown): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} must be a whole number, not ${String(value)}`);
    process.exit(2);
  }
  return n;
};

async function main(): Promise<number> {
  const seedText = (flags.seed as string | undefined) ?? process.env.PDM_CHAOS_SEED;
  const seed = seedText === undefined ? Math.floor(Math.random() * 1_000_000) : whole('seed', seedText);
  console.error(`chaos suite: seed ${seed} (PDM_CHAOS_SEED=${seed} npm run test:e2e replays it)`);
  const summary = await runChaosSuite({
    seed,
    simulateSeed: flags.simulateSeed === undefined ? undefined : whole('simulate-seed', flags.simulateSeed),
    machines: whole('machines', flags.machines),
    duration: String(flags.duration),
    interval: String(flags.interval),
    from: String(flags.from),
    partitions: whole('partitions', flags.partitions),
    instances: Math.max(1, whole('instances', flags.instances)),
    killsPerService: whole('kills', flags.kills),
    outageSeconds: whole('outage', flags.outage),
    badPerKind: whole('bad', flags.bad),
    paceReadingsPerSecond: flags.pace === undefined ? undefined : whole('pace', flags.pace),
    portOffset: whole('port-offset', flags.portOffset),
    stateDir: flags.stateDir as string | undefined,
    keepStack: flags.keepStack === true,
  });
  console.log(renderSummary(summary));
  return mismatches(summary) === 0 ? 0 : 1;
}

// Exit at once: a client library's handle left open must not keep a finished run hanging.
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
