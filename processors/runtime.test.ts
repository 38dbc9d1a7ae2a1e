import { processorSettings } from './runtime';

describe('the processors shared settings', () => {
  test('one partition at a time unless asked; more is a whole number from 1 to 64', () => {
    expect(processorSettings({}).partitionsConcurrently).toBe(1);
    expect(processorSettings({ PDM_PARTITIONS_CONCURRENTLY: '3' }).partitionsConcurrently).toBe(3);
    for (const bad of ['0', '2.5', '65', 'many']) expect(() => processorSettings({ PDM_PARTITIONS_CONCURRENTLY: bad })).toThrow('PDM_PARTITIONS_CONCURRENTLY');
  });
});
