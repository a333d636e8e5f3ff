import { randomUUID } from 'node:crypto';
import { CompressionTypes } from 'kafkajs';
import { createKafka } from '../kafka/config';
import { ensureTopics } from '../kafka/topics';

export interface KafkaThroughput {
  messages: number;
  message_bytes: number;
  produce_msgs_per_s: number;
  consume_msgs_per_s: number;
}

/**
 * Produces `messages` messages of `messageBytes` to a fresh topic (batches of 1,000, acks from all replicas,
 * idempotent), then consumes them all back, and reports both rates. The topic is deleted afterwards.
 */
export async function measureKafkaThroughput(messages: number, messageBytes = 200, bootstrapServers?: string): Promise<KafkaThroughput> {
  const kafka = createKafka('spark-ts-bench', bootstrapServers);
  const topic = `bench-kafka-${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [{ topic, numPartitions: 3, replicationFactor: 1 }]);
    const payload = 'x'.repeat(Math.max(0, messageBytes - 20));
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const batch = 1000;
    let produceSeconds: number;
    try {
      const t0 = performance.now();
      for (let sent = 0; sent < messages; sent += batch) {
        const n = Math.min(batch, messages - sent);
        await producer.send({
          topic,
          acks: -1,
          compression: CompressionTypes.None,
          messages: Array.from({ length: n }, (_, i) => ({ key: String((sent + i) % 100), value: `${sent + i}|${payload}` })),
        });
      }
      produceSeconds = (performance.now() - t0) / 1000;
    } finally {
      await producer.disconnect();
    }

    const consumer = kafka.consumer({ groupId: `${topic}-g`, maxBytes: 16 * 1024 * 1024 });
    // The clock starts once the consumer has joined its group (joining takes seconds and is not throughput),
    // so the first fetch counts in the time as its messages count in the total.
    let t1 = 0;
    consumer.on(consumer.events.GROUP_JOIN, () => (t1 = performance.now()));
    await consumer.connect();
    let consumeSeconds: number;
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      let received = 0;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`consumed only ${received} of ${messages} messages in 120 s`)), 120_000);
        consumer
          .run({
            eachBatch: async ({ batch: b }) => {
              received += b.messages.length;
              if (received >= messages) resolve();
            },
          })
          .catch(reject);
      }).finally(() => clearTimeout(timer));
      consumeSeconds = (performance.now() - t1) / 1000;
    } finally {
      await consumer.disconnect();
    }
    return {
      messages,
      message_bytes: messageBytes,
      produce_msgs_per_s: messages / produceSeconds,
      consume_msgs_per_s: messages / Math.max(consumeSeconds, 1e-6),
    };
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}
