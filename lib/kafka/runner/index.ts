/**
 * The stage runner: a stage's callbacks over the partitions of its input topic, in a consumer
 * group, exactly once or at least once. types.ts is the vocabulary, task-queue.ts the tasks of
 * one member (no kafkajs), committers.ts the two delivery guarantees, group.ts the kafkajs
 * wiring (../confluent/group.ts the librdkafka one), test-driver.ts a broker-free driver for unit tests.
 */

import { kafkaClientName } from '../client';
import { runStageOnConfluent } from '../confluent/group';
import { runStage as runStageOnKafkajs } from './group';
import type { StageOptions, StageRunner } from './types';

export { headersAsText, incomingRecord } from './group';

/** Runs a stage on its input topic's partitions in a consumer group, on the client PDM_KAFKA_CLIENT names. */
export const runStage = (options: StageOptions): Promise<StageRunner> =>
  kafkaClientName() === 'confluent' ? runStageOnConfluent(options) : runStageOnKafkajs(options);
export type { BatchInfo, Delivery, IncomingRecord, StageCallbacks, StageOptions, StageRunner, TaskContext } from './types';

