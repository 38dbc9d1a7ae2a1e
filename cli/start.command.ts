import type { Command } from 'commander';
import { pipelineServices } from '../lib/services';
import { terminalReporter } from '../stack/reporter';
import { loadStackSettings } from '../stack/settings';
import { stackEnv, stackUp } from '../stack/stack';
import { printUpFailures } from './stack.command';
import { runTopics } from './topics.command';

/** `npm start`: the stack, the topics, and every pipeline service built so far. */
export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('the main job: bring up the local stack, create topics, start the pipeline and the simulated machines')
    .action(async () => {
      const settings = loadStackSettings();
      console.error('① Local stack');
      if (!printUpFailures(await stackUp({ settings, reporter: terminalReporter() }))) {
        process.exitCode = 1;
        return;
      }
      console.error('② Topics and schemas');
      if (!(await runTopics())) console.error('   (continuing: the drifted topics still work, but check them)');
      const env = stackEnv(settings);
      const built = pipelineServices.filter((s) => s.built);
      console.error('③ Pipeline services');
      if (built.length === 0) {
        console.error('   None is built yet: producers, window and inference processors, sinks and the API land with their issues.');
      }
      console.error(`
Where to look:
  Kafka                ${env.KAFKA_BROKERS}
  Schema registry      ${env.SCHEMA_REGISTRY_URL}/subjects
  Postgres (primary)   ${settings.PDM_STACK_HOST}:${settings.PDM_POSTGRES_PORT}, database pdm
  Postgres (follower)  ${settings.PDM_STACK_HOST}:${settings.PDM_POSTGRES_FOLLOWER_PORT}, read-only
  Mail inbox           ${env.PDM_INBOX_URL}
  Prometheus           ${env.PROMETHEUS_URL}/targets

Connection settings for your shell:  eval "$(npx pdmctl stack env)"
Stop the stack:                      npx pdmctl stack down`);
    });
}
