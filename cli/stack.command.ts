import type { Command } from 'commander';
import { ensureApicurio, ensureKafka } from '../stack/artifacts';
import { terminalReporter } from '../stack/reporter';
import { loadStackSettings } from '../stack/settings';
import { renderExports, stackDown, stackEnv, stackStatus, stackUp, type UpResult } from '../stack/stack';

export function printUpFailures(results: UpResult[]): boolean {
  const failed = results.filter((r) => r.outcome === 'failed' || r.outcome === 'skipped');
  for (const f of failed) console.error(`\n✘ ${f.name} ${f.outcome === 'skipped' ? 'was not started' : 'failed'}: ${f.error}`);
  return failed.length === 0;
}

export function registerStackCommands(program: Command): void {
  const stack = program.command('stack').description('the local stack without Docker: Kafka, schema registry, Postgres + follower, SMTP inbox, Prometheus');

  stack
    .command('up')
    .description('start every server that is not running and wait until all answer (idempotent)')
    .action(async () => {
      const settings = loadStackSettings();
      console.error(`Bringing up the local stack (state in ${settings.PDM_STATE_DIR})`);
      const results = await stackUp({ settings, reporter: terminalReporter() });
      if (!printUpFailures(results)) {
        console.error('\nThe servers that did answer keep running; fix the one above and run `npx pdmctl stack up` again.');
        process.exitCode = 1;
        return;
      }
      console.error('\nAll servers answer. Point a shell at them with:  eval "$(npx pdmctl stack env)"');
    });

  stack
    .command('down')
    .description('stop the servers the stack started (data is kept; delete the state folder to start afresh)')
    .action(async () => {
      const results = await stackDown({ reporter: terminalReporter() });
      if (results.every((r) => r.outcome === 'not running')) console.error('Nothing was running.');
    });

  stack
    .command('status')
    .description("each server's health")
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const statuses = await stackStatus();
      if (options.json) {
        console.log(JSON.stringify(statuses, null, 2));
      } else {
        for (const s of statuses) {
          const mark = s.state === 'healthy' ? '✔' : s.state === 'stopped' ? '·' : '✘';
          console.log(`${mark} ${s.name.padEnd(18)} ${s.state.padEnd(9)} ${String(s.pid ?? '').padEnd(8)} ${s.address}${s.detail ? `\n    ${s.detail} (log: ${s.log})` : ''}`);
        }
      }
      if (statuses.some((s) => s.state !== 'healthy')) process.exitCode = 1;
    });

  stack
    .command('env')
    .description('print export lines for the connection variables: eval "$(npx pdmctl stack env)"')
    .action(() => {
      console.log(renderExports(stackEnv()));
    });

  stack
    .command('fetch')
    .description('download the Kafka broker and the registry into the cache without starting anything')
    .action(async () => {
      const settings = loadStackSettings();
      const reporter = terminalReporter();
      console.error(`Kafka: ${await ensureKafka(settings, reporter)}`);
      console.error(`Apicurio Registry: ${await ensureApicurio(settings, reporter)}`);
    });
}
