import { functions as F, Window, type DataFrame } from '../connect';
import type { QueryResult } from './digest';

/**
 * The fixed query mix each iteration runs over the workload (however it is held: recomputed, cached, or
 * re-read from files). Every query ends in a small result; its values are cast to text by Spark so the
 * digest does not depend on how the client decodes types.
 */
export interface BenchQuery {
  name: string;
  describe: string;
  /** The result columns, in order. */
  columns: readonly string[];
  build(facts: DataFrame, regions: DataFrame): DataFrame;
}

export const TOP_N = 3;

export const QUERIES: readonly BenchQuery[] = [
  {
    name: 'group_agg',
    describe: 'groupBy(region_id, segment, channel) with count, sum/avg/min/max of amount, sum of quantity, max of score',
    columns: ['region_id', 'segment', 'channel', 'n', 'sum_amount', 'avg_amount', 'min_amount', 'max_amount', 'sum_quantity', 'max_score'],
    build: (facts) =>
      facts
        .groupBy('region_id', 'segment', 'channel')
        .agg(
          F.count('*').alias('n'),
          F.sum('amount').alias('sum_amount'),
          F.avg('amount').alias('avg_amount'),
          F.min('amount').alias('min_amount'),
          F.max('amount').alias('max_amount'),
          F.sum('quantity').alias('sum_quantity'),
          F.max('score').alias('max_score'),
        ),
  },
  {
    name: 'filter_count',
    describe: "selective filter (channel = 'web', discount_pct >= 28, amount > 100) then count",
    columns: ['n'],
    build: (facts) =>
      facts
        .filter(F.col('channel').eq('web').and(F.col('discount_pct').ge(28)).and(F.col('amount').gt(100)))
        .agg(F.count('*').alias('n')),
  },
  {
    name: 'join_dimension',
    describe: 'join with the 8-row region table, then revenue and units by region name and country',
    columns: ['region_name', 'country', 'n', 'revenue', 'units'],
    build: (facts, regions) =>
      facts
        .join(regions, 'region_id')
        .groupBy('region_name', 'country')
        .agg(F.count('*').alias('n'), F.sum('amount').alias('revenue'), F.sum('quantity').alias('units')),
  },
  {
    name: 'window_top_n',
    describe: `top ${TOP_N} transactions by amount per (region_id, segment): row_number over a window (ties broken by id)`,
    columns: ['region_id', 'segment', 'rank', 'id', 'customer_id', 'amount'],
    build: (facts) =>
      facts
        .withColumn('rank', F.row_number().over(Window.partitionBy('region_id', 'segment').orderBy(F.desc('amount'), F.asc('id'))))
        .filter(F.col('rank').le(TOP_N)),
  },
  {
    name: 'distinct_count',
    describe: 'countDistinct(customer_id)',
    columns: ['customers'],
    build: (facts) => facts.agg(F.countDistinct('customer_id').alias('customers')),
  },
];

export interface QueryTiming {
  query: string;
  ms: number;
}

export interface MixOutcome {
  ms: number;
  timings: QueryTiming[];
  results: QueryResult[];
}

const cellText = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** Runs the whole mix once, in order, timing each query from the request to the last row received. */
export async function runQueryMix(facts: DataFrame, regions: DataFrame, opts: { signal?: AbortSignal } = {}): Promise<MixOutcome> {
  const timings: QueryTiming[] = [];
  const results: QueryResult[] = [];
  const start = performance.now();
  for (const q of QUERIES) {
    const df = q.build(facts, regions).select(...q.columns.map((c) => F.col(c).cast('string').alias(c)));
    const t0 = performance.now();
    const rows = await df.collect(opts.signal ? { signal: opts.signal } : {});
    timings.push({ query: q.name, ms: performance.now() - t0 });
    results.push({ query: q.name, columns: q.columns, rows: rows.map((r) => q.columns.map((c) => cellText(r[c]))) });
  }
  return { ms: performance.now() - start, timings, results };
}
