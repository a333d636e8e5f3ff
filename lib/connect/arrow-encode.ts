// Exact JS values -> Arrow (LocalRelation for createDataFrame): checked per value, naming the row and field.
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
  TimeNanosecond,
  TimestampMicrosecond,
  Utf8,
  makeData,
} from 'apache-arrow';
import {
  arrayType,
  dataTypeToJson,
  mapType,
  structType,
  type DataType,
  type SpatialType,
  type StructField,
  type StructType,
} from './types';
import { Decimal, SparkDate, SparkGeography, SparkGeometry, SparkTime, SparkTimestamp, type CalendarInterval } from './values';

/** The Arrow type Spark's ArrowUtils reads back as `dt`. */
export function toArrowType(dt: DataType): ArrowDataType {
  switch (dt.type) {
    case 'null':
      return new Null();
    case 'boolean':
      return new Bool();
    case 'byte':
      return new Int8();
    case 'short':
      return new Int16();
    case 'integer':
      return new Int32();
    case 'long':
      return new Int64();
    case 'float':
      return new Float32();
    case 'double':
      return new Float64();
    case 'string':
    case 'char':
    case 'varchar':
      return new Utf8();
    case 'binary':
      return new Binary();
    case 'decimal':
      return new ArrowDecimal(dt.scale, dt.precision, 128);
    case 'date':
      return new DateDay();
    case 'timestamp':
      return new TimestampMicrosecond('UTC');
    case 'timestamp_ntz':
      return new TimestampMicrosecond(null);
    case 'time':
      // ArrowUtils: TimeType <-> Time(NANOSECOND, 64) whatever the precision.
      return new TimeNanosecond();
    case 'geometry':
    case 'geography':
      return spatialArrowType(dt);
    case 'day_time_interval':
      return new DurationMicrosecond();
    case 'year_month_interval':
      return new IntervalYearMonth();
    case 'calendar_interval':
      return new IntervalMonthDayNano();
    case 'array':
      return new List(new Field('element', toArrowType(dt.elementType), dt.containsNull));
    case 'map':
      return new Map_(
        new Field(
          'entries',
          new Struct<{ key: ArrowDataType; value: ArrowDataType }>([
            new Field('key', toArrowType(dt.keyType), false),
            new Field('value', toArrowType(dt.valueType), dt.valueContainsNull),
          ]),
          false,
        ),
      );
    case 'struct':
      return new Struct(dt.fields.map((f) => new Field(f.name, toArrowType(f.dataType), f.nullable)));
    case 'udt':
      if (!dt.sqlType)
        throw new Error(`cannot send values of the user-defined type ${dt.jvmClass ?? dt.pythonClass ?? ''}: its SQL type is unknown`);
      return toArrowType(dt.sqlType);
    case 'variant':
      throw new Error('sending VARIANT values to Spark is not supported; send a JSON string and use parse_json()');
  }
}

/**
 * ArrowUtils' form of GEOMETRY/GEOGRAPHY: struct<srid: int32, wkb: binary>, the wkb field marked with
 * metadata {geometry|geography: "true", srid: "<type srid>"} (which is how the reader tells it from a struct).
 */
function spatialArrowType(dt: SpatialType): Struct {
  return new Struct([
    new Field('srid', new Int32(), false),
    new Field(
      'wkb',
      new Binary(),
      false,
      new Map([
        [dt.type, 'true'],
        ['srid', String(dt.srid)],
      ]),
    ),
  ]);
}

export function toArrowSchema(schema: StructType): Schema {
  return new Schema(schema.fields.map((f) => new Field(f.name, toArrowType(f.dataType), f.nullable)));
}

/** A value that does not fit its Spark type (also thrown by schema inference). */
export class EncodeError extends TypeError {
  constructor(path: string, message: string) {
    super(`createDataFrame: ${path}: ${message}`);
    this.name = 'EncodeError';
  }
}

export function describeValue(v: unknown): string {
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
function bitmapOf(
  values: readonly unknown[],
  path: string,
  nullable: boolean,
  parentNull?: Uint8Array,
): { bitmap: Uint8Array | undefined; nullCount: number } {
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
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw new EncodeError(at(), `expected an integer for ${kind}, got ${describeValue(v)}`);
  if (n < lo || n > hi) throw new EncodeError(at(), `${describeValue(v)} is out of range for ${kind} (${lo}..${hi})`);
  return n;
}

function toLong(v: unknown, at: () => string): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number') {
    if (!Number.isSafeInteger(v))
      throw new EncodeError(at(), `${describeValue(v)} is not an exact integer; pass a bigint for values beyond 2^53`);
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
  if (d.unscaled >= limit || d.unscaled <= -limit)
    throw new EncodeError(at(), `${d.toString()} does not fit decimal(${precision},${scale})`);
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

/** Nanoseconds of the day for TIME(precision); more fractional digits than the precision are refused, not cut. */
function toTimeNanos(v: unknown, precision: number, at: () => string): bigint {
  let t: SparkTime;
  try {
    if (v instanceof SparkTime) t = v;
    else if (typeof v === 'string') t = SparkTime.fromString(v);
    else throw new TypeError(`expected a SparkTime or an 'HH:MM[:SS[.fffffffff]]' string, got ${describeValue(v)}`);
  } catch (err) {
    throw new EncodeError(at(), (err as Error).message);
  }
  const unit = 10 ** (9 - precision);
  if (t.nanosecond % unit !== 0)
    throw new EncodeError(
      at(),
      `${t.toString()} has more than ${precision} fractional digits for time(${precision}); it would be truncated`,
    );
  return BigInt(t.nanosOfDay);
}

function toSpatial(v: unknown, dt: SpatialType, at: () => string): { srid: number; wkb: Uint8Array } {
  const Cls = dt.type === 'geometry' ? SparkGeometry : SparkGeography;
  if (!(v instanceof Cls)) throw new EncodeError(at(), `expected a ${Cls.name} for ${dt.type}, got ${describeValue(v)}`);
  // A fixed-SRID type takes only values of its SRID (Spark's GEO_ENCODER_SRID_MISMATCH_ERROR).
  if (dt.srid !== -1 && v.srid !== dt.srid) throw new EncodeError(at(), `a value of SRID ${v.srid} in a ${dt.type}(${dt.srid}) column`);
  return { srid: v.srid, wkb: v.wkb };
}

function utf8Data(
  type: ArrowDataType,
  strings: readonly unknown[],
  common: { length: number; nullCount: number; nullBitmap?: Uint8Array },
  path: string,
  binary: boolean,
): Data {
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
    case 'time': {
      const arr = new BigInt64Array(n);
      for (let i = 0; i < n; i++) if (values[i] != null) arr[i] = toTimeNanos(values[i], dt.precision, at(i));
      return makeData({ type: type as TimeNanosecond, ...common, data: arr });
    }
    case 'geometry':
    case 'geography': {
      const srids = new Int32Array(n);
      const wkbs: Array<Uint8Array> = new Array(n);
      for (let i = 0; i < n; i++) {
        if (values[i] == null || parentNull?.[i]) {
          wkbs[i] = new Uint8Array(0);
          continue;
        }
        const g = toSpatial(values[i], dt, at(i));
        srids[i] = g.srid;
        wkbs[i] = g.wkb;
      }
      const struct = type as Struct;
      const sridData = makeData({ type: struct.children[0]!.type as Int32, length: n, nullCount: 0, data: srids });
      const wkbData = utf8Data(struct.children[1]!.type, wkbs, { length: n, nullCount: 0 }, `${path}.wkb`, true);
      return makeData({ type: struct, ...common, children: [sridData, wkbData] });
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
          throw new EncodeError(
            `${path}[${i}]`,
            `a calendar interval's microseconds (${micros}) must be within ±${MAX_INTERVAL_MICROS} to be sent as Arrow nanoseconds; move whole days into "days"`,
          );
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
          if (v instanceof Map)
            for (const [k, val] of v) {
              keys.push(k);
              vals.push(val);
            }
          else if (typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) {
            for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
              keys.push(k);
              vals.push(val);
            }
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
    case 'variant':
      throw new EncodeError(path, 'sending VARIANT values to Spark is not supported; send a JSON string and use parse_json()');
  }
}

function structChildren(dt: StructType, values: readonly unknown[], path: string, parentNull?: Uint8Array): Data[] {
  return dt.fields.map((f: StructField, j) => {
    const column = values.map((v, i) => {
      if (v == null) return null;
      if (Array.isArray(v)) {
        if (v.length !== dt.fields.length)
          throw new EncodeError(`${path}[${i}]`, `a positional row needs ${dt.fields.length} values, got ${v.length}`);
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
      if (unknown.length > 0)
        throw new EncodeError(
          `row ${i}`,
          `has ${unknown.map((k) => JSON.stringify(k)).join(', ')}, not in the schema (${schema.fields.map((f) => f.name).join(', ')})`,
        );
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
export function localRelation(
  rows: Array<Record<string, unknown>> | unknown[][],
  schema: StructType,
): { data: Uint8Array; schema: string } {
  return { data: encodeLocalRelation(rows, schema), schema: dataTypeToJson(charVarcharAsString(schema)) };
}

/** The schema with char(n)/varchar(n) replaced by string, which is what Spark accepts for a LocalRelation. */
export function charVarcharAsString<T extends DataType>(dt: T): T;
export function charVarcharAsString(dt: DataType): DataType {
  switch (dt.type) {
    case 'char':
    case 'varchar':
      return { type: 'string' };
    case 'array':
      return arrayType(charVarcharAsString(dt.elementType), dt.containsNull);
    case 'map':
      return mapType(charVarcharAsString(dt.keyType), charVarcharAsString(dt.valueType), dt.valueContainsNull);
    case 'struct':
      return structType(dt.fields.map((f) => ({ ...f, dataType: charVarcharAsString(f.dataType) })));
    default:
      return dt;
  }
}

/** Arrow IPC stream bytes of a Table (e.g. for LocalRelation from an existing Table). */
export function tableToIPCStream(table: Table): Uint8Array {
  return RecordBatchStreamWriter.writeAll(table).toUint8Array(true);
}
