/**
 * @jest-environment ./test/onnx-environment.js
 */
import path from 'node:path';
import { calendarOneHot } from '../../models/forecaster';
import { loadCurrent } from '../../models/store';
import { deployLoaded } from './model-holder';
import type { DeployedModel } from './inference.core';

/** The shipped forecaster as the service runs it (float64 graph): rows written in place run exactly as rows handed over. */
const root = path.join(__dirname, '..', '..', 'models');
let forecaster: DeployedModel;
beforeAll(async () => {
  forecaster = await deployLoaded(loadCurrent(root, 'pdm-forecaster'));
}, 60_000);
afterAll(() => forecaster.model.close());

function rowsOf(n: number) {
  const { lookback, channels, normalization } = forecaster.manifest;
  const size = lookback * channels.length;
  return Array.from({ length: n }, (_, r) => {
    const x = Float32Array.from({ length: size }, (_, i) => normalization.channelMean[i % channels.length]! + Math.sin(r * 7 + i) * (normalization.channelSd[i % channels.length]! || 1));
    const mask = Float32Array.from({ length: size }, (_, i) => ((i + r) % 5 === 0 ? 0 : 1));
    return { x, mask, calendar: Float32Array.from(calendarOneHot(Date.UTC(2026, 0, 5, r))) };
  });
}

test('a batch written in place gives every row the bits of the same rows handed over', async () => {
  const { runner } = forecaster;
  const rows = rowsOf(5);
  const handed = await runner.run(rows);
  const batch = runner.newBatch();
  rows.forEach((row, j) => {
    batch.x.set(row.x, batch.rowOffset(j));
    batch.mask.set(row.mask, batch.rowOffset(j));
    batch.calendar!.set(row.calendar, batch.calendarOffset(j));
  });
  const inPlace = await runner.runBatch(batch, rows.length);
  expect(inPlace).toHaveLength(5);
  inPlace.forEach((out, j) => {
    for (const role of Object.keys(handed[j]!)) expect(Array.from(out[role]!)).toEqual(Array.from(handed[j]![role]!));
  });
  expect(Object.keys(inPlace[0]!).sort()).toEqual(['forecast', 'lower', 'upper']);
});

test('a run takes at most its stable slots', async () => {
  const { runner } = forecaster;
  await expect(runner.runBatch(runner.newBatch(), runner.slots.length + 1)).rejects.toThrow(`a run takes ${runner.slots.length} rows`);
});
