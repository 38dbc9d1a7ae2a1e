import { assignedAfter, chunksBySize, handOverTime, interleave, lastAssignment, nextIndexes, perSecond, renderScaleTable, type OffsetSample, type ScaleRow } from './scale';

const sample = (atMs: number, offsets: Record<number, number>): OffsetSample => ({ atMs, committed: new Map(Object.entries(offsets).map(([p, o]) => [Number(p), o])) });

describe('the hand-over time', () => {
  const baseline = new Map([
    [0, 100],
    [3, 40],
  ]);

  test('per partition of the stopped process: from the signal to the first sample past what was committed when it was gone', () => {
    const samples = [sample(900, { 0: 101, 3: 41 }), sample(1000, { 0: 100, 3: 40 }), sample(7100, { 0: 100, 3: 55 }), sample(7200, { 0: 180, 3: 60 })];
    expect(handOverTime(samples, 1000, baseline, [0, 3])).toEqual({
      partitions: [
        { partition: 0, ms: 6200 },
        { partition: 3, ms: 6100 },
      ],
      maxMs: 6200,
    });
  });

  test('a sample before the signal never counts, however far it is', () => {
    expect(handOverTime([sample(500, { 0: 500 })], 1000, baseline, [0]).maxMs).toBeUndefined();
  });

  test('a partition that never moved leaves the whole hand-over undefined', () => {
    const result = handOverTime([sample(2000, { 0: 150, 3: 40 })], 1000, baseline, [0, 3]);
    expect(result.partitions).toEqual([
      { partition: 0, ms: 1000 },
      { partition: 3, ms: undefined },
    ]);
    expect(result.maxMs).toBeUndefined();
  });

  test('a partition never committed before moves with its first commit', () => {
    expect(handOverTime([sample(1500, {}), sample(2500, { 5: 0 })], 1000, new Map(), [5])).toEqual({ partitions: [{ partition: 5, ms: 1500 }], maxMs: 1500 });
  });
});

describe('the partitions a process was last assigned', () => {
  const line = (topic: string, partitions: number[], msg = 'partitions assigned') => JSON.stringify({ level: 30, component: 'runner', topic, partitions, msg });

  test('the last assignment of the topic, other topics and lines ignored', () => {
    const log = [line('a', [0, 1, 2, 3, 4, 5]), line('b', [9]), '{"msg":"partition restored","partition":1}', line('a', [2, 5]), line('b', [7]), '{"msg":"partitions assig'].join('\n');
    expect(lastAssignment(log, 'a')).toEqual([2, 5]);
    expect(lastAssignment(log, 'b')).toEqual([7]);
  });

  test('none logged: undefined; a rebalance that left it nothing: empty', () => {
    expect(lastAssignment('', 'a')).toBeUndefined();
    expect(lastAssignment(line('a', []), 'a')).toEqual([]);
  });
});

describe('when a survivor was given the partitions', () => {
  const line = (time: string, topic: string, partitions: number[]) => JSON.stringify({ time, topic, partitions, msg: 'partitions assigned' });
  const since = Date.parse('2026-12-03T18:00:00.000Z');

  test('per partition, the first assignment after the signal in any survivor log, of that topic only', () => {
    const a = [line('2026-12-03T17:59:59.000Z', 't', [0, 1, 2]), line('2026-12-03T18:00:31.500Z', 't', [0, 2])].join('\n');
    const b = [line('2026-12-03T18:00:30.250Z', 'other', [1]), line('2026-12-03T18:00:33.000Z', 't', [1, 2]), 'not json "partitions assigned"'].join('\n');
    expect(assignedAfter([a, b], 't', [1, 2, 4], since)).toEqual(
      new Map([
        [1, 33_000],
        [2, 31_500],
        [4, undefined],
      ]),
    );
  });
});

describe('the copied input', () => {
  test('partitions in turn, each in its own order, however uneven', () => {
    expect(interleave([2, 0, 3])).toEqual([
      { partition: 0, index: 0 },
      { partition: 2, index: 0 },
      { partition: 0, index: 1 },
      { partition: 2, index: 1 },
      { partition: 2, index: 2 },
    ]);
    expect(interleave([])).toEqual([]);
  });

  test('requests under a size, every record in one of them, a record larger than the limit alone', () => {
    expect(chunksBySize([400, 400, 400, 1500, 100], 1000)).toEqual([
      [0, 2],
      [2, 3],
      [3, 4],
      [4, 5],
    ]);
    expect(chunksBySize([], 1000)).toEqual([]);
  });
});

describe('the paced feed', () => {
  test('the next records after the cursor, round and round a small source', () => {
    expect(nextIndexes(5, 0, 3)).toEqual([0, 1, 2]);
    expect(nextIndexes(5, 3, 4)).toEqual([3, 4, 0, 1]);
    expect(nextIndexes(2, 7, 3)).toEqual([1, 0, 1]);
    expect(nextIndexes(0, 0, 3)).toEqual([]);
  });
});

describe('the table', () => {
  const row: ScaleRow = {
    service: 'window',
    unit: 'readings',
    input: 864_000,
    drains: [
      { instances: 1, records: 800_000, seconds: 8, startSeconds: 3 },
      { instances: 2, records: 700_000, seconds: 5, startSeconds: 3 },
      { instances: 3, records: 600_000, seconds: 4, startSeconds: 3 },
    ],
    sigkill: { partitions: [{ partition: 0, ms: 31_000, assignedMs: 30_100 }, { partition: 3, ms: 32_400, assignedMs: 30_200 }], maxMs: 32_400 },
    sigterm: { partitions: [{ partition: 1, ms: 900 }], maxMs: 900 },
  };

  test('records/s of each group size from what the formed group read, the speed-up, and the slowest partition of each hand-over', () => {
    expect(perSecond(800_000, 8)).toBe(100_000);
    expect(renderScaleTable([row], [1, 2, 3])).toEqual([
      '| service (input) | 1 instance /s | 2 instances /s | 3 instances /s | 3 vs 1 | hand-over SIGKILL | hand-over SIGTERM |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      '| window (864,000 readings) | 100,000 | 140,000 | 150,000 | 1.50x | 32.4 s (2 partitions, assigned after 30.2 s) | 0.9 s (1 partition) |',
    ]);
  });

  test('what was not measured shows as a dash; a partition never taken over as never', () => {
    const partial: ScaleRow = { ...row, drains: [row.drains[0]!], sigkill: { partitions: [{ partition: 0, ms: undefined }], maxMs: undefined }, sigterm: undefined };
    expect(renderScaleTable([partial], [1, 2, 3])[2]).toBe('| window (864,000 readings) | 100,000 | - | - | - | never (1 partition) | - |');
  });
});
