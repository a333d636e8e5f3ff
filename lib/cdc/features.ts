import type { EncodedRow } from './stats';

/** A customer row as carried in `before`/`after`: the cleaned columns of the preprocessed table. */
export type CustomerRow = Record<string, string | number | boolean | null>;

/**
 * The default model inputs: the raw numeric columns of the customer table (all integers in this data, so
 * their sums are exact integers). Engineered columns can be added with --features.
 */
export const DEFAULT_FEATURES: readonly string[] = [
  'Income', 'Kidhome', 'Teenhome', 'Recency',
  'MntWines', 'MntFruits', 'MntMeatProducts', 'MntFishProducts', 'MntSweetProducts', 'MntGoldProds',
  'NumDealsPurchases', 'NumWebPurchases', 'NumCatalogPurchases', 'NumStorePurchases', 'NumWebVisitsMonth',
  'AcceptedCmp1', 'AcceptedCmp2', 'AcceptedCmp3', 'AcceptedCmp4', 'AcceptedCmp5', 'Complain',
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
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (!list.length) throw new Error('--features is empty');
  const dup = list.find((f, i) => list.indexOf(f) !== i);
  if (dup) throw new Error(`--features names ${dup} twice`);
  return list;
}

export type EncodeResult = { ok: true; row: EncodedRow } | { ok: false; reason: string };

/** Encodes a row for the statistics, or says why it cannot be used. */
export function encodeRow(row: CustomerRow, spec: FeatureSpec): EncodeResult {
  const scale = 10 ** spec.decimals;
  const x = new Array<number>(spec.features.length);
  for (let j = 0; j < spec.features.length; j++) {
    const name = spec.features[j];
    const v = row[name];
    if (v === undefined) return { ok: false, reason: `missing feature ${name}` };
    if (typeof v !== 'number' || !Number.isFinite(v)) return { ok: false, reason: `non-numeric feature ${name}: ${JSON.stringify(v)}` };
    const q = Math.round(v * scale);
    if (q / scale !== v) {
      return { ok: false, reason: `feature ${name}=${v} has more than ${spec.decimals} decimal place(s) (see --feature-decimals)` };
    }
    if (!Number.isSafeInteger(q)) return { ok: false, reason: `feature ${name}=${v} is out of range` };
    x[j] = q;
  }
  const y = row[spec.target];
  if (y !== 0 && y !== 1) return { ok: false, reason: `target ${spec.target} must be 0 or 1, got ${JSON.stringify(y ?? null)}` };
  return { ok: true, row: { x, y } };
}

/** The feature values of a row as plain numbers (for batch fits and scoring). */
export function featureValues(row: CustomerRow, spec: FeatureSpec): number[] {
  return spec.features.map((f) => row[f] as number);
}
