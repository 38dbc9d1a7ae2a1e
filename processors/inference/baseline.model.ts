import { BASELINE_INPUTS, baselineGraph } from '../../models/onnx/graphs';
import { openOnnxSession, type OnnxSession } from '../../models/runtime';
import type { BaselinePolicy, ScoredRow, ScoringRow } from './baseline';

/**
 * The per-machine detector on onnxruntime: one graph for every machine (its baseline is an input),
 * run once per group of machines that have the same number of channels and memory windows, so a
 * fleet's round is a handful of runs whatever its size.
 */

export const BASELINE_MODEL = { name: 'pdm-baseline', version: 'v1' } as const;

export interface BaselineModel {
  readonly name: string;
  readonly version: string;
  readonly policy: BaselinePolicy;
  score(rows: readonly ScoringRow[]): Promise<{ scored: ScoredRow[]; runs: number[] }>;
  close(): Promise<void>;
}

export async function openBaselineModel(policy: BaselinePolicy): Promise<BaselineModel> {
  const bytes = baselineGraph(policy, { name: BASELINE_MODEL.name, producerVersion: BASELINE_MODEL.version });
  const session: OnnxSession = await openOnnxSession(bytes);
  return {
    ...BASELINE_MODEL,
    policy,
    async score(rows) {
      const scored: ScoredRow[] = new Array(rows.length);
      const groups = new Map<string, number[]>();
      rows.forEach((row, i) => {
        const key = `${row.channels}x${row.memorySize}`;
        let group = groups.get(key);
        if (!group) groups.set(key, (group = []));
        group.push(i);
      });
      const runs: number[] = [];
      for (const [key, members] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const [C, K] = key.split('x').map(Number) as [number, number];
        const N = members.length;
        const feeds: Record<string, { data: Float32Array; dims: number[] }> = {};
        for (const name of BASELINE_INPUTS) {
          const per = name === 'memory' ? K * C : C;
          const data = new Float32Array(N * per);
          members.forEach((i, n) => data.set(pick(rows[i]!, name), n * per));
          feeds[name] = { data, dims: name === 'memory' ? [N, K, C] : [N, C] };
        }
        const out = await session.run(feeds);
        runs.push(N);
        members.forEach((i, n) => {
          scored[i] = {
            expected: out.expected!.slice(n * C, (n + 1) * C),
            ewma: out.ewma!.slice(n * C, (n + 1) * C),
            channelScore: out.channel_score!.slice(n * C, (n + 1) * C),
            score: out.score![n]!,
          };
        });
      }
      return { scored, runs };
    },
    close: () => session.close(),
  };
}

function pick(row: ScoringRow, name: (typeof BASELINE_INPUTS)[number]): Float32Array {
  switch (name) {
    case 'x':
      return row.x;
    case 'present':
      return row.present;
    case 'center':
      return row.center;
    case 'scale':
      return row.scale;
    case 'memory':
      return row.memory;
    case 'residual_scale':
      return row.residualScale;
    case 'previous':
      return row.previous;
  }
}
