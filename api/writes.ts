import { randomUUID } from 'node:crypto';
import { ackRequest, silenceRequest, unsilenceRequest } from '../lib/alert-control';
import { PdmError, errorMessage } from '../lib/errors';
import type { Logger } from '../lib/logger';
import type { ControlPublisher } from '../producers/control.publisher';
import type { AlertControl } from '../schemas';
import type { ApiWrites } from './routes';
import type { Accepted } from './schemas';
import { ApiError } from './validation';

/**
 * The API's writes: each an AlertControl record (lib/alert-control.ts builds and checks it) on
 * pdm.alert-control.v1. The API stays a reader of the follower: what it writes shows in its
 * answers once sink-postgres has recorded it, about a second later (the console waits for the
 * change event). The producer opens at the first write, so the reads work while Kafka is away;
 * a write then is answered 503 with what did not answer.
 */

export interface ControlWritesOptions {
  /** Opens the publisher (producers/control.publisher.ts openAlertControlPublisher). */
  open(): Promise<ControlPublisher<AlertControl>>;
  logger: Logger;
  clock?: () => number;
  newId?: () => string;
}

export interface ControlWrites extends ApiWrites {
  close(): Promise<void>;
}

const WHEN = 'it shows here once recorded, in about a second';

export function controlWrites(options: ControlWritesOptions): ControlWrites {
  const clock = options.clock ?? Date.now;
  const newId = options.newId ?? randomUUID;
  let publisher: Promise<ControlPublisher<AlertControl>> | undefined;

  const publish = async (build: () => AlertControl, message: (c: AlertControl) => string): Promise<Accepted> => {
    let control: AlertControl;
    try {
      control = build();
    } catch (err) {
      // The rules' own refusals (a silence of nothing, too long, ending before it begins).
      if (err instanceof PdmError && err.code === 'CONFIG_INVALID') {
        // Worded for the command line (--for): the body's fields have the same names without dashes.
        const message = err.message.replace(/--(for|until|by)\b/g, '$1');
        throw new ApiError(400, 'bad_request', message, [{ parameter: '(body)', message }]);
      }
      throw err;
    }
    publisher ??= options.open().catch((err: unknown) => {
      publisher = undefined;
      throw err;
    });
    try {
      const open = await publisher;
      await open.publish(control);
      options.logger.info({ requestId: control.requestId, action: control.action, machine: control.machineId, kind: control.kind, by: control.requestedBy }, 'operator action written');
      return { requestId: control.requestId, action: control.action, topic: open.topic, message: message(control) };
    } catch (err) {
      throw new ApiError(503, 'kafka_unavailable', `the action was not written: ${errorMessage(err)}`, [], { cause: err });
    }
  };

  return {
    ack: (alert, body) =>
      publish(
        () => ackRequest({ requestId: newId(), requestedBy: body.by, nowMs: clock(), reason: body.reason, alert }),
        (c) => `${c.requestedBy} acknowledged ${alert.dedupKey}: no more reminders for this firing; ${WHEN}`,
      ),
    silence: (body) =>
      publish(
        () => silenceRequest({ requestId: newId(), requestedBy: body.by, nowMs: clock(), reason: body.reason, machine: body.machine, kind: body.kind, for: body.for, until: body.until }),
        (c) => `${[c.machineId ?? 'every machine', c.kind ?? 'every kind'].join(', ')} silenced until ${new Date(c.endsAt!).toISOString()}; ${WHEN}`,
      ),
    endSilence: (silence, body) =>
      publish(
        () => unsilenceRequest({ requestId: newId(), requestedBy: body.by, nowMs: clock(), reason: body.reason, silenceId: silence.silenceId, machine: silence.machine }),
        () => `silence ${silence.silenceId} ends now; ${WHEN}`,
      ),
    async close() {
      const open = await publisher?.catch(() => undefined);
      await open?.close();
    },
  };
}
