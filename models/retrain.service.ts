import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { errorMessage, PdmError } from '../lib/errors';
import { formatDuration } from '../lib/duration';
import type { RunningService, ServiceDefinition } from '../lib/service';
import { describeRun, type RunResult } from './retrain.outcome';
import { recordRun, retrainMetrics } from './retrain.metrics';
import { nextRunAt, RetrainScheduler } from './retrain.schedule';
import { retrainSettings } from './retrain.settings';
import type { WorkerMessage, WorkerRequest } from './retrain.worker';
import { modelsDir } from './store';
import { modelNames } from './training.job';

/**
 * `pdmctl run retrain`: every PDM_RETRAIN_EVERY, the fleet models (forecaster and detector)
 * retrain from the compacted window topic through the code of `pdmctl train --from-topic`, and a
 * new version is promoted only if it scores at least as well as the current one; inference picks
 * it up on its next reload. A topic has no ground truth, so a new detector is written but never
 * promoted automatically (the log says so). The first run comes one interval after the start.
 *
 * Each run is a child process (retrain.worker.ts), so /health answers while it trains; runs never
 * overlap. Stopping kills a run in flight: it is not counted, and the next start begins afresh.
 */

const STAGE = 'retrain';
const WORKER = require.resolve('./retrain.worker.ts');

/** Runs the worker once; resolves with its result, or `null` when it was killed (stopping). */
function runWorker(
  env: NodeJS.ProcessEnv,
  request: WorkerRequest,
  onStep: (step: string) => void,
  onChild: (child: ChildProcess | null) => void,
): Promise<RunResult | null> {
  return new Promise((resolve) => {
    // The service runs TypeScript through tsx (bin/pdmctl.js); so does its child.
    const execArgv = ['--require', require.resolve('tsx/cjs')];
    const child = fork(WORKER, [], { env, execArgv, serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    onChild(child);
    let result: RunResult | undefined;
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'step') onStep(message.step);
      else result = message.result;
    });
    child.once('error', (err) => (result ??= { status: 'failed', error: `the training process failed: ${err.message}` }));
    child.once('exit', (code, signal) => {
      onChild(null);
      if (result) resolve(result);
      else if (signal === 'SIGTERM') resolve(null);
      else resolve({ status: 'failed', error: `the training process exited (${signal ?? `code ${code}`}) without a result` });
    });
    child.send(request);
  });
}

export const retrainService: ServiceDefinition = {
  name: STAGE,
  async start({ env, logger, metrics, clock }): Promise<RunningService> {
    const settings = retrainSettings(env);
    const log = logger.child({ component: STAGE });
    const root = modelsDir(env);
    try {
      fs.accessSync(root, fs.constants.W_OK);
    } catch (err) {
      throw new PdmError('CONFIG_INVALID', `MODELS_DIR ${root} is not a writable folder: ${errorMessage(err)}`, { cause: err });
    }
    const models = modelNames(settings.kind);
    const counters = retrainMetrics(metrics, models);
    let child: ChildProcess | null = null;
    let stopping = false;

    const runOnce = async (slotMs: number): Promise<void> => {
      const startedMs = clock();
      log.info({ slot: new Date(slotMs).toISOString(), models }, 'retrain run starting');
      const request: WorkerRequest = { minWindows: settings.minWindows, kind: settings.kind };
      const result = await runWorker(env, request, (step) => log.debug({ step }, 'retrain step'), (c) => (child = c));
      const finishedMs = clock();
      if (result === null) {
        log.warn('retrain run cancelled: the service is stopping');
        return;
      }
      recordRun(counters, result, models, finishedMs - startedMs, finishedMs);
      const line = { event: 'retrain', ...result, modelsDir: root, durationSeconds: Math.round((finishedMs - startedMs) / 100) / 10 };
      if (result.status === 'failed') log.error(line, describeRun(result));
      else log.info(line, describeRun(result));
      if (!stopping) log.info({ next: new Date(nextRunAt(slotMs, settings.everyMs, clock())).toISOString() }, 'retrain: next run scheduled');
    };

    const onError = (err: unknown) => log.error({ err: errorMessage(err) }, 'retrain run failed');
    const scheduler = new RetrainScheduler({ everyMs: settings.everyMs, clock, run: runOnce, onError });
    scheduler.start();
    const firstRun = new Date(scheduler.nextRunMs!).toISOString();
    const every = formatDuration(settings.everyMs);
    log.info({ every, minWindows: settings.minWindows, kind: settings.kind, modelsDir: root, firstRun }, 'retraining scheduled');

    return {
      async ready() {
        return stopping ? 'stopping' : undefined;
      },
      async stop() {
        stopping = true;
        (child as ChildProcess | null)?.kill('SIGTERM');
        await scheduler.stop();
        log.info('retraining stopped');
      },
    };
  },
};
