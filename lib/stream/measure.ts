// The measures of scripts/bench/stream.ts (its command line) and of `make bench` (lib/bench/suite.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { SparkSession, sleep } from '../connect';
import { streamKafka } from './kafka';
import { functions } from '../connect';
import { percentiles } from './metrics';
import { slopePerMinute } from '../measure/stats';
import { jvmMemory, liveHeapMiB, type JvmMemory } from '../measure/jvm';
import { produceSensorData, type ProduceSummary } from './producer';
import { runStreamJob, STREAM_CONF, type StreamRunOptions } from './run';
import { READING_SCHEMA_DDL } from './sensors';
import { KAFKA_SOURCE_OPTIONS, outputTopics } from './pipeline';
import { readSparkState } from '../runtime/spark-server';
import { rssBytes } from '../runtime/process';

export interface StreamRateResult {
  target_msgs_per_s: number;
  duration_s: number;
  produced: number;
  produce_failed: number;
  achieved_msgs_per_s: number;
  /** Source records the heavy query read, over the run, and per second of run time. */
  processed_rows: number;
  processed_rows_per_s: number;
  /** Mean of Spark's processedRowsPerSecond over batches with data (heavy query, per source record). */
  spark_processed_rows_per_s_mean: number | null;
  batches: number;
  batch_duration_ms: ReturnType<typeof percentiles>;
  /** Closed windows: latest event → sensor_aggregates record (Kafka timestamp). */
  e2e_latency_ms: ReturnType<typeof percentiles>;
  /** The running updates (final false) of sensor_aggregates_live: receipt − last_event_ts. */
  live_latency_ms: ReturnType<typeof percentiles>;
  /**
   * The same, leaving out updates received in the first `warmup_s` of production: the queries' first
   * micro-batches (planning, code generation, JIT, state store start) and the backlog they leave.
   */
  live_latency_ms_after_warmup: ReturnType<typeof percentiles>;
  warmup_s: number;
  /**
   * The running updates after the warm-up, split: of each sensor's newest window (what the pipeline adds), and
   * of an older window reopened by a late reading (last_event_ts is that window's newest reading, so the
   * latency includes the reading's lateness, up to the watermark: no pipeline can bring it under 2 s).
   */
  live_newest_window_latency_ms_after_warmup: ReturnType<typeof percentiles>;
  /** How many of the running updates after the warm-up were of an older window. */
  live_older_window_updates: number;
  /** The producer's share of late readings (event time 1 ms..30 s in the past). */
  late_rate: number;
  /** Every sensor_aggregates_live message, the final ones included: receipt − last_event_ts. */
  live_all_latency_ms: ReturnType<typeof percentiles>;
  /** The final (closed-window) sensor_aggregates_live messages: receipt − last_event_ts. */
  final_latency_ms: ReturnType<typeof percentiles>;
  /** Records produced but in no heavy batch started before the producer stopped (the consumer lag then). */
  lag_rows_at_producer_end: number;
  /** Every produced record read by the end of the run. */
  caught_up: boolean;
  /** Lag under 2 s of input at the end of production and live p95 ≤ 2 s (over the whole run). */
  sustained: boolean;
  /** The same with the live p95 after the warm-up. */
  sustained_after_warmup: boolean;
  /** The same with the p95 of the newest-window updates after the warm-up (late readings' reopened windows left out). */
  sustained_newest_window: boolean;
}

export interface ThroughputResult {
  messages: number;
  max_offsets_per_trigger: number;
  plain_s: number;
  plain_rows_per_s: number;
  job_s: number;
  job_rows_per_s: number;
  /** job rows/s ÷ plain rows/s. */
  ratio: number;
  /** The job's heavy query alone (its batches), and the Parquet copies after it. */
  job_heavy_s: number;
  /** The untimed warm-up pair before the measured one (null: none). */
  warmup: { messages: number; plain_s: number; job_s: number } | null;
}

const { col, expr, from_json, window } = functions;

async function deleteTopics(topics: string[], bootstrap: string): Promise<void> {
  const admin = streamKafka('spark-ts-bench-stream-cleanup', bootstrap).admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
}

/** The job (processing-time trigger) fed live at `rate` for `durationS`, plus a tail to drain. */
/** Waits of a measurement: the full bench keeps the job's defaults; `make bench QUICK=1` shortens them. */
export interface StreamBenchTiming {
  /** Before the producer starts, so the queries are up (the job creates the topic). */
  startDelayMs: number;
  /** After the producer stops: for the watermark to close the last windows and the job to drain. */
  tailMs: number;
  watermarkMs: number;
  /** Production time left out of `live_latency_ms_after_warmup`. */
  warmupMs: number;
}

export const DEFAULT_STREAM_BENCH_TIMING: StreamBenchTiming = { startDelayMs: 8000, tailMs: 22_000, watermarkMs: 10_000, warmupMs: 20_000 };

/** The bench's share of late readings (1% up to 30 s late), as in the demo. */
export const DEFAULT_BENCH_LATE_RATE = 0.01;

export async function measureStreamAtRate(
  spark: SparkSession,
  rate: number,
  durationS: number,
  sensors: number,
  bootstrap: string,
  log: (s: string) => void,
  timing: StreamBenchTiming = DEFAULT_STREAM_BENCH_TIMING,
  /** Job settings to compare (e.g. the copies' trigger); default: the job's defaults. */
  jobOptions: Partial<Pick<StreamRunOptions, 'copyTrigger' | 'liveTrigger' | 'trigger' | 'liveConf' | 'copyConf'>> = {},
  lateRate = DEFAULT_BENCH_LATE_RATE,
): Promise<StreamRateResult> {
  const id = randomUUID().slice(0, 8);
  const topics = {
    data: `bench-stream-data-${id}`,
    dlq: `bench-stream-dlq-${id}`,
    aggregates: `bench-stream-agg-${id}`,
    alerts: `bench-stream-alerts-${id}`,
    // Its own live topic: the default is the users' sensor_aggregates_live, which make stream and the dashboard read.
    live: `bench-stream-live-${id}`,
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-stream-${id}-`));
  const ac = new AbortController();
  const shutdown: Array<() => Promise<void> | void> = [];
  try {
    const job = runStreamJob(
      spark,
      {
        topic: topics.data,
        startingOffsets: 'earliest',
        trigger: { processingTime: '1 seconds' },
        output: path.join(dir, 'out'),
        checkpoint: path.join(dir, 'checkpoint'),
        bootstrapServers: bootstrap,
        localBootstrapServers: bootstrap,
        watermarkMs: timing.watermarkMs,
        topics,
        metricsFile: path.join(dir, 'stream-metrics.json'),
        queryPrefix: `bench_${id}`,
        statusEveryMs: 10_000,
        ...jobOptions,
      },
      { signal: ac.signal, log: (l) => log(`  job: ${l}`), onShutdown: (fn) => shutdown.push(fn) },
    );
    // The job is awaited below; until then a failure must not be an unhandled rejection that kills the bench.
    job.catch(() => undefined);
    // Let the queries start before the producer (the topic is created by the job).
    await sleep(timing.startDelayMs);
    let produced: ProduceSummary | undefined;
    const producerStart = Date.now();
    const producer = produceSensorData(
      {
        topic: topics.data,
        bootstrapServers: bootstrap,
        sensors,
        seed: 7,
        rate,
        durationMs: durationS * 1000,
        anomalyRate: 0.001,
        lateRate,
        maxLatenessMs: 30_000,
        malformedRate: 0.001,
        maxBatch: 2000,
      },
      { log: (l) => log(`  producer: ${l}`) },
    ).then((s) => (produced = s));
    await producer;
    const producerEnd = Date.now();
    // Tail: long enough for the watermark (10 s) to close the last windows and the job to drain.
    await sleep(timing.tailMs);
    ac.abort();
    const result = await job;
    const batches = result.batches.batches.filter((b) => b.query === 'kafka');
    const processed = batches.reduce((a, b) => a + b.sourceRows, 0);
    const s = produced as ProduceSummary;
    const processedByEnd = batches.filter((b) => Date.parse(b.timestamp) <= producerEnd).reduce((a, b) => a + b.sourceRows, 0);
    const lag = Math.max(0, s.sent - processedByEnd);
    const live = result.live.summary();
    const runSeconds = (Date.parse(result.report.ended_at) - Date.parse(result.report.started_at)) / 1000;
    const withData = batches.filter((b) => b.numInputRows > 0 && b.processedRowsPerSecond !== null);
    const afterWarmup = result.live.updatesSince(producerStart + timing.warmupMs);
    const newestWindow = result.live.updatesSince(producerStart + timing.warmupMs, 'newest_window');
    return {
      target_msgs_per_s: rate,
      duration_s: durationS,
      produced: s.sent,
      produce_failed: s.failed,
      achieved_msgs_per_s: s.rate,
      processed_rows: processed,
      processed_rows_per_s: processed / Math.max(1e-9, runSeconds),
      // Spark's rate counts every branch's source; per source record it is that over the branches.
      spark_processed_rows_per_s_mean: withData.length
        ? withData.reduce((a, b) => a + ((b.processedRowsPerSecond as number) * b.sourceRows) / b.numInputRows, 0) / withData.length
        : null,
      batches: batches.length,
      batch_duration_ms: percentiles(batches.map((b) => b.batchDurationMs).filter((x): x is number => x !== null)),
      e2e_latency_ms: result.latency.summary().record_timestamp,
      live_latency_ms: live.updates,
      live_latency_ms_after_warmup: afterWarmup,
      warmup_s: timing.warmupMs / 1000,
      live_newest_window_latency_ms_after_warmup: newestWindow,
      live_older_window_updates: result.live.updatesSince(producerStart + timing.warmupMs, 'older_window').count,
      late_rate: lateRate,
      live_all_latency_ms: live.live,
      final_latency_ms: live.final,
      lag_rows_at_producer_end: lag,
      caught_up: processed >= s.sent,
      sustained: lag <= rate * 2 && live.updates.p95 !== null && live.updates.p95 <= 2000,
      sustained_after_warmup: lag <= rate * 2 && afterWarmup.p95 !== null && afterWarmup.p95 <= 2000,
      sustained_newest_window: lag <= rate * 2 && newestWindow.p95 !== null && newestWindow.p95 <= 2000,
    };
  } finally {
    ac.abort();
    for (const fn of shutdown.reverse()) await Promise.resolve(fn()).catch(() => undefined);
    await deleteTopics(Object.values(outputTopics(topics)).concat(topics.data), bootstrap);
    removeScratch(dir);
  }
}

export interface StreamMemoryResult {
  rate: StreamRateResult;
  /** RSS of the Spark server, sampled every `every_s` from the producer's start to its end. */
  every_s: number;
  rss_mib: number[];
  rss_mib_start: number | null;
  rss_mib_end: number | null;
  rss_mib_max: number | null;
  /**
   * The RSS once the server has settled (the sample at MEMORY_WARMUP_S: the JVM sizes its heap to the
   * allocation rate and the state fills in the first minute), and the trend from there to the end: the
   * least-squares slope of the later samples, MiB per minute. A flat run has a slope near 0.
   */
  rss_mib_after_warmup: number | null;
  rss_growth_mib_per_min_after_warmup: number | null;
  /**
   * The Java heap's committed size at each RSS sample (`jcmd GC.heap_info`, no GC; null where jcmd did not
   * answer), and the two parts of the RSS trend after the warm-up: the committed heap's (G1 grows the heap
   * towards -Xmx as the allocation rate asks, and every committed page is soon touched, so it all counts in
   * RSS) and everything else's (RSS − committed heap: metaspace, code cache, threads, the native memory of
   * RocksDB and the Kafka clients). A leak shows in the live heap or in the second; the first stops at -Xmx.
   */
  heap_committed_mib: Array<number | null>;
  heap_committed_growth_mib_per_min_after_warmup: number | null;
  rss_outside_heap_growth_mib_per_min_after_warmup: number | null;
  /**
   * Two parts of the RSS outside the heap at each sample: metaspace (committed) and the JIT's code cache (in
   * use). Both grow with the classes Spark generates, one per stateful operator and micro-batch at least (its
   * watermark predicate); the code cache stops at its reserve.
   */
  metaspace_committed_mib: Array<number | null>;
  code_cache_used_mib: Array<number | null>;
  live_heap_mib_start: number | null;
  live_heap_mib_end: number | null;
}

/** Seconds of a memory run before its RSS counts as settled (see StreamMemoryResult). */
export const MEMORY_WARMUP_S = 60;

/**
 * The memory run of issue 14: the job fed at `rate` for `durationS`, the Spark server's RSS sampled
 * throughout (state is bounded by the watermark, so RSS should level off rather than grow with time).
 */
export async function measureStreamMemory(
  spark: SparkSession,
  rate: number,
  durationS: number,
  bootstrap: string,
  log: (s: string) => void,
  everyS = 10,
  timing: StreamBenchTiming = DEFAULT_STREAM_BENCH_TIMING,
): Promise<StreamMemoryResult> {
  const pid = readSparkState()?.pid;
  const samples: Array<Promise<{ rss: number; jvm: JvmMemory }>> = [];
  const sample = () => {
    const b = pid ? rssBytes(pid) : undefined;
    if (pid && b !== undefined) {
      const rss = Math.round(b / 2 ** 20);
      samples.push(jvmMemory(pid).then((jvm) => ({ rss, jvm })));
    }
  };
  let timer: NodeJS.Timeout | undefined;
  let heapStart: Promise<number | null> = Promise.resolve(null);
  let heapEnd: Promise<number | null> = Promise.resolve(null);
  // Sampling starts when the producer does (after the bench's start delay), and stops with it.
  const start = setTimeout(() => {
    if (pid) heapStart = liveHeapMiB(pid);
    sample();
    timer = setInterval(sample, everyS * 1000);
  }, timing.startDelayMs);
  const stopAt = setTimeout(
    () => {
      clearInterval(timer);
      if (pid) heapEnd = liveHeapMiB(pid);
    },
    timing.startDelayMs + Math.max(0, durationS * 1000 - 2000),
  );
  try {
    const result = await measureStreamAtRate(spark, rate, durationS, 100, bootstrap, log, timing);
    const taken = await Promise.all(samples);
    const rss = taken.map((x) => x.rss);
    const settled = taken.slice(Math.round(MEMORY_WARMUP_S / everyS));
    const withHeap = settled.flatMap((x) => (x.jvm.heapCommittedMiB === null ? [] : [{ rss: x.rss, heap: x.jvm.heapCommittedMiB }]));
    // The split needs every settled sample's heap: a gap would shift the samples' spacing.
    const split = withHeap.length === settled.length;
    return {
      rate: result,
      every_s: everyS,
      rss_mib: rss,
      rss_mib_start: rss[0] ?? null,
      rss_mib_end: rss[rss.length - 1] ?? null,
      rss_mib_max: rss.length ? Math.max(...rss) : null,
      rss_mib_after_warmup: settled[0]?.rss ?? null,
      rss_growth_mib_per_min_after_warmup: slopePerMinute(
        settled.map((x) => x.rss),
        everyS,
      ),
      heap_committed_mib: taken.map((x) => x.jvm.heapCommittedMiB),
      metaspace_committed_mib: taken.map((x) => x.jvm.metaspaceCommittedMiB),
      code_cache_used_mib: taken.map((x) => x.jvm.codeCacheUsedMiB),
      heap_committed_growth_mib_per_min_after_warmup: split
        ? slopePerMinute(
            withHeap.map((x) => x.heap),
            everyS,
          )
        : null,
      rss_outside_heap_growth_mib_per_min_after_warmup: split
        ? slopePerMinute(
            withHeap.map((x) => x.rss - x.heap),
            everyS,
          )
        : null,
      live_heap_mib_start: await heapStart,
      live_heap_mib_end: await heapEnd,
    };
  } finally {
    clearTimeout(start);
    clearTimeout(stopAt);
    clearInterval(timer);
  }
}

/** A pre-loaded topic: `messages` readings of 100 sensors, 10 per sensor per second of event time (1 ms apart). */
async function preloadTopic(topic: string, messages: number, bootstrap: string, log: (s: string) => void): Promise<void> {
  let i = 0;
  const base = Date.UTC(2026, 0, 1);
  const s = await produceSensorData({
    topic,
    bootstrapServers: bootstrap,
    sensors: 100,
    seed: 3,
    rate: 0,
    count: messages,
    anomalyRate: 0.001,
    lateRate: 0.01,
    maxLatenessMs: 5000,
    malformedRate: 0.001,
    maxBatch: 5000,
    clock: () => base + i++,
  });
  log(`  pre-loaded ${s.sent} readings in ${(s.elapsedMs / 1000).toFixed(1)} s`);
}

/**
 * Readings of the throughput warm-up: the plain query and the job over a small topic first, not in the ratio. On a
 * server started just before, the first query pays the JVM's warm-up of Spark's own code (the Kafka client,
 * the planner, the code generator), which the query after it gets for free: measured, the ratio of a fresh
 * server's first run was 0.53–0.72, and 0.34–0.42 from its second run on (lib/stream/README.md).
 */
export const DEFAULT_THROUGHPUT_WARMUP_MESSAGES = 200_000;

/**
 * The plain single query (the baseline) and then the full job over the same pre-loaded topic, after a warm-up
 * pair over `warmupMessages` readings (0: none) in batches of a quarter of them, so that the warm-up runs the
 * same kinds of batches (state written, read back and evicted, then the batch without data).
 */
export async function measureThroughput(
  spark: SparkSession,
  messages: number,
  maxOffsetsPerTrigger: number,
  bootstrap: string,
  log: (s: string) => void,
  warmupMessages = DEFAULT_THROUGHPUT_WARMUP_MESSAGES,
): Promise<ThroughputResult> {
  let warmup: ThroughputResult['warmup'] = null;
  if (warmupMessages > 0) {
    const perBatch = Math.ceil(warmupMessages / 4);
    log(`  warm-up (not in the ratio): ${warmupMessages} readings, maxOffsetsPerTrigger ${perBatch}`);
    const w = await timePlainThenJob(spark, 'warmup', warmupMessages, perBatch, bootstrap, (l) => log(`  ${l}`));
    warmup = { messages: warmupMessages, plain_s: w.plain_s, job_s: w.job_s };
  }
  const m = await timePlainThenJob(spark, '1m', messages, maxOffsetsPerTrigger, bootstrap, log);
  return {
    messages,
    max_offsets_per_trigger: maxOffsetsPerTrigger,
    plain_s: m.plain_s,
    plain_rows_per_s: messages / m.plain_s,
    job_s: m.job_s,
    job_rows_per_s: messages / m.job_s,
    ratio: m.plain_s / m.job_s,
    job_heavy_s: m.job_heavy_s,
    warmup,
  };
}

/** One timed pair over a topic pre-loaded with `messages` readings (deleted after): the plain query, then the job. */
async function timePlainThenJob(
  spark: SparkSession,
  label: string,
  messages: number,
  maxOffsetsPerTrigger: number,
  bootstrap: string,
  log: (s: string) => void,
): Promise<Pick<ThroughputResult, 'plain_s' | 'job_s' | 'job_heavy_s'>> {
  const id = randomUUID().slice(0, 8);
  const topic = `bench-stream-${label}-${id}`;
  const out = { dlq: `${topic}-dlq`, aggregates: `${topic}-agg`, alerts: `${topic}-alerts`, live: `${topic}-live` };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-stream-${label}-${id}-`));
  try {
    await preloadTopic(topic, messages, bootstrap, log);
    // One round trip (the bench runs a pair twice): the job's settings, except that the plain query keeps
    // Spark's default pruning (the job turns it off for its shared exchange).
    await spark.conf.setAll({
      ...STREAM_CONF,
      'spark.sql.shuffle.partitions': '2',
      'spark.sql.optimizer.nestedSchemaPruning.enabled': 'true',
      'spark.sql.optimizer.expression.nestedPruning.enabled': 'true',
    });
    const plain = spark.readStream
      .format('kafka')
      .option('kafka.bootstrap.servers', bootstrap)
      .option('subscribe', topic)
      .option('startingOffsets', 'earliest')
      .option('maxOffsetsPerTrigger', maxOffsetsPerTrigger)
      // The job's consumer settings: the baseline is the machine's cost of one pass, read the same way.
      .options(KAFKA_SOURCE_OPTIONS)
      .load()
      .select(from_json(expr('CAST(value AS STRING)'), READING_SCHEMA_DDL).alias('r'))
      .selectExpr('r.*')
      .withColumn('event_time', expr('timestamp_millis(ts)'))
      .withWatermark('event_time', '10 seconds')
      .groupBy(window(col('event_time'), '10 seconds').alias('window'), col('sensor_id'))
      .agg(
        expr('count(*)').alias('readings'),
        expr('avg(temperature)').alias('temperature_avg'),
        expr('min(temperature)').alias('temperature_min'),
        expr('max(temperature)').alias('temperature_max'),
      )
      .selectExpr(
        'sensor_id',
        'window.start AS window_start',
        'window.end AS window_end',
        'readings',
        'temperature_avg',
        'temperature_min',
        'temperature_max',
      );
    let t0 = Date.now();
    const q = await plain.writeStream
      .queryName(`bench_plain_${id}`)
      .outputMode('append')
      .trigger({ availableNow: true })
      .format('parquet')
      .option('path', path.join(dir, 'plain'))
      .option('checkpointLocation', path.join(dir, 'plain-checkpoint'))
      .start();
    await q.awaitTermination();
    const plainS = (Date.now() - t0) / 1000;
    log(`  plain query: ${plainS.toFixed(1)} s, ${Math.round(messages / plainS)} rows/s`);
    t0 = Date.now();
    const result = await runStreamJob(
      spark,
      {
        topic,
        startingOffsets: 'earliest',
        trigger: { availableNow: true },
        maxOffsetsPerTrigger,
        output: path.join(dir, 'out'),
        checkpoint: path.join(dir, 'checkpoint'),
        bootstrapServers: bootstrap,
        localBootstrapServers: bootstrap,
        watermarkMs: 10_000,
        topics: out,
        metricsFile: path.join(dir, 'job-metrics.json'),
        queryPrefix: `bench_job_${id}`,
      },
      { signal: new AbortController().signal, log: (l) => log(`  job: ${l}`), onShutdown: () => undefined },
    );
    const jobS = (Date.now() - t0) / 1000;
    const heavy = result.batches.batches.filter((b) => b.query === 'kafka');
    const heavyS = heavy.length
      ? (Date.parse(heavy[heavy.length - 1].timestamp) + (heavy[heavy.length - 1].batchDurationMs ?? 0) - Date.parse(heavy[0].timestamp)) /
        1000
      : 0;
    log(`  full job: ${jobS.toFixed(1)} s (heavy query ${heavyS.toFixed(1)} s), ${Math.round(messages / jobS)} rows/s`);
    return { plain_s: plainS, job_s: jobS, job_heavy_s: heavyS };
  } finally {
    await deleteTopics([topic, ...Object.values(outputTopics(out))], bootstrap);
    removeScratch(dir);
  }
}

/** An SVG line chart of the live latency percentiles (and the final-window p95) against the offered rate. */
export function latencyChartSvg(rates: StreamRateResult[]): string {
  const W = 640;
  const H = 360;
  const m = { l: 60, r: 20, t: 30, b: 50 };
  const xs = rates.map((r) => r.target_msgs_per_s);
  const series: Array<{ name: string; color: string; values: Array<number | null> }> = [
    { name: 'live p50', color: '#1b9e77', values: rates.map((r) => r.live_latency_ms.p50) },
    { name: 'live p95', color: '#d95f02', values: rates.map((r) => r.live_latency_ms.p95) },
    { name: 'live p99', color: '#7570b3', values: rates.map((r) => r.live_latency_ms.p99) },
    {
      name: 'newest-window p95 (after warm-up)',
      color: '#e7298a',
      values: rates.map((r) => r.live_newest_window_latency_ms_after_warmup.p95),
    },
    { name: 'final window p95', color: '#999999', values: rates.map((r) => r.final_latency_ms.p95) },
  ];
  const yMax = Math.max(2500, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null))) * 1.05;
  const xMax = Math.max(...xs, 1) * 1.05;
  const x = (v: number) => m.l + (v / xMax) * (W - m.l - m.r);
  const y = (v: number) => H - m.b - (v / yMax) * (H - m.t - m.b);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<text x="${W / 2}" y="18" text-anchor="middle">live latency against offered rate (ms)</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`,
    `<line x1="${m.l}" y1="${y(2000)}" x2="${W - m.r}" y2="${y(2000)}" stroke="red" stroke-dasharray="4 4"/><text x="${W - m.r}" y="${y(2000) - 4}" text-anchor="end" fill="red">2 s target (p95)</text>`,
    `<text x="${W / 2}" y="${H - 12}" text-anchor="middle">offered rate (readings/s)</text>`,
  ];
  for (const v of xs) parts.push(`<text x="${x(v)}" y="${H - m.b + 16}" text-anchor="middle">${v}</text>`);
  for (let i = 0; i <= 5; i++) {
    const v = (yMax / 5) * i;
    parts.push(`<text x="${m.l - 6}" y="${y(v) + 4}" text-anchor="end">${Math.round(v)}</text>`);
  }
  series.forEach((s, i) => {
    const pts = s.values
      .map((v, j) => (v === null ? null : `${x(xs[j]).toFixed(1)},${y(v).toFixed(1)}`))
      .filter((p): p is string => p !== null);
    if (pts.length) parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(' ')}"/>`);
    for (const p of pts) parts.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${s.color}"/>`);
    parts.push(`<text x="${m.l + 10}" y="${m.t + 14 + i * 14}" fill="${s.color}">${s.name}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/**
 * Removes a run's scratch directory. The Spark server may still be finishing a write into a checkpoint when
 * the queries have stopped (seen at the end of a 10-minute run: ENOTEMPTY), so removal is retried.
 */
function removeScratch(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
}
