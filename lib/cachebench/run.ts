import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { StorageLevel, type DataFrame, type SparkSession } from '../connect';
import { machineInfo, type MachineInfo } from '../bench/machine';
import { MODE_SPECS, levelName, sameFlags, describeLevel, type LevelFlags, type ModeName } from './modes';
import { buildRegions, buildWorkload, defaultPartitions, markForCache, readCsv, readParquet, writeBaselines, WORKLOAD_SCHEMA_DDL } from './workload';
import { QUERIES, runQueryMix, type QueryTiming } from './queries';
import { resultDigest, digestsAgree } from './digest';
import { perRow, ratio, speedup, summarizeIterations } from './measure';
import { SparkRestClient, totals, type CachedRdd } from './rest';
import { dataBytes } from './files';

export interface CacheBenchOptions {
  rows: number;
  iterations: number;
  modes: ModeName[];
  seed: number;
  /** Partitions of the generating range; default from the row count. */
  partitions?: number;
  /** Where the Parquet and CSV baselines go (must be visible to the Spark server). Default: a fresh temp dir. */
  workDir?: string;
  /** Keep the baseline files after the run. */
  keepFiles?: boolean;
  uiUrl: string;
  signal?: AbortSignal;
  log(message: string): void;
}

export interface ModeResult {
  mode: ModeName;
  /** The level confirmed on the server with storageLevel (Scala constant name); NONE when nothing is persisted. */
  storage_level: string | null;
  storage_level_flags: string | null;
  first_ms: number | null;
  median_ms: number | null;
  p95_ms: number | null;
  /** The fastest later iteration. */
  min_ms: number | null;
  /** none's median / this mode's median. */
  speedup: number | null;
  /** none's fastest later iteration / this mode's: less sensitive to other load on a shared machine. */
  speedup_min: number | null;
  /** Cache bytes from Spark's REST API (null: not measured). */
  memory_bytes: number | null;
  disk_bytes: number | null;
  off_heap_bytes: number | null;
  /** What the mode keeps between queries: the cache (persisted), the files (parquet, csv), nothing (none). */
  stored_in: 'cache' | 'parquet files' | 'csv files' | 'nothing';
  stored_bytes: number | null;
  bytes_per_row: number | null;
  ratio_to_parquet: number | null;
  ratio_to_csv: number | null;
  cached_partitions: number | null;
  total_partitions: number | null;
  /** Whether, after unpersist(blocking=true), the server's storage list held nothing of this mode. */
  storage_freed: boolean | null;
  result_digest: string | null;
  /** Whether every iteration of this mode produced the same digest. */
  digest_stable: boolean | null;
  iterations_ms: number[];
  /** The machine's 1-minute load average after each iteration: on a shared server, what the times competed with. */
  load_average: number[];
  query_ms: Record<string, number[]>;
  skipped: string | null;
  error: string | null;
}

export interface CacheBenchReport {
  benchmark: 'cache-bench';
  run_id: string;
  /** Every persisted DataFrame's RDD name starts with this marker (for finding them in the REST API). */
  cache_marker: string;
  created_at: string;
  rows: number;
  iterations: number;
  seed: number;
  partitions: number;
  machine: MachineInfo & {
    spark_version: string;
    spark_master: string | null;
    off_heap: string | null;
    /** Storage memory of the block managers, from the REST API (null: not measured). */
    storage_memory_on_heap_bytes: number | null;
    storage_memory_off_heap_bytes: number | null;
  };
  rest_api: { url: string; reachable: boolean; app_id: string | null; reason: string | null };
  workload: { schema: string; queries: Array<{ name: string; describe: string }> };
  baselines: { parquet_bytes: number | null; csv_bytes: number | null; parquet_write_ms: number; csv_write_ms: number; work_dir: string; kept: boolean };
  modes: ModeResult[];
  digests_equal: boolean;
  /** This run's cached RDDs still listed by the REST API at the end (null: not measured). */
  leftover_cached_rdds: number | null;
}

const POLL_MS = 250;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const toFlags = (l: StorageLevel): LevelFlags => ({ useDisk: l.useDisk, useMemory: l.useMemory, useOffHeap: l.useOffHeap, deserialized: l.deserialized, replication: l.replication });
const fromFlags = (f: LevelFlags) => new StorageLevel(f.useDisk, f.useMemory, f.useOffHeap, f.deserialized, f.replication);

/** The marker in a persisted DataFrame's plan (and so in its RDD name). Brackets delimit it: no mode's marker is a prefix of another's. */
export const cacheMarker = (runId: string, mode: ModeName) => `cachebench[${runId}/${mode}]`;

function emptyResult(mode: ModeName): ModeResult {
  return {
    mode,
    storage_level: null,
    storage_level_flags: null,
    first_ms: null,
    median_ms: null,
    p95_ms: null,
    min_ms: null,
    speedup: null,
    speedup_min: null,
    memory_bytes: null,
    disk_bytes: null,
    off_heap_bytes: null,
    stored_in: MODE_SPECS[mode].kind === 'persisted' ? 'cache' : mode === 'parquet' ? 'parquet files' : mode === 'csv' ? 'csv files' : 'nothing',
    stored_bytes: null,
    bytes_per_row: null,
    ratio_to_parquet: null,
    ratio_to_csv: null,
    cached_partitions: null,
    total_partitions: null,
    storage_freed: null,
    result_digest: null,
    digest_stable: null,
    iterations_ms: [],
    load_average: [],
    query_ms: Object.fromEntries(QUERIES.map((q) => [q.name, [] as number[]])),
    skipped: null,
    error: null,
  };
}

/**
 * Reads this mode's cache from the REST API until it settles (block updates reach the UI's store through
 * an asynchronous listener bus): two equal readings in a row with every partition accounted for, or the
 * last reading after `timeoutMs`.
 */
async function settledCache(rest: SparkRestClient, marker: string, timeoutMs = 10_000): Promise<CachedRdd[]> {
  const deadline = Date.now() + timeoutMs;
  let previous = '';
  let rdds: CachedRdd[] = [];
  for (;;) {
    rdds = await rest.cachedWith(marker);
    const key = JSON.stringify(rdds.map((r) => [r.id, r.numCachedPartitions, r.memoryUsed, r.diskUsed]));
    if (rdds.length && key === previous) return rdds;
    if (Date.now() > deadline) return rdds;
    previous = key;
    await sleep(POLL_MS * 2);
  }
}

/** Waits until the REST API lists nothing with this marker; false if something is still there after `timeoutMs`. */
async function storageFreed(rest: SparkRestClient, marker: string, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await rest.cachedWith(marker)).length === 0) return true;
    if (Date.now() > deadline) return false;
    await sleep(POLL_MS);
  }
}

const NONE_FLAGS: LevelFlags = { useDisk: false, useMemory: false, useOffHeap: false, deserialized: false, replication: 1 };

/**
 * unpersist(blocking=true), then checks that the storage is freed: the server reports level NONE for the
 * DataFrame, and the REST API lists nothing with its marker. null when the REST API is not reachable.
 */
async function release(df: DataFrame, rest: SparkRestClient | undefined, marker: string, log: (m: string) => void, mode: string): Promise<boolean | null> {
  try {
    await df.unpersist(true);
    const levelNone = sameFlags(toFlags(await df.storageLevel()), NONE_FLAGS);
    const freed = rest ? levelNone && (await storageFreed(rest, marker)) : levelNone ? null : false;
    if (freed === false) log(`${mode}: storage still held after unpersist(blocking=true)`);
    return freed;
  } catch (e) {
    log(`${mode}: unpersist failed: ${(e as Error).message}`);
    return false;
  }
}

async function confOrNull(spark: SparkSession, key: string): Promise<string | null> {
  try {
    return await spark.conf.get(key);
  } catch {
    return null;
  }
}

/** Runs the benchmark: writes the baselines, then every mode in turn. Leaves nothing cached on the server. */
export async function runCacheBench(spark: SparkSession, opts: CacheBenchOptions): Promise<CacheBenchReport> {
  const { log } = opts;
  const runId = randomUUID().slice(0, 8);
  const partitions = opts.partitions ?? defaultPartitions(opts.rows);
  const workDir = path.resolve(opts.workDir ?? path.join(os.tmpdir(), `spark-ts-cache-bench-${runId}`));
  const dirs = { parquet: path.join(workDir, 'workload.parquet'), csv: path.join(workDir, 'workload.csv') };
  const checkAbort = () => {
    if (opts.signal?.aborted) throw new Error('cache-bench interrupted');
  };

  const rest = new SparkRestClient(opts.uiUrl);
  const probe = await rest.probe();
  if (!probe.ok) log(`memory and disk figures will be null: ${probe.reason}`);

  const [sparkVersion, master, offHeapEnabled, offHeapSize] = await Promise.all([
    spark.version(),
    confOrNull(spark, 'spark.master'),
    confOrNull(spark, 'spark.memory.offHeap.enabled'),
    confOrNull(spark, 'spark.memory.offHeap.size'),
  ]);
  const offHeapOn = offHeapEnabled === 'true' && offHeapSize !== null && offHeapSize !== '0';
  const capacity = probe.ok ? await rest.storageCapacity().catch(() => ({ onHeapBytes: null, offHeapBytes: null })) : { onHeapBytes: null, offHeapBytes: null };

  const workload = buildWorkload(spark, { rows: opts.rows, partitions, seed: opts.seed });
  const regions = buildRegions(spark);

  const results: ModeResult[] = [];
  let parquetBytes: number | null = null;
  let csvBytes: number | null = null;
  let writes = { parquet_write_ms: 0, csv_write_ms: 0 };
  // Only what this run created is removed afterwards: never a --work-dir's other contents.
  const createdWorkDir = !fs.existsSync(workDir);
  try {
    log(`writing ${opts.rows.toLocaleString('en-US')} rows to Parquet and CSV under ${workDir}`);
    fs.mkdirSync(workDir, { recursive: true });
    writes = await writeBaselines(workload, dirs);
    parquetBytes = await dataBytes(spark, dirs.parquet, '.parquet');
    csvBytes = await dataBytes(spark, dirs.csv, '.csv');
    log(`baselines: Parquet ${fmtBytes(parquetBytes)} (${writes.parquet_write_ms} ms), CSV ${fmtBytes(csvBytes)} (${writes.csv_write_ms} ms)`);

    for (const mode of opts.modes) {
      checkAbort();
      const spec = MODE_SPECS[mode];
      const r = emptyResult(mode);
      results.push(r);
      if (mode === 'OFF_HEAP' && !offHeapOn) {
        r.skipped = `off-heap storage is disabled on this server (spark.memory.offHeap.enabled=${offHeapEnabled ?? 'unset'}, size=${offHeapSize ?? 'unset'}); start it with spark.memory.offHeap.enabled=true and a size`;
        log(`${mode}: skipped: ${r.skipped}`);
        continue;
      }
      const marker = cacheMarker(runId, mode);
      let persisted: DataFrame | undefined;
      try {
        // What the queries run over in this mode. File modes build a fresh reader each iteration.
        let facts: () => DataFrame = () => workload;
        if (spec.kind === 'persisted' && spec.level) {
          const df = markForCache(workload, marker);
          persisted = df;
          await df.persist(fromFlags(spec.level));
          const confirmed = toFlags(await df.storageLevel());
          r.storage_level = levelName(confirmed);
          r.storage_level_flags = describeLevel(confirmed);
          if (!sameFlags(confirmed, spec.level)) {
            throw new Error(`the server reports storage level ${describeLevel(confirmed)} after persist(${describeLevel(spec.level)})`);
          }
          facts = () => df;
        } else {
          const level = toFlags(await (mode === 'parquet' ? readParquet(spark, dirs.parquet) : mode === 'csv' ? readCsv(spark, dirs.csv) : workload).storageLevel());
          r.storage_level = levelName(level);
          r.storage_level_flags = describeLevel(level);
          if (mode === 'parquet') facts = () => readParquet(spark, dirs.parquet);
          if (mode === 'csv') facts = () => readCsv(spark, dirs.csv);
        }

        const digests: string[] = [];
        for (let i = 0; i < opts.iterations; i++) {
          checkAbort();
          const mix = await runQueryMix(facts(), regions, { signal: opts.signal });
          r.iterations_ms.push(Math.round(mix.ms * 10) / 10);
          r.load_average.push(Math.round(os.loadavg()[0] * 100) / 100);
          for (const t of mix.timings as QueryTiming[]) r.query_ms[t.query].push(Math.round(t.ms * 10) / 10);
          digests.push(resultDigest(mix.results));
          log(`${mode}: iteration ${i + 1}/${opts.iterations}: ${Math.round(mix.ms)} ms`);
        }
        r.result_digest = digests[0] ?? null;
        r.digest_stable = digestsAgree(digests);
        Object.assign(r, summarizeIterations(r.iterations_ms));

        // Storage, as Spark's block manager accounts it.
        if (probe.ok) {
          if (spec.kind === 'persisted') {
            const t = totals(await settledCache(rest, marker));
            r.memory_bytes = t.memoryBytes;
            r.disk_bytes = t.diskBytes;
            r.off_heap_bytes = t.offHeapBytes;
            r.cached_partitions = t.numCachedPartitions;
            r.total_partitions = t.numPartitions;
            if (t.rdds === 0) log(`${mode}: the REST API lists no cached RDD for this run (cache not materialized?)`);
          } else {
            // Nothing is persisted in this mode: the storage list holding nothing of this run is the measurement.
            const ours = await rest.cachedWith(`cachebench[${runId}/`);
            r.memory_bytes = totals(ours).memoryBytes;
            r.disk_bytes = totals(ours).diskBytes;
          }
        }
        if (spec.kind === 'persisted') r.stored_bytes = r.memory_bytes === null || r.disk_bytes === null ? null : r.memory_bytes + r.disk_bytes;
        else if (mode === 'parquet') r.stored_bytes = parquetBytes;
        else if (mode === 'csv') r.stored_bytes = csvBytes;
        else r.stored_bytes = r.memory_bytes === null ? null : 0;
        r.bytes_per_row = perRow(r.stored_bytes, opts.rows);
        r.ratio_to_parquet = ratio(r.stored_bytes, parquetBytes);
        r.ratio_to_csv = ratio(r.stored_bytes, csvBytes);
      } catch (e) {
        if (opts.signal?.aborted) throw e;
        r.error = (e as Error).message;
        log(`${mode}: failed: ${r.error}`);
      } finally {
        if (persisted) r.storage_freed = await release(persisted, probe.ok ? rest : undefined, marker, log, mode);
      }
    }
  } finally {
    if (!opts.keepFiles) {
      for (const d of Object.values(dirs)) fs.rmSync(d, { recursive: true, force: true });
      if (createdWorkDir) fs.rmSync(workDir, { recursive: true, force: true });
    }
  }

  const baseline = results.find((m) => m.mode === 'none' && !m.error && !m.skipped);
  for (const m of results) {
    m.speedup = m.skipped || m.error ? null : speedup(m, baseline);
    m.speedup_min = m.skipped || m.error ? null : speedup(m, baseline, 'min');
  }
  const leftover = probe.ok ? (await rest.cachedWith(`cachebench[${runId}/`)).length : null;

  return {
    benchmark: 'cache-bench',
    run_id: runId,
    cache_marker: `cachebench[${runId}/`,
    created_at: new Date().toISOString(),
    rows: opts.rows,
    iterations: opts.iterations,
    seed: opts.seed,
    partitions,
    machine: {
      ...machineInfo(),
      spark_version: sparkVersion,
      spark_master: master,
      off_heap: offHeapOn ? offHeapSize : null,
      storage_memory_on_heap_bytes: capacity.onHeapBytes,
      storage_memory_off_heap_bytes: capacity.offHeapBytes,
    },
    rest_api: { url: opts.uiUrl, reachable: probe.ok, app_id: probe.ok ? probe.appId : null, reason: probe.ok ? null : probe.reason },
    workload: { schema: WORKLOAD_SCHEMA_DDL, queries: QUERIES.map((q) => ({ name: q.name, describe: q.describe })) },
    baselines: { parquet_bytes: parquetBytes, csv_bytes: csvBytes, ...writes, work_dir: workDir, kept: !!opts.keepFiles },
    modes: results,
    digests_equal: digestsAgree(results.map((m) => m.result_digest)) && results.every((m) => m.digest_stable !== false),
    leftover_cached_rdds: leftover,
  };
}

export function fmtBytes(n: number | null): string {
  if (n === null) return 'n/a';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u ? 1 : 0)} ${units[u]}`;
}
