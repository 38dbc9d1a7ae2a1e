import type { Command } from 'commander';
import { parseEnv } from '../lib/config';
import { ensureTopics } from '../lib/kafka/admin';
import { kafkaConnectionFromEnv } from '../lib/kafka/client';
import { createRegistry, registerTopicSchemas, registryUrlFromEnv } from '../lib/registry';
import { topicSettings } from '../lib/shared.settings';
import { topicSpecs } from '../lib/topics';
import { connectionEnv } from './connections';

export interface TopicsOptions {
  prefix?: string;
  partitions?: number;
}

/** Creates or verifies the topics and registers their schemas; true when nothing drifted. */
export async function runTopics(options: TopicsOptions = {}): Promise<boolean> {
  const env = connectionEnv();
  // --prefix overrides PDM_TOPIC_PREFIX, which every service and producer reads the same way.
  const prefix = options.prefix ?? parseEnv(topicSettings, env).PDM_TOPIC_PREFIX;
  const specs = topicSpecs({ prefix, partitions: options.partitions });
  const reports = await ensureTopics(kafkaConnectionFromEnv('pdmctl-topics', env), specs);
  for (const r of reports) {
    const mark = r.status === 'drift' ? '✘' : '✔';
    console.error(`  ${mark} ${r.topic.padEnd(34)} ${r.status}${r.differences.map((d) => `\n      ${d}`).join('')}`);
  }
  const subjects = await registerTopicSchemas(createRegistry(registryUrlFromEnv(env)), specs);
  for (const s of subjects) console.error(`  ✔ ${s.subject.padEnd(40)} schema id ${s.id} (${s.schema}, BACKWARD)`);
  const drifted = reports.filter((r) => r.status === 'drift');
  if (drifted.length > 0) {
    console.error(`\n${drifted.length} topic(s) differ from the expected configuration. pdmctl does not change existing topics: alter them with kafka-configs, or delete and let \`pdmctl topics\` recreate them.`);
  }
  return drifted.length === 0;
}

export function registerTopicsCommand(program: Command): void {
  program
    .command('topics')
    .description('create or verify every topic of the contract and register every schema (idempotent)')
    .option('--prefix <prefix>', 'prefix for every topic name (isolated test environments); default: PDM_TOPIC_PREFIX')
    .option('--partitions <n>', 'partitions for new topics', (v) => Number.parseInt(v, 10))
    .action(async (options: TopicsOptions) => {
      if (!(await runTopics(options))) process.exitCode = 1;
    });
}
