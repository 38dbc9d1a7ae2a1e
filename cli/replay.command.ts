import { Option, type Command } from 'commander';
import { commandLogger } from '../lib/logger';
import { createRegistry, type Registry } from '../lib/metrics';
import { progressBar } from '../lib/progress';
import { onShutdown } from '../lib/shutdown';
import { TOPICS } from '../lib/topics';
import { PRESETS, ReplayError, describePlan, parseExtrasFlag, parseSeparatorFlag, parseSpeed, planColumns, type ReplaySpeed } from '../producers/replay/csv';
import { readCsvHead, runReplay } from '../producers/replay/replay.job';
import { openReadingsOutput, producerRules } from '../producers/runtime';
import { validateReading, type ValidationRules } from '../producers/validation';
import { connectionEnv } from './connections';

interface Flags {
  csv: string;
  machine?: string;
  machineColumn?: string;
  map?: string;
  extras: string;
  preset?: string;
  timeColumn?: string;
  timezone: string;
  separator?: string;
  speed: string;
}

/**
 * A bad --machine would send every row to the dead-letter topic; it is refused before the first,
 * by the same rules (id syntax, allow-list) the producer applies to each reading.
 */
function checkMachineId(machineId: string, rules: ValidationRules): void {
  const probe = { machineId, timestamp: rules.minTimestampMs, current: null, accX: null, accY: null, accZ: null, tempA: null, tempB: null };
  const verdict = validateReading(probe, rules, rules.minTimestampMs);
  if (!verdict.ok && (verdict.code === 'bad_machine_id' || verdict.code === 'machine_not_allowed')) throw new ReplayError('REPLAY_BAD_FLAG', `--machine: ${verdict.reason}`);
}

function utcOffsetText(offsetMinutes: number): string {
  if (offsetMinutes === 0) return 'UTC';
  const minutes = Math.abs(offsetMinutes);
  return `UTC${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

const speedText = (speed: ReplaySpeed): string => (speed.kind === 'max' ? 'max speed' : speed.factor === 1 ? 'real time' : `${speed.factor}× real time`);

/** Dead letters by reason code, from the producer's own counter: `2 bad_csv_row, 1 not_a_number`. */
async function refusalsByReason(metrics: Registry): Promise<string> {
  const counter = metrics.getSingleMetric('pdm_dead_letter_records_total');
  const values = counter ? (await counter.get()).values : [];
  return values
    .filter((v) => v.value > 0)
    .sort((a, b) => b.value - a.value)
    .map((v) => `${v.value.toLocaleString('en')} ${String(v.labels.reason)}`)
    .join(', ');
}

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('replay a CSV file as sensor readings into pdm.sensor-readings.v1, with the file\'s own event times')
    .requiredOption('--csv <file>', 'the CSV file; its first line names the columns')
    .addOption(new Option('--machine <id>', 'machine id of every row').conflicts('machineColumn'))
    .option('--machine-column <name>', 'the column that holds each row\'s machine id (instead of --machine)')
    .option(
      '--map <column=feature,...>',
      'columns onto the features current, accX, accY, accZ, tempA, tempB, or onto extra channels: any other name (a letter, then letters, digits or _, at most 32) is an extra channel; unmapped features are null (default: columns named exactly like the features)',
    )
    .option(
      '--extras <none|all>',
      'all: every other column holding numbers in the first 100 rows is also an extra channel, named after the column: accents dropped, each run of other characters (spaces, dashes, brackets) an _, none at the ends, c_ before a leading digit, cut to 32 characters; the time, machine and mapped columns and a preset\'s label columns are left out',
      'none',
    )
    .addOption(new Option('--preset <name>', `a known file layout, giving the map and time column (--map adds to it): ${Object.entries(PRESETS).map(([name, p]) => `${name}, ${p.description}`).join('; ')}`))
    .option('--time-column <name>', 'the column of event times: ISO-8601, YYYY-MM-DD HH:MM:SS(.fff), or epoch seconds/milliseconds (default: the preset\'s, or a column named timestamp, time or datetime)')
    .option('--timezone <offset>', 'UTC offset of times written without a zone, such as +03:00', 'Z')
    .option('--separator <char>', 'field separator (default: detected from the header among ; , tab |)')
    .option('--speed <speed>', 'max: as fast as the broker takes it; realtime: the file\'s gaps on the wall clock; a factor such as 10: ten times faster than real time', 'max')
    .action(async (flags: Flags) => {
      const speed = parseSpeed(flags.speed);
      const head = await readCsvHead(flags.csv, flags.separator === undefined ? undefined : parseSeparatorFlag(flags.separator));
      const columns = { map: flags.map, extras: parseExtrasFlag(flags.extras), preset: flags.preset, timeColumn: flags.timeColumn, machineId: flags.machine, machineColumn: flags.machineColumn, timezone: flags.timezone };
      const plan = planColumns(head.header, columns, head.sample);
      const env = connectionEnv();
      const { rules, prefix } = producerRules(env);
      if (flags.machine !== undefined) checkMachineId(flags.machine, rules);

      const logger = commandLogger('replay');
      const metrics = createRegistry('replay', false);
      const output = await openReadingsOutput({ stage: 'replay', env, logger, metrics });
      const abort = new AbortController();
      const release = onShutdown(() => abort.abort());
      const who = 'id' in plan.machine ? `machine ${plan.machine.id}` : `the machine in column ${plan.machine.column}`;
      const zone = utcOffsetText(plan.time.offsetMinutes);
      console.error(`Replaying ${flags.csv} as ${who} at ${speedText(speed)}`);
      console.error(`  separator ${JSON.stringify(head.separator)}, time from ${plan.time.column} (${zone} unless written with a zone), ${describePlan(plan)}`);
      // Bytes read track rows only when reading runs flat out; a paced replay reads ahead of its rows.
      const progress = speed.kind === 'max' ? progressBar(Math.max(head.sizeBytes, 1), 'replay') : undefined;
      if (speed.kind === 'paced') console.error('  Ctrl-C stops cleanly: what was read is flushed');
      try {
        const summary = await runReplay({ file: flags.csv, separator: head.separator, plan, speed }, { readings: output.readings, logger, progress, signal: abort.signal });
        const rate = Math.round(summary.rows / Math.max(summary.seconds, 0.001)).toLocaleString('en');
        const refused = summary.refused > 0 ? `, ${summary.refused.toLocaleString('en')} refused into ${prefix}${TOPICS.deadLetter} (${await refusalsByReason(metrics)})` : '';
        const span = summary.firstEventMs === null ? '' : `; event time ${new Date(summary.firstEventMs).toISOString()} to ${new Date(summary.lastEventMs!).toISOString()}`;
        console.error(
          `${summary.stoppedEarly ? 'Stopped' : 'Done'}: ${summary.rows.toLocaleString('en')} rows, ${summary.produced.toLocaleString('en')} readings produced into ${prefix}${TOPICS.readings}${refused} in ${summary.seconds.toFixed(1)} s (${rate} rows/s)${span}`,
        );
        if (summary.rows > 0 && summary.produced === 0) {
          console.error('pdmctl: no row became a reading; the reasons are above and in the dead-letter headers (pdm.errors.code, pdm.errors.message)');
          process.exitCode = 1;
        }
      } finally {
        await output.close();
        release();
      }
    });
}
