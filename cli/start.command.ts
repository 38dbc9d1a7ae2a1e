import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { topicEndOffset } from '../lib/kafka/admin';
import { kafkaConnectionFromEnv } from '../lib/kafka/client';
import { repoRoot } from '../lib/paths';
import { TOPICS } from '../lib/topics';
import { pipelineServices } from '../lib/services';
import { terminalReporter } from '../stack/reporter';
import { writePipelineTargets } from '../stack/servers/prometheus';
import { loadStackSettings, type StackSettings } from '../stack/settings';
import { stackEnv, stackUp } from '../stack/stack';
import { scheduledJobs, serviceDefinitions } from './run.command';
import { printUpFailures } from './stack.command';
import { runTopics } from './topics.command';
import { migrate } from '../sinks/postgres/migrations';
import { postgresSinkSettings } from '../sinks/postgres/postgres.settings';
import { processorSettings } from '../processors/runtime';
import { windowSettings } from '../processors/window/window.settings';
import { DEFAULT_BASELINE_POLICY, warmupWindowsFor } from '../processors/inference/baseline';
import { baselineSettings } from '../processors/inference/inference.settings';
import { FAULT_SIGNS, type FaultRequest } from '../producers/simulate/fleet';
import { continuingFault, firstStartHistory, simulateFlags } from './start.history';

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

/** The detector's warm-up in event time, as the services will run with `env`. */
function warmupMs(env: NodeJS.ProcessEnv): number {
  const sizeMs = windowSettings(env).window.sizeMs;
  return warmupWindowsFor(baselineSettings(env) ?? DEFAULT_BASELINE_POLICY, sizeMs) * sizeMs;
}

/** Where a first start leaves its fault, so that a later start goes on with it (one file per topic prefix). */
const faultFile = (stateDir: string, prefix: string) => path.join(stateDir, prefix ? `start.${prefix.replace(/[^\w-]/g, '_')}.json` : 'start.json');

function savedFault(file: string): FaultRequest | null {
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { fault: FaultRequest | null }).fault;
  } catch {
    return null; // none yet, or from before starts kept one: a healthy fleet
  }
}

const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 16)}Z`;

/**
 * The simulation of this start (start.history.ts), said in the terminal: a first start writes its
 * fault to `file` for the later ones. `expect` tells a newcomer what the first minutes bring.
 */
function thisStartSimulation(env: NodeJS.ProcessEnv, file: string, firstStart: boolean, nowMs: number): { flags: string[]; expect: string | null } {
  if (!firstStart) {
    const fault = continuingFault(savedFault(file), nowMs);
    if (fault) console.error(`   ${fault.machineId} goes on with its ${fault.kind} (since ${iso(fault.onsetMs)}); it fails at ${iso(fault.failureMs!)}`);
    return { flags: simulateFlags(undefined, fault), expect: null };
  }
  const { fromMs, fault, skipped } = firstStartHistory(nowMs, warmupMs(env));
  fs.writeFileSync(file, `${JSON.stringify({ startedAt: new Date(nowMs).toISOString(), fault })}\n`);
  const days = ((nowMs - fromMs) / 86_400_000).toFixed(1);
  console.error(`   first start: the simulated machines begin with ${days} days of history (from ${iso(fromMs)}) at full speed, then run live`);
  if (skipped) console.error(`   no machine develops a fault in that history: ${skipped}`);
  const expect = fault
    ? `What to expect: ${fault.machineId} develops ${fault.kind} in its history: within a few minutes it shows at risk in the console, ` +
      `its alert naming ${FAULT_SIGNS[fault.kind][0]}, and a mail arrives in the inbox.`
    : null;
  return { flags: simulateFlags(fromMs, fault), expect };
}

/** What `npm start` prints when the pipeline runs: where each part answers, and what to expect. */
function whereToLook(settings: StackSettings, env: NodeJS.ProcessEnv, services: readonly string[], simulatePort: number, expect: string | null): string {
  const apiPort = pipelineServices.find((s) => s.name === 'api')!.metricsPort;
  const apiUrl = `http://${env.PDM_METRICS_HOST ?? '127.0.0.1'}:${apiPort}`;
  // The API serves the console at / beside the read API.
  const apiLines = services.includes('api')
    ? `  Console              ${apiUrl}/\n  Read API             ${apiUrl}/machines${env.PDM_API_KEY ? ' (with the key in PDM_API_KEY)' : ''}\n`
    : '';
  const metricsLines = pipelineServices
    .filter((s) => services.includes(s.name))
    .map((s) => `  ${s.name.padEnd(20)} http://${env.PDM_METRICS_HOST ?? '127.0.0.1'}:${s.metricsPort}/metrics`)
    .join('\n');
  return `
Where to look:
  Kafka                ${env.KAFKA_BROKERS}
  Schema registry      ${env.SCHEMA_REGISTRY_URL}/subjects
  Postgres (primary)   ${settings.PDM_STACK_HOST}:${settings.PDM_POSTGRES_PORT}, database pdm
  Postgres (follower)  ${settings.PDM_STACK_HOST}:${settings.PDM_POSTGRES_FOLLOWER_PORT}, read-only
  Mail inbox           ${env.PDM_INBOX_URL}
  Prometheus           ${env.PROMETHEUS_URL}/targets
  Simulated machines   http://${settings.PDM_STACK_HOST}:${simulatePort}/metrics
${apiLines}${metricsLines}

${expect ? `${expect}\n\n` : ''}Connection settings for another shell:  eval "$(npx pdmctl stack env)"
Ctrl-C stops the pipeline (the stack keeps running; npx pdmctl stack down stops it).
`;
}

/** Waits for the children: Ctrl-C stops them all, a child that ends on its own stops the rest (exit code 1). */
async function superviseChildren(children: readonly Child[]): Promise<void> {
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
}

/** `npm start`: the stack, the topics, every pipeline service built so far, and simulated machines. */
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
      const env = { ...stackEnv(settings), ...process.env };
      // PDM_TOPIC_PREFIX and PDM_POSTGRES_SCHEMA, as every service reads them: a second pipeline beside the first.
      const { prefix } = processorSettings(env);
      if (!(await runTopics({ prefix }))) console.error('   (continuing: the drifted topics still work, but check them)');
      // Before any service: sink-email keeps its log in a table sink-postgres' migrations create.
      const pg = postgresSinkSettings(env);
      const applied = await migrate({ url: pg.ownerUrl, schema: pg.schema, writerPassword: pg.writerPassword, analystPassword: pg.analystPassword });
      console.error(`   database: ${applied.length === 0 ? `schema ${pg.schema} up to date` : `applied ${applied.map((m) => m.file).join(', ')}`}`);

      console.error('③ Pipeline');
      const children: Child[] = [];
      // The MQTT bridge needs a broker of the user's; it runs when MQTT_URL names one.
      // Scheduled jobs (retraining) run only when switched on (PDM_RETRAIN_EVERY).
      const off = new Set<string>(scheduledJobs.filter((j) => !j.enabled(env)).map((j) => j.name));
      const services = pipelineServices.filter((s) => serviceDefinitions[s.name] && !off.has(s.name) && (s.name !== 'mqtt-bridge' || env.MQTT_URL)).map((s) => s.name);
      for (const name of services) children.push(startChild(name, ['run', name], env));
      const simulatePort = pipelineServices.find((s) => s.name === 'simulate')!.metricsPort;
      // On the first start, the machines begin with a history (start.history.ts) at full speed,
      // then go live: windows, forecasts (the forecaster needs most of a week), alerts and the API
      // have data at once instead of after the first hour, and one machine is already at risk.
      // Later starts go on live only (the same history again would be late readings), with the
      // first start's fault until its machine is repaired.
      const firstStart = (await topicEndOffset(kafkaConnectionFromEnv('pdmctl-start', env), `${prefix}${TOPICS.readings}`)) === 0;
      const simulation = thisStartSimulation(env, faultFile(settings.PDM_STATE_DIR, prefix), firstStart, Date.now());
      const simulateArgs = ['simulate', '--speed', 'realtime', '--machines', flags.machines, ...simulation.flags, '--metrics-port', String(simulatePort)];
      children.push(startChild('simulate', simulateArgs, env));
      writePipelineTargets(settings, children.map((c) => c.name));
      const notBuilt = pipelineServices.filter((s) => !serviceDefinitions[s.name] && s.name !== 'simulate').map((s) => s.name);
      console.error(`   running: ${children.map((c) => c.name).join(', ')}${notBuilt.length ? `; not built yet: ${notBuilt.join(', ')}` : ''}`);
      if (off.has('retrain')) console.error('   retrain: not started; set PDM_RETRAIN_EVERY (e.g. 24h) to retrain the fleet models on a schedule');
      if (serviceDefinitions['mqtt-bridge'] && !env.MQTT_URL) console.error('   mqtt-bridge: not started; set MQTT_URL (and MQTT_TOPIC) to bridge your MQTT broker');

      console.error(whereToLook(settings, env, services, simulatePort, simulation.expect));
      await superviseChildren(children);
    });
}
