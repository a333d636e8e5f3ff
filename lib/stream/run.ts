import path from 'node:path';
import type { SparkSession, StreamingQuery, Trigger } from '../connect';
import { connectWithin, ensureTopics, streamKafka } from './kafka';
import { AggregateLatencyTracker, ProgressLog, writeReport } from './metrics';
import { startStreamPipeline, type QueryName, type StreamPipelineOptions } from './pipeline';
import { sleep } from './rate';
import { TOPICS } from './sensors';

export interface StreamRunOptions extends Omit<StreamPipelineOptions, 'topics' | 'trigger'> {
  trigger: Trigger;
  topics?: { dlq: string; aggregates: string; alerts: string };
  /** Kafka bootstrap servers as this process sees them (latency consumer, topic checks). */
  localBootstrapServers: string;
  /** Where the metrics report goes (reports/stream-metrics.json). */
  metricsFile: string;
  /** Stop after this long (processing-time trigger); default: until the signal aborts. */
  durationMs?: number;
  /** Shuffle partitions of the stateful queries (fixed in the checkpoint at the first run). */
  shufflePartitions?: number;
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
  report: StreamMetricsReport;
}

export interface StreamMetricsReport {
  started_at: string;
  ended_at: string;
  options: Record<string, unknown>;
  queries: ReturnType<ProgressLog['summary']>;
  end_to_end_latency_ms: ReturnType<AggregateLatencyTracker['summary']>;
  batches: ProgressLog['batches'];
}

/**
 * Runs the streaming job: checks Kafka, starts the queries, polls their progress, measures the
 * end-to-end latency, and stops every query on abort, after `durationMs`, or (available-now) when all have
 * finished. A query that fails stops the others and the error is rethrown. The metrics report is written
 * in every case.
 */
export async function runStreamJob(spark: SparkSession, o: StreamRunOptions, ctx: StreamRunContext): Promise<StreamRunResult> {
  const topics = o.topics ?? { dlq: TOPICS.dlq, aggregates: TOPICS.aggregates, alerts: TOPICS.alerts };
  const kafka = streamKafka('spark-ts-stream', o.localBootstrapServers);
  const admin = kafka.admin();
  // An unreachable broker fails here, within 10 s, instead of deep inside Spark's Kafka source much later.
  await connectWithin(o.localBootstrapServers, () => admin.connect());
  try {
    await ensureTopics(admin, [o.topic, topics.dlq, topics.aggregates, topics.alerts]);
  } finally {
    await admin.disconnect();
  }
  await spark.conf.set('spark.sql.shuffle.partitions', String(o.shufflePartitions ?? 2));
  const startedAt = new Date();
  const latency = new AggregateLatencyTracker(kafka, topics.aggregates);
  await latency.start();
  const progress = new ProgressLog();
  let queries = new Map<QueryName, StreamingQuery>();
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= (async () => {
      const results = await Promise.allSettled([...queries.values()].map((q) => q.stop()));
      const failed = results.filter((r) => r.status === 'rejected').length;
      if (failed) ctx.log(`${failed} queries did not stop cleanly`);
    })());
  ctx.onShutdown(async () => {
    await stopAll();
    await latency.stop();
  });
  const poll = async () => {
    for (const [name, q] of queries) progress.add(name, await q.lastProgress().catch(() => null));
  };
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
        shuffle_partitions: o.shufflePartitions ?? 2,
      },
      queries: progress.summary(),
      end_to_end_latency_ms: latency.summary(),
      batches: progress.batches,
    };
    writeReport(o.metricsFile, report);
    return report;
  };

  let failure: unknown;
  try {
    const started = await startStreamPipeline(spark, { ...o, topics });
    queries = started.queries;
    ctx.log(`started ${queries.size} queries (${[...queries.keys()].join(', ')}); output ${o.output}, checkpoint ${o.checkpoint}`);
    const t0 = Date.now();
    const every = o.statusEveryMs ?? 5000;
    let lastStatus = Date.now();
    if ('availableNow' in o.trigger || 'once' in o.trigger) {
      // Each query ends by itself once it has processed what was available at its start.
      const pending = new Set(queries.keys());
      while (pending.size && !ctx.signal.aborted) {
        for (const name of [...pending]) {
          const q = queries.get(name) as StreamingQuery;
          if (await q.awaitTermination(200)) pending.delete(name);
        }
        await poll();
      }
    } else {
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
          ctx.log(statusLine(progress, latency));
        }
        if (o.durationMs !== undefined && Date.now() - t0 >= o.durationMs) break;
      }
    }
  } catch (e) {
    failure = e;
  } finally {
    await poll().catch(() => undefined);
    await stopAll();
    await poll().catch(() => undefined);
    if (!failure) await latency.drain(1500, 10_000);
    await latency.stop();
  }
  const report = writeMetrics();
  ctx.log(`metrics: ${path.relative(process.cwd(), o.metricsFile) || o.metricsFile}; ${statusLine(progress, latency)}`);
  if (failure) throw failure;
  return { batches: progress, latency, report };
}

function statusLine(progress: ProgressLog, latency: AggregateLatencyTracker): string {
  const s = progress.summary();
  const a = s.aggregates_10s;
  const l = latency.summary().record_timestamp;
  const fmt = (x: number | null | undefined) => (x === null || x === undefined ? '-' : Math.round(x).toString());
  return (
    `aggregates_10s: ${a?.batches ?? 0} batches, ${a?.input_rows ?? 0} rows, ${fmt(a?.processed_rows_per_s_mean)} rows/s, batch p50 ${fmt(a?.batch_duration_ms.p50)} ms` +
    ` | e2e latency (${l.count} aggregates) p50 ${fmt(l.p50)} p95 ${fmt(l.p95)} p99 ${fmt(l.p99)} ms`
  );
}
