// Spark SQL data types as plain, comparable objects, with conversion to and from the Connect proto,
// Spark's type strings (`simpleString`, `parseTypeString`, DDL schemas) and Spark's JSON schema form.
import type { DataType as DataTypeProto, DataType__Output as DataTypeProtoOutput } from './gen/spark/connect/DataType';

export type AtomicTypeName =
  | 'null'
  | 'boolean'
  | 'byte'
  | 'short'
  | 'integer'
  | 'long'
  | 'float'
  | 'double'
  | 'string'
  | 'binary'
  | 'date'
  | 'timestamp'
  | 'timestamp_ntz'
  | 'calendar_interval'
  | 'variant';

export interface AtomicType {
  type: AtomicTypeName;
}
export interface DecimalType {
  type: 'decimal';
  precision: number;
  scale: number;
}
export interface CharType {
  type: 'char' | 'varchar';
  length: number;
}
/** TIME(p) (Spark 4.1+): a time of day with p fractional digits of the second (0..6). */
export interface TimeType {
  type: 'time';
  precision: number;
}
/**
 * GEOMETRY(srid) / GEOGRAPHY(srid) (Spark 4.1+). `srid` -1 is Spark's mixed form, GEOMETRY(ANY): each value
 * carries its own SRID.
 */
export interface SpatialType {
  type: 'geometry' | 'geography';
  srid: number;
}
/** startField/endField: DAY=0 HOUR=1 MINUTE=2 SECOND=3 (day-time); YEAR=0 MONTH=1 (year-month). */
export interface IntervalType {
  type: 'day_time_interval' | 'year_month_interval';
  startField: number;
  endField: number;
}
export interface ArrayType {
  type: 'array';
  elementType: DataType;
  containsNull: boolean;
}
export interface MapType {
  type: 'map';
  keyType: DataType;
  valueType: DataType;
  valueContainsNull: boolean;
}
export interface StructField {
  name: string;
  dataType: DataType;
  nullable: boolean;
  metadata?: Record<string, unknown>;
}
export interface StructType {
  type: 'struct';
  fields: StructField[];
}
/**
 * A user-defined type (e.g. Spark ML's VectorUDT): values travel as `sqlType`. The server names JVM UDTs by
 * class only; `sqlType` is then filled in for the ones this client knows (ML vectors and matrices) and is
 * absent otherwise (values are still decoded, from the Arrow data).
 */
export interface UserDefinedType {
  type: 'udt';
  sqlType?: DataType;
  jvmClass?: string;
  pythonClass?: string;
}

export type DataType =
  AtomicType | DecimalType | CharType | IntervalType | TimeType | SpatialType | ArrayType | MapType | StructType | UserDefinedType;

// ---------- constructors ----------

export const NullType: AtomicType = { type: 'null' };
export const BooleanType: AtomicType = { type: 'boolean' };
export const ByteType: AtomicType = { type: 'byte' };
export const ShortType: AtomicType = { type: 'short' };
export const IntegerType: AtomicType = { type: 'integer' };
export const LongType: AtomicType = { type: 'long' };
export const FloatType: AtomicType = { type: 'float' };
export const DoubleType: AtomicType = { type: 'double' };
export const StringType: AtomicType = { type: 'string' };
export const BinaryType: AtomicType = { type: 'binary' };
export const DateType: AtomicType = { type: 'date' };
export const TimestampType: AtomicType = { type: 'timestamp' };
export const TimestampNTZType: AtomicType = { type: 'timestamp_ntz' };
export const CalendarIntervalType: AtomicType = { type: 'calendar_interval' };
export const VariantType: AtomicType = { type: 'variant' };

/**
 * DECIMAL(precision, scale). A negative scale exists only under Spark's
 * `spark.sql.legacy.allowNegativeScaleOfDecimal` (the server refuses it otherwise); it is accepted here so such
 * results and schemas can be read.
 */
export function decimalType(precision = 10, scale = 0): DecimalType {
  if (!Number.isInteger(precision) || precision < 1 || precision > 38)
    throw new RangeError(`decimal precision must be 1..38, got ${precision}`);
  if (!Number.isInteger(scale) || scale > precision)
    throw new RangeError(`decimal scale must be an integer up to the precision (${precision}), got ${scale}`);
  return { type: 'decimal', precision, scale };
}
/** TIME(precision): Spark's default precision is 6 (microseconds), the most it supports. */
export function timeType(precision = 6): TimeType {
  if (!Number.isInteger(precision) || precision < 0 || precision > 6) throw new RangeError(`time precision must be 0..6, got ${precision}`);
  return { type: 'time', precision };
}
/** The SRID Spark uses for GEOMETRY(ANY) / GEOGRAPHY(ANY) (SpatialType.MIXED_SRID). */
export const MIXED_SRID = -1;
/** GEOMETRY(srid); 'ANY' is the mixed form. Spark checks the SRID against its registry; this does not. */
export function geometryType(srid: number | 'ANY'): SpatialType {
  return spatialType('geometry', srid);
}
/** GEOGRAPHY(srid), by default 4326 (WGS 84, what Spark supports today); 'ANY' is the mixed form. */
export function geographyType(srid: number | 'ANY' = 4326): SpatialType {
  return spatialType('geography', srid);
}
function spatialType(type: SpatialType['type'], srid: number | 'ANY'): SpatialType {
  if (srid === 'ANY') return { type, srid: MIXED_SRID };
  if (!Number.isInteger(srid) || srid < MIXED_SRID)
    throw new RangeError(`${type} srid must be a non-negative integer or 'ANY', got ${srid}`);
  return { type, srid };
}
export function charType(length: number): CharType {
  return { type: 'char', length };
}
export function varcharType(length: number): CharType {
  return { type: 'varchar', length };
}
export function dayTimeIntervalType(startField = 0, endField = 3): IntervalType {
  return { type: 'day_time_interval', startField, endField };
}
export function yearMonthIntervalType(startField = 0, endField = 1): IntervalType {
  return { type: 'year_month_interval', startField, endField };
}
export function arrayType(elementType: DataType, containsNull = true): ArrayType {
  return { type: 'array', elementType, containsNull };
}
export function mapType(keyType: DataType, valueType: DataType, valueContainsNull = true): MapType {
  return { type: 'map', keyType, valueType, valueContainsNull };
}
export function structField(name: string, dataType: DataType, nullable = true, metadata?: Record<string, unknown>): StructField {
  return metadata === undefined ? { name, dataType, nullable } : { name, dataType, nullable, metadata };
}
export function structType(fields: StructField[] = []): StructType {
  return { type: 'struct', fields };
}

export function isStructType(dt: DataType): dt is StructType {
  return dt.type === 'struct';
}
export function fieldNames(schema: StructType): string[] {
  return schema.fields.map((f) => f.name);
}

// ---------- proto ----------

export function dataTypeFromProto(proto: DataTypeProtoOutput): DataType {
  const kind =
    proto.kind ??
    (Object.keys(proto).find((k) => k !== 'kind' && (proto as Record<string, unknown>)[k] != null) as DataTypeProtoOutput['kind']);
  switch (kind) {
    case 'null':
      return NullType;
    case 'binary':
      return BinaryType;
    case 'boolean':
      return BooleanType;
    case 'byte':
      return ByteType;
    case 'short':
      return ShortType;
    case 'integer':
      return IntegerType;
    case 'long':
      return LongType;
    case 'float':
      return FloatType;
    case 'double':
      return DoubleType;
    case 'string':
      return StringType;
    case 'date':
      return DateType;
    case 'timestamp':
      return TimestampType;
    case 'timestamp_ntz':
      return TimestampNTZType;
    case 'calendar_interval':
      return CalendarIntervalType;
    case 'variant':
      return VariantType;
    case 'decimal': {
      const d = proto.decimal!;
      return { type: 'decimal', precision: d.precision ?? 10, scale: d.scale ?? 0 };
    }
    case 'time':
      // An absent precision means the default, TIME(6) (types.proto).
      return { type: 'time', precision: proto.time!.precision ?? 6 };
    case 'geometry':
      return { type: 'geometry', srid: proto.geometry!.srid };
    case 'geography':
      return { type: 'geography', srid: proto.geography!.srid };
    case 'char':
      return { type: 'char', length: proto.char!.length };
    case 'var_char':
      return { type: 'varchar', length: proto.var_char!.length };
    case 'day_time_interval': {
      const d = proto.day_time_interval!;
      return { type: 'day_time_interval', startField: d.start_field ?? 0, endField: d.end_field ?? 3 };
    }
    case 'year_month_interval': {
      const d = proto.year_month_interval!;
      return { type: 'year_month_interval', startField: d.start_field ?? 0, endField: d.end_field ?? 1 };
    }
    case 'array': {
      const a = proto.array!;
      return {
        type: 'array',
        elementType: dataTypeFromProto(required(a.element_type, 'array.element_type')),
        containsNull: a.contains_null,
      };
    }
    case 'map': {
      const m = proto.map!;
      return {
        type: 'map',
        keyType: dataTypeFromProto(required(m.key_type, 'map.key_type')),
        valueType: dataTypeFromProto(required(m.value_type, 'map.value_type')),
        valueContainsNull: m.value_contains_null,
      };
    }
    case 'struct':
      return structType(
        proto.struct!.fields.map((f) => {
          const field: StructField = {
            name: f.name,
            dataType: dataTypeFromProto(required(f.data_type, `struct field ${f.name}`)),
            nullable: f.nullable,
          };
          if (f.metadata) {
            const meta = JSON.parse(f.metadata) as Record<string, unknown>;
            if (Object.keys(meta).length > 0) field.metadata = meta;
          }
          return field;
        }),
      );
    case 'udt': {
      const u = proto.udt!;
      const out: UserDefinedType = { type: 'udt' };
      const sqlType = u.sql_type ? dataTypeFromProto(u.sql_type) : u.jvm_class ? KNOWN_UDT_SQL_TYPES[u.jvm_class]?.() : undefined;
      if (sqlType) out.sqlType = sqlType;
      if (u.jvm_class) out.jvmClass = u.jvm_class;
      if (u.python_class) out.pythonClass = u.python_class;
      return out;
    }
    case 'unparsed':
      return parseTypeString(proto.unparsed!.data_type_string);
    default:
      throw new Error(`unknown Spark Connect DataType: ${JSON.stringify(proto)}`);
  }
}

/** SQL types of the UDTs Spark ML sends (org.apache.spark.ml.linalg.VectorUDT / MatrixUDT). */
const KNOWN_UDT_SQL_TYPES: Record<string, () => DataType> = {
  'org.apache.spark.ml.linalg.VectorUDT': () =>
    structType([
      structField('type', ByteType, false),
      structField('size', IntegerType, true),
      structField('indices', arrayType(IntegerType, false), true),
      structField('values', arrayType(DoubleType, false), true),
    ]),
  'org.apache.spark.ml.linalg.MatrixUDT': () =>
    structType([
      structField('type', ByteType, false),
      structField('numRows', IntegerType, false),
      structField('numCols', IntegerType, false),
      structField('colPtrs', arrayType(IntegerType, false), true),
      structField('rowIndices', arrayType(IntegerType, false), true),
      structField('values', arrayType(DoubleType, false), true),
      structField('isTransposed', BooleanType, false),
    ]),
};
KNOWN_UDT_SQL_TYPES['org.apache.spark.mllib.linalg.VectorUDT'] = KNOWN_UDT_SQL_TYPES['org.apache.spark.ml.linalg.VectorUDT']!;
KNOWN_UDT_SQL_TYPES['org.apache.spark.mllib.linalg.MatrixUDT'] = KNOWN_UDT_SQL_TYPES['org.apache.spark.ml.linalg.MatrixUDT']!;

function required<T>(value: T | null | undefined, what: string): T {
  if (value == null) throw new Error(`malformed Spark Connect DataType: ${what} is missing`);
  return value;
}

export function dataTypeToProto(dt: DataType): DataTypeProto {
  switch (dt.type) {
    case 'null':
      return { null: {} };
    case 'boolean':
      return { boolean: {} };
    case 'byte':
      return { byte: {} };
    case 'short':
      return { short: {} };
    case 'integer':
      return { integer: {} };
    case 'long':
      return { long: {} };
    case 'float':
      return { float: {} };
    case 'double':
      return { double: {} };
    case 'string':
      return { string: {} };
    case 'binary':
      return { binary: {} };
    case 'date':
      return { date: {} };
    case 'timestamp':
      return { timestamp: {} };
    case 'timestamp_ntz':
      return { timestamp_ntz: {} };
    case 'calendar_interval':
      return { calendar_interval: {} };
    case 'variant':
      return { variant: {} };
    case 'decimal':
      return { decimal: { precision: dt.precision, scale: dt.scale } };
    case 'time':
      return { time: { precision: dt.precision } };
    case 'geometry':
      return { geometry: { srid: dt.srid } };
    case 'geography':
      return { geography: { srid: dt.srid } };
    case 'char':
      return { char: { length: dt.length } };
    case 'varchar':
      return { var_char: { length: dt.length } };
    case 'day_time_interval':
      return { day_time_interval: { start_field: dt.startField, end_field: dt.endField } };
    case 'year_month_interval':
      return { year_month_interval: { start_field: dt.startField, end_field: dt.endField } };
    case 'array':
      return { array: { element_type: dataTypeToProto(dt.elementType), contains_null: dt.containsNull } };
    case 'map':
      return {
        map: {
          key_type: dataTypeToProto(dt.keyType),
          value_type: dataTypeToProto(dt.valueType),
          value_contains_null: dt.valueContainsNull,
        },
      };
    case 'struct':
      return {
        struct: {
          fields: dt.fields.map((f) => ({
            name: f.name,
            data_type: dataTypeToProto(f.dataType),
            nullable: f.nullable,
            ...(f.metadata ? { metadata: JSON.stringify(f.metadata) } : {}),
          })),
        },
      };
    case 'udt':
      return {
        udt: {
          type: 'udt',
          ...(dt.sqlType ? { sql_type: dataTypeToProto(dt.sqlType) } : {}),
          ...(dt.jvmClass ? { jvm_class: dt.jvmClass } : {}),
          ...(dt.pythonClass ? { python_class: dt.pythonClass } : {}),
        },
      };
  }
}

// ---------- type strings ----------

const DAY_TIME_FIELDS = ['day', 'hour', 'minute', 'second'];
const YEAR_MONTH_FIELDS = ['year', 'month'];

function intervalString(names: string[], start: number, end: number): string {
  const s = names[start];
  const e = names[end];
  if (s === undefined || e === undefined) throw new RangeError(`bad interval fields ${start}..${end}`);
  return start === end ? `interval ${s}` : `interval ${s} to ${e}`;
}

const SIMPLE_NAMES: Record<AtomicTypeName, string> = {
  null: 'void',
  boolean: 'boolean',
  byte: 'tinyint',
  short: 'smallint',
  integer: 'int',
  long: 'bigint',
  float: 'float',
  double: 'double',
  string: 'string',
  binary: 'binary',
  date: 'date',
  timestamp: 'timestamp',
  timestamp_ntz: 'timestamp_ntz',
  calendar_interval: 'interval',
  variant: 'variant',
};

/** Quote a field name the way Spark's parseableTypeString does when it is not a plain identifier. */
function fieldNameString(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : '`' + name.replace(/`/g, '``') + '`';
}

/**
 * The type as Spark prints it in `dtypes` / `simpleString`: bigint, decimal(38,18), array<int>,
 * struct<a:int,b:string>. Like Spark's, field names are not quoted (use `parseableTypeString` for parseable text).
 */
export function simpleString(dt: DataType): string {
  return typeText(dt, false);
}

/** Like simpleString, with field names quoted where needed (struct<`a b`:int>) so parseTypeString reads it back. */
export function parseableTypeString(dt: DataType): string {
  return typeText(dt, true);
}

function typeText(dt: DataType, quote: boolean): string {
  const name = quote ? fieldNameString : (n: string) => n;
  const simpleString = (t: DataType) => typeText(t, quote);
  switch (dt.type) {
    case 'decimal':
      return `decimal(${dt.precision},${dt.scale})`;
    case 'time':
      return `time(${dt.precision})`;
    case 'geometry':
    case 'geography':
      // Spark's typeName: the SRID, or "any" for the mixed form.
      return `${dt.type}(${dt.srid === MIXED_SRID ? 'any' : dt.srid})`;
    case 'char':
      return `char(${dt.length})`;
    case 'varchar':
      return `varchar(${dt.length})`;
    case 'day_time_interval':
      return intervalString(DAY_TIME_FIELDS, dt.startField, dt.endField);
    case 'year_month_interval':
      return intervalString(YEAR_MONTH_FIELDS, dt.startField, dt.endField);
    case 'array':
      return `array<${simpleString(dt.elementType)}>`;
    case 'map':
      return `map<${simpleString(dt.keyType)},${simpleString(dt.valueType)}>`;
    case 'struct':
      return `struct<${dt.fields.map((f) => `${name(f.name)}:${simpleString(f.dataType)}`).join(',')}>`;
    case 'udt':
      return udtName(dt);
    default:
      return SIMPLE_NAMES[dt.type];
  }
}

function udtName(dt: UserDefinedType): string {
  // Spark's typeName: the class's simple name without a "UDT"/"Type" suffix, lower-cased (VectorUDT -> vector).
  const cls = dt.jvmClass ?? dt.pythonClass;
  if (!cls) return dt.sqlType ? simpleString(dt.sqlType) : 'udt';
  const simple = cls.split('.').pop()!.replace(/\$$/, '').replace(/Type$/, '').replace(/UDT$/, '');
  return simple.toLowerCase();
}

/** A tree like Spark's printSchema(): "root\n |-- a: integer (nullable = true)\n". */
export function treeString(schema: StructType): string {
  const lines = ['root'];
  const typeName = (dt: DataType): string => {
    switch (dt.type) {
      case 'array':
        return 'array';
      case 'map':
        return 'map';
      case 'struct':
        return 'struct';
      case 'integer':
        return 'integer';
      case 'long':
        return 'long';
      case 'short':
        return 'short';
      case 'byte':
        return 'byte';
      case 'null':
        return 'void';
      default:
        return simpleString(dt);
    }
  };
  const walk = (dt: DataType, prefix: string): void => {
    if (dt.type === 'struct') {
      for (const f of dt.fields) {
        lines.push(`${prefix} |-- ${f.name}: ${typeName(f.dataType)} (nullable = ${f.nullable})`);
        walk(f.dataType, prefix + ' |   ');
      }
    } else if (dt.type === 'array') {
      lines.push(`${prefix} |-- element: ${typeName(dt.elementType)} (containsNull = ${dt.containsNull})`);
      walk(dt.elementType, prefix + ' |   ');
    } else if (dt.type === 'map') {
      lines.push(`${prefix} |-- key: ${typeName(dt.keyType)}`);
      walk(dt.keyType, prefix + ' |   ');
      lines.push(`${prefix} |-- value: ${typeName(dt.valueType)} (valueContainsNull = ${dt.valueContainsNull})`);
      walk(dt.valueType, prefix + ' |   ');
    }
  };
  walk(schema, '');
  return lines.join('\n') + '\n';
}

// ---------- Spark JSON schema form (what LocalRelation.schema and DataType.fromJson read) ----------

export type SparkJsonType = string | { [key: string]: unknown };

export function dataTypeToJsonValue(dt: DataType): SparkJsonType {
  switch (dt.type) {
    case 'array':
      return { type: 'array', elementType: dataTypeToJsonValue(dt.elementType), containsNull: dt.containsNull };
    case 'map':
      return {
        type: 'map',
        keyType: dataTypeToJsonValue(dt.keyType),
        valueType: dataTypeToJsonValue(dt.valueType),
        valueContainsNull: dt.valueContainsNull,
      };
    case 'struct':
      return {
        type: 'struct',
        fields: dt.fields.map((f) => ({
          name: f.name,
          type: dataTypeToJsonValue(f.dataType),
          nullable: f.nullable,
          metadata: f.metadata ?? {},
        })),
      };
    case 'udt':
      return {
        type: 'udt',
        ...(dt.jvmClass ? { class: dt.jvmClass } : {}),
        ...(dt.pythonClass ? { pyClass: dt.pythonClass } : {}),
        ...(dt.sqlType ? { sqlType: dataTypeToJsonValue(dt.sqlType) } : {}),
      };
    case 'integer':
      return 'integer';
    case 'long':
      return 'long';
    case 'short':
      return 'short';
    case 'byte':
      return 'byte';
    // Spark's jsonValue names the CRS (as Parquet, Delta and Iceberg store it), not the SRID.
    case 'geometry':
      return `geometry(${spatialCrs(dt.srid)})`;
    case 'geography':
      return `geography(${spatialCrs(dt.srid)}, SPHERICAL)`;
    default:
      return parseableTypeString(dt);
  }
}

/** SRIDs whose CRS Spark names by an OGC id rather than EPSG:<srid> (its srs_registry). */
const OGC_CRS: Record<number, string> = { 4326: 'OGC:CRS84', 4267: 'OGC:CRS27', 4269: 'OGC:CRS83' };

/** The CRS text Spark's JSON form uses for an SRID: SRID:0, OGC:CRS84, EPSG:3857, SRID:ANY. */
export function spatialCrs(srid: number): string {
  if (srid === MIXED_SRID) return 'SRID:ANY';
  if (srid === 0) return 'SRID:0';
  return OGC_CRS[srid] ?? `EPSG:${srid}`;
}

/** The SRID of a CRS text (the inverse of spatialCrs); undefined when it is not one of those forms. */
export function sridOfCrs(crs: string): number | undefined {
  const upper = crs.toUpperCase();
  if (upper === 'SRID:ANY') return MIXED_SRID;
  for (const [srid, name] of Object.entries(OGC_CRS)) if (name === upper) return Number(srid);
  const m = /^(?:SRID|EPSG):(\d+)$/.exec(upper);
  return m ? Number(m[1]) : undefined;
}

/** Spark's JSON schema text (DataType.json), e.g. for LocalRelation.schema. */
export function dataTypeToJson(dt: DataType): string {
  return JSON.stringify(dataTypeToJsonValue(dt));
}

export function dataTypeFromJsonValue(value: unknown): DataType {
  if (typeof value === 'string') return parseTypeString(value);
  if (value === null || typeof value !== 'object') throw new Error(`not a Spark JSON data type: ${JSON.stringify(value)}`);
  const o = value as Record<string, unknown>;
  switch (o.type) {
    case 'array':
      return arrayType(dataTypeFromJsonValue(o.elementType), o.containsNull !== false);
    case 'map':
      return mapType(dataTypeFromJsonValue(o.keyType), dataTypeFromJsonValue(o.valueType), o.valueContainsNull !== false);
    case 'struct':
      return structType(
        (o.fields as Array<Record<string, unknown>>).map((f) => {
          const meta = f.metadata as Record<string, unknown> | undefined;
          return structField(
            String(f.name),
            dataTypeFromJsonValue(f.type),
            f.nullable !== false,
            meta && Object.keys(meta).length > 0 ? meta : undefined,
          );
        }),
      );
    case 'udt': {
      const out: UserDefinedType = { type: 'udt' };
      if (o.sqlType !== undefined) out.sqlType = dataTypeFromJsonValue(o.sqlType);
      if (typeof o.class === 'string') out.jvmClass = o.class;
      if (typeof o.pyClass === 'string') out.pythonClass = o.pyClass;
      return out;
    }
    default:
      throw new Error(`not a Spark JSON data type: ${JSON.stringify(value)}`);
  }
}

export function dataTypeFromJson(json: string): DataType {
  return dataTypeFromJsonValue(JSON.parse(json));
}

// ---------- parsing type strings and DDL ----------

const ATOMIC_ALIASES: Record<string, DataType> = {
  void: NullType,
  null: NullType,
  boolean: BooleanType,
  bool: BooleanType,
  tinyint: ByteType,
  byte: ByteType,
  smallint: ShortType,
  short: ShortType,
  int: IntegerType,
  integer: IntegerType,
  bigint: LongType,
  long: LongType,
  float: FloatType,
  real: FloatType,
  double: DoubleType,
  string: StringType,
  binary: BinaryType,
  date: DateType,
  timestamp: TimestampType,
  timestamp_ltz: TimestampType,
  timestamp_ntz: TimestampNTZType,
  variant: VariantType,
};

type Token = { kind: 'ident' | 'quoted' | 'number' | 'string' | 'punct'; text: string; pos: number };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '`') {
      let j = i + 1;
      let text = '';
      for (;;) {
        if (j >= input.length) throw new SyntaxError(`unterminated \` quote at position ${i} in ${JSON.stringify(input)}`);
        if (input[j] === '`') {
          if (input[j + 1] === '`') {
            text += '`';
            j += 2;
            continue;
          }
          break;
        }
        text += input[j++];
      }
      tokens.push({ kind: 'quoted', text, pos: i });
      i = j + 1;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let text = '';
      while (j < input.length && input[j] !== c) {
        if (input[j] === '\\' && j + 1 < input.length) j++;
        text += input[j++];
      }
      if (j >= input.length) throw new SyntaxError(`unterminated string at position ${i} in ${JSON.stringify(input)}`);
      tokens.push({ kind: 'string', text, pos: i });
      i = j + 1;
      continue;
    }
    // A '-' only starts a number (a negative decimal scale, SRID:-1); it is no punctuation of type strings.
    if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(input[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < input.length && /[0-9]/.test(input[j]!)) j++;
      tokens.push({ kind: 'number', text: input.slice(i, j), pos: i });
      i = j;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < input.length && /[A-Za-z0-9_]/.test(input[j]!)) j++;
      tokens.push({ kind: 'ident', text: input.slice(i, j), pos: i });
      i = j;
      continue;
    }
    if ('<>(),:'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, pos: i });
      i++;
      continue;
    }
    throw new SyntaxError(`unexpected character ${JSON.stringify(c)} at position ${i} in ${JSON.stringify(input)}`);
  }
  return tokens;
}

class TypeParser {
  private i = 0;
  private readonly tokens: Token[];
  constructor(private readonly input: string) {
    this.tokens = tokenize(input);
  }

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }
  private fail(message: string): never {
    const t = this.peek();
    const where = t ? `at position ${t.pos}` : 'at the end';
    throw new SyntaxError(`cannot parse data type ${JSON.stringify(this.input)}: ${message} ${where}`);
  }
  private next(): Token {
    const t = this.tokens[this.i++];
    if (!t) this.fail('unexpected end');
    return t;
  }
  private isWord(word: string): boolean {
    const t = this.peek();
    return !!t && t.kind === 'ident' && t.text.toLowerCase() === word;
  }
  private isPunct(p: string): boolean {
    const t = this.peek();
    return !!t && t.kind === 'punct' && t.text === p;
  }
  private expectPunct(p: string): void {
    if (!this.isPunct(p)) this.fail(`expected '${p}'`);
    this.i++;
  }
  private expectNumber(): number {
    const t = this.next();
    if (t.kind !== 'number') {
      this.i--;
      this.fail('expected a number');
    }
    return Number(t.text);
  }
  /** `(srid)`, `(any)` or Spark's JSON form `(CRS[, algorithm])` (OGC:CRS84, EPSG:3857, SRID:0, SRID:ANY). */
  private spatial(type: SpatialType['type']): SpatialType {
    this.expectPunct('(');
    let srid: number | undefined;
    const t = this.next();
    if (t.kind === 'number' && !this.isPunct(':')) srid = Number(t.text);
    else if (t.kind === 'ident' && t.text.toLowerCase() === 'any') srid = MIXED_SRID;
    else if (t.kind === 'ident' && this.isPunct(':')) {
      this.i++;
      const code = this.next();
      srid = sridOfCrs(`${t.text}:${code.text}`);
      if (srid === undefined) {
        this.i--;
        this.fail(`unknown CRS ${JSON.stringify(`${t.text}:${code.text}`)}`);
      }
    } else {
      this.i--;
      this.fail('expected an SRID, ANY or a CRS');
    }
    if (type === 'geography' && this.isPunct(',')) {
      this.i++;
      const alg = this.next();
      if (alg.kind !== 'ident' || alg.text.toLowerCase() !== 'spherical') {
        this.i--;
        this.fail('expected the edge interpolation algorithm SPHERICAL');
      }
    }
    this.expectPunct(')');
    return spatialType(type, srid === MIXED_SRID ? 'ANY' : srid);
  }
  done(): boolean {
    return this.i >= this.tokens.length;
  }

  dataType(): DataType {
    const t = this.next();
    if (t.kind !== 'ident') {
      this.i--;
      this.fail('expected a type name');
    }
    const word = t.text.toLowerCase();
    switch (word) {
      case 'array': {
        this.expectPunct('<');
        const el = this.dataType();
        this.expectPunct('>');
        return arrayType(el, true);
      }
      case 'map': {
        this.expectPunct('<');
        const k = this.dataType();
        this.expectPunct(',');
        const v = this.dataType();
        this.expectPunct('>');
        return mapType(k, v, true);
      }
      case 'struct': {
        this.expectPunct('<');
        const fields: StructField[] = [];
        if (!this.isPunct('>')) {
          for (;;) {
            fields.push(this.field(true));
            if (this.isPunct(',')) {
              this.i++;
              continue;
            }
            break;
          }
        }
        this.expectPunct('>');
        return structType(fields);
      }
      case 'decimal':
      case 'dec':
      case 'numeric': {
        if (!this.isPunct('(')) return decimalType(10, 0);
        this.i++;
        const p = this.expectNumber();
        let s = 0;
        if (this.isPunct(',')) {
          this.i++;
          s = this.expectNumber();
        }
        this.expectPunct(')');
        return decimalType(p, s);
      }
      case 'time': {
        if (!this.isPunct('(')) return timeType();
        this.i++;
        const p = this.expectNumber();
        this.expectPunct(')');
        return timeType(p);
      }
      case 'geometry':
      case 'geography':
        return this.spatial(word);
      case 'char':
      case 'character':
      case 'varchar': {
        this.expectPunct('(');
        const n = this.expectNumber();
        this.expectPunct(')');
        return word === 'varchar' ? varcharType(n) : charType(n);
      }
      case 'interval': {
        if (!(this.peek()?.kind === 'ident')) return CalendarIntervalType;
        const start = this.next().text.toLowerCase();
        let end = start;
        if (this.isWord('to')) {
          this.i++;
          end = this.next().text.toLowerCase();
        }
        const dt = DAY_TIME_FIELDS.indexOf(start);
        if (dt >= 0) {
          const e = DAY_TIME_FIELDS.indexOf(end);
          if (e < dt) this.fail(`bad interval end field ${end}`);
          return dayTimeIntervalType(dt, e);
        }
        const ym = YEAR_MONTH_FIELDS.indexOf(start);
        const e = YEAR_MONTH_FIELDS.indexOf(end);
        if (ym < 0 || e < ym) this.fail(`bad interval fields ${start} to ${end}`);
        return yearMonthIntervalType(ym, e);
      }
      default: {
        const atomic = ATOMIC_ALIASES[word];
        if (!atomic) {
          this.i--;
          this.fail(`unknown type ${JSON.stringify(t.text)}`);
        }
        return atomic;
      }
    }
  }

  /** `name[:] type [NOT NULL] [COMMENT 'text']` — the colon is how struct<> prints, DDL omits it. */
  field(inStruct: boolean): StructField {
    const t = this.next();
    if (t.kind !== 'ident' && t.kind !== 'quoted') {
      this.i--;
      this.fail('expected a field name');
    }
    if (this.isPunct(':')) this.i++;
    const dataType = this.dataType();
    let nullable = true;
    let comment: string | undefined;
    for (;;) {
      if (this.isWord('not')) {
        this.i++;
        if (!this.isWord('null')) this.fail('expected NULL after NOT');
        this.i++;
        nullable = false;
      } else if (this.isWord('comment')) {
        this.i++;
        const c = this.next();
        if (c.kind !== 'string') {
          this.i--;
          this.fail('expected a quoted comment');
        }
        comment = c.text;
      } else break;
    }
    void inStruct;
    return structField(t.text, dataType, nullable, comment === undefined ? undefined : { comment });
  }

  fieldList(): StructType {
    const fields: StructField[] = [];
    if (this.done()) return structType(fields);
    for (;;) {
      fields.push(this.field(false));
      if (this.isPunct(',')) {
        this.i++;
        continue;
      }
      break;
    }
    if (!this.done()) this.fail('unexpected token');
    return structType(fields);
  }
}

/** Parse a Spark type string: int, bigint, decimal(38,18), array<int>, map<string,double>, struct<a:int,b:string>, ... */
export function parseTypeString(s: string): DataType {
  const parser = new TypeParser(s);
  const dt = parser.dataType();
  if (!parser.done()) throw new SyntaxError(`cannot parse data type ${JSON.stringify(s)}: trailing input`);
  return dt;
}

/**
 * Parse a DDL schema: 'a INT, b STRING NOT NULL COMMENT "x"' or 'struct<a:int,b:string>'. Done locally (no
 * server round trip); anything this parser does not know raises a SyntaxError naming the position.
 */
export function parseDDLSchema(ddl: string): StructType {
  const trimmed = ddl.trim();
  if (/^struct\s*</i.test(trimmed)) {
    const dt = parseTypeString(trimmed);
    if (dt.type !== 'struct') throw new SyntaxError(`not a struct schema: ${ddl}`);
    return dt;
  }
  return new TypeParser(trimmed).fieldList();
}

/** DDL text for a schema, e.g. "a INT,b STRING NOT NULL" — what readers' .schema() accept. */
export function toDDL(schema: StructType): string {
  return schema.fields
    .map((f) => `${'`' + f.name.replace(/`/g, '``') + '`'} ${parseableTypeString(f.dataType)}${f.nullable ? '' : ' NOT NULL'}`)
    .join(',');
}

/** Structural equality of two data types (field names, nullability, nested types; metadata ignored). */
export function sameType(a: DataType, b: DataType): boolean {
  return parseableTypeString(a) === parseableTypeString(b) && nullabilityString(a) === nullabilityString(b);
}

function nullabilityString(dt: DataType): string {
  switch (dt.type) {
    case 'array':
      return `a${dt.containsNull ? 1 : 0}(${nullabilityString(dt.elementType)})`;
    case 'map':
      return `m${dt.valueContainsNull ? 1 : 0}(${nullabilityString(dt.keyType)},${nullabilityString(dt.valueType)})`;
    case 'struct':
      return `s(${dt.fields.map((f) => `${f.nullable ? 1 : 0}${nullabilityString(f.dataType)}`).join(',')})`;
    default:
      return '';
  }
}
