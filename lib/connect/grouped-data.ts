// `df.groupBy(...)` / rollup / cube / pivot: GroupedData and its aggregations.
import type { Expression } from './gen/spark/connect/Expression';
import type { _spark_connect_Expression_Literal as Literal } from './gen/spark/connect/Expression';
import { Column, type ColumnOrName, colExpr, toColumnExpr } from './column';
import { literalExpr, literalProto, type LiteralValue } from './plan';
import { DataFrame } from './dataframe';

export type GroupType = 'GROUP_TYPE_GROUPBY' | 'GROUP_TYPE_ROLLUP' | 'GROUP_TYPE_CUBE' | 'GROUP_TYPE_PIVOT';

/** The result of `groupBy`: aggregate it with `agg`, `count`, `sum`, ... or `pivot` it first. */
export class GroupedData {
  constructor(
    private readonly df: DataFrame,
    private readonly groupType: GroupType,
    private readonly grouping: Expression[],
    private readonly pivotSpec?: { col: Expression; values: Literal[] },
  ) {}

  /** `agg(F.sum('x').alias('s'), F.max('y'))` or `agg({ x: 'sum', y: 'max' })`. */
  agg(...exprs: Array<Column | Record<string, string>>): DataFrame {
    const aggregates: Expression[] = [];
    for (const e of exprs) {
      if (e instanceof Column) aggregates.push(e.expr);
      else
        for (const [colName, fnName] of Object.entries(e))
          aggregates.push({ unresolved_function: { function_name: fnName, arguments: [colExpr(colName)] } });
    }
    if (aggregates.length === 0) throw new TypeError('agg() needs at least one aggregate expression');
    return this.build(aggregates);
  }

  count(): DataFrame {
    return this.build([new Column({ unresolved_function: { function_name: 'count', arguments: [literalExpr(1)] } }).alias('count').expr]);
  }

  sum(...cols: string[]): DataFrame {
    return this.simple('sum', cols);
  }
  avg(...cols: string[]): DataFrame {
    return this.simple('avg', cols);
  }
  mean(...cols: string[]): DataFrame {
    return this.simple('avg', cols);
  }
  min(...cols: string[]): DataFrame {
    return this.simple('min', cols);
  }
  max(...cols: string[]): DataFrame {
    return this.simple('max', cols);
  }

  /** Pivots on `col`; with `values` the server need not compute the distinct values first. */
  pivot(col: ColumnOrName, values?: LiteralValue[]): GroupedData {
    if (this.groupType !== 'GROUP_TYPE_GROUPBY') throw new TypeError('pivot() comes right after groupBy()');
    return new GroupedData(this.df, 'GROUP_TYPE_PIVOT', this.grouping, {
      col: toColumnExpr(col),
      values: (values ?? []).map(literalProto),
    });
  }

  private simple(fnName: string, cols: string[]): DataFrame {
    if (cols.length === 0)
      throw new TypeError(`${fnName}() needs column names (Spark Connect cannot list numeric columns without a round trip)`);
    return this.build(cols.map((c) => ({ unresolved_function: { function_name: fnName, arguments: [colExpr(c)] } })));
  }

  private build(aggregates: Expression[]): DataFrame {
    return new DataFrame(
      this.df.session,
      this.df.session.newRelation({
        aggregate: {
          input: this.df.relation,
          group_type: this.groupType,
          grouping_expressions: this.grouping,
          aggregate_expressions: aggregates,
          ...(this.pivotSpec ? { pivot: this.pivotSpec } : {}),
        },
      }),
    );
  }
}
