import type { IncomingRecord } from '../../lib/kafka/runner';
import type { TopicBatch } from '../../lib/kafka/producer';
import { createLogger } from '../../lib/logger';
import { createRegistry } from '../../lib/metrics';
import { SerdeError } from '../../lib/serde';
import type { SensorReading, WindowFeatures, WindowKey } from '../../schemas';
import { compareWindows, windowOracle } from '../../test/window-oracle';
import { emptyPartition } from './window';
import { MAX_ABS_READING, WINDOW_HEADERS, WindowProcessor, readingProblem, type WindowProcessorConfig } from './window.processor';
import { PROGRESS_KEY, StateRestorer, decodeProgress } from './window.state';

/**
 * The processor with an injected clock and plain JSON in place of the registry's Avro: batches
 * in, the records of each transaction out. No Kafka.
 */

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 5, 8);
const topics = { input: 'in', output: 'out', outputPartitions: 2, late: 'late', deadLetter: 'dlq', changelog: 'changelog' };
const config: WindowProcessorConfig = { sizeMs: 10 * MINUTE, graceMs: MINUTE, idleTimeoutMs: 30_000, earlyUpdates: false };

const reading = (machineId: string, timestamp: number, current: number | null = 1): SensorReading => ({ machineId, timestamp, current, accX: 0.5, accY: null, accZ: 0.25, tempA: 40 + current! / 10, tempB: 30, extras: {} });

function setup(overrides: Partial<WindowProcessorConfig> = {}) {
  let now = 1_000_000;
  const registry = createRegistry('window', false);
  const processor = new WindowProcessor({
    config: { ...config, ...overrides },
    topics,
    decodeReading: async (buffer) => {
      const text = buffer.toString();
      if (text === 'registry-down') throw new SerdeError('SERDE_REGISTRY_UNAVAILABLE', 'the registry did not answer');
      try {
        return JSON.parse(text) as SensorReading;
      } catch (cause) {
        throw new SerdeError('SERDE_DECODE', 'not a reading', { cause });
      }
    },
    encodeKey: (key: WindowKey) => Buffer.from(JSON.stringify(key)),
    encodeFeatures: (w: WindowFeatures) => Buffer.from(JSON.stringify(w)),
    clock: () => now,
    metrics: registry,
    logger: createLogger({ level: 'silent' }),
  });
  return { processor, registry, advance: (ms: number) => (now += ms) };
}

let offset = 0;
const records = (...values: Array<SensorReading | string | null>): IncomingRecord[] =>
  values.map((v) => ({ key: Buffer.from('k'), value: v === null ? null : Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)), headers: { origin: 'test' }, offset: String(offset++), timestampMs: 0 }));

const on = (batches: TopicBatch[], topic: string) => batches.find((b) => b.topic === topic)?.records ?? [];
const windowsIn = (batches: TopicBatch[]) => on(batches, 'out').map((r) => JSON.parse(r.value!.toString()) as WindowFeatures);
const batchInfo = (input: IncomingRecord[], highWatermark?: number) => {
  const next = Number(input[input.length - 1]!.offset) + 1;
  return { nextOffset: String(next), highWatermark: String(highWatermark ?? next) };
};

beforeEach(() => {
  offset = 0;
});

describe('WindowProcessor', () => {
  test('emits a window once stream time passes its end plus grace, with the changelog of what stays open', async () => {
    const { processor } = setup();
    processor.open(0, { windows: emptyPartition(), progress: undefined }, 0n);
    const first = records(reading('a', T0), reading('a', T0 + MINUTE, 3), reading('b', T0 + 2 * MINUTE));
    const out1 = await processor.process(0, first, batchInfo(first));
    expect(windowsIn(out1)).toEqual([]);
    const changelog1 = on(out1, 'changelog');
    expect(changelog1.map((r) => r.key!.toString())).toEqual([`Wa\u0000${T0}`, `Wb\u0000${T0}`, 'P']);
    expect(changelog1.every((r) => r.partition === 0)).toBe(true);
    expect(decodeProgress(changelog1[2]!.value!)).toMatchObject({ nextOffset: 3n, streamTimeMs: T0 + 2 * MINUTE, sizeMs: config.sizeMs });

    const second = records(reading('a', T0 + 11 * MINUTE));
    const out2 = await processor.process(0, second, batchInfo(second));
    const emitted = windowsIn(out2);
    expect(emitted.map((w) => [w.machineId, w.windowStart, w.count])).toEqual([
      ['a', T0, 2],
      ['b', T0, 1],
    ]);
    expect(emitted[0]!.current).toEqual({ count: 2, mean: 2, min: 1, max: 3, stddev: 1 });
    expect(emitted[0]!.accY).toEqual({ count: 0, mean: null, min: null, max: null, stddev: null });
    // Input partition 0 of 2 output partitions: every window of the partition's machines in partition 0.
    expect(on(out2, 'out').map((r) => r.partition)).toEqual([0, 0]);
    expect(on(out2, 'out').map((r) => r.headers)).toEqual([
      { [WINDOW_HEADERS.final]: 'true', [WINDOW_HEADERS.trigger]: 'stream-time' },
      { [WINDOW_HEADERS.final]: 'true', [WINDOW_HEADERS.trigger]: 'stream-time' },
    ]);
    // The new window is stored, the closed ones are tombstoned.
    expect(on(out2, 'changelog').map((r) => [r.key!.toString(), r.value === null])).toEqual([
      [`Wa\u0000${T0 + 10 * MINUTE}`, false],
      [`Wa\u0000${T0}`, true],
      [`Wb\u0000${T0}`, true],
      ['P', false],
    ]);
  });

  test('late readings go on to the late topic as they came, with why; duplicates count once', async () => {
    const { processor, registry } = setup();
    processor.open(0, { windows: emptyPartition(), progress: undefined }, 0n);
    const input = records(reading('a', T0), reading('a', T0), reading('a', T0 + 12 * MINUTE), reading('a', T0 + 5 * MINUTE));
    const out = await processor.process(0, input, batchInfo(input));
    expect(windowsIn(out).map((w) => w.count)).toEqual([1]);
    const late = on(out, 'late');
    expect(late).toHaveLength(1);
    expect(late[0]!.value).toEqual(input[3]!.value);
    expect(late[0]!.key).toEqual(input[3]!.key);
    expect(late[0]!.headers).toEqual({ origin: 'test', [WINDOW_HEADERS.lateStreamTime]: new Date(T0 + 12 * MINUTE).toISOString(), [WINDOW_HEADERS.lateWindowEnd]: new Date(T0 + 10 * MINUTE).toISOString() });
    const metrics = await registry.getSingleMetricAsString('pdm_window_readings_total');
    expect(metrics).toContain('pdm_window_readings_total{outcome="added",service="window"} 2');
    expect(metrics).toContain('pdm_window_readings_total{outcome="duplicate",service="window"} 1');
    expect(metrics).toContain('pdm_window_readings_total{outcome="late",service="window"} 1');
  });

  test('a record that does not decode, is empty or carries a non-finite value is dead-lettered and the batch goes on', async () => {
    const { processor } = setup();
    processor.open(3, { windows: emptyPartition(), progress: undefined }, 0n);
    const input = records('garbage', null, { ...reading('a', T0), current: 'NaN' } as unknown as SensorReading, reading('a', T0 + MINUTE));
    // JSON has no NaN: build that one by hand.
    input[2]!.value = Buffer.from(JSON.stringify(reading('a', T0)).replace('"current":1', '"current":1e999'));
    const out = await processor.process(3, input, batchInfo(input));
    const dead = on(out, 'dlq');
    expect(dead.map((d) => [d.headers!['pdm.errors.code'], d.headers!['pdm.errors.offset'], d.headers!['pdm.errors.partition'], d.headers!['pdm.errors.topic']])).toEqual([
      ['SERDE_DECODE', '0', '3', 'in'],
      ['WINDOW_NO_VALUE', '1', '3', 'in'],
      ['WINDOW_READING_INVALID', '2', '3', 'in'],
    ]);
    expect(dead[0]!.value!.toString()).toBe('garbage');
    expect(dead[2]!.headers!['pdm.errors.message']).toBe('current is Infinity, not a finite number');
    expect(decodeProgress(on(out, 'changelog').at(-1)!.value!).nextOffset).toBe(4n);
  });

  test('a reading from the far future is dead-lettered and does not move stream time: the readings after it are not late', async () => {
    const { processor } = setup({ maxAheadMs: 5 * MINUTE });
    processor.open(0, { windows: emptyPartition(), progress: undefined }, 0n);
    const appended = T0 + 2 * MINUTE;
    const input = records(reading('a', T0), reading('a', T0 + 10 * 365 * 24 * 60 * MINUTE), reading('a', T0 + 6 * MINUTE), reading('a', appended + 5 * MINUTE), reading('a', appended + 5 * MINUTE + 1));
    for (const r of input) r.timestampMs = appended;
    const out = await processor.process(0, input, batchInfo(input));
    const dead = on(out, 'dlq');
    expect(dead.map((d) => [d.headers!['pdm.errors.code'], d.headers!['pdm.errors.offset']])).toEqual([
      ['WINDOW_READING_INVALID', input[1]!.offset],
      ['WINDOW_READING_INVALID', input[4]!.offset],
    ]);
    expect(dead[0]!.headers!['pdm.errors.message']).toBe(`timestamp 2036-01-03T08:00:00.000Z is more than 300 s after the record was appended (${new Date(appended).toISOString()})`);
    expect(on(out, 'late')).toEqual([]);
    // The reading at appended + 5 min (the tolerance, exactly) is taken; stream time is there, not in 2036.
    expect(decodeProgress(on(out, 'changelog').at(-1)!.value!).streamTimeMs).toBe(appended + 5 * MINUTE);
  });

  test('a value beyond what a sensor reads is dead-lettered, so it cannot overflow its window\'s statistics', async () => {
    const { processor } = setup();
    processor.open(0, { windows: emptyPartition(), progress: undefined }, 0n);
    const input = records({ ...reading('a', T0), tempA: 1e300 }, { ...reading('a', T0 + MINUTE), accX: -1e16 }, { ...reading('a', T0 + 2 * MINUTE), tempA: MAX_ABS_READING }, reading('a', T0 + 13 * MINUTE));
    const out = await processor.process(0, input, batchInfo(input));
    expect(on(out, 'dlq').map((d) => d.headers!['pdm.errors.message'])).toEqual(['tempA is 1e+300, beyond the 1000000000000000 a sensor value may be', 'accX is -10000000000000000, beyond the 1000000000000000 a sensor value may be']);
    const [window] = windowsIn(out);
    expect(window!.count).toBe(1);
    expect(window!.tempA).toEqual({ count: 1, mean: MAX_ABS_READING, min: MAX_ABS_READING, max: MAX_ABS_READING, stddev: 0 });
  });

  test.each([
    ['a bad name', { 'bad-name': 1 }, 'extra channel "bad-name" is not a channel name (a letter, then letters, digits or underscores)'],
    ['one of the six', { tempA: 1 }, 'extra channel "tempA" is one of the six features; send it as the field tempA'],
    ['a name too long', { [`c${'x'.repeat(32)}`]: 1 }, /is 33 characters long, more than 32/],
    ['more than 64 channels', Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`c${i}`, 1])), '65 extra channels, more than the 64 a reading may carry'],
    ['a value beyond ±1e15', { pressure: -2e15 }, 'extra channel pressure is -2000000000000000, beyond the 1000000000000000 a sensor value may be'],
    ['a non-finite value', { pressure: Number.POSITIVE_INFINITY }, 'extra channel pressure is Infinity, not a finite number'],
  ])('extras: a reading with %s is refused', (_label, extras, reason) => {
    expect(readingProblem({ ...reading('a', T0), extras })).toEqual(typeof reason === 'string' ? reason : expect.stringMatching(reason));
  });

  test('extras: 64 well-named finite channels, nulls among them, are a reading', () => {
    expect(readingProblem({ ...reading('a', T0), extras: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`c${i}`, i % 2 ? null : i])) })).toBeUndefined();
  });

  test('a reading with a bad extra channel is dead-lettered and the partition moves on', async () => {
    const { processor } = setup();
    processor.open(0, { windows: emptyPartition(), progress: undefined }, 0n);
    const input = records({ ...reading('a', T0), extras: { pressure: 1 } }, reading('a', T0 + MINUTE));
    // JSON has no Infinity: build that one by hand.
    input[0]!.value = Buffer.from(input[0]!.value!.toString().replace('"pressure":1', '"pressure":1e999'));
    input.push(...records({ ...reading('a', T0 + 2 * MINUTE), extras: { pressure: 5 } }, reading('a', T0 + 12 * MINUTE)));
    const out = await processor.process(0, input, batchInfo(input));
    expect(on(out, 'dlq').map((d) => [d.headers!['pdm.errors.code'], d.headers!['pdm.errors.offset'], d.headers!['pdm.errors.message']])).toEqual([['WINDOW_READING_INVALID', input[0]!.offset, 'extra channel pressure is Infinity, not a finite number']]);
    expect(windowsIn(out).map((w) => [w.count, w.extras])).toEqual([[2, { pressure: { count: 1, mean: 5, min: 5, max: 5, stddev: 0 } }]]);
  });

  test.each([
    // [cap, the extras of each reading in order, the codes of what was dead-lettered (by reading index), channels taken]
    ['under the cap, every name is taken', 3, [{ a: 1 }, { b: 1, c: 1 }, { a: 2 }], [], ['a', 'b', 'c']],
    ['a reading bringing one name too many is refused whole', 2, [{ a: 1 }, { b: 1, c: 1 }, { b: 2 }], [1], ['a', 'b']],
    ['names already taken pass at the cap', 1, [{ a: 1 }, { a: 2 }, { b: 1 }, { a: 3 }], [2], ['a']],
    ['a cap of 0 refuses every extra channel, not readings without', 0, [{}, { a: 1 }, { a: null }], [1, 2], []],
  ] as const)('the cap on distinct extra channel names per partition: %s', async (_label, cap, extras, refused, taken) => {
    const { processor, registry } = setup({ maxExtraChannels: cap });
    processor.open(0, { windows: emptyPartition(), progress: undefined }, 0n);
    const input = records(...extras.map((e, i) => ({ ...reading('m', T0 + i * 1000), extras: { ...e } })), reading('m', T0 + 12 * MINUTE));
    const out = await processor.process(0, input, batchInfo(input));
    const dead = on(out, 'dlq');
    expect(dead.map((d) => [d.headers!['pdm.errors.code'], Number(d.headers!['pdm.errors.offset'])])).toEqual(refused.map((i) => ['WINDOW_TOO_MANY_CHANNELS', Number(input[i]!.offset)]));
    if (refused.length > 0) expect(dead[0]!.headers!['pdm.errors.message']).toContain(`more than the ${cap} it takes (PDM_WINDOW_MAX_EXTRA_CHANNELS)`);
    expect(windowsIn(out)[0]!.count).toBe(extras.length - refused.length);
    expect(Object.keys(windowsIn(out)[0]!.extras).sort()).toEqual([...taken].sort());
    // Each name taken is one changelog record, so a restore knows it.
    expect(on(out, 'changelog').map((r) => r.key!.toString()).filter((k) => k.startsWith('C'))).toEqual(taken.map((n) => `C${n}`));
    expect(await registry.getSingleMetricAsString('pdm_window_extra_channels')).toContain(`pdm_window_extra_channels{partition="0",service="window"} ${taken.length}`);
    const counted = /^pdm_dead_letter_records_total\{[^}]*reason="WINDOW_TOO_MANY_CHANNELS"[^}]*\} (\d+)$/m.exec(await registry.getSingleMetricAsString('pdm_dead_letter_records_total'));
    expect(Number(counted?.[1] ?? 0)).toBe(refused.length);
  });

  test('the channels a partition has taken survive a restore: the cap still holds after the windows that had them closed', async () => {
    const first = setup({ maxExtraChannels: 2 }).processor;
    first.open(0, { windows: emptyPartition(), progress: undefined }, 0n);
    const input = records({ ...reading('m', T0), extras: { a: 1, b: 1 } }, reading('m', T0 + 12 * MINUTE));
    const restorer = new StateRestorer();
    for (const r of on(await first.process(0, input, batchInfo(input)), 'changelog')) restorer.apply(r.key, r.value);
    const second = setup({ maxExtraChannels: 2 }).processor;
    second.open(0, restorer.result(), 2n);
    const more = records({ ...reading('m', T0 + 13 * MINUTE), extras: { c: 1 } }, { ...reading('m', T0 + 14 * MINUTE), extras: { a: 2 } });
    const out = await second.process(0, more, batchInfo(more));
    expect(on(out, 'dlq').map((d) => d.headers!['pdm.errors.offset'])).toEqual([more[0]!.offset]);
  });

  test('without a record timestamp (or a tolerance) nothing is compared', () => {
    const far = reading('a', T0 + 10 * 365 * 24 * 60 * MINUTE);
    expect(readingProblem(far, -1, 5 * MINUTE)).toBeUndefined();
    expect(readingProblem(far, T0)).toBeUndefined();
    expect(readingProblem(far, T0, 5 * MINUTE)).toMatch(/is more than 300 s after the record was appended/);
  });

  test('a registry outage is not the record\'s fault: the batch fails, to be retried, and nothing is dead-lettered', async () => {
    const { processor } = setup();
    processor.open(0, { windows: emptyPartition(), progress: undefined }, 0n);
    const input = records(reading('a', T0), 'registry-down');
    await expect(processor.process(0, input, batchInfo(input))).rejects.toThrow('the registry did not answer');
  });

  test('records before the restored offset are skipped: a batch delivered again is not counted twice', async () => {
    const { processor } = setup();
    processor.open(0, { windows: emptyPartition(), progress: undefined }, 0n);
    const input = records(reading('a', T0, 1), reading('a', T0 + MINUTE, 2));
    await processor.process(0, input, batchInfo(input));
    const again = [...input, ...records(reading('a', T0 + 2 * MINUTE, 3), reading('a', T0 + 20 * MINUTE))];
    const out = await processor.process(0, again, batchInfo(again));
    expect(windowsIn(out).map((w) => [w.count, w.current.mean])).toEqual([[3, 2]]);
  });

  test('state restored from the changelog carries on exactly where the first instance stopped', async () => {
    // One reading stream, run straight through and run as two instances with a handover.
    const stream: SensorReading[] = [];
    for (let i = 0; i < 400; i++) {
      const extras = i % 3 === 1 ? { pressure: ((i * 13) % 7) / 3, ...(i % 4 === 0 ? { flow: i } : {}) } : {};
      stream.push({ ...reading(`m${i % 3}`, T0 + i * 7_000 + (i % 5 === 0 ? -40_000 : 0), (i * 37) % 11), extras });
    }
    stream.push(reading('m0', T0 + 2 * 60 * MINUTE)); // closes everything before
    const allRecords = records(...stream);

    const straight = setup().processor;
    straight.open(0, { windows: emptyPartition(), progress: undefined }, 0n);
    const straightOut: WindowFeatures[] = [];
    for (let i = 0; i < allRecords.length; i += 50) {
      const batch = allRecords.slice(i, i + 50);
      straightOut.push(...windowsIn(await straight.process(0, batch, batchInfo(batch))));
    }

    const changelog: TopicBatch['records'] = [];
    const first = setup().processor;
    first.open(0, { windows: emptyPartition(), progress: undefined }, 0n);
    const handedOver: WindowFeatures[] = [];
    for (let i = 0; i < 200; i += 50) {
      const batch = allRecords.slice(i, i + 50);
      const out = await first.process(0, batch, batchInfo(batch));
      handedOver.push(...windowsIn(out));
      changelog.push(...on(out, 'changelog'));
    }
    const restorer = new StateRestorer();
    for (const r of changelog) restorer.apply(r.key, r.value);
    const second = setup().processor;
    second.open(0, restorer.result(), BigInt(allRecords.length));
    // The new owner is handed the last batch again (its offsets were committed): it is skipped.
    for (let i = 150; i < allRecords.length; i += 50) {
      const batch = allRecords.slice(i, i + 50);
      handedOver.push(...windowsIn(await second.process(0, batch, batchInfo(batch))));
    }
    expect(handedOver).toEqual(straightOut);
    const oracle = windowOracle([stream], config);
    const last = [...oracle.windows.values()].filter((w) => w.windowStart === T0 + 120 * MINUTE);
    for (const w of last) oracle.windows.delete(`${w.machineId}@${w.windowStart}`);
    expect(compareWindows(straightOut, oracle.windows)).toEqual([]);
  });

  test('an idle, caught-up partition closes its windows after the timeout, and not before', async () => {
    const { processor, advance } = setup();
    processor.open(1, { windows: emptyPartition(), progress: undefined }, 0n);
    const behind = records(reading('a', T0));
    await processor.process(1, behind, batchInfo(behind, 100)); // 99 more records wait on the broker
    advance(60_000);
    expect(processor.punctuate(1)).toEqual([]);

    const caughtUp = records(reading('a', T0 + MINUTE));
    await processor.process(1, caughtUp, batchInfo(caughtUp));
    advance(29_999);
    expect(windowsIn(processor.punctuate(1))).toEqual([]);
    advance(1);
    const out = processor.punctuate(1);
    expect(windowsIn(out).map((w) => [w.machineId, w.count])).toEqual([['a', 2]]);
    expect(on(out, 'out')[0]!.headers![WINDOW_HEADERS.trigger]).toBe('idle');
    expect(on(out, 'out')[0]!.partition).toBe(1);
    expect(on(out, 'changelog').map((r) => [r.key!.toString(), r.value === null])).toEqual([
      [`Wa\u0000${T0}`, true],
      ['P', false],
    ]);
    expect(processor.openWindows(1)).toBe(0);
    // Nothing more to close.
    advance(60_000);
    expect(processor.punctuate(1)).toEqual([]);
    // A reading for the closed window is now late.
    const after = records(reading('a', T0 + 2 * MINUTE));
    expect(on(await processor.process(1, after, batchInfo(after)), 'late')).toHaveLength(1);
  });

  test('a partition restored at its end is caught up, so it can go idle without a new batch', async () => {
    const { processor, advance } = setup();
    const windows = emptyPartition();
    const restorer = new StateRestorer();
    const first = setup().processor;
    first.open(0, { windows, progress: undefined }, 0n);
    const input = records(reading('a', T0));
    for (const r of on(await first.process(0, input, batchInfo(input)), 'changelog')) restorer.apply(r.key, r.value);
    processor.open(0, restorer.result(), 1n);
    advance(30_000);
    expect(windowsIn(processor.punctuate(0)).map((w) => w.machineId)).toEqual(['a']);
  });

  test('early updates, when asked for, emit running aggregates marked as not final', async () => {
    const { processor } = setup({ earlyUpdates: true });
    processor.open(0, { windows: emptyPartition(), progress: undefined }, 0n);
    const input = records(reading('a', T0, 2), reading('a', T0 + MINUTE, 4));
    const out = await processor.process(0, input, batchInfo(input));
    expect(on(out, 'out').map((r) => r.headers)).toEqual([{ [WINDOW_HEADERS.final]: 'false' }]);
    expect(windowsIn(out)[0]!.current.mean).toBe(3);
  });

  test('the progress record is the last changelog record of every transaction', async () => {
    const { processor } = setup();
    processor.open(0, { windows: emptyPartition(), progress: undefined }, 0n);
    const input = records(reading('a', T0));
    const changelog = on(await processor.process(0, input, batchInfo(input)), 'changelog');
    expect(changelog.at(-1)!.key).toEqual(PROGRESS_KEY);
  });
});
