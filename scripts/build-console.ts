import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

/**
 * Builds the operator's console (console/src) into console/dist, which `pdmctl run api` serves
 * at /: index.html, app.js and app.css (uPlot's stylesheet included), each minified and with a
 * source map. Everything is bundled from node_modules: the console loads nothing from elsewhere
 * and works offline.
 *
 * `npm ci` runs it (postinstall), so a fresh clone has a console, and so do the browser tests;
 * `npm run build:console` runs it again after a change. It takes well under two seconds.
 */

const ROOT = path.resolve(__dirname, '..');
const SOURCE = path.join(ROOT, 'console');
export const CONSOLE_DIST = path.join(SOURCE, 'dist');

export interface BuildConsoleOptions {
  /** Where to write; console/dist by default. */
  outDir?: string;
  /** Minify (default true); false gives readable output for debugging. */
  minify?: boolean;
}

export interface BuiltConsole {
  outDir: string;
  /** Each file written and its size in bytes. */
  files: Record<string, number>;
  /** The content hash index.html names the bundle with (for caches). */
  hash: string;
  ms: number;
}

export async function buildConsole(options: BuildConsoleOptions = {}): Promise<BuiltConsole> {
  const started = performance.now();
  const outDir = path.resolve(options.outDir ?? CONSOLE_DIST);
  const minify = options.minify ?? true;
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { app: path.join(SOURCE, 'src', 'main.tsx') },
    outdir: outDir,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    // Browsers of the last few years: what <dialog>, ResizeObserver and TextDecoderStream need anyway.
    target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(SOURCE, 'tsconfig.json'),
    minify,
    sourcemap: 'linked',
    legalComments: 'linked',
    metafile: true,
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const outputs = Object.keys(result.metafile.outputs);
  const hash = createHash('sha256');
  for (const file of outputs.filter((f) => /\.(js|css)$/.test(f)).sort()) hash.update(await readFile(path.resolve(ROOT, file)));
  const digest = hash.digest('hex').slice(0, 12);
  const html = (await readFile(path.join(SOURCE, 'index.html'), 'utf8')).replaceAll('%HASH%', digest);
  await writeFile(path.join(outDir, 'index.html'), html);

  const files: Record<string, number> = { 'index.html': Buffer.byteLength(html) };
  for (const file of outputs) files[path.relative(outDir, path.resolve(ROOT, file))] = result.metafile.outputs[file]!.bytes;
  return { outDir, files, hash: digest, ms: Math.round(performance.now() - started) };
}

if (require.main === module) {
  buildConsole({ minify: !process.argv.includes('--no-minify') }).then(
    ({ outDir, files, ms }) => {
      const sizes = Object.entries(files)
        .filter(([name]) => !name.endsWith('.map'))
        .map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(1)} KiB`)
        .join(', ');
      console.log(`console built in ${ms} ms: ${path.relative(process.cwd(), outDir) || '.'}/ (${sizes})`);
    },
    (err: unknown) => {
      console.error(`console build failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
