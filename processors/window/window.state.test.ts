import { emptyPartition, processReading } from './window';
import avro from 'avsc';
import { PROGRESS_KEY, StateRestorer, channelStateKey, configMismatch, decodeProgress, decodeWindow, encodeChannel, encodeProgress, encodeWindow, windowStateKey } from './window.state';

const T0 = Date.UTC(2026, 0, 5, 8);
const config = { sizeMs: 3_600_000, graceMs: 300_000 };

function openWindow() {
  const state = emptyPartition();
  for (const [t, current] of [[T0 + 4000, 2.5], [T0 + 2000, null], [T0 + 6000, -1e-300], [T0 + 2000, 9]] as const) {
    processReading(state, { machineId: 'lathe-1', timestamp: t, current, accX: 0.1, accY: null, accZ: 1e12, tempA: 40, tempB: Number.MAX_VALUE, extras: { pressure: current, flow: 3 } }, config);
  }
  return state.open.values().next().value!;
}

describe('window changelog records', () => {
  test('a window survives encoding bit for bit, timestamps and infinite bounds of empty features included', () => {
    const window = openWindow();
    const decoded = decodeWindow(encodeWindow(window));
    expect(decoded).toEqual(window);
    expect(decoded.features.accY).toEqual({ n: 0, mean: 0, m2: 0, min: Infinity, max: -Infinity });
    expect(decoded.timestamps).toEqual([T0 + 2000, T0 + 4000, T0 + 6000]);
    expect([...decoded.extras.keys()]).toEqual(['pressure', 'flow']);
    expect(decoded.extras.get('pressure')).toEqual(window.extras.get('pressure'));
  });

  test('a window of format 1 (written before extra channels) is read as a window without extras', () => {
    const window = openWindow();
    const v1 = avro.Type.forSchema({
      type: 'record',
      name: 'WindowState',
      fields: [
        { name: 'machineId', type: 'string' },
        { name: 'windowStartMs', type: 'long' },
        { name: 'windowEndMs', type: 'long' },
        { name: 'count', type: 'long' },
        { name: 'features', type: { type: 'array', items: { type: 'record', name: 'Aggregate', fields: ['n', 'mean', 'm2', 'min', 'max'].map((name) => ({ name, type: name === 'n' ? 'long' : 'double' })) } } },
        { name: 'timestampDeltas', type: { type: 'array', items: 'long' } },
      ],
    } as avro.Schema);
    const features = ['current', 'accX', 'accY', 'accZ', 'tempA', 'tempB'].map((f) => window.features[f as keyof typeof window.features]);
    const bytes = Buffer.concat([Buffer.from([1]), v1.toBuffer({ ...window, features, timestampDeltas: [T0 + 2000 - T0, 2000, 2000] })]);
    expect(decodeWindow(bytes)).toEqual({ ...window, extras: new Map() });
  });

  test('counted timestamps cost about two bytes each at a 2 s spacing', () => {
    const window = openWindow();
    window.timestamps = Array.from({ length: 1800 }, (_, i) => T0 + i * 2000);
    expect(encodeWindow(window).length).toBeLessThan(1800 * 2 + 400);
  });

  test('progress round-trips, before the first reading too', () => {
    for (const progress of [{ streamTimeMs: T0, nextOffset: 123_456_789_012n, ...config }, { streamTimeMs: null, nextOffset: 0n, ...config }]) {
      expect(decodeProgress(encodeProgress(progress))).toEqual(progress);
    }
  });

  test('a record of another format is refused with a reason', () => {
    const bytes = encodeWindow(openWindow());
    bytes[0] = 9;
    expect(() => decodeWindow(bytes)).toThrow('window state has format 9, this processor reads format 2 or 1');
  });

  test('restoring applies records in order: the last value wins and a tombstone removes the window', () => {
    const window = openWindow();
    const restorer = new StateRestorer();
    const key = windowStateKey(window.machineId, window.windowStartMs);
    const other = windowStateKey('other', T0);
    restorer.apply(key, encodeWindow({ ...window, count: 1 }));
    restorer.apply(other, encodeWindow({ ...window, machineId: 'other' }));
    restorer.apply(key, encodeWindow(window));
    restorer.apply(other, null);
    restorer.apply(channelStateKey('pressure'), encodeChannel());
    restorer.apply(channelStateKey('flow'), encodeChannel());
    restorer.apply(PROGRESS_KEY, encodeProgress({ streamTimeMs: T0 + 6000, nextOffset: 42n, ...config }));
    const { windows, progress, channels } = restorer.result();
    expect([...channels]).toEqual(['pressure', 'flow']);
    expect([...windows.open.values()]).toEqual([window]);
    expect(windows.open.has(`lathe-1\u0000${T0}`)).toBe(true);
    expect(windows.streamTimeMs).toBe(T0 + 6000);
    expect(progress?.nextOffset).toBe(42n);
  });

  test('a partition with no changelog restores empty, with stream time not started', () => {
    const { windows, progress } = new StateRestorer().result();
    expect(progress).toBeUndefined();
    expect(windows.streamTimeMs).toBe(-Infinity);
    expect(windows.open.size).toBe(0);
  });

  test('state built with another window size or grace is named as such', () => {
    const progress = { streamTimeMs: T0, nextOffset: 1n, ...config };
    expect(configMismatch(progress, config)).toBeUndefined();
    expect(configMismatch(progress, { sizeMs: 600_000, graceMs: 300_000 })).toBe('the state was built with windows of 3600000 ms and 300000 ms grace, this processor is set to 600000 ms and 300000 ms');
  });
});
