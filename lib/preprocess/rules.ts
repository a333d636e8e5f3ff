/**
 * The cleaning rules, as data. The pipeline (pipeline.ts) turns them into Spark expressions; the README
 * section explains each choice.
 */

/** Marital_Status after normalization. Values not listed (and nulls) become UNKNOWN_STATUS. */
export const MARITAL_STATUS_MAP: Readonly<Record<string, string>> = {
  Married: 'Married',
  Together: 'Together',
  Single: 'Single',
  Divorced: 'Divorced',
  Widow: 'Widow',
  // Living alone is being single; "Absurd" and "YOLO" are joke answers that say nothing about status.
  Alone: 'Single',
  Absurd: 'Unknown',
  YOLO: 'Unknown',
};
export const UNKNOWN_STATUS = 'Unknown';
/** Statuses that mean two adults in the household (Family_Size). */
export const COUPLE_STATUSES = ['Married', 'Together'] as const;

/**
 * Education as an ordinal level. "Graduation" is a first-cycle (bachelor) degree; "2n Cycle" is the
 * Bologna second cycle, i.e. master level, so it shares level 3 with "Master".
 * Values not listed are treated as missing and filled with the mode.
 */
export const EDUCATION_LEVELS: Readonly<Record<string, number>> = {
  Basic: 1,
  Graduation: 2,
  '2n Cycle': 3,
  Master: 3,
  PhD: 4,
};

/**
 * Year_Birth is implausible when the age it gives at the reference date is outside this range
 * (the Kaggle file has 1893, 1899 and 1900). Such values are set to null and imputed with the median.
 */
export const PLAUSIBLE_AGE = { min: 16, max: 100 } as const;

/**
 * Income is an outlier when it lies outside Tukey's far-out fences, Q1 - k*IQR .. Q3 + k*IQR with k = 3
 * (quartiles from approxQuantile at MEDIAN_RELATIVE_ERROR), or is not positive. On the Kaggle file the
 * upper fence is about 170,000 and only the 666666 placeholder is beyond it. Outliers are set to null
 * and imputed with the median: the value is unknown, and a cap would invent an income.
 */
export const INCOME_FENCE_K = 3;

/**
 * Relative error passed to approxQuantile for medians and quartiles: the value returned has a rank
 * within 1e-4 * N of the exact one, so for N < 10,000 (the Kaggle file) it is the exact order statistic.
 */
export const MEDIAN_RELATIVE_ERROR = 1e-4;

/** Age_Group buckets by Age at the reference date: upper bound inclusive, the last one open. */
export const AGE_GROUPS: ReadonlyArray<{ label: string; maxAge?: number }> = [
  { label: 'Under 35', maxAge: 34 },
  { label: '35-49', maxAge: 49 },
  { label: '50-64', maxAge: 64 },
  { label: '65+' },
];

/** Numeric feature columns that get `<col>_norm` (min-max) and `<col>_std` (z-score) columns. */
export const SCALED_COLUMNS = [
  'Income',
  'Recency',
  'Age',
  'Tenure_Days',
  'Children',
  'Family_Size',
  'Total_Spend',
  'Total_Purchases',
  'Total_Accepted_Campaigns',
  'Spend_per_Purchase',
  'Income_per_Capita',
  'Education_Level',
  'MntWines',
  'MntFruits',
  'MntMeatProducts',
  'MntFishProducts',
  'MntSweetProducts',
  'MntGoldProds',
  'NumDealsPurchases',
  'NumWebPurchases',
  'NumCatalogPurchases',
  'NumStorePurchases',
  'NumWebVisitsMonth',
] as const;

/** The reasons a row is quarantined, in the order they are tested (the first that applies wins). */
export const QUARANTINE_REASONS = ['wrong_field_count', 'unparseable_date', 'unparseable_number', 'missing_id'] as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];
