/**
 * The input contract: the 29 columns of the Kaggle "Customer Personality Analysis" file, in file order,
 * with the Spark types the reader enforces. Nothing is inferred.
 */
export type InputType = 'int' | 'double' | 'string' | 'date';

export interface InputColumn {
  name: string;
  type: InputType;
}

export const INPUT_COLUMNS: readonly InputColumn[] = [
  { name: 'ID', type: 'int' },
  { name: 'Year_Birth', type: 'int' },
  { name: 'Education', type: 'string' },
  { name: 'Marital_Status', type: 'string' },
  { name: 'Income', type: 'double' },
  { name: 'Kidhome', type: 'int' },
  { name: 'Teenhome', type: 'int' },
  { name: 'Dt_Customer', type: 'date' },
  { name: 'Recency', type: 'int' },
  { name: 'MntWines', type: 'int' },
  { name: 'MntFruits', type: 'int' },
  { name: 'MntMeatProducts', type: 'int' },
  { name: 'MntFishProducts', type: 'int' },
  { name: 'MntSweetProducts', type: 'int' },
  { name: 'MntGoldProds', type: 'int' },
  { name: 'NumDealsPurchases', type: 'int' },
  { name: 'NumWebPurchases', type: 'int' },
  { name: 'NumCatalogPurchases', type: 'int' },
  { name: 'NumStorePurchases', type: 'int' },
  { name: 'NumWebVisitsMonth', type: 'int' },
  { name: 'AcceptedCmp3', type: 'int' },
  { name: 'AcceptedCmp4', type: 'int' },
  { name: 'AcceptedCmp5', type: 'int' },
  { name: 'AcceptedCmp1', type: 'int' },
  { name: 'AcceptedCmp2', type: 'int' },
  { name: 'Complain', type: 'int' },
  { name: 'Z_CostContact', type: 'int' },
  { name: 'Z_Revenue', type: 'int' },
  { name: 'Response', type: 'int' },
];

export const INPUT_COLUMN_NAMES: readonly string[] = INPUT_COLUMNS.map((c) => c.name);

/** The column PERMISSIVE mode fills with the raw line of a malformed record. */
export const CORRUPT_COLUMN = '_corrupt_record';

/** `Dt_Customer` as written in the Kaggle file (Spark datetime pattern). */
export const DATE_FORMAT = 'dd-MM-yyyy';

export const MNT_COLUMNS = ['MntWines', 'MntFruits', 'MntMeatProducts', 'MntFishProducts', 'MntSweetProducts', 'MntGoldProds'] as const;
/** Purchases by channel. NumDealsPurchases counts purchases made with a discount, which are already in these. */
export const PURCHASE_COLUMNS = ['NumWebPurchases', 'NumCatalogPurchases', 'NumStorePurchases'] as const;
/** The five earlier campaigns. `Response` (the last campaign) is the prediction target, so it stays out. */
export const CAMPAIGN_COLUMNS = ['AcceptedCmp1', 'AcceptedCmp2', 'AcceptedCmp3', 'AcceptedCmp4', 'AcceptedCmp5'] as const;
/** Constant in the Kaggle file (3 and 11): no information, dropped. */
export const CONSTANT_COLUMNS = ['Z_CostContact', 'Z_Revenue'] as const;

/** Numeric input columns that are imputed with their median when null (everything numeric except the key). */
export const NUMERIC_IMPUTED_COLUMNS: readonly string[] = INPUT_COLUMNS.filter(
  (c) => (c.type === 'int' || c.type === 'double') && c.name !== 'ID' && !(CONSTANT_COLUMNS as readonly string[]).includes(c.name),
).map((c) => c.name);

/** Counts that cannot be negative: a negative value is an outlier, nulled and imputed. */
export const NON_NEGATIVE_COLUMNS: readonly string[] = NUMERIC_IMPUTED_COLUMNS.filter((c) => c !== 'Year_Birth' && c !== 'Income');

// Dates are read as text and parsed afterwards (try_to_date), so an unparseable date gets its own reason.
const SPARK_TYPE: Record<InputType, string> = { int: 'INT', double: 'DOUBLE', string: 'STRING', date: 'STRING' };

const BY_NAME = new Map(INPUT_COLUMNS.map((c) => [c.name, c]));

/**
 * The reader's schema as a Spark DDL string: the 29 columns in the order the file's header has them (the
 * CSV reader maps fields by position), then the corrupt-record column.
 */
export function inputSchemaDDL(order: readonly string[] = INPUT_COLUMN_NAMES): string {
  const cols = order.map((name) => {
    const c = BY_NAME.get(name);
    if (!c) throw new Error(`not an input column: ${name}`);
    return `\`${c.name}\` ${SPARK_TYPE[c.type]}`;
  });
  return [...cols, `\`${CORRUPT_COLUMN}\` STRING`].join(', ');
}
