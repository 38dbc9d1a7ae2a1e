import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { schema as apiSchema } from '../api/api.settings';
import { repoRoot } from '../lib/paths';
import { followerSettings, kafkaSettings, modelSettings, postgresSettings, serviceSettings, topicSettings } from '../lib/shared.settings';
import { schema as retrainSchema } from '../models/retrain.settings';
import { schema as inferenceSchema } from '../processors/inference/inference.settings';
import { schema as processorSchema } from '../processors/runtime';
import { schema as windowSchema } from '../processors/window/window.settings';
import { schema as mqttSchema } from '../producers/mqtt/settings';
import { schema as producerSchema } from '../producers/runtime';
import { schema as emailSchema } from '../sinks/email/email.settings';
import { schema as postgresSinkSchema } from '../sinks/postgres/postgres.settings';
import { schema as stackSchema } from '../stack/settings';

/**
 * docs/configuration.md, generated from the settings' zod schemas: one table per component with
 * each variable's default and doc line. A variable a component takes from lib/shared.settings.ts
 * is listed once, under the shared table, and named in the component's "also reads" line.
 * `npm run docs:config` writes the file; configuration-docs.test.ts fails when it is stale.
 */

export const CONFIGURATION_DOCS = path.join(repoRoot, 'docs', 'configuration.md');
export const REGENERATE = 'npm run docs:config';

interface Section {
  title: string;
  source: string;
  schema: z.ZodObject;
}

const SHARED: Section[] = Object.entries({
  'Kafka and the schema registry': kafkaSettings,
  'Topics and records': topicSettings,
  'Logs and metrics (every service)': serviceSettings,
  Postgres: postgresSettings,
  'Postgres follower': followerSettings,
  Models: modelSettings,
}).map(([title, schema]) => ({ title, source: 'lib/shared.settings.ts', schema }));

const COMPONENTS: Section[] = [
  { title: 'Stream processors (window, inference)', source: 'processors/runtime.ts', schema: processorSchema },
  { title: '`pdmctl run window`', source: 'processors/window/window.settings.ts', schema: windowSchema },
  { title: '`pdmctl run inference`', source: 'processors/inference/inference.settings.ts', schema: inferenceSchema },
  { title: '`pdmctl run sink-postgres`', source: 'sinks/postgres/postgres.settings.ts', schema: postgresSinkSchema },
  { title: '`pdmctl run sink-email`', source: 'sinks/email/email.settings.ts', schema: emailSchema },
  { title: '`pdmctl run api`', source: 'api/api.settings.ts', schema: apiSchema },
  { title: '`pdmctl run retrain`', source: 'models/retrain.settings.ts', schema: retrainSchema },
  { title: 'Producers (`simulate`, `replay`, the MQTT bridge)', source: 'producers/runtime.ts', schema: producerSchema },
  { title: 'MQTT bridge (`pdmctl run mqtt-bridge`)', source: 'producers/mqtt/settings.ts', schema: mqttSchema },
  { title: 'The local stack (`pdmctl stack`)', source: 'stack/settings.ts', schema: stackSchema },
];

type Def = { type: string; defaultValue?: unknown; in?: z.ZodType; innerType?: z.ZodType };

/** The default as a user would write it (`5m`, not 300000), or undefined when unset means "none". */
function defaultOf(field: z.ZodType): string | undefined {
  const shown = (field.meta() as { docDefault?: string } | undefined)?.docDefault;
  if (shown !== undefined) return shown;
  const def = field._zod.def as Def;
  if (def.type === 'default') return JSON.stringify(def.defaultValue);
  if (def.type === 'pipe' && def.in) return defaultOf(def.in);
  return undefined;
}

const cell = (text: string): string => text.replace(/\|/g, '\\|');

function table(section: Section, shared: ReadonlyMap<z.ZodType, string>): string[] {
  const own = Object.entries(section.schema.shape as Record<string, z.ZodType>).filter(([, field]) => !shared.has(field));
  const reused = Object.entries(section.schema.shape as Record<string, z.ZodType>).filter(([, field]) => shared.has(field));
  const lines = [`### ${section.title}`, '', `Declared in \`${section.source}\`.`, ''];
  if (reused.length > 0) lines.push(`Also reads the shared ${reused.map(([name]) => `\`${name}\``).join(', ')}.`, '');
  if (own.length === 0) return lines;
  lines.push('| variable | default | meaning |', '| --- | --- | --- |');
  for (const [name, field] of own) {
    if (!field.description) throw new Error(`${section.source}: ${name} has no doc line (.describe)`);
    const fallback = defaultOf(field);
    const shownDefault = fallback === undefined ? '(unset)' : fallback === '""' ? "'' (empty)" : `\`${fallback.replace(/^"(.*)"$/, '$1')}\``;
    lines.push(`| \`${name}\` | ${cell(shownDefault)} | ${cell(field.description)} |`);
  }
  lines.push('');
  return lines;
}

/** Fails when a variable is declared twice: every component must take a shared one by reference. */
function checkDeclaredOnce(sections: readonly Section[]): void {
  const seen = new Map<string, { field: z.ZodType; source: string }>();
  for (const section of sections) {
    for (const [name, field] of Object.entries(section.schema.shape as Record<string, z.ZodType>)) {
      const first = seen.get(name);
      if (first && first.field !== field) throw new Error(`${name} is declared both in ${first.source} and in ${section.source}: declare it once (lib/shared.settings.ts) and take it from there`);
      if (!first) seen.set(name, { field, source: section.source });
    }
  }
}

export function renderConfigurationDocs(): string {
  checkDeclaredOnce([...SHARED, ...COMPONENTS]);
  const shared = new Map<z.ZodType, string>();
  for (const section of SHARED) for (const [name, field] of Object.entries(section.schema.shape as Record<string, z.ZodType>)) shared.set(field, name);
  const lines = [
    '# Configuration',
    '',
    `<!-- Generated from the settings' zod schemas by scripts/configuration-docs.ts: do not edit by hand; run \`${REGENERATE}\`. -->`,
    '',
    'Every setting comes from the environment, is validated once at start (a bad value fails with its name) and is declared once,',
    'in the schema named under each table. An empty value counts as unset. Connection settings left unset point at the local',
    'stack (`eval "$(npx pdmctl stack env)"` prints them).',
    '',
    '## Shared settings',
    '',
  ];
  const noSharedMarks = new Map<z.ZodType, string>();
  for (const section of SHARED) lines.push(...table(section, noSharedMarks));
  lines.push('## Per component', '');
  for (const section of COMPONENTS) lines.push(...table(section, shared));
  return `${lines.join('\n').trimEnd()}\n`;
}

if (require.main === module) {
  fs.mkdirSync(path.dirname(CONFIGURATION_DOCS), { recursive: true });
  fs.writeFileSync(CONFIGURATION_DOCS, renderConfigurationDocs());
  console.error(`wrote ${path.relative(repoRoot, CONFIGURATION_DOCS)}`);
}
