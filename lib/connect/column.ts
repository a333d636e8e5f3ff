import type { Expression } from './gen/spark/connect/Expression';
import type { DataType } from './types';
import { dataTypeToProto } from './types';
import { attribute, describeExpression, fn, literalExpr, type LiteralValue } from './plan';
import type { WindowSpec } from './window';

/** A column argument: a Column, or a column name as PySpark accepts it. */
export type ColumnOrName = Column | string;
/** A Column, or a plain value that becomes a literal (as in `col('a').plus(1)`). */
export type ColumnOrLiteral = Column | LiteralValue;

/**
 * An expression over the columns of a DataFrame. Immutable: every method returns a new Column. The
 * operators have names (`plus`, `eq`, `and`, ...) because JavaScript has no operator overloading.
 */
export class Column {
  constructor(readonly expr: Expression) {}

  toString(): string {
    return `Column<'${describeExpression(this.expr)}'>`;
  }

  // ---- arithmetic ----
  plus(other: ColumnOrLiteral): Column {
    return this.binary('+', other);
  }
  minus(other: ColumnOrLiteral): Column {
    return this.binary('-', other);
  }
  multiply(other: ColumnOrLiteral): Column {
    return this.binary('*', other);
  }
  divide(other: ColumnOrLiteral): Column {
    return this.binary('/', other);
  }
  mod(other: ColumnOrLiteral): Column {
    return this.binary('%', other);
  }
  pow(other: ColumnOrLiteral): Column {
    return this.binary('power', other);
  }
  negate(): Column {
    return new Column(fn('negative', [this.expr]));
  }

  // ---- comparison ----
  eq(other: ColumnOrLiteral): Column {
    return this.binary('==', other);
  }
  ne(other: ColumnOrLiteral): Column {
    return new Column(fn('not', [this.binary('==', other).expr]));
  }
  /** Null-safe equality (`<=>`). */
  eqNullSafe(other: ColumnOrLiteral): Column {
    return this.binary('<=>', other);
  }
  lt(other: ColumnOrLiteral): Column {
    return this.binary('<', other);
  }
  le(other: ColumnOrLiteral): Column {
    return this.binary('<=', other);
  }
  gt(other: ColumnOrLiteral): Column {
    return this.binary('>', other);
  }
  ge(other: ColumnOrLiteral): Column {
    return this.binary('>=', other);
  }
  between(lower: ColumnOrLiteral, upper: ColumnOrLiteral): Column {
    return this.ge(lower).and(this.le(upper));
  }

  // ---- boolean ----
  and(other: ColumnOrLiteral): Column {
    return this.binary('and', other);
  }
  or(other: ColumnOrLiteral): Column {
    return this.binary('or', other);
  }
  not(): Column {
    return new Column(fn('not', [this.expr]));
  }

  // ---- nulls and membership ----
  isNull(): Column {
    return new Column(fn('isnull', [this.expr]));
  }
  isNotNull(): Column {
    return new Column(fn('isnotnull', [this.expr]));
  }
  isNaN(): Column {
    return new Column(fn('isnan', [this.expr]));
  }
  isin(...values: Array<ColumnOrLiteral | ColumnOrLiteral[]>): Column {
    const flat = values.length === 1 && Array.isArray(values[0]) ? (values[0] as ColumnOrLiteral[]) : (values as ColumnOrLiteral[]);
    return new Column(fn('in', [this.expr, ...flat.map((v) => toExpr(v))]));
  }

  // ---- strings ----
  like(pattern: string): Column {
    return this.binary('like', pattern);
  }
  ilike(pattern: string): Column {
    return this.binary('ilike', pattern);
  }
  rlike(pattern: string): Column {
    return this.binary('rlike', pattern);
  }
  contains(other: ColumnOrLiteral): Column {
    return this.binary('contains', other);
  }
  startswith(other: ColumnOrLiteral): Column {
    return this.binary('startswith', other);
  }
  endswith(other: ColumnOrLiteral): Column {
    return this.binary('endswith', other);
  }
  /** 1-based start, as in SQL. */
  substr(start: ColumnOrLiteral, length: ColumnOrLiteral): Column {
    return new Column(fn('substr', [this.expr, toExpr(start), toExpr(length)]));
  }

  // ---- structure ----
  getItem(key: ColumnOrLiteral): Column {
    return new Column({ unresolved_extract_value: { child: this.expr, extraction: toExpr(key) } });
  }
  getField(name: string): Column {
    return new Column({ unresolved_extract_value: { child: this.expr, extraction: literalExpr(name) } });
  }

  /** A struct with one field added or replaced. */
  withField(name: string, value: Column): Column {
    return new Column({ update_fields: { struct_expression: this.expr, field_name: name, value_expression: value.expr } });
  }
  /** A struct without the named fields. */
  dropFields(...names: string[]): Column {
    return names.reduce<Column>((c, name) => new Column({ update_fields: { struct_expression: c.expr, field_name: name } }), this);
  }
  bitwiseAND(other: ColumnOrLiteral): Column {
    return this.binary('&', other);
  }
  bitwiseOR(other: ColumnOrLiteral): Column {
    return this.binary('|', other);
  }
  bitwiseXOR(other: ColumnOrLiteral): Column {
    return this.binary('^', other);
  }

  // ---- naming and types ----
  alias(...names: string[]): Column {
    return new Column({ alias: { expr: this.expr, name: names } });
  }
  /** Same as `alias` (PySpark's `name`). */
  name(name: string): Column {
    return this.alias(name);
  }
  as(...names: string[]): Column {
    return this.alias(...names);
  }
  /** Casts to a type given as a string (`'int'`, `'decimal(10,2)'`, DDL) or a DataType object. */
  cast(to: string | DataType): Column {
    return new Column({
      cast: typeof to === 'string' ? { expr: this.expr, type_str: to } : { expr: this.expr, type: dataTypeToProto(to) },
    });
  }
  astype(to: string | DataType): Column {
    return this.cast(to);
  }
  try_cast(to: string | DataType): Column {
    return new Column({
      cast:
        typeof to === 'string'
          ? { expr: this.expr, type_str: to, eval_mode: 'EVAL_MODE_TRY' }
          : { expr: this.expr, type: dataTypeToProto(to), eval_mode: 'EVAL_MODE_TRY' },
    });
  }

  // ---- ordering (Spark's defaults: nulls first when ascending, last when descending) ----
  asc(): Column {
    return this.sort('SORT_DIRECTION_ASCENDING', 'SORT_NULLS_FIRST');
  }
  asc_nulls_first(): Column {
    return this.sort('SORT_DIRECTION_ASCENDING', 'SORT_NULLS_FIRST');
  }
  asc_nulls_last(): Column {
    return this.sort('SORT_DIRECTION_ASCENDING', 'SORT_NULLS_LAST');
  }
  desc(): Column {
    return this.sort('SORT_DIRECTION_DESCENDING', 'SORT_NULLS_LAST');
  }
  desc_nulls_first(): Column {
    return this.sort('SORT_DIRECTION_DESCENDING', 'SORT_NULLS_FIRST');
  }
  desc_nulls_last(): Column {
    return this.sort('SORT_DIRECTION_DESCENDING', 'SORT_NULLS_LAST');
  }

  // ---- when/otherwise, windows ----
  /** Adds a branch to a `when(...)` chain. */
  when(condition: Column, value: ColumnOrLiteral): Column {
    const f = this.expr.unresolved_function;
    if (!f || f.function_name !== 'when' || (f.arguments ?? []).length % 2 !== 0) {
      throw new TypeError('when() can only be applied on a Column previously generated by when()');
    }
    return new Column(fn('when', [...(f.arguments ?? []), condition.expr, toExpr(value)]));
  }
  otherwise(value: ColumnOrLiteral): Column {
    const f = this.expr.unresolved_function;
    if (!f || f.function_name !== 'when' || (f.arguments ?? []).length % 2 !== 0) {
      throw new TypeError('otherwise() can only be applied once on a Column previously generated by when()');
    }
    return new Column(fn('when', [...(f.arguments ?? []), toExpr(value)]));
  }
  over(window: WindowSpec): Column {
    return new Column({ window: { window_function: this.expr, ...window.toProto() } });
  }

  private sort(direction: 'SORT_DIRECTION_ASCENDING' | 'SORT_DIRECTION_DESCENDING', nulls: 'SORT_NULLS_FIRST' | 'SORT_NULLS_LAST'): Column {
    return new Column({ sort_order: { child: this.expr, direction, null_ordering: nulls } });
  }

  private binary(op: string, other: ColumnOrLiteral): Column {
    return new Column(fn(op, [this.expr, toExpr(other)]));
  }
}

/** A column from a name; `'*'` and `'t.*'` become stars. */
export function colExpr(name: string, planId?: number): Expression {
  // df.col('*') is that DataFrame's columns only (after a join, one side's), as PySpark's df["*"].
  if (name === '*') return { unresolved_star: planId !== undefined ? { plan_id: planId } : {} };
  if (name.endsWith('.*')) return { unresolved_star: { unparsed_target: name } };
  return attribute(name, planId);
}

/** Names are columns (functions take column names), everything else is a literal. */
export function toColumnExpr(c: ColumnOrName): Expression {
  return c instanceof Column ? c.expr : colExpr(c);
}

/** Plain values are literals (operators take values), Columns stay as they are. */
export function toExpr(v: ColumnOrLiteral): Expression {
  return v instanceof Column ? v.expr : literalExpr(v);
}

/** A sort order from a column or name: sort orders stay, other expressions sort ascending. */
export function toSortOrder(c: ColumnOrName): Expression {
  const e = toColumnExpr(c);
  if (e.sort_order) return e;
  return new Column(e).asc().expr;
}
