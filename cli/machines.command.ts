import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Command } from 'commander';
import { PdmError, errorMessage } from '../lib/errors';
import { requireTopics } from '../lib/kafka/admin';
import { kafkaConnectionFromEnv } from '../lib/kafka/client';
import { connectProducer } from '../lib/kafka/producer';
import { commandLogger } from '../lib/logger';
import { registryProbe } from '../lib/readiness';
import { createRegistry as createSchemaRegistry } from '../lib/registry';
import { Serde } from '../lib/serde';
import { TOPICS, keySubject, valueSubject } from '../lib/topics';
import { SCHEMA_FILES, avroType, schemaText, type MachineControl } from '../schemas';
import { producerRules } from '../producers/runtime';
import { connectionEnv } from './connections';

/** A machine id as readings carry it; anything else can't have a baseline to reset. */
const MAX_MACHINE_ID = 128;

export interface RelearnInput {
  machineId: string;
  requestedBy: string;
  reason?: string;
  requestId: string;
  nowMs: number;
}

/** The control record of a relearn request. An empty reason is no reason. */
export function relearnRequest(input: RelearnInput): MachineControl {
  const machineId = input.machineId.trim();
  if (machineId === '' || machineId.length > MAX_MACHINE_ID || /\s/.test(machineId)) {
    const shown = JSON.stringify(input.machineId.slice(0, 40));
    throw new PdmError('CONFIG_INVALID', `${shown} is not a machine id (no spaces, at most ${MAX_MACHINE_ID} characters)`);
  }
  const requestedBy = input.requestedBy.trim();
  if (requestedBy === '') throw new PdmError('CONFIG_INVALID', '--by must name who asks');
  const reason = input.reason?.trim() || null;
  return { requestId: input.requestId, machineId, action: 'RELEARN', requestedBy, requestedAt: input.nowMs, reason };
}

/** `$USER@hostname`, as an operator is known on the plant's machines. */
export function defaultRequester(env: NodeJS.ProcessEnv, hostname: string): string {
  let user = env.USER || env.LOGNAME;
  if (!user) {
    try {
      user = os.userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  return `${user}@${hostname}`;
}

/** The line the command prints: what was asked, and when it takes effect. */
export function describeRelearn(control: MachineControl, topic: string): string {
  const reason = control.reason === null ? '' : `, reason: ${JSON.stringify(control.reason)}`;
  return (
    `relearn of machine ${control.machineId} requested by ${control.requestedBy} at ${new Date(control.requestedAt).toISOString()} ` +
    `(request ${control.requestId}${reason}) on ${topic}: the inference processor applies it to the machine's next window`
  );
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
  const { prefix, rules } = producerRules(env);
  const requestedBy = options.by ?? defaultRequester(env, os.hostname());
  const control = relearnRequest({ machineId, requestedBy, reason: options.reason, requestId: randomUUID(), nowMs: clock() });
  if (rules.allowList && !rules.allowList(control.machineId)) {
    throw new PdmError('CONFIG_INVALID', `machine ${control.machineId} is not in PDM_MACHINE_ALLOWLIST, so it has no readings and no baseline`);
  }
  const topic = `${prefix}${TOPICS.machineControl}`;
  const connection = kafkaConnectionFromEnv('pdmctl-machines', env);
  const registryUrl = env.SCHEMA_REGISTRY_URL ?? '';

  // Kafka first (connectProducer names an absent broker), then the topic, then the registry: each
  // failure says which server did not answer and what to run.
  const producer = await connectProducer(connection, { logger: commandLogger('machines') });
  try {
    await requireTopics(connection, [topic]);
    await registryProbe(registryUrl)
      .check()
      .catch((cause: unknown) => {
        const message = `the schema registry at ${registryUrl} does not answer (${errorMessage(cause)}); for the local stack run \`npx pdmctl stack up\``;
        throw new PdmError('REGISTRY', message, { cause });
      });
    const serde = new Serde(createSchemaRegistry(registryUrl).client);
    const [encodeKey, encodeValue] = await Promise.all([
      serde.encoder<string>(keySubject(topic), avroType(SCHEMA_FILES.machineId), schemaText(SCHEMA_FILES.machineId)),
      serde.encoder<MachineControl>(valueSubject(topic), avroType(SCHEMA_FILES.machineControl), schemaText(SCHEMA_FILES.machineControl)),
    ]);
    await producer.send([{ topic, records: [{ key: encodeKey(control.machineId), value: encodeValue(control) }] }]);
  } finally {
    await producer.disconnect();
  }
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
