import type { Expression } from './gen/spark/connect/Expression';
import type { _spark_connect_Expression_Window_WindowFrame as WindowFrame } from './gen/spark/connect/Expression';
import type { _spark_connect_Expression_Window_WindowFrame_FrameBoundary as FrameBoundary } from './gen/spark/connect/Expression';
import { type ColumnOrName, toColumnExpr, toSortOrder } from './column';
import { literalExpr } from './plan';
import { flat } from './args';

// PySpark's sentinels: any bound at or beyond them is unbounded.
const UNBOUNDED_PRECEDING = -(2 ** 63);
const UNBOUNDED_FOLLOWING = 2 ** 63 - 1;
const CURRENT_ROW = 0;

/** A window: partitioning, ordering and an optional frame. Immutable. */
export class WindowSpec {
  constructor(
    private readonly partitions: Expression[] = [],
    private readonly orders: Expression[] = [],
    private readonly frame?: WindowFrame,
  ) {}

  partitionBy(...cols: Array<ColumnOrName | ColumnOrName[]>): WindowSpec {
    return new WindowSpec(flat(cols).map(toColumnExpr), this.orders, this.frame);
  }

  orderBy(...cols: Array<ColumnOrName | ColumnOrName[]>): WindowSpec {
    return new WindowSpec(this.partitions, flat(cols).map(toSortOrder), this.frame);
  }

  /** Row frame relative to the current row; use Window.unboundedPreceding/currentRow/unboundedFollowing. */
  rowsBetween(start: number, end: number): WindowSpec {
    return new WindowSpec(this.partitions, this.orders, {
      frame_type: 'FRAME_TYPE_ROW',
      lower: boundary(start, true),
      upper: boundary(end, false),
    });
  }

  rangeBetween(start: number, end: number): WindowSpec {
    return new WindowSpec(this.partitions, this.orders, {
      frame_type: 'FRAME_TYPE_RANGE',
      lower: boundary(start, true),
      upper: boundary(end, false),
    });
  }

  toProto(): { partition_spec: Expression[]; order_spec: NonNullable<Expression['sort_order']>[]; frame_spec?: WindowFrame } {
    return {
      partition_spec: this.partitions,
      order_spec: this.orders.map((o) => o.sort_order!),
      ...(this.frame ? { frame_spec: this.frame } : {}),
    };
  }
}

function boundary(value: number, lower: boolean): FrameBoundary {
  if (value === CURRENT_ROW) return { current_row: true };
  if (lower ? value <= UNBOUNDED_PRECEDING : value >= UNBOUNDED_FOLLOWING) return { unbounded: true };
  return { value: literalExpr(value) };
}

/** Entry points for window specs, as in PySpark: `Window.partitionBy('k').orderBy('t').rowsBetween(-1, 0)`. */
export const Window = {
  unboundedPreceding: UNBOUNDED_PRECEDING,
  unboundedFollowing: UNBOUNDED_FOLLOWING,
  currentRow: CURRENT_ROW,
  partitionBy(...cols: Array<ColumnOrName | ColumnOrName[]>): WindowSpec {
    return new WindowSpec().partitionBy(...cols);
  },
  orderBy(...cols: Array<ColumnOrName | ColumnOrName[]>): WindowSpec {
    return new WindowSpec().orderBy(...cols);
  },
  rowsBetween(start: number, end: number): WindowSpec {
    return new WindowSpec().rowsBetween(start, end);
  },
  rangeBetween(start: number, end: number): WindowSpec {
    return new WindowSpec().rangeBetween(start, end);
  },
} as const;
