import fs from 'node:fs';
import path from 'node:path';
import type { Admin } from 'kafkajs';
import { sleep, type SparkSession, type StreamingQuery, type Trigger } from '../connect';
import { readJson, writeFileAtomic } from '../util/json';
import { connectWithin, ensureTopics, streamKafka } from './kafka';
import { topicOffsets } from '../kafka/topics';
import { AggregateLatencyTracker, LiveLatencyTracker, ProgressLog, formatLatency, writeReport, type BatchMetrics } from './metrics';
import {
  copySourceTopic,
  outputTopics,
  PARQUET_COPIES,
  startQueries,
  type OutputTopics,
  type ParquetCopy,
  type QueryName,
  type StartedQueries,
  type StreamPipelineOptions,
} from './pipeline';

export interface StreamRunOptions extends Omit<StreamPipelineOptions, 'trigger'> {
  trigger: Trigger;
  topics?: Partial<OutputTopics>;
  /** Trigger of the live query (processing-time runs only); default 500 ms. */
  liveTrigger?: Trigger;
  /** Trigger of the Parquet copies (processing-time runs only); default 5 s. */
  copyTrigger?: Trigger;
  /** Session settings of the live query (default SMALL_STATE_CONF in pipeline.ts). */
  liveConf?: Record<string, string>;
  /** Session settings of the Parquet copies (default SMALL_STATE_CONF in pipeline.ts). */
  copyConf?: Record<string, string>;
  /** Kafka bootstrap servers as this process sees them (latency consumer, topic checks). */
  localBootstrapServers: string;
  /** Where the metrics report goes (reports/stream-metrics.json). */
  metricsFile: string;
  /** Stop after this long (processing-time trigger); default: until the signal aborts. */
  durationMs?: number;
  /**
   * Stop once this run has read this many source records (processing-time trigger): a producer sending a
   * known count beside the job, as `make run` does. See `untilRecordsState`.
   */
  untilRecords?: number;
  /** How often progress is polled and a status line printed (ms). */
  statusEveryMs?: number;
}

export interface StreamRunContext {
  signal: AbortSignal;
  log(line: string): void;
  onShutdown(fn: () => Promise<void> | void): void;
}

export interface StreamRunResult {
  batches: ProgressLog;
  latency: AggregateLatencyTracker;
  live: LiveLatencyTracker;
  report: StreamMetricsReport;
}

export interface StreamMetricsReport {
  started_at: string;
  ended_at: string;
  options: Record<string, unknown>;
  queries: ReturnType<ProgressLog['summary']>;
  end_to_end_latency_ms: ReturnType<AggregateLatencyTracker['summary']>;
  live_latency_ms: ReturnType<LiveLatencyTracker['summary']>;
  /**
   * Messages this run wrote per output topic (its end offsets after the run minus before; a replayed batch
   * counts again, and so would another writer of the same topic). null when the offsets could not be read.
   */
  topic_messages_written: Record<string, number> | null;
  /**
   * Valid readings held by the closed 10 s windows this run wrote (their `readings`, each window once). The
   * other valid readings are in windows still open at the end (a later run closes them) or came later than
   * the watermark and were dropped: Spark counts no total of those (its numRowsDroppedByWatermark counts
   * partial aggregates, not readings).
   */
  readings_in_closed_windows: number;
  batches: ProgressLog['batches'];
}

/**
 * Runs the streaming job: checks Kafka, starts the queries, polls their progress, measures the
 * end-to-end latency, and stops every query on abort, after `durationMs`, or (available-now) when all have
 * finished. A query that fails stops the others and the error is rethrown. The metrics report is written
 * in every case.
 */
export async function runStreamJob(spark: SparkSession, o: StreamRunOptions, ctx: StreamRunContext): Promise<StreamRunResult> {
  const topics = outputTopics(o.topics);
  const batch = 'availableNow' in o.trigger || 'once' in o.trigger;
  const kafka = streamKafka('spark-ts-stream', o.localBootstrapServers);
  const admin = kafka.admin();
  // An unreachable broker fails here, within 10 s, instead of deep inside Spark's Kafka source much later.
  await connectWithin(o.localBootstrapServers, () => admin.connect());
  let copyStartingOffsets: Record<ParquetCopy, string>;
  const outputs = [topics.dlq, topics.aggregates, topics.aggregates1m, topics.alerts, topics.live];
  let endsBefore: Map<string, number> | undefined;
  try {
    await ensureTopics(admin, [o.topic, ...outputs]);
    // One read of the output topics' ends serves both the copies' first offsets and the run's message counts.
    const ends = await partitionEnds(admin, outputs);
    copyStartingOffsets = copyOffsets(o.checkpoint, topics, ends);
    endsBefore = new Map([...ends].map(([t, parts]) => [t, parts.reduce((a, p) => a + p.high, 0)]));
  } finally {
    await admin.disconnect();
  }
  await spark.conf.setAll({ ...STREAM_CONF, 'spark.sql.shuffle.partitions': String(o.shufflePartitions ?? 2) });
  const startedAt = new Date();
  const latency = new AggregateLatencyTracker(kafka, topics.aggregates);
  const live = new LiveLatencyTracker(kafka, topics.live);
  try {
    await latency.start();
    await live.start();
  } catch (e) {
    // Neither consumer may outlive a failed start (an in-process caller, such as the benchmark, goes on).
    await Promise.allSettled([latency.stop(), live.stop()]);
    throw e;
  }
  const progress = new ProgressLog();
  const started: StartedQueries = { queries: new Map(), names: new Map() };
  const queries = started.queries;
  const startOptions = {
    topics,
    copyStartingOffsets,
    live: !batch,
    liveTrigger: o.liveTrigger ?? LIVE_TRIGGER,
    copyTrigger: batch ? o.trigger : (o.copyTrigger ?? COPY_TRIGGER),
    liveConf: o.liveConf,
    copyConf: o.copyConf,
  };
  let stopping: Promise<void> | undefined;
  const stopQueries = async (names: QueryName[]) => {
    const results = await Promise.allSettled(names.map((n) => queries.get(n)?.stop()));
    return results.filter((r) => r.status === 'rejected').length;
  };
  /** The copies restarted with available-now, awaited (COPY_FLUSH_MS at most): true once all have ended; a failed one throws. */
  const flushCopies = async () => {
    await startQueries(spark, o, { ...startOptions, copyTrigger: { availableNow: true } }, PARQUET_COPIES, started);
    const deadline = Date.now() + COPY_FLUSH_MS;
    const pending = new Set(PARQUET_COPIES.flatMap((n) => queries.get(n) ?? []));
    while (pending.size && Date.now() < deadline) {
      for (const q of [...pending]) if (await q.awaitTermination(200)) pending.delete(q);
    }
    return pending.size === 0;
  };
  // A clean stop of a processing-time run first stops the queries that read the source, then lets the copies
  // take what those wrote, so the Parquet output is complete up to the stop.
  const stopAll = (flush = false) =>
    (stopping ??= (async () => {
      let failed = 0;
      if (flush && !batch) {
        failed += await stopQueries(['live', 'kafka']);
        // A copy's next trigger can be seconds away (its trigger is slow): each is restarted from its checkpoint
        // with available-now instead, which takes at once what the heavy query wrote and then ends.
        failed += await stopQueries([...PARQUET_COPIES]);
        const flushed = await flushCopies().catch((e: Error) => {
          ctx.log(`the Parquet copies could not be flushed: ${e.message}`);
          return false;
        });
        if (!flushed)
          ctx.log(
            `the Parquet copies did not all catch up (a copy failed, or ${COPY_FLUSH_MS / 1000} s passed); the next run copies the rest`,
          );
      }
      failed += await stopQueries([...queries.keys()]);
      if (failed) ctx.log(`${failed} queries did not stop cleanly`);
    })());
  ctx.onShutdown(async () => {
    await stopAll(true);
    await Promise.all([latency.stop(), live.stop()]);
  });
  // The last batch of every query; when a query ran several batches since the previous poll (or at the
  // end), its recent batches too, so no batch is missed (recentProgress is kept off the hot path: the
  // server serializes up to 100 progress reports per call).
  const lastBatch = new Map<QueryName, number>();
  const poll = async (all = false) => {
    for (const [name, q] of queries) {
      const last = await q.lastProgress().catch(() => null);
      const seen = lastBatch.get(name);
      // Before the first report seen, every earlier batch is a gap too (the live query runs several while the
      // others start; recentProgress keeps only the last 100).
      const gap = last && Number(last.batchId) > (seen ?? -1) + 1;
      const reports = all || gap ? await q.recentProgress().catch(() => []) : last ? [last] : [];
      for (const p of reports) progress.add(name, p);
      if (last) lastBatch.set(name, Number(last.batchId));
    }
  };
  let written: Record<string, number> | null = null;
  const writeMetrics = (): StreamMetricsReport => {
    const report: StreamMetricsReport = {
      started_at: startedAt.toISOString(),
      ended_at: new Date().toISOString(),
      options: {
        topic: o.topic,
        starting_offsets: o.startingOffsets,
        trigger: o.trigger,
        output: o.output,
        checkpoint: o.checkpoint,
        watermark_ms: o.watermarkMs,
        max_offsets_per_trigger: o.maxOffsetsPerTrigger ?? null,
        duration_ms: o.durationMs ?? null,
        until_records: o.untilRecords ?? null,
        shuffle_partitions: o.shufflePartitions ?? 2,
        live_trigger: batch ? null : (o.liveTrigger ?? LIVE_TRIGGER),
        copy_trigger: batch ? o.trigger : (o.copyTrigger ?? COPY_TRIGGER),
        topics,
        spark_conf: STREAM_CONF,
      },
      queries: progress.summary(),
      end_to_end_latency_ms: latency.summary(),
      live_latency_ms: live.summary(),
      topic_messages_written: written,
      readings_in_closed_windows: latency.readingsInClosedWindows(),
      batches: progress.batches,
    };
    writeReport(o.metricsFile, report);
    return report;
  };

  let failure: unknown;
  try {
    const t0 = Date.now();
    const every = o.statusEveryMs ?? 5000;
    let lastStatus = Date.now();
    let closingSince: number | undefined;
    if (batch) {
      // Available-now: the heavy query first; the copies then read what it wrote (each query ends by itself
      // once it has processed what was available at its start).
      for (const stage of [['kafka'], PARQUET_COPIES] as const) {
        if (ctx.signal.aborted) break;
        await startQueries(spark, o, startOptions, stage, started);
        ctx.log(`started ${stage.length} queries (${stage.join(', ')}); output ${o.output}, checkpoint ${o.checkpoint}`);
        const pending = new Set<QueryName>(stage);
        while (pending.size && !ctx.signal.aborted) {
          for (const name of [...pending]) {
            const q = queries.get(name) as StreamingQuery;
            if (await q.awaitTermination(200)) pending.delete(name);
          }
          await poll();
        }
        for (const name of stage) {
          const err = await queries.get(name)?.exception();
          if (err) throw Object.assign(err, { message: `query ${name} failed: ${err.message}` });
        }
      }
    } else {
      // The live query first (it is the one a reader waits for), then the copies, then the heavy query.
      const all: QueryName[] = ['live', ...PARQUET_COPIES, 'kafka'];
      await startQueries(spark, o, startOptions, ['live'], started);
      ctx.log('started the live query');
      await startQueries(spark, o, startOptions, all.slice(1), started);
      ctx.log(`started ${queries.size} queries (${all.join(', ')}); output ${o.output}, checkpoint ${o.checkpoint}`);
      for (;;) {
        await sleep(Math.min(1000, every), ctx.signal);
        if (ctx.signal.aborted) break;
        await poll();
        for (const [name, q] of queries) {
          const err = await q.exception();
          if (err) throw Object.assign(err, { message: `query ${name} failed: ${err.message}` });
        }
        if (Date.now() - lastStatus >= every) {
          lastStatus = Date.now();
          ctx.log(statusLine(progress.summary(), latency.summary(), live.summary(), !batch));
        }
        if (o.durationMs !== undefined && Date.now() - t0 >= o.durationMs) break;
        if (o.untilRecords !== undefined) {
          const state = untilRecordsState(progress.batches, o.untilRecords, queries.has('live'));
          if (state === 'done' || (state === 'closing' && (closingSince ??= Date.now()) <= Date.now() - CLOSING_WAIT_MS)) {
            ctx.log(
              `read ${o.untilRecords} source records${state === 'done' ? ' and closed the windows the watermark passed' : ''}: stopping`,
            );
            break;
          }
        }
      }
    }
  } catch (e) {
    failure = e;
  } finally {
    await poll().catch(() => undefined);
    await stopAll(!failure);
    await poll(true).catch(() => undefined);
    if (!failure) {
      // Latency is measured, not required: a tracker that could not keep up or join is reported, not fatal.
      const drained = await Promise.all([latency.drain(10_000), live.drain(10_000)]).catch((e: Error) => {
        ctx.log(`latency consumers: ${e.message}`);
        return null; // not the log function's result: a caller's log may return anything
      });
      if (drained?.includes(false))
        ctx.log('latency consumers: not every output message was received within 10 s; the latency figures cover those received');
    }
    await Promise.all([latency.stop(), live.stop()]);
    written = await messagesWritten(kafka, endsBefore).catch(() => null);
  }
  const report = writeMetrics();
  ctx.log(
    `metrics: ${path.relative(process.cwd(), o.metricsFile) || o.metricsFile}; ${statusLine(report.queries, report.end_to_end_latency_ms, report.live_latency_ms, !batch)}`,
  );
  const accounts = accountingLine(report.queries, written, topics, report.readings_in_closed_windows);
  if (accounts) ctx.log(accounts);
  if (failure) throw failure;
  return { batches: progress, latency, live, report };
}

/**
 * Where a run with `untilRecords` stands. `reading`: the heavy query (and the live query, when it runs)
 * has read fewer records than that. `closing`: both have read them; the heavy query has yet to run the batch
 * without input that follows, in which the watermark the last data batch set closes its windows (an
 * available-now run ends with the same batch). `done`: that batch ran. A last data batch that did not move
 * the watermark is followed by no such batch, so the job also stops after CLOSING_WAIT_MS in `closing`.
 */
export function untilRecordsState(batches: readonly BatchMetrics[], records: number, live: boolean): 'reading' | 'closing' | 'done' {
  let heavyRows = 0;
  let liveRows = 0;
  let closedAfter = false;
  for (const b of batches) {
    if (b.query === 'live') liveRows += b.sourceRows;
    else if (b.query === 'kafka') {
      if (heavyRows >= records && b.numInputRows === 0) closedAfter = true;
      heavyRows += b.sourceRows;
    }
  }
  if (heavyRows < records || (live && liveRows < records)) return 'reading';
  return closedAfter ? 'done' : 'closing';
}

/** How long a run with `untilRecords` waits for the closing batch (see untilRecordsState). */
const CLOSING_WAIT_MS = 5_000;

/** The live query's default trigger: short, its batches are small. */
export const LIVE_TRIGGER: Trigger = { processingTime: '500 milliseconds' };

/**
 * The Parquet copies' default trigger in processing-time runs: they carry closed windows only (at most one
 * per sensor every 10 s of event time), so a slow trigger saves the micro-batch overhead of three queries on
 * the cores the live query needs. A clean stop flushes them (COPY_FLUSH_MS at most).
 */
export const COPY_TRIGGER: Trigger = { processingTime: '5 seconds' };
const COPY_FLUSH_MS = 30_000;

/**
 * Session settings of the job's queries (fixed in a checkpoint at its first run): the RocksDB state store
 * with changelog checkpointing (each batch writes only its changes instead of a snapshot of the state).
 */
export const STREAM_CONF: Record<string, string> = {
  'spark.sql.streaming.stateStore.providerClass': 'org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider',
  'spark.sql.streaming.stateStore.rocksdb.changelogCheckpointing.enabled': 'true',
  // One memory budget for every RocksDB instance of the server (block cache and memtables), instead of
  // per-instance defaults that add up with each stateful operator and partition: the native memory of a
  // long run stays bounded.
  'spark.sql.streaming.stateStore.rocksdb.boundedMemoryUsage': 'true',
  'spark.sql.streaming.stateStore.rocksdb.maxMemoryUsageMB': '256',
  // The heavy query's branches share one exchange of whole classified records (pipeline.ts, sharedClassified);
  // nested-field pruning would give each branch a differently pruned exchange, and the source would be read
  // once per branch again.
  'spark.sql.optimizer.nestedSchemaPruning.enabled': 'false',
  'spark.sql.optimizer.expression.nestedPruning.enabled': 'false',
  // The 10 s aggregation keeps each window's readings (collect_list, an object aggregate): past 128 groups in
  // a task Spark gives up its hash map and sorts every row by group instead, and a 250k-reading batch has
  // thousands of groups (profiled: sorting and merging the sorted groups took 30 % of the heavy query's samples).
  'spark.sql.objectHashAggregate.sortBased.fallbackThreshold': '65536',
};

/**
 * Where each Parquet copy starts in its topic when its checkpoint is new: the topic's end before the heavy
 * query of this checkpoint first ran, kept in `<checkpoint>/copy-offsets.json` so that a restart (even with
 * a copy's own checkpoint missing) copies exactly what this job wrote, not older runs' messages.
 */
function copyOffsets(checkpoint: string, topics: OutputTopics, ends: TopicEnds): Record<ParquetCopy, string> {
  const file = path.join(checkpoint, 'copy-offsets.json');
  const kept = readJson<Record<ParquetCopy, string>>(file);
  if (kept && PARQUET_COPIES.every((c) => typeof kept[c] === 'string')) return kept;
  const out = {} as Record<ParquetCopy, string>;
  for (const c of PARQUET_COPIES) {
    const topic = copySourceTopic(c, topics);
    out[c] = JSON.stringify({ [topic]: Object.fromEntries((ends.get(topic) ?? []).map((p) => [String(p.partition), p.high])) });
  }
  fs.mkdirSync(checkpoint, { recursive: true });
  writeFileAtomic(file, `${JSON.stringify(out, null, 2)}\n`);
  return out;
}

/** Per topic, the end offset of each partition. */
type TopicEnds = Map<string, Array<{ partition: number; high: number }>>;

async function partitionEnds(admin: Admin, topics: string[]): Promise<TopicEnds> {
  const offsets = await Promise.all(topics.map((t) => admin.fetchTopicOffsets(t)));
  return new Map(topics.map((t, i) => [t, offsets[i]!.map((p) => ({ partition: p.partition, high: Number(p.high) }))]));
}

/** Per topic, the sum of its partitions' end offsets. */
async function topicEnds(kafka: ReturnType<typeof streamKafka>, topics: string[]): Promise<Map<string, number>> {
  const ends = new Map<string, number>(topics.map((t) => [t, 0]));
  for (const p of await topicOffsets(kafka, topics)) ends.set(p.topic, (ends.get(p.topic) ?? 0) + p.high);
  return ends;
}

async function messagesWritten(
  kafka: ReturnType<typeof streamKafka>,
  before: Map<string, number> | undefined,
): Promise<Record<string, number> | null> {
  if (!before) return null;
  const after = await topicEnds(kafka, [...before.keys()]);
  return Object.fromEntries([...before].map(([t, n]) => [t, (after.get(t) ?? n) - n]));
}

/**
 * What came in and where it went: the source records the heavy query read, those set aside to the DLQ (one
 * message per invalid record) and the valid rest; the closed windows and alerts written.
 */
function accountingLine(
  queries: ReturnType<ProgressLog['summary']>,
  written: Record<string, number> | null,
  topics: OutputTopics,
  inClosedWindows: number,
): string | undefined {
  const read = queries.kafka?.source_rows;
  if (read === undefined || !written) return undefined;
  const dlq = written[topics.dlq];
  const valid = read - dlq;
  return (
    `records: read ${read}, valid ${valid}, set aside ${dlq} (${topics.dlq}, each with its reason); ` +
    `wrote ${written[topics.aggregates]} closed 10 s windows, ${written[topics.aggregates1m]} closed 1 min windows, ${written[topics.alerts]} alerts; ` +
    `valid readings: ${inClosedWindows} in closed 10 s windows, ${valid - inClosedWindows} in windows still open at the end or later than the watermark`
  );
}

/**
 * The job's status line. A run without a live query (available-now: a backfill) has no live latency to
 * show: its only `sensor_aggregates_live` messages are the final rows, and their latency is the age of the
 * events replayed, so the line says so instead (in days when the backlog is that old).
 */
export function statusLine(
  queries: ReturnType<ProgressLog['summary']>,
  latency: ReturnType<AggregateLatencyTracker['summary']>,
  live: ReturnType<LiveLatencyTracker['summary']>,
  liveQuery: boolean,
): string {
  const a = queries.kafka;
  const l = latency.record_timestamp;
  const v = live.live;
  const fmt = (x: number | null | undefined) => (x === null || x === undefined ? '-' : Math.round(x).toString());
  const pct = (p: { p50: number | null; p95: number | null; p99: number | null }) =>
    `p50 ${formatLatency(p.p50)} p95 ${formatLatency(p.p95)} p99 ${formatLatency(p.p99)}`;
  return (
    `job: ${a?.batches ?? 0} batches, ${a?.input_rows ?? 0} rows, ${fmt(a?.processed_rows_per_s_mean)} rows/s, batch p50 ${fmt(a?.batch_duration_ms.p50)} ms` +
    (liveQuery ? ` | live latency (${v.count} updates) ${pct(v)}` : ' | no live query (available-now)') +
    ` | closed windows (${l.count}) ${liveQuery ? '' : 'event age at receipt '}${pct(l)}`
  );
}
