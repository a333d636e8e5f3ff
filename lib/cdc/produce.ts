import type { Message } from 'kafkajs';
import { createKafka } from '../kafka/config';
import { ensureTopics } from '../kafka/topics';
import { PerPartitionSender, topicPartitions } from '../kafka/produce';
import type { CdcMessage } from './generator';
import { sleep } from '../connect';

export interface ProduceOptions {
  bootstrapServers?: string;
  topic: string;
  /** Messages per second; 0 = as fast as possible. */
  rate: number;
  /** Partitions when the topic has to be created. */
  partitions?: number;
  signal?: AbortSignal;
  /** Called after each sent batch with the running count. */
  onProgress?: (sent: number, byKind: Record<CdcMessage['kind'], number>) => void;
}

export interface ProduceSummary {
  sent: number;
  by_kind: Record<CdcMessage['kind'], number>;
  elapsed_ms: number;
  /** True when stopped early by the signal. */
  interrupted: boolean;
}

const BATCH = 1000;

/**
 * Sends a CDC message stream in order through one idempotent producer (one request in flight, one
 * partition per request, so each key's events stay in order on their partition), paced to `rate`
 * messages per second.
 */
export async function produceChanges(messages: Iterable<CdcMessage>, opts: ProduceOptions): Promise<ProduceSummary> {
  const kafka = createKafka('spark-ts-cdc-produce', opts.bootstrapServers);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [opts.topic], opts.partitions ?? 3);
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  // One partition per produce request, every ack checked (lib/kafka/produce.ts says why); a batch not
  // acknowledged in time fails the run.
  const sender = new PerPartitionSender(producer, topicPartitions(kafka));
  const byKind: Record<CdcMessage['kind'], number> = {
    snapshot: 0,
    insert: 0,
    update: 0,
    delete: 0,
    tombstone: 0,
    replay: 0,
    malformed: 0,
  };
  const t0 = Date.now();
  let sent = 0;
  let interrupted = false;
  const batchSize = opts.rate > 0 ? Math.max(1, Math.min(BATCH, Math.floor(opts.rate / 10))) : BATCH;
  let batch: Message[] = [];
  let batchKinds: CdcMessage['kind'][] = [];
  // Kinds are counted once their batch is acknowledged, so by_kind always adds up to `sent`.
  const flush = async () => {
    if (!batch.length) return;
    if (opts.rate > 0) {
      const due = t0 + ((sent + batch.length) * 1000) / opts.rate;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
    }
    await sender.send(opts.topic, batch);
    sent += batch.length;
    for (const kind of batchKinds) byKind[kind]++;
    batch = [];
    batchKinds = [];
    opts.onProgress?.(sent, byKind);
  };
  try {
    for (const m of messages) {
      if (opts.signal?.aborted) {
        interrupted = true;
        break;
      }
      batch.push({ key: m.key, value: m.value });
      batchKinds.push(m.kind);
      if (batch.length >= batchSize) await flush();
    }
    if (!interrupted) await flush();
    else batch = [];
  } finally {
    await producer.disconnect();
  }
  return { sent, by_kind: byKind, elapsed_ms: Date.now() - t0, interrupted };
}
