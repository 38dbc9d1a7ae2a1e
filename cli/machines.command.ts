import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Command } from 'commander';
import { defaultRequester, describeEnvelope, machineIdOf, requestEnvelope, type RequestInput } from '../lib/control-request';
import { PdmError } from '../lib/errors';
import { commandLogger } from '../lib/logger';
import type { MachineControl } from '../schemas';
import { MACHINE_CONTROL, publishOnce } from '../producers/control.publisher';
import { producerRules } from '../producers/runtime';
import { connectionEnv } from './connections';

export { defaultRequester };

export interface RelearnInput extends RequestInput {
  machineId: string;
}

/** The control record of a relearn request. An empty reason is no reason. */
export function relearnRequest(input: RelearnInput): MachineControl {
  const machineId = machineIdOf(input.machineId);
  const { requestId, requestedBy, requestedAt, reason } = requestEnvelope(input);
  return { requestId, machineId, action: 'RELEARN', requestedBy, requestedAt, reason };
}

/** The line the command prints: what was asked, and when it takes effect. */
export function describeRelearn(control: MachineControl, topic: string): string {
  const when = "the inference processor applies it to the machine's next window";
  return `relearn of machine ${control.machineId} requested ${describeEnvelope(control)} on ${topic}: ${when}`;
}

export interface RelearnOptions {
  reason?: string;
  by?: string;
}

/** Sends one relearn request to the machine control topic and returns it, once the broker has it. */
export async function requestRelearn(
  machineId: string,
  options: RelearnOptions,
  env: NodeJS.ProcessEnv,
  clock: () => number = Date.now,
): Promise<{ control: MachineControl; topic: string }> {
  const { rules } = producerRules(env);
  const requestedBy = options.by ?? defaultRequester(env, os.hostname());
  const control = relearnRequest({ machineId, requestedBy, reason: options.reason, requestId: randomUUID(), nowMs: clock() });
  if (rules.allowList && !rules.allowList(control.machineId)) {
    throw new PdmError('CONFIG_INVALID', `machine ${control.machineId} is not in PDM_MACHINE_ALLOWLIST, so it has no readings and no baseline`);
  }
  const { topic } = await publishOnce(MACHINE_CONTROL, control, { env, logger: commandLogger('machines'), clientId: 'pdmctl-machines' });
  return { control, topic };
}

export function registerMachinesCommand(program: Command): void {
  const machines = program.command('machines').description('requests about one machine, sent on pdm.machine-control.v1 (PDM_TOPIC_PREFIX applies)');
  machines
    .command('relearn <machineId>')
    .description("reset a machine's learned baseline (after a repair or a change); its alerts stay quiet while it relearns")
    .option('--reason <text>', 'why, for the audit trail')
    .option('--by <name>', 'who asks (default: $USER@hostname)')
    .action(async (machineId: string, options: RelearnOptions) => {
      const { control, topic } = await requestRelearn(machineId, options, connectionEnv());
      console.log(describeRelearn(control, topic));
    });
}
