import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';
import { topicEndOffset } from '../lib/kafka/admin';
import { kafkaConnectionFromEnv } from '../lib/kafka/client';
import { repoRoot } from '../lib/paths';
import { TOPICS } from '../lib/topics';
import { pipelineServices } from '../lib/services';
import { terminalReporter } from '../stack/reporter';
import { writePipelineTargets } from '../stack/servers/prometheus';
import { loadStackSettings } from '../stack/settings';
import { stackEnv, stackUp } from '../stack/stack';
import { scheduledJobs, serviceDefinitions } from './run.command';
import { printUpFailures } from './stack.command';
import { runTopics } from './topics.command';
import { migrate } from '../sinks/postgres/migrations';

interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<number | null>;
}

function startChild(name: string, args: string[], env: NodeJS.ProcessEnv): Child {
  // Its own process group: Ctrl-C reaches only us, and we pass on exactly one SIGTERM, so each
  // child gets one request to stop cleanly (a second signal would make it exit at once).
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'pdmctl.js'), ...args], { env, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  process.once('exit', () => child.kill('SIGTERM'));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, process: child, exited };
}

/** `npm start`: the stack, the topics, every pipeline service built so far, and simulated machines. */
const BACKFILL_MS = 8 * 86_400_000;

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('the main job: bring up the local stack, create topics, start the pipeline and the simulated machines')
    .option('--machines <n>', 'simulated machines', '3')
    .action(async (flags: { machines: string }) => {
      const settings = loadStackSettings();
      console.error('① Local stack');
      if (!printUpFailures(await stackUp({ settings, reporter: terminalReporter() }))) {
        process.exitCode = 1;
        return;
      }
      console.error('② Topics, schemas and database');
      if (!(await runTopics())) console.error('   (continuing: the drifted topics still work, but check them)');
      const env = { ...stackEnv(settings), ...process.env };
      // Before any service: sink-email keeps its log in a table sink-postgres' migrations create.
      const applied = await migrate({ url: env.DATABASE_URL!, schema: 'pdm', writerPassword: env.PDM_WRITER_PASSWORD, analystPassword: env.PDM_ANALYST_PASSWORD });
      console.error(`   database: ${applied.length === 0 ? 'schema pdm up to date' : `applied ${applied.map((m) => m.file).join(', ')}`}`);

      console.error('③ Pipeline');
      const children: Child[] = [];
      // The MQTT bridge needs a broker of the user's; it runs when MQTT_URL names one.
      // Scheduled jobs (retraining) run only when switched on (PDM_RETRAIN_EVERY).
      const off = new Set<string>(scheduledJobs.filter((j) => !j.enabled(env)).map((j) => j.name));
      const services = pipelineServices.filter((s) => serviceDefinitions[s.name] && !off.has(s.name) && (s.name !== 'mqtt-bridge' || env.MQTT_URL)).map((s) => s.name);
      for (const name of services) children.push(startChild(name, ['run', name], env));
      const simulatePort = pipelineServices.find((s) => s.name === 'simulate')!.metricsPort;
      const apiPort = pipelineServices.find((s) => s.name === 'api')!.metricsPort;
      // On the first start, the machines begin with a history: BACKFILL of event time at full
      // speed, then live. Windows, forecasts (the forecaster needs most of a week) and the API
      // have data at once instead of after the first hour. Later starts go on live only: the
      // same history again would be late readings.
      const firstStart = (await topicEndOffset(kafkaConnectionFromEnv('pdmctl-start', env), TOPICS.readings)) === 0;
      const history = firstStart ? ['--from', new Date(Date.now() - BACKFILL_MS).toISOString()] : [];
      if (firstStart) console.error(`   first start: the simulated machines begin with ${BACKFILL_MS / 86_400_000} days of history, sent at full speed, then run live`);
      children.push(startChild('simulate', ['simulate', '--speed', 'realtime', '--machines', flags.machines, '--scenario', 'mixed', ...history, '--metrics-port', String(simulatePort)], env));
      writePipelineTargets(settings, children.map((c) => c.name));
      const notBuilt = pipelineServices.filter((s) => !serviceDefinitions[s.name] && s.name !== 'simulate').map((s) => s.name);
      console.error(`   running: ${children.map((c) => c.name).join(', ')}${notBuilt.length ? `; not built yet: ${notBuilt.join(', ')}` : ''}`);
      if (off.has('retrain')) console.error('   retrain: not started; set PDM_RETRAIN_EVERY (e.g. 24h) to retrain the fleet models on a schedule');
      if (serviceDefinitions['mqtt-bridge'] && !env.MQTT_URL) console.error('   mqtt-bridge: not started; set MQTT_URL (and MQTT_TOPIC) to bridge your MQTT broker');

      console.error(`
Where to look:
  Kafka                ${env.KAFKA_BROKERS}
  Schema registry      ${env.SCHEMA_REGISTRY_URL}/subjects
  Postgres (primary)   ${settings.PDM_STACK_HOST}:${settings.PDM_POSTGRES_PORT}, database pdm
  Postgres (follower)  ${settings.PDM_STACK_HOST}:${settings.PDM_POSTGRES_FOLLOWER_PORT}, read-only
  Mail inbox           ${env.PDM_INBOX_URL}
  Prometheus           ${env.PROMETHEUS_URL}/targets
  Simulated machines   http://${settings.PDM_STACK_HOST}:${simulatePort}/metrics
${services.includes('api') ? `  Read API             http://${env.PDM_METRICS_HOST ?? '127.0.0.1'}:${apiPort}/machines${env.PDM_API_KEY ? ' (with the key in PDM_API_KEY)' : ''}\n` : ''}${pipelineServices.filter((s) => services.includes(s.name)).map((s) => `  ${s.name.padEnd(20)} http://${env.PDM_METRICS_HOST ?? '127.0.0.1'}:${s.metricsPort}/metrics`).join('\n')}

Connection settings for another shell:  eval "$(npx pdmctl stack env)"
Ctrl-C stops the pipeline (the stack keeps running; npx pdmctl stack down stops it).
`);

      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        for (const c of children) c.process.kill('SIGTERM');
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      // Whichever child ends first: on Ctrl-C all of them, otherwise one that failed.
      const first = await Promise.race(children.map((c) => c.exited.then((code) => ({ name: c.name, code }))));
      if (!stopping) {
        console.error(`\n${first.name} exited (code ${first.code}); stopping the rest of the pipeline`);
        process.exitCode = 1;
        stop();
      }
      const codes = await Promise.all(children.map((c) => c.exited));
      if (stopping && codes.some((c) => c !== 0 && c !== null)) process.exitCode = 1;
      console.error('Pipeline stopped.');
    });
}
