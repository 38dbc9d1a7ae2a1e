import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../lib/paths';

/**
 * A V8 CPU profile (`node --cpu-prof`) summed up for a benchmark's output: where the samples fell,
 * by function (self time) and by area (a file of ours, a package, the garbage collector, native
 * code). Chrome DevTools or speedscope open the same file for the whole picture.
 */

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  seconds: number;
  functions: Array<{ name: string; share: number }>;
  areas: Array<{ name: string; share: number }>;
}

/** Where a frame's code lives: a path under the repository, `<package>` for a dependency, V8's own label otherwise. */
function areaOf(url: string, functionName: string): string {
  if (!url) return functionName ? `(${functionName.replace(/^\(|\)$/g, '')})` : '(native)';
  const file = url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1];
  if (pkg) return `<${pkg}>`;
  return file.startsWith(repoRoot) ? path.relative(repoRoot, file) : file;
}

export function summarizeProfile(profile: CpuProfile, top = 12): ProfileSummary {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const frame = frames.get(id);
    if (!frame || delta <= 0) return;
    total += delta;
    const area = areaOf(frame.url, frame.functionName);
    const name = frame.url ? `${frame.functionName || '(anonymous)'} ${area}:${frame.lineNumber + 1}` : area;
    byFunction.set(name, (byFunction.get(name) ?? 0) + delta);
    byArea.set(area, (byArea.get(area) ?? 0) + delta);
  });
  const ranked = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, t]) => ({ name, share: total === 0 ? 0 : t / total }));
  return { seconds: total / 1e6, functions: ranked(byFunction), areas: ranked(byArea) };
}

/** The largest profile `node --cpu-prof` wrote into `dir` (the service, not a short-lived helper process), summed up. */
export function summarizeProfileDir(dir: string, top?: number): { file: string; summary: ProfileSummary } | undefined {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
  const largest = files.map((f) => path.join(dir, f)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
  if (!largest) return undefined;
  return { file: largest, summary: summarizeProfile(JSON.parse(fs.readFileSync(largest, 'utf8')) as CpuProfile, top) };
}

/** The summary as the benchmarks print it. */
export function profileLines(summary: ProfileSummary): string[] {
  const pct = (share: number) => `${(share * 100).toFixed(1).padStart(5)} %`;
  return [
    `  cpu profile  ${summary.seconds.toFixed(1)} s sampled; by area (self time):`,
    ...summary.areas.map((a) => `    ${pct(a.share)}  ${a.name}`),
    '  by function (self time):',
    ...summary.functions.map((f) => `    ${pct(f.share)}  ${f.name}`),
  ];
}
