import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Consumer, EachBatchPayload, Producer, Admin, Message } from 'kafkajs';
import { createKafka } from '../kafka/config';
import { isRebalanceError, whileCoordinatorLoads } from '../kafka/errors';
import { ensureTopics } from '../kafka/topics';
import { writeFileAtomic } from './atomic';
import { parseMessage } from './envelope';
import { parseEncodedForModel, parseForModel, type FastEncoded } from './fast-envelope';
import { applyTruncate } from './truncate';
import { defaultSpec } from './features';
import { buildModelFile, evaluateState, type ModelFile, type StampedEvaluation } from './model-file';
import type { ModelConfig, StateSnapshot } from './state';
import { MODEL_FILE, STORE_FILE, StateDirLock, StateStore, StateStoreError } from './store';
import { sleep } from '../connect';

export const DEFAULT_TOPIC = 'customer_updates';
export const DEFAULT_HOLDOUT_PCT = 20;
export const DEFAULT_COMMIT_EVENTS = 50_000;
export const DEFAULT_COMMIT_MS = 1_000;
export const DEFAULT_DELETE_RETENTION = 100_000;
export const DEFAULT_SESSION_TIMEOUT_MS = 10_000;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1_000;
const FETCH_MAX_WAIT_MS = 500;

export interface ConsumerOptions {
  bootstrapServers?: string;
  topic: string;
  /** Default `<topic>_dlq`. */
  dlqTopic?: string;
  /** Default `spark-ts-cdc-<topic>`. */
  groupId?: string;
  stateDir: string;
  /** Ridge penalty; must be > 0 (the solve needs a positive-definite system). */
  lambda: number;
  /** Undefined: the store's (or the default) list. */
  features?: string[];
  decimals?: number;
  holdoutPct?: number;
  reset?: boolean;
  /** Stop after this many seconds without new events (undefined: run until aborted). */
  untilIdleSec?: number;
  /**
   * Stop once every event the topic held at the start is applied (a producer that has finished, as in
   * `make run`). The end is reached through the events' offsets: a topic ending in a transaction marker never
   * reaches it, so `untilIdleSec` remains the stop there.
   */
  untilEnd?: boolean;
  checkpointEvents: number;
  checkpointMs: number;
  /** Commit the state store after this many events (across partitions; default 50,000)... */
  commitEvents?: number;
  /** ...or this long after the last commit while events arrive (ms, default 1,000). */
  commitMs?: number;
  /** Deleted keys are forgotten once this many further offsets of their partition are consumed (default 100,000). */
  deleteRetention?: number;
  /** Start even when stored offsets are below the partition's low watermark (events lost to retention), with a warning. */
  allowRetentionGap?: boolean;
  /** How often to report progress (ms). */
  progressMs?: number;
  signal?: AbortSignal;
  log: (line: string) => void;
  /** Called with each progress sample (also logged as a line). */
  onProgress?: (p: ProgressSample) => void;
  /** Partitions of the topic when the consumer has to create it. */
  partitions?: number;
  /** Largest fetch per partition (bytes): bounds a batch (default 4 MiB). */
  maxBytesPerPartition?: number;
  /** Largest fetch response (bytes, all partitions; default kafkajs's 10 MiB). */
  maxBytes?: number;
  /**
   * Consumer-group session timeout (ms, default 10,000): a batch slower than this costs the group membership
   * (the consumer then rejoins). The broker accepts group.min.session.timeout.ms (6 s by default) and up.
   */
  sessionTimeoutMs?: number;
  /** Heartbeat interval (ms, default 1,000); kafkajs heartbeats between batches only. */
  heartbeatIntervalMs?: number;
  /**
   * For tests: awaited after each batch is applied and counted (and its DLQ records sent), before its commit
   * and heartbeat. A slow hook is a slow batch.
   */
  afterBatch?: (batch: { partition: number; events: number }) => Promise<void>;
}

/** Refuses a λ the solve cannot take: λ = 0 makes the system singular as soon as two features are collinear. */
export function lambdaProblem(lambda: number): string | undefined {
  return Number.isFinite(lambda) && lambda > 0 ? undefined : `--lambda must be a finite number > 0, got ${lambda}`;
}

/**
 * Checks the stored offsets against the partitions' watermarks. Stored > high: the topic was recreated
 * or truncated under the state (refused). Stored < low: events were deleted by retention before they were
 * applied (refused, or with allowGap a loud warning and the gap counted). Returns the next offset per partition.
 */
export function checkOffsets(
  topic: string,
  stored: Map<number, number>,
  watermarks: Array<{ partition: number; low: number; high: number }>,
  allowGap: boolean,
  warn: (line: string) => void,
): { next: Map<number, number>; lost: number } {
  const next = new Map<number, number>();
  const parts = new Set(watermarks.map((w) => w.partition));
  for (const p of stored.keys()) {
    if (!parts.has(p))
      throw new StateStoreError(
        `the state store has offsets for ${topic} partition ${p}, which the topic no longer has (recreated?): refusing to continue; pass --reset to rebuild from the topic`,
      );
  }
  let lost = 0;
  for (const w of watermarks) {
    const s = stored.get(w.partition);
    if (s === undefined) {
      next.set(w.partition, w.low);
      continue;
    }
    if (s > w.high) {
      throw new StateStoreError(
        `stored offset ${s} of ${topic} partition ${w.partition} is beyond the partition's end (high watermark ${w.high}): the topic was recreated or truncated under this state; refusing to continue (pass --reset to rebuild from the topic)`,
      );
    }
    if (s < w.low) {
      if (!allowGap) {
        throw new StateStoreError(
          `stored offset ${s} of ${topic} partition ${w.partition} is below the partition's start (low watermark ${w.low}): ${w.low - s} events were deleted by retention before they were applied, so the table would silently miss them; refusing to continue (pass --reset to rebuild from what the topic holds, or --allow-retention-gap to skip them)`,
        );
      }
      warn(
        `cdc-consume: WARNING: ${topic} partition ${w.partition}: offsets ${s}..${w.low - 1} (${w.low - s} events) were deleted by retention before they were applied; the table misses them (--allow-retention-gap)`,
      );
      lost += w.low - s;
      next.set(w.partition, w.low);
    } else next.set(w.partition, s);
  }
  return { next, lost };
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
  /** This process's CPU time (user + system) over that span (ms): what the events cost, start-up and idle tail excluded. */
  busy_cpu_ms: number;
}

function cpuMsBetween(a: NodeJS.CpuUsage | undefined, b: NodeJS.CpuUsage | undefined): number {
  return a && b ? (b.user - a.user + b.system - a.system) / 1000 : 0;
}

/**
 * The CDC consumer loop: kafkajs, manual offsets. Each fetched batch is applied to the in-memory state
 * (last writer wins by lsn, tombstones ignored, bad events to the DLQ with a reason, sent before the
 * batch counts as done). The state store is committed every `commitEvents` events or `commitMs` ms across
 * partitions: the touched keys, the statistics, the counters and the next offset of every partition in
 * one SQLite transaction; the offsets then go to Kafka too (lag display only; Kafka's offset is never
 * trusted on restart). model.json is written only from a snapshot taken at a commit, so it never holds
 * a batch that is not committed. Messages below the stored offset are dropped uncounted, so every offset
 * is applied exactly once.
 */
export async function runCdcConsumer(opts: ConsumerOptions): Promise<ConsumerSummary> {
  const bad = lambdaProblem(opts.lambda);
  if (bad) throw new StateStoreError(bad);
  const topic = opts.topic;
  const dlqTopic = opts.dlqTopic ?? `${topic}_dlq`;
  const groupId = opts.groupId ?? `spark-ts-cdc-${topic}`;
  const modelPath = path.join(opts.stateDir, MODEL_FILE);
  const defaults: ModelConfig = { ...defaultSpec(), holdoutPct: DEFAULT_HOLDOUT_PCT };
  const asked: Partial<ModelConfig> = { features: opts.features, decimals: opts.decimals, holdoutPct: opts.holdoutPct };
  const commitEvents = opts.commitEvents ?? DEFAULT_COMMIT_EVENTS;
  const commitMs = opts.commitMs ?? DEFAULT_COMMIT_MS;
  const retention = opts.deleteRetention ?? DEFAULT_DELETE_RETENTION;

  const kafka = createKafka('spark-ts-cdc-consume', opts.bootstrapServers);
  const admin: Admin = kafka.admin();
  await admin.connect();
  let lock: StateDirLock | undefined;
  let store: StateStore | undefined;
  let consumer: Consumer | undefined;
  let producer: Producer | undefined;
  try {
    await ensureTopics(admin, [
      { topic, numPartitions: opts.partitions ?? 3 },
      { topic: dlqTopic, numPartitions: 1 },
    ]);
    // One consumer per state directory, taken before anything is reset or read.
    lock = StateDirLock.acquire(opts.stateDir);
    const storeExists = fs.existsSync(path.join(opts.stateDir, STORE_FILE));
    if (opts.reset) {
      // Rewind first: a failure (a live member of the group) leaves the store untouched and is reported. A group
      // with no committed offset on the topic (a new one) has nothing to rewind; kafkajs's rewind joins the group
      // with a consumer and waits out one fetch (5 s) even then.
      const refused = (why: string) =>
        new StateStoreError(
          `--reset: could not rewind consumer group ${groupId} on ${topic}: ${why} (is another consumer of this group running?); nothing was deleted`,
        );
      const [described, committed] = await Promise.all([
        whileCoordinatorLoads(() => admin.describeGroups([groupId])),
        whileCoordinatorLoads(() => admin.fetchOffsets({ groupId, topics: [topic] })),
      ]);
      const members = described.groups.find((g) => g.groupId === groupId)?.members.length ?? 0;
      if (members > 0) throw refused(`the group has ${members} live member${members === 1 ? '' : 's'}`);
      if (committed.flatMap((t) => t.partitions).some((p) => Number(p.offset) >= 0))
        await whileCoordinatorLoads(() => admin.resetOffsets({ groupId, topic, earliest: true })).catch((e: Error) => {
          throw refused(e.message);
        });
    } else if (!storeExists && fs.existsSync(modelPath)) {
      throw new StateStoreError(
        `state store ${path.join(opts.stateDir, STORE_FILE)} is missing but ${modelPath} exists: refusing to start over existing data (pass --reset to start from the beginning of the topic)`,
      );
    } else if (!storeExists) {
      // Kafka remembers that this group consumed the topic: the state that went with it is gone.
      const group = await whileCoordinatorLoads(() => admin.fetchOffsets({ groupId, topics: [topic] }));
      if (group.flatMap((t) => t.partitions).some((p) => Number(p.offset) >= 0)) {
        throw new StateStoreError(
          `no state store in ${opts.stateDir}, but consumer group ${groupId} has already consumed ${topic}: refusing to start over silently (pass --reset to rebuild from the beginning of the topic)`,
        );
      }
    }
    const loaded = StateStore.open(opts.stateDir, { reset: opts.reset, config: asked, defaults, topic, lock });
    store = loaded.store;
    lock = undefined; // the store owns it now
    const state = loaded.state;
    const watermarks = (await admin.fetchTopicOffsets(topic)).map((w) => ({
      partition: w.partition,
      low: Number(w.low),
      high: Number(w.high),
    }));
    // Next offset to apply per partition: the stored one (checked against the watermarks), else the start.
    const checked = checkOffsets(topic, loaded.offsets, watermarks, opts.allowRetentionGap === true, opts.log);
    const next = checked.next;
    if (checked.lost) state.counters.offsets_lost += checked.lost;
    const high = new Map(watermarks.map((w) => [w.partition, w.high]));
    // Against the ends at the start (`watermarks`), not `high`, which follows the topic as events arrive.
    const readToEnd = () => watermarks.every((w) => (next.get(w.partition) ?? 0) >= w.high);
    const lagNow = () => [...high].reduce((s, [p, h]) => s + Math.max(0, h - (next.get(p) ?? 0)), 0);

    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    consumer = kafka.consumer({
      groupId,
      sessionTimeout: opts.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS,
      heartbeatInterval: opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
      // A fetch waits this long for data when the topic is quiet, and a stop waits for the fetch in flight: the
      // default (5 s) made every stop take 5 s. A fetch with data returns at once either way.
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
      maxBytesPerPartition: opts.maxBytesPerPartition ?? 4 * 1024 * 1024,
      maxBytes: opts.maxBytes ?? 10 * 1024 * 1024,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });

    const t0 = Date.now();
    let processed = 0;
    /** Events applied in memory and not yet committed to the store. */
    let pending = 0;
    let lastCommitAt = Date.now();
    /** Events committed since the last model.json. */
    let sinceCheckpoint = 0;
    let lastCheckpointAt = Date.now();
    let checkpoints = 0;
    let lastActivity = Date.now();
    let firstBatchAt: number | undefined;
    let lastBatchEnd = 0;
    let firstBatchCpu: NodeJS.CpuUsage | undefined;
    let lastBatchCpu: NodeJS.CpuUsage | undefined;
    let kafkaCommitWarned = false;
    let fatal: Error | undefined;
    let stopRequested = false;
    /** True while a batch is being applied (including its DLQ send): the live state is then ahead of the store. */
    let busy = false;
    /** True from a rebalance error handed back to kafkajs until the group is joined again. */
    let rejoining = false;
    let wake: () => void = () => undefined;

    // What model.json is built from: the state as of the last commit (the loaded state at start).
    let committed: { snap: StateSnapshot; offsets: Map<number, number> } = { snap: state.snapshot(), offsets: new Map(next) };
    let evaluation: StampedEvaluation = evaluateState(state, opts.lambda);
    let lastEvaluationAt = Date.now();

    const writeCheckpoint = () => {
      writeFileAtomic(
        modelPath,
        JSON.stringify(
          buildModelFile(committed.snap, state.config, state.scales, opts.lambda, committed.offsets, topic, evaluation),
          null,
          2,
        ) + '\n',
      );
      checkpoints++;
      sinceCheckpoint = 0;
      lastCheckpointAt = Date.now();
    };

    const commitKafka = (offsets: Map<number, number>) =>
      consumer!
        .commitOffsets([...offsets].map(([partition, offset]) => ({ topic, partition, offset: String(offset) })))
        .catch((e: Error) => {
          // Kafka's copy of the offsets is only for lag monitoring: a failure here (a rebalance) is not fatal.
          if (!kafkaCommitWarned) opts.log(`cdc-consume: could not commit offsets to Kafka (lag display only): ${e.message}`);
          kafkaCommitWarned = true;
        });

    /**
     * Commits everything applied so far and takes the snapshot checkpoints are built from. Synchronous
     * and only called when no batch is half-applied, so the live state is exactly what gets committed.
     * A checkpoint is the solve plus the write; the threshold and metrics (which score every row) are
     * recomputed at most every checkpointMs, and always at the final checkpoint.
     */
    const commitNow = (final = false): Promise<void> => {
      state.pruneDeleted(next, retention);
      store!.commit(state.takeDirty(), state, [...next]);
      sinceCheckpoint += pending;
      pending = 0;
      lastCommitAt = Date.now();
      committed = { snap: state.snapshot(), offsets: new Map(next) };
      if (final || Date.now() - lastEvaluationAt >= opts.checkpointMs) {
        evaluation = evaluateState(state, opts.lambda);
        lastEvaluationAt = Date.now();
      }
      if (final || sinceCheckpoint >= opts.checkpointEvents || Date.now() - lastCheckpointAt >= opts.checkpointMs) writeCheckpoint();
      return commitKafka(committed.offsets);
    };

    /** The fast path's result, reused for every message. */
    const fast: FastEncoded = { kind: 'event', id: null, op: 'd', lsn: -1, row: null };

    const eachBatch = async ({ batch, heartbeat }: EachBatchPayload) => {
      if (fatal || stopRequested) return;
      busy = true;
      /** Set once this batch's events are applied and accounted (next, pending, processed), or when it has none. */
      let accounted = false;
      let count = 0;
      try {
        const batchStart = Date.now();
        const batchCpu = firstBatchCpu === undefined ? process.cpuUsage() : undefined;
        const p = batch.partition;
        let expected = next.get(p) ?? 0;
        high.set(p, Number(batch.highWatermark));
        const dlq: Message[] = [];
        const config = state.config;
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset < expected) continue;
          expected = offset + 1;
          count++;
          // The byte-level fast path fused with the row encoder (the common case), then the fast path alone; anything
          // else (or anything doubtful) goes through parseMessage.
          if (parseEncodedForModel(m.key, m.value, config, fast)) {
            if (fast.kind === 'tombstone') state.counters.tombstones++;
            else state.applyEncoded(fast.id!, fast.lsn, fast.row, p, offset);
            continue;
          }
          const parsed = parseForModel(m.key, m.value, config) ?? parseMessage(m.key, m.value, config);
          if (parsed.kind === 'tombstone') {
            state.counters.tombstones++;
            continue;
          }
          if (parsed.kind === 'truncate') {
            applyTruncate(state, parsed.lsn, { partition: p, offset });
            continue;
          }
          let reason: string | undefined;
          let retracted = false;
          if (parsed.kind === 'invalid') reason = parsed.reason;
          else {
            const r = state.apply(parsed.id, parsed.event, { partition: p, offset });
            if (r.status === 'invalid') ({ reason, retracted } = r);
          }
          if (reason !== undefined) {
            state.counters.dlq++;
            dlq.push({
              key: m.key,
              value: JSON.stringify({
                reason,
                retracted,
                topic,
                partition: p,
                offset: m.offset,
                key: m.key?.toString() ?? null,
                value: m.value?.toString() ?? null,
              }),
              headers: retracted ? { reason, retracted: 'true' } : { reason },
            });
          }
        }
        if (count === 0) {
          accounted = true;
          return;
        }
        firstBatchAt ??= batchStart;
        firstBatchCpu ??= batchCpu;
        next.set(p, expected);
        // The DLQ is written before these events can be committed: a crash in between re-sends (at least once), never loses.
        if (dlq.length) await producer!.send({ topic: dlqTopic, messages: dlq });
        pending += count;
        processed += count;
        accounted = true;
        lastActivity = Date.now();
        await opts.afterBatch?.({ partition: p, events: count });
        if (pending >= commitEvents || Date.now() - lastCommitAt >= commitMs) await commitNow();
        lastBatchEnd = Date.now();
        lastBatchCpu = process.cpuUsage();
        // Idle is counted from the end of the last batch: a long commit (a loaded disk) is not idleness.
        lastActivity = lastBatchEnd;
        await heartbeat();
      } catch (e) {
        // A batch slower than the session timeout (a loaded machine) loses the group membership: the heartbeat then
        // fails with a rebalance error (so does the commit to Kafka, which commitKafka only warns about). That is not
        // fatal: rethrown, it makes kafkajs rejoin the group and fetch again. Nothing is lost or applied twice, because
        // this batch is entirely in memory and in `next` (a redelivered offset below `next` is skipped uncounted, and
        // after a rejoin the fetch starts at `next` anyway, see GROUP_JOIN below), its DLQ records are sent, and the
        // store commits it later like any batch. A rebalance error before the batch is accounted would leave it
        // half-applied, so it stays fatal (a restart resumes exactly from the store); so does anything else.
        if (accounted && isRebalanceError(e)) {
          opts.log(
            `cdc-consume: the consumer group is rebalancing (${e.type}: ${e.message}); rejoining. The batch of partition ${batch.partition} (${count} events) is applied and will not be applied again.`,
          );
          rejoining = true;
          throw e;
        }
        fatal = e as Error;
        wake();
      } finally {
        busy = false;
      }
    };

    // After every join (the first one and each rejoin after a rebalance), fetch each assigned partition from `next`
    // (what is applied; the store holds it from its next commit), never from Kafka's copy: commits to Kafka fail
    // while the group rebalances (commitKafka only warns), so Kafka's offsets can lag, and they are not trusted on
    // restart either. Without this a rejoin re-reads from Kafka's offset, and every re-read offset is skipped.
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      lastActivity = Date.now();
      rejoining = false;
      for (const partition of e.payload.memberAssignment[topic] ?? []) {
        const offset = next.get(partition);
        if (offset !== undefined) consumer!.seek({ topic, partition, offset: String(offset) });
      }
    });
    // kafkajs rejoins on its own too when a fetch or its heartbeat between batches meets a rebalance.
    consumer.on(consumer.events.REBALANCING, () => {
      rejoining = true;
    });
    consumer.on(consumer.events.CRASH, (e) => {
      fatal = fatal ?? (e.payload.error as Error);
      wake();
    });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: true, eachBatch });
    opts.log(
      `cdc-consume: ${loaded.created ? 'new state' : `resumed state (${state.tableRows} rows, n=${state.stats.n})`} in ${opts.stateDir}; topic ${topic} (${watermarks.length} partitions), DLQ ${dlqTopic}, group ${groupId}`,
    );

    let lastSampleAt = t0;
    let lastSampleEvents = 0;
    const progressMs = opts.progressMs ?? 2000;
    const sample = (): ProgressSample => {
      const now = Date.now();
      const s: ProgressSample = {
        elapsed_ms: now - t0,
        events: processed,
        events_per_s: ((processed - lastSampleEvents) * 1000) / Math.max(1, now - lastSampleAt),
        lag: lagNow(),
        n: state.stats.n,
        // On the hold-out rows only: no threshold, no scoring of the training rows.
        auc: state.holdoutAuc(state.model(opts.lambda)),
        rss_bytes: process.memoryUsage.rss(),
      };
      lastSampleAt = now;
      lastSampleEvents = processed;
      return s;
    };
    const report = (s: ProgressSample) => {
      opts.onProgress?.(s);
      const c = state.counters;
      opts.log(
        `cdc-consume: ${s.events} events, ${Math.round(s.events_per_s)} events/s, lag ${s.lag}, n ${s.n}, AUC ${s.auc === null ? '-' : s.auc.toFixed(4)}, applied ${c.events_applied}, skipped ${c.events_skipped}, dlq ${c.dlq} (${c.dlq_retracted} retracted a row), pruned deletes ${c.deletes_pruned}${c.offsets_lost ? `, LOST to retention ${c.offsets_lost}` : ''}`,
      );
    };

    await new Promise<void>((resolve) => {
      const onAbort = () => {
        stopRequested = true;
        finish();
      };
      const tick = setInterval(() => {
        if (fatal) return finish();
        // A batch in progress or a rejoin (which can wait for the other members) is not idleness, however long it takes.
        if (opts.untilIdleSec !== undefined && !busy && !rejoining && Date.now() - lastActivity >= opts.untilIdleSec * 1000)
          return finish();
        if (opts.untilEnd && !busy && readToEnd()) return finish();
        if (Date.now() - lastSampleAt >= progressMs) report(sample());
        try {
          // Never from the live state while a batch is half-applied: commit only between batches.
          if (!busy && pending > 0 && Date.now() - lastCommitAt >= commitMs) void commitNow();
          else if (sinceCheckpoint > 0 && Date.now() - lastCheckpointAt >= opts.checkpointMs) writeCheckpoint();
        } catch (e) {
          fatal = e as Error;
          return finish();
        }
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
    // Let a batch that is being applied finish (or fail) before the last commit.
    while (busy) await sleep(10);
    if (fatal) throw fatal;
    await commitNow(true);
    await consumer.disconnect();
    consumer = undefined;
    report(sample());
    const model = buildModelFile(committed.snap, state.config, state.scales, opts.lambda, committed.offsets, topic, evaluation);
    return {
      model,
      events_processed: processed,
      checkpoints,
      elapsed_ms: Date.now() - t0,
      busy_ms: firstBatchAt === undefined ? 0 : lastBatchEnd - firstBatchAt,
      busy_cpu_ms: cpuMsBetween(firstBatchCpu, lastBatchCpu),
    };
  } finally {
    await consumer?.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    store?.close();
    lock?.release();
  }
}
