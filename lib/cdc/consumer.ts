import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Consumer, EachBatchPayload, Producer, Admin, Message } from 'kafkajs';
import { createKafka } from '../kafka/config';
import { writeFileAtomic } from './atomic';
import { parseMessage } from './envelope';
import { applyTruncate } from './truncate';
import { defaultSpec } from './features';
import { buildModelFile, type ModelFile } from './model-file';
import type { KeyState, ModelConfig } from './state';
import { MODEL_FILE, STORE_FILE, StateStore, StateStoreError } from './store';

export const DEFAULT_TOPIC = 'customer_updates';
export const DEFAULT_HOLDOUT_PCT = 20;

export interface ConsumerOptions {
  bootstrapServers?: string;
  topic: string;
  /** Default `<topic>_dlq`. */
  dlqTopic?: string;
  /** Default `spark-ts-cdc-<topic>`. */
  groupId?: string;
  stateDir: string;
  lambda: number;
  /** Undefined: the store's (or the default) list. */
  features?: string[];
  decimals?: number;
  holdoutPct?: number;
  reset?: boolean;
  /** Stop after this many seconds without new events (undefined: run until aborted). */
  untilIdleSec?: number;
  checkpointEvents: number;
  checkpointMs: number;
  /** How often to report progress (ms). */
  progressMs?: number;
  signal?: AbortSignal;
  log: (line: string) => void;
  /** Called with each progress sample (also logged as a line). */
  onProgress?: (p: ProgressSample) => void;
  /** Partitions of the topic when the consumer has to create it. */
  partitions?: number;
  /** Largest fetch per partition (bytes): bounds a batch, so one transaction (default 4 MiB). */
  maxBytesPerPartition?: number;
}

export interface ProgressSample {
  elapsed_ms: number;
  events: number;
  events_per_s: number;
  lag: number;
  n: number;
  auc: number | null;
  rss_bytes: number;
}

export interface ConsumerSummary {
  model: ModelFile;
  events_processed: number;
  checkpoints: number;
  elapsed_ms: number;
  /** Wall-clock span from the start of the first applied batch to the end of the last one (ms). */
  busy_ms: number;
}

/**
 * The CDC consumer loop: kafkajs, manual offsets. Per fetched batch it applies every message to the
 * in-memory state (last writer wins by lsn, tombstones ignored, bad events to the DLQ with a reason),
 * then commits the touched keys, the statistics and the next offset in one SQLite transaction, then
 * commits the offset to Kafka too (so lag is visible; Kafka's offset is never trusted on restart).
 * Messages below the stored offset (a fetch that started before the seek took effect, a rebalance) are
 * dropped uncounted, so every offset is applied exactly once.
 */
export async function runCdcConsumer(opts: ConsumerOptions): Promise<ConsumerSummary> {
  const topic = opts.topic;
  const dlqTopic = opts.dlqTopic ?? `${topic}_dlq`;
  const groupId = opts.groupId ?? `spark-ts-cdc-${topic}`;
  const modelPath = path.join(opts.stateDir, MODEL_FILE);
  const defaults: ModelConfig = { ...defaultSpec(), holdoutPct: DEFAULT_HOLDOUT_PCT };
  const asked: Partial<ModelConfig> = { features: opts.features, decimals: opts.decimals, holdoutPct: opts.holdoutPct };

  const kafka = createKafka('spark-ts-cdc-consume', opts.bootstrapServers);
  const admin: Admin = kafka.admin();
  await admin.connect();
  let store: StateStore | undefined;
  let consumer: Consumer | undefined;
  let producer: Producer | undefined;
  try {
    const existing = await admin.listTopics();
    const create = [topic, dlqTopic].filter((t) => !existing.includes(t));
    if (create.length) {
      await admin.createTopics({ topics: create.map((t) => ({ topic: t, numPartitions: t === topic ? (opts.partitions ?? 3) : 1 })), waitForLeaders: true });
    }
    const storeExists = fs.existsSync(path.join(opts.stateDir, STORE_FILE));
    if (opts.reset) {
      await admin.resetOffsets({ groupId, topic, earliest: true }).catch(() => undefined);
    } else if (!storeExists && fs.existsSync(modelPath)) {
      throw new StateStoreError(`state store ${path.join(opts.stateDir, STORE_FILE)} is missing but ${modelPath} exists: refusing to start over existing data (pass --reset to start from the beginning of the topic)`);
    } else if (!storeExists) {
      // Kafka remembers that this group consumed the topic: the state that went with it is gone.
      const group = await admin.fetchOffsets({ groupId, topics: [topic] });
      if (group.flatMap((t) => t.partitions).some((p) => Number(p.offset) >= 0)) {
        throw new StateStoreError(
          `no state store in ${opts.stateDir}, but consumer group ${groupId} has already consumed ${topic}: refusing to start over silently (pass --reset to rebuild from the beginning of the topic)`,
        );
      }
    }
    const loaded = StateStore.open(opts.stateDir, { reset: opts.reset, config: asked, defaults, topic });
    store = loaded.store;
    const state = loaded.state;
    const committed = loaded.offsets;
    const watermarks = await admin.fetchTopicOffsets(topic);
    // Next offset to apply per partition: the stored one, else the start of the partition.
    const next = new Map<number, number>();
    const high = new Map<number, number>();
    for (const w of watermarks) {
      next.set(w.partition, committed.get(w.partition) ?? Number(w.low));
      high.set(w.partition, Number(w.high));
    }
    const lagNow = () => [...high].reduce((s, [p, h]) => s + Math.max(0, h - (next.get(p) ?? 0)), 0);

    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxBytesPerPartition: opts.maxBytesPerPartition ?? 4 * 1024 * 1024 });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });

    const t0 = Date.now();
    let processed = 0;
    let sinceCheckpoint = 0;
    let lastCheckpointAt = Date.now();
    let checkpoints = 0;
    let lastActivity = Date.now();
    let firstBatchAt: number | undefined;
    let lastBatchEnd = 0;
    let kafkaCommitWarned = false;
    let fatal: Error | undefined;
    let stopRequested = false;
    let wake: () => void = () => undefined;

    const checkpoint = () => {
      writeFileAtomic(modelPath, JSON.stringify(buildModelFile(state, opts.lambda, next, topic), null, 2) + '\n');
      checkpoints++;
      sinceCheckpoint = 0;
      lastCheckpointAt = Date.now();
    };

    const eachBatch = async ({ batch, heartbeat }: EachBatchPayload) => {
      if (fatal || stopRequested) return;
      try {
        const batchStart = Date.now();
        const p = batch.partition;
        let expected = next.get(p) ?? 0;
        high.set(p, Number(batch.highWatermark));
        const dirty = new Map<number, KeyState>();
        const dlq: Message[] = [];
        let count = 0;
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset < expected) continue;
          expected = offset + 1;
          count++;
          const parsed = parseMessage(m.key, m.value, state.config);
          if (parsed.kind === 'tombstone') {
            state.counters.tombstones++;
            continue;
          }
          if (parsed.kind === 'truncate') {
            for (const id of applyTruncate(state, parsed.lsn)) dirty.set(id, state.keys.get(id)!);
            continue;
          }
          let reason: string | undefined;
          if (parsed.kind === 'invalid') reason = parsed.reason;
          else {
            const r = state.apply(parsed.id, parsed.event);
            if (r.status === 'invalid') reason = r.reason;
            else if (r.status === 'applied') dirty.set(parsed.id, state.keys.get(parsed.id)!);
          }
          if (reason !== undefined) {
            state.counters.dlq++;
            dlq.push({
              key: m.key,
              value: JSON.stringify({ reason, topic, partition: p, offset: m.offset, key: m.key?.toString() ?? null, value: m.value?.toString() ?? null }),
              headers: { reason },
            });
          }
        }
        if (count === 0) return;
        firstBatchAt ??= batchStart;
        // The DLQ is written before the state commits: a crash in between re-sends (at least once), never loses.
        if (dlq.length) await producer!.send({ topic: dlqTopic, messages: dlq });
        store!.commit(dirty, state, [[p, expected]]);
        next.set(p, expected);
        processed += count;
        sinceCheckpoint += count;
        lastActivity = Date.now();
        // Kafka's copy of the offset is only for lag monitoring: a failure here (a rebalance) is not fatal.
        await consumer!.commitOffsets([{ topic, partition: p, offset: String(expected) }]).catch((e: Error) => {
          if (!kafkaCommitWarned) opts.log(`cdc-consume: could not commit offsets to Kafka (lag display only): ${e.message}`);
          kafkaCommitWarned = true;
        });
        if (sinceCheckpoint >= opts.checkpointEvents || Date.now() - lastCheckpointAt >= opts.checkpointMs) checkpoint();
        lastBatchEnd = Date.now();
        await heartbeat();
      } catch (e) {
        fatal = e as Error;
        wake();
      }
    };

    consumer.on(consumer.events.GROUP_JOIN, () => {
      lastActivity = Date.now();
    });
    consumer.on(consumer.events.CRASH, (e) => {
      fatal = fatal ?? (e.payload.error as Error);
      wake();
    });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: true, eachBatch });
    for (const [partition, offset] of next) consumer.seek({ topic, partition, offset: String(offset) });
    opts.log(
      `cdc-consume: ${loaded.created ? 'new state' : `resumed state (${state.liveRows().length} rows, n=${state.stats.n})`} in ${opts.stateDir}; topic ${topic} (${watermarks.length} partitions), DLQ ${dlqTopic}, group ${groupId}`,
    );

    let lastSampleAt = t0;
    let lastSampleEvents = 0;
    const progressMs = opts.progressMs ?? 2000;
    const sample = (): ProgressSample => {
      const now = Date.now();
      const model = state.model(opts.lambda);
      const auc = state.evaluate(model).holdout.roc_auc;
      const s: ProgressSample = {
        elapsed_ms: now - t0,
        events: processed,
        events_per_s: ((processed - lastSampleEvents) * 1000) / Math.max(1, now - lastSampleAt),
        lag: lagNow(),
        n: state.stats.n,
        auc,
        rss_bytes: process.memoryUsage.rss(),
      };
      lastSampleAt = now;
      lastSampleEvents = processed;
      return s;
    };
    const report = (s: ProgressSample) => {
      opts.onProgress?.(s);
      opts.log(
        `cdc-consume: ${s.events} events, ${Math.round(s.events_per_s)} events/s, lag ${s.lag}, n ${s.n}, AUC ${s.auc === null ? '-' : s.auc.toFixed(4)}, applied ${state.counters.events_applied}, skipped ${state.counters.events_skipped}, dlq ${state.counters.dlq}`,
      );
    };

    await new Promise<void>((resolve) => {
      const onAbort = () => {
        stopRequested = true;
        finish();
      };
      const tick = setInterval(() => {
        if (fatal) return finish();
        if (opts.untilIdleSec !== undefined && Date.now() - lastActivity >= opts.untilIdleSec * 1000) return finish();
        if (Date.now() - lastSampleAt >= progressMs) report(sample());
        if (sinceCheckpoint > 0 && Date.now() - lastCheckpointAt >= opts.checkpointMs) checkpoint();
      }, 100);
      function finish() {
        clearInterval(tick);
        opts.signal?.removeEventListener('abort', onAbort);
        resolve();
      }
      wake = finish;
      if (opts.signal?.aborted) return finish();
      opts.signal?.addEventListener('abort', onAbort);
    });
    stopRequested = true;
    await consumer.disconnect();
    consumer = undefined;
    if (fatal) throw fatal;
    report(sample());
    checkpoint();
    const model = buildModelFile(state, opts.lambda, next, topic);
    return { model, events_processed: processed, checkpoints, elapsed_ms: Date.now() - t0, busy_ms: firstBatchAt === undefined ? 0 : lastBatchEnd - firstBatchAt };
  } finally {
    await consumer?.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    store?.close();
  }
}
