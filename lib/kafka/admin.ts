import { ConfigResourceTypes, type Admin } from 'kafkajs';
import { PdmError } from '../errors';
import { diffTopic, type TopicReport, type TopicSpec } from '../topics';
import { createKafka, type KafkaConnection } from './client';

/** Broker ids and controller of a cluster, or an error when no broker answers in time. */
export async function describeCluster(connection: KafkaConnection, timeoutMs = 3000, retries = 0): Promise<{ brokers: number; controller: number | null; clusterId: string }> {
  const admin = createKafka(connection, { connectionTimeoutMs: timeoutMs, retries }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return { brokers: cluster.brokers.length, controller: cluster.controller, clusterId: cluster.clusterId };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Creates missing topics with their configuration and reports existing ones whose partitions or
 * configuration differ from the spec. It never changes an existing topic: a drift is for a person
 * to decide on.
 */
export async function ensureTopics(connection: KafkaConnection, specs: readonly TopicSpec[]): Promise<TopicReport[]> {
  const admin = createKafka(connection).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.name));
    if (missing.length > 0) {
      const create = (specs: readonly TopicSpec[]) =>
        admin.createTopics({
          waitForLeaders: true,
          topics: specs.map((spec) => ({
            topic: spec.name,
            numPartitions: spec.partitions,
            replicationFactor: spec.replicationFactor,
            configEntries: Object.entries(spec.config).map(([name, value]) => ({ name, value })),
          })),
        });
      await create(missing)
        .catch(async (cause: unknown) => {
          // A broker that has just started can answer kafkajs's wait for leaders with a retriable
          // "does not host this topic-partition" while the topics are being created: wait for them.
          if (!(cause as { retriable?: boolean }).retriable) throw cause;
          await waitForTopics(admin, missing, 30_000).catch((waited: Error) => {
            throw new PdmError('KAFKA_ADMIN', `${(cause as Error).message}; then ${waited.message}`);
          });
        })
        .catch((cause: unknown) => {
          throw new PdmError('KAFKA_ADMIN', `creating topics ${missing.map((s) => s.name).join(', ')} failed: ${(cause as Error).message}`, { cause });
        });
    }
    const reports: TopicReport[] = [];
    for (const spec of specs) {
      if (!existing.has(spec.name)) {
        reports.push({ topic: spec.name, status: 'created', differences: [] });
        continue;
      }
      const actual = await readTopic(admin, spec);
      const differences = diffTopic(spec, actual);
      reports.push({ topic: spec.name, status: differences.length === 0 ? 'ok' : 'drift', differences });
    }
    return reports;
  } finally {
    await admin.disconnect();
  }
}

/** Until every topic has all its partitions with a leader; rejects after `timeoutMs`. */
async function waitForTopics(admin: Admin, specs: readonly TopicSpec[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await admin
      .fetchTopicMetadata({ topics: specs.map((s) => s.name) })
      .then((m) => specs.every((spec) => m.topics.find((t) => t.name === spec.name)?.partitions.filter((p) => p.leader >= 0).length === spec.partitions))
      .catch(() => false);
    if (ready) return;
    if (Date.now() > deadline) throw new PdmError('KAFKA_ADMIN', `topics without leaders after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function readTopic(admin: Admin, spec: TopicSpec): Promise<{ partitions: number; config: Record<string, string> }> {
  const metadata = await admin.fetchTopicMetadata({ topics: [spec.name] });
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: spec.name, configNames: Object.keys(spec.config) }],
  });
  const config: Record<string, string> = {};
  for (const entry of described.resources[0]?.configEntries ?? []) config[entry.configName] = entry.configValue;
  return { partitions: metadata.topics[0]?.partitions.length ?? 0, config };
}

export async function deleteTopics(connection: KafkaConnection, topics: string[]): Promise<void> {
  const admin = createKafka(connection).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  } finally {
    await admin.disconnect();
  }
}

/** Partitions of a topic, or undefined when it does not exist. */
export async function partitionCount(connection: KafkaConnection, topic: string): Promise<number | undefined> {
  const admin = createKafka(connection).admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return undefined;
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    return metadata.topics[0]?.partitions.length;
  } finally {
    await admin.disconnect();
  }
}

/**
 * The partitions of each topic a service needs, in one admin round; a missing one stops the
 * service with what to do (services never create the contract's topics themselves).
 */
export async function requireTopics(connection: KafkaConnection, topics: readonly string[]): Promise<Map<string, number>> {
  const admin = createKafka(connection).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      const others = missing.length > 1 ? ` (also missing: ${missing.slice(1).join(', ')})` : '';
      throw new PdmError('TOPIC_MISSING', `topic ${missing[0]} does not exist: run \`npx pdmctl topics\` first${others}`);
    }
    const metadata = await admin.fetchTopicMetadata({ topics: [...new Set(topics)] });
    return new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
  } finally {
    await admin.disconnect();
  }
}

export interface GroupProgress {
  /** Records of the topic the group has committed past, summed over partitions. */
  committed: number;
  /** Records in the topic (end offsets summed). */
  end: number;
}

/** Asks, as often as needed on one connection, how far consumer groups have committed through a topic. */
export interface GroupWatcher {
  progress(groupId: string, topic: string): Promise<GroupProgress>;
  close(): Promise<void>;
}

export async function openGroupWatcher(connection: KafkaConnection): Promise<GroupWatcher> {
  const admin = createKafka(connection).admin();
  await admin.connect();
  return {
    async progress(groupId, topic) {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const ends = await admin.fetchTopicOffsets(topic);
      const committed = (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      const end = ends.reduce((sum, p) => sum + Number(p.high), 0);
      return { committed, end };
    },
    close: () => admin.disconnect(),
  };
}

/** Records in a topic: its partitions' end offsets summed (0 for a topic never written to). */
export async function topicEndOffset(connection: KafkaConnection, topic: string): Promise<number> {
  const admin = createKafka(connection).admin();
  try {
    await admin.connect();
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** How far a consumer group has committed through a topic, on a connection of its own. */
export async function groupProgress(connection: KafkaConnection, groupId: string, topic: string): Promise<GroupProgress> {
  const watcher = await openGroupWatcher(connection);
  try {
    return await watcher.progress(groupId, topic);
  } finally {
    await watcher.close();
  }
}

/** A consumer group's members and state, as the coordinator describes it. */
export interface GroupDescription {
  groupId: string;
  state: string;
  members: number;
}

/** Per-partition views of groups and topics, on one admin connection (the benchmarks that watch a group hand partitions over). */
export interface GroupInspector {
  /** Committed offset of each partition of `topic` the group has committed on. */
  committed(groupId: string, topic: string): Promise<Map<number, number>>;
  /** End offset (high watermark) of each partition of `topic`. */
  ends(topic: string): Promise<Map<number, number>>;
  describe(groupIds: string[]): Promise<GroupDescription[]>;
  groups(): Promise<string[]>;
  topics(): Promise<string[]>;
  deleteGroups(groupIds: string[]): Promise<void>;
  close(): Promise<void>;
}

export async function openGroupInspector(connection: KafkaConnection): Promise<GroupInspector> {
  const admin = createKafka(connection).admin();
  await admin.connect();
  return {
    async committed(groupId, topic) {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return new Map((offsets?.partitions ?? []).filter((p) => Number(p.offset) >= 0).map((p) => [p.partition, Number(p.offset)]));
    },
    async ends(topic) {
      return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
    },
    async describe(groupIds) {
      const { groups } = await admin.describeGroups(groupIds);
      return groups.map((g) => ({ groupId: g.groupId, state: g.state, members: g.members.length }));
    },
    groups: async () => (await admin.listGroups()).groups.map((g) => g.groupId),
    topics: () => admin.listTopics(),
    async deleteGroups(groupIds) {
      if (groupIds.length > 0) await admin.deleteGroups(groupIds);
    },
    close: () => admin.disconnect(),
  };
}
