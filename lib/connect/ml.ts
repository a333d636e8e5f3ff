/**
 * Spark ML over Connect (Spark 4.0's MlCommand / MlRelation): just what this project needs — a
 * VectorAssembler and a LogisticRegression that fits on the server, transforms DataFrames and exposes
 * its coefficients. The fitted model lives on the server; `release()` frees it.
 */
import { randomBytes } from 'node:crypto';
import type {
  _spark_connect_Expression_Literal as Literal,
  _spark_connect_Expression_Literal__Output as LiteralOutput,
} from './gen/spark/connect/Expression';
import type { MlParams } from './gen/spark/connect/MlParams';
import type { MlCommandResult__Output } from './gen/spark/connect/MlCommandResult';
import { DataFrame, type ActionOptions } from './dataframe';
import type { SparkSession } from './session';

const ESTIMATOR = 'OPERATOR_TYPE_ESTIMATOR' as const;
const TRANSFORMER = 'OPERATOR_TYPE_TRANSFORMER' as const;

function uid(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** An ML param value, typed as the JVM param expects it (doubles must travel as doubles). */
type ParamValue = { int: number } | { double: number } | { string: string } | { bool: boolean } | { strings: string[] };

function paramLiteral(v: ParamValue): Literal {
  if ('int' in v) return { integer: v.int };
  if ('double' in v) return { double: v.double };
  if ('string' in v) return { string: v.string };
  if ('bool' in v) return { boolean: v.bool };
  return { array: { element_type: { string: {} }, elements: v.strings.map((s) => ({ string: s })) } };
}

function mlParams(params: Record<string, ParamValue | undefined>): MlParams {
  const out: Record<string, Literal> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined) out[k] = paramLiteral(v);
  return { params: out };
}

/** A JS value from a result literal (numbers, strings, arrays; structs as arrays of their elements). */
export function literalToValue(l: LiteralOutput | null | undefined): unknown {
  if (!l) return null;
  switch (l.literal_type) {
    case 'null':
      return null;
    case 'boolean':
      return l.boolean;
    case 'byte':
    case 'short':
    case 'integer':
    case 'float':
    case 'double':
    case 'date':
    case 'year_month_interval':
      return l[l.literal_type];
    case 'long':
    case 'timestamp':
    case 'timestamp_ntz':
    case 'day_time_interval':
      return BigInt(l[l.literal_type] as string);
    case 'string':
      return l.string;
    case 'decimal':
      return l.decimal?.value;
    case 'array':
      return (l.array?.elements ?? []).map(literalToValue);
    case 'struct':
      return (l.struct?.elements ?? []).map(literalToValue);
    case 'specialized_array': {
      const a = l.specialized_array;
      if (!a) return [];
      if (a.doubles) return a.doubles.values;
      if (a.floats) return a.floats.values;
      if (a.ints) return a.ints.values;
      if (a.longs) return a.longs.values.map((x) => BigInt(x));
      if (a.bools) return a.bools.values;
      if (a.strings) return a.strings.values;
      return [];
    }
    default:
      return null;
  }
}

/**
 * A Spark ML Vector as a plain number[]: VectorUDT literals are structs (type, size, indices, values);
 * type 0 is sparse, 1 dense.
 */
export function vectorToArray(value: unknown): number[] {
  if (Array.isArray(value) && value.every((x) => typeof x === 'number')) return value as number[];
  if (Array.isArray(value) && value.length === 4) {
    const [type, size, indices, values] = value as [number, number | null, number[] | null, number[]];
    if (Number(type) === 1) return (values ?? []).map(Number);
    const out = new Array<number>(Number(size ?? 0)).fill(0);
    (indices ?? []).forEach((idx, i) => (out[Number(idx)] = Number(values[i])));
    return out;
  }
  throw new TypeError(`not an ML vector: ${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
}

/** Combines numeric columns into one vector column (org.apache.spark.ml.feature.VectorAssembler). */
export class VectorAssembler {
  readonly uid = uid('VectorAssembler');

  constructor(readonly params: { inputCols: string[]; outputCol?: string; handleInvalid?: 'error' | 'skip' | 'keep' }) {
    if (!params.inputCols.length) throw new TypeError('VectorAssembler: inputCols is empty');
  }

  transform(df: DataFrame): DataFrame {
    return new DataFrame(
      df.session,
      df.session.newRelation({
        ml_relation: {
          transform: {
            transformer: { name: 'org.apache.spark.ml.feature.VectorAssembler', uid: this.uid, type: TRANSFORMER },
            input: df.relation,
            params: mlParams({
              inputCols: { strings: this.params.inputCols },
              outputCol: { string: this.params.outputCol ?? 'features' },
              handleInvalid: this.params.handleInvalid ? { string: this.params.handleInvalid } : undefined,
            }),
          },
        },
      }),
    );
  }
}

export interface LogisticRegressionParams {
  featuresCol?: string;
  labelCol?: string;
  predictionCol?: string;
  probabilityCol?: string;
  maxIter?: number;
  regParam?: number;
  elasticNetParam?: number;
  tol?: number;
  fitIntercept?: boolean;
  standardization?: boolean;
  threshold?: number;
  family?: 'auto' | 'binomial' | 'multinomial';
  weightCol?: string;
}

/** org.apache.spark.ml.classification.LogisticRegression, fitted on the server. */
export class LogisticRegression {
  readonly uid = uid('LogisticRegression');

  constructor(readonly params: LogisticRegressionParams = {}) {}

  toMlParams(): MlParams {
    const p = this.params;
    const num = (v: number | undefined) => (v === undefined ? undefined : { double: v });
    return mlParams({
      featuresCol: p.featuresCol !== undefined ? { string: p.featuresCol } : undefined,
      labelCol: p.labelCol !== undefined ? { string: p.labelCol } : undefined,
      predictionCol: p.predictionCol !== undefined ? { string: p.predictionCol } : undefined,
      probabilityCol: p.probabilityCol !== undefined ? { string: p.probabilityCol } : undefined,
      maxIter: p.maxIter !== undefined ? { int: p.maxIter } : undefined,
      regParam: num(p.regParam),
      elasticNetParam: num(p.elasticNetParam),
      tol: num(p.tol),
      threshold: num(p.threshold),
      fitIntercept: p.fitIntercept !== undefined ? { bool: p.fitIntercept } : undefined,
      standardization: p.standardization !== undefined ? { bool: p.standardization } : undefined,
      family: p.family !== undefined ? { string: p.family } : undefined,
      weightCol: p.weightCol !== undefined ? { string: p.weightCol } : undefined,
    });
  }

  async fit(df: DataFrame, opts: ActionOptions = {}): Promise<LogisticRegressionModel> {
    const responses = await df.session.executeCommand(
      {
        ml_command: {
          fit: {
            estimator: { name: 'org.apache.spark.ml.classification.LogisticRegression', uid: this.uid, type: ESTIMATOR },
            params: this.toMlParams(),
            dataset: df.relation,
          },
        },
      },
      opts,
    );
    const info = responses.find((r) => r.ml_command_result)?.ml_command_result?.operator_info;
    const ref = info?.obj_ref?.id;
    if (!ref) throw new Error('the server returned no model reference for LogisticRegression.fit');
    return new LogisticRegressionModel(df.session, ref, info?.uid ?? this.uid);
  }
}

/** A fitted logistic regression model held by the server. */
export class LogisticRegressionModel {
  constructor(
    private readonly session: SparkSession,
    readonly objRef: string,
    readonly uid: string,
  ) {}

  private async fetch(method: string, opts: ActionOptions = {}): Promise<unknown> {
    const responses = await this.session.executeCommand(
      { ml_command: { fetch: { obj_ref: { id: this.objRef }, methods: [{ method, args: [] }] } } },
      opts,
    );
    const result: MlCommandResult__Output | null | undefined = responses.find((r) => r.ml_command_result)?.ml_command_result;
    if (!result?.param) throw new Error(`the server returned no value for model.${method}`);
    return literalToValue(result.param);
  }

  /** The coefficients (binomial), one per feature, in the order of the assembler's inputCols. */
  async coefficients(opts: ActionOptions = {}): Promise<number[]> {
    return vectorToArray(await this.fetch('coefficients', opts));
  }

  async intercept(opts: ActionOptions = {}): Promise<number> {
    return Number(await this.fetch('intercept', opts));
  }

  async numFeatures(opts: ActionOptions = {}): Promise<number> {
    return Number(await this.fetch('numFeatures', opts));
  }

  /** Adds rawPrediction, probability and prediction columns. */
  transform(df: DataFrame): DataFrame {
    return new DataFrame(
      df.session,
      df.session.newRelation({ ml_relation: { transform: { obj_ref: { id: this.objRef }, input: df.relation, params: { params: {} } } } }),
    );
  }

  /** Frees the model on the server. */
  async release(): Promise<void> {
    await this.session.executeCommand({ ml_command: { delete: { obj_refs: [{ id: this.objRef }] } } });
  }
}
