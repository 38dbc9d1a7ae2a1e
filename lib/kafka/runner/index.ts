/**
 * The stage runner: a stage's callbacks over the partitions of its input topic, in a consumer
 * group, exactly once or at least once. types.ts is the vocabulary, task-queue.ts the tasks of
 * one member (no kafkajs), committers.ts the two delivery guarantees, group.ts the kafkajs
 * wiring, test-driver.ts a broker-free driver for unit tests.
 */

export { runStage, headersAsText } from './group';
export type { BatchInfo, Delivery, IncomingRecord, StageCallbacks, StageOptions, StageRunner, TaskContext } from './types';

