// Streaming benchmark (issues 6, 14), everything on this machine in one run:
//   throughput: a pre-loaded topic of --messages readings (100 sensors, 10 readings per sensor per second of
//     event time); first one plain query (Kafka → from_json → watermark 10 s → 10 s window per sensor with
//     count/avg/min/max → Parquet: the machine's cost of one pass), then the full job; both available-now with
//     the same maxOffsetsPerTrigger; rows/s of each and their ratio. The same pair over --warmup-messages
//     readings runs first, untimed, so that neither pays a freshly started server's warm-up;
//   live: for each --rates value, the producer at that rate for --duration seconds with the job running
//     (processing-time): achieved rate, processed rows/s, lag, live latency p50/p95/p99 (receipt of a
//     running sensor_aggregates_live update − its last_event_ts), the same over every live message, and the
//     final-window latency (a window's final message waits, by design, for the watermark to pass its end:
//     window + watermark delay, so it is reported apart); the live latency after the warm-up split into
//     updates of each sensor's newest window and of older windows reopened by late readings (--late-rate;
//     those carry the reading's lateness); the highest rate sustained (lag under 2 s of input, live p95 ≤ 2 s);
//     a chart of latency against offered rate (SVG).
//   node -r ts-node/register/transpile-only scripts/bench/stream.ts [--messages 1000000]
//        [--max-offsets-per-trigger 250000] [--warmup-messages 200000] [--rates 5000,10000,20000,40000] [--duration 60] [--late-rate 0.01]
//        [--memory-run 600 --memory-rate 10000] [--json-out reports/bench-stream.json] [--svg-out reports/bench-stream-latency.svg]
// Needs the Spark Connect server and the Kafka broker (`spark-ts up`). Prints tables; writes JSON and SVG.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yargs from 'yargs';
import Table from 'cli-table3';
import { SparkSession } from '../../lib/connect';
import { resolveBootstrapServers } from '../../lib/kafka/config';
import { machineInfo } from '../../lib/measure/machine';
import { writeReport } from '../../lib/stream/metrics';
import { ROOT } from '../../lib/runtime/paths';
import { sparkRemote } from '../../lib/runtime/spark-server';
import { errorMessage } from '../../lib/util/errors';
import {
  type StreamRateResult,
  type ThroughputResult,
  measureStreamAtRate,
  DEFAULT_BENCH_LATE_RATE,
  DEFAULT_STREAM_BENCH_TIMING,
  type StreamMemoryResult,
  measureStreamMemory,
  MEMORY_WARMUP_S,
  measureThroughput,
  DEFAULT_THROUGHPUT_WARMUP_MESSAGES,
  latencyChartSvg,
} from '../../lib/stream/measure';
async function main(): Promise<void> {
  const argv = await yargs(process.argv.slice(2))
    .option('messages', { type: 'number', default: 1_000_000, describe: 'readings of the pre-loaded topic (0: skip the throughput part)' })
    .option('max-offsets-per-trigger', { type: 'number', default: 250_000 })
    .option('warmup-messages', {
      type: 'number',
      default: DEFAULT_THROUGHPUT_WARMUP_MESSAGES,
      describe:
        "readings of an untimed plain-query-and-job pair run first, so neither measured query pays a fresh server's warm-up (0: none)",
    })
    .option('duration', { type: 'number', default: 60, describe: 'seconds of production per rate' })
    .option('rates', {
      type: 'string',
      default: '5000,10000,20000,40000',
      describe: 'offered rates (readings/s), comma-separated (empty: skip)',
    })
    .option('sensors', { type: 'number', default: 100 })
    .option('late-rate', {
      type: 'number',
      default: DEFAULT_BENCH_LATE_RATE,
      describe: 'share of late readings (1 ms..30 s late) in the live runs; 0: every reading on time',
    })
    .option('memory-run', {
      type: 'number',
      default: 0,
      describe: 'seconds of a memory run at --memory-rate after the rates (0: skip); reports the Spark server RSS',
    })
    .option('memory-rate', { type: 'number', default: 10_000 })
    .option('bootstrap-servers', { type: 'string' })
    .option('json-out', { type: 'string', default: path.join(ROOT, 'reports', 'bench-stream.json') })
    .option('svg-out', { type: 'string', default: path.join(ROOT, 'reports', 'bench-stream-latency.svg') })
    .strict()
    .parse();
  const bootstrap = resolveBootstrapServers(argv['bootstrap-servers']);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const results: {
    machine: ReturnType<typeof machineInfo>;
    load_average_at_start: number[];
    load_average_at_end?: number[];
    throughput?: ThroughputResult;
    rates: StreamRateResult[];
    highest_rate_sustained?: number | null;
    highest_rate_sustained_newest_window?: number | null;
    memory?: StreamMemoryResult;
  } = {
    machine: machineInfo(),
    load_average_at_start: os.loadavg(),
    rates: [],
  };
  const spark = await SparkSession.builder().remote(sparkRemote()).appName('bench-stream').create();
  try {
    if (argv.messages > 0) {
      log(`throughput: ${argv.messages} pre-loaded readings, available-now, maxOffsetsPerTrigger ${argv['max-offsets-per-trigger']}`);
      try {
        results.throughput = await measureThroughput(
          spark,
          argv.messages,
          argv['max-offsets-per-trigger'],
          bootstrap,
          log,
          argv['warmup-messages'],
        );
      } catch (e) {
        log(`  throughput failed: ${errorMessage(e)}`);
      }
      writeReport(argv['json-out'], results);
    }
    for (const rate of argv.rates.split(',').filter(Boolean).map(Number)) {
      log(
        `live: ${rate} readings/s for ${argv.duration} s (load average ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')})`,
      );
      results.rates.push(
        await measureStreamAtRate(
          spark,
          rate,
          argv.duration,
          argv.sensors,
          bootstrap,
          log,
          DEFAULT_STREAM_BENCH_TIMING,
          {},
          argv['late-rate'],
        ),
      );
      writeReport(argv['json-out'], results);
    }
    if (argv['memory-run'] > 0) {
      log(
        `memory: ${argv['memory-rate']} readings/s for ${argv['memory-run']} s (load average ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')})`,
      );
      results.memory = await measureStreamMemory(spark, argv['memory-rate'], argv['memory-run'], bootstrap, log);
      writeReport(argv['json-out'], results);
    }
  } finally {
    await spark.stop();
  }
  const sustained = results.rates.filter((x) => x.sustained).map((x) => x.target_msgs_per_s);
  results.highest_rate_sustained = sustained.length ? Math.max(...sustained) : null;
  const sustainedNewest = results.rates.filter((x) => x.sustained_newest_window).map((x) => x.target_msgs_per_s);
  results.highest_rate_sustained_newest_window = sustainedNewest.length ? Math.max(...sustainedNewest) : null;
  results.load_average_at_end = os.loadavg();
  writeReport(argv['json-out'], results);
  if (results.rates.length) {
    fs.mkdirSync(path.dirname(argv['svg-out']), { recursive: true });
    fs.writeFileSync(argv['svg-out'], latencyChartSvg(results.rates));
  }
  const r = (x: number | null | undefined) => (x === null || x === undefined ? '-' : String(Math.round(x)));
  console.log(
    `load average at start ${results.load_average_at_start.map((l) => l.toFixed(1)).join(' ')}, at end ${results.load_average_at_end.map((l) => l.toFixed(1)).join(' ')} (${os.cpus().length} cores)`,
  );
  const t = results.throughput;
  if (t)
    console.log(
      `throughput (${t.messages} readings, maxOffsetsPerTrigger ${t.max_offsets_per_trigger}): plain query ${t.plain_s.toFixed(1)} s = ${r(t.plain_rows_per_s)} rows/s; full job ${t.job_s.toFixed(1)} s = ${r(t.job_rows_per_s)} rows/s; ratio ${t.ratio.toFixed(2)}` +
        (t.warmup
          ? ` (after an untimed warm-up over ${t.warmup.messages} readings: plain ${t.warmup.plain_s.toFixed(1)} s, job ${t.warmup.job_s.toFixed(1)} s)`
          : ' (no warm-up)'),
    );
  const tb = new Table({
    head: [
      'offered/s',
      'achieved/s',
      'processed rows/s',
      'Spark rows/s',
      'lag at end',
      'live p50/p95/p99 ms',
      'after warm-up p50/p95 ms',
      "after warm-up, sensor's newest window p50/p95 ms (older-window updates)",
      'all live msgs p95 ms',
      'final p50/p95 ms',
      'closed→Kafka p95 ms',
      'sustained (after warm-up)',
    ],
  });
  for (const x of results.rates) {
    tb.push([
      x.target_msgs_per_s,
      r(x.achieved_msgs_per_s),
      r(x.processed_rows_per_s),
      r(x.spark_processed_rows_per_s_mean),
      x.lag_rows_at_producer_end,
      `${r(x.live_latency_ms.p50)} / ${r(x.live_latency_ms.p95)} / ${r(x.live_latency_ms.p99)}`,
      `${r(x.live_latency_ms_after_warmup.p50)} / ${r(x.live_latency_ms_after_warmup.p95)}`,
      `${r(x.live_newest_window_latency_ms_after_warmup.p50)} / ${r(x.live_newest_window_latency_ms_after_warmup.p95)} (${x.live_older_window_updates})`,
      r(x.live_all_latency_ms.p95),
      `${r(x.final_latency_ms.p50)} / ${r(x.final_latency_ms.p95)}`,
      r(x.e2e_latency_ms.p95),
      `${x.sustained ? 'yes' : 'no'} (${x.sustained_after_warmup ? 'yes' : 'no'})`,
    ]);
  }
  if (results.rates.length) {
    console.log(`late readings: ${(argv['late-rate'] * 100).toFixed(1)}% (1 ms..30 s late)`);
    console.log(tb.toString());
    console.log(
      `highest rate sustained (lag < 2 s of input, live p95 <= 2 s): ${results.highest_rate_sustained ?? 'none'}; ` +
        `with the p95 of the newest-window updates after the warm-up: ${results.highest_rate_sustained_newest_window ?? 'none'}; chart: ${path.relative(process.cwd(), argv['svg-out'])}`,
    );
  }
  const m = results.memory;
  if (m) {
    const perMin = (x: number | null) => (x === null ? '-' : `${x.toFixed(1)} MiB/min`);
    const fromWarmupToEnd = (xs: Array<number | null>) =>
      `${xs[Math.round(MEMORY_WARMUP_S / m.every_s)] ?? '-'} → ${xs[xs.length - 1] ?? '-'}`;
    console.log(
      `memory run (${m.rate.target_msgs_per_s} readings/s offered, ${m.rate.duration_s} s, achieved ${r(m.rate.achieved_msgs_per_s)}/s, processed ${r(m.rate.processed_rows_per_s)} rows/s): ` +
        `Spark server RSS ${m.rss_mib_start} MiB at start, ${m.rss_mib_after_warmup ?? '-'} MiB after ${MEMORY_WARMUP_S} s, ${m.rss_mib_end} MiB at end, ${m.rss_mib_max} MiB at most, ` +
        `from ${MEMORY_WARMUP_S} s on ${perMin(m.rss_growth_mib_per_min_after_warmup)} (every ${m.every_s} s: ${m.rss_mib.join(' ')}); ` +
        `of that trend, the committed Java heap ${perMin(m.heap_committed_growth_mib_per_min_after_warmup)} and the rest of the RSS ${perMin(m.rss_outside_heap_growth_mib_per_min_after_warmup)} ` +
        `(committed heap every ${m.every_s} s: ${m.heap_committed_mib.map((x) => x ?? '-').join(' ')}); ` +
        `from ${MEMORY_WARMUP_S} s to the end, metaspace ${fromWarmupToEnd(m.metaspace_committed_mib)} MiB and code cache ${fromWarmupToEnd(m.code_cache_used_mib)} MiB; ` +
        `live Java heap (a full GC's class histogram) ${m.live_heap_mib_start ?? '-'} MiB at start, ${m.live_heap_mib_end ?? '-'} MiB at end`,
    );
  }
  console.log(`written: ${path.relative(process.cwd(), argv['json-out'])}`);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
