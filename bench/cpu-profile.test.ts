import path from 'node:path';
import { repoRoot } from '../lib/paths';
import { profileLines, summarizeProfile } from './cpu-profile';

const ours = `file://${path.join(repoRoot, 'processors/inference/lookback.ts')}`;
const dep = `file://${path.join(repoRoot, 'node_modules/onnxruntime-node/dist/backend.js')}`;

test('a profile summed by function and by area, shares of the sampled time', () => {
  const profile = {
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 } },
      { id: 2, callFrame: { functionName: 'modelInput', url: ours, lineNumber: 125 } },
      { id: 3, callFrame: { functionName: 'run', url: dep, lineNumber: 10 } },
      { id: 4, callFrame: { functionName: '(garbage collector)', url: '', lineNumber: -1 } },
    ],
    samples: [2, 2, 3, 4, 2, 1],
    timeDeltas: [1000, 1000, 2000, 1000, 1000, 0],
  };
  const summary = summarizeProfile(profile);
  expect(summary.seconds).toBeCloseTo(0.006);
  expect(summary.areas).toEqual([
    { name: 'processors/inference/lookback.ts', share: 0.5 },
    { name: '<onnxruntime-node>', share: 2 / 6 },
    { name: '(garbage collector)', share: 1 / 6 },
  ]);
  expect(summary.functions[0]).toEqual({ name: 'modelInput processors/inference/lookback.ts:126', share: 0.5 });
  expect(profileLines(summary)[1]).toBe('     50.0 %  processors/inference/lookback.ts');
});
