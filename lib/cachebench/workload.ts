import { functions as F, type DataFrame, type SparkSession } from '../connect';

/**
 * The benchmark's workload: customer transactions generated inside the server from `range` and seeded random
 * expressions, so nothing is shipped from Node and every run builds the same rows.
 *
 * Determinism: `rand(seed)` is reproducible for a fixed partitioning (its generator is seeded per partition), so
 * the range has a fixed number of partitions. The aggregated values are integers and decimals, whose sums are
 * exact in any order; doubles appear only under min/max. That is what lets every mode produce the same digest.
 */
export const WORKLOAD_SCHEMA: ReadonlyArray<readonly [name: string, type: string]> = [
  ['id', 'BIGINT'],
  ['customer_id', 'BIGINT'],
  ['region_id', 'INT'],
  ['segment', 'STRING'],
  ['channel', 'STRING'],
  ['amount', 'DECIMAL(12,2)'],
  ['quantity', 'INT'],
  ['discount_pct', 'INT'],
  ['event_date', 'DATE'],
  ['score', 'DOUBLE'],
];

export const WORKLOAD_COLUMNS = WORKLOAD_SCHEMA.map(([name]) => name);
export const WORKLOAD_SCHEMA_DDL = WORKLOAD_SCHEMA.map(([name, type]) => `${name} ${type}`).join(', ');

export const REGIONS = ['north', 'south', 'east', 'west', 'central', 'coastal', 'mountain', 'islands'] as const;
const COUNTRIES = ['NO', 'ES', 'PL', 'PT', 'DE', 'GR', 'CH', 'IS'] as const;
export const SEGMENTS = ['consumer', 'small_business', 'enterprise', 'public_sector', 'partner'] as const;
export const CHANNELS = ['web', 'store', 'phone', 'marketplace'] as const;

export interface WorkloadOptions {
  rows: number;
  /** Fixed partition count of the generating range (part of what makes rand(seed) reproducible). */
  partitions: number;
  seed: number;
}

/** Partitions for a row count: enough to use both cores and keep blocks moderate, fixed for a given size. */
export function defaultPartitions(rows: number): number {
  return Math.max(2, Math.min(16, Math.ceil(rows / 1_250_000)));
}

/** Customers: about 20 transactions each, so the distinct count is a real aggregation, not the row count. */
export function customerCount(rows: number): number {
  return Math.max(1, Math.floor(rows / 20));
}

const sqlArray = (values: readonly string[]) => `array(${values.map((v) => `'${v}'`).join(', ')})`;
const pick = (values: readonly string[], seed: number) => `element_at(${sqlArray(values)}, CAST(rand(${seed}) * ${values.length} AS INT) + 1)`;

/** The generating expressions, by column (SQL text: what the plan shows and the README quotes). */
export function workloadExpressions(opts: Pick<WorkloadOptions, 'rows' | 'seed'>): Record<string, string> {
  const s = opts.seed;
  return {
    customer_id: `CAST(rand(${s + 1}) * ${customerCount(opts.rows)} AS BIGINT)`,
    region_id: `CAST(rand(${s + 2}) * ${REGIONS.length} AS INT)`,
    segment: pick(SEGMENTS, s + 3),
    channel: pick(CHANNELS, s + 4),
    // Log-normal amounts (a long right tail, like real spending), as exact decimals.
    amount: `CAST(ROUND(EXP(randn(${s + 5})) * 40, 2) AS DECIMAL(12,2))`,
    quantity: `CAST(rand(${s + 6}) * 10 AS INT) + 1`,
    discount_pct: `CAST(rand(${s + 7}) * 31 AS INT)`,
    event_date: `date_add(DATE'2024-01-01', CAST(rand(${s + 8}) * 366 AS INT))`,
    score: `rand(${s + 9})`,
  };
}

/** The workload DataFrame (lazy: nothing runs until a query does). */
export function buildWorkload(spark: SparkSession, opts: WorkloadOptions): DataFrame {
  const exprs = workloadExpressions(opts);
  return spark
    .range(0, opts.rows, 1, opts.partitions)
    .select(F.col('id'), ...Object.entries(exprs).map(([name, sql]) => F.expr(sql).alias(name)));
}

/**
 * The workload as it is persisted: a constant first column carrying the run's marker. Spark names a cached
 * DataFrame's RDD after its plan, so the marker finds this run's cache in the REST API's storage list even
 * on a server shared with other jobs. (A constant compresses to almost nothing in the columnar cache.)
 */
export function markForCache(df: DataFrame, marker: string): DataFrame {
  return df.select(F.lit(marker).alias('bench_run'), F.col('*'));
}

/** The small dimension table the join query uses: one row per region. */
export function buildRegions(spark: SparkSession): DataFrame {
  return spark.range(0, REGIONS.length, 1, 1).select(
    F.col('id').cast('int').alias('region_id'),
    F.expr(`element_at(${sqlArray(REGIONS)}, CAST(id AS INT) + 1)`).alias('region_name'),
    F.expr(`element_at(${sqlArray(COUNTRIES)}, CAST(id AS INT) + 1)`).alias('country'),
  );
}

/** Reads the workload back from the Parquet baseline. */
export function readParquet(spark: SparkSession, dir: string): DataFrame {
  return spark.read.schema(WORKLOAD_SCHEMA_DDL).parquet(dir);
}

/** Reads the workload back from the CSV baseline, with the schema given (no inference pass over the data). */
export function readCsv(spark: SparkSession, dir: string): DataFrame {
  return spark.read.schema(WORKLOAD_SCHEMA_DDL).option('header', true).csv(dir);
}

/** Writes the workload once to Parquet and once to CSV (overwrite: a rerun into the same directory is fine). */
export async function writeBaselines(workload: DataFrame, dirs: { parquet: string; csv: string }): Promise<{ parquet_write_ms: number; csv_write_ms: number }> {
  const t0 = performance.now();
  await workload.write.mode('overwrite').parquet(dirs.parquet);
  const t1 = performance.now();
  await workload.write.mode('overwrite').option('header', true).csv(dirs.csv);
  const t2 = performance.now();
  return { parquet_write_ms: Math.round(t1 - t0), csv_write_ms: Math.round(t2 - t1) };
}
