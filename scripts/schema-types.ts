import fs from 'node:fs';
import path from 'node:path';
import { toTypeScript } from '@ovotech/avro-ts';
import type { Schema } from 'avsc';

/**
 * TypeScript types are generated from schemas/*.avsc (the source of truth), never written by
 * hand: `npm run generate` writes schemas/types/<name>.ts, and a unit test fails when they are
 * stale.
 */
export const schemasDir = path.join(__dirname, '..', 'schemas');
export const typesDir = path.join(schemasDir, 'types');

/** avro-ts builds its output with TypeScript factory calls that warn of their own deprecation. */
function quietly<T>(fn: () => T): T {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('DeprecationWarning')) warn(...args);
  };
  try {
    return fn();
  } finally {
    console.warn = warn;
  }
}

export function generatedTypes(): Map<string, string> {
  const files = new Map<string, string>();
  for (const file of fs.readdirSync(schemasDir).filter((f) => f.endsWith('.avsc')).sort()) {
    const schema = JSON.parse(fs.readFileSync(path.join(schemasDir, file), 'utf8')) as Schema;
    if (typeof schema === 'string') continue; // a primitive (the machine-id key) is just `string`
    const header = `// Generated from schemas/${file} by \`npm run generate\`. Do not edit.\n`;
    files.set(file.replace(/\.avsc$/, '.ts'), header + quietly(() => toTypeScript(schema)));
  }
  return files;
}

if (require.main === module) {
  fs.mkdirSync(typesDir, { recursive: true });
  for (const [name, text] of generatedTypes()) {
    fs.writeFileSync(path.join(typesDir, name), text);
    console.log(`wrote schemas/types/${name}`);
  }
}
