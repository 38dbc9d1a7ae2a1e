import type { TopicBatch } from '../producer';
import { FakeKafka, StageTestDriver } from './test-driver';
import type { IncomingRecord, StageCallbacks } from './types';

/**
 * The runner's rebalance, failure and punctuation paths, with no broker: a counting stage over the
 * real task queue and committers (test-driver.ts). The stage counts records per key, keeps the
 * counts as its state, and writes each record to `out` and its new count to `changelog`, from
 * which `open` restores: what a committed changelog holds is what a reopened task starts from.
 */

/** A promise a test resolves when it wants the stage to go on. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** The stage's restores wait until the test opens the gate; `undo` makes them immediate again. */
function holdOpen(stage: StageCallbacks) {
  const restore = gate();
  const open = stage.open!;
  stage.open = async (partition, context) => {
    await restore.opened;
    await open(partition, context);
  };
  return { open: restore.open, undo: () => void (stage.open = open) };
}

/** The stage's batches (a sink's flush) wait until the test opens the gate. */
function holdProcess(stage: StageCallbacks) {
  const release = gate();
  const process = stage.process;
  stage.process = async (partition, records, batch) => {
    await release.opened;
    return process(partition, records, batch);
  };
  return release;
}

function countingStage(kafka: FakeKafka, overrides: Partial<StageCallbacks> = {}) {
  const state = new Map<number, Map<string, number>>();
  const stage: StageCallbacks = {
    async open(partition) {
      const counts = new Map<string, number>();
      for (const r of kafka.topics.get('changelog') ?? []) if (r.partition === partition) counts.set(r.key!.toString(), Number(r.value!.toString()));
      state.set(partition, counts);
    },
    close: (partition) => void state.delete(partition),
    process(partition, records: IncomingRecord[]): TopicBatch[] {
      const counts = state.get(partition)!;
      const out: TopicBatch = { topic: 'out', records: [] };
      const changelog: TopicBatch = { topic: 'changelog', records: [] };
      for (const r of records) {
        const key = r.key!.toString();
        counts.set(key, (counts.get(key) ?? 0) + 1);
        out.records.push({ key: r.key, value: Buffer.from(`${r.value!.toString()}@${partition}:${r.offset}`) });
        changelog.records.push({ key: r.key, value: Buffer.from(String(counts.get(key))), partition });
      }
      return [out, changelog];
    },
    ...overrides,
  };
  return { stage, state };
}

/** One punctuation record on `ticks`. */
const tick = (value: string): TopicBatch[] => [{ topic: 'ticks', records: [{ key: null, value: Buffer.from(value) }] }];

const readings = (key: string, values: number[], fromMs = 0) => values.map((v, i) => ({ key, value: `${key}${v}`, timestampMs: fromMs + i * 1000 }));

function setUp(options: { delivery?: 'exactly-once' | 'at-least-once'; maxBatchRecords?: number } = {}, overrides: Partial<StageCallbacks> = {}) {
  const kafka = new FakeKafka();
  const { stage, state } = countingStage(kafka, overrides);
  return { driver: new StageTestDriver(stage, { ...options, kafka }), stage, state };
}

describe('the task queue (exactly once)', () => {
  test('a partition is processed in order: its batch waits for its restore, a punctuation for the batch', async () => {
    const { driver, stage } = setUp({}, { punctuate: { intervalMs: 1000, run: (partition) => tick(`tick ${partition}`) } });
    const restore = holdOpen(stage);
    const release = holdProcess(stage);
    driver.pipe(0, readings('a', [1, 2]));
    await driver.assign([0]);
    const polled = driver.poll(0);
    await driver.advance(1000);
    expect(driver.seen).toEqual(['open 0']);
    restore.open();
    await driver.advance(0);
    expect(driver.seen).toEqual(['open 0', 'process 0 [0-1]']);
    release.open();
    expect(await polled).toBeUndefined();
    expect(driver.seen).toEqual(['open 0', 'process 0 [0-1]', 'punctuate 0']);
    expect(driver.output('out')).toEqual(['a1@0:0', 'a2@0:1']);
    expect(driver.output('ticks')).toEqual(['tick 0']);
  });

  test("a batch's outputs and its offsets commit in one transaction", async () => {
    const { driver } = setUp();
    driver.pipe(0, readings('a', [1, 2]));
    driver.pipe(1, readings('b', [1]));
    await driver.assign([0, 1]);
    expect(await driver.poll(0)).toBeUndefined();
    expect(await driver.poll(1)).toBeUndefined();
    expect(driver.kafka.calls).toEqual(['connect 0', 'connect 1', 'send 0', 'sendOffsets 0@2', 'commit 0', 'send 1', 'sendOffsets 1@1', 'commit 1']);
    expect(driver.output('out')).toEqual(['a1@0:0', 'a2@0:1', 'b1@1:0']);
    expect([driver.committedOffset(0), driver.committedOffset(1)]).toEqual(['2', '1']);
    expect(driver.tasks.commits).toBe(2);
  });

  const failingSteps = ['send', 'sendOffsets', 'commit'] as const;
  test.each(failingSteps)('a failed %s aborts the transaction; the task restarts from Kafka and the same records commit once', async (step) => {
    const { driver, state } = setUp();
    driver.pipe(0, readings('a', [1, 2]));
    await driver.assign([0]);
    driver.kafka.failNext(step);
    expect((await driver.poll(0))?.message).toMatch(/injected/);
    expect(driver.kafka.calls).toContain('abort 0');
    expect(driver.committedOffset(0)).toBeUndefined();
    expect(driver.output('out')).toEqual([]);
    expect(state.has(0)).toBe(false);
    expect(await driver.poll(0)).toBeUndefined();
    expect(driver.seen).toEqual(['open 0', 'process 0 [0-1]', 'close 0', 'open 0', 'process 0 [0-1]']);
    expect(driver.output('out')).toEqual(['a1@0:0', 'a2@0:1']);
    expect(driver.output('changelog')).toEqual(['1', '2']);
    expect(driver.committedOffset(0)).toBe('2');
  });

  test('a partition revoked while its batch waits for the restore: the batch is not processed, the state closes, and a re-assignment restores it', async () => {
    const { driver, stage, state } = setUp();
    driver.pipe(0, readings('a', [1, 2]));
    await driver.assign([0]);
    await driver.poll(0);
    driver.pipe(0, readings('a', [3]));
    const restore = holdOpen(stage);
    await driver.assign([]);
    await driver.assign([0]);
    const polled = driver.poll(0);
    await driver.assign([]);
    restore.open();
    expect((await polled)?.message).toMatch(/revoked while its batch waited/);
    expect(driver.committedOffset(0)).toBe('2');
    expect(state.has(0)).toBe(false);
    restore.undo();
    await driver.assign([0]);
    expect(state.get(0)).toEqual(new Map([['a', 2]]));
    expect(await driver.poll(0)).toBeUndefined();
    expect(driver.output('out')).toEqual(['a1@0:0', 'a2@0:1', 'a3@0:2']);
    expect(driver.output('changelog')).toEqual(['1', '2', '3']);
  });

  test('a partition handed to another member mid-batch: the fenced transaction commits nothing, and the state closes', async () => {
    const { driver, stage, state } = setUp();
    const release = holdProcess(stage);
    driver.pipe(0, readings('a', [1, 2]));
    await driver.assign([0]);
    const polled = driver.poll(0);
    await driver.advance(0);
    expect(driver.seen).toEqual(['open 0', 'process 0 [0-1]']);
    await driver.assign([]);
    driver.kafka.fence(0);
    release.open();
    expect((await polled)?.message).toMatch(/fenced/);
    expect(driver.output('out')).toEqual([]);
    expect(driver.committedOffset(0)).toBeUndefined();
    expect(state.has(0)).toBe(false);
    expect(driver.tasks.openPartitions()).toEqual([]);
    expect(driver.seen).toEqual(['open 0', 'process 0 [0-1]', 'close 0']);
  });

  test('a member dropped from the group and joining again trusts none of its tasks: each closes, fences again and restores what the member that had it meanwhile committed', async () => {
    const kafka = new FakeKafka();
    const first = countingStage(kafka);
    const other = countingStage(kafka);
    const firstMember = new StageTestDriver(first.stage, { kafka });
    const otherMember = new StageTestDriver(other.stage, { kafka });
    const input = readings('a', [1, 2, 3, 4]);
    firstMember.pipe(0, input.slice(0, 2));
    otherMember.pipe(0, input.slice(0, 3));
    await firstMember.assign([0]);
    expect(await firstMember.poll(0)).toBeUndefined();
    // Generations go by without the first member (busy past its session): the other has the partition and commits a3.
    await otherMember.assign([0]);
    expect(await otherMember.poll(0)).toBeUndefined();
    await otherMember.assign([]);
    expect(kafka.offsets.get(0)).toBe('3');
    // The first member joins again under a new member id and is given the partition back: its old task's state (a = 2) is stale.
    await firstMember.assign([0], true);
    expect(first.state.get(0)).toEqual(new Map([['a', 3]]));
    firstMember.pipe(0, input.slice(2));
    expect(await firstMember.poll(0)).toBeUndefined();
    expect(kafka.values('changelog')).toEqual(['1', '2', '3', '4']);
    expect(kafka.offsets.get(0)).toBe('4');
    expect(firstMember.seen).toEqual(['open 0', 'process 0 [0-1]', 'close 0', 'open 0', 'process 0 [3-3]']);
  });

  test('a failed open is tried again after a backoff, for as long as the partition is assigned', async () => {
    const { driver } = setUp();
    driver.kafka.failNext('connect');
    await driver.assign([0]);
    expect(driver.tasks.openPartitions()).toEqual([]);
    await driver.advance(499);
    expect(driver.kafka.calls).toEqual(['connect 0']);
    await driver.advance(1);
    expect(driver.kafka.calls).toEqual(['connect 0', 'connect 0']);
    expect(driver.tasks.openPartitions()).toEqual([0]);
  });
});

describe('punctuation', () => {
  test('wall clock: every interval of the mock clock, each open task, committed without moving offsets', async () => {
    let ticks = 0;
    const { driver } = setUp({}, { punctuate: { intervalMs: 1000, run: (partition) => (partition === 0 ? tick(String(++ticks)) : []) } });
    await driver.assign([0, 1]);
    await driver.advance(999);
    expect(driver.seen).toEqual(['open 0', 'open 1']);
    await driver.advance(1);
    expect(driver.seen).toEqual(['open 0', 'open 1', 'punctuate 0', 'punctuate 1']);
    await driver.advance(1000);
    expect(driver.output('ticks')).toEqual(['1', '2']);
    // Partition 1 had nothing to say: no empty transaction.
    expect(driver.kafka.calls.filter((c) => c.startsWith('commit'))).toEqual(['commit 0', 'commit 0']);
    expect(driver.committedOffset(0)).toBeUndefined();
    await driver.stop();
    await driver.advance(5000);
    expect(driver.output('ticks')).toEqual(['1', '2']);
  });

  test('stream time: when a batch moves the highest timestamp past the next interval, in the same transaction', async () => {
    const punctuateStreamTime = { intervalMs: 60_000, run: (partition: number, streamTimeMs: number) => tick(`${partition}@${streamTimeMs}`) };
    const { driver } = setUp({ maxBatchRecords: 2 }, { punctuateStreamTime });
    driver.pipe(0, [
      { key: 'a', value: 'a1', timestampMs: 10_000 },
      { key: 'a', value: 'a2', timestampMs: 50_000 },
      // Out of order: stream time stays at 50 s.
      { key: 'a', value: 'a3', timestampMs: 5_000 },
      { key: 'a', value: 'a4', timestampMs: 59_000 },
      { key: 'a', value: 'a5', timestampMs: 70_000 },
    ]);
    await driver.assign([0]);
    for (let i = 0; i < 3; i++) expect(await driver.poll(0)).toBeUndefined();
    expect(driver.seen).toEqual(['open 0', 'process 0 [0-1]', 'process 0 [2-3]', 'process 0 [4-4]', 'punctuate 0 at 70000']);
    expect(driver.output('ticks')).toEqual(['0@70000']);
    expect(driver.kafka.calls.filter((c) => c.startsWith('commit'))).toHaveLength(3);
  });
});

describe('at least once', () => {
  test("a batch's offsets are committed only after the stage's work on it is done and its outputs sent", async () => {
    const { driver, stage } = setUp({ delivery: 'at-least-once' });
    const flushed = holdProcess(stage);
    driver.pipe(0, readings('a', [1, 2]));
    await driver.assign([0]);
    const polled = driver.poll(0);
    await driver.advance(0);
    expect(driver.committedOffset(0)).toBeUndefined();
    flushed.open();
    expect(await polled).toBeUndefined();
    expect(driver.kafka.calls).toEqual(['connect', 'send', 'commitOffsets 0@2']);
    expect(driver.committedOffset(0)).toBe('2');
  });

  test('a failed flush commits no offsets: the batch comes again', async () => {
    let failures = 1;
    const { driver, stage } = setUp({ delivery: 'at-least-once' });
    const process = stage.process;
    stage.process = async (partition, records, batch) => {
      if (failures-- > 0) throw new Error('the database is away');
      return process(partition, records, batch);
    };
    driver.pipe(0, readings('a', [1, 2]));
    await driver.assign([0]);
    expect((await driver.poll(0))?.message).toBe('the database is away');
    expect(driver.committedOffset(0)).toBeUndefined();
    expect(await driver.poll(0)).toBeUndefined();
    expect(driver.seen).toEqual(['open 0', 'process 0 [0-1]', 'close 0', 'open 0', 'process 0 [0-1]']);
    expect(driver.committedOffset(0)).toBe('2');
  });

  test('a batch that arrives after the runner halted is not processed: the stage is releasing its resources', async () => {
    const { driver } = setUp();
    driver.pipe(0, readings('a', [1]));
    await driver.assign([0]);
    await driver.stop();
    expect((await driver.poll(0))?.message).toMatch(/stopping/);
    expect(driver.seen).toEqual(['open 0', 'close 0']);
    expect(driver.committedOffset(0)).toBeUndefined();
  });

  test('a failed offset commit after the outputs were sent repeats the batch: at least once, not exactly', async () => {
    const { driver } = setUp({ delivery: 'at-least-once' });
    driver.pipe(0, readings('a', [1]));
    await driver.assign([0]);
    driver.kafka.failNext('commitOffsets');
    expect(await driver.poll(0)).toBeDefined();
    expect(await driver.poll(0)).toBeUndefined();
    expect(driver.output('out')).toEqual(['a1@0:0', 'a1@0:0']);
    expect(driver.committedOffset(0)).toBe('1');
  });
});

describe('consumer failures', () => {
  const transient = () => Object.assign(new Error('Connection error: ECONNREFUSED'), { name: 'KafkaJSConnectionError' });

  test('a failure kafkajs does not recover from reaches onFatal, after every task closed', async () => {
    const fatal: Error[] = [];
    const { driver } = setUp({}, { onFatal: (error) => fatal.push(error) });
    await driver.assign([0, 1]);
    const error = new Error('The producer is fenced');
    await driver.crash(error);
    expect(fatal).toEqual([error]);
    expect(driver.tasks.openPartitions()).toEqual([]);
    expect(driver.seen).toEqual(['open 0', 'open 1', 'close 0', 'close 1']);
  });

  test('Kafka away: no fatal error, the consumer rejoins after a backoff; a restart by kafkajs is left to it', async () => {
    const { driver } = setUp();
    await driver.assign([0]);
    await driver.crash(transient());
    await driver.advance(999);
    expect(driver.rejoins).toBe(0);
    await driver.advance(1);
    expect(driver.rejoins).toBe(1);
    await driver.crash(transient());
    await driver.advance(1999);
    expect(driver.rejoins).toBe(1);
    await driver.advance(1);
    expect(driver.rejoins).toBe(2);
    await driver.crash(new Error('rebalancing'), true);
    await driver.advance(60_000);
    expect(driver.rejoins).toBe(2);
    expect(driver.fatal).toEqual([]);
  });
});
