import {
  CompressionTypes,
  Partitioners,
  type Kafka,
  type Message,
  type PartitionMetadata,
  type Producer,
  type RecordMetadata,
} from 'kafkajs';
import { sleep } from '../connect';

/**
 * Sending with one partition per produce request, every ack checked.
 *
 * Why: kafkajs 2.2.4 (src/producer/sendMessages.js) keeps one response per *broker* across the retries of a
 * send. When a send spans partitions led by several brokers and one leader dies, the retry skips every
 * broker that already answered — and if a dead leader's partition moved to such a broker, its messages are
 * never re-sent, yet `send` resolves: acked messages lost. With one partition per `send` call a request
 * has one leader, so a retry always goes to the partition's current leader. Partitioning is done here with
 * kafkajs's own DefaultPartitioner (the Java client's murmur2), so a key lands on the partition it always
 * did; the messages of one partition keep their order (one request per partition at a time, batches one
 * after another, the idempotent producer with one request in flight).
 */

/** Partition metadata of a topic (fetched once per topic and cached: the topics here never grow). */
export type PartitionsOf = (topic: string) => Promise<PartitionMetadata[]>;

/** A cached `PartitionsOf` that asks the cluster with a short-lived admin client. */
export function topicPartitions(kafka: Kafka): PartitionsOf {
  const cache = new Map<string, Promise<PartitionMetadata[]>>();
  return (topic) => {
    let p = cache.get(topic);
    if (!p) {
      p = (async () => {
        const admin = kafka.admin();
        await admin.connect();
        try {
          const meta = await admin.fetchTopicMetadata({ topics: [topic] });
          const partitions = meta.topics.find((t) => t.name === topic)?.partitions ?? [];
          if (!partitions.length) throw new Error(`topic ${topic} has no partitions (does it exist?)`);
          return partitions;
        } finally {
          await admin.disconnect();
        }
      })();
      cache.set(topic, p);
      p.catch(() => cache.delete(topic)); // ask again next time
    }
    return p;
  };
}

/** The messages of a batch grouped by the partition the default partitioner picks, each group in batch order. */
export function groupByPartition(
  topic: string,
  partitionMetadata: PartitionMetadata[],
  messages: Message[],
  partitioner = Partitioners.DefaultPartitioner(),
): Map<number, Message[]> {
  const out = new Map<number, Message[]>();
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    let list = out.get(partition);
    if (!list) out.set(partition, (list = []));
    list.push(message);
  }
  return out;
}

/** Some partitions of a batch were not acknowledged in time; the others were (counts per partition). */
export class PartialSendError extends Error {
  constructor(
    readonly topic: string,
    readonly acked: Map<number, number>,
    readonly failed: Map<number, number>,
    readonly reason: unknown,
  ) {
    const n = [...failed.values()].reduce((a, b) => a + b, 0);
    super(
      `${n} message(s) to ${topic} (partition(s) ${[...failed.keys()].join(', ')}) not acknowledged: ${reason instanceof Error ? reason.message : String(reason)}`,
    );
    this.name = 'PartialSendError';
  }
  get failedCount(): number {
    return [...this.failed.values()].reduce((a, b) => a + b, 0);
  }
}

export interface PerPartitionSenderOptions {
  /** How long one partition's request is retried (beyond kafkajs's own retries) before it counts as failed (default 60 s). */
  retryDeadlineMs?: number;
  /** Pause between those retries (default 500 ms). */
  retryPauseMs?: number;
  /** Told about each retried request. */
  onRetry?: (topic: string, partition: number, error: unknown) => void;
}

/** The ack of one partition's request: its response entry, checked. */
function checkAck(topic: string, partition: number, response: RecordMetadata[]): RecordMetadata {
  const ack = response.filter((r) => r.topicName === topic && r.partition === partition);
  if (ack.length !== 1)
    throw new Error(`no acknowledgement for ${topic}/${partition} in the produce response (${response.length} entries)`);
  const [r] = ack;
  if (r.errorCode !== 0) throw new Error(`${topic}/${partition} answered error code ${r.errorCode}`);
  if (r.baseOffset === undefined || r.baseOffset === null || Number(r.baseOffset) < 0)
    throw new Error(`${topic}/${partition} acknowledged without an offset`);
  return r;
}

/**
 * Sends batches through an (idempotent, acks=all) producer, one produce request per partition, the
 * partitions of a batch concurrently, each request's response checked and retried until acknowledged or
 * the deadline. Resending after a failed request is safe with the idempotent producer: kafkajs rolls the
 * partition's sequence number back, so a batch the broker did write is recognised as a duplicate.
 */
export class PerPartitionSender {
  private readonly partitioner = Partitioners.DefaultPartitioner();

  constructor(
    private readonly producer: Pick<Producer, 'send'>,
    private readonly partitionsOf: PartitionsOf,
    private readonly opts: PerPartitionSenderOptions = {},
  ) {}

  /** Resolves with the acked count per partition; rejects with a PartialSendError if any partition failed. */
  async send(topic: string, messages: Message[]): Promise<Map<number, number>> {
    const acked = new Map<number, number>();
    if (!messages.length) return acked;
    const groups = groupByPartition(topic, await this.partitionsOf(topic), messages, this.partitioner);
    const failed = new Map<number, number>();
    let cause: unknown;
    await Promise.all(
      [...groups].map(async ([partition, list]) => {
        try {
          await this.sendPartition(topic, partition, list);
          acked.set(partition, list.length);
        } catch (e) {
          failed.set(partition, list.length);
          cause ??= e;
        }
      }),
    );
    if (failed.size) throw new PartialSendError(topic, acked, failed, cause);
    return acked;
  }

  private async sendPartition(topic: string, partition: number, messages: Message[]): Promise<RecordMetadata> {
    const deadline = Date.now() + (this.opts.retryDeadlineMs ?? 60_000);
    const withPartition = messages.map((m) => ({ ...m, partition }));
    for (;;) {
      try {
        const response = await this.producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages: withPartition });
        return checkAck(topic, partition, response);
      } catch (e) {
        if (Date.now() >= deadline) throw e;
        this.opts.onRetry?.(topic, partition, e);
        await sleep(this.opts.retryPauseMs ?? 500);
      }
    }
  }
}
