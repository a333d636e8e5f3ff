import type { Message } from 'kafkajs';
import { connectIdempotentProducer, connectWithin, ensureTopics, sendBatch, streamKafka } from './kafka';
import { PartialSendError } from '../kafka/produce';
import { SensorSimulator, type EventKind, type SimulatedEvent, type SimulationOptions } from './simulate';
import { TokenBucket } from './rate';
import { errorMessage } from '../util/errors';

export interface ProduceOptions extends SimulationOptions {
  topic: string;
  bootstrapServers?: string;
  /** Messages per second; 0 = as fast as possible. */
  rate: number;
  /** Stop after this many messages (undefined: no limit). */
  count?: number;
  /** Stop after this many ms (undefined: no limit). */
  durationMs?: number;
  /** Largest batch per send (default 1000). */
  maxBatch?: number;
  /** Partitions of the topic when it has to be created (default 3). */
  partitions?: number;
  /** Event time of on-time readings (default Date.now). */
  clock?: () => number;
  /** How long one partition's request is retried before its messages count as failed (default 60 s). */
  retryDeadlineMs?: number;
}

export interface ProduceProgress {
  sent: number;
  failed: number;
  elapsedMs: number;
  /** Messages per second over the whole run so far. */
  rate: number;
}

export interface ProduceSummary extends ProduceProgress {
  topic: string;
  counts: Record<EventKind, number>;
  /** The exact events sent (only with `record: true`). */
  events: SimulatedEvent[];
  /** Messages acknowledged per partition (by all in-sync replicas): what the broker must hold. */
  sentByPartition: Record<number, number>;
  /** The last send error, if any batch failed. */
  lastError?: string;
}

/**
 * Simulates sensors and sends their readings to Kafka, paced by a token bucket, in batches, with the
 * idempotent producer and acks=-1. Stops at `count`, after `durationMs`, or when `signal` aborts, and
 * always returns a summary (a failed batch counts as failed and production goes on).
 */
export async function produceSensorData(
  opts: ProduceOptions,
  hooks: { signal?: AbortSignal; onProgress?: (p: ProduceProgress) => void; log?: (line: string) => void } = {},
): Promise<ProduceSummary> {
  const sim = new SensorSimulator(opts);
  const kafka = streamKafka('spark-ts-stream-produce', opts.bootstrapServers);
  const admin = kafka.admin();
  await connectWithin(opts.bootstrapServers, () => admin.connect());
  try {
    await ensureTopics(admin, [opts.topic], opts.partitions ?? 3);
  } finally {
    await admin.disconnect();
  }
  const producer = await connectIdempotentProducer(kafka, opts.bootstrapServers, {
    retryDeadlineMs: opts.retryDeadlineMs,
    onRetry: (topic, partition, e) => hooks.log?.(`retrying ${topic}/${partition}: ${errorMessage(e)}`),
  });
  const clock = opts.clock ?? Date.now;
  const maxBatch = opts.maxBatch ?? 1000;
  // About 20 sends per second at low rates keeps pacing smooth; never more than maxBatch per send.
  const batchSize = opts.rate > 0 ? Math.max(1, Math.min(maxBatch, Math.ceil(opts.rate / 20))) : maxBatch;
  const bucket = new TokenBucket(opts.rate, Math.max(batchSize, opts.rate / 10));
  const started = performance.now();
  let sent = 0;
  let failed = 0;
  const sentByPartition: Record<number, number> = {};
  const acked = (m: Map<number, number>) => {
    for (const [p, n] of m) {
      sentByPartition[p] = (sentByPartition[p] ?? 0) + n;
      sent += n;
    }
  };
  let lastError: string | undefined;
  let lastProgress = 0;
  const progress = (): ProduceProgress => {
    const elapsedMs = performance.now() - started;
    return { sent, failed, elapsedMs, rate: sent / Math.max(elapsedMs / 1000, 1e-9) };
  };
  try {
    for (;;) {
      if (hooks.signal?.aborted) break;
      if (opts.durationMs !== undefined && performance.now() - started >= opts.durationMs) break;
      const done = sent + failed;
      if (opts.count !== undefined && done >= opts.count) break;
      const n = opts.count !== undefined ? Math.min(batchSize, opts.count - done) : batchSize;
      if (!(await bucket.take(n, hooks.signal))) break;
      const messages: Message[] = [];
      for (let i = 0; i < n; i++) {
        const e = sim.next(clock());
        messages.push({ key: e.key, value: e.value });
      }
      try {
        acked(await sendBatch(producer, opts.topic, messages));
      } catch (e) {
        // The partitions that were acknowledged count as sent, the others as failed.
        const lost = e instanceof PartialSendError ? (acked(e.acked), e.failedCount) : n;
        failed += lost;
        lastError = errorMessage(e);
        hooks.log?.(`send failed (${lost} messages counted as failed): ${lastError}`);
      }
      const now = performance.now();
      if (hooks.onProgress && now - lastProgress >= 100) {
        lastProgress = now;
        hooks.onProgress(progress());
      }
    }
  } finally {
    await producer.disconnect();
  }
  const p = progress();
  hooks.onProgress?.(p);
  return { ...p, topic: opts.topic, counts: { ...sim.counts }, events: sim.events, sentByPartition, ...(lastError ? { lastError } : {}) };
}
