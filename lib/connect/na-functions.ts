// `df.na`: filling, dropping and replacing missing values.
import type { Relation } from './gen/spark/connect/Relation';
import type { _spark_connect_Expression_Literal as Literal } from './gen/spark/connect/Expression';
import { literalProto } from './plan';
import { DataFrame } from './dataframe';

export type FillValue = number | bigint | string | boolean;

/** `df.na`: missing-value handling. */
export class DataFrameNaFunctions {
  constructor(private readonly df: DataFrame) {}

  private derive(body: Relation): DataFrame {
    return new DataFrame(this.df.session, this.df.session.newRelation(body));
  }

  /**
   * Fills nulls: `fill(0)`, `fill('x', ['a', 'b'])`, or per column `fill({ a: 0, b: 'unknown' })`. As in
   * Spark, a value only fills columns of a matching type.
   */
  fill(value: FillValue | Record<string, FillValue>, subset?: string | string[]): DataFrame {
    if (typeof value === 'object') {
      const entries = Object.entries(value);
      if (entries.length === 0) throw new TypeError('na.fill: the value map is empty');
      return this.derive({
        fill_na: { input: this.df.relation, cols: entries.map(([k]) => k), values: entries.map(([, v]) => fillLiteral(v)) },
      });
    }
    const cols = subset === undefined ? [] : typeof subset === 'string' ? [subset] : subset;
    return this.derive({ fill_na: { input: this.df.relation, cols, values: [fillLiteral(value)] } });
  }

  /** Drops rows with nulls: `how` any/all, or keep rows with at least `thresh` non-null values. */
  drop(how: 'any' | 'all' = 'any', thresh?: number, subset?: string | string[]): DataFrame {
    const cols = subset === undefined ? [] : typeof subset === 'string' ? [subset] : subset;
    if (how !== 'any' && how !== 'all') throw new TypeError(`na.drop: how must be "any" or "all", got "${String(how)}"`);
    const minNonNulls = thresh !== undefined ? thresh : how === 'all' ? 1 : undefined;
    return this.derive({
      drop_na: { input: this.df.relation, cols, ...(minNonNulls !== undefined ? { min_non_nulls: minNonNulls } : {}) },
    });
  }

  /** Replaces values: `replace(['Alone'], ['Single'], 'Marital_Status')` or `replace({ Alone: 'Single' })`. */
  replace(
    toReplace: FillValue | null | Array<FillValue | null> | Record<string, FillValue | null>,
    value?: FillValue | null | Array<FillValue | null>,
    subset?: string | string[],
  ): DataFrame {
    let pairs: Array<[FillValue | null, FillValue | null]>;
    if (toReplace !== null && typeof toReplace === 'object' && !Array.isArray(toReplace)) {
      pairs = Object.entries(toReplace);
    } else {
      const olds = Array.isArray(toReplace) ? toReplace : [toReplace];
      const news = Array.isArray(value) ? value : olds.map(() => (value === undefined ? null : value));
      if (olds.length !== news.length) throw new TypeError(`na.replace: ${olds.length} values to replace but ${news.length} replacements`);
      pairs = olds.map((o, i) => [o, news[i]]);
    }
    const cols = subset === undefined ? [] : typeof subset === 'string' ? [subset] : subset;
    return this.derive({
      replace: {
        input: this.df.relation,
        cols,
        replacements: pairs.map(([o, n]) => ({ old_value: fillLiteral(o), new_value: fillLiteral(n) })),
      },
    });
  }
}

function fillLiteral(v: FillValue | null): Literal {
  // Whole numbers go as longs/doubles like PySpark does (int → long, float → double) so they fill any numeric column.
  if (typeof v === 'number') return Number.isInteger(v) ? { long: String(v) } : { double: v };
  return literalProto(v);
}
