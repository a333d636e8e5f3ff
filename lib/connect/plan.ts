/**
 * The pure plan layer: small helpers that build Spark Connect protos. Nothing here does I/O, so every
 * DataFrame method can be tested by looking at the plan it builds.
 */
import type { Relation } from './gen/spark/connect/Relation';
import type { Command } from './gen/spark/connect/Command';
import type { Plan } from './gen/spark/connect/Plan';
import type { Expression } from './gen/spark/connect/Expression';
import type { _spark_connect_Expression_Literal as Literal } from './gen/spark/connect/Expression';
import type { DataType as DataTypeProto } from './gen/spark/connect/DataType';
import { Decimal, SparkDate, SparkTime, SparkTimestamp } from './values';

export type RelationProto = Relation;
export type CommandProto = Command;
export type ExpressionProto = Expression;
export type LiteralProto = Literal;
export type PlanProto = Plan;

/**
 * Hands out plan ids, one per relation, so that a column taken from a DataFrame (`df.col('x')`) can name
 * the exact relation it belongs to — which is what makes self-joins unambiguous.
 */
export class PlanIdGenerator {
  private last = -1;
  next(): number {
    return ++this.last;
  }
}

/** Attaches a plan id to a relation body (`{ filter: {...} }` → `{ common: { plan_id }, filter: {...} }`). */
export function withPlanId(body: Relation, planId: number): Relation {
  return { common: { plan_id: planId }, ...body };
}

export function planIdOf(relation: Relation): number | undefined {
  const id = relation.common?.plan_id;
  return id === undefined || id === null ? undefined : Number(id);
}

export function rootPlan(relation: Relation): Plan {
  return { root: relation };
}

export function commandPlan(command: Command): Plan {
  return { command };
}

/** A value that can become a literal: JS primitives, bigint (LongType), Date (timestamp), bytes, exact Spark values. */
export type LiteralValue =
  null | undefined | boolean | number | bigint | string | Date | Uint8Array | Decimal | SparkDate | SparkTimestamp | SparkTime;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * An integer as the decimal string of a proto int64; one outside the 64-bit range is refused (protobuf would
 * wrap it silently: 2^63 became -2^63), as PySpark refuses it (VALUE_NOT_BETWEEN).
 */
export function int64String(value: number | bigint, what: string): string {
  if (typeof value === 'number' && !Number.isSafeInteger(value))
    throw new RangeError(`${what}: ${value} is not an integer a JS number holds exactly (use a bigint)`);
  const big = BigInt(value);
  if (big < INT64_MIN || big > INT64_MAX) throw new RangeError(`${what}: ${big} is outside the 64-bit range of a LongType`);
  return big.toString();
}

/**
 * The literal proto for a JS value, typed as PySpark types Python values: an integral number within int32
 * is an IntegerType, a larger one a LongType, any other number a DoubleType; a bigint is a LongType.
 */
export function literalProto(value: LiteralValue): Literal {
  if (value === null || value === undefined) return { null: { null: {} } };
  if (typeof value === 'boolean') return { boolean: value };
  if (typeof value === 'bigint') return { long: int64String(value, 'lit()') };
  if (typeof value === 'number') {
    if (Object.is(value, -0)) return { double: -0 }; // an integer literal would lose the sign
    if (Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX) return { integer: value };
    if (Number.isSafeInteger(value)) return { long: String(value) };
    return { double: value };
  }
  if (typeof value === 'string') return { string: value };
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new TypeError('lit(): invalid Date');
    return { timestamp: String(BigInt(value.getTime()) * 1000n) };
  }
  if (value instanceof Uint8Array) return { binary: Buffer.from(value) };
  if (value instanceof Decimal)
    return { decimal: { value: value.toString(), precision: Math.max(value.precision, value.scale, 1), scale: value.scale } };
  if (value instanceof SparkDate) return { date: value.days };
  if (value instanceof SparkTimestamp)
    return value.ntz ? { timestamp_ntz: value.micros.toString() } : { timestamp: value.micros.toString() };
  // TIME(6) as Spark's own literals default to; nanoseconds below the microsecond need precision 9, which
  // Spark does not support, so they are refused rather than cut.
  if (value instanceof SparkTime) {
    if (value.nanosecond % 1000 !== 0)
      throw new RangeError(`lit(): ${value.toString()} has sub-microsecond digits; Spark's TIME holds microseconds`);
    return { time: { nano: String(value.nanosOfDay), precision: 6 } };
  }
  if (Array.isArray(value)) throw new TypeError('lit(): arrays are built with array(lit(a), lit(b), ...)');
  throw new TypeError(`lit(): unsupported value ${String(value)}`);
}

export function literalExpr(value: LiteralValue): Expression {
  return { literal: literalProto(value) };
}

export function attribute(name: string, planId?: number): Expression {
  return { unresolved_attribute: { unparsed_identifier: name, ...(planId !== undefined ? { plan_id: planId } : {}) } };
}

export function fn(name: string, args: Expression[], isDistinct = false): Expression {
  return { unresolved_function: { function_name: name, arguments: args, is_distinct: isDistinct } };
}

export function sqlExpression(text: string): Expression {
  return { expression_string: { expression: text } };
}

export function star(target?: string): Expression {
  return { unresolved_star: target ? { unparsed_target: `${target}.*` } : {} };
}

/** The name a column would get in a DataFrame (for error messages and `columns`-like lookups). */
export function describeExpression(e: Expression): string {
  if (e.unresolved_attribute) return e.unresolved_attribute.unparsed_identifier ?? '?';
  if (e.alias) return (e.alias.name ?? []).join('.');
  if (e.expression_string) return e.expression_string.expression ?? '?';
  if (e.unresolved_function)
    return `${e.unresolved_function.function_name}(${(e.unresolved_function.arguments ?? []).map(describeExpression).join(', ')})`;
  if (e.literal) return JSON.stringify(Object.values(e.literal)[0] ?? null);
  return Object.keys(e).find((k) => k !== 'common' && k !== 'expr_type') ?? 'expression';
}

/** A map<string,string> option bag from JS values (PySpark stringifies booleans as "true"/"false"). */
export function stringOptions(options: Record<string, string | number | boolean | undefined | null>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(options)) if (v !== undefined && v !== null) out[k] = String(v);
  return out;
}

export type { DataTypeProto };

/** A seed for sample/randomSplit/sampleBy when none is given (as PySpark draws one per call). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
