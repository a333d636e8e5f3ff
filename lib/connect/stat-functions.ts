// `df.stat`: statistics that come back as numbers or small DataFrames.
import type { Relation } from './gen/spark/connect/Relation';
import { type ColumnOrName, toColumnExpr } from './column';
import { literalProto, randomSeed, type LiteralValue } from './plan';
import { DataFrame, type ActionOptions } from './dataframe';
import type { SparkValue } from './values';

/** `df.stat`: statistics that come back as numbers or small DataFrames. */
export class DataFrameStatFunctions {
  constructor(private readonly df: DataFrame) {}

  private derive(body: Relation): DataFrame {
    return new DataFrame(this.df.session, this.df.session.newRelation(body));
  }

  /**
   * Approximate quantiles (Greenwald-Khanna; `relativeError` 0 is exact). One column gives number[], a list
   * of columns gives number[][] — numbers, not a DataFrame.
   */
  approxQuantile(col: string, probabilities: number[], relativeError: number, opts?: ActionOptions): Promise<number[]>;
  approxQuantile(col: string[], probabilities: number[], relativeError: number, opts?: ActionOptions): Promise<number[][]>;
  async approxQuantile(
    col: string | string[],
    probabilities: number[],
    relativeError: number,
    opts: ActionOptions = {},
  ): Promise<number[] | number[][]> {
    for (const p of probabilities)
      if (!(p >= 0 && p <= 1)) throw new RangeError(`approxQuantile: probabilities must be in [0, 1], got ${p}`);
    if (!(relativeError >= 0)) throw new RangeError(`approxQuantile: relativeError must be >= 0, got ${relativeError}`);
    const cols = typeof col === 'string' ? [col] : col;
    const df = this.derive({ approx_quantile: { input: this.df.relation, cols, probabilities, relative_error: relativeError } });
    const row = await df.first(opts);
    const value = row ? (Object.values(row)[0] as SparkValue) : null;
    const result = (Array.isArray(value) ? value : []).map((qs) => (Array.isArray(qs) ? qs.map((q) => Number(q)) : []));
    return typeof col === 'string' ? (result[0] ?? []) : result;
  }

  async corr(col1: string, col2: string, method = 'pearson', opts: ActionOptions = {}): Promise<number> {
    const row = await this.derive({ corr: { input: this.df.relation, col1, col2, method } }).first(opts);
    return Number(row ? Object.values(row)[0] : NaN);
  }

  async cov(col1: string, col2: string, opts: ActionOptions = {}): Promise<number> {
    const row = await this.derive({ cov: { input: this.df.relation, col1, col2 } }).first(opts);
    return Number(row ? Object.values(row)[0] : NaN);
  }

  crosstab(col1: string, col2: string): DataFrame {
    return this.derive({ crosstab: { input: this.df.relation, col1, col2 } });
  }

  freqItems(cols: string[], support?: number): DataFrame {
    return this.derive({ freq_items: { input: this.df.relation, cols, ...(support !== undefined ? { support } : {}) } });
  }

  /**
   * A stratified sample: `fractions` per stratum value, as a Map or [value, fraction] pairs (any literal
   * value), or a plain object for string strata. An object's keys are always strings in JS, so `{0: 0.5}`
   * would match no integer stratum (Spark compares "0" with 0): a numeric-looking key is refused there.
   */
  sampleBy(
    col: ColumnOrName,
    fractions: Record<string, number> | Map<LiteralValue, number> | Array<[LiteralValue, number]>,
    seed?: number,
  ): DataFrame {
    let entries: Array<[LiteralValue, number]>;
    if (Array.isArray(fractions)) entries = fractions;
    else if (fractions instanceof Map) entries = [...fractions];
    else {
      entries = Object.entries(fractions);
      const numeric = entries.filter(([k]) => /^-?\d+(\.\d+)?$/.test(String(k)));
      if (numeric.length)
        throw new TypeError(
          `sampleBy: the key ${numeric[0][0]} of a plain object is the string "${numeric[0][0]}"; for numeric strata pass a Map or [value, fraction] pairs`,
        );
    }
    return this.derive({
      sample_by: {
        input: this.df.relation,
        col: toColumnExpr(col),
        fractions: entries.map(([stratum, fraction]) => ({ stratum: literalProto(stratum), fraction })),
        seed: String(seed ?? randomSeed()),
      },
    });
  }
}
