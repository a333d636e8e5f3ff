// The measures of scripts/bench/preprocess.ts (its command line) and of `make bench` (lib/bench/suite.ts).
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { SparkSession } from '../connect';
import { readSparkState } from '../runtime/spark-server';
import { procMemoryBytes } from '../runtime/process';
import { RssSampler } from '../measure/rss';
import { DEFAULT_DEFECT_RATES } from './defects';
import { runGenerate } from './generate';
import { runPreprocess } from './pipeline';

export interface PreprocessBenchResult {
  rows: number;
  input_bytes: number;
  generate_s: number;
  generate_rows_per_s: number;
  preprocess_s: number;
  preprocess_rows_per_s: number;
  /** Highest VmRSS of the Spark server sampled (every 200 ms) during generate and during preprocess. */
  generate_peak_rss_bytes: number | null;
  preprocess_peak_rss_bytes: number | null;
  /** The server's VmHWM (peak RSS since it started) after the run: an upper bound that includes earlier work. */
  server_hwm_bytes: number | null;
  rows_written: number;
  rows_quarantined: number;
  step_seconds: Record<string, number>;
}

/** Samples the server's RSS while `fn` runs; returns fn's result, the seconds it took and the peak seen. */
async function sampled<T>(pid: number | undefined, fn: () => Promise<T>): Promise<{ value: T; seconds: number; peak: number | null }> {
  const sampler = new RssSampler({ server: pid }, 200).start();
  const t0 = performance.now();
  try {
    const value = await fn();
    const seconds = (performance.now() - t0) / 1000;
    return { value, seconds, peak: sampler.takePeaks().server ?? null };
  } finally {
    sampler.stop();
  }
}

/** One size: generate the file, preprocess it, measure both. The files live under `dir`. */
export async function measurePreprocess(spark: SparkSession, rows: number, seed: number, dir: string): Promise<PreprocessBenchResult> {
  const pid = readSparkState()?.pid;
  const input = path.join(dir, `customers-${rows}.csv`);
  const output = path.join(dir, `processed-${rows}`);
  const gen = await sampled(pid, () => runGenerate(spark, { rows, seed, output: input, rates: DEFAULT_DEFECT_RATES }));
  const pre = await sampled(pid, () => runPreprocess(spark, { input, output }));
  return {
    rows,
    input_bytes: gen.value.bytes,
    generate_s: gen.seconds,
    generate_rows_per_s: rows / gen.seconds,
    preprocess_s: pre.seconds,
    preprocess_rows_per_s: rows / pre.seconds,
    generate_peak_rss_bytes: gen.peak,
    preprocess_peak_rss_bytes: pre.peak,
    server_hwm_bytes: pid === undefined ? null : (procMemoryBytes(pid, 'VmHWM') ?? null),
    rows_written: pre.value.report.rows_written,
    rows_quarantined: pre.value.report.rows_quarantined,
    step_seconds: pre.value.timings,
  };
}
