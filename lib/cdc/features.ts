import { EDUCATION_LEVELS, MARITAL_STATUS_MAP } from '../preprocess/rules';
import type { EncodedRow } from './stats';

/** A customer row as carried in `before`/`after`: the cleaned columns of the preprocessed table. */
export type CustomerRow = Record<string, string | number | boolean | null>;

/** The raw numeric columns of the customer table the default model reads (integers in this data). */
export const RAW_FEATURE_COLUMNS: readonly string[] = [
  'Income',
  'Kidhome',
  'Teenhome',
  'Recency',
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
  'AcceptedCmp1',
  'AcceptedCmp2',
  'AcceptedCmp3',
  'AcceptedCmp4',
  'AcceptedCmp5',
  'Complain',
];

/**
 * Marital status one-hot, after the cleaning's normalization (Alone → Single, Absurd/YOLO → Unknown): one
 * 0/1 column per status; Unknown is all zeros. Education is the cleaning's ordinal level (EDUCATION_LEVELS).
 */
export const MARITAL_STATUSES: readonly string[] = ['Married', 'Together', 'Single', 'Divorced', 'Widow'];
/** Tenure is counted in whole days from Dt_Customer to this fixed date (after the last enrolment in the data). */
export const TENURE_REFERENCE_DATE = '2015-01-01';
const DAY_MS = 86_400_000;
const TENURE_REFERENCE_DAYS = Date.parse(`${TENURE_REFERENCE_DATE}T00:00:00Z`) / DAY_MS;

// Parsed date strings: a customer table has a few hundred distinct enrolment dates (bounded anyway).
const dayCache = new Map<string, number | undefined>();

/** Days since 1970-01-01 of a date given as Debezium's io.debezium.time.Date (an integer), ISO `YYYY-MM-DD[...]` or the Kaggle `DD-MM-YYYY`. */
export function epochDays(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  if (dayCache.has(v)) return dayCache.get(v);
  const d = parseDays(v);
  if (dayCache.size < 100_000) dayCache.set(v, d);
  return d;
}

function parseDays(v: string): number | undefined {
  let m = /^(\d{4})-(\d{2})-(\d{2})(?:$|[T ])/.exec(v);
  let iso: string | undefined;
  if (m) iso = `${m[1]}-${m[2]}-${m[3]}`;
  else if ((m = /^(\d{2})-(\d{2})-(\d{4})$/.exec(v))) iso = `${m[3]}-${m[2]}-${m[1]}`;
  if (!iso) return undefined;
  const ms = Date.parse(`${iso}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().startsWith(iso) ? ms / DAY_MS : undefined;
}

/**
 * Features computed from a row's columns, each an integer so the statistics stay exact. A function
 * returns the value, or a string saying why the row cannot be encoded.
 */
export const DERIVED_FEATURES: Readonly<Record<string, (row: CustomerRow) => number | string>> = {
  Tenure_Days: (row) => {
    const d = epochDays(row.Dt_Customer);
    return d === undefined ? `Dt_Customer is not a date: ${JSON.stringify(row.Dt_Customer ?? null)}` : TENURE_REFERENCE_DAYS - d;
  },
  Education_Level: (row) => {
    const e = row.Education;
    const level = typeof e === 'string' ? EDUCATION_LEVELS[e] : undefined;
    return level ?? `unknown Education ${JSON.stringify(e ?? null)} (expected one of ${Object.keys(EDUCATION_LEVELS).join(', ')})`;
  },
  ...Object.fromEntries(
    MARITAL_STATUSES.map((s) => [
      `Marital_${s}`,
      (row: CustomerRow) => {
        const m = row.Marital_Status;
        if (typeof m !== 'string') return `Marital_Status is not a string: ${JSON.stringify(m ?? null)}`;
        return (MARITAL_STATUS_MAP[m] ?? m) === s ? 1 : 0;
      },
    ]),
  ),
};

/**
 * The default model inputs: the raw numeric columns, the birth year, and the integer encodings of
 * Dt_Customer (tenure in days), Education (ordinal level) and Marital_Status (one-hot). All integers, so
 * the sums stay exact. `--features` chooses others (raw columns or the derived names above).
 */
export const DEFAULT_FEATURES: readonly string[] = [
  ...RAW_FEATURE_COLUMNS,
  'Year_Birth',
  'Tenure_Days',
  'Education_Level',
  ...MARITAL_STATUSES.map((s) => `Marital_${s}`),
];
export const DEFAULT_TARGET = 'Response';

/**
 * What the model reads from a row. Features are kept as fixed-point integers value·10^decimals so the
 * statistics stay exact: with decimals = 0 (the default) a non-integral value is rejected (to the DLQ, with
 * its reason) rather than silently rounded; pass --feature-decimals d to accept up to d decimal places.
 */
export interface FeatureSpec {
  features: string[];
  target: string;
  decimals: number;
}

export function defaultSpec(): FeatureSpec {
  return { features: [...DEFAULT_FEATURES], target: DEFAULT_TARGET, decimals: 0 };
}

export function parseFeatureList(text: string): string[] {
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!list.length) throw new Error('--features is empty');
  const dup = list.find((f, i) => list.indexOf(f) !== i);
  if (dup) throw new Error(`--features names ${dup} twice`);
  return list;
}

export type EncodeResult = { ok: true; row: EncodedRow } | { ok: false; reason: string };

/**
 * Encodes a row for the statistics, or says why it cannot be used. A null target is a row without a
 * label (y = null): it belongs to the table but not to the model.
 */
export function encodeRow(row: CustomerRow, spec: FeatureSpec): EncodeResult {
  const scale = 10 ** spec.decimals;
  const x = new Array<number>(spec.features.length);
  for (let j = 0; j < spec.features.length; j++) {
    const name = spec.features[j];
    let v: unknown = row[name];
    // A column of that name wins; else a derived feature; else the column is missing.
    const derive = v === undefined ? DERIVED_FEATURES[name] : undefined;
    if (derive) {
      v = derive(row);
      if (typeof v === 'string') return { ok: false, reason: v };
    } else if (v === undefined) return { ok: false, reason: `missing feature ${name}` };
    if (typeof v !== 'number' || !Number.isFinite(v)) return { ok: false, reason: `non-numeric feature ${name}: ${JSON.stringify(v)}` };
    const q = Math.round(v * scale);
    if (q / scale !== v) {
      return { ok: false, reason: `feature ${name}=${v} has more than ${spec.decimals} decimal place(s) (see --feature-decimals)` };
    }
    if (!Number.isSafeInteger(q)) return { ok: false, reason: `feature ${name}=${v} is out of range` };
    x[j] = q;
  }
  const y = row[spec.target];
  if (y === null) return { ok: true, row: { x, y: null } };
  if (y !== 0 && y !== 1)
    return { ok: false, reason: `target ${spec.target} must be 0 or 1 (or null: no label), got ${JSON.stringify(y ?? null)}` };
  return { ok: true, row: { x, y } };
}

/**
 * A row encoder for one spec, the same function as `encodeRow` but faster on the common case: with
 * decimals = 0 it is generated code reading each column by its literal name (monomorphic on the fast
 * envelope path's fixed-shape rows) that accepts a row only when every feature is a safe integer and the
 * target 0, 1 or null, where encodeRow's result is that row; anything else (and decimals > 0) is left to
 * encodeRow, which also gives the reason.
 */
export function compileEncoder(spec: FeatureSpec): (row: CustomerRow) => EncodeResult {
  const generic = (row: CustomerRow) => encodeRow(row, spec);
  const names = [...spec.features, spec.target];
  if (spec.decimals !== 0 || names.includes('__proto__')) return generic;
  const lines = spec.features.map((name, j) => {
    const n = JSON.stringify(name);
    const derive = Object.prototype.hasOwnProperty.call(DERIVED_FEATURES, name) ? `if (v === undefined) v = D[${n}](row); ` : '';
    return `v = row[${n}]; ${derive}if (typeof v !== 'number' || !Number.isSafeInteger(v)) return undefined; x[${j}] = v;`;
  });
  // eslint-disable-next-line no-new-func -- code generated from JSON-quoted column names, for speed
  const fast = new Function(
    'D',
    `return function (row) { const x = new Array(${spec.features.length}); let v; ${lines.join(' ')}
      const y = row[${JSON.stringify(spec.target)}];
      if (y !== null && y !== 0 && y !== 1) return undefined;
      return { ok: true, row: { x, y } }; };`,
  )(DERIVED_FEATURES) as (row: CustomerRow) => EncodeResult | undefined;
  return (row) => fast(row) ?? generic(row);
}

/** The columns each derived feature reads (a source that renames columns must map these too). */
export const DERIVED_FEATURE_INPUTS: Readonly<Record<string, readonly string[]>> = {
  Tenure_Days: ['Dt_Customer'],
  Education_Level: ['Education'],
  ...Object.fromEntries(MARITAL_STATUSES.map((s) => [`Marital_${s}`, ['Marital_Status']])),
};

/** The row columns a feature spec reads: raw feature columns, the inputs of derived ones, and the target. */
export function sourceColumns(spec: FeatureSpec): string[] {
  const cols = spec.features.flatMap((f) => DERIVED_FEATURE_INPUTS[f] ?? [f]);
  return [...new Set([...cols, spec.target])];
}

/** The feature values of a row as plain numbers (batch refits from a source table); throws when it cannot be encoded. */
export function featureValues(row: CustomerRow, spec: FeatureSpec): number[] {
  const r = encodeRow(row, spec);
  if (!r.ok) throw new Error(`row ${String(row.ID)} cannot be encoded: ${r.reason}`);
  return decodeFeatures(r.row, spec);
}

/** The feature values of an encoded row as plain numbers (for batch fits and scoring). */
export function decodeFeatures(row: EncodedRow, spec: FeatureSpec): number[] {
  const scale = 10 ** spec.decimals;
  return scale === 1 ? row.x.slice() : row.x.map((v) => v / scale);
}

/** The model's view of a stored row: ID, the features by name, and the target (null: no label). */
export function decodeRow(id: number, row: EncodedRow, spec: FeatureSpec): CustomerRow {
  const out: CustomerRow = { ID: id };
  const values = decodeFeatures(row, spec);
  spec.features.forEach((f, j) => (out[f] = values[j]));
  out[spec.target] = row.y;
  return out;
}
