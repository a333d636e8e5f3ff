import { functions as F, type DataFrame } from '../connect';
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
  build(facts: DataFrame): DataFrame;
}

export const TOP_N = 3;

/** Sums of integer columns (exact in any order): the digest does not depend on how partial sums combine. */
const sumAs = (c: string, alias = `sum_${c}`) => F.sum(c).alias(alias);
const rate = (c: string, alias: string) => F.avg(c).alias(alias);
const CAMPAIGNS = ['AcceptedCmp1', 'AcceptedCmp2', 'AcceptedCmp3', 'AcceptedCmp4', 'AcceptedCmp5', 'Response'] as const;

/**
 * What an analyst asks of the cleaned customers, each answer small. Aggregates are over integers (sums,
 * counts, and averages of 0/1 flags and of integer columns, which Spark computes as an exact sum divided by a
 * count), so every mode and every plan gives the same text.
 */
export const QUERIES: readonly BenchQuery[] = [
  {
    name: 'spend_by_segment',
    describe: 'customers, spend and response rate by age group, education level, marital status and children',
    columns: [
      'Age_Group',
      'Education_Level',
      'Marital_Status',
      'Children',
      'customers',
      'sum_Total_Spend',
      'avg_Total_Spend',
      'response_rate',
    ],
    build: (facts) =>
      facts
        .groupBy('Age_Group', 'Education_Level', 'Marital_Status', 'Children')
        .agg(
          F.count('*').alias('customers'),
          sumAs('Total_Spend'),
          F.avg('Total_Spend').alias('avg_Total_Spend'),
          rate('Response', 'response_rate'),
        ),
  },
  {
    name: 'campaign_acceptance',
    describe: 'acceptance rate of each of the six campaigns by marketing segment (the joined dimension)',
    columns: ['segment', 'priority', 'customers', ...CAMPAIGNS.map((c) => `rate_${c}`)],
    build: (facts) =>
      facts.groupBy('segment', 'priority').agg(F.count('*').alias('customers'), ...CAMPAIGNS.map((c) => rate(c, `rate_${c}`))),
  },
  {
    name: 'top_customers',
    describe: `top ${TOP_N} customers by spend per segment: max_by(ID, (Total_Spend, -ID), ${TOP_N}), a bounded aggregate, no sort of the rows`,
    columns: ['segment', 'top_ids', 'max_spend'],
    build: (facts) =>
      facts
        .groupBy('segment')
        .agg(
          F.expr(`max_by(ID, named_struct('spend', Total_Spend, 'neg_id', -ID), ${TOP_N})`).alias('top_ids'),
          F.max('Total_Spend').alias('max_spend'),
        ),
  },
  {
    name: 'cohort_by_month',
    describe: 'enrollment cohort by month of Dt_Customer: customers, spend, purchases, accepted campaigns, response rate',
    columns: ['cohort', 'customers', 'sum_Total_Spend', 'sum_Total_Purchases', 'sum_Total_Accepted_Campaigns', 'response_rate'],
    build: (facts) =>
      facts
        .groupBy(F.date_format(F.col('Dt_Customer'), 'yyyy-MM').alias('cohort'))
        .agg(
          F.count('*').alias('customers'),
          sumAs('Total_Spend'),
          sumAs('Total_Purchases'),
          sumAs('Total_Accepted_Campaigns'),
          rate('Response', 'response_rate'),
        ),
  },
  {
    name: 'channel_mix',
    describe: 'purchases by channel, deals and web visits by education level',
    columns: [
      'Education_Level',
      'sum_NumWebPurchases',
      'sum_NumCatalogPurchases',
      'sum_NumStorePurchases',
      'sum_NumDealsPurchases',
      'avg_NumWebVisitsMonth',
    ],
    build: (facts) =>
      facts
        .groupBy('Education_Level')
        .agg(
          sumAs('NumWebPurchases'),
          sumAs('NumCatalogPurchases'),
          sumAs('NumStorePurchases'),
          sumAs('NumDealsPurchases'),
          F.avg('NumWebVisitsMonth').alias('avg_NumWebVisitsMonth'),
        ),
  },
  {
    name: 'distinct_counts',
    describe: 'rows, distinct customers (ID), birth years, enrollment dates and (marital status, children) pairs',
    columns: ['rows', 'ids', 'birth_years', 'enrollment_dates', 'households'],
    build: (facts) =>
      facts.agg(
        F.count('*').alias('rows'),
        F.countDistinct('ID').alias('ids'),
        F.countDistinct('Year_Birth').alias('birth_years'),
        F.countDistinct('Dt_Customer').alias('enrollment_dates'),
        F.countDistinct('Marital_Status', 'Children').alias('households'),
      ),
  },
  {
    name: 'selective_filters',
    describe: 'three selective filters counted: big recent spenders, complainers who responded, web-heavy parents',
    columns: ['big_recent_spenders', 'complained_and_responded', 'web_heavy_parents'],
    build: (facts) =>
      facts.agg(
        F.count(F.when(F.col('Recency').lt(10).and(F.col('Total_Spend').gt(1500)), 1)).alias('big_recent_spenders'),
        F.count(F.when(F.col('Complain').eq(1).and(F.col('Response').eq(1)), 1)).alias('complained_and_responded'),
        F.count(F.when(F.col('Is_Parent').eq(1).and(F.col('NumWebVisitsMonth').ge(8)).and(F.col('NumWebPurchases').ge(8)), 1)).alias(
          'web_heavy_parents',
        ),
      ),
  },
];

/** The query whose `rows` column counts the held rows: every mode must hold exactly the ledger's rows_held. */
export const ROW_COUNT = { query: 'distinct_counts', column: 'rows' } as const;

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
export async function runQueryMix(facts: DataFrame, opts: { signal?: AbortSignal } = {}): Promise<MixOutcome> {
  const timings: QueryTiming[] = [];
  const results: QueryResult[] = [];
  const start = performance.now();
  for (const q of QUERIES) {
    const df = q.build(facts).select(...q.columns.map((c) => F.col(c).cast('string').alias(c)));
    const t0 = performance.now();
    const rows = await df.collect(opts.signal ? { signal: opts.signal } : {});
    timings.push({ query: q.name, ms: performance.now() - t0 });
    results.push({ query: q.name, columns: q.columns, rows: rows.map((r) => q.columns.map((c) => cellText(r[c]))) });
  }
  return { ms: performance.now() - start, timings, results };
}
