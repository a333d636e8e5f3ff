import * as fs from 'node:fs';
import * as path from 'node:path';
import { Column, functions as F, Window, type DataFrame, type SparkSession } from '../connect';
import { fn } from '../connect/plan';
import { JobInputError } from '../util/errors';
import { inspectInput, describeDelimiter, type InputLayout } from './header';
import {
  CAMPAIGN_COLUMNS,
  CONSTANT_COLUMNS,
  CORRUPT_COLUMN,
  DATE_FORMAT,
  INPUT_COLUMN_NAMES,
  INPUT_COLUMNS,
  MNT_COLUMNS,
  NON_NEGATIVE_COLUMNS,
  NUMERIC_IMPUTED_COLUMNS,
  PURCHASE_COLUMNS,
  inputSchemaDDL,
} from './schema';
import {
  AGE_GROUPS,
  COUPLE_STATUSES,
  EDUCATION_LEVELS,
  INCOME_FENCE_K,
  MARITAL_STATUS_MAP,
  MEDIAN_RELATIVE_ERROR,
  PLAUSIBLE_AGE,
  QUARANTINE_REASONS,
  SCALED_COLUMNS,
  UNKNOWN_STATUS,
} from './rules';
import { assertInvariant, type QualityReport } from './report';
import { buildScaler, type ColumnScale, type ScalerFile } from './scaler';
import { concatParts } from './files';
import { writeJson } from '../util/json';

export interface PreprocessParams {
  /** Absolute path of the input file (read by Spark and, for its header, by Node). */
  input: string;
  /** Absolute output directory. */
  output: string;
  /** The delimiter character; detected from the header when absent. */
  delimiter?: string;
  log?: (message: string) => void;
}

export interface PreprocessResult {
  report: QualityReport;
  scaler: ScalerFile;
  /** Seconds per step, for the benchmark and --verbose. */
  timings: Record<string, number>;
}

const { col, lit } = F;
const num = (v: unknown): number => (v === null || v === undefined ? NaN : Number(v));
const INT_COLUMNS = new Set(INPUT_COLUMNS.filter((c) => c.type === 'int').map((c) => c.name));
const regexEscape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Parses the text date; null (not an error) when it does not parse. Spark 4.0 has no try_to_date, and
 * to_date fails under ANSI mode, so: try_to_timestamp, then the date of it (the session time zone is used
 * both ways, so the day is unchanged).
 */
function tryToDate(c: Column): Column {
  return callFunction('try_to_timestamp', c, lit(DATE_FORMAT)).cast('date');
}

/** A Spark SQL function by name (for the few the functions module does not wrap). */
function callFunction(name: string, ...args: Column[]): Column {
  return new Column(
    fn(
      name,
      args.map((a) => a.expr),
    ),
  );
}

/** The rows Spark reads: explicit schema, PERMISSIVE, the raw line kept for malformed records. */
function readInput(spark: SparkSession, file: string, layout: InputLayout): DataFrame {
  return spark.read
    .schema(inputSchemaDDL(layout.columns))
    .option('header', true)
    .option('sep', layout.delimiter)
    .option('mode', 'PERMISSIVE')
    .option('columnNameOfCorruptRecord', CORRUPT_COLUMN)
    .option('enforceSchema', true)
    .csv(file);
}

/**
 * Why a row is set aside (null when it is not): a wrong number of fields, a date or a number that does not
 * parse, or no ID. The raw line is split again to tell them apart, because Spark only says "malformed".
 */
function quarantineReason(layout: InputLayout): Column {
  const { delimiter } = layout;
  const rawLine = F.regexp_replace(col(CORRUPT_COLUMN), '\r$', '');
  const fields = F.split(rawLine, regexEscape(delimiter), -1);
  // The field's place in this file's header (any column order is accepted), 1-based for element_at.
  const dateIndex = layout.columns.indexOf('Dt_Customer') + 1;
  const dateText = F.coalesce(F.when(col(CORRUPT_COLUMN).isNotNull(), F.element_at(fields, dateIndex)), col('Dt_Customer'));
  const emptyDate = dateText.isNull().or(F.trim(dateText).eq(''));
  const [wrongCount, badDate, badNumber, missingId] = QUARANTINE_REASONS;
  return F.when(col(CORRUPT_COLUMN).isNotNull().and(F.size(fields).ne(INPUT_COLUMN_NAMES.length)), wrongCount)
    .when(emptyDate.not().and(tryToDate(F.trim(dateText)).isNull()), badDate)
    .when(col(CORRUPT_COLUMN).isNotNull(), badNumber)
    .when(col('ID').isNull(), missingId);
}

function maritalExpr(c: Column): Column {
  let e: Column | undefined;
  for (const [from, to] of Object.entries(MARITAL_STATUS_MAP)) e = e ? e.when(c.eq(from), to) : F.when(c.eq(from), to);
  return e!.otherwise(UNKNOWN_STATUS);
}

function educationLevelExpr(c: Column): Column {
  let e: Column | undefined;
  for (const [name, level] of Object.entries(EDUCATION_LEVELS)) e = e ? e.when(c.eq(name), level) : F.when(c.eq(name), level);
  return e!;
}

function ageGroupExpr(age: Column): Column {
  let e: Column | undefined;
  for (const g of AGE_GROUPS) {
    if (g.maxAge === undefined) return e ? e.otherwise(g.label) : lit(g.label);
    e = e ? e.when(age.le(g.maxAge), g.label) : F.when(age.le(g.maxAge), g.label);
  }
  return e!;
}

const sumOf = (cols: readonly string[]): Column => cols.map((c) => col(c)).reduce((a, b) => a.plus(b));

async function rowsOf(df: DataFrame): Promise<Array<Record<string, unknown>>> {
  return (await df.collect()) as unknown as Array<Record<string, unknown>>;
}

// The plan, stage by stage. preprocess runs these with Parquet checkpoints and statistics in between;
// customerPlan composes them into one lazy DataFrame from the CSV (what cache-bench holds in each mode).

/** Stage 1: the CSV parsed with the input contract, each row tagged with its quarantine reason (null: good). */
export function parsedRows(spark: SparkSession, input: string, layout: InputLayout): DataFrame {
  return readInput(spark, input, layout).select(
    ...INPUT_COLUMN_NAMES.map((c) => col(c)),
    F.regexp_replace(col(CORRUPT_COLUMN), '\r$', '').alias('raw_record'),
    quarantineReason(layout).alias('reason'),
  );
}

/**
 * Stage 2: the good rows de-duplicated. Rows equal in everything but ID keep the lowest ID; `_id_rank`
 * then ranks the rows of an ID, latest Dt_Customer first (ties broken by every other column, so the
 * choice is deterministic).
 */
export function rankedDistinctRows(parsed: DataFrame): DataFrame {
  const contentColumns = INPUT_COLUMN_NAMES.filter((c) => c !== 'ID');
  const good = parsed
    .filter(col('reason').isNull())
    .drop('reason', 'raw_record')
    .withColumn('Dt_Customer', tryToDate(F.trim(col('Dt_Customer'))));
  const byId = Window.partitionBy('ID').orderBy(
    col('Dt_Customer').desc_nulls_last(),
    ...contentColumns.filter((c) => c !== 'Dt_Customer').map((c) => col(c).asc_nulls_first()),
  );
  // Grouping by the content keeps one row per distinct content with its lowest ID (a hash aggregate: no
  // sort over 28 columns); nulls group together, so rows that are empty in the same places are duplicates.
  return good
    .groupBy(...contentColumns)
    .agg(F.min(col('ID')).alias('ID'))
    .select(...INPUT_COLUMN_NAMES.map((c) => col(c)))
    .withColumn('_id_rank', F.row_number().over(byId));
}

/** One row per ID: the first of rankedDistinctRows' ranking. */
export function latestPerId(ranked: DataFrame): DataFrame {
  return ranked.filter(col('_id_rank').eq(1)).drop('_id_rank');
}

/** The outlier test of each column, by name: a value that is set to null and imputed. */
export function outlierTestsAt(refYear: number, incomeFences: readonly [number, number]): Record<string, Column> {
  const age = lit(refYear).minus(col('Year_Birth'));
  const tests: Record<string, Column> = {
    Year_Birth: col('Year_Birth')
      .isNotNull()
      .and(age.lt(PLAUSIBLE_AGE.min).or(age.gt(PLAUSIBLE_AGE.max))),
    Income: col('Income')
      .isNotNull()
      .and(col('Income').le(0).or(col('Income').lt(incomeFences[0])).or(col('Income').gt(incomeFences[1]))),
    Education: col('Education')
      .isNotNull()
      .and(
        col('Education')
          .isin(...Object.keys(EDUCATION_LEVELS))
          .not(),
      ),
  };
  for (const c of NON_NEGATIVE_COLUMNS) tests[c] = col(c).isNotNull().and(col(c).lt(0));
  return tests;
}

/** Stage 3: outliers nulled (flagged in `_out_<col>`), Marital_Status mapped (the raw value in `_marital_raw`). */
export function validatedRows(base: DataFrame, outlierTests: Record<string, Column>): DataFrame {
  // Few, wide projections: a long withColumn chain nests the plan deeper than protobuf allows.
  const flags: Record<string, Column> = { _marital_raw: col('Marital_Status') };
  for (const [c, test] of Object.entries(outlierTests)) flags[`_out_${c}`] = test;
  const nulled: Record<string, Column> = { Marital_Status: maritalExpr(F.trim(col('Marital_Status'))) };
  for (const c of Object.keys(outlierTests)) nulled[c] = F.when(col(`_out_${c}`), lit(null)).otherwise(col(c));
  return base.withColumns(flags).withColumns(nulled);
}

/**
 * Stage 4: nulls filled with the report's imputation values (medians, the date's median as yyyy-MM-dd,
 * Education's mode). Marital_Status needs no fill: stage 3 already maps null to Unknown.
 */
export function imputedRows(validated: DataFrame, imputationValues: Readonly<Record<string, number | string>>): DataFrame {
  const fills: Record<string, Column> = {};
  for (const [c, v] of Object.entries(imputationValues)) {
    if (c === 'Marital_Status') continue;
    if (c === 'Dt_Customer') fills[c] = F.coalesce(col(c), F.to_date(lit(String(v)), 'yyyy-MM-dd'));
    else if (c === 'Education') fills[c] = F.coalesce(col(c), lit(String(v)));
    else fills[c] = F.coalesce(col(c), lit(Number(v)).cast(INT_COLUMNS.has(c) ? 'int' : 'double'));
  }
  return Object.keys(fills).length ? validated.withColumns(fills) : validated;
}

/** Stage 5: the kept columns and the derived features, measured at the reference date (yyyy-MM-dd), never today. */
export function featureRows(imputed: DataFrame, referenceDate: string): DataFrame {
  const refYear = Number(referenceDate.slice(0, 4));
  const keep = INPUT_COLUMN_NAMES.filter((c) => !(CONSTANT_COLUMNS as readonly string[]).includes(c));
  const refDate = F.to_date(lit(referenceDate), 'yyyy-MM-dd');
  return imputed
    .select(...keep.map((c) => col(c)))
    .withColumns({
      Age: lit(refYear).minus(col('Year_Birth')),
      Tenure_Days: F.datediff(refDate, col('Dt_Customer')),
      Children: col('Kidhome').plus(col('Teenhome')),
    })
    .withColumns({
      Family_Size: col('Children').plus(F.when(col('Marital_Status').isin(...COUPLE_STATUSES), 2).otherwise(1)),
      Is_Parent: col('Children').gt(0).cast('int'),
      Total_Spend: sumOf(MNT_COLUMNS),
      Total_Purchases: sumOf(PURCHASE_COLUMNS),
      Total_Accepted_Campaigns: sumOf(CAMPAIGN_COLUMNS),
    })
    .withColumns({
      // Null-safe: no purchases recorded counts as one, so the spend is never divided by zero.
      Spend_per_Purchase: col('Total_Spend')
        .cast('double')
        .divide(F.greatest(col('Total_Purchases'), lit(1))),
      Income_per_Capita: col('Income').divide(col('Family_Size')),
      Education_Level: educationLevelExpr(col('Education')),
      Age_Group: ageGroupExpr(col('Age')),
    });
}

/** Stage 6: `<col>_norm` (min-max) and `<col>_std` (z-score) for each scaled column. */
export function scaledRows(features: DataFrame, featureStats: Readonly<Record<string, ColumnScale>>): DataFrame {
  const scaledColumns: Record<string, Column> = {};
  for (const c of SCALED_COLUMNS) {
    const p = featureStats[c];
    if (!p) throw new Error(`no scaling parameters for ${c}`);
    const x = col(c).cast('double');
    scaledColumns[`${c}_norm`] = p.max === p.min ? lit(0.0).cast('double') : x.minus(lit(p.min)).divide(lit(p.max - p.min));
    scaledColumns[`${c}_std`] = p.sd === 0 ? lit(0.0).cast('double') : x.minus(lit(p.mean)).divide(lit(p.sd));
  }
  return features.withColumns(scaledColumns);
}

/** What the plan needs besides the input: the statistics preprocess derives, as its quality report records them. */
export type CustomerPlanParameters = Pick<QualityReport, 'reference_date' | 'imputation_values' | 'feature_stats'> & {
  rules: Pick<QualityReport['rules'], 'income_fences'>;
};

/**
 * The whole preprocess plan as one lazy DataFrame over the CSV (stages 1-6, without preprocess's Parquet
 * checkpoints and its final sort by ID): the cleaned, featured customers, rebuilt from the text each time
 * an action runs. Given the parameters of preprocess's report on the same file, it holds the same rows
 * as preprocess's customers output.
 */
export function customerPlan(spark: SparkSession, input: string, params: CustomerPlanParameters, delimiter?: string): DataFrame {
  const layout = inspectInput(input, delimiter);
  const refYear = Number(params.reference_date.slice(0, 4));
  const base = latestPerId(rankedDistinctRows(parsedRows(spark, input, layout)));
  const validated = validatedRows(base, outlierTestsAt(refYear, params.rules.income_fences));
  const features = featureRows(imputedRows(validated, params.imputation_values), params.reference_date);
  return scaledRows(features, params.feature_stats);
}

/**
 * The preprocess job. Every pass over the data runs in Spark; Node reads the header, a handful of
 * statistics, and moves one file. Two intermediate Parquet sets (parsed rows with their quarantine reason,
 * and de-duplicated rows) live under DIR/_work while it runs, so the CSV is parsed once.
 */
export async function runPreprocess(spark: SparkSession, params: PreprocessParams): Promise<PreprocessResult> {
  try {
    return await preprocessSteps(spark, params);
  } finally {
    // The intermediate Parquet goes, whether the run succeeded or not (a failed run's outputs stay as they were).
    fs.rmSync(path.join(params.output, '_work'), { recursive: true, force: true });
  }
}

/** What every step of one run shares: the session, the parameters, the input's layout and the directories. */
interface Run {
  spark: SparkSession;
  params: PreprocessParams;
  layout: InputLayout;
  /** The output directory, and its _work directory for intermediate Parquet. */
  out: string;
  work: string;
  /** Where the outputs are written first (under _work); they replace the previous ones only once checked. */
  staged: string;
  /** Records the seconds since the previous lap under `name` (the timings of the result). */
  lap(name: string): void;
}

async function preprocessSteps(spark: SparkSession, params: PreprocessParams): Promise<PreprocessResult> {
  const log = params.log ?? (() => undefined);
  const timings: Record<string, number> = {};
  let t0 = Date.now();
  const lap = (name: string): void => {
    timings[name] = (Date.now() - t0) / 1000;
    t0 = Date.now();
  };
  const layout = inspectInput(params.input, params.delimiter);
  const out = params.output;
  const work = path.join(out, '_work');
  const run: Run = { spark, params, layout, out, work, staged: path.join(work, 'out'), lap };
  fs.mkdirSync(out, { recursive: true });
  fs.rmSync(run.work, { recursive: true, force: true });
  log(`preprocess: ${params.input} (${describeDelimiter(layout.delimiter)}-separated, ${layout.lineEnding}) -> ${out}`);
  // Strict, predictable datetime parsing: a date that does not fit the pattern is null, never an upgrade error.
  await spark.conf.set('spark.sql.legacy.timeParserPolicy', 'CORRECTED');

  const parsed = await parseAndQuarantine(run);
  const deduped = await deduplicate(run, parsed.rows, parsed.goodRows);
  const validated = await validate(run, deduped.base, deduped.refYear);
  const imputed = await impute(run, validated);
  // 5. Features, measured at the reference date (the latest Dt_Customer), never today's clock.
  const features = featureRows(imputed.rows, deduped.referenceDate);
  const scaled = await scale(features);
  lap('features');
  const written = await writeOutputs(run, scaled.sorted);
  const rowsWritten = await verifyOutputs(written, validated.imputable);

  const report: QualityReport = {
    rows_read: parsed.rowsRead,
    rows_quarantined: parsed.rowsQuarantined,
    quarantine_by_reason: parsed.quarantineByReason,
    duplicates_removed: deduped.duplicatesRemoved,
    duplicate_ids_removed: deduped.duplicateIdsRemoved,
    rows_written: rowsWritten,
    nulls_imputed: imputed.nullsImputed,
    outliers_handled: imputed.outliersHandled,
    columns_dropped: [...CONSTANT_COLUMNS],
    feature_stats: scaled.featureStats,
    imputation_values: imputed.imputationValues,
    values_normalized: { Marital_Status: imputed.maritalNormalized },
    reference_date: deduped.referenceDate,
    rules: {
      median: `approxQuantile, relative error ${MEDIAN_RELATIVE_ERROR}`,
      year_birth: `null then median when the age at ${deduped.referenceDate} is outside ${PLAUSIBLE_AGE.min}..${PLAUSIBLE_AGE.max}`,
      income: `null then median when <= 0 or outside Q1 - ${INCOME_FENCE_K}*IQR .. Q3 + ${INCOME_FENCE_K}*IQR`,
      income_fences: validated.fences,
      marital_status: { ...MARITAL_STATUS_MAP, '(other or empty)': UNKNOWN_STATUS },
      education_level: { ...EDUCATION_LEVELS },
    },
    input: { path: params.input, delimiter: layout.delimiter, line_ending: layout.lineEnding, columns: layout.columns },
  };
  assertInvariant(report);
  const scaler = buildScaler(deduped.referenceDate, rowsWritten, scaled.featureStats);
  writeJson(path.join(run.staged, 'scaler.json'), scaler);
  writeJson(path.join(run.staged, 'quality-report.json'), report);
  publishOutputs(run);
  fs.rmSync(run.work, { recursive: true, force: true });
  lap('verify');
  return { report, scaler, timings };
}

/** 1. Parse once, tag each row with its quarantine reason (or null), keep it as Parquet; write the quarantine. */
async function parseAndQuarantine(
  run: Run,
): Promise<{ rows: DataFrame; rowsRead: number; goodRows: number; rowsQuarantined: number; quarantineByReason: Record<string, number> }> {
  const { spark, params } = run;
  const parsedDir = path.join(run.work, 'parsed');
  await parsedRows(spark, params.input, run.layout).write.mode('overwrite').parquet(parsedDir);
  const parsed = spark.read.parquet(parsedDir);
  run.lap('parse');

  // Sorted, so the report's key order (and bytes) do not depend on the order groups come back in.
  const reasonRows = await rowsOf(parsed.groupBy('reason').count().orderBy('reason'));
  let rowsRead = 0;
  let goodRows = 0;
  const quarantineByReason: Record<string, number> = {};
  for (const r of reasonRows) {
    const n = num(r.count);
    rowsRead += n;
    if (r.reason === null || r.reason === undefined) goodRows += n;
    else quarantineByReason[String(r.reason)] = n;
  }
  const rowsQuarantined = rowsRead - goodRows;
  if (rowsRead === 0) throw new JobInputError(`input file has no data rows: ${params.input}`);
  await parsed
    .filter(col('reason').isNotNull())
    .select(col('reason'), col('raw_record'), ...INPUT_COLUMN_NAMES.map((c) => col(c)))
    .orderBy('reason', 'raw_record', 'ID')
    .write.mode('overwrite')
    .parquet(path.join(run.staged, 'quarantine'));
  run.lap('quarantine');
  return { rows: parsed, rowsRead, goodRows, rowsQuarantined, quarantineByReason };
}

/**
 * 2. De-duplicate: rows equal in everything but ID keep the lowest ID; then an ID seen more than once
 *    keeps its latest Dt_Customer (ties broken by every other column, so the choice is deterministic).
 *    The reference date is the latest Dt_Customer.
 */
async function deduplicate(
  run: Run,
  parsed: DataFrame,
  goodRows: number,
): Promise<{ base: DataFrame; duplicatesRemoved: number; duplicateIdsRemoved: number; referenceDate: string; refYear: number }> {
  const dedupDir = path.join(run.work, 'deduped');
  await rankedDistinctRows(parsed).write.mode('overwrite').parquet(dedupDir);
  const deduped = run.spark.read.parquet(dedupDir);
  const [dd] = await rowsOf(
    deduped.agg(
      F.count(lit(1)).alias('n'),
      F.sum(F.when(col('_id_rank').gt(1), 1).otherwise(0)).alias('dup_ids'),
      F.date_format(F.max(F.when(col('_id_rank').eq(1), col('Dt_Customer'))), 'yyyy-MM-dd').alias('ref_date'),
    ),
  );
  const afterContent = num(dd.n);
  const duplicatesRemoved = goodRows - afterContent;
  const duplicateIdsRemoved = num(dd.dup_ids);
  if (dd.ref_date === null || dd.ref_date === undefined) {
    throw new JobInputError(`no row has a valid Dt_Customer (${DATE_FORMAT}), so there is no reference date: ${run.params.input}`);
  }
  const referenceDate = String(dd.ref_date);
  const refYear = Number(referenceDate.slice(0, 4));
  const base = latestPerId(deduped);
  run.lap('dedup');
  return { base, duplicatesRemoved, duplicateIdsRemoved, referenceDate, refYear };
}

interface Validated {
  rows: DataFrame;
  base: DataFrame;
  fences: [number, number];
  outlierTests: Record<string, Column>;
  /** The columns imputation fills (numbers, the date, Education; Marital_Status besides). */
  imputable: string[];
  /** Null and outlier counts per column (`null_<c>`, `out_<c>`). */
  counts: Record<string, unknown>;
  maritalRows: Array<Record<string, unknown>>;
  educationRows: Array<Record<string, unknown>>;
}

/**
 * 3. Validity: implausible Year_Birth, Income beyond the far-out fences, negative counts, unknown
 *    Education become null (then imputed); Marital_Status is mapped.
 */
async function validate(run: Run, base: DataFrame, refYear: number): Promise<Validated> {
  const quartiles = await base.filter(col('Income').gt(0)).stat.approxQuantile('Income', [0.25, 0.75], MEDIAN_RELATIVE_ERROR);
  const [q1, q3] = quartiles.length === 2 ? quartiles : [NaN, NaN];
  const fences: [number, number] = Number.isFinite(q1)
    ? [q1 - INCOME_FENCE_K * (q3 - q1), q3 + INCOME_FENCE_K * (q3 - q1)]
    : [0, Number.MAX_VALUE];
  const outlierTests = outlierTestsAt(refYear, fences);
  const validated = validatedRows(base, outlierTests);

  const imputable = [...NUMERIC_IMPUTED_COLUMNS, 'Dt_Customer', 'Education'];
  const [st] = await rowsOf(
    validated.agg(
      ...imputable.map((c) => F.sum(F.when(col(c).isNull(), 1).otherwise(0)).alias(`null_${c}`)),
      ...Object.keys(outlierTests).map((c) => F.sum(F.when(col(`_out_${c}`), 1).otherwise(0)).alias(`out_${c}`)),
      F.sum(F.when(col('_marital_raw').isNull(), 1).otherwise(0)).alias('null_Marital_Status'),
    ),
  );
  const maritalRows = await rowsOf(base.groupBy('Marital_Status').count().orderBy('Marital_Status'));
  const educationRows = await rowsOf(validated.filter(col('Education').isNotNull()).groupBy('Education').count());
  run.lap('validate');
  return { rows: validated, base, fences, outlierTests, imputable, counts: st, maritalRows, educationRows };
}

/** 4. Impute: medians for numbers (and the date), the mode for Education, "Unknown" for Marital_Status. */
async function impute(
  run: Run,
  v: Validated,
): Promise<{
  rows: DataFrame;
  nullsImputed: Record<string, number>;
  outliersHandled: Record<string, number>;
  imputationValues: Record<string, number | string>;
  maritalNormalized: Record<string, number>;
}> {
  const st = v.counts;
  const nullsImputed: Record<string, number> = {};
  for (const c of [...v.imputable, 'Marital_Status']) {
    const n = num(st[`null_${c}`]);
    if (n > 0) nullsImputed[c] = n;
  }
  const outliersHandled: Record<string, number> = { Year_Birth: num(st.out_Year_Birth), Income: num(st.out_Income) };
  for (const c of Object.keys(v.outlierTests))
    if (!(c in outliersHandled) && num(st[`out_${c}`]) > 0) outliersHandled[c] = num(st[`out_${c}`]);

  const numericToImpute = NUMERIC_IMPUTED_COLUMNS.filter((c) => nullsImputed[c]);
  const withDays = v.rows.withColumn('_dt_days', callFunction('unix_date', col('Dt_Customer')));
  const medianColumns = [...numericToImpute, ...(nullsImputed.Dt_Customer ? ['_dt_days'] : [])];
  const medians = medianColumns.length ? await withDays.stat.approxQuantile(medianColumns, [0.5], MEDIAN_RELATIVE_ERROR) : [];
  const imputationValues: Record<string, number | string> = {};
  medianColumns.forEach((c, i) => {
    const m = (medians[i] as number[] | undefined)?.[0];
    if (m === undefined || !Number.isFinite(m))
      throw new JobInputError(`column ${c} has no valid value to take a median of: ${run.params.input}`);
    if (c === '_dt_days') imputationValues.Dt_Customer = new Date(m * 86_400_000).toISOString().slice(0, 10);
    else imputationValues[c] = INT_COLUMNS.has(c) ? Math.round(m) : m;
  });
  const validEducation = v.educationRows
    .map((r) => ({ value: String(r.Education), n: num(r.count) }))
    .sort((a, b) => b.n - a.n || (a.value < b.value ? -1 : 1));
  const educationMode = validEducation[0]?.value ?? 'Graduation';
  if (nullsImputed.Education) imputationValues.Education = educationMode;
  if (nullsImputed.Marital_Status) imputationValues.Marital_Status = UNKNOWN_STATUS;
  const maritalNormalized: Record<string, number> = {};
  for (const r of v.maritalRows) {
    if (r.Marital_Status === null || r.Marital_Status === undefined) continue;
    const from = String(r.Marital_Status);
    const to = MARITAL_STATUS_MAP[from.trim()] ?? UNKNOWN_STATUS;
    if (to !== from) maritalNormalized[`${from} -> ${to}`] = num(r.count);
  }
  return { rows: imputedRows(withDays, imputationValues), nullsImputed, outliersHandled, imputationValues, maritalNormalized };
}

/** 6. Scaling parameters over the output rows, then <col>_norm and <col>_std. */
async function scale(features: DataFrame): Promise<{ sorted: DataFrame; featureStats: Record<string, ColumnScale> }> {
  const [fs_] = await rowsOf(
    features.agg(
      ...SCALED_COLUMNS.flatMap((c) => [
        F.min(col(c)).cast('double').alias(`min_${c}`),
        F.max(col(c)).cast('double').alias(`max_${c}`),
        F.avg(col(c)).alias(`mean_${c}`),
        F.stddev_pop(col(c)).alias(`sd_${c}`),
      ]),
    ),
  );
  const featureStats: Record<string, ColumnScale> = {};
  for (const c of SCALED_COLUMNS) {
    featureStats[c] = { min: num(fs_[`min_${c}`]), max: num(fs_[`max_${c}`]), mean: num(fs_[`mean_${c}`]), sd: num(fs_[`sd_${c}`]) };
  }
  // Sorted before the scaled columns are added, so the shuffle carries ~40 columns rather than ~90; the
  // projection after the sort keeps its order.
  return { sorted: scaledRows(features.orderBy('ID'), featureStats), featureStats };
}

/** 7. Outputs, sorted by ID so the same input always gives the same files; returns the written Parquet. */
async function writeOutputs(run: Run, sorted: DataFrame): Promise<DataFrame> {
  const customersDir = path.join(run.staged, 'customers');
  await sorted.write.mode('overwrite').parquet(customersDir);
  const written = run.spark.read.parquet(customersDir);
  // One CSV file: Spark writes the sorted rows in parallel as range-partitioned parts (part-00000 holds
  // the lowest IDs); Node puts the header first and joins the parts in order.
  const csvDir = path.join(run.work, 'csv');
  await sorted.write.mode('overwrite').option('header', false).csv(csvDir);
  await concatParts(csvDir, '.csv', path.join(run.staged, 'customers.csv'), (await sorted.columns()).join(',') + '\n');
  run.lap('write');
  return written;
}

/** What a run leaves in its output directory. */
export const PREPROCESS_OUTPUTS = ['quarantine', 'customers', 'customers.csv', 'scaler.json', 'quality-report.json'] as const;

/**
 * 9. The checked outputs replace the previous ones, each by a rename within the output directory: a run that
 * failed before this point left the previous run's outputs as they were, never a mix of old and new.
 */
function publishOutputs(run: Run): void {
  for (const name of PREPROCESS_OUTPUTS) {
    const target = path.join(run.out, name);
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(path.join(run.staged, name), target);
  }
}

/** 8. The job checks itself: count what was written, and that no imputed column kept a null. Returns the count. */
async function verifyOutputs(written: DataFrame, imputable: readonly string[]): Promise<number> {
  const checked = [...imputable, 'Marital_Status'];
  const [w] = await rowsOf(
    written.agg(F.count(lit(1)).alias('n'), ...checked.map((c) => F.sum(F.when(col(c).isNull(), 1).otherwise(0)).alias(`null_${c}`))),
  );
  const leftNulls = checked.filter((c) => num(w[`null_${c}`]) > 0);
  if (leftNulls.length) throw new Error(`nulls remain after imputation in: ${leftNulls.join(', ')}`);
  return num(w.n);
}
