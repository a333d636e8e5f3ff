import { inspect } from 'node:util';
import { expect } from 'chai';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import {
  DateMillisecond,
  Dictionary,
  Field,
  FixedSizeList,
  Float64,
  Int32,
  Int64,
  LargeUtf8,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  Utf8,
  makeData,
  Table,
  tableFromIPC,
  vectorFromArray,
} from 'apache-arrow';
import {
  charVarcharAsString,
  decodeData,
  encodeLocalRelation,
  inferSchema,
  localRelation,
  rowKeys,
  rowsFromBatch,
  rowsFromTable,
  structTypeFromArrowSchema,
  tableFromBatches,
  type Row,
} from '../../lib/connect/arrow';
import { JsonNumber, jsonText, rowToJsonLine, shortestFloat32, toJsonValue } from '../../lib/connect/json';
import { protoDir } from '../../lib/connect/proto';
import {
  arrayType,
  parseableTypeString,
  dataTypeFromJson,
  dataTypeFromProto,
  dataTypeToJson,
  dataTypeToProto,
  mapType,
  parseDDLSchema,
  parseTypeString,
  simpleString,
  structField,
  structType,
  toDDL,
  treeString,
  type DataType,
  type StructType,
} from '../../lib/connect/types';
import type { DataType__Output } from '../../lib/connect/gen/spark/connect/DataType';
import { decodeVariant, VariantFormatError } from '../../lib/connect/variant';
import { Decimal, SparkDate, SparkTimestamp, civilFromDays, daysFromCivil, type SparkValue } from '../../lib/connect/values';
import { Decimal as ArrowDecimal, Struct, TimeMillisecond, makeVector, tableToIPC } from 'apache-arrow';
import { columnsFromTable, lazyRowsFromBatch } from '../../lib/connect/results';
import { literalProto } from '../../lib/connect/plan';
import { geographyType, geometryType, spatialCrs, sridOfCrs, timeType } from '../../lib/connect/types';
import { SparkGeography, SparkGeometry, SparkTime } from '../../lib/connect/values';

/** Every type string Spark prints, in its printed form (so parse -> print is the identity). */
const TYPE_STRINGS = [
  'void',
  'boolean',
  'tinyint',
  'smallint',
  'int',
  'bigint',
  'float',
  'double',
  'string',
  'binary',
  'date',
  'timestamp',
  'timestamp_ntz',
  'variant',
  'interval',
  'decimal(10,0)',
  'decimal(38,18)',
  'char(3)',
  'varchar(10)',
  'interval day',
  'interval day to second',
  'interval hour to minute',
  'interval year',
  'interval year to month',
  'array<int>',
  'array<array<string>>',
  'map<string,bigint>',
  'map<int,array<map<string,double>>>',
  'struct<a:int,b:string>',
  'struct<a:struct<b:array<decimal(5,2)>>,c_d:date>',
  'struct<>',
];

/** Decode a DataType through the real .proto (keepCase, as lib/connect/proto.ts loads it). */
function protoRoundTrip(dt: DataType): DataType {
  const root = new protobuf.Root();
  root.loadSync(path.join(protoDir(), 'spark', 'connect', 'types.proto'), { keepCase: true });
  const T = root.lookupType('spark.connect.DataType');
  const bytes = T.encode(T.fromObject(dataTypeToProto(dt))).finish();
  const decoded = T.toObject(T.decode(bytes), {
    longs: String,
    enums: String,
    bytes: Buffer,
    oneofs: true,
    defaults: true,
  }) as DataType__Output;
  return dataTypeFromProto(decoded);
}

const EVERY_TYPE: StructType = parseDDLSchema(
  [
    'nul VOID',
    'b BOOLEAN',
    'y TINYINT',
    's SMALLINT',
    'i INT',
    'l BIGINT',
    'f FLOAT',
    'd DOUBLE',
    'dec DECIMAL(38,18)',
    'dec0 DECIMAL(10,0)',
    'str STRING',
    'bin BINARY',
    'dt DATE',
    'ts TIMESTAMP',
    'ntz TIMESTAMP_NTZ',
    'dti INTERVAL DAY TO SECOND',
    'ymi INTERVAL YEAR TO MONTH',
    'ci INTERVAL',
    'arr ARRAY<INT>',
    'nested ARRAY<ARRAY<BIGINT>>',
    'm MAP<STRING, DECIMAL(20,2)>',
    'mk MAP<INT, ARRAY<DATE>>',
    'st STRUCT<a: INT, b: ARRAY<STRING>, c: STRUCT<ts: TIMESTAMP, x: DOUBLE>>',
    'req BIGINT NOT NULL',
  ].join(', '),
);

function fullRow(): Record<string, unknown> {
  return {
    nul: null,
    b: true,
    y: -128,
    s: 32767,
    i: -2147483648,
    l: 2n ** 63n - 1n,
    f: Math.fround(1.1),
    d: NaN,
    dec: new Decimal(-(10n ** 38n - 1n), 18),
    dec0: new Decimal(9999999999n, 0),
    str: 'héllo ✓ \u0000 end',
    bin: new Uint8Array([0, 1, 254, 255]),
    dt: SparkDate.fromString('1950-01-02'),
    ts: SparkTimestamp.fromString('1969-12-31T23:59:59.999999Z'),
    ntz: SparkTimestamp.fromString('2024-02-29 23:59:59.123456', true),
    dti: -90061000001n,
    ymi: -14,
    ci: { months: 13, days: -2, microseconds: 3_000_001n },
    arr: [1, null, 3],
    nested: [[9007199254740993n], [], null, [-(2n ** 63n)]],
    m: new Map<SparkValue, SparkValue>([
      ['a', new Decimal(12345n, 2)],
      ['n', null],
    ]),
    mk: new Map<SparkValue, SparkValue>([[1, [new SparkDate(-719162), new SparkDate(2932896)]]]),
    st: { a: 7, b: ['x', null], c: { ts: new SparkTimestamp(-62135596800000000n), x: -Infinity } },
    req: -(2n ** 63n),
  };
}

function nullRow(): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const f of EVERY_TYPE.fields) row[f.name] = f.nullable ? null : 0n;
  return row;
}

function roundTrip(rows: Array<Record<string, unknown>> | unknown[][], schema: StructType): Row[] {
  const table = tableFromBatches([encodeLocalRelation(rows, schema)]);
  return rowsFromTable(table, schema);
}

describe('connect types and exact values', () => {
  describe('type strings', () => {
    for (const s of TYPE_STRINGS) {
      it(`parses and prints ${s}`, () => {
        const dt = parseTypeString(s);
        expect(simpleString(dt)).to.equal(s);
        expect(protoRoundTrip(dt)).to.deep.equal(dt);
        expect(dataTypeFromJson(dataTypeToJson(dt))).to.deep.equal(dt);
      });
    }

    it("prints field names unquoted like Spark's simpleString, quoted in parseableTypeString (what parseTypeString reads back)", () => {
      const dt = parseTypeString('struct<`c d`:date,`x``y`:int,ok:int>');
      expect(simpleString(dt)).to.equal('struct<c d:date,x`y:int,ok:int>');
      expect(parseableTypeString(dt)).to.equal('struct<`c d`:date,`x``y`:int,ok:int>');
      expect(parseTypeString(parseableTypeString(dt))).to.deep.equal(dt);
    });

    it('reads aliases and spacing as Spark does', () => {
      expect(simpleString(parseTypeString('INTEGER'))).to.equal('int');
      expect(simpleString(parseTypeString('long'))).to.equal('bigint');
      expect(simpleString(parseTypeString('short'))).to.equal('smallint');
      expect(simpleString(parseTypeString('Decimal( 5 , 2 )'))).to.equal('decimal(5,2)');
      expect(simpleString(parseTypeString('decimal'))).to.equal('decimal(10,0)');
      expect(simpleString(parseTypeString('numeric(12)'))).to.equal('decimal(12,0)');
      expect(simpleString(parseTypeString('timestamp_ltz'))).to.equal('timestamp');
      expect(simpleString(parseTypeString('STRUCT<a INT, b: MAP<STRING, ARRAY<BIGINT>>>'))).to.equal(
        'struct<a:int,b:map<string,array<bigint>>>',
      );
    });

    it('parses DDL schemas with NOT NULL, COMMENT and quoted names', () => {
      const schema = parseDDLSchema("id BIGINT NOT NULL, `first name` STRING COMMENT 'given name', tags ARRAY<STRING>");
      expect(schema).to.deep.equal(
        structType([
          structField('id', { type: 'long' }, false),
          structField('first name', { type: 'string' }, true, { comment: 'given name' }),
          structField('tags', arrayType({ type: 'string' }), true),
        ]),
      );
      expect(parseDDLSchema('struct<a:int,b:string>')).to.deep.equal(parseDDLSchema('a int, b string'));
      expect(parseDDLSchema('')).to.deep.equal(structType([]));
      expect(toDDL(schema)).to.equal('`id` bigint NOT NULL,`first name` string,`tags` array<string>');
    });

    it('names the position of a bad type string', () => {
      expect(() => parseTypeString('array<int')).to.throw(SyntaxError, /expected '>' at the end/);
      expect(() => parseTypeString('strin')).to.throw(SyntaxError, /unknown type "strin"/);
      expect(() => parseDDLSchema('a INT b STRING')).to.throw(SyntaxError, /position 6/);
      expect(() => parseTypeString('decimal(39,2)')).to.throw(RangeError, /precision/);
      expect(() => parseTypeString('decimal(5,6)')).to.throw(RangeError, /scale/);
    });

    it('prints a schema tree like printSchema()', () => {
      const tree = treeString(parseDDLSchema('a INT NOT NULL, b ARRAY<STRUCT<c: BIGINT>>, m MAP<STRING,DOUBLE>'));
      expect(tree).to.equal(
        [
          'root',
          ' |-- a: integer (nullable = false)',
          ' |-- b: array (nullable = true)',
          ' |    |-- element: struct (containsNull = true)',
          ' |    |    |-- c: long (nullable = true)',
          ' |-- m: map (nullable = true)',
          ' |    |-- key: string',
          ' |    |-- value: double (valueContainsNull = true)',
          '',
        ].join('\n'),
      );
    });

    it('converts a whole schema to and from the proto and Spark JSON', () => {
      expect(protoRoundTrip(EVERY_TYPE)).to.deep.equal(EVERY_TYPE);
      expect(dataTypeFromJson(dataTypeToJson(EVERY_TYPE))).to.deep.equal(EVERY_TYPE);
      expect(JSON.parse(dataTypeToJson(structType([structField('x', { type: 'long' }, false)])))).to.deep.equal({
        type: 'struct',
        fields: [{ name: 'x', type: 'long', nullable: false, metadata: {} }],
      });
    });

    it('fills in the SQL type of ML UDTs the server names by class only', () => {
      const fromServer = {
        udt: { type: 'udt', jvm_class: 'org.apache.spark.ml.linalg.VectorUDT', python_class: 'pyspark.ml.linalg.VectorUDT' },
        kind: 'udt',
      } as unknown as DataType__Output;
      const dt = dataTypeFromProto(fromServer);
      expect(simpleString(dt)).to.equal('vector');
      expect(dt.type === 'udt' && dt.sqlType && simpleString(dt.sqlType)).to.equal(
        'struct<type:tinyint,size:int,indices:array<int>,values:array<double>>',
      );
      const unknown = dataTypeFromProto({
        udt: { type: 'udt', jvm_class: 'com.example.PointUDT' },
        kind: 'udt',
      } as unknown as DataType__Output);
      expect(unknown).to.deep.equal({ type: 'udt', jvmClass: 'com.example.PointUDT' });
      expect(simpleString(unknown)).to.equal('point');
      expect(() => encodeLocalRelation([{ p: null }], structType([structField('p', unknown)]))).to.throw(/SQL type is unknown/);
    });

    it('names UDTs as Spark does (VectorUDT -> vector) and decodes their SQL type', () => {
      const udt: DataType = {
        type: 'udt',
        sqlType: parseTypeString('struct<type:tinyint,size:int,indices:array<int>,values:array<double>>'),
        jvmClass: 'org.apache.spark.ml.linalg.VectorUDT',
      };
      expect(simpleString(udt)).to.equal('vector');
      expect(protoRoundTrip(udt)).to.deep.equal(udt);
    });
  });

  describe('Decimal', () => {
    it('prints every digit at its scale', () => {
      expect(new Decimal(-5n, 3).toString()).to.equal('-0.005');
      expect(new Decimal(0n, 2).toString()).to.equal('0.00');
      expect(new Decimal(123n, 0).toString()).to.equal('123');
      expect(new Decimal(10n ** 38n - 1n, 18).toString()).to.equal('99999999999999999999.999999999999999999');
      expect(new Decimal(1n, 18).toString()).to.equal('0.000000000000000001');
    });

    it('parses exactly and never rounds silently', () => {
      expect(Decimal.fromString('-12.3400').unscaled).to.equal(-123400n);
      expect(Decimal.fromString('-12.3400').scale).to.equal(4);
      expect(Decimal.fromString('1E+3').toString()).to.equal('1000');
      expect(Decimal.fromString('1.5e-3').toString()).to.equal('0.0015');
      expect(Decimal.fromString('.5', 3).toString()).to.equal('0.500');
      expect(Decimal.fromNumber(0.1, 18).toString()).to.equal('0.100000000000000000');
      expect(() => Decimal.fromString('1.234', 2)).to.throw(RangeError, /rounded/);
      expect(() => Decimal.fromString('abc')).to.throw(SyntaxError);
      expect(Decimal.fromString('1.50').equals(Decimal.fromString('1.5'))).to.equal(true);
    });
  });

  describe('SparkDate and SparkTimestamp', () => {
    it('formats dates before 1970, across the Gregorian switch and at the extremes', () => {
      expect(new SparkDate(-1).toString()).to.equal('1969-12-31');
      expect(SparkDate.fromString('1950-01-02').days).to.equal(-7304);
      expect(new SparkDate(-719162).toString()).to.equal('0001-01-01');
      expect(SparkDate.fromString('1582-10-04').toString()).to.equal('1582-10-04');
      expect(SparkDate.fromString('1582-10-10').days - SparkDate.fromString('1582-10-04').days).to.equal(6);
      expect(new SparkDate(2932896).toString()).to.equal('9999-12-31');
      expect(new SparkDate(2932897).toString()).to.equal('+10000-01-01');
      expect(SparkDate.fromString('2024-02-29').toString()).to.equal('2024-02-29');
      expect(() => SparkDate.fromString('2023-02-29')).to.throw(RangeError);
      expect(() => SparkDate.fromString('29/02/2024')).to.throw(SyntaxError);
    });

    it('agrees with the JS calendar on days sampled across 1600..2400', () => {
      for (let days = -135000; days < 157000; days += 97) {
        const d = new Date(days * 86_400_000);
        expect(civilFromDays(days)).to.deep.equal([d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()]);
        expect(daysFromCivil(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate())).to.equal(days);
      }
    });

    it('formats timestamps with six fractional digits, Z for TIMESTAMP and none for NTZ', () => {
      expect(new SparkTimestamp(-1n).toISOString()).to.equal('1969-12-31T23:59:59.999999Z');
      expect(new SparkTimestamp(1709251199123456n).toISOString()).to.equal('2024-02-29T23:59:59.123456Z');
      expect(new SparkTimestamp(0n, true).toISOString()).to.equal('1970-01-01T00:00:00.000000');
      expect(new SparkTimestamp(-62135596800000000n).toISOString()).to.equal('0001-01-01T00:00:00.000000Z');
    });

    it('parses ISO text with offsets and microseconds', () => {
      expect(SparkTimestamp.fromString('2024-02-29T23:59:59.123456Z').micros).to.equal(1709251199123456n);
      expect(SparkTimestamp.fromString('2024-03-01T01:59:59.123456+02:00').micros).to.equal(1709251199123456n);
      expect(SparkTimestamp.fromString('1969-12-31 23:59:59.999999').micros).to.equal(-1n);
      expect(SparkTimestamp.fromString('2020-01-01').micros).to.equal(1577836800000000n);
      expect(SparkTimestamp.fromString('2020-01-01 10:00', true).toISOString()).to.equal('2020-01-01T10:00:00.000000');
      expect(() => SparkTimestamp.fromString('2020-01-01T00:00:00Z', true)).to.throw(SyntaxError, /no time zone/);
      expect(() => SparkTimestamp.fromString('2020-01-01T00:00:00.0000001Z')).to.throw(RangeError, /sub-microsecond/);
      expect(new SparkTimestamp(-1n).toDate().getTime()).to.equal(-1);
      expect(SparkTimestamp.fromDate(new Date(Date.UTC(1960, 0, 1))).toISOString()).to.equal('1960-01-01T00:00:00.000000Z');
    });
  });

  describe('Arrow encode -> decode without a server', () => {
    it('round-trips every type, nulls, NaN and ±Infinity exactly', () => {
      const rows = [fullRow(), nullRow(), { ...nullRow(), d: Infinity, f: -Infinity, req: 0n }];
      const out = roundTrip(rows, EVERY_TYPE);
      const expected = rows.map((r) => ({ ...r }));
      (expected[0] as Record<string, unknown>).st = {
        a: 7,
        b: ['x', null],
        c: { ts: new SparkTimestamp(-62135596800000000n), x: -Infinity },
      };
      expect(out).to.have.length(3);
      expect(out[0]).to.deep.equal(expected[0]);
      expect(out[1]).to.deep.equal(expected[1]);
      expect(out[2]).to.deep.equal(expected[2]);
      expect(Number.isNaN(out[0]!.d)).to.equal(true);
      expect(typeof out[0]!.l).to.equal('bigint');
      expect(out[0]!.bin).to.be.instanceOf(Uint8Array);
    });

    it('writes the Arrow types Spark reads back as each Spark type', () => {
      const table = tableFromIPC(encodeLocalRelation([], EVERY_TYPE));
      const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
      expect(types).to.include({
        l: 'Int64',
        dec: 'Decimal[38e+18]',
        dt: 'Date32<DAY>',
        ts: 'Timestamp<MICROSECOND, UTC>',
        ntz: 'Timestamp<MICROSECOND>',
        bin: 'Binary',
        dti: 'Duration<MICROSECOND>',
        ymi: 'Interval<YEAR_MONTH>',
      });
      expect(table.schema.fields.find((f) => f.name === 'req')!.nullable).to.equal(false);
      expect(structTypeFromArrowSchema(table.schema).fields.map((f) => simpleString(f.dataType))).to.deep.equal(
        EVERY_TYPE.fields.map((f) => simpleString(f.dataType)),
      );
    });

    it('accepts positional rows, JS Dates, ISO strings, digit strings and plain objects for maps', () => {
      const schema = parseDDLSchema('l BIGINT, dt DATE, ts TIMESTAMP, dec DECIMAL(5,2), m MAP<STRING,INT>, st STRUCT<a:INT,b:STRING>');
      const out = roundTrip(
        [['9007199254740993', new Date(Date.UTC(1900, 1, 28)), '1900-01-01T00:00:00.5+01:00', 1.5, { k: 1 }, [1, 'x']]],
        schema,
      );
      expect(out).to.deep.equal([
        {
          l: 9007199254740993n,
          dt: SparkDate.fromString('1900-02-28'),
          ts: SparkTimestamp.fromString('1899-12-31T23:00:00.500000Z'),
          dec: Decimal.fromString('1.50'),
          m: new Map([['k', 1]]),
          st: { a: 1, b: 'x' },
        },
      ]);
    });

    it('checks char/varchar lengths, pads char, and sends them to Spark as string', () => {
      const schema = parseDDLSchema('c CHAR(3), v VARCHAR(2)');
      expect(roundTrip([{ c: 'a', v: 'ab' }], schema)).to.deep.equal([{ c: 'a  ', v: 'ab' }]);
      expect(() => encodeLocalRelation([{ c: 'abcd', v: null }], schema)).to.throw(TypeError, /c\[0\].*longer than char\(3\)/);
      expect(JSON.parse(localRelation([], schema).schema).fields.map((f: { type: string }) => f.type)).to.deep.equal(['string', 'string']);
      expect(simpleString(charVarcharAsString(parseTypeString('array<char(2)>')))).to.equal('array<string>');
    });

    it('rejects values that would lose information, naming column and row', () => {
      const schema = parseDDLSchema('l BIGINT NOT NULL, i INT, dec DECIMAL(5,2), s STRING');
      expect(() => encodeLocalRelation([{ l: 2 ** 53 + 2 }], schema)).to.throw(TypeError, /l\[0\].*not an exact integer/);
      expect(() => encodeLocalRelation([{ l: 1n }, { l: null }], schema)).to.throw(TypeError, /l\[1\].*non-nullable/);
      expect(() => encodeLocalRelation([{ l: 1n, i: 2 ** 31 }], schema)).to.throw(TypeError, /i\[0\].*out of range/);
      expect(() => encodeLocalRelation([{ l: 1n, dec: '1.234' }], schema)).to.throw(TypeError, /dec\[0\].*rounded/);
      expect(() => encodeLocalRelation([{ l: 1n, dec: '1234.5' }], schema)).to.throw(TypeError, /does not fit decimal\(5,2\)/);
      expect(() => encodeLocalRelation([{ l: 1n, s: 5 }], schema)).to.throw(TypeError, /s\[0\].*expected a string/);
      expect(() => encodeLocalRelation([{ l: 1n, x: 5 }], schema)).to.throw(TypeError, /row 0.*"x", not in the schema/);
      expect(() => encodeLocalRelation([[1n, 2]], schema)).to.throw(TypeError, /positional row needs 4 values/);
    });

    it('decodes sliced batches (offsets into bitmaps and buffers) and empty results', () => {
      const schema = parseDDLSchema('i INT, s STRING, b BOOLEAN, a ARRAY<BIGINT>');
      const rows = Array.from({ length: 20 }, (_, k) => ({
        i: k % 3 === 0 ? null : k,
        s: k % 4 === 0 ? null : `s${k}`,
        b: k % 5 === 0 ? null : k % 2 === 0,
        a: k % 6 === 0 ? null : [BigInt(k), null],
      }));
      const table = tableFromBatches([encodeLocalRelation(rows, schema)]);
      const sliced = table.slice(5, 17);
      expect(rowsFromTable(sliced, schema)).to.deep.equal(rows.slice(5, 17));
      const empty = tableFromBatches([], schema);
      expect(empty.numRows).to.equal(0);
      expect(empty.schema.fields.map((f) => f.name)).to.deep.equal(['i', 's', 'b', 'a']);
      expect(rowsFromTable(empty)).to.deep.equal([]);
    });

    it('joins several IPC streams into one Table and streams rows batch by batch', () => {
      const schema = parseDDLSchema('x BIGINT');
      const a = encodeLocalRelation([{ x: 1n }, { x: 2n }], schema);
      const b = encodeLocalRelation([{ x: 3n }], schema);
      const table = tableFromBatches([a, b]);
      expect(table.numRows).to.equal(3);
      expect(rowsFromTable(table)).to.deep.equal([{ x: 1n }, { x: 2n }, { x: 3n }]);
      expect(rowsFromBatch(b)).to.deep.equal([{ x: 3n }]);
    });

    it('decodes Arrow layouts Spark does not send but other producers do (date64, s/ms/ns timestamps, large utf8, fixed lists, dictionaries)', () => {
      const ms = makeData({
        type: new DateMillisecond(),
        length: 2,
        nullCount: 0,
        data: new BigInt64Array([-86_400_000n, 86_400_000n * 365n]),
      });
      expect(decodeData(ms)).to.deep.equal([new SparkDate(-1), new SparkDate(365)]);
      const sec = makeData({ type: new TimestampSecond('UTC'), length: 1, nullCount: 0, data: new BigInt64Array([-1n]) });
      expect(decodeData(sec)).to.deep.equal([new SparkTimestamp(-1_000_000n)]);
      const milli = makeData({ type: new TimestampMillisecond(null), length: 1, nullCount: 0, data: new BigInt64Array([1500n]) });
      expect(decodeData(milli)).to.deep.equal([new SparkTimestamp(1_500_000n, true)]);
      const nano = makeData({ type: new TimestampNanosecond('UTC'), length: 2, nullCount: 0, data: new BigInt64Array([-1n, 1_999n]) });
      expect(decodeData(nano)).to.deep.equal([new SparkTimestamp(-1n), new SparkTimestamp(1n)]);
      const large = vectorFromArray(['a', null, 'ünï'], new LargeUtf8());
      expect(decodeData(large.data[0]!)).to.deep.equal(['a', null, 'ünï']);
      const child = makeData({ type: new Int32(), length: 4, nullCount: 0, data: new Int32Array([1, 2, 3, 4]) });
      const fixed = makeData({ type: new FixedSizeList(2, new Field('x', new Int32())), length: 2, nullCount: 0, child });
      expect(decodeData(fixed)).to.deep.equal([
        [1, 2],
        [3, 4],
      ]);
      const dict = vectorFromArray(['x', 'y', 'x'], new Dictionary(new Utf8(), new Int32()));
      expect(decodeData(dict.data[0]!)).to.deep.equal(['x', 'y', 'x']);
      const table = new Table({ l: vectorFromArray([2n ** 63n - 1n, null], new Int64()), d: vectorFromArray([NaN, -0], new Float64()) });
      expect(rowsFromTable(table)).to.deep.equal([
        { l: 2n ** 63n - 1n, d: NaN },
        { l: null, d: -0 },
      ]);
    });

    it('keeps a column named __proto__ as an own property (rows, structs, JSON)', () => {
      const schema = parseDDLSchema('`__proto__` INT, s STRUCT<`__proto__`: STRING>');
      const rows = roundTrip([[1, { ['__proto__']: 'x' }]], schema);
      expect(Object.getPrototypeOf(rows[0])).to.equal(Object.prototype);
      expect(Object.keys(rows[0]!)).to.deep.equal(['__proto__', 's']);
      expect(Object.getOwnPropertyDescriptor(rows[0], '__proto__')!.value).to.equal(1);
      expect(rowToJsonLine(rows[0]!)).to.equal('{"__proto__":1,"s":{"__proto__":"x"}}');
    });

    it('keeps duplicate column names apart', () => {
      expect(rowKeys(['a', 'a', 'b', 'a', 'a_2'])).to.deep.equal(['a', 'a_3', 'b', 'a_4', 'a_2']);
    });

    it('infers a schema as PySpark does', () => {
      const schema = inferSchema([
        { id: 1, x: 1, name: 'a', when: new Date(0), tags: ['t'], props: { k: 1n } },
        { id: 2, x: 2.5, name: null, when: null, tags: [], props: null },
      ]);
      expect(simpleString(schema)).to.equal(
        'struct<id:bigint,x:double,name:string,when:timestamp,tags:array<string>,props:struct<k:bigint>>',
      );
      expect(() => inferSchema([{ a: 1 }, { a: 'x' }])).to.throw(TypeError, /different types/);
    });
  });

  describe('VARIANT', () => {
    // parse_json('{"a":1,"b":[true,null,"x"],"c":1.5}') as Spark 4.0 encodes it
    const value = new Uint8Array([2, 3, 0, 1, 2, 0, 2, 12, 18, 12, 1, 3, 3, 0, 1, 2, 4, 4, 0, 5, 120, 32, 1, 15, 0, 0, 0]);
    const metadata = new Uint8Array([1, 3, 0, 1, 2, 3, 97, 98, 99]);

    it("decodes Spark's variant binary encoding into exact values", () => {
      expect(decodeVariant(value, metadata)).to.deep.equal({ a: 1, b: [true, null, 'x'], c: new Decimal(15n, 1) });
      expect(decodeVariant(new Uint8Array([12, 1]), new Uint8Array([1, 0, 0]))).to.equal(1);
      expect(rowToJsonLine({ v: decodeVariant(value, metadata) })).to.equal('{"v":{"a":1,"b":[true,null,"x"],"c":1.5}}');
    });

    it('rejects truncated or unknown encodings with a clear error', () => {
      expect(() => decodeVariant(value.slice(0, 10), metadata)).to.throw(VariantFormatError, /past the end/);
      expect(() => decodeVariant(new Uint8Array([0xfc]), new Uint8Array([1, 0, 0]))).to.throw(
        VariantFormatError,
        /unknown primitive type id 63/,
      );
      expect(() => decodeVariant(new Uint8Array([12, 1]), new Uint8Array([2, 0, 0]))).to.throw(VariantFormatError, /metadata version 2/);
    });
  });

  describe('--json contract (issue 4)', () => {
    it('prints 64-bit integers and decimals with exact digits', () => {
      expect(
        rowToJsonLine({ l: 9007199254740993n, neg: -(2n ** 63n), d: Decimal.fromString('-12345678901234567890.123456789012345678') }),
      ).to.equal('{"l":9007199254740993,"neg":-9223372036854775808,"d":-12345678901234567890.123456789012345678}');
      expect(rowToJsonLine({ d: new Decimal(5n, 3), z: new Decimal(0n, 2) })).to.equal('{"d":0.005,"z":0.00}');
    });

    it('prints timestamps, dates, binary and special doubles as the contract says', () => {
      const line = rowToJsonLine({
        ts: new SparkTimestamp(1709251199123456n),
        old: new SparkTimestamp(-1n),
        ntz: new SparkTimestamp(1709251199123456n, true),
        dt: new SparkDate(-7304),
        bin: new Uint8Array([0, 255, 16]),
        nan: NaN,
        inf: Infinity,
        ninf: -Infinity,
        n: null,
        x: 1.5,
        s: 'q"\n',
        t: true,
      });
      expect(line).to.equal(
        '{"ts":"2024-02-29T23:59:59.123456Z","old":"1969-12-31T23:59:59.999999Z","ntz":"2024-02-29T23:59:59.123456","dt":"1950-01-02",' +
          '"bin":"AP8Q","nan":"NaN","inf":"Infinity","ninf":"-Infinity","n":null,"x":1.5,"s":"q\\"\\n","t":true}',
      );
    });

    it('prints arrays as arrays, structs and maps as objects, recursively', () => {
      const row = {
        a: [1n, null, new Decimal(15n, 1)] as SparkValue[],
        m: new Map<SparkValue, SparkValue>([
          [1, [NaN]],
          [new SparkDate(0), { x: 2n }],
        ]),
        st: { inner: { ts: new SparkTimestamp(0n) }, list: [] as SparkValue[] },
      };
      expect(rowToJsonLine(row)).to.equal(
        '{"a":[1,null,1.5],"m":{"1":["NaN"],"1970-01-01":{"x":2}},"st":{"inner":{"ts":"1970-01-01T00:00:00.000000Z"},"list":[]}}',
      );
      const parsed = JSON.parse(rowToJsonLine(row)) as Record<string, unknown>;
      expect(parsed.st).to.deep.equal({ inner: { ts: '1970-01-01T00:00:00.000000Z' }, list: [] });
    });

    it('prints floats as their shortest 32-bit text when the schema says float', () => {
      const schema = parseDDLSchema('f FLOAT, d DOUBLE, fa ARRAY<FLOAT>');
      const f = Math.fround(1.1);
      expect(rowToJsonLine({ f, d: f, fa: [f, NaN] }, schema)).to.equal(`{"f":1.1,"d":${f},"fa":[1.1,"NaN"]}`);
      expect(shortestFloat32(Math.fround(3.4028234663852886e38))).to.equal(3.4028235e38);
    });

    it('exposes JSON values with exact number text', () => {
      const v = toJsonValue(2n ** 64n);
      expect(v).to.be.instanceOf(JsonNumber);
      expect(jsonText(v)).to.equal('18446744073709551616');
      expect(jsonText(toJsonValue(new Decimal(-100n, 2)))).to.equal('-1.00');
      expect(jsonText(toJsonValue(-0))).to.equal('-0.0');
      expect(Object.is(JSON.parse(jsonText(toJsonValue(-0))), -0)).to.equal(true);
      expect(jsonText(toJsonValue(new Map<SparkValue, SparkValue>(), mapType({ type: 'string' }, { type: 'float' })))).to.equal('{}');
    });
  });
});

describe('SparkTimestamp and Decimal keep 64-bit values as two 32-bit halves @unit', () => {
  const edges = [
    0n,
    1n,
    -1n,
    2n ** 31n,
    -(2n ** 31n),
    2n ** 32n - 1n,
    2n ** 32n,
    -(2n ** 32n),
    1_704_067_200_123_456n,
    -62_135_596_800_000_000n,
    2n ** 63n - 1n,
    -(2n ** 63n),
  ];

  it("micros and unscaled read back exactly, and the decoder's halves give equal (deep-equal) values", () => {
    for (const v of edges) {
      const t = new SparkTimestamp(v, v < 0n);
      expect(t.micros, String(v)).to.equal(v);
      const words = new Int32Array(new BigInt64Array([v]).buffer);
      const fromHalves = SparkTimestamp.fromHalves(words[0]!, words[1]!, v < 0n);
      expect(fromHalves).to.deep.equal(t);
      expect(fromHalves.equals(t)).to.equal(true);
      expect(fromHalves.toISOString()).to.equal(t.toISOString());
      const d = new Decimal(v, 3);
      expect(d.unscaled, String(v)).to.equal(v);
      expect(Decimal.fromHalves(words[0]!, words[1]!, 3)).to.deep.equal(d);
    }
    expect(new SparkTimestamp(1n)).to.not.deep.equal(new SparkTimestamp(2n));
    expect(new Decimal(1n, 2)).to.not.deep.equal(new Decimal(2n ** 40n + 1n, 2));
    expect(() => new SparkTimestamp(2n ** 63n)).to.throw(RangeError);
  });

  it('decimals beyond 64 bits keep a bigint; printing shows the value', () => {
    const big = 10n ** 37n + 7n;
    const d = new Decimal(-big, 5);
    expect(d.unscaled).to.equal(-big);
    expect(d.toString()).to.equal('-' + (big / 100000n).toString() + '.00007');
    expect(d).to.deep.equal(Decimal.fromString(d.toString()));
    expect(inspect(d)).to.equal(`Decimal(${d.toString()})`);
    expect(inspect(new SparkTimestamp(0n, true))).to.equal('SparkTimestamp(1970-01-01T00:00:00.000000)');
  });
});

describe('TIME, GEOMETRY, GEOGRAPHY and negative-scale decimals (Spark 4.1+) @unit', () => {
  const POINT = new Uint8Array(Buffer.from('0101000000000000000000F03F0000000000000040', 'hex'));

  /** Every decoding path of a Table: rows, lazy rows, columns; they must agree. */
  function everyPath(table: Table, schema?: StructType): { rows: Row[]; lazy: Row[]; columns: unknown[][] } {
    const rows = rowsFromTable(table, schema);
    const lazy = table.batches.flatMap((b) => lazyRowsFromBatch(b, schema).map((r) => r.toObject()));
    const cols = columnsFromTable(table, schema);
    return { rows, lazy, columns: cols.columns.map((c) => Array.from(c.values as ArrayLike<unknown>, (v, i) => (c.valid[i] ? v : null))) };
  }

  describe('types', () => {
    it('proto round trips through the real types.proto; an absent TIME precision is TIME(6)', () => {
      for (const dt of [
        timeType(0),
        timeType(3),
        timeType(),
        geometryType(0),
        geometryType(3857),
        geometryType('ANY'),
        geographyType(),
        geographyType('ANY'),
        { type: 'decimal', precision: 2, scale: -9 } as DataType,
        structType([structField('t', timeType(0)), structField('g', arrayType(geometryType(4326)))]),
      ])
        expect(protoRoundTrip(dt), simpleString(dt)).to.deep.equal(dt);
      expect(dataTypeFromProto({ time: { type_variation_reference: 0 }, kind: 'time' } as DataType__Output)).to.deep.equal(timeType(6));
      expect(dataTypeToProto(geometryType('ANY'))).to.deep.equal({ geometry: { srid: -1 } });
    });

    it("type strings, DDL, JSON and the schema tree in Spark's forms", () => {
      const cases: Array<[string, DataType]> = [
        ['time(0)', timeType(0)],
        ['time(6)', timeType(6)],
        ['geometry(0)', geometryType(0)],
        ['geometry(3857)', geometryType(3857)],
        ['geometry(any)', geometryType('ANY')],
        ['geography(4326)', geographyType(4326)],
        ['geography(any)', geographyType('ANY')],
        ['decimal(2,-9)', { type: 'decimal', precision: 2, scale: -9 }],
      ];
      for (const [text, dt] of cases) {
        expect(parseTypeString(text), text).to.deep.equal(dt);
        expect(simpleString(dt)).to.equal(text);
      }
      expect(parseTypeString('TIME')).to.deep.equal(timeType(6));
      expect(parseTypeString('GEOMETRY(ANY)')).to.deep.equal(geometryType('ANY'));
      // Spark's JSON names the CRS (DataType.json), and reads SRID forms too.
      expect(dataTypeToJson(geometryType(0))).to.equal('"geometry(SRID:0)"');
      expect(dataTypeToJson(geometryType(4326))).to.equal('"geometry(OGC:CRS84)"');
      expect(dataTypeToJson(geometryType(3857))).to.equal('"geometry(EPSG:3857)"');
      expect(dataTypeToJson(geometryType('ANY'))).to.equal('"geometry(SRID:ANY)"');
      expect(dataTypeToJson(geographyType())).to.equal('"geography(OGC:CRS84, SPHERICAL)"');
      expect(dataTypeToJson(timeType(3))).to.equal('"time(3)"');
      for (const dt of [geometryType(0), geometryType(3857), geometryType('ANY'), geographyType(), timeType(0)])
        expect(dataTypeFromJson(dataTypeToJson(dt))).to.deep.equal(dt);
      expect(dataTypeFromJson('"geography(OGC:CRS84)"')).to.deep.equal(geographyType(4326));
      expect([spatialCrs(4269), sridOfCrs('ogc:crs27'), sridOfCrs('EPSG:2000'), sridOfCrs('nope:1')]).to.deep.equal([
        'OGC:CRS83',
        4267,
        2000,
        undefined,
      ]);
      expect(() => parseTypeString('geometry(FOO:BAR)')).to.throw(SyntaxError, /unknown CRS/);
      expect(() => parseTypeString('geography(4326, flat)')).to.throw(SyntaxError, /SPHERICAL/);
      expect(() => parseTypeString('time(7)')).to.throw(RangeError);

      const schema = parseDDLSchema('t TIME(0) NOT NULL, g GEOMETRY(ANY), h GEOGRAPHY(4326), d DECIMAL(2, -9)');
      expect(toDDL(schema)).to.equal('`t` time(0) NOT NULL,`g` geometry(any),`h` geography(4326),`d` decimal(2,-9)');
      expect(parseDDLSchema(toDDL(schema))).to.deep.equal(schema);
      expect(treeString(schema)).to.equal(
        'root\n |-- t: time(0) (nullable = false)\n |-- g: geometry(any) (nullable = true)\n' +
          ' |-- h: geography(4326) (nullable = true)\n |-- d: decimal(2,-9) (nullable = true)\n',
      );
    });
  });

  describe('values', () => {
    it("SparkTime: exact nanoseconds of the day, accessors, Spark's text form", () => {
      const t = SparkTime.fromString('23:59:59.999999');
      expect([t.hour, t.minute, t.second, t.nanosecond, t.microsOfDay]).to.deep.equal([23, 59, 59, 999_999_000, 86_399_999_999]);
      expect(t.nanosOfDay).to.equal(86_399_999_999_000);
      expect(String(SparkTime.fromString('12:34:56.789'))).to.equal('12:34:56.789');
      expect(String(SparkTime.fromString('7:05'))).to.equal('07:05:00');
      expect(String(new SparkTime(0))).to.equal('00:00:00');
      expect(String(new SparkTime(86_399_999_999_999))).to.equal('23:59:59.999999999');
      expect(JSON.stringify({ t: SparkTime.fromParts(1, 2, 3, 4000) })).to.equal('{"t":"01:02:03.000004"}');
      expect(SparkTime.fromMicros(1n).nanosOfDay).to.equal(1000);
      expect(inspect(SparkTime.fromString('10:00'))).to.equal('SparkTime(10:00:00)');
      expect(SparkTime.fromString('10:00').equals(SparkTime.fromParts(10, 0))).to.equal(true);
      expect(() => new SparkTime(86_400_000_000_000)).to.throw(RangeError);
      expect(() => new SparkTime(-1)).to.throw(RangeError);
      expect(() => SparkTime.fromString('24:00')).to.throw(RangeError);
      expect(() => SparkTime.fromString('12:00 PM')).to.throw(SyntaxError);
    });

    it('SparkGeometry / SparkGeography: srid, WKB, text and JSON forms', () => {
      const g = new SparkGeometry(3857, POINT);
      expect(String(g)).to.equal('Geometry(srid=3857, wkb=0101000000000000000000f03f0000000000000040)');
      expect(JSON.stringify(new SparkGeography(4326, POINT))).to.equal(`{"srid":4326,"wkb":"${Buffer.from(POINT).toString('base64')}"}`);
      expect(rowToJsonLine({ g })).to.equal(`{"g":{"srid":3857,"wkb":"${Buffer.from(POINT).toString('base64')}"}}`);
      expect(g.equals(new SparkGeometry(3857, POINT.slice()))).to.equal(true);
      expect(g.equals(new SparkGeography(3857, POINT))).to.equal(false);
    });

    it('Decimal with a negative scale: value = unscaled × 10^-scale, printed in full', () => {
      const d = new Decimal(-15n, -9);
      expect([d.toString(), d.scale, d.unscaled, d.precision]).to.deep.equal(['-15000000000', -9, -15n, 2]);
      expect(new Decimal(0n, -3).toString()).to.equal('0');
      expect(d.equals(Decimal.fromString('-1.5E10'))).to.equal(true);
      expect(d.withScale(0).unscaled).to.equal(-15000000000n);
      expect(Decimal.fromString('15000000000', -9).unscaled).to.equal(15n);
      expect(() => Decimal.fromString('15000000001', -9)).to.throw(RangeError, /rounded/);
    });

    it('lit(SparkTime) is a TIME(6) literal; sub-microsecond digits are refused', () => {
      expect(literalProto(SparkTime.fromString('01:02:03.000004'))).to.deep.equal({ time: { nano: '3723000004000', precision: 6 } });
      expect(() => literalProto(new SparkTime(1))).to.throw(RangeError, /sub-microsecond/);
    });
  });

  describe('Arrow decoding (no server)', () => {
    it('decimal128 with a negative scale, as Spark sends 1E+3BD and -1.5E10BD: exact on every path', () => {
      // Unscaled values 1, -15 and a null, two's complement in 128-bit little-endian words.
      const words = new BigUint64Array([1n, 0n, BigInt.asUintN(64, -15n), 0xffffffffffffffffn, 0n, 0n]);
      const data = makeData({
        type: new ArrowDecimal(-9, 2, 128),
        length: 3,
        nullCount: 1,
        nullBitmap: Uint8Array.of(0b011),
        data: new Uint32Array(words.buffer),
      });
      // Through IPC, so the negative scale survives the flatbuffer schema as it does from the server.
      const table = tableFromIPC(tableToIPC(new Table({ d: makeVector(data) }), 'stream'));
      const expected = [new Decimal(1n, -9), new Decimal(-15n, -9), null];
      expect(structTypeFromArrowSchema(table.schema).fields[0]!.dataType).to.deep.equal({ type: 'decimal', precision: 2, scale: -9 });
      const schema = structType([structField('d', { type: 'decimal', precision: 2, scale: -9 })]);
      for (const s of [undefined, schema]) {
        const { rows, lazy, columns } = everyPath(table, s);
        expect(rows.map((r) => r.d)).to.deep.equal(expected);
        expect(lazy.map((r) => r.d)).to.deep.equal(expected);
        expect(columns[0]).to.deep.equal(expected);
      }
      expect(decodeData(table.batches[0]!.data.children[0]!).map(String)).to.deep.equal(['1000000000', '-15000000000', 'null']);
      // A decimal beyond 64 bits takes the bigint path.
      const big = new Decimal(-(10n ** 30n), -5);
      expect(roundTrip([{ d: big }], structType([structField('d', { type: 'decimal', precision: 31, scale: -5 })]))).to.deep.equal([
        { d: big },
      ]);
    });

    it('TIME as Time64(NANOSECOND) (what Spark sends) and the other units; the Spark type is implied by the Arrow type', () => {
      const schema = structType([structField('t', timeType(6)), structField('t0', timeType(0), false)]);
      const input = [
        { t: SparkTime.fromString('12:34:56.789'), t0: '00:00' },
        { t: null, t0: SparkTime.fromString('23:59:59') },
        { t: SparkTime.fromString('23:59:59.999999'), t0: SparkTime.fromString('00:00:01') },
      ];
      const table = tableFromBatches([encodeLocalRelation(input, schema)]);
      expect(String(table.schema.fields[0]!.type)).to.equal('Time64<NANOSECOND>');
      const expected = input.map((r) => ({ t: r.t, t0: typeof r.t0 === 'string' ? SparkTime.fromString(r.t0) : r.t0 }));
      for (const s of [undefined, schema]) {
        const { rows, lazy, columns } = everyPath(table, s);
        expect(rows).to.deep.equal(expected);
        expect(lazy).to.deep.equal(expected);
        expect(columns[0]).to.deep.equal([45_296_789_000_000n, null, 86_399_999_999_000n]);
      }
      expect(columnsFromTable(table).columns[0]!.values).to.be.instanceOf(BigInt64Array);
      expect(structTypeFromArrowSchema(table.schema).fields.map((f) => f.dataType)).to.deep.equal([timeType(6), timeType(6)]);
      expect(() => encodeLocalRelation([{ t0: '00:00:00.1' }], schema)).to.throw(/more than 0 fractional digits/);

      const millis = makeData({ type: new TimeMillisecond(), length: 2, nullCount: 0, data: Int32Array.of(0, 86_399_999) });
      expect(decodeData(millis).map(String)).to.deep.equal(['00:00:00', '23:59:59.999']);
    });

    it('GEOMETRY / GEOGRAPHY as ArrowUtils writes them (struct<srid, wkb> marked by field metadata)', () => {
      const schema = structType([structField('g', geometryType('ANY')), structField('h', geographyType())]);
      const input = [
        { g: new SparkGeometry(0, POINT), h: new SparkGeography(4326, POINT) },
        { g: null, h: null },
        { g: new SparkGeometry(3857, POINT), h: new SparkGeography(4326, new Uint8Array(0)) },
      ];
      const table = tableFromBatches([encodeLocalRelation(input, schema)]);
      const wkbField = (table.schema.fields[0]!.type as Struct).children[1]!;
      expect([...wkbField.metadata]).to.deep.equal([
        ['geometry', 'true'],
        ['srid', '-1'],
      ]);
      // Without the Spark schema the metadata tells a spatial struct from any struct<srid, wkb>.
      expect(structTypeFromArrowSchema(table.schema)).to.deep.equal(
        structType([structField('g', geometryType('ANY')), structField('h', geographyType())]),
      );
      for (const s of [undefined, schema]) {
        const { rows, lazy, columns } = everyPath(table, s);
        expect(rows).to.deep.equal(input);
        expect(lazy).to.deep.equal(input);
        expect(columns[0]).to.deep.equal(input.map((r) => r.g));
        expect(rows[0]!.h).to.be.instanceOf(SparkGeography);
      }
      const plain = tableFromBatches([
        encodeLocalRelation([{ s: { srid: 1, wkb: POINT } }], parseDDLSchema('s STRUCT<srid: INT, wkb: BINARY>')),
      ]);
      expect(rowsFromTable(plain)).to.deep.equal([{ s: { srid: 1, wkb: POINT } }]);
      expect(() => encodeLocalRelation([{ h: new SparkGeometry(4326, POINT) }], schema)).to.throw(/expected a SparkGeography/);
    });
  });
});
