// Arrow <-> exact JS values. Spark Connect sends each ExecutePlanResponse.arrow_batch.data as a complete Arrow
// IPC stream; LocalRelation.data is one we write. apache-arrow's own get()/toArray()/toJSON() turn int64,
// decimal and timestamps into rounded doubles or Dates, so values are read from the raw buffers here.
import {
  Binary,
  Bool,
  DataType as ArrowDataType,
  Data,
  DateDay,
  Decimal as ArrowDecimal,
  DurationMicrosecond,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  Int,
  IntervalMonthDayNano,
  IntervalYearMonth,
  List,
  Map_,
  Null,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  Table,
  TimestampMicrosecond,
  Type,
  Utf8,
  makeData,
  makeVector,
  tableFromIPC,
} from 'apache-arrow';
import { DateUnit, IntervalUnit, TimeUnit } from 'apache-arrow/enum';
import {
  arrayType,
  dataTypeToJson,
  decimalType,
  mapType,
  structField,
  structType,
  type DataType,
  type StructField,
  type StructType,
} from './types';
import { Decimal, SparkDate, SparkTimestamp, setOwn, type CalendarInterval, type SparkValue } from './values';
import { decodeVariant } from './variant';

export { Decimal, SparkDate, SparkTimestamp } from './values';
export type { CalendarInterval, SparkValue } from './values';

/** One result row: column name -> value. Duplicate column names get a suffix, see `rowKeys`. */
export type Row = Record<string, SparkValue>;

// ====================================================================================================
// Decoding
// ====================================================================================================

/** Read every IPC stream (one per ExecutePlanResponse arrow batch) into one Table. */
export function tableFromBatches(batches: Uint8Array[], schema?: StructType): Table {
  const recordBatches: RecordBatch[] = [];
  let arrowSchema: Schema | undefined;
  for (const bytes of batches) {
    const t = tableFromIPC(bytes);
    arrowSchema ??= t.schema;
    recordBatches.push(...t.batches);
  }
  if (recordBatches.length > 0) return new Table(recordBatches);
  if (arrowSchema) return new Table(arrowSchema);
  if (schema) return new Table(toArrowSchema(schema));
  return new Table();
}

/** The record batches of one IPC stream (one ExecutePlanResponse.arrow_batch.data). */
export function recordBatchesFromIPC(bytes: Uint8Array): RecordBatch[] {
  return tableFromIPC(bytes).batches;
}

/**
 * Row keys for a list of column names. Spark allows duplicates (`SELECT 1 a, 2 a`, joins); a plain object
 * cannot hold them, so the 2nd, 3rd... occurrence becomes `a_2`, `a_3` (skipping names that exist).
 */
export function rowKeys(names: string[]): string[] {
  const taken = new Set(names);
  const seen = new Set<string>();
  return names.map((name) => {
    if (!seen.has(name)) { seen.add(name); return name; }
    let n = 2;
    while (taken.has(`${name}_${n}`) || seen.has(`${name}_${n}`)) n++;
    const key = `${name}_${n}`;
    seen.add(key);
    return key;
  });
}

/** Decoded columns of a record batch, positionally: result[column][row]. */
export function columnsFromBatch(batch: RecordBatch, schema?: StructType): SparkValue[][] {
  // The Spark schema refines types only when it describes these very columns.
  const sparkFields = schema && schema.fields.length === batch.schema.fields.length ? schema.fields : undefined;
  return batch.data.children.map((child, i) => decodeData(child, sparkFields?.[i]?.dataType));
}

/** Positional rows of a record batch: result[row][column]. */
export function rowValuesFromBatch(batch: RecordBatch, schema?: StructType): SparkValue[][] {
  const cols = columnsFromBatch(batch, schema);
  const out: SparkValue[][] = new Array(batch.numRows);
  for (let r = 0; r < batch.numRows; r++) {
    const row: SparkValue[] = new Array(cols.length);
    for (let c = 0; c < cols.length; c++) row[c] = cols[c]![r]!;
    out[r] = row;
  }
  return out;
}

type ObjectsFromColumns = (cols: SparkValue[][], n: number) => Array<{ [key: string]: SparkValue }>;
const objectFactories = new Map<string, ObjectsFromColumns>();

/**
 * Zip columns into objects. For up to 256 keys this uses a function with one object literal per row, built
 * once per key list: V8 then gives every row the same shape at a fraction of the cost of assigning keys one
 * by one (4-5x faster on 10 columns). Keys are embedded as JSON string literals, so any name is safe.
 */
function objectsFromColumns(keys: string[]): ObjectsFromColumns {
  const id = JSON.stringify(keys);
  let make = objectFactories.get(id);
  if (make) return make;
  if (keys.length > 0 && keys.length <= 256 && !keys.includes('__proto__')) {
    const vars = keys.map((_, c) => `c${c}`);
    const literal = keys.map((k, c) => `${JSON.stringify(k)}: ${vars[c]}[r]`).join(', ');
    // eslint-disable-next-line no-new-func -- code generated from column names (JSON-quoted) for speed
    make = new Function('cols', 'n', `const [${vars.join(', ')}] = cols; const out = new Array(n); for (let r = 0; r < n; r++) out[r] = { ${literal} }; return out;`) as ObjectsFromColumns;
  } else {
    make = (cols, n) => {
      const out: Array<{ [key: string]: SparkValue }> = new Array(n);
      for (let r = 0; r < n; r++) {
        const row: { [key: string]: SparkValue } = {};
        for (let c = 0; c < keys.length; c++) setOwn(row, keys[c]!, cols[c]![r]!);
        out[r] = row;
      }
      return out;
    };
  }
  if (objectFactories.size > 1000) objectFactories.clear();
  objectFactories.set(id, make);
  return make;
}

/** Rows of one record batch or of one IPC stream's bytes; for streaming results without holding a Table. */
export function rowsFromBatch(batch: RecordBatch | Uint8Array, schema?: StructType): Row[] {
  const out: Row[] = [];
  if (batch instanceof Uint8Array) for (const b of recordBatchesFromIPC(batch)) appendRows(b, schema, out);
  else appendRows(batch, schema, out);
  return out;
}

/**
 * Append the rows of a record batch to `out`, in one pass: a function generated once per (keys, column
 * kinds) reads every fixed-width column straight from its typed array inside one object literal per row.
 * No per-column value arrays, no per-value closure calls; only the values themselves are allocated.
 */
export function appendRows(batch: RecordBatch, schema: StructType | undefined, out: Row[]): void {
  const sparkFields = schema && schema.fields.length === batch.schema.fields.length ? schema.fields : undefined;
  const names = sparkFields ? sparkFields.map((f) => f.name) : batch.schema.fields.map((f) => f.name);
  const keys = rowKeys(names);
  const n = batch.numRows;
  if (keys.length === 0 || keys.length > 256 || keys.includes('__proto__')) {
    const rows = objectsFromColumns(keys)(columnsFromBatch(batch, schema), n);
    for (let i = 0; i < rows.length; i++) out.push(rows[i]!);
    return;
  }
  const readers = batch.data.children.map((child, c) => columnReader(child, sparkFields?.[c]?.dataType));
  const id = JSON.stringify(keys) + readers.map((r) => r.kind).join(',');
  let build = rowBuilders.get(id);
  if (!build) {
    const pre: string[] = [];
    const props = keys.map((k, c) => {
      const r = readers[c]!;
      pre.push(`const v${c} = ctx[${c}].v, o${c} = ctx[${c}].o, x${c} = ctx[${c}].x, m${c} = ctx[${c}].m, f${c} = ctx[${c}].f;`);
      const expr = r.expr(c);
      const value = r.m ? `((m${c}[(f${c} + r) >> 3] & (1 << ((f${c} + r) & 7))) !== 0 ? ${expr} : null)` : expr;
      return `${JSON.stringify(k)}: ${value}`;
    });
    // eslint-disable-next-line no-new-func -- code generated from column names (JSON-quoted) for speed
    build = new Function('ctx', 'n', 'out', 'h', `${pre.join('\n')}\nfor (let r = 0; r < n; r++) out.push({ ${props.join(', ')} });`) as RowBuilder;
    if (rowBuilders.size > 1000) rowBuilders.clear();
    rowBuilders.set(id, build);
  }
  build(readers, n, out, ROW_HELPERS);
}

type RowBuilder = (ctx: ColumnReader[], n: number, out: Row[], helpers: typeof ROW_HELPERS) => void;
const rowBuilders = new Map<string, RowBuilder>();

/** How the generated row builder reads one column: `expr(c)` is the JS expression of row r's value. */
interface ColumnReader {
  /** Part of the builder's cache key: the same kind always gives the same expression. */
  kind: string;
  expr: (c: number) => string;
  /** The values (typed array, or decoded SparkValue[]), offsets, extra, validity bitmap (null: no nulls) and its offset. */
  v: unknown;
  o?: unknown;
  x?: unknown;
  m: Bitmap;
  f: number;
}

/**
 * SparkDate instances shared by every decode: a direct-mapped cache on the day number (16,384 slots, about 45
 * years of consecutive days without a collision). Dates repeat a lot and SparkDate is immutable, so one
 * instance per day saves most of a date column's allocations and GC work, at one array read per value.
 */
const DATE_SLOTS = 1 << 14;
const dateCache: Array<SparkDate | undefined> = new Array(DATE_SLOTS);
function sparkDate(days: number): SparkDate {
  const slot = days & (DATE_SLOTS - 1);
  const hit = dateCache[slot];
  if (hit !== undefined && hit.days === days) return hit;
  const d = new SparkDate(days);
  dateCache[slot] = d;
  return d;
}

function decimal128(u32: Uint32Array, signed: BigInt64Array, words: BigUint64Array, i: number, scale: number): Decimal {
  const hi0 = u32[4 * i + 2]!;
  const hi1 = u32[4 * i + 3]!;
  const loTop = u32[4 * i + 1]! >>> 31;
  if ((hi0 === 0 && hi1 === 0 && loTop === 0) || (hi0 === 0xffffffff && hi1 === 0xffffffff && loTop === 1)) return new Decimal(signed[2 * i]!, scale);
  return new Decimal(readTwosComplement(words, 2 * i, 2), scale);
}

const ROW_HELPERS = { SparkTimestamp, decimal128, sparkDate };

type SliceBuffer = Buffer & { latin1Slice?: (start: number, end: number) => string; utf8Slice?: (start: number, end: number) => string };

/** True when every byte is ASCII (then latin1 and UTF-8 decode the same, and latin1 is much cheaper). */
function isAscii(bytes: Uint8Array): boolean {
  const n = bytes.length;
  let i = 0;
  if (bytes.byteOffset % 4 === 0) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, n >> 2);
    for (; i < words.length; i++) if ((words[i]! & 0x80808080) !== 0) return false;
    i = words.length << 2;
  }
  for (; i < n; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}

function columnReader(data: Data, spark: DataType | undefined): ColumnReader {
  const t = data.type as ArrowDataType;
  const m = validity(data);
  const f = data.offset;
  const nul = m === null ? '' : '?';
  const plain = (kind: string, v: unknown, expr: (c: number) => string, extra: { o?: unknown; x?: unknown } = {}): ColumnReader => ({ kind: kind + nul, expr, v, m, f, ...extra });
  const udt = spark !== undefined && (spark.type === 'udt' || spark.type === 'variant');
  if (!udt) {
    switch (t.typeId) {
      case Type.Int:
        return plain((t as Int).bitWidth === 64 ? 'big' : 'num', data.values, (c) => `v${c}[r]`);
      case Type.Float:
        if ((t as Float32).precision !== 0) return plain('num', data.values, (c) => `v${c}[r]`);
        break;
      case Type.Bool:
        return plain('bool', data.values, (c) => `(v${c}[(f${c} + r) >> 3] & (1 << ((f${c} + r) & 7))) !== 0`);
      case Type.Date:
        if ((t as DateDay).unit === DateUnit.DAY) return plain('date', data.values, (c) => `h.sparkDate(v${c}[r])`);
        break;
      case Type.Timestamp:
        if ((t as TimestampMicrosecond).unit === TimeUnit.MICROSECOND) {
          const ntz = spark ? spark.type === 'timestamp_ntz' : !(t as TimestampMicrosecond).timezone;
          return plain(`ts${ntz ? 'n' : ''}`, data.values, (c) => `new h.SparkTimestamp(v${c}[r], ${ntz})`);
        }
        break;
      case Type.Decimal: {
        const dt = t as ArrowDecimal;
        if (dt.bitWidth === 128) {
          const u32 = data.values as Uint32Array;
          const words = bigWords(u32);
          const signed = new BigInt64Array(words.buffer, words.byteOffset, words.length);
          return plain(`dec${dt.scale}`, u32, (c) => `h.decimal128(v${c}, o${c}, x${c}, r, ${dt.scale})`, { o: signed, x: words });
        }
        break;
      }
      case Type.Utf8: {
        const bytes = data.values as Uint8Array;
        const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as SliceBuffer;
        if (typeof buf.latin1Slice === 'function' && typeof buf.utf8Slice === 'function') {
          const slice = isAscii(bytes) ? 'latin1Slice' : 'utf8Slice';
          return plain(`s${slice[0]}`, buf, (c) => `v${c}.${slice}(o${c}[r], o${c}[r + 1])`, { o: data.valueOffsets });
        }
        break;
      }
      default:
        break;
    }
  }
  // Everything else: the column decoded to values (nulls included) first.
  return { kind: 'any', expr: (c) => `v${c}[r]`, v: decodeData(data, spark), m: null, f: 0 };
}

/** Every row of a Table, with exact values (see SparkValue). `schema` (from Spark) refines types; optional. */
export function rowsFromTable(table: Table, schema?: StructType): Row[] {
  const out: Row[] = [];
  for (const batch of table.batches) appendRows(batch, schema, out);
  return out;
}

/** The Spark schema implied by an Arrow schema (as Spark's ArrowUtils.fromArrowSchema maps it). */
export function structTypeFromArrowSchema(schema: Schema): StructType {
  return structType(schema.fields.map((f) => structField(f.name, dataTypeFromArrowType(f.type), f.nullable)));
}

export function dataTypeFromArrowType(t: ArrowDataType): DataType {
  switch (t.typeId) {
    case Type.Null: return { type: 'null' };
    case Type.Bool: return { type: 'boolean' };
    case Type.Int: {
      const bits = (t as Int).bitWidth;
      return { type: bits === 8 ? 'byte' : bits === 16 ? 'short' : bits === 32 ? 'integer' : 'long' };
    }
    case Type.Float: return { type: (t as Float32).precision === 1 ? 'float' : 'double' };
    case Type.Decimal: return decimalType((t as ArrowDecimal).precision, (t as ArrowDecimal).scale);
    case Type.Utf8:
    case Type.LargeUtf8: return { type: 'string' };
    case Type.Binary:
    case Type.LargeBinary:
    case Type.FixedSizeBinary: return { type: 'binary' };
    case Type.Date: return { type: 'date' };
    case Type.Timestamp: return { type: (t as TimestampMicrosecond).timezone ? 'timestamp' : 'timestamp_ntz' };
    case Type.Duration: return { type: 'day_time_interval', startField: 0, endField: 3 };
    case Type.Interval:
      return (t as IntervalYearMonth).unit === IntervalUnit.YEAR_MONTH ? { type: 'year_month_interval', startField: 0, endField: 1 } : { type: 'calendar_interval' };
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList: {
      const child = t.children[0]!;
      return arrayType(dataTypeFromArrowType(child.type), child.nullable);
    }
    case Type.Map: {
      const entries = t.children[0]!.type as Struct;
      const [k, v] = entries.children;
      return mapType(dataTypeFromArrowType(k!.type), dataTypeFromArrowType(v!.type), v!.nullable);
    }
    case Type.Struct:
      if (isArrowVariant(t as Struct)) return { type: 'variant' };
      return structType(t.children.map((f: Field) => structField(f.name, dataTypeFromArrowType(f.type), f.nullable)));
    case Type.Dictionary: return dataTypeFromArrowType((t as unknown as { dictionary: ArrowDataType }).dictionary);
    default: throw new Error(`Arrow type ${String(t)} has no Spark equivalent`);
  }
}

type Bitmap = Uint8Array | null;

function validity(data: Data): Bitmap {
  return data.nullCount > 0 && data.nullBitmap && data.nullBitmap.length > 0 ? data.nullBitmap : null;
}

function isValid(bitmap: Bitmap, pos: number): boolean {
  return bitmap === null || (bitmap[pos >> 3]! & (1 << (pos & 7))) !== 0;
}

function fillNumbers(data: Data, values: ArrayLike<number>): SparkValue[] {
  const n = data.length;
  const out: SparkValue[] = new Array(n);
  const bm = validity(data);
  const off = data.offset;
  if (bm === null) for (let i = 0; i < n; i++) out[i] = values[i]!;
  else for (let i = 0; i < n; i++) out[i] = isValid(bm, off + i) ? values[i]! : null;
  return out;
}

function mapValues<T>(data: Data, read: (i: number) => T): (T | null)[] {
  const n = data.length;
  const out: (T | null)[] = new Array(n);
  const bm = validity(data);
  const off = data.offset;
  for (let i = 0; i < n; i++) out[i] = isValid(bm, off + i) ? read(i) : null;
  return out;
}

function microsFactor(unit: TimeUnit): { mul: bigint; div: bigint } {
  switch (unit) {
    case TimeUnit.SECOND: return { mul: 1_000_000n, div: 1n };
    case TimeUnit.MILLISECOND: return { mul: 1000n, div: 1n };
    case TimeUnit.MICROSECOND: return { mul: 1n, div: 1n };
    default: return { mul: 1n, div: 1000n };
  }
}

function floorDivBig(a: bigint, b: bigint): bigint {
  if (b === 1n) return a;
  const q = a / b;
  return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q;
}

/** 64-bit words of a buffer whose elements are wider than 32 bits (decimal128/256, interval). */
function bigWords(values: Uint32Array | Int32Array | Uint8Array): BigUint64Array {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (bytes.byteOffset % 8 === 0) return new BigUint64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 3);
  return new BigUint64Array(bytes.slice().buffer);
}

/** Decode one Arrow column (a Data node) into exact JS values. `spark` refines the meaning, e.g. UDTs. */
export function decodeData(data: Data, spark?: DataType): SparkValue[] {
  const t = data.type as ArrowDataType;
  const n = data.length;
  switch (t.typeId) {
    case Type.Null: return new Array<SparkValue>(n).fill(null);
    case Type.Bool: {
      const bits = data.values as Uint8Array;
      const off = data.offset;
      return mapValues(data, (i) => (bits[(off + i) >> 3]! & (1 << ((off + i) & 7))) !== 0);
    }
    case Type.Int: {
      const values = data.values as ArrayLike<number> | BigInt64Array | BigUint64Array;
      if ((t as Int).bitWidth === 64) {
        const big = values as BigInt64Array;
        return mapValues(data, (i) => big[i]!);
      }
      return fillNumbers(data, values as ArrayLike<number>);
    }
    case Type.Float: {
      if ((t as Float32).precision === 0) {
        const half = data.values as Uint16Array;
        return mapValues(data, (i) => halfToNumber(half[i]!));
      }
      return fillNumbers(data, data.values as Float64Array);
    }
    case Type.Decimal: {
      const dt = t as ArrowDecimal;
      const u32 = data.values as Uint32Array;
      const words = bigWords(u32);
      const perValue = dt.bitWidth / 64;
      const scale = dt.scale;
      if (perValue === 2) {
        const signed = new BigInt64Array(words.buffer, words.byteOffset, words.length);
        // Fast path: the high word only sign-extends the low one (|value| < 2^63), one BigInt per value.
        return mapValues(data, (i) => {
          const hi0 = u32[4 * i + 2]!;
          const hi1 = u32[4 * i + 3]!;
          const loTop = u32[4 * i + 1]! >>> 31;
          if ((hi0 === 0 && hi1 === 0 && loTop === 0) || (hi0 === 0xffffffff && hi1 === 0xffffffff && loTop === 1)) return new Decimal(signed[2 * i]!, scale);
          return new Decimal(readTwosComplement(words, 2 * i, 2), scale);
        });
      }
      return mapValues(data, (i) => new Decimal(readTwosComplement(words, i * perValue, perValue), scale));
    }
    case Type.Date: {
      if ((t as DateDay).unit === DateUnit.DAY) {
        const days = data.values as Int32Array;
        return mapValues(data, (i) => sparkDate(days[i]!));
      }
      const ms = data.values as BigInt64Array;
      return mapValues(data, (i) => new SparkDate(Number(floorDivBig(ms[i]!, 86_400_000n))));
    }
    case Type.Timestamp: {
      const ts = t as TimestampMicrosecond;
      const ntz = spark ? spark.type === 'timestamp_ntz' : !ts.timezone;
      const values = data.values as BigInt64Array;
      const { mul, div } = microsFactor(ts.unit);
      if (mul === 1n && div === 1n) return mapValues(data, (i) => new SparkTimestamp(values[i]!, ntz));
      return mapValues(data, (i) => new SparkTimestamp(floorDivBig(values[i]! * mul, div), ntz));
    }
    case Type.Duration: {
      const values = data.values as BigInt64Array;
      const { mul, div } = microsFactor((t as DurationMicrosecond).unit);
      return mapValues(data, (i) => floorDivBig(values[i]! * mul, div));
    }
    case Type.Interval: {
      const unit = (t as IntervalYearMonth).unit;
      const ints = data.values as Int32Array;
      if (unit === IntervalUnit.YEAR_MONTH) return fillNumbers(data, ints);
      if (unit === IntervalUnit.DAY_TIME) {
        return mapValues(data, (i): CalendarInterval => ({ months: 0, days: ints[2 * i]!, microseconds: BigInt(ints[2 * i + 1]!) * 1000n }));
      }
      // MONTH_DAY_NANO: int32 months, int32 days, int64 nanoseconds.
      const words = bigWords(ints);
      return mapValues(data, (i): CalendarInterval => ({
        months: ints[4 * i]!,
        days: ints[4 * i + 1]!,
        microseconds: floorDivBig(BigInt.asIntN(64, words[2 * i + 1]!), 1000n),
      }));
    }
    case Type.Utf8:
    case Type.LargeUtf8: {
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      const bytes = data.values as Uint8Array;
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (offsets instanceof BigInt64Array) return mapValues(data, (i) => buf.toString('utf8', Number(offsets[i]!), Number(offsets[i + 1]!)));
      return mapValues(data, (i) => buf.toString('utf8', offsets[i]!, offsets[i + 1]!));
    }
    case Type.Binary:
    case Type.LargeBinary: {
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      const bytes = data.values as Uint8Array;
      // slice() copies, so a row does not pin the whole IPC message in memory.
      return mapValues(data, (i) => bytes.slice(Number(offsets[i]!), Number(offsets[i + 1]!)));
    }
    case Type.FixedSizeBinary: {
      const width = (t as unknown as { byteWidth: number }).byteWidth;
      const bytes = data.values as Uint8Array;
      return mapValues(data, (i) => bytes.slice(i * width, (i + 1) * width));
    }
    case Type.List:
    case Type.LargeList: {
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      const child = data.children[0]!;
      const elementType = spark?.type === 'array' ? spark.elementType : undefined;
      const items = decodeData(child, elementType);
      return mapValues(data, (i) => items.slice(Number(offsets[i]!), Number(offsets[i + 1]!)));
    }
    case Type.FixedSizeList: {
      const size = (t as unknown as { listSize: number }).listSize;
      const elementType = spark?.type === 'array' ? spark.elementType : undefined;
      const items = decodeData(data.children[0]!, elementType);
      return mapValues(data, (i) => items.slice(i * size, (i + 1) * size));
    }
    case Type.Map: {
      const offsets = data.valueOffsets as Int32Array;
      const entries = data.children[0]!;
      const keyData = entries.children[0]!;
      const valueData = entries.children[1]!;
      const keys = decodeData(keyData, spark?.type === 'map' ? spark.keyType : undefined);
      const vals = decodeData(valueData, spark?.type === 'map' ? spark.valueType : undefined);
      return mapValues(data, (i) => {
        const m = new Map<SparkValue, SparkValue>();
        for (let j = offsets[i]!; j < offsets[i + 1]!; j++) m.set(keys[j]!, vals[j]!);
        return m;
      });
    }
    case Type.Struct: {
      if (spark?.type === 'variant' || isArrowVariant(t as Struct)) {
        const fields = (t as Struct).children;
        const valueIdx = fields.findIndex((f: Field) => f.name === 'value');
        const metaIdx = fields.findIndex((f: Field) => f.name === 'metadata');
        const values = decodeData(data.children[valueIdx]!) as Array<Uint8Array | null>;
        const metas = decodeData(data.children[metaIdx]!) as Array<Uint8Array | null>;
        return mapValues(data, (i) => (values[i] && metas[i] ? decodeVariant(values[i]!, metas[i]!) : null));
      }
      const sparkStruct = spark?.type === 'udt' ? spark.sqlType : spark;
      const sparkFields = sparkStruct?.type === 'struct' ? sparkStruct.fields : undefined;
      const fields = (t as Struct).children;
      const keys = rowKeys(fields.map((f: Field) => f.name));
      const cols = data.children.map((c, j) => decodeData(c, sparkFields?.[j]?.dataType));
      const objects: SparkValue[] = objectsFromColumns(keys)(cols, n);
      const bm = validity(data);
      if (bm !== null) for (let i = 0; i < n; i++) if (!isValid(bm, data.offset + i)) objects[i] = null;
      return objects;
    }
    default: {
      // Types Spark does not send (dictionary, unions, views): fall back to arrow's accessor.
      const vector = makeVector(data);
      return Array.from({ length: n }, (_, i) => toSparkValueLoose(vector.get(i)));
    }
  }
}

/** Spark marks the metadata child of a VARIANT's struct<value, metadata> with field metadata variant=true. */
function isArrowVariant(t: Struct): boolean {
  const fields = t.children;
  return fields.length === 2 && fields.some((f: Field) => f.name === 'value') && fields.some((f: Field) => f.name === 'metadata' && f.metadata.get('variant') === 'true');
}

function toSparkValueLoose(v: unknown): SparkValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string') return v;
  if (v instanceof Uint8Array) return v.slice();
  return String(v);
}

function readTwosComplement(words: BigUint64Array, start: number, count: number): bigint {
  let v = 0n;
  for (let k = count - 1; k >= 0; k--) v = (v << 64n) | words[start + k]!;
  return BigInt.asIntN(count * 64, v);
}

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

// ====================================================================================================
// Encoding (LocalRelation)
// ====================================================================================================

/** The Arrow type Spark's ArrowUtils reads back as `dt`. */
export function toArrowType(dt: DataType): ArrowDataType {
  switch (dt.type) {
    case 'null': return new Null();
    case 'boolean': return new Bool();
    case 'byte': return new Int8();
    case 'short': return new Int16();
    case 'integer': return new Int32();
    case 'long': return new Int64();
    case 'float': return new Float32();
    case 'double': return new Float64();
    case 'string':
    case 'char':
    case 'varchar': return new Utf8();
    case 'binary': return new Binary();
    case 'decimal': return new ArrowDecimal(dt.scale, dt.precision, 128);
    case 'date': return new DateDay();
    case 'timestamp': return new TimestampMicrosecond('UTC');
    case 'timestamp_ntz': return new TimestampMicrosecond(null);
    case 'day_time_interval': return new DurationMicrosecond();
    case 'year_month_interval': return new IntervalYearMonth();
    case 'calendar_interval': return new IntervalMonthDayNano();
    case 'array': return new List(new Field('element', toArrowType(dt.elementType), dt.containsNull));
    case 'map':
      return new Map_(new Field('entries', new Struct<{ key: ArrowDataType; value: ArrowDataType }>([new Field('key', toArrowType(dt.keyType), false), new Field('value', toArrowType(dt.valueType), dt.valueContainsNull)]), false));
    case 'struct': return new Struct(dt.fields.map((f) => new Field(f.name, toArrowType(f.dataType), f.nullable)));
    case 'udt':
      if (!dt.sqlType) throw new Error(`cannot send values of the user-defined type ${dt.jvmClass ?? dt.pythonClass ?? ''}: its SQL type is unknown`);
      return toArrowType(dt.sqlType);
    case 'variant': throw new Error('sending VARIANT values to Spark is not supported; send a JSON string and use parse_json()');
  }
}

export function toArrowSchema(schema: StructType): Schema {
  return new Schema(schema.fields.map((f) => new Field(f.name, toArrowType(f.dataType), f.nullable)));
}

class EncodeError extends TypeError {
  constructor(path: string, message: string) {
    super(`createDataFrame: ${path}: ${message}`);
    this.name = 'EncodeError';
  }
}

function describeValue(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (v instanceof Uint8Array) return `bytes[${v.length}]`;
  if (v instanceof Date) return `Date(${Number.isNaN(v.getTime()) ? 'invalid' : v.toISOString()})`;
  if (Array.isArray(v)) return `array[${v.length}]`;
  if (v instanceof Map) return `Map(${v.size})`;
  if (v !== null && typeof v === 'object') return v.constructor?.name ?? 'object';
  return String(v);
}

/**
 * The validity bitmap of a column. `parentNull` marks rows whose enclosing struct is null: a NOT NULL field
 * is null there too (Spark never reads it), so only a null under a present parent is an error.
 */
function bitmapOf(values: readonly unknown[], path: string, nullable: boolean, parentNull?: Uint8Array): { bitmap: Uint8Array | undefined; nullCount: number } {
  let nullCount = 0;
  for (let i = 0; i < values.length; i++) if (values[i] == null) nullCount++;
  if (nullCount === 0) return { bitmap: undefined, nullCount: 0 };
  if (!nullable) {
    const at = values.findIndex((v, i) => v == null && !parentNull?.[i]);
    if (at >= 0) throw new EncodeError(`${path}[${at}]`, 'null in a non-nullable field');
  }
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  for (let i = 0; i < values.length; i++) if (values[i] != null) bitmap[i >> 3]! |= 1 << (i & 7);
  return { bitmap, nullCount };
}

const INT_RANGES: Record<'byte' | 'short' | 'integer', [number, number]> = {
  byte: [-128, 127],
  short: [-32768, 32767],
  integer: [-2147483648, 2147483647],
};
const LONG_MIN = -(2n ** 63n);
const MAX_INTERVAL_MICROS = (2n ** 63n - 1n) / 1000n;
const LONG_MAX = 2n ** 63n - 1n;

function toSmallInt(v: unknown, kind: 'byte' | 'short' | 'integer', at: () => string): number {
  const [lo, hi] = INT_RANGES[kind];
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new EncodeError(at(), `expected an integer for ${kind}, got ${describeValue(v)}`);
  if (n < lo || n > hi) throw new EncodeError(at(), `${describeValue(v)} is out of range for ${kind} (${lo}..${hi})`);
  return n;
}

function toLong(v: unknown, at: () => string): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new EncodeError(at(), `${describeValue(v)} is not an exact integer; pass a bigint for values beyond 2^53`);
    b = BigInt(v);
  } else if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) b = BigInt(v.trim());
  else throw new EncodeError(at(), `expected a bigint for long, got ${describeValue(v)}`);
  if (b < LONG_MIN || b > LONG_MAX) throw new EncodeError(at(), `${describeValue(v)} is out of range for long`);
  return b;
}

function toDouble(v: unknown, at: () => string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Decimal) return v.toNumber();
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  throw new EncodeError(at(), `expected a number, got ${describeValue(v)}`);
}

function toDecimal(v: unknown, precision: number, scale: number, at: () => string): bigint {
  let d: Decimal;
  try {
    if (v instanceof Decimal || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') d = Decimal.from(v, scale);
    else throw new TypeError(`expected a Decimal, string, number or bigint, got ${describeValue(v)}`);
  } catch (err) {
    throw new EncodeError(at(), `decimal(${precision},${scale}): ${(err as Error).message}`);
  }
  const limit = 10n ** BigInt(precision);
  if (d.unscaled >= limit || d.unscaled <= -limit) throw new EncodeError(at(), `${d.toString()} does not fit decimal(${precision},${scale})`);
  return d.unscaled;
}

function toDays(v: unknown, at: () => string): number {
  try {
    if (v instanceof SparkDate) return v.days;
    if (v instanceof Date) return SparkDate.fromDate(v).days;
    if (typeof v === 'string') return SparkDate.fromString(v).days;
  } catch (err) {
    throw new EncodeError(at(), (err as Error).message);
  }
  throw new EncodeError(at(), `expected a SparkDate, Date or 'YYYY-MM-DD' string, got ${describeValue(v)}`);
}

function toMicros(v: unknown, ntz: boolean, at: () => string): bigint {
  try {
    if (v instanceof SparkTimestamp) return v.micros;
    if (v instanceof Date) return SparkTimestamp.fromDate(v, ntz).micros;
    if (typeof v === 'string') return SparkTimestamp.fromString(v, ntz).micros;
    if (typeof v === 'bigint') return v;
  } catch (err) {
    throw new EncodeError(at(), (err as Error).message);
  }
  throw new EncodeError(at(), `expected a SparkTimestamp, Date, ISO-8601 string or bigint microseconds, got ${describeValue(v)}`);
}

function utf8Data(type: ArrowDataType, strings: readonly unknown[], common: { length: number; nullCount: number; nullBitmap?: Uint8Array }, path: string, binary: boolean): Data {
  const n = strings.length;
  const offsets = new Int32Array(n + 1);
  const chunks: Uint8Array[] = new Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = strings[i];
    let bytes: Uint8Array;
    if (v == null) bytes = new Uint8Array(0);
    else if (binary) {
      if (v instanceof Uint8Array) bytes = v;
      else if (v instanceof ArrayBuffer) bytes = new Uint8Array(v);
      else throw new EncodeError(`${path}[${i}]`, `expected a Uint8Array for binary, got ${describeValue(v)}`);
    } else {
      if (typeof v !== 'string') throw new EncodeError(`${path}[${i}]`, `expected a string, got ${describeValue(v)}`);
      bytes = Buffer.from(v, 'utf8');
    }
    chunks[i] = bytes;
    total += bytes.length;
    if (total > 0x7fffffff) throw new EncodeError(path, 'more than 2 GiB of text in one column');
    offsets[i + 1] = total;
  }
  const data = new Uint8Array(total);
  for (let i = 0; i < n; i++) data.set(chunks[i]!, offsets[i]!);
  return makeData({ type: type as Utf8, ...common, valueOffsets: offsets, data });
}

/** Build the Arrow Data for one column of values of Spark type `dt`. `path` names the column in errors. */
export function encodeColumn(dt: DataType, values: readonly unknown[], nullable: boolean, path: string, parentNull?: Uint8Array): Data {
  const type = toArrowType(dt);
  const n = values.length;
  if (dt.type === 'null') {
    const bad = values.findIndex((v) => v != null);
    if (bad >= 0) throw new EncodeError(`${path}[${bad}]`, `a void (null type) column holds ${describeValue(values[bad])}`);
    return makeData({ type: type as Null, length: n });
  }
  const { bitmap, nullCount } = bitmapOf(values, path, nullable, parentNull);
  const common = { length: n, nullCount, ...(bitmap ? { nullBitmap: bitmap } : {}) };
  const at = (i: number) => () => `${path}[${i}]`;
  switch (dt.type) {
    case 'boolean': {
      const bits = new Uint8Array(Math.ceil(n / 8));
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v == null) continue;
        if (typeof v !== 'boolean') throw new EncodeError(`${path}[${i}]`, `expected a boolean, got ${describeValue(v)}`);
        if (v) bits[i >> 3]! |= 1 << (i & 7);
      }
      return makeData({ type: type as Bool, ...common, data: bits });
    }
    case 'byte':
    case 'short':
    case 'integer': {
      const arr = dt.type === 'byte' ? new Int8Array(n) : dt.type === 'short' ? new Int16Array(n) : new Int32Array(n);
      for (let i = 0; i < n; i++) if (values[i] != null) arr[i] = toSmallInt(values[i], dt.type, at(i));
      return makeData({ type: type as Int32, ...common, data: arr as Int32Array });
    }
    case 'long': {
      const arr = new BigInt64Array(n);
      for (let i = 0; i < n; i++) if (values[i] != null) arr[i] = toLong(values[i], at(i));
      return makeData({ type: type as Int64, ...common, data: arr });
    }
    case 'float':
    case 'double': {
      const arr = dt.type === 'float' ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) if (values[i] != null) arr[i] = toDouble(values[i], at(i));
      return makeData({ type: type as Float64, ...common, data: arr as Float64Array });
    }
    case 'decimal': {
      const words = new BigUint64Array(2 * n);
      for (let i = 0; i < n; i++) {
        if (values[i] == null) continue;
        const u = BigInt.asUintN(128, toDecimal(values[i], dt.precision, dt.scale, at(i)));
        words[2 * i] = u & 0xffffffffffffffffn;
        words[2 * i + 1] = u >> 64n;
      }
      return makeData({ type: type as ArrowDecimal, ...common, data: new Uint32Array(words.buffer) });
    }
    case 'string':
      return utf8Data(type, values, common, path, false);
    case 'char':
    case 'varchar': {
      // Spark refuses char/varchar in a LocalRelation schema (it is sent as string): check the length here,
      // and pad char(n) as Spark does, rather than let a value change silently.
      const limited = values.map((v, i) => {
        if (typeof v !== 'string') return v;
        const len = [...v].length;
        if (len > dt.length) throw new EncodeError(`${path}[${i}]`, `${describeValue(v)} is longer than ${dt.type}(${dt.length})`);
        return dt.type === 'char' ? v + ' '.repeat(dt.length - len) : v;
      });
      return utf8Data(type, limited, common, path, false);
    }
    case 'binary':
      return utf8Data(type, values, common, path, true);
    case 'date': {
      const arr = new Int32Array(n);
      for (let i = 0; i < n; i++) if (values[i] != null) arr[i] = toDays(values[i], at(i));
      return makeData({ type: type as DateDay, ...common, data: arr });
    }
    case 'timestamp':
    case 'timestamp_ntz': {
      const arr = new BigInt64Array(n);
      for (let i = 0; i < n; i++) if (values[i] != null) arr[i] = toMicros(values[i], dt.type === 'timestamp_ntz', at(i));
      return makeData({ type: type as TimestampMicrosecond, ...common, data: arr });
    }
    case 'day_time_interval': {
      const arr = new BigInt64Array(n);
      for (let i = 0; i < n; i++) if (values[i] != null) arr[i] = toLong(values[i], at(i));
      return makeData({ type: type as DurationMicrosecond, ...common, data: arr });
    }
    case 'year_month_interval': {
      const arr = new Int32Array(n);
      for (let i = 0; i < n; i++) if (values[i] != null) arr[i] = toSmallInt(values[i], 'integer', at(i));
      return makeData({ type: type as IntervalYearMonth, ...common, data: arr });
    }
    case 'calendar_interval': {
      const arr = new Int32Array(4 * n);
      const words = new BigInt64Array(arr.buffer);
      for (let i = 0; i < n; i++) {
        const v = values[i] as Partial<CalendarInterval> | null | undefined;
        if (v == null) continue;
        if (typeof v !== 'object') throw new EncodeError(`${path}[${i}]`, `expected {months, days, microseconds}, got ${describeValue(v)}`);
        arr[4 * i] = toSmallInt(v.months ?? 0, 'integer', at(i));
        arr[4 * i + 1] = toSmallInt(v.days ?? 0, 'integer', at(i));
        const micros = toLong(v.microseconds ?? 0n, at(i));
        // Arrow carries nanoseconds in an int64: beyond ±2^63/1000 µs (about 106 days) it would wrap.
        if (micros > MAX_INTERVAL_MICROS || micros < -MAX_INTERVAL_MICROS) {
          throw new EncodeError(`${path}[${i}]`, `a calendar interval's microseconds (${micros}) must be within ±${MAX_INTERVAL_MICROS} to be sent as Arrow nanoseconds; move whole days into "days"`);
        }
        words[2 * i + 1] = micros * 1000n;
      }
      return makeData({ type: type as IntervalMonthDayNano, ...common, data: arr });
    }
    case 'array': {
      const offsets = new Int32Array(n + 1);
      const items: unknown[] = [];
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v != null) {
          if (!Array.isArray(v)) throw new EncodeError(`${path}[${i}]`, `expected an array, got ${describeValue(v)}`);
          for (const item of v) items.push(item);
        }
        offsets[i + 1] = items.length;
      }
      const child = encodeColumn(dt.elementType, items, dt.containsNull, `${path}[]`);
      return makeData({ type: type as List, ...common, valueOffsets: offsets, child });
    }
    case 'map': {
      const offsets = new Int32Array(n + 1);
      const keys: unknown[] = [];
      const vals: unknown[] = [];
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v != null) {
          if (v instanceof Map) for (const [k, val] of v) { keys.push(k); vals.push(val); }
          else if (typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) {
            for (const [k, val] of Object.entries(v as Record<string, unknown>)) { keys.push(k); vals.push(val); }
          } else throw new EncodeError(`${path}[${i}]`, `expected a Map or a plain object, got ${describeValue(v)}`);
        }
        offsets[i + 1] = keys.length;
      }
      const mapT = type as Map_;
      const entriesType = mapT.children[0]!.type as Struct;
      const keyData = encodeColumn(dt.keyType, keys, false, `${path}{key}`);
      const valueData = encodeColumn(dt.valueType, vals, dt.valueContainsNull, `${path}{value}`);
      const child = makeData({ type: entriesType, length: keys.length, nullCount: 0, children: [keyData, valueData] });
      return makeData({ type: mapT, ...common, valueOffsets: offsets, child });
    }
    case 'struct': {
      const nulls = new Uint8Array(n);
      for (let i = 0; i < n; i++) if (values[i] == null || parentNull?.[i]) nulls[i] = 1;
      return makeData({ type: type as Struct, ...common, children: structChildren(dt, values, path, nulls) });
    }
    case 'udt':
      if (!dt.sqlType) throw new EncodeError(path, `the user-defined type ${dt.jvmClass ?? dt.pythonClass ?? ''} has no known SQL type`);
      return encodeColumn(dt.sqlType, values, nullable, path);
    case 'variant': throw new EncodeError(path, 'sending VARIANT values to Spark is not supported; send a JSON string and use parse_json()');
  }
}

function structChildren(dt: StructType, values: readonly unknown[], path: string, parentNull?: Uint8Array): Data[] {
  return dt.fields.map((f: StructField, j) => {
    const column = values.map((v, i) => {
      if (v == null) return null;
      if (Array.isArray(v)) {
        if (v.length !== dt.fields.length) throw new EncodeError(`${path}[${i}]`, `a positional row needs ${dt.fields.length} values, got ${v.length}`);
        return v[j];
      }
      if (typeof v === 'object' && !(v instanceof Uint8Array) && !(v instanceof Map)) return (v as Record<string, unknown>)[f.name];
      throw new EncodeError(`${path}[${i}]`, `expected an object or an array for a struct, got ${describeValue(v)}`);
    });
    return encodeColumn(f.dataType, column, f.nullable, path === '' ? f.name : `${path}.${f.name}`, parentNull);
  });
}

/** One Arrow record batch holding `rows` (objects keyed by field name, or positional arrays) as `schema`. */
export function recordBatchFromRows(rows: Array<Record<string, unknown>> | unknown[][], schema: StructType): RecordBatch {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (r === null || typeof r !== 'object') throw new EncodeError(`row ${i}`, `expected an object or an array, got ${describeValue(r)}`);
    if (!Array.isArray(r)) {
      const unknown = Object.keys(r).filter((k) => !schema.fields.some((f) => f.name === k));
      if (unknown.length > 0) throw new EncodeError(`row ${i}`, `has ${unknown.map((k) => JSON.stringify(k)).join(', ')}, not in the schema (${schema.fields.map((f) => f.name).join(', ')})`);
    }
  }
  const children = structChildren(schema, rows, '');
  const arrowSchema = toArrowSchema(schema);
  const data = makeData({ type: new Struct(arrowSchema.fields), length: rows.length, nullCount: 0, children });
  return new RecordBatch(arrowSchema, data);
}

/** Arrow IPC stream bytes for LocalRelation.data; Spark reads them with `schema` (send dataTypeToJson(schema)). */
export function encodeLocalRelation(rows: Array<Record<string, unknown>> | unknown[][], schema: StructType): Uint8Array {
  const batch = recordBatchFromRows(rows, schema);
  return RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true);
}

/** The LocalRelation proto fields for createDataFrame(rows, schema). */
export function localRelation(rows: Array<Record<string, unknown>> | unknown[][], schema: StructType): { data: Uint8Array; schema: string } {
  return { data: encodeLocalRelation(rows, schema), schema: dataTypeToJson(charVarcharAsString(schema)) };
}

/** The schema with char(n)/varchar(n) replaced by string, which is what Spark accepts for a LocalRelation. */
export function charVarcharAsString<T extends DataType>(dt: T): T;
export function charVarcharAsString(dt: DataType): DataType {
  switch (dt.type) {
    case 'char':
    case 'varchar': return { type: 'string' };
    case 'array': return arrayType(charVarcharAsString(dt.elementType), dt.containsNull);
    case 'map': return mapType(charVarcharAsString(dt.keyType), charVarcharAsString(dt.valueType), dt.valueContainsNull);
    case 'struct': return structType(dt.fields.map((f) => ({ ...f, dataType: charVarcharAsString(f.dataType) })));
    default: return dt;
  }
}

/** Arrow IPC stream bytes of a Table (e.g. for LocalRelation from an existing Table). */
export function tableToIPCStream(table: Table): Uint8Array {
  return RecordBatchStreamWriter.writeAll(table).toUint8Array(true);
}

// ====================================================================================================
// Schema inference for createDataFrame(rows) without a schema
// ====================================================================================================

function inferValueType(v: unknown, path: string): DataType | null {
  if (v == null) return null;
  if (typeof v === 'boolean') return { type: 'boolean' };
  if (typeof v === 'bigint') return { type: 'long' };
  if (typeof v === 'number') return Number.isInteger(v) ? { type: 'long' } : { type: 'double' };
  if (typeof v === 'string') return { type: 'string' };
  if (v instanceof Uint8Array) return { type: 'binary' };
  if (v instanceof Decimal) return decimalType(38, 18);
  if (v instanceof SparkDate) return { type: 'date' };
  if (v instanceof SparkTimestamp) return { type: v.ntz ? 'timestamp_ntz' : 'timestamp' };
  if (v instanceof Date) return { type: 'timestamp' };
  if (Array.isArray(v)) {
    let el: DataType | null = null;
    v.forEach((item, i) => { el = mergeTypes(el, inferValueType(item, `${path}[${i}]`), `${path}[]`); });
    return arrayType(el ?? { type: 'null' }, true);
  }
  if (v instanceof Map) {
    let k: DataType | null = null;
    let val: DataType | null = null;
    for (const [key, value] of v) {
      k = mergeTypes(k, inferValueType(key, `${path}{key}`), `${path}{key}`);
      val = mergeTypes(val, inferValueType(value, `${path}{value}`), `${path}{value}`);
    }
    return mapType(k ?? { type: 'string' }, val ?? { type: 'null' }, true);
  }
  if (typeof v === 'object') {
    return structType(Object.entries(v as Record<string, unknown>).map(([k, x]) => structField(k, inferValueType(x, `${path}.${k}`) ?? { type: 'null' }, true)));
  }
  throw new EncodeError(path, `cannot infer a Spark type for ${describeValue(v)}`);
}

function mergeTypes(a: DataType | null, b: DataType | null, path: string): DataType | null {
  if (a === null || a.type === 'null') return b ?? a;
  if (b === null || b.type === 'null') return a;
  if (a.type === 'long' && b.type === 'double') return b;
  if (a.type === 'double' && b.type === 'long') return a;
  if (a.type === 'array' && b.type === 'array') return arrayType(mergeTypes(a.elementType, b.elementType, `${path}[]`) ?? { type: 'null' }, true);
  if (a.type === 'map' && b.type === 'map') {
    return mapType(mergeTypes(a.keyType, b.keyType, path) ?? { type: 'string' }, mergeTypes(a.valueType, b.valueType, path) ?? { type: 'null' }, true);
  }
  if (a.type === 'struct' && b.type === 'struct') {
    const fields = a.fields.map((f) => {
      const other = b.fields.find((g) => g.name === f.name);
      return structField(f.name, mergeTypes(f.dataType, other?.dataType ?? null, `${path}.${f.name}`) ?? { type: 'null' }, true);
    });
    for (const g of b.fields) if (!fields.some((f) => f.name === g.name)) fields.push(structField(g.name, g.dataType, true));
    return structType(fields);
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return a;
  throw new EncodeError(path, `values have different types (${a.type} and ${b.type}); pass a schema`);
}

/** Infer a schema from row objects as PySpark does (integers -> long, fractions -> double, objects -> struct). */
export function inferSchema(rows: Array<Record<string, unknown>>): StructType {
  const names: string[] = [];
  const types = new Map<string, DataType | null>();
  rows.forEach((row, i) => {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new EncodeError(`row ${i}`, 'schema inference needs objects keyed by column name; pass a schema for positional rows');
    for (const [k, v] of Object.entries(row)) {
      if (!types.has(k)) { names.push(k); types.set(k, null); }
      types.set(k, mergeTypes(types.get(k) ?? null, inferValueType(v, `row ${i}.${k}`), k));
    }
  });
  return structType(names.map((k) => structField(k, types.get(k) ?? { type: 'null' }, true)));
}
