// Streaming benchmark (issue 6): the producer's maximum sustained rate, then, for each target rate, the
// streaming job fed live for a duration: processed rows/s, batch durations, end-to-end latency.
//   node -r ts-node/register/transpile-only lib/stream/bench/stream.ts [--duration 60] [--rates 10000,50000]
//        [--max-rate-messages 300000] [--sensors 100] [--json-out reports/bench-stream.json]
// Needs the Spark Connect server and the Kafka broker (`spark-ts up`). Prints a table; writes JSON.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import yargs from 'yargs';
import Table from 'cli-table3';
import { SparkSession } from '../../connect';
import { resolveBootstrapServers } from '../../kafka/config';
import { machineInfo } from '../../bench/machine';
import { streamKafka } from '../kafka';
import { percentiles, writeReport } from '../metrics';
import { produceSensorData, type ProduceSummary } from '../producer';
import { runStreamJob } from '../run';
import { ROOT } from '../../runtime/paths';
import { sparkRemote } from '../../runtime/spark-server';

export interface MaxRateResult {
  messages: number;
  seconds: number;
  msgs_per_s: number;
  failed: number;
}

export interface StreamRateResult {
  target_msgs_per_s: number;
  duration_s: number;
  produced: number;
  produce_failed: number;
  achieved_msgs_per_s: number;
  /** Rows the aggregation query read, over the run, and per second of run time. */
  processed_rows: number;
  processed_rows_per_s: number;
  /** Mean of Spark's processedRowsPerSecond over batches with data (aggregates_10s query). */
  spark_processed_rows_per_s_mean: number | null;
  batches: number;
  batch_duration_ms: ReturnType<typeof percentiles>;
  e2e_latency_ms: ReturnType<typeof percentiles>;
  /** Rows still unread when the run stopped (source offsets behind the producer). */
  caught_up: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function deleteTopics(topics: string[], bootstrap: string): Promise<void> {
  const admin = streamKafka('spark-ts-bench-stream-cleanup', bootstrap).admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
}

/** The producer alone, as fast as it goes (batches of 1,000, acks=-1, idempotent). */
export async function measureMaxProducerRate(messages: number, sensors: number, bootstrap: string): Promise<MaxRateResult> {
  const topic = `bench-stream-max-${randomUUID().slice(0, 8)}`;
  try {
    const s = await produceSensorData({ topic, bootstrapServers: bootstrap, sensors, seed: 1, rate: 0, count: messages, anomalyRate: 0.001, lateRate: 0.01, maxLatenessMs: 30_000, malformedRate: 0.001 });
    return { messages: s.sent, seconds: s.elapsedMs / 1000, msgs_per_s: s.rate, failed: s.failed };
  } finally {
    await deleteTopics([topic], bootstrap);
  }
}

/** The job (processing-time trigger) fed live at `rate` for `durationS`, plus a tail to drain. */
/** Waits of a measurement: the full bench keeps the job's defaults; `make bench QUICK=1` shortens them. */
export interface StreamBenchTiming {
  /** Before the producer starts, so the queries are up (the job creates the topic). */
  startDelayMs: number;
  /** After the producer stops: for the watermark to close the last windows and the job to drain. */
  tailMs: number;
  watermarkMs: number;
}

export const DEFAULT_STREAM_BENCH_TIMING: StreamBenchTiming = { startDelayMs: 8000, tailMs: 25_000, watermarkMs: 10_000 };

export async function measureStreamAtRate(spark: SparkSession, rate: number, durationS: number, sensors: number, bootstrap: string, log: (s: string) => void, timing: StreamBenchTiming = DEFAULT_STREAM_BENCH_TIMING): Promise<StreamRateResult> {
  const id = randomUUID().slice(0, 8);
  const topics = { data: `bench-stream-data-${id}`, dlq: `bench-stream-dlq-${id}`, aggregates: `bench-stream-agg-${id}`, alerts: `bench-stream-alerts-${id}` };
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
      },
      { signal: ac.signal, log: (l) => log(`  job: ${l}`), onShutdown: (fn) => shutdown.push(fn) },
    );
    // The job is awaited below; until then a failure must not be an unhandled rejection that kills the bench.
    job.catch(() => undefined);
    // Let the queries start before the producer (the topic is created by the job).
    await sleep(timing.startDelayMs);
    let produced: ProduceSummary | undefined;
    const producer = produceSensorData(
      { topic: topics.data, bootstrapServers: bootstrap, sensors, seed: 7, rate, durationMs: durationS * 1000, anomalyRate: 0.001, lateRate: 0.01, maxLatenessMs: 30_000, malformedRate: 0.001, maxBatch: 2000 },
      { log: (l) => log(`  producer: ${l}`) },
    ).then((s) => (produced = s));
    await producer;
    // Tail: long enough for the watermark (10 s) to close the last windows and the job to drain.
    await sleep(timing.tailMs);
    ac.abort();
    const result = await job;
    const batches = result.batches.batches.filter((b) => b.query === 'aggregates_10s');
    const processed = batches.reduce((a, b) => a + b.numInputRows, 0);
    const s = produced as ProduceSummary;
    const runSeconds = (Date.parse(result.report.ended_at) - Date.parse(result.report.started_at)) / 1000;
    const withData = batches.filter((b) => b.numInputRows > 0 && b.processedRowsPerSecond !== null);
    return {
      target_msgs_per_s: rate,
      duration_s: durationS,
      produced: s.sent,
      produce_failed: s.failed,
      achieved_msgs_per_s: s.rate,
      processed_rows: processed,
      processed_rows_per_s: processed / Math.max(1e-9, runSeconds),
      spark_processed_rows_per_s_mean: withData.length ? withData.reduce((a, b) => a + (b.processedRowsPerSecond as number), 0) / withData.length : null,
      batches: batches.length,
      batch_duration_ms: percentiles(batches.map((b) => b.batchDurationMs).filter((x): x is number => x !== null)),
      e2e_latency_ms: result.latency.summary().record_timestamp,
      caught_up: processed >= s.sent,
    };
  } finally {
    ac.abort();
    for (const fn of shutdown.reverse()) await Promise.resolve(fn()).catch(() => undefined);
    await deleteTopics(Object.values(topics), bootstrap);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const argv = await yargs(process.argv.slice(2))
    .option('duration', { type: 'number', default: 60, describe: 'seconds of production per rate' })
    .option('rates', { type: 'string', default: '10000,50000', describe: 'target producer rates (msg/s), comma-separated' })
    .option('max-rate-messages', { type: 'number', default: 300_000, describe: 'messages for the maximum producer rate (0: skip)' })
    .option('sensors', { type: 'number', default: 100 })
    .option('bootstrap-servers', { type: 'string' })
    .option('json-out', { type: 'string', default: path.join(ROOT, 'reports', 'bench-stream.json') })
    .strict()
    .parse();
  const bootstrap = resolveBootstrapServers(argv['bootstrap-servers']);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const results: { machine: ReturnType<typeof machineInfo>; load_average_at_start: number[]; max_producer_rate?: MaxRateResult; rates: StreamRateResult[] } = {
    machine: machineInfo(),
    load_average_at_start: os.loadavg(),
    rates: [],
  };
  if (argv['max-rate-messages'] > 0) {
    log(`producer maximum rate: ${argv['max-rate-messages']} messages as fast as possible`);
    results.max_producer_rate = await measureMaxProducerRate(argv['max-rate-messages'], argv.sensors, bootstrap);
    log(`  ${Math.round(results.max_producer_rate.msgs_per_s)} msg/s`);
  }
  const spark = await SparkSession.builder().remote(sparkRemote()).appName('bench-stream').create();
  try {
    for (const rate of argv.rates.split(',').map(Number)) {
      log(`streaming at ${rate} msg/s for ${argv.duration} s`);
      results.rates.push(await measureStreamAtRate(spark, rate, argv.duration, argv.sensors, bootstrap, log));
      writeReport(argv['json-out'], results);
    }
  } finally {
    await spark.stop();
  }
  writeReport(argv['json-out'], results);
  const r = (x: number | null | undefined) => (x === null || x === undefined ? '-' : String(Math.round(x)));
  if (results.max_producer_rate) console.log(`producer maximum sustained rate: ${r(results.max_producer_rate.msgs_per_s)} msg/s (${results.max_producer_rate.messages} messages, acks=-1, idempotent)`);
  const t = new Table({ head: ['target msg/s', 'achieved', 'processed rows', 'rows/s (run)', 'Spark rows/s (mean)', 'batches', 'batch p50/p95/max ms', 'e2e p50/p95/p99 ms', 'caught up'] });
  for (const x of results.rates) {
    t.push([
      x.target_msgs_per_s,
      r(x.achieved_msgs_per_s),
      x.processed_rows,
      r(x.processed_rows_per_s),
      r(x.spark_processed_rows_per_s_mean),
      x.batches,
      `${r(x.batch_duration_ms.p50)} / ${r(x.batch_duration_ms.p95)} / ${r(x.batch_duration_ms.max)}`,
      `${r(x.e2e_latency_ms.p50)} / ${r(x.e2e_latency_ms.p95)} / ${r(x.e2e_latency_ms.p99)}`,
      x.caught_up ? 'yes' : 'no',
    ]);
  }
  console.log(t.toString());
  console.log(`written: ${path.relative(process.cwd(), argv['json-out'])}`);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
