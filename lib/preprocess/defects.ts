/**
 * The generator's defect model: which kinds of defects the synthetic file has, at which rates, and where
 * they go. Pure: the rates, the row layout and the SQL that draws the values are all computed here, so
 * they are unit-tested; generate.ts runs them in Spark.
 *
 * Layout of the N data rows (position p = 0..N-1, written in that order):
 *   [0, base)                         base rows: content drawn from key p, ID = p
 *   [base, base + duplicates)         duplicates: the content of a base row (drawn from its key), a new ID
 *   [base + duplicates, N)            duplicate IDs: the ID of a base row, their own (different) content
 * Value defects (missing, outlier) are drawn from the content key, so a duplicate repeats them exactly.
 * Row defects (malformed, bad type) are drawn from the position, so any row may have one.
 */
export interface DefectRates {
  /** A row has one empty field (Income most often, like the Kaggle file). */
  missing: number;
  /** A row repeats another row in everything but ID. */
  duplicate: number;
  /** A row reuses another row's ID with different content. */
  duplicateId: number;
  /** Year_Birth in 1893..1900, or Income 666666. */
  outlier: number;
  /** A number or a date that does not parse. */
  badType: number;
  /** A row with one field too few or too many. */
  malformed: number;
}

/** Close to the Kaggle file where it has the defect (missing 24/2240, duplicates 182/2240), small otherwise. */
export const DEFAULT_DEFECT_RATES: DefectRates = {
  missing: 0.01,
  duplicate: 0.08,
  duplicateId: 0.005,
  outlier: 0.005,
  badType: 0.005,
  malformed: 0.005,
};

export const DEFECT_KINDS = Object.keys(DEFAULT_DEFECT_RATES) as Array<keyof DefectRates>;

export function validateRates(r: DefectRates): string | undefined {
  for (const k of DEFECT_KINDS) {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v >= 1) return `defect rate ${k} must be in [0, 1), got ${v}`;
  }
  if (r.duplicate + r.duplicateId >= 0.5) return `duplicate + duplicateId must be below 0.5, got ${r.duplicate + r.duplicateId}`;
  if (r.badType + r.malformed >= 0.5) return `badType + malformed must be below 0.5, got ${r.badType + r.malformed}`;
  return undefined;
}

export interface RowLayout {
  rows: number;
  base: number;
  duplicates: number;
  duplicateIds: number;
}

export function rowLayout(rows: number, rates: DefectRates): RowLayout {
  const duplicates = Math.round(rows * rates.duplicate);
  const duplicateIds = Math.round(rows * rates.duplicateId);
  const base = rows - duplicates - duplicateIds;
  if (rows > 0 && base < 1) throw new Error(`no base rows left for ${rows} rows at these duplicate rates`);
  return { rows, base, duplicates, duplicateIds };
}

/** Columns that a "missing" defect empties, with weights (Income most often, as in the Kaggle file). */
export const MISSING_COLUMNS: ReadonlyArray<[string, number]> = [
  ['Income', 0.6],
  ['Year_Birth', 0.05],
  ['Education', 0.05],
  ['Marital_Status', 0.05],
  ['Kidhome', 0.05],
  ['Dt_Customer', 0.05],
  ['Recency', 0.05],
  ['MntWines', 0.05],
  ['NumWebPurchases', 0.05],
];

/** Numeric columns that a "bad type" defect can hit, and the values it writes there. */
export const BAD_NUMBER_COLUMNS = ['Income', 'Year_Birth', 'Recency', 'MntMeatProducts', 'NumStorePurchases'] as const;
export const BAD_NUMBERS = ['abc', '12x', 'N/A', '4.5.6'] as const;
export const BAD_DATES = ['31-02-2013', '2013-05-12', 'yesterday', '12/05/2013'] as const;

/** Weighted category draws, as in the Kaggle file. */
export const EDUCATION_WEIGHTS: ReadonlyArray<[string, number]> = [
  ['Graduation', 0.503],
  ['PhD', 0.217],
  ['Master', 0.165],
  ['2n Cycle', 0.091],
  ['Basic', 0.024],
];
export const MARITAL_WEIGHTS: ReadonlyArray<[string, number]> = [
  ['Married', 0.386],
  ['Together', 0.259],
  ['Single', 0.214],
  ['Divorced', 0.1035],
  ['Widow', 0.0344],
  ['Alone', 0.0013],
  ['Absurd', 0.0009],
  ['YOLO', 0.0009],
];

const TWO_53 = '9007199254740992';

const sqlString = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * A uniform draw in [0, 1) that depends only on (seed, key, salt): xxhash64, not rand(), so the value of a
 * row does not depend on how Spark partitions the range, and a duplicate re-draws its source's values.
 */
export function uniformSql(seed: number, key: string, salt: string): string {
  return `(pmod(xxhash64(CAST(${Math.trunc(seed)} AS BIGINT), ${key}, ${sqlString(salt)}), ${TWO_53}) / ${TWO_53}.0D)`;
}

/** CASE expression picking a label by cumulative weight (weights are normalized). */
export function weightedPickSql(u: string, choices: ReadonlyArray<[string, number]>): string {
  const total = choices.reduce((a, [, w]) => a + w, 0);
  let acc = 0;
  const arms = choices.slice(0, -1).map(([label, w]) => {
    acc += w / total;
    return `WHEN ${u} < ${acc.toPrecision(12)} THEN ${sqlString(label)}`;
  });
  return `CASE ${arms.join(' ')} ELSE ${sqlString(choices[choices.length - 1][0])} END`;
}

export interface GeneratorPlan {
  layout: RowLayout;
  /** Successive selectExpr stages over spark.range(N) (column `id`); the last yields one column, `value`. */
  stages: string[][];
}

/**
 * The generator as SQL: stage 1 places each position in the layout, stage 2 draws the clean fields and
 * the defect choices, stage 3 applies the defects and joins the fields into one tab-separated line.
 */
export function generatorPlan(rows: number, seed: number, rates: DefectRates, columns: readonly string[]): GeneratorPlan {
  const layout = rowLayout(rows, rates);
  const { base, duplicates } = layout;
  const U = (key: string, salt: string): string => uniformSql(seed, key, salt);
  const src = `CAST(floor(${U('id', 'source')} * ${base}) AS BIGINT)`;
  const stage1 = [
    'id AS pos',
    `CASE WHEN id < ${base} THEN id WHEN id < ${base + duplicates} THEN ${src} ELSE id END AS k`,
    `CASE WHEN id < ${base + duplicates} THEN id ELSE ${src} END AS ID`,
  ];
  const uk = (salt: string): string => U('k', salt);
  const up = (salt: string): string => U('pos', salt);
  const int = (e: string): string => `CAST(floor(${e}) AS INT)`;
  const sq = (salt: string): string => `pow(${uk(salt)}, 2)`;
  const campaign = (n: number): string => `CAST(${uk(`cmp${n}`)} < 0.07 AS INT)`;
  const fields: Record<string, string> = {
    ID: 'ID',
    Year_Birth: `1940 + ${int(`${uk('year')} * 57`)}`,
    Education: weightedPickSql(uk('education'), EDUCATION_WEIGHTS),
    Marital_Status: weightedPickSql(uk('marital'), MARITAL_WEIGHTS),
    Income: `5000 + ${int(`(${uk('income1')} + ${uk('income2')}) * 46000`)}`,
    Kidhome: `CASE WHEN ${uk('kid')} < 0.58 THEN 0 WHEN ${uk('kid')} < 0.98 THEN 1 ELSE 2 END`,
    Teenhome: `CASE WHEN ${uk('teen')} < 0.52 THEN 0 WHEN ${uk('teen')} < 0.98 THEN 1 ELSE 2 END`,
    Dt_Customer: `date_format(date_add(DATE'2012-07-30', ${int(`${uk('joined')} * 700`)}), 'dd-MM-yyyy')`,
    Recency: int(`${uk('recency')} * 100`),
    MntWines: int(`${sq('wines')} * 1500`),
    MntFruits: int(`${sq('fruits')} * 200`),
    MntMeatProducts: int(`${sq('meat')} * 1700`),
    MntFishProducts: int(`${sq('fish')} * 260`),
    MntSweetProducts: int(`${sq('sweet')} * 260`),
    MntGoldProds: int(`${sq('gold')} * 320`),
    NumDealsPurchases: int(`${sq('deals')} * 16`),
    NumWebPurchases: int(`${uk('web')} * 12`),
    NumCatalogPurchases: int(`${sq('catalog')} * 28`),
    NumStorePurchases: int(`${uk('store')} * 14`),
    NumWebVisitsMonth: int(`${uk('visits')} * 20`),
    AcceptedCmp3: campaign(3),
    AcceptedCmp4: campaign(4),
    AcceptedCmp5: campaign(5),
    AcceptedCmp1: campaign(1),
    AcceptedCmp2: campaign(2),
    Complain: `CAST(${uk('complain')} < 0.01 AS INT)`,
    Z_CostContact: '3',
    Z_Revenue: '11',
    // The last campaign's response leans on the earlier ones and on recent activity, so a model can learn it.
    Response: `CAST(${uk('response')} < 0.08 + 0.3 * CAST(${uk('cmp1')} < 0.07 OR ${uk('cmp5')} < 0.07 AS INT) + 0.1 * CAST(${uk('recency')} < 0.3 AS INT) AS INT)`,
  };
  const missingCol = weightedPickSql(uk('missing_column'), MISSING_COLUMNS);
  const stage2 = [
    'pos',
    ...Object.entries(fields).map(([name, e]) => `CAST(${e} AS STRING) AS \`${name}\``),
    `CASE WHEN ${uk('missing')} < ${rates.missing} THEN ${missingCol} END AS missing_col`,
    `CASE WHEN ${uk('outlier')} < ${rates.outlier} THEN (CASE WHEN ${uk('outlier_kind')} < 0.5 THEN 'Year_Birth' ELSE 'Income' END) END AS outlier_col`,
    `CASE WHEN ${up('row_defect')} < ${rates.malformed} THEN 'malformed' WHEN ${up('row_defect')} < ${rates.malformed + rates.badType} THEN (CASE WHEN ${up('bad_kind')} < 0.5 THEN 'bad_number' ELSE 'bad_date' END) END AS row_defect`,
    `${weightedPickSql(
      up('bad_column'),
      BAD_NUMBER_COLUMNS.map((c) => [c, 1]),
    )} AS bad_col`,
    `${weightedPickSql(
      up('bad_value'),
      BAD_NUMBERS.map((c) => [c, 1]),
    )} AS bad_number`,
    `${weightedPickSql(
      up('bad_value'),
      BAD_DATES.map((c) => [c, 1]),
    )} AS bad_date`,
    `${weightedPickSql(
      uk('outlier_year'),
      ['1893', '1899', '1900'].map((c) => [c, 1]),
    )} AS outlier_year`,
    `${up('malformed_kind')} < 0.5 AS malformed_short`,
  ];
  const value = (name: string): string => {
    let e = `\`${name}\``;
    if (name === 'Year_Birth') e = `CASE WHEN outlier_col = 'Year_Birth' THEN outlier_year ELSE ${e} END`;
    if (name === 'Income') e = `CASE WHEN outlier_col = 'Income' THEN '666666' ELSE ${e} END`;
    if (name !== 'ID') e = `CASE WHEN missing_col = '${name}' THEN '' ELSE ${e} END`;
    if (name === 'Dt_Customer') e = `CASE WHEN row_defect = 'bad_date' THEN bad_date ELSE ${e} END`;
    if ((BAD_NUMBER_COLUMNS as readonly string[]).includes(name))
      e = `CASE WHEN row_defect = 'bad_number' AND bad_col = '${name}' THEN bad_number ELSE ${e} END`;
    return e;
  };
  const all = columns.map(value);
  const short = all.slice(0, -1);
  const stage3 = [
    `CASE WHEN row_defect = 'malformed' AND malformed_short THEN concat_ws('\\t', ${short.join(', ')}) ` +
      `WHEN row_defect = 'malformed' THEN concat_ws('\\t', ${all.join(', ')}, 'extra') ` +
      `ELSE concat_ws('\\t', ${all.join(', ')}) END AS value`,
  ];
  return { layout, stages: [stage1, stage2, stage3] };
}
