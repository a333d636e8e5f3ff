import type { Kafka, Message, Producer } from 'kafkajs';
import { createKafka, resolveBootstrapServers } from '../kafka/config';
import { topicOffsets } from '../kafka/topics';
import { PerPartitionSender, topicPartitions, type PerPartitionSenderOptions } from '../kafka/produce';

/** How long connecting to an unreachable broker may take before a clear error. */
export const CONNECT_DEADLINE_MS = 10_000;

export class BrokerUnreachableError extends Error {
  constructor(
    readonly bootstrapServers: string,
    cause: unknown,
  ) {
    super(
      `cannot reach Kafka at ${bootstrapServers} within ${CONNECT_DEADLINE_MS / 1000} s: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = 'BrokerUnreachableError';
  }
}

/**
 * The fetch wait of the project's readers (kafkajs's default is 5 s). A consumer's disconnect waits for the
 * fetch in flight, so with the default every reader's stop took up to 5 s (measured 3.5 s on an idle topic).
 */
export const READER_MAX_WAIT_MS = 250;

/** A kafkajs client that gives up connecting quickly (the 10 s rule), with normal retries once connected. */
export function streamKafka(clientId: string, bootstrapServers?: string): Kafka {
  return createKafka(clientId, bootstrapServers, {
    connectionTimeout: 3000,
    retry: { initialRetryTime: 200, maxRetryTime: 2000, retries: 8 },
  });
}

/** Runs `connect` with the connect deadline; an unreachable broker becomes a BrokerUnreachableError. */
export async function connectWithin<T>(bootstrapServers: string | undefined, connect: () => Promise<T>): Promise<T> {
  const servers = resolveBootstrapServers(bootstrapServers);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), CONNECT_DEADLINE_MS);
      }),
    ]);
  } catch (e) {
    throw new BrokerUnreachableError(servers, e);
  } finally {
    clearTimeout(timer);
  }
}

// Topic creation that waits out a broker still propagating a new topic: one helper for the whole project.
export { ensureTopics } from '../kafka/topics';

/** The producer `connectIdempotentProducer` returns: a kafkajs producer with its per-partition sender. */
export type IdempotentProducer = Producer & { readonly perPartition: PerPartitionSender };

/**
 * An idempotent producer (acks from all in-sync replicas, one request in flight so retries cannot reorder
 * or duplicate), connected within the deadline. Send through `sendBatch`: one partition per request, every
 * ack checked (lib/kafka/produce.ts says why).
 */
export async function connectIdempotentProducer(
  kafka: Kafka,
  bootstrapServers?: string,
  opts: PerPartitionSenderOptions = {},
): Promise<IdempotentProducer> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await connectWithin(bootstrapServers, () => producer.connect());
  return Object.assign(producer, { perPartition: new PerPartitionSender(producer, topicPartitions(kafka), opts) });
}

/**
 * Sends one batch with acks=-1, one produce request per partition, each acknowledged or retried; resolves
 * with the count acked per partition, or rejects with a PartialSendError (which partitions were acked).
 */
export async function sendBatch(producer: IdempotentProducer, topic: string, messages: Message[]): Promise<Map<number, number>> {
  return producer.perPartition.send(topic, messages);
}

/** Every message of a topic from the beginning (tests, small topics): waits until `expected` or `idleMs` of silence. */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  opts: { expected?: number; idleMs?: number; timeoutMs?: number } = {},
): Promise<Array<{ key: string | null; value: string; timestamp: number; partition: number; offset: string }>> {
  const total = (await topicOffsets(kafka, [topic])).reduce((s, o) => s + o.high - o.low, 0);
  const out: Array<{ key: string | null; value: string; timestamp: number; partition: number; offset: string }> = [];
  if (total === 0) return out;
  const consumer = kafka.consumer({ groupId: `spark-ts-read-${topic}-${process.pid}-${Date.now()}`, maxWaitTimeInMs: READER_MAX_WAIT_MS });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(
        () => reject(new Error(`read ${out.length} of ${total} messages of ${topic} in time`)),
        opts.timeoutMs ?? 30_000,
      );
      void consumer
        .run({
          eachMessage: async ({ message, partition }) => {
            out.push({
              key: message.key ? message.key.toString() : null,
              value: message.value ? message.value.toString() : '',
              timestamp: Number(message.timestamp),
              partition,
              offset: message.offset,
            });
            if (out.length >= total) {
              clearTimeout(timeout);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}
