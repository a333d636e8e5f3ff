import type { Admin, Kafka } from 'kafkajs';
import { errorMessage } from '../util/errors';
import { kafkaErrorType } from './errors';
import { retryWithBackoff } from './retry';

/** A topic to create when missing: its partition count (else the caller's default) and replication factor (else the broker's). */
export interface TopicSpec {
  readonly topic: string;
  readonly numPartitions?: number;
  readonly replicationFactor?: number;
}

/** How long `ensureTopics` waits for every partition of the topics to have a leader. */
export const TOPIC_READY_DEADLINE_MS = 30_000;

/**
 * Errors a broker returns while a topic it just created is still propagating. kafkajs's own
 * `createTopics({ waitForLeaders: true })` retries only LEADER_NOT_AVAILABLE and fails on the other, which a
 * busy broker (a large data directory) returns for a while after the create.
 */
const PROPAGATING = new Set(['LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION', 'NOT_LEADER_OR_FOLLOWER', 'NOT_LEADER_FOR_PARTITION']);

/**
 * Creates the topics that do not exist yet and returns once every partition of every listed topic has a
 * leader that serves it (its offsets can be listed), so a producer or consumer started next finds them. A topic created meanwhile by another process
 * counts as existing.
 */
export async function ensureTopics(
  admin: Admin,
  topics: ReadonlyArray<string | TopicSpec>,
  numPartitions = 3,
  deadlineMs = TOPIC_READY_DEADLINE_MS,
): Promise<void> {
  const specs = topics.map((t) => (typeof t === 'string' ? { topic: t } : t));
  const names = specs.map((s) => s.topic);
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length) {
    try {
      await admin.createTopics({
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.numPartitions ?? numPartitions,
          ...(s.replicationFactor ? { replicationFactor: s.replicationFactor } : {}),
        })),
        waitForLeaders: false,
      });
    } catch (e) {
      const all = (e as { errors?: unknown[] }).errors;
      const raced =
        kafkaErrorType(e) === 'TOPIC_ALREADY_EXISTS' ||
        (Array.isArray(all) && all.every((x) => kafkaErrorType(x) === 'TOPIC_ALREADY_EXISTS'));
      if (!raced) throw e;
    }
  }
  await waitForLeaders(admin, names, deadlineMs);
}

/** Polls metadata until every partition of `topics` has a leader; a propagating error is retried, any other thrown. */
async function waitForLeaders(admin: Admin, topics: string[], deadlineMs: number): Promise<void> {
  let last = 'no metadata yet';
  await retryWithBackoff(
    async () => {
      const meta = await admin.fetchTopicMetadata({ topics });
      const leaderless = meta.topics.flatMap((t) => t.partitions.filter((p) => p.leader < 0).map((p) => `${t.name}[${p.partitionId}]`));
      const absent = topics.filter((t) => !meta.topics.some((m) => m.name === t && m.partitions.length > 0));
      if (leaderless.length || absent.length) {
        last = `no leader yet for ${[...absent, ...leaderless].join(', ')}`;
        return undefined;
      }
      // Metadata can name a leader before that broker serves the partition (ListOffsets then answers
      // NOT_LEADER_FOR_PARTITION for a while, measured on a busy broker): ask each leader itself.
      for (const t of topics) await admin.fetchTopicOffsets(t);
      return { value: undefined };
    },
    { firstMs: 50, maxMs: 1000, deadlineMs },
    (e) => PROPAGATING.has(kafkaErrorType(e) ?? ''),
    (e) =>
      new Error(`topics ${topics.join(', ')} were not ready within ${deadlineMs / 1000} s: ${e === undefined ? last : errorMessage(e)}`),
  );
}

/** One partition's offsets: the first one kept (low) and the next one to be written (high). */
export interface PartitionOffsets {
  readonly topic: string;
  readonly partition: number;
  readonly low: number;
  readonly high: number;
}

/** The offsets of every partition of `topics`, through an admin client of its own (connected, then closed). */
export async function topicOffsets(kafka: Kafka, topics: readonly string[]): Promise<PartitionOffsets[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await Promise.all(topics.map((topic) => admin.fetchTopicOffsets(topic)));
    return topics.flatMap((topic, i) =>
      offsets[i]!.map((p) => ({ topic, partition: p.partition, low: Number(p.low), high: Number(p.high) })),
    );
  } finally {
    await admin.disconnect();
  }
}
