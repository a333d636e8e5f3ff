import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { sleep, type SparkSession } from '../connect';
import { roundTrips, throughput } from './connect';
import { measureStreamAtRate, DEFAULT_STREAM_BENCH_TIMING, type StreamBenchTiming } from '../stream/measure';
import { measurePreprocess } from '../preprocess/measure';
import { runCacheBench } from '../cachebench/run';
import { uiUrlCandidates } from '../cachebench/rest';
import { measureCdcApply } from '../cdc/measure';
import { readStoreReadOnly } from '../cdc/store';
import { readModelFile } from '../cdc/verify';
import { sparkLogisticRegression } from '../cdc/quality';
import { readSparkState } from '../runtime/spark-server';
import { readKafkaState } from '../runtime/kafka-broker';
import { measureKafkaThroughput } from './kafka';
import { machineInfo } from '../measure/machine';
import { RssSampler } from '../measure/rss';
import { figure, RESULTS_SCHEMA, type BenchResults, type Figure, type FigureGroup } from './results';

/** Workload sizes: QUICK keeps the whole suite to a few minutes on 2 cores; full is the reference run. */
export interface BenchSizes {
  roundTrips: number;
  collectRows: number;
  kafkaMessages: number;
  streamRate: number;
  streamSeconds: number;
  streamTiming: StreamBenchTiming;
  cdcUpdates: number;
  preprocessRows: number;
  cacheRows: number;
}

export const QUICK_SIZES: BenchSizes = {
  roundTrips: 20,
  collectRows: 50_000,
  kafkaMessages: 10_000,
  streamRate: 1_000,
  streamSeconds: 15,
  // A 2 s watermark lets windows close within a short run; the full run keeps the job's 10 s.
  streamTiming: { startDelayMs: 5000, tailMs: 8000, watermarkMs: 2000, warmupMs: 5000 },
  cdcUpdates: 2_000,
  preprocessRows: 5_000,
  cacheRows: 20_000,
};

// Sized so that three repetitions of everything finish in about a quarter of an hour on 2 cores; the
// per-part scripts (scripts/bench/) go to the issues' larger sizes (10M rows, 1M CDC updates, 50k msg/s).
export const FULL_SIZES: BenchSizes = {
  roundTrips: 200,
  collectRows: 1_000_000,
  kafkaMessages: 200_000,
  streamRate: 10_000,
  streamSeconds: 30,
  streamTiming: DEFAULT_STREAM_BENCH_TIMING,
  cdcUpdates: 100_000,
  preprocessRows: 200_000,
  // Data rows of the generated CSV cache-bench builds its workload from (generate + preprocess + the modes).
  cacheRows: 200_000,
};

/** Storage levels whose cached bytes per row the suite reports. */
const CACHE_MODES = ['MEMORY_ONLY', 'MEMORY_ONLY_SER', 'MEMORY_AND_DISK', 'DISK_ONLY', 'OFF_HEAP'] as const;

export interface SuiteOptions {
  quick: boolean;
  repetitions: number;
  sizes: BenchSizes;
  bootstrapServers: string;
  uiUrl: string;
  /** Called as each measurement starts: (done, total, label). */
  onStep?: (done: number, total: number, label: string, phase: 'start' | 'end') => void;
  log: (line: string) => void;
  signal?: AbortSignal;
}

type Meta = { group: FigureGroup; title: string; unit: string; better: 'lower' | 'higher'; workload: string };

/** Runs every measurement `repetitions` times (outer loop), and returns the figures with their spread. */
export async function runBenchSuite(spark: SparkSession, opts: SuiteOptions): Promise<BenchResults> {
  const s = opts.sizes;
  const samples = new Map<string, { meta: Meta; values: number[] }>();
  const add = (id: string, meta: Meta, value: number | null | undefined) => {
    if (value === null || value === undefined || !Number.isFinite(value)) {
      opts.log(`bench: ${id} not measured this repetition (${value})`);
      return;
    }
    const entry = samples.get(id) ?? { meta, values: [] };
    entry.values.push(value);
    samples.set(id, entry);
  };
  const sparkPid = readSparkState()?.pid;
  const kafkaPid = readKafkaState()?.pid;
  const rss = new RssSampler({ spark: sparkPid, kafka: kafkaPid });

  // Memory at rest: before any work of this run, sampled once a second. A server that has already worked
  // keeps its grown heap, so this is the server as the suite found it (a fresh one is ~0.3 GiB).
  for (let i = 0; i < opts.repetitions; i++) {
    const now = rss.sample();
    add(
      'memory.spark_rss_idle',
      {
        group: 'memory',
        title: 'Spark Connect server RSS at rest (before the suite)',
        unit: 'bytes',
        better: 'lower',
        workload: 'as the suite found the server',
      },
      now.spark,
    );
    add(
      'memory.kafka_rss_idle',
      {
        group: 'memory',
        title: 'Kafka broker RSS at rest (before the suite)',
        unit: 'bytes',
        better: 'lower',
        workload: 'as the suite found the broker',
      },
      now.kafka,
    );
    await sleep(1000);
  }
  rss.start();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spark-ts-bench-'));
  const steps = [
    'connect round trips',
    'collect throughput',
    'kafka throughput',
    'streaming',
    'cdc apply + model',
    'preprocess',
    'cache storage levels',
  ];
  const total = steps.length * opts.repetitions;
  let done = 0;
  const step = async (label: string, fn: () => Promise<void>) => {
    if (opts.signal?.aborted) throw new Error('bench interrupted');
    opts.onStep?.(done, total, label, 'start');
    await fn();
    done++;
    opts.onStep?.(done, total, label, 'end');
  };
  try {
    for (let rep = 0; rep < opts.repetitions; rep++) {
      const r = `repetition ${rep + 1}/${opts.repetitions}`;
      await step(`${r}: connect round trips`, async () => {
        const [select1, threeOps] = await roundTrips(spark, s.roundTrips);
        const w = `${s.roundTrips} runs`;
        add(
          'latency.connect_select1_median_ms',
          { group: 'latency', title: 'Spark Connect round trip, SELECT 1 (median)', unit: 'ms', better: 'lower', workload: w },
          select1.median_ms,
        );
        add(
          'latency.connect_select1_p95_ms',
          { group: 'latency', title: 'Spark Connect round trip, SELECT 1 (p95)', unit: 'ms', better: 'lower', workload: w },
          select1.p95_ms,
        );
        add(
          'latency.connect_dataframe3_median_ms',
          { group: 'latency', title: 'Spark Connect round trip, 3-operation DataFrame (median)', unit: 'ms', better: 'lower', workload: w },
          threeOps.median_ms,
        );
        add(
          'latency.connect_dataframe3_p95_ms',
          { group: 'latency', title: 'Spark Connect round trip, 3-operation DataFrame (p95)', unit: 'ms', better: 'lower', workload: w },
          threeOps.p95_ms,
        );
      });
      await step(`${r}: collect throughput`, async () => {
        const res = await throughput(spark, s.collectRows);
        const w = `${s.collectRows.toLocaleString('en-US')} rows × 10 mixed columns`;
        for (const t of res) {
          const key = t.path === 'toArrow()' ? 'to_arrow' : t.path === 'collect()' ? 'collect' : undefined;
          if (!key) continue;
          add(
            `throughput.${key}_rows_per_s`,
            { group: 'throughput', title: `collect through ${t.path}`, unit: 'rows/s', better: 'higher', workload: w },
            t.rows_per_s,
          );
        }
      });
      await step(`${r}: kafka throughput`, async () => {
        const k = await measureKafkaThroughput(s.kafkaMessages, 200, opts.bootstrapServers);
        const w = `${s.kafkaMessages.toLocaleString('en-US')} × 200 B, acks=all, idempotent`;
        add(
          'throughput.kafka_produce_msgs_per_s',
          { group: 'throughput', title: 'Kafka produce', unit: 'msg/s', better: 'higher', workload: w },
          k.produce_msgs_per_s,
        );
        add(
          'throughput.kafka_consume_msgs_per_s',
          { group: 'throughput', title: 'Kafka consume', unit: 'msg/s', better: 'higher', workload: w },
          k.consume_msgs_per_s,
        );
      });
      await step(`${r}: streaming`, async () => {
        const st = await measureStreamAtRate(
          spark,
          s.streamRate,
          s.streamSeconds,
          100,
          opts.bootstrapServers,
          () => undefined,
          s.streamTiming,
        );
        const w = `${s.streamRate.toLocaleString('en-US')} msg/s for ${s.streamSeconds} s, 100 sensors, 1 s trigger (live 500 ms), ${s.streamTiming.watermarkMs / 1000} s watermark`;
        add(
          'throughput.stream_processed_rows_per_s',
          {
            group: 'throughput',
            title: 'streaming processed rows/s (Spark, batches with data)',
            unit: 'rows/s',
            better: 'higher',
            workload: w,
          },
          st.spark_processed_rows_per_s_mean,
        );
        add(
          'latency.stream_e2e_p50_ms',
          {
            group: 'latency',
            title: 'streaming end to end, event → closed aggregate in Kafka (p50)',
            unit: 'ms',
            better: 'lower',
            workload: w,
          },
          st.e2e_latency_ms.p50,
        );
        add(
          'latency.stream_e2e_p95_ms',
          { group: 'latency', title: 'streaming end to end, closed aggregate (p95)', unit: 'ms', better: 'lower', workload: w },
          st.e2e_latency_ms.p95,
        );
        add(
          'latency.stream_e2e_p99_ms',
          { group: 'latency', title: 'streaming end to end, closed aggregate (p99)', unit: 'ms', better: 'lower', workload: w },
          st.e2e_latency_ms.p99,
        );
        add(
          'latency.stream_live_p50_ms',
          {
            group: 'latency',
            title: 'streaming live, newest reading → sensor_aggregates_live update received (p50)',
            unit: 'ms',
            better: 'lower',
            workload: w,
          },
          st.live_latency_ms.p50,
        );
        add(
          'latency.stream_live_p95_ms',
          { group: 'latency', title: 'streaming live update (p95)', unit: 'ms', better: 'lower', workload: w },
          st.live_latency_ms.p95,
        );
        add(
          'latency.stream_live_p99_ms',
          { group: 'latency', title: 'streaming live update (p99)', unit: 'ms', better: 'lower', workload: w },
          st.live_latency_ms.p99,
        );
        add(
          'latency.stream_live_newest_window_p95_ms',
          {
            group: 'latency',
            title:
              "streaming live update of a sensor's newest window, after the warm-up (p95; leaves out windows reopened by late readings)",
            unit: 'ms',
            better: 'lower',
            workload: w,
          },
          st.live_newest_window_latency_ms_after_warmup.p95,
        );
      });
      await step(`${r}: cdc apply + model`, async () => {
        const stateDir = path.join(tmp, `cdc-${randomUUID().slice(0, 8)}`);
        const c = await measureCdcApply({ updates: s.cdcUpdates, stateDir, bootstrapServers: opts.bootstrapServers, log: () => undefined });
        const w = `${c.snapshot_rows.toLocaleString('en-US')}-row snapshot + ${s.cdcUpdates.toLocaleString('en-US')} changes, checkpointing on`;
        add(
          'throughput.cdc_apply_events_per_s',
          { group: 'throughput', title: 'CDC apply (incremental model + state store)', unit: 'events/s', better: 'higher', workload: w },
          c.events_per_s,
        );
        const loaded = readStoreReadOnly(stateDir);
        const model = readModelFile(stateDir);
        const ours = loaded.state.evaluate(loaded.state.model(model.lambda)).holdout;
        const mw = `hold-out of ${ours.rows} customers (${c.snapshot_source})`;
        const metric = (name: string, key: 'roc_auc' | 'accuracy' | 'precision' | 'recall', v: number | null) =>
          add(
            `model.${name}_${key}`,
            {
              group: 'model',
              title: `${name === 'ridge' ? 'incremental ridge (ours)' : 'Spark ML LogisticRegression'}: ${key === 'roc_auc' ? 'ROC AUC' : key}`,
              unit: 'ratio',
              better: 'higher',
              workload: mw,
            },
            v,
          );
        for (const k of ['roc_auc', 'accuracy', 'precision', 'recall'] as const) metric('ridge', k, ours[k]);
        const ml = await sparkLogisticRegression(spark, loaded.state, { regParam: 0, maxIter: 100 });
        for (const k of ['roc_auc', 'accuracy', 'precision', 'recall'] as const) metric('spark_ml_lr', k, ml.holdout[k]);
        fs.rmSync(stateDir, { recursive: true, force: true });
      });
      await step(`${r}: preprocess`, async () => {
        const p = await measurePreprocess(spark, s.preprocessRows, 42 + rep, path.join(tmp, `pre-${rep}`));
        const w = `${s.preprocessRows.toLocaleString('en-US')} generated rows`;
        add(
          'throughput.preprocess_rows_per_s',
          { group: 'throughput', title: 'preprocess', unit: 'rows/s', better: 'higher', workload: w },
          p.preprocess_rows_per_s,
        );
        fs.rmSync(path.join(tmp, `pre-${rep}`), { recursive: true, force: true });
      });
      await step(`${r}: cache storage levels`, async () => {
        // none and two iterations: the steady-state speedup of each level against recomputing the workload.
        const report = await runCacheBench(spark, {
          rows: s.cacheRows,
          iterations: 2,
          modes: ['none', ...CACHE_MODES],
          seed: 42,
          uiUrls: [...new Set([opts.uiUrl, ...uiUrlCandidates()])],
          log: () => undefined,
          signal: opts.signal,
        });
        const w = `${s.cacheRows.toLocaleString('en-US')} generated customer rows (preprocess plan + join)`;
        for (const m of report.modes) {
          if (m.skipped || m.mode === 'none') continue;
          add(
            `throughput.cache_speedup_${m.mode.toLowerCase()}`,
            { group: 'throughput', title: `query mix speedup over no cache, ${m.mode}`, unit: '×', better: 'higher', workload: w },
            m.speedup,
          );
          add(
            `memory.cache_bytes_per_row_${m.mode.toLowerCase()}`,
            { group: 'memory', title: `cached bytes per row, ${m.mode}`, unit: 'bytes/row', better: 'lower', workload: w },
            m.bytes_per_row,
          );
        }
      });
      const peaks = rss.takePeaks();
      add(
        'memory.spark_rss_peak',
        { group: 'memory', title: 'Spark Connect server RSS, peak', unit: 'bytes', better: 'lower', workload: 'during one repetition' },
        peaks.spark,
      );
      add(
        'memory.kafka_rss_peak',
        { group: 'memory', title: 'Kafka broker RSS, peak', unit: 'bytes', better: 'lower', workload: 'during one repetition' },
        peaks.kafka,
      );
    }
  } finally {
    rss.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const figures: Figure[] = [...samples.entries()].map(([id, { meta, values }]) => figure({ id, ...meta }, values));
  return {
    schema: RESULTS_SCHEMA,
    created_at: new Date().toISOString(),
    quick: opts.quick,
    repetitions: opts.repetitions,
    machine: machineInfo(),
    figures,
  };
}
