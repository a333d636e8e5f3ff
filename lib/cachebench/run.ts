import { formatBytes as fmtBytes } from '../util/bytes';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { sleep, StorageLevel, type DataFrame, type SparkSession } from '../connect';
import { machineInfo, type MachineInfo } from '../measure/machine';
import { MODE_SPECS, levelName, sameFlags, describeLevel, type LevelFlags, type ModeName } from './modes';
import { markForCache, prepareWorkload, readCsv, readParquet, writeBaselines, SEGMENT_ROWS, type WorkloadLedger } from './workload';
import { QUERIES, ROW_COUNT, runQueryMix, type QueryTiming } from './queries';
import { resultDigest, digestsAgree } from './digest';
import { breakEvenQueries, perRow, ratio, speedup, steadyState, summarizeIterations } from './measure';
import { SparkRestClient, locateSparkUi, totals, type CachedRdd } from './rest';
import { dataBytes } from './files';
import { errorMessage } from '../util/errors';

export interface CacheBenchOptions {
  rows: number;
  iterations: number;
  modes: ModeName[];
  seed: number;
  /** Partitions generate-data writes the CSV with (its bytes do not depend on it). */
  partitions?: number;
  /** Where the generated CSV, preprocess's outputs and the Parquet and CSV baselines go (visible to the Spark server). Default: a fresh temp dir. */
  workDir?: string;
  /** Keep the baseline files after the run. */
  keepFiles?: boolean;
  /** Where the Spark UI's REST API is: candidates in order (an explicit --ui-url alone); the one serving this server's application is used. */
  uiUrls: readonly string[];
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
  /** Steady-state median and p95 of each query (iterations 2..K). */
  query_stats: Record<string, { median_ms: number | null; p95_ms: number | null }>;
  /** What holding the workload this way costs once: writing the files, or the first mix minus a steady one (filling the cache). */
  setup_ms: number | null;
  /** Queries (at this mode's steady per-query average) after which holding has paid for itself against none; null: never. */
  break_even_queries: number | null;
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
  /** Memory / disk bytes per held row, separately (the level's footprint where it lives). */
  memory_bytes_per_row: number | null;
  disk_bytes_per_row: number | null;
  /** Whether the whole DataFrame stayed where the level asked (every partition cached, nothing on disk unless the level uses disk). */
  fits: boolean | null;
  /** What Spark did with what did not fit in storage memory, when something did not: 'recomputed' or 'spilled to disk'. */
  overflow: 'recomputed' | 'spilled to disk' | null;
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
  workload: {
    source: string;
    /** Data rows of the generated CSV (--rows); the held rows are ledger.rows_held. */
    rows_generated: number;
    ledger: WorkloadLedger;
    input_bytes: number;
    generate_ms: number;
    preprocess_ms: number;
    columns: number;
    schema: string;
    segments: number;
    queries: Array<{ name: string; describe: string }>;
  };
  baselines: {
    parquet_bytes: number | null;
    csv_bytes: number | null;
    parquet_write_ms: number | null;
    csv_write_ms: number | null;
    work_dir: string;
    kept: boolean;
  };
  modes: ModeResult[];
  /** The machine's 1-minute load average before the first mode and after the last (the run shares the machine). */
  load_average: { start: number; end: number | null };
  digests_equal: boolean;
  /** This run's cached RDDs still listed by the REST API at the end (null: not measured). */
  leftover_cached_rdds: number | null;
}

const POLL_MS = 250;
const toFlags = (l: StorageLevel): LevelFlags => ({
  useDisk: l.useDisk,
  useMemory: l.useMemory,
  useOffHeap: l.useOffHeap,
  deserialized: l.deserialized,
  replication: l.replication,
});
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
    stored_in:
      MODE_SPECS[mode].kind === 'persisted' ? 'cache' : mode === 'parquet' ? 'parquet files' : mode === 'csv' ? 'csv files' : 'nothing',
    stored_bytes: null,
    bytes_per_row: null,
    ratio_to_parquet: null,
    ratio_to_csv: null,
    memory_bytes_per_row: null,
    disk_bytes_per_row: null,
    fits: null,
    overflow: null,
    cached_partitions: null,
    total_partitions: null,
    storage_freed: null,
    result_digest: null,
    digest_stable: null,
    iterations_ms: [],
    load_average: [],
    query_ms: Object.fromEntries(QUERIES.map((q) => [q.name, [] as number[]])),
    query_stats: {},
    setup_ms: null,
    break_even_queries: null,
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
async function release(
  df: DataFrame,
  rest: SparkRestClient | undefined,
  marker: string,
  log: (m: string) => void,
  mode: string,
): Promise<boolean | null> {
  try {
    await df.unpersist(true);
    const levelNone = sameFlags(toFlags(await df.storageLevel()), NONE_FLAGS);
    const freed = rest ? levelNone && (await storageFreed(rest, marker)) : levelNone ? null : false;
    if (freed === false) log(`${mode}: storage still held after unpersist(blocking=true)`);
    return freed;
  } catch (e) {
    log(`${mode}: unpersist failed: ${errorMessage(e)}`);
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

const round1 = (x: number) => Math.round(x * 10) / 10;
const loadNow = () => Math.round(os.loadavg()[0] * 100) / 100;

/** What Spark did with the part of a persisted DataFrame that did not fit, from the level and the REST figures. */
export function overflowOf(
  level: LevelFlags,
  cachedPartitions: number | null,
  totalPartitions: number | null,
  diskBytes: number | null,
): { fits: boolean | null; overflow: ModeResult['overflow'] } {
  if (cachedPartitions === null || totalPartitions === null) return { fits: null, overflow: null };
  if (cachedPartitions < totalPartitions) return { fits: false, overflow: 'recomputed' };
  // Memory levels with a disk fallback put on disk what storage memory could not take.
  if (level.useMemory && level.useDisk && diskBytes !== null && diskBytes > 0) return { fits: false, overflow: 'spilled to disk' };
  return { fits: true, overflow: null };
}

/** What the server is and offers: its UI's REST API (for storage figures), version, master and off-heap settings. */
interface ServerFacts {
  uiUrl: string;
  rest: SparkRestClient;
  probe: Awaited<ReturnType<SparkRestClient['probe']>>;
  sparkVersion: string;
  master: string | null;
  offHeapEnabled: string | null;
  offHeapSize: string | null;
  offHeapOn: boolean;
  capacity: { onHeapBytes: number | null; offHeapBytes: number | null };
}

/** Step 1: finds this server's UI and reads the settings the report records. */
async function inspectServer(spark: SparkSession, uiUrls: readonly string[], log: (m: string) => void): Promise<ServerFacts> {
  // The UI must be this server's: on a shared machine the default port may be another session's server.
  const appId = await confOrNull(spark, 'spark.app.id');
  const uiUrl = await locateSparkUi(appId, uiUrls);
  const rest = new SparkRestClient(uiUrl, undefined, appId ?? undefined);
  const probe = await rest.probe();
  if (probe.ok) log(`Spark REST API: ${uiUrl} (application ${probe.appId})`);
  if (!probe.ok) log(`memory and disk figures will be null: ${probe.reason}`);

  const [sparkVersion, master, offHeapEnabled, offHeapSize] = await Promise.all([
    spark.version(),
    confOrNull(spark, 'spark.master'),
    confOrNull(spark, 'spark.memory.offHeap.enabled'),
    confOrNull(spark, 'spark.memory.offHeap.size'),
  ]);
  const offHeapOn = offHeapEnabled === 'true' && offHeapSize !== null && offHeapSize !== '0';
  const capacity = probe.ok
    ? await rest.storageCapacity().catch(() => ({ onHeapBytes: null, offHeapBytes: null }))
    : { onHeapBytes: null, offHeapBytes: null };
  return { uiUrl, rest, probe, sparkVersion, master, offHeapEnabled, offHeapSize, offHeapOn, capacity };
}

/** The file baselines the parquet and csv modes read, and what writing them cost. */
interface Baselines {
  parquetBytes: number | null;
  csvBytes: number | null;
  writes: { parquet_write_ms: number | null; csv_write_ms: number | null };
}

/** Step 3: writes the Parquet and CSV copies of the workload that the file modes asked for, and sizes them. */
async function writeFileBaselines(
  spark: SparkSession,
  workload: DataFrame,
  dirs: { parquet: string; csv: string },
  modes: readonly ModeName[],
  log: (m: string) => void,
): Promise<Baselines> {
  const writes = await writeBaselines(workload, dirs, { parquet: modes.includes('parquet'), csv: modes.includes('csv') });
  const parquetBytes = writes.parquet_write_ms === null ? null : await dataBytes(spark, dirs.parquet, '.parquet');
  const csvBytes = writes.csv_write_ms === null ? null : await dataBytes(spark, dirs.csv, '.csv');
  if (writes.parquet_write_ms !== null) log(`baseline: Parquet ${fmtBytes(parquetBytes)} (${writes.parquet_write_ms} ms)`);
  if (writes.csv_write_ms !== null) log(`baseline: CSV ${fmtBytes(csvBytes)} (${writes.csv_write_ms} ms)`);
  return { parquetBytes, csvBytes, writes };
}

/** What every mode runs against: the prepared workload, the baselines, the server's facts. */
interface ModeContext {
  spark: SparkSession;
  opts: CacheBenchOptions;
  runId: string;
  server: ServerFacts;
  workload: DataFrame;
  ddl: string;
  ledger: WorkloadLedger;
  dirs: { parquet: string; csv: string };
  baselines: Baselines;
  checkAbort(): void;
}

/**
 * Holds the workload the mode's way and confirms it on the server: `persisted` (the marked DataFrame of a
 * persisted mode) at the mode's level, which the server must report back; or the baseline files read afresh
 * each iteration; or recomputed (none). Returns what the queries run over.
 */
async function holdWorkload(c: ModeContext, mode: ModeName, r: ModeResult, persisted: DataFrame | undefined): Promise<() => DataFrame> {
  const spec = MODE_SPECS[mode];
  const { spark, workload, dirs, ddl } = c;
  if (persisted && spec.level) {
    await persisted.persist(fromFlags(spec.level));
    const confirmed = toFlags(await persisted.storageLevel());
    r.storage_level = levelName(confirmed);
    r.storage_level_flags = describeLevel(confirmed);
    if (!sameFlags(confirmed, spec.level)) {
      throw new Error(`the server reports storage level ${describeLevel(confirmed)} after persist(${describeLevel(spec.level)})`);
    }
    return () => persisted;
  }
  const level = toFlags(
    await (
      mode === 'parquet' ? readParquet(spark, dirs.parquet, ddl) : mode === 'csv' ? readCsv(spark, dirs.csv, ddl) : workload
    ).storageLevel(),
  );
  r.storage_level = levelName(level);
  r.storage_level_flags = describeLevel(level);
  // File modes build a fresh reader each iteration.
  if (mode === 'parquet') return () => readParquet(spark, dirs.parquet, ddl);
  if (mode === 'csv') return () => readCsv(spark, dirs.csv, ddl);
  return () => workload;
}

/** Runs the query mix `iterations` times over the held workload: times, load, the row count against the ledger, digests. */
async function runIterations(c: ModeContext, mode: ModeName, r: ModeResult, facts: () => DataFrame): Promise<void> {
  const { opts, ledger } = c;
  const digests: string[] = [];
  for (let i = 0; i < opts.iterations; i++) {
    c.checkAbort();
    const mix = await runQueryMix(facts(), { signal: opts.signal });
    r.iterations_ms.push(round1(mix.ms));
    r.load_average.push(loadNow());
    for (const t of mix.timings as QueryTiming[]) r.query_ms[t.query].push(round1(t.ms));
    // The ledger says how many rows each mode must hold: a mode that lost or gained rows fails.
    const counted = mix.results.find((q) => q.query === ROW_COUNT.query);
    const held = Number(counted?.rows[0]?.[counted.columns.indexOf(ROW_COUNT.column)]);
    if (held !== ledger.rows_held) throw new Error(`iteration ${i + 1} counted ${held} rows, the ledger says ${ledger.rows_held}`);
    digests.push(resultDigest(mix.results));
    opts.log(`${mode}: iteration ${i + 1}/${opts.iterations}: ${Math.round(mix.ms)} ms`);
  }
  r.result_digest = digests[0] ?? null;
  r.digest_stable = digestsAgree(digests);
  Object.assign(r, summarizeIterations(r.iterations_ms));
  r.query_stats = Object.fromEntries(QUERIES.map((q) => [q.name, steadyState(r.query_ms[q.name])]));
}

/** Storage, as Spark's block manager accounts it (REST API): the mode's cache, or that this run holds nothing. */
async function measureStorage(c: ModeContext, mode: ModeName, r: ModeResult, marker: string): Promise<void> {
  const { rest, probe } = c.server;
  if (!probe.ok) return;
  const spec = MODE_SPECS[mode];
  if (spec.kind === 'persisted') {
    const t = totals(await settledCache(rest, marker));
    r.memory_bytes = t.memoryBytes;
    r.disk_bytes = t.diskBytes;
    r.off_heap_bytes = t.offHeapBytes;
    r.cached_partitions = t.numCachedPartitions;
    r.total_partitions = t.numPartitions;
    if (t.rdds === 0) c.opts.log(`${mode}: the REST API lists no cached RDD for this run (cache not materialized?)`);
    if (spec.level) Object.assign(r, overflowOf(spec.level, r.cached_partitions, r.total_partitions, r.disk_bytes));
    // In the log too: a long run stopped before its report is written still shows what each level held.
    c.opts.log(
      `${mode}: storage: ${t.numCachedPartitions}/${t.numPartitions} partitions cached, memory ${fmtBytes(t.memoryBytes)} (off-heap ${fmtBytes(t.offHeapBytes)}), disk ${fmtBytes(t.diskBytes)}${r.overflow ? `: ${r.overflow}` : ''}`,
    );
  } else {
    // Nothing is persisted in this mode: the storage list holding nothing of this run is the measurement.
    const ours = await rest.cachedWith(`cachebench[${c.runId}/`);
    r.memory_bytes = totals(ours).memoryBytes;
    r.disk_bytes = totals(ours).diskBytes;
  }
}

/** The figures derived from the storage: bytes held, per row, against the file baselines, and the one-off setup cost. */
function storageFigures(c: ModeContext, mode: ModeName, r: ModeResult): void {
  const { parquetBytes, csvBytes, writes } = c.baselines;
  const rows = c.ledger.rows_held;
  if (MODE_SPECS[mode].kind === 'persisted')
    r.stored_bytes = r.memory_bytes === null || r.disk_bytes === null ? null : r.memory_bytes + r.disk_bytes;
  else if (mode === 'parquet') r.stored_bytes = parquetBytes;
  else if (mode === 'csv') r.stored_bytes = csvBytes;
  else r.stored_bytes = r.memory_bytes === null ? null : 0;
  r.bytes_per_row = perRow(r.stored_bytes, rows);
  r.memory_bytes_per_row = perRow(r.memory_bytes, rows);
  r.disk_bytes_per_row = perRow(r.disk_bytes, rows);
  r.ratio_to_parquet = ratio(r.stored_bytes, parquetBytes);
  r.ratio_to_csv = ratio(r.stored_bytes, csvBytes);
  // What holding costs once: the files' write, or (for a cache) the filling iteration's extra time.
  const fill = r.first_ms !== null && r.median_ms !== null ? Math.max(0, r.first_ms - r.median_ms) : null;
  r.setup_ms = mode === 'none' ? 0 : mode === 'parquet' ? writes.parquet_write_ms : mode === 'csv' ? writes.csv_write_ms : fill;
}

/**
 * Step 4, once per mode: hold the workload, run the iterations, measure the storage, release it. A failing
 * mode records its error and the run goes on; an interruption ends the run.
 */
async function runMode(c: ModeContext, mode: ModeName): Promise<ModeResult> {
  const { opts, server } = c;
  const r = emptyResult(mode);
  if (mode === 'OFF_HEAP' && !server.offHeapOn) {
    r.skipped = `off-heap storage is disabled on this server (spark.memory.offHeap.enabled=${server.offHeapEnabled ?? 'unset'}, size=${server.offHeapSize ?? 'unset'}); start it with spark.memory.offHeap.enabled=true and a size`;
    opts.log(`${mode}: skipped: ${r.skipped}`);
    return r;
  }
  const marker = cacheMarker(c.runId, mode);
  let persisted: DataFrame | undefined;
  try {
    const spec = MODE_SPECS[mode];
    if (spec.kind === 'persisted' && spec.level) persisted = markForCache(c.workload, marker);
    const facts = await holdWorkload(c, mode, r, persisted);
    await runIterations(c, mode, r, facts);
    await measureStorage(c, mode, r, marker);
    storageFigures(c, mode, r);
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    r.error = errorMessage(e);
    opts.log(`${mode}: failed: ${r.error}`);
  } finally {
    if (persisted) r.storage_freed = await release(persisted, server.probe.ok ? server.rest : undefined, marker, opts.log, mode);
  }
  return r;
}

/** Step 5: every mode against none (the recomputing baseline): speed-ups and the queries after which holding pays. */
function compareWithBaseline(results: ModeResult[]): void {
  const baseline = results.find((m) => m.mode === 'none' && !m.error && !m.skipped);
  const perQuery = (m: ModeResult) => {
    const t = m.median_ms ?? m.first_ms;
    return t === null ? null : t / QUERIES.length;
  };
  for (const m of results) {
    m.speedup = m.skipped || m.error ? null : speedup(m, baseline);
    m.speedup_min = m.skipped || m.error ? null : speedup(m, baseline, 'min');
    m.break_even_queries =
      m.skipped || m.error || !baseline || m === baseline ? null : breakEvenQueries(m.setup_ms, perQuery(m), perQuery(baseline));
  }
}

/**
 * Runs the benchmark in steps: inspect the server, prepare the workload (generate-data + preprocess), write
 * the file baselines, run every mode in turn, compare with none. Leaves nothing cached on the server.
 */
export async function runCacheBench(spark: SparkSession, opts: CacheBenchOptions): Promise<CacheBenchReport> {
  const { log } = opts;
  const runId = randomUUID().slice(0, 8);
  const workDir = path.resolve(opts.workDir ?? path.join(os.tmpdir(), `spark-ts-cache-bench-${runId}`));
  const dirs = { parquet: path.join(workDir, 'workload.parquet'), csv: path.join(workDir, 'workload.csv') };
  const checkAbort = () => {
    if (opts.signal?.aborted) throw new Error('cache-bench interrupted');
  };
  const loadStart = loadNow();
  const server = await inspectServer(spark, opts.uiUrls, log);

  const results: ModeResult[] = [];
  let baselines: Baselines = { parquetBytes: null, csvBytes: null, writes: { parquet_write_ms: null, csv_write_ms: null } };
  // Only what this run created is removed afterwards: never a --work-dir's other contents.
  const createdWorkDir = !fs.existsSync(workDir);
  const created = [dirs.parquet, dirs.csv, path.join(workDir, 'marketing_campaign.csv'), path.join(workDir, 'preprocessed')];
  let prepared: Awaited<ReturnType<typeof prepareWorkload>> | undefined;
  try {
    prepared = await prepareWorkload(spark, { rows: opts.rows, seed: opts.seed, workDir, partitions: opts.partitions, log });
    const { facts: workload, schema_ddl: ddl, ledger } = prepared;
    checkAbort();
    log(`held DataFrame: ${ledger.rows_held.toLocaleString('en-US')} rows × ${prepared.columns} columns; file baselines under ${workDir}`);
    baselines = await writeFileBaselines(spark, workload, dirs, opts.modes, log);
    const context: ModeContext = { spark, opts, runId, server, workload, ddl, ledger, dirs, baselines, checkAbort };
    for (const mode of opts.modes) {
      checkAbort();
      results.push(await runMode(context, mode));
    }
  } finally {
    if (!opts.keepFiles) {
      for (const d of created) fs.rmSync(d, { recursive: true, force: true });
      if (createdWorkDir) fs.rmSync(workDir, { recursive: true, force: true });
    }
  }

  compareWithBaseline(results);
  const { probe, rest } = server;
  const leftover = probe.ok ? (await rest.cachedWith(`cachebench[${runId}/`)).length : null;

  return {
    benchmark: 'cache-bench',
    run_id: runId,
    cache_marker: `cachebench[${runId}/`,
    created_at: new Date().toISOString(),
    rows: opts.rows,
    iterations: opts.iterations,
    seed: opts.seed,
    partitions: prepared?.generate_partitions ?? 0,
    machine: {
      ...machineInfo(),
      spark_version: server.sparkVersion,
      spark_master: server.master,
      off_heap: server.offHeapOn ? server.offHeapSize : null,
      storage_memory_on_heap_bytes: server.capacity.onHeapBytes,
      storage_memory_off_heap_bytes: server.capacity.offHeapBytes,
    },
    rest_api: {
      url: server.uiUrl,
      reachable: probe.ok,
      app_id: probe.ok ? probe.appId : null,
      reason: probe.ok ? null : probe.reason,
    },
    workload: {
      source:
        'generate-data CSV -> preprocess plan (parse, quarantine, de-duplicate, validate, impute, features, scaling) -> left join with the segment dimension',
      rows_generated: opts.rows,
      ledger: prepared?.ledger ?? { rows_read: 0, rows_quarantined: 0, duplicates_removed: 0, duplicate_ids_removed: 0, rows_held: 0 },
      input_bytes: prepared?.input_bytes ?? 0,
      generate_ms: prepared?.generate_ms ?? 0,
      preprocess_ms: prepared?.preprocess_ms ?? 0,
      columns: prepared?.columns ?? 0,
      schema: prepared?.schema_ddl ?? '',
      segments: SEGMENT_ROWS.length,
      queries: QUERIES.map((q) => ({ name: q.name, describe: q.describe })),
    },
    baselines: {
      parquet_bytes: baselines.parquetBytes,
      csv_bytes: baselines.csvBytes,
      ...baselines.writes,
      work_dir: workDir,
      kept: !!opts.keepFiles,
    },
    modes: results,
    load_average: { start: loadStart, end: loadNow() },
    digests_equal: digestsAgree(results.map((m) => m.result_digest)) && results.every((m) => m.digest_stable !== false),
    leftover_cached_rdds: leftover,
  };
}

export { fmtBytes };
