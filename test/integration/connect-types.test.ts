// Issue 3 "Results are exact": every Spark SQL type goes out (sql literals and createDataFrame/LocalRelation),
// comes back from the live server, and is equal with exact values.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { ensureSpark } from '../support/servers';
import { SparkConnectClient } from '../../lib/connect/client';
import type { Relation } from '../../lib/connect/gen/spark/connect/Relation';
import { localRelation, rowsFromTable, tableFromBatches, type Row } from '../../lib/connect/arrow';
import { rowToJsonLine } from '../../lib/connect/json';
import { dataTypeFromProto, parseDDLSchema, simpleString, treeString, type StructType } from '../../lib/connect/types';
import { Decimal, SparkDate, SparkGeography, SparkGeometry, SparkTime, SparkTimestamp, type SparkValue } from '../../lib/connect/values';
import type { SparkState } from '../../lib/runtime/spark-server';
import { sparkRemote } from '../../lib/runtime/spark-server';
import { SparkSession, VectorAssembler, functions as F, type DataFrame } from '../../lib/connect';

interface Result {
  rows: Row[];
  schema: StructType;
  batches: number;
}

async function run(client: SparkConnectClient, root: Relation): Promise<Result> {
  const batches: Uint8Array[] = [];
  let schema: StructType | undefined;
  for await (const r of client.execute({ root: { common: { plan_id: 0 }, ...root } })) {
    if (r.arrow_batch) batches.push(r.arrow_batch.data);
    if (r.schema) {
      const dt = dataTypeFromProto(r.schema);
      if (dt.type === 'struct') schema = dt;
    }
  }
  if (!schema) throw new Error('the server sent no schema');
  return { rows: rowsFromTable(tableFromBatches(batches, schema), schema), schema, batches: batches.length };
}

const sql = (client: SparkConnectClient, query: string) => run(client, { sql: { query } });

/** Every type, with values at the edges: beyond 2^53, decimal(38,18) extremes, pre-1970, microseconds, nested, NaN. */
const EVERY_TYPE = parseDDLSchema(
  [
    'nul VOID',
    'b BOOLEAN',
    'y TINYINT',
    's SMALLINT',
    'i INT',
    'l BIGINT',
    'lmin BIGINT NOT NULL',
    'f FLOAT',
    'd DOUBLE',
    'nan DOUBLE',
    'inf DOUBLE',
    'ninf FLOAT',
    'dec DECIMAL(38,18)',
    'decmax DECIMAL(38,18)',
    'str STRING',
    'bin BINARY',
    'dt DATE',
    'dtmin DATE',
    'ts TIMESTAMP',
    'tsold TIMESTAMP',
    'ntz TIMESTAMP_NTZ',
    'dti INTERVAL DAY TO SECOND',
    'ymi INTERVAL YEAR TO MONTH',
    'ci INTERVAL',
    'arr ARRAY<INT>',
    'nested ARRAY<ARRAY<BIGINT>>',
    'm MAP<STRING, DECIMAL(20,2)>',
    'mk MAP<INT, ARRAY<DATE>>',
    'st STRUCT<a: INT, b: ARRAY<STRING>, c: STRUCT<ts: TIMESTAMP, x: DOUBLE>>',
  ].join(', '),
);

const EXPECTED: Record<string, SparkValue> = {
  nul: null,
  b: true,
  y: -128,
  s: 32767,
  i: -2147483648,
  l: 9007199254740993n,
  lmin: -9223372036854775808n,
  f: Math.fround(1.1),
  d: 0.1,
  nan: NaN,
  inf: Infinity,
  ninf: -Infinity,
  dec: Decimal.fromString('-12345678901234567890.123456789012345678'),
  decmax: Decimal.fromString('99999999999999999999.999999999999999999'),
  str: 'héllo ✓',
  bin: new Uint8Array([0, 255, 16]),
  dt: SparkDate.fromString('1950-01-02'),
  dtmin: SparkDate.fromString('0001-01-01'),
  ts: SparkTimestamp.fromString('2024-02-29T23:59:59.123456Z'),
  tsold: SparkTimestamp.fromString('1969-12-31T23:59:59.999999Z'),
  ntz: SparkTimestamp.fromString('1969-12-31 23:59:59.999999', true),
  dti: 93784000005n,
  ymi: -14,
  ci: { months: 14, days: 3, microseconds: 14706000007n },
  arr: [1, null, 3],
  nested: [[9007199254740993n], []],
  m: new Map<SparkValue, SparkValue>([
    ['a', Decimal.fromString('1.50')],
    ['n', null],
  ]),
  mk: new Map<SparkValue, SparkValue>([[1, [SparkDate.fromString('1950-01-02')]]]),
  st: { a: 7, b: ['x', null], c: { ts: SparkTimestamp.fromString('0001-01-01T00:00:00Z'), x: -Infinity } },
};

const LITERALS = `SELECT
  CAST(NULL AS VOID) AS nul, true AS b, CAST(-128 AS TINYINT) AS y, CAST(32767 AS SMALLINT) AS s,
  CAST(-2147483648 AS INT) AS i, CAST('9007199254740993' AS BIGINT) AS l, CAST('-9223372036854775808' AS BIGINT) AS lmin,
  CAST(1.1 AS FLOAT) AS f, 0.1D AS d, CAST('NaN' AS DOUBLE) AS nan, CAST('Infinity' AS DOUBLE) AS inf,
  CAST('-Infinity' AS FLOAT) AS ninf,
  CAST('-12345678901234567890.123456789012345678' AS DECIMAL(38,18)) AS dec,
  CAST('99999999999999999999.999999999999999999' AS DECIMAL(38,18)) AS decmax,
  'héllo ✓' AS str, X'00FF10' AS bin, DATE'1950-01-02' AS dt, DATE'0001-01-01' AS dtmin,
  TIMESTAMP'2024-02-29 23:59:59.123456' AS ts, TIMESTAMP'1969-12-31 23:59:59.999999' AS tsold,
  TIMESTAMP_NTZ'1969-12-31 23:59:59.999999' AS ntz,
  INTERVAL '1 02:03:04.000005' DAY TO SECOND AS dti, INTERVAL '-1-2' YEAR TO MONTH AS ymi,
  make_interval(1, 2, 0, 3, 4, 5, 6.000007) AS ci, array(1, NULL, 3) AS arr, array(array(CAST('9007199254740993' AS BIGINT)), array()) AS nested,
  map('a', CAST('1.50' AS DECIMAL(20,2)), 'n', NULL) AS m, map(1, array(DATE'1950-01-02')) AS mk,
  named_struct('a', 7, 'b', array('x', NULL), 'c', named_struct('ts', TIMESTAMP'0001-01-01 00:00:00', 'x', CAST('-Infinity' AS DOUBLE))) AS st`;

function nullsFor(schema: StructType): Record<string, unknown> {
  return Object.fromEntries(schema.fields.map((f) => [f.name, f.nullable ? null : 0n]));
}

describe('connect types: exact round trip against the live server', function () {
  let state: SparkState;
  let client: SparkConnectClient;

  before(async function () {
    this.timeout(240_000);
    state = await ensureSpark();
    client = new SparkConnectClient({
      host: '127.0.0.1',
      port: state.port,
      token: state.token,
      userId: 'types-test',
      useSsl: false,
      sessionId: randomUUID(),
      userAgent: 'spark-ts-test',
    });
    await client.config({ set: { pairs: [{ key: 'spark.sql.session.timeZone', value: 'UTC' }] } });
  });

  after(async () => {
    await client?.releaseSession();
  });

  it('sql: every type comes back with exact values', async () => {
    const { rows, schema } = await sql(client, LITERALS);
    expect(rows).to.have.length(1);
    expect(Object.keys(rows[0]!)).to.deep.equal(Object.keys(EXPECTED));
    for (const [k, v] of Object.entries(EXPECTED)) expect(rows[0]![k], k).to.deep.equal(v);
    expect(typeof rows[0]!.l).to.equal('bigint');
    expect(rows[0]!.bin).to.be.instanceOf(Uint8Array);
    // The server's schema, printed as Spark prints it.
    const types = Object.fromEntries(schema.fields.map((f) => [f.name, simpleString(f.dataType)]));
    expect(types).to.include({
      nul: 'void',
      l: 'bigint',
      dec: 'decimal(38,18)',
      ntz: 'timestamp_ntz',
      dti: 'interval day to second',
      ymi: 'interval year to month',
      m: 'map<string,decimal(20,2)>',
      st: 'struct<a:int,b:array<string>,c:struct<ts:timestamp,x:double>>',
    });
  });

  it('sql: nulls of every type come back as null', async () => {
    const casts = EVERY_TYPE.fields.map((f) => `CAST(NULL AS ${simpleString(f.dataType)}) AS ${f.name}`).join(', ');
    const { rows } = await sql(client, `SELECT ${casts}`);
    expect(rows).to.deep.equal([Object.fromEntries(EVERY_TYPE.fields.map((f) => [f.name, null]))]);
  });

  it('createDataFrame: every type goes out as a LocalRelation and comes back equal', async () => {
    const input = [EXPECTED as Record<string, unknown>, nullsFor(EVERY_TYPE)];
    const { rows, schema } = await run(client, { local_relation: localRelation(input, EVERY_TYPE) });
    expect(rows).to.have.length(2);
    for (const [k, v] of Object.entries(EXPECTED)) expect(rows[0]![k], k).to.deep.equal(v);
    expect(rows[1]).to.deep.equal(nullsFor(EVERY_TYPE));
    expect(schema.fields.map((f) => [f.name, simpleString(f.dataType), f.nullable])).to.deep.equal(
      EVERY_TYPE.fields.map((f) => [f.name, simpleString(f.dataType), f.nullable]),
    );
  });

  it('createDataFrame: the server reads the exact values (Spark casts them to text)', async () => {
    const texts = [
      'CAST(l AS STRING)',
      'CAST(lmin AS STRING)',
      'CAST(dec AS STRING)',
      'CAST(decmax AS STRING)',
      'CAST(dt AS STRING)',
      'CAST(dtmin AS STRING)',
      'CAST(ts AS STRING)',
      'CAST(tsold AS STRING)',
      'CAST(ntz AS STRING)',
      'hex(bin)',
      'CAST(nan AS STRING)',
      'CAST(ninf AS STRING)',
      'CAST(f AS STRING)',
      'CAST(dti AS STRING)',
      'CAST(ymi AS STRING)',
      'to_json(st)',
      'CAST(nested AS STRING)',
      'l + 1 = 9007199254740994',
    ];
    const { rows } = await run(client, {
      project: {
        input: { common: { plan_id: 1 }, local_relation: localRelation([EXPECTED as Record<string, unknown>], EVERY_TYPE) },
        expressions: texts.map((expression, k) => ({ alias: { expr: { expression_string: { expression } }, name: [`c${k}`] } })),
      },
    });
    expect(Object.values(rows[0]!)).to.deep.equal([
      '9007199254740993',
      '-9223372036854775808',
      '-12345678901234567890.123456789012345678',
      '99999999999999999999.999999999999999999',
      '1950-01-02',
      '0001-01-01',
      '2024-02-29 23:59:59.123456',
      '1969-12-31 23:59:59.999999',
      '1969-12-31 23:59:59.999999',
      '00FF10',
      'NaN',
      '-Infinity',
      '1.1',
      "INTERVAL '1 02:03:04.000005' DAY TO SECOND",
      "INTERVAL '-1-2' YEAR TO MONTH",
      '{"a":7,"b":["x",null],"c":{"ts":"0001-01-01T00:00:00.000Z","x":"-Infinity"}}',
      '[[9007199254740993], []]',
      true,
    ]);
  });

  it('timestamps keep the instant under a non-UTC session time zone; TIMESTAMP_NTZ keeps the wall clock', async () => {
    const other = new SparkConnectClient({ ...client.options, sessionId: randomUUID() });
    try {
      await other.config({ set: { pairs: [{ key: 'spark.sql.session.timeZone', value: 'America/Los_Angeles' }] } });
      const { rows } = await sql(
        other,
        "SELECT TIMESTAMP'1960-07-01 12:00:00.000001' AS ts, TIMESTAMP_NTZ'1960-07-01 12:00:00.000001' AS ntz",
      );
      // 12:00 in Los Angeles on 1960-07-01 (PDT, UTC-7) is 19:00Z.
      expect((rows[0]!.ts as SparkTimestamp).toISOString()).to.equal('1960-07-01T19:00:00.000001Z');
      expect((rows[0]!.ntz as SparkTimestamp).toISOString()).to.equal('1960-07-01T12:00:00.000001');
      // and an instant sent in goes back out as the same instant, printed in that zone by the server
      const schema = parseDDLSchema('ts TIMESTAMP');
      const back = await run(other, {
        project: {
          input: {
            common: { plan_id: 1 },
            local_relation: localRelation([{ ts: SparkTimestamp.fromString('1960-07-01T19:00:00.000001Z') }], schema),
          },
          expressions: [
            { alias: { expr: { expression_string: { expression: 'CAST(ts AS STRING)' } }, name: ['text'] } },
            { expression_string: { expression: 'ts' } },
          ],
        },
      });
      expect(back.rows[0]!.text).to.equal('1960-07-01 12:00:00.000001');
      expect((back.rows[0]!.ts as SparkTimestamp).micros).to.equal(SparkTimestamp.fromString('1960-07-01T19:00:00.000001Z').micros);
    } finally {
      await other.releaseSession();
    }
  });

  it('decodes results that arrive in many Arrow batches, exactly', async () => {
    const { rows, batches } = await sql(
      client,
      "SELECT id, id * 1000003 + 9007199254740000 AS big, CAST(id AS DECIMAL(38,18)) / 7 AS q, date_add(DATE'1900-01-01', CAST(id % 50000 AS INT)) AS d FROM range(0, 60000)",
    );
    expect(rows).to.have.length(60000);
    expect(batches).to.be.greaterThan(1);
    const last = rows[59999]!;
    expect(last.big).to.equal(59999n * 1000003n + 9007199254740000n);
    expect((last.q as Decimal).toString()).to.equal('8571.285714285714285714');
    expect((last.d as SparkDate).toString()).to.equal(new Date(Date.UTC(1900, 0, 1) + 9999 * 86_400_000).toISOString().slice(0, 10));
    for (let k = 0; k < rows.length; k += 997) expect(rows[k]!.id).to.equal(BigInt(k));
  });

  it('sql: VARIANT values come back as exact documents', async () => {
    const { rows, schema } = await sql(
      client,
      `SELECT parse_json('{"a":1,"big":9007199254740993,"c":1.5,"l":[true,null,"x"],"o":{"k":-1e300}}') AS doc,
              CAST(DATE'1950-01-02' AS VARIANT) AS d, CAST(TIMESTAMP'1969-12-31 23:59:59.999999' AS VARIANT) AS ts,
              CAST(CAST('-12345678901234567890.123456789012345678' AS DECIMAL(38,18)) AS VARIANT) AS dec, CAST(NULL AS VARIANT) AS n`,
    );
    expect(schema.fields.map((f) => simpleString(f.dataType))).to.deep.equal(['variant', 'variant', 'variant', 'variant', 'variant']);
    expect(rows).to.deep.equal([
      {
        doc: { a: 1, big: 9007199254740993n, c: Decimal.fromString('1.5'), l: [true, null, 'x'], o: { k: -1e300 } },
        d: SparkDate.fromString('1950-01-02'),
        ts: new SparkTimestamp(-1n),
        dec: Decimal.fromString('-12345678901234567890.123456789012345678'),
        n: null,
      },
    ]);
    expect(rowToJsonLine(rows[0]!, schema)).to.equal(
      '{"doc":{"a":1,"big":9007199254740993,"c":1.5,"l":[true,null,"x"],"o":{"k":-1e+300}},"d":"1950-01-02","ts":"1969-12-31T23:59:59.999999Z","dec":-12345678901234567890.123456789012345678,"n":null}',
    );
  });

  it('returns the schema and no rows for an empty result; keeps duplicate column names apart', async () => {
    const empty = await sql(client, "SELECT CAST(1 AS BIGINT) AS a, DATE'2000-01-01' AS d WHERE false");
    expect(empty.rows).to.deep.equal([]);
    expect(empty.schema.fields.map((f) => simpleString(f.dataType))).to.deep.equal(['bigint', 'date']);
    const dup = await sql(client, 'SELECT 1 AS a, 2 AS a');
    expect(dup.rows).to.deep.equal([{ a: 1, a_2: 2 }]);
  });

  it('prints a collected row in the --json contract form', async () => {
    const { rows, schema } = await sql(client, LITERALS);
    const parsed = JSON.parse(rowToJsonLine(rows[0]!, schema)) as Record<string, unknown>;
    expect(parsed).to.include({
      ts: '2024-02-29T23:59:59.123456Z',
      dt: '1950-01-02',
      bin: 'AP8Q',
      nan: 'NaN',
      inf: 'Infinity',
      ninf: '-Infinity',
      f: 1.1,
    });
    const line = rowToJsonLine(rows[0]!, schema);
    expect(line).to.contain('"l":9007199254740993,').and.to.contain('"dec":-12345678901234567890.123456789012345678,');
  });
});

describe('connect types: exact round trip through SparkSession (sql, createDataFrame, collect, toArrow)', function () {
  let spark: SparkSession;

  before(async function () {
    this.timeout(240_000);
    await ensureSpark();
    spark = await SparkSession.builder().remote(sparkRemote()).appName('connect-types-test').create();
    await spark.conf.set('spark.sql.session.timeZone', 'UTC');
  });

  after(async () => {
    await spark?.stop();
  });

  it('spark.sql(...).collect(): every type exact', async () => {
    const rows = await (await spark.sql(LITERALS)).collect();
    expect(rows).to.have.length(1);
    for (const [k, v] of Object.entries(EXPECTED)) expect(rows[0]![k], k).to.deep.equal(v);
  });

  it('spark.createDataFrame(rows, schema).collect(): every type goes out and comes back equal', async () => {
    const rows = await spark.createDataFrame([EXPECTED as Record<string, unknown>, nullsFor(EVERY_TYPE)], EVERY_TYPE).collect();
    expect(rows).to.have.length(2);
    for (const [k, v] of Object.entries(EXPECTED)) expect(rows[0]![k], k).to.deep.equal(v);
    expect(rows[1]).to.deep.equal(nullsFor(EVERY_TYPE));
  });

  it('createDataFrame with a DDL schema string and positional rows; the server computes on exact values', async () => {
    const df = spark.createDataFrame(
      [
        [9007199254740993n, '0.000000000000000001', '1950-01-02'],
        [-9007199254740993n, '-99999999999999999999.999999999999999999', '1969-12-31'],
      ],
      'l BIGINT, dec DECIMAL(38,18), dt DATE',
    );
    const rows = await df.selectExpr('l + 1 AS l1', 'dec', 'CAST(dec AS STRING) AS text', 'date_add(dt, 1) AS next').collect();
    expect(rows).to.deep.equal([
      {
        l1: 9007199254740994n,
        dec: Decimal.fromString('0.000000000000000001'),
        text: '0.000000000000000001',
        next: SparkDate.fromString('1950-01-03'),
      },
      {
        l1: -9007199254740992n,
        dec: Decimal.fromString('-99999999999999999999.999999999999999999'),
        text: '-99999999999999999999.999999999999999999',
        next: SparkDate.fromString('1970-01-01'),
      },
    ]);
  });

  it('prints schemas exactly as the server does (treeString vs AnalyzePlan TreeString)', async () => {
    const df = await spark.sql(LITERALS + ", parse_json('1') AS v, map(1, NULL) AS mn");
    const server = await spark.client.analyze({ tree_string: { plan: df.plan } });
    expect(treeString(await df.schema())).to.equal(server.tree_string!.tree_string);
  });

  it('ML vectors (VectorUDT, named by class only) decode as their struct', async () => {
    // VectorAssembler returns Vector.compressed: dense or sparse, "whichever uses less storage" (Spark ML docs).
    // Spark 4.2's size estimate (mllib-local Vectors.getSparseSize = 12·nnz + 28, getDenseSize = 8·size + 12)
    // keeps a zero vector of size 2 dense (a tie: 28 vs 28) and makes one of size 3 sparse (28 vs 36); Spark
    // 4.0's estimate made both sparse. The client decodes the struct exactly as the server sends it.
    const input = spark.createDataFrame(
      [
        { a: 1.5, b: -2, c: 0 },
        { a: 0, b: 0, c: 0 },
      ],
      'a DOUBLE, b DOUBLE, c DOUBLE',
    );
    const two = new VectorAssembler({ inputCols: ['a', 'b'], outputCol: 'features' }).transform(input);
    const three = new VectorAssembler({ inputCols: ['a', 'b', 'c'], outputCol: 'features' }).transform(input);
    expect((await two.collect()).map((r) => r.features)).to.deep.equal([
      { type: 1, size: null, indices: null, values: [1.5, -2] },
      { type: 1, size: null, indices: null, values: [0, 0] },
    ]);
    expect((await three.collect()).map((r) => r.features)).to.deep.equal([
      { type: 1, size: null, indices: null, values: [1.5, -2, 0] },
      { type: 0, size: 3, indices: [], values: [] },
    ]);
    const dtypes = (await three.schema()).fields.map((f) => simpleString(f.dataType));
    expect(dtypes).to.deep.equal(['double', 'double', 'double', 'vector']);
  });

  it('toArrow() returns an apache-arrow Table whose raw values are exact', async () => {
    const table = await (
      await spark.sql("SELECT CAST('9007199254740993' AS BIGINT) AS l, TIMESTAMP'1969-12-31 23:59:59.999999' AS ts")
    ).toArrow();
    expect(table.numRows).to.equal(1);
    expect(table.getChild('l')!.data[0]!.values[0]).to.equal(9007199254740993n);
    expect(table.getChild('ts')!.data[0]!.values[0]).to.equal(-1n);
    expect(rowsFromTable(table)).to.deep.equal([{ l: 9007199254740993n, ts: new SparkTimestamp(-1n) }]);
  });
});

describe('connect types: TIME, GEOMETRY, GEOGRAPHY and negative-scale decimals (Spark 4.1+)', function () {
  let spark: SparkSession;
  // POINT(1 2) and LINESTRING(0 0, 1 1) as little-endian WKB.
  const POINT = '0101000000000000000000F03F0000000000000040';
  const LINE = '01020000000200000000000000000000000000000000000000000000000000F03F000000000000F03F';
  const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

  before(async function () {
    this.timeout(240_000);
    await ensureSpark();
    spark = await SparkSession.builder().remote(sparkRemote()).appName('connect-types-new').create();
    // Both are session settings on Spark 4.2: TIME values are refused (UNSUPPORTED_TIME_TYPE) without the first.
    await spark.conf.set('spark.sql.timeType.enabled', 'true');
    await spark.conf.set('spark.sql.legacy.allowNegativeScaleOfDecimal', 'true');
  });

  after(async () => {
    await spark?.stop();
  });

  /** Every result path of a DataFrame: they must agree with collect(). */
  /** The rows of every result path (collect, lazy rows, the local iterator), each expected to equal `expected`. */
  async function expectEveryPath(df: DataFrame, expected: Row[]): Promise<Row[]> {
    const rows = await df.collect();
    const lazy = (await df.collect({ rows: 'lazy' })).map((r) => r.toObject());
    const iterated: Row[] = [];
    for await (const r of df.toLocalIterator()) iterated.push(r);
    expect(rows, 'collect()').to.deep.equal(expected);
    expect(lazy, "collect({ rows: 'lazy' })").to.deep.equal(expected);
    expect(iterated, 'toLocalIterator()').to.deep.equal(expected);
    return rows;
  }

  async function expectServerTree(df: DataFrame): Promise<void> {
    const server = await spark.client.analyze({ tree_string: { plan: df.plan } });
    expect(treeString(await df.schema())).to.equal(server.tree_string!.tree_string);
  }

  it('TIME: schema, collect, lazy rows, toColumns and toLocalIterator agree; nulls, midnight, 23:59:59.999999, precision 0/3/6', async () => {
    const df = await spark.sql(
      'SELECT t, CAST(t AS TIME(0)) AS t0, CAST(t AS TIME(3)) AS t3, CAST(t AS STRING) AS s FROM VALUES ' +
        "(TIME'12:34:56.789'), (TIME'00:00:00'), (TIME'23:59:59.999999'), (TIME'00:00:00.000001'), (NULL) AS v(t)",
    );
    const schema = await df.schema();
    expect(schema.fields.map((f) => [f.name, simpleString(f.dataType)])).to.deep.equal([
      ['t', 'time(6)'],
      ['t0', 'time(0)'],
      ['t3', 'time(3)'],
      ['s', 'string'],
    ]);
    expect(schema.fields[0]!.dataType).to.deep.equal({ type: 'time', precision: 6 });
    await expectServerTree(df);

    const T = (text: string) => SparkTime.fromString(text);
    const expected: Row[] = [
      { t: T('12:34:56.789'), t0: T('12:34:56'), t3: T('12:34:56.789'), s: '12:34:56.789' },
      { t: T('00:00:00'), t0: T('00:00:00'), t3: T('00:00:00'), s: '00:00:00' },
      { t: T('23:59:59.999999'), t0: T('23:59:59'), t3: T('23:59:59.999'), s: '23:59:59.999999' },
      { t: T('00:00:00.000001'), t0: T('00:00:00'), t3: T('00:00:00'), s: '00:00:00.000001' },
      { t: null, t0: null, t3: null, s: null },
    ];
    const rows = await expectEveryPath(df, expected);
    // The client prints a TIME as the server does.
    for (const r of rows) if (r.t) expect(String(r.t)).to.equal(r.s);
    const last = rows[2]!.t as SparkTime;
    expect([last.hour, last.minute, last.second, last.nanosecond, last.nanosOfDay]).to.deep.equal([
      23, 59, 59, 999_999_000, 86_399_999_999_000,
    ]);
    expect(JSON.stringify(rows[0])).to.equal('{"t":"12:34:56.789","t0":"12:34:56","t3":"12:34:56.789","s":"12:34:56.789"}');

    const cols = await df.toColumns();
    for (const name of ['t', 't0', 't3']) {
      const c = cols.column(name)!;
      expect(c.values).to.be.instanceOf(BigInt64Array);
      expect(Array.from(c.valid)).to.deep.equal([1, 1, 1, 1, 0]);
      for (let i = 0; i < 4; i++) expect(c.values[i], `${name}[${i}]`).to.equal(BigInt((expected[i]![name] as SparkTime).nanosOfDay));
    }
  });

  it('TIME goes out: lit(SparkTime) and createDataFrame with TIME(6) and TIME(0) columns', async () => {
    const lit = await spark
      .range(1)
      .select(F.lit(SparkTime.fromString('01:02:03.000004')).alias('t'))
      .selectExpr('t', 'CAST(t AS STRING) AS s', 'typeof(t) AS ty')
      .collect();
    expect(lit).to.deep.equal([{ t: SparkTime.fromString('01:02:03.000004'), s: '01:02:03.000004', ty: 'time(6)' }]);

    const df = spark.createDataFrame(
      [
        { t: SparkTime.fromString('23:59:59.999999'), u: '00:00' },
        { t: SparkTime.fromParts(0, 0), u: null },
        { t: null, u: SparkTime.fromString('12:00:01') },
      ],
      't TIME(6), u TIME(0)',
    );
    expect((await df.schema()).fields.map((f) => simpleString(f.dataType))).to.deep.equal(['time(6)', 'time(0)']);
    expect(await df.selectExpr('t', 'u', 'CAST(t AS STRING) AS s').collect()).to.deep.equal([
      { t: SparkTime.fromString('23:59:59.999999'), u: SparkTime.fromString('00:00:00'), s: '23:59:59.999999' },
      { t: SparkTime.fromString('00:00:00'), u: null, s: '00:00:00' },
      { t: null, u: SparkTime.fromString('12:00:01'), s: null },
    ]);
    // TIME(0) cannot hold a fraction: refused on the client rather than cut.
    expect(() => spark.createDataFrame([{ u: SparkTime.fromString('00:00:00.5') }], 'u TIME(0)')).to.throw(/more than 0 fractional digits/);
  });

  it('GEOMETRY / GEOGRAPHY: srid and WKB through every result path; fixed, 3857 and mixed (ANY) SRIDs; nulls', async () => {
    const df = await spark.sql(
      'SELECT ST_GeomFromWKB(b) AS g, ST_SetSrid(ST_GeomFromWKB(b), 3857) AS g3857, ST_GeogFromWKB(b) AS h, ' +
        'CASE WHEN i = 0 THEN ST_GeomFromWKB(b) ELSE ST_SetSrid(ST_GeomFromWKB(b), 3857) END AS mixed ' +
        `FROM VALUES (0, X'${POINT}'), (1, NULL), (2, X'${LINE}') AS v(i, b) ORDER BY i`,
    );
    const schema = await df.schema();
    expect(schema.fields.map((f) => f.dataType)).to.deep.equal([
      { type: 'geometry', srid: 0 },
      { type: 'geometry', srid: 3857 },
      { type: 'geography', srid: 4326 },
      { type: 'geometry', srid: -1 },
    ]);
    expect(schema.fields.map((f) => simpleString(f.dataType))).to.deep.equal([
      'geometry(0)',
      'geometry(3857)',
      'geography(4326)',
      'geometry(any)',
    ]);
    await expectServerTree(df);

    const expected: Row[] = [
      {
        g: new SparkGeometry(0, bytes(POINT)),
        g3857: new SparkGeometry(3857, bytes(POINT)),
        h: new SparkGeography(4326, bytes(POINT)),
        mixed: new SparkGeometry(0, bytes(POINT)),
      },
      { g: null, g3857: null, h: null, mixed: null },
      {
        g: new SparkGeometry(0, bytes(LINE)),
        g3857: new SparkGeometry(3857, bytes(LINE)),
        h: new SparkGeography(4326, bytes(LINE)),
        mixed: new SparkGeometry(3857, bytes(LINE)),
      },
    ];
    const rows = await expectEveryPath(df, expected);
    expect(rows[0]!.h).to.be.instanceOf(SparkGeography);
    expect((rows[2]!.mixed as SparkGeometry).equals(new SparkGeometry(3857, bytes(LINE)))).to.equal(true);

    const cols = await df.toColumns();
    for (const name of ['g', 'g3857', 'h', 'mixed']) {
      const c = cols.column(name)!;
      expect(Array.from(c.valid)).to.deep.equal([1, 0, 1]);
      expect(c.values, name).to.deep.equal(expected.map((r) => r[name]));
    }

    // The server's own view of the same values: the WKB and SRID are the ones it holds.
    const check = await df.selectExpr('hex(ST_AsBinary(g)) AS wkb', 'ST_Srid(mixed) AS srid').collect();
    expect(check).to.deep.equal([
      { wkb: POINT, srid: 0 },
      { wkb: null, srid: null },
      { wkb: LINE, srid: 3857 },
    ]);
  });

  it('GEOMETRY / GEOGRAPHY go out with createDataFrame', async () => {
    const df = spark.createDataFrame(
      [
        { g: new SparkGeometry(0, bytes(POINT)), h: new SparkGeography(4326, bytes(LINE)) },
        { g: null, h: null },
      ],
      'g GEOMETRY(0), h GEOGRAPHY(4326)',
    );
    expect(await df.selectExpr('g', 'h', 'hex(ST_AsBinary(g)) AS wkb', 'ST_Srid(h) AS srid').collect()).to.deep.equal([
      { g: new SparkGeometry(0, bytes(POINT)), h: new SparkGeography(4326, bytes(LINE)), wkb: POINT, srid: 4326 },
      { g: null, h: null, wkb: null, srid: null },
    ]);
    expect(() => spark.createDataFrame([{ g: new SparkGeometry(3857, bytes(POINT)) }], 'g GEOMETRY(0)')).to.throw(/SRID 3857/);
  });

  it('decimals with a negative scale (spark.sql.legacy.allowNegativeScaleOfDecimal) decode exactly on every path', async () => {
    const df = await spark.sql(
      'SELECT -1.5E10BD AS a, 1E+3BD AS b, CAST(-1.5E10BD AS STRING) AS s, CAST(NULL AS DECIMAL(10,0)) * 1E3BD AS n',
    );
    const schema = await df.schema();
    expect(schema.fields.map((f) => simpleString(f.dataType))).to.deep.equal([
      'decimal(2,-9)',
      'decimal(1,-3)',
      'string',
      'decimal(12,-3)',
    ]);
    await expectServerTree(df);
    const expected: Row[] = [{ a: new Decimal(-15n, -9), b: new Decimal(1n, -3), s: '-15000000000', n: null }];
    const rows = await expectEveryPath(df, expected);
    expect(String(rows[0]!.a)).to.equal('-15000000000');
    expect((rows[0]!.a as Decimal).equals(Decimal.fromString('-15000000000'))).to.equal(true);
    const cols = await df.toColumns();
    expect(cols.column('a')!.values).to.deep.equal([new Decimal(-15n, -9)]);
    expect(Array.from(cols.column('n')!.valid)).to.deep.equal([0]);
  });
});
