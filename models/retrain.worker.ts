import { errorMessage } from '../lib/errors';
import { silenceKnownWarnings } from '../lib/node-warnings';
import type { RunResult } from './retrain.outcome';
import type { RetrainSettings } from './retrain.settings';
import { retrainFromTopic } from './training.job';

/**
 * One retraining run in a child process of `pdmctl run retrain` (retrain.service.ts forks it, one
 * at a time): training is CPU-bound for seconds to minutes, and the service's /health must keep
 * answering meanwhile. The connection settings come in its environment, the run's settings in
 * the one message it receives; it answers with steps and one result, then exits.
 */

export type WorkerRequest = Pick<RetrainSettings, 'minWindows' | 'kind'>;
export type WorkerMessage = { type: 'step'; step: string } | { type: 'result'; result: RunResult };

const send = (message: WorkerMessage): Promise<void> => new Promise((resolve) => process.send!(message, undefined, {}, () => resolve()));

if (require.main === module && process.send) {
  silenceKnownWarnings();
  process.once('message', (request: WorkerRequest) => {
    void retrainFromTopic(process.env, request, { onStep: (step) => void send({ type: 'step', step }) })
      .catch((err: unknown): RunResult => ({ status: 'failed', error: errorMessage(err) }))
      .then((result) => send({ type: 'result', result }))
      // A client library may leave a timer behind: the run is over once its result is sent.
      .finally(() => process.exit(0));
  });
}
