// The client's measures (round trips, collect throughput): of `make bench` (lib/bench/suite.ts) and of
// scripts/bench/connect-collect.ts (its command line, at the larger sizes). Quantiles: lib/measure/stats.
import { PerformanceObserver, performance } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { SparkSession, functions as F, sleep, type DataFrame, type LazyRow } from '../connect';
import { rowsFromTable, tableFromBatches } from '../connect/arrow';
import type { StructType } from '../connect/types';
import { quantile } from '../measure/stats';

export interface LatencyResult {
  name: string;
  runs: number;
  median_ms: number;
  p95_ms: number;
  min_ms: number;
  max_ms: number;
}
export interface ThroughputResult {
  rows: number;
  columns: number;
  path:
    | 'stream (Arrow IPC bytes only)'
    | 'toArrow()'
    | 'collect()'
    | "collect({ rows: 'lazy' })"
    | 'toColumns()'
    | 'baseline: whole stream, then rows';
  seconds: number;
  rows_per_s: number;
  mb_per_s: number;
  arrow_bytes: number;
  /** CPU time of this process during the path (main thread, GC helper threads, gRPC), seconds. */
  client_cpu_s: number;
  /** Time the main thread stood in GC pauses during the path, seconds. */
  gc_pause_s: number;
}

/** Phase lines on stderr, so a slow or stuck phase shows where it is. */
function progress(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** Round-trip times of `fn` in ms (after up to 10 warm-up calls), with median and p95. */
export async function latency(name: string, runs: number, fn: () => Promise<unknown>): Promise<LatencyResult & { samples_ms: number[] }> {
  progress(`latency: ${name} × ${runs}`);
  for (let i = 0; i < Math.min(10, runs); i++) await fn(); // warm-up: plan caches, JIT, channel
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  const samples = [...times];
  times.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    name,
    runs,
    median_ms: r(quantile(times, 0.5)),
    p95_ms: r(quantile(times, 0.95)),
    min_ms: r(times[0]!),
    max_ms: r(times[times.length - 1]!),
    samples_ms: samples,
  };
}

/** `SELECT 1` and a three-operation DataFrame (filter, withColumn, groupBy-agg), each `runs` times. */
export async function roundTrips(spark: SparkSession, runs: number): Promise<Array<LatencyResult & { samples_ms: number[] }>> {
  const out = [await latency('SELECT 1 (sql + collect)', runs, async () => (await spark.sql('SELECT 1')).collect())];
  const threeOps = spark
    .range(10_000)
    .filter(F.expr('id % 3 = 0'))
    .withColumn('k', F.expr('id % 10'))
    .groupBy('k')
    .agg(F.sum('id').alias('total'));
  out.push(await latency('range.filter.withColumn.groupBy.agg collect', runs, () => threeOps.collect()));
  return out;
}

/** n rows × 10 mixed columns generated in the server. */
export function mixed(spark: SparkSession, n: number): DataFrame {
  return spark
    .range(n)
    .selectExpr(
      'id',
      'CAST(id % 1000 AS INT) AS i',
      'id * 0.5D AS d',
      "concat('name-', CAST(id % 9973 AS STRING)) AS s",
      'id % 3 = 0 AS b',
      "date_add(DATE'2000-01-01', CAST(id % 10000 AS INT)) AS dt",
      "TIMESTAMP'2024-01-01 00:00:00' + make_interval(0, 0, 0, 0, 0, 0, CAST(id % 86400 AS DECIMAL(10,0)) + 0.123456) AS ts",
      'CAST(id AS DECIMAL(18,2)) / 4 AS dec',
      'CAST(id % 100 AS FLOAT) / 8 AS f',
      'CAST(id % 30000 AS SMALLINT) AS sh',
    );
}

/**
 * A full garbage collection, untimed, before each measured path: otherwise a path pays for collecting what
 * the path before it dropped (a million rows after collect()).
 */
function collectGarbage(): void {
  if (!fullGc) {
    v8.setFlagsFromString('--expose-gc');
    fullGc = vm.runInNewContext('gc') as () => void;
  }
  fullGc();
}
let fullGc: (() => void) | undefined;

/** Collect throughput of n rows × 10 columns: raw Arrow stream, toArrow(), collect(), lazy rows and toColumns(). */
export async function throughput(spark: SparkSession, n: number, opts: { baseline?: boolean } = {}): Promise<ThroughputResult[]> {
  const df = mixed(spark, n);
  const out: ThroughputResult[] = [];
  // Where the client's time goes: its CPU (a path that decodes more burns more of the two cores the server
  // also needs) and its GC pauses (every row object and value survives until the result is returned).
  let gcPauseMs = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcPauseMs += e.duration;
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const start = async () => {
    collectGarbage();
    await sleep(0); // its GC entry is delivered before the clock starts
    return { t: performance.now(), cpu: process.cpuUsage(), gc: gcPauseMs };
  };
  const record = async (p: ThroughputResult['path'], from: Awaited<ReturnType<typeof start>>, bytes: number) => {
    const seconds = (performance.now() - from.t) / 1000;
    const cpu = process.cpuUsage(from.cpu);
    await sleep(0); // GC entries are delivered asynchronously
    out.push({
      rows: n,
      columns: 10,
      path: p,
      seconds: Math.round(seconds * 1000) / 1000,
      rows_per_s: Math.round(n / seconds),
      mb_per_s: Math.round((bytes / 1e6 / seconds) * 10) / 10,
      arrow_bytes: bytes,
      client_cpu_s: Math.round((cpu.user + cpu.system) / 1000) / 1000,
      gc_pause_s: Math.round(gcPauseMs - from.gc) / 1000,
    });
  };
  try {
    // 1. The raw stream: bytes off the wire, no decoding (the ceiling for the two below).
    progress(`throughput: ${n.toLocaleString('en-US')} rows: stream, toArrow(), collect()`);
    let bytes = 0;
    let t0 = await start();
    for await (const b of spark.executeArrow(df.plan)) bytes += b.byteLength;
    await record('stream (Arrow IPC bytes only)', t0, bytes);

    // 2. toArrow(): an apache-arrow Table.
    t0 = await start();
    let table: Awaited<ReturnType<DataFrame['toArrow']>> | null = await df.toArrow();
    await record('toArrow()', t0, bytes);
    if (table.numRows !== n) throw new Error(`toArrow returned ${table.numRows} rows, expected ${n}`);
    table = null; // a suspended async function keeps its locals: results are dropped by hand between paths

    // 3. collect(): every row as an object of exact JS values.
    t0 = await start();
    let rows: unknown[] | null = await df.collect();
    await record('collect()', t0, bytes);
    if (rows.length !== n) throw new Error(`collect returned ${rows.length} rows, expected ${n}`);
    rows = null;

    // 3b. The collect() before issue 15, for a side-by-side baseline: the whole stream first, then rows.
    if (opts.baseline) {
      t0 = await start();
      const all: Uint8Array[] = [];
      let schema: StructType | undefined;
      for await (const b of spark.executeArrow(df.plan, {}, (s) => (schema = s))) all.push(b);
      let before: unknown[] | null = rowsFromTable(tableFromBatches(all, schema), schema);
      await record('baseline: whole stream, then rows', t0, bytes);
      if (before.length !== n) throw new Error(`baseline returned ${before.length} rows, expected ${n}`);
      before = null;
      all.length = 0;
    }

    // 4. Lazy rows: one object per row, columns decoded when read (here: every value of every row is read,
    // so this is the worst case for them).
    t0 = await start();
    let lazy: LazyRow[] | null = await df.collect({ rows: 'lazy' });
    const names = ['id', 'i', 'd', 's', 'b', 'dt', 'ts', 'dec', 'f', 'sh'];
    let touched = 0;
    for (const row of lazy) for (const k of names) if (row[k] !== undefined) touched++;
    await record("collect({ rows: 'lazy' })", t0, bytes);
    if (lazy.length !== n || touched !== n * names.length) throw new Error(`lazy collect returned ${lazy.length} rows, ${touched} values`);
    lazy = null;

    // 5. toColumns(): typed arrays + validity, no per-row objects.
    t0 = await start();
    const cols = await df.toColumns();
    await record('toColumns()', t0, bytes);
    if (cols.numRows !== n) throw new Error(`toColumns returned ${cols.numRows} rows, expected ${n}`);
    return out;
  } finally {
    gcObserver.disconnect();
  }
}
