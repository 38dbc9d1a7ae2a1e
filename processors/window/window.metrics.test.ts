import type { IncomingRecord } from '../../lib/kafka/runner';
import { createLogger } from '../../lib/logger';
import { createRegistry } from '../../lib/metrics';
import type { SensorReading, WindowFeatures, WindowKey } from '../../schemas';
import { emptyPartition } from './window';
import { WindowProcessor, type WindowProcessorConfig } from './window.processor';

/**
 * What the window processor tells Prometheus beyond its counters' increments: every outcome
 * exists from the start (an alert on a rate needs a 0, not nothing), and how many machines of
 * each partition report or have gone silent, without a machine id on any series.
 */

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 5, 8);
const config: WindowProcessorConfig = { sizeMs: 10 * MINUTE, graceMs: MINUTE, idleTimeoutMs: 30_000, earlyUpdates: false };

function setup(overrides: Partial<WindowProcessorConfig> = {}) {
  const registry = createRegistry('window', false);
  const processor = new WindowProcessor({
    config: { ...config, ...overrides },
    topics: { input: 'in', output: 'out', outputPartitions: 1, late: 'late', deadLetter: 'dlq', changelog: 'changelog' },
    decodeReading: async (buffer) => JSON.parse(buffer.toString()) as SensorReading,
    encodeKey: (key: WindowKey) => Buffer.from(JSON.stringify(key)),
    encodeFeatures: (w: WindowFeatures) => Buffer.from(JSON.stringify(w)),
    clock: () => 0,
    metrics: registry,
    logger: createLogger({ level: 'silent' }),
  });
  let offset = 0;
  const feed = (partition: number, readings: Array<[string, number]>) => {
    const records: IncomingRecord[] = readings.map(([machineId, timestamp]) => ({
      key: Buffer.from(machineId),
      value: Buffer.from(JSON.stringify({ machineId, timestamp, current: 1, accX: 0, accY: 0, accZ: 0, tempA: 40, tempB: 30, extras: {} })),
      headers: {},
      offset: String(offset++),
      timestampMs: 0,
    }));
    return processor.process(partition, records, { nextOffset: String(offset), highWatermark: String(offset) });
  };
  const machines = async () => {
    const text = await registry.getSingleMetricAsString('pdm_window_machines');
    return text.split('\n').filter((line) => !line.startsWith('#') && line.length > 0).sort();
  };
  return { processor, registry, feed, machines };
}

test('every reading outcome and close trigger is exported at 0 before the first one', async () => {
  const { registry } = setup();
  const readings = await registry.getSingleMetricAsString('pdm_window_readings_total');
  for (const outcome of ['added', 'duplicate', 'late']) expect(readings).toContain(`pdm_window_readings_total{outcome="${outcome}",service="window"} 0`);
  const closed = await registry.getSingleMetricAsString('pdm_window_windows_closed_total');
  for (const trigger of ['stream-time', 'idle']) expect(closed).toContain(`pdm_window_windows_closed_total{trigger="${trigger}",service="window"} 0`);
});

test('a machine that stops while its partition goes on is counted silent after size plus grace, per partition', async () => {
  const { processor, feed, machines } = setup();
  processor.open(0, { windows: emptyPartition(), progress: undefined }, 0n);
  processor.open(1, { windows: emptyPartition(), progress: undefined }, 0n);
  await feed(0, [['pump-1', T0], ['pump-2', T0], ['pump-3', T0]]);
  await feed(1, [['lathe-1', T0]]);
  expect(await machines()).toEqual([
    'pdm_window_machines{partition="0",state="reporting",service="window"} 3',
    'pdm_window_machines{partition="0",state="silent",service="window"} 0',
    'pdm_window_machines{partition="1",state="reporting",service="window"} 1',
    'pdm_window_machines{partition="1",state="silent",service="window"} 0',
  ]);
  // pump-3 stops; the other two report on for 11 minutes of event time (size 10 min + grace 1 min).
  await feed(0, [['pump-1', T0 + 11 * MINUTE - 1], ['pump-2', T0 + 11 * MINUTE - 1]]);
  expect((await machines()).filter((l) => l.includes('partition="0"'))).toEqual([
    'pdm_window_machines{partition="0",state="reporting",service="window"} 3',
    'pdm_window_machines{partition="0",state="silent",service="window"} 0',
  ]);
  await feed(0, [['pump-1', T0 + 11 * MINUTE], ['pump-2', T0 + 11 * MINUTE]]);
  expect((await machines()).filter((l) => l.includes('partition="0"'))).toEqual([
    'pdm_window_machines{partition="0",state="reporting",service="window"} 2',
    'pdm_window_machines{partition="0",state="silent",service="window"} 1',
  ]);
  // It reports again: no longer silent. A partition given away is no longer reported here.
  await feed(0, [['pump-3', T0 + 12 * MINUTE]]);
  processor.close(1);
  expect(await machines()).toEqual([
    'pdm_window_machines{partition="0",state="reporting",service="window"} 3',
    'pdm_window_machines{partition="0",state="silent",service="window"} 0',
  ]);
});

test('PDM_WINDOW_SILENT_AFTER moves the threshold', async () => {
  const { processor, feed, machines } = setup({ silentAfterMs: 2 * MINUTE });
  processor.open(0, { windows: emptyPartition(), progress: undefined }, 0n);
  await feed(0, [['pump-1', T0], ['pump-2', T0 + 2 * MINUTE]]);
  expect(await machines()).toContain('pdm_window_machines{partition="0",state="silent",service="window"} 1');
});
