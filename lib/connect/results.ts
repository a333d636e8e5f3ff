// Result shapes beyond row objects: lazy rows (one small object per row, values decoded per column on
// first access) and columns (typed arrays + validity, no per-row objects at all).
import { Type, type Data, type RecordBatch, type Table } from 'apache-arrow';
import { decodeData, rowKeys, type Row } from './arrow';
import type { DataType, StructType } from './types';
import type { SparkValue } from './values';

/** Column names and Spark types of a batch: the Spark schema when it describes these very columns. */
function batchFields(batch: RecordBatch, schema?: StructType): Array<{ name: string; type?: DataType }> {
  if (schema && schema.fields.length === batch.schema.fields.length) return schema.fields.map((f) => ({ name: f.name, type: f.dataType }));
  return batch.schema.fields.map((f) => ({ name: f.name }));
}

/** One record batch's columns, each decoded the first time any row asks for it. */
class LazyBatch {
  private readonly decoded: Array<SparkValue[] | undefined>;

  constructor(
    private readonly children: readonly Data[],
    private readonly types: Array<DataType | undefined>,
  ) {
    this.decoded = new Array(children.length);
  }

  column(c: number): SparkValue[] {
    return (this.decoded[c] ??= decodeData(this.children[c]!, this.types[c]));
  }
}

/**
 * A row whose values are decoded when read: `row.name` (or `row.get('name')`) decodes that column of its
 * record batch once, for all rows of the batch. `toObject()` / `toJSON()` give a plain Row.
 */
export interface LazyRow {
  readonly [column: string]: SparkValue | ((...args: never[]) => unknown);
  get(column: string): SparkValue;
  toObject(): Row;
  toJSON(): Row;
}

type LazyRowClass = new (batch: LazyBatch, index: number) => LazyRow;
const lazyClasses = new Map<string, LazyRowClass>();

/** One class per key list, with a getter per column on its prototype: rows share shape and code. */
function lazyRowClass(keys: string[]): LazyRowClass {
  const id = JSON.stringify(keys);
  let cls = lazyClasses.get(id);
  if (cls) return cls;
  const index = new Map(keys.map((k, c) => [k, c]));
  class Lazy {
    constructor(
      readonly $batch: LazyBatch,
      readonly $index: number,
    ) {}
    get(column: string): SparkValue {
      const c = index.get(column);
      if (c === undefined) throw new RangeError(`no column "${column}" (columns: ${keys.join(', ')})`);
      return this.$batch.column(c)[this.$index]!;
    }
    toObject(): Row {
      const out: Row = {};
      keys.forEach((k, c) =>
        Object.defineProperty(out, k, { value: this.$batch.column(c)[this.$index]!, enumerable: true, writable: true, configurable: true }),
      );
      return out;
    }
    toJSON(): Row {
      return this.toObject();
    }
  }
  keys.forEach((k, c) => {
    if (k in Lazy.prototype || k === '$batch' || k === '$index') return; // `get`, `toObject`, …: reachable through get()
    Object.defineProperty(Lazy.prototype, k, {
      get(this: Lazy) {
        return this.$batch.column(c)[this.$index];
      },
      enumerable: true,
    });
  });
  cls = Lazy as unknown as LazyRowClass;
  if (lazyClasses.size > 1000) lazyClasses.clear();
  lazyClasses.set(id, cls);
  return cls;
}

/** Lazy rows of one record batch. */
export function lazyRowsFromBatch(batch: RecordBatch, schema?: StructType): LazyRow[] {
  const fields = batchFields(batch, schema);
  const Cls = lazyRowClass(rowKeys(fields.map((f) => f.name)));
  const lazy = new LazyBatch(
    batch.data.children,
    fields.map((f) => f.type),
  );
  const out: LazyRow[] = new Array(batch.numRows);
  for (let i = 0; i < batch.numRows; i++) out[i] = new Cls(lazy, i);
  return out;
}

export type TypedValues = Int8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array | Uint8Array;

/**
 * One result column. Fixed-width types come as one typed array for the whole result (`values[i]` is
 * meaningless where `valid[i]` is 0): byte/short/int → Int8/16/32Array, long → BigInt64Array,
 * float/double → Float32/64Array, boolean → Uint8Array (0/1), date → Int32Array (days since 1970-01-01),
 * timestamp → BigInt64Array (microseconds since the epoch: UTC for timestamp, wall clock for timestamp_ntz),
 * time → BigInt64Array (nanoseconds since midnight, as `SparkTime.nanosOfDay`). Other types come as exact values
 * (SparkValue[], null where invalid): decimals, strings, binary, geometry/geography, nested types.
 */
export interface ResultColumn {
  name: string;
  /** The Spark type when the server sent the schema. */
  dataType?: DataType;
  values: TypedValues | SparkValue[];
  /** 1 where the value is present, 0 where it is null. */
  valid: Uint8Array;
}

export interface ResultColumns {
  numRows: number;
  columns: ResultColumn[];
  /** The column by name (the first one of that name). */
  column(name: string): ResultColumn | undefined;
}

type TypedCtor = { new (n: number): TypedValues };

/** The typed-array kind of a fixed-width Arrow column, or undefined when it is decoded to values. */
function typedKind(data: Data, spark?: DataType): TypedCtor | 'bool' | undefined {
  const t = data.type as { typeId: Type; bitWidth?: number; precision?: number; unit?: number };
  if (spark && (spark.type === 'udt' || spark.type === 'variant')) return undefined;
  switch (t.typeId) {
    case Type.Int:
      return t.bitWidth === 8 ? Int8Array : t.bitWidth === 16 ? Int16Array : t.bitWidth === 32 ? Int32Array : BigInt64Array;
    case Type.Float:
      return t.precision === 1 ? Float32Array : t.precision === 2 ? Float64Array : undefined;
    case Type.Bool:
      return 'bool';
    case Type.Date:
      return t.unit === 0 ? Int32Array : undefined; // DateUnit.DAY
    case Type.Timestamp:
      return t.unit === 2 ? BigInt64Array : undefined; // TimeUnit.MICROSECOND, what Spark sends
    case Type.Time:
      return t.unit === 3 && t.bitWidth === 64 ? BigInt64Array : undefined; // TimeUnit.NANOSECOND, what Spark sends
    default:
      return undefined;
  }
}

function setValidity(valid: Uint8Array, data: Data, at: number): void {
  const n = data.length;
  const bm = data.nullCount > 0 && data.nullBitmap && data.nullBitmap.length > 0 ? data.nullBitmap : null;
  if (bm === null) {
    valid.fill(1, at, at + n);
    return;
  }
  const off = data.offset;
  for (let i = 0; i < n; i++) valid[at + i] = (bm[(off + i) >> 3]! >> ((off + i) & 7)) & 1;
}

/** A whole result as columns: one typed array per fixed-width column, no per-row objects. */
export function columnsFromTable(table: Table, schema?: StructType): ResultColumns {
  const batches = table.batches;
  const numRows = batches.reduce((a, b) => a + b.numRows, 0);
  const names = rowKeys(
    table.schema.fields.map((f, i) => (schema && schema.fields.length === table.schema.fields.length ? schema.fields[i]!.name : f.name)),
  );
  const columns: ResultColumn[] = names.map((name, c) => {
    const spark = schema && schema.fields.length === table.schema.fields.length ? schema.fields[c]!.dataType : undefined;
    const valid = new Uint8Array(numRows);
    const first = batches[0]?.data.children[c];
    const kind = first ? typedKind(first, spark) : undefined;
    let values: TypedValues | SparkValue[];
    let at = 0;
    if (kind === 'bool') {
      const out = new Uint8Array(numRows);
      for (const b of batches) {
        const d = b.data.children[c]!;
        const bits = d.values as Uint8Array;
        for (let i = 0; i < d.length; i++) out[at + i] = (bits[(d.offset + i) >> 3]! >> ((d.offset + i) & 7)) & 1;
        setValidity(valid, d, at);
        at += d.length;
      }
      values = out;
    } else if (kind) {
      const out = new kind(numRows);
      for (const b of batches) {
        const d = b.data.children[c]!;
        (out as Int32Array).set((d.values as Int32Array).subarray(0, d.length), at);
        setValidity(valid, d, at);
        at += d.length;
      }
      values = out;
    } else {
      const out: SparkValue[] = new Array(numRows);
      for (const b of batches) {
        const d = b.data.children[c]!;
        const decoded = decodeData(d, spark);
        for (let i = 0; i < decoded.length; i++) out[at + i] = decoded[i]!;
        setValidity(valid, d, at);
        at += d.length;
      }
      values = out;
    }
    return { name, ...(spark ? { dataType: spark } : {}), values, valid };
  });
  return { numRows, columns, column: (name) => columns.find((c) => c.name === name) };
}
