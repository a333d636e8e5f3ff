// Issue 3 "API": every item of the PySpark-shaped client against the live Spark Connect server.
// Datasets are tiny; names (views, tables, dirs) are unique per run because the server is shared.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ensureSpark } from '../support/servers';
import { pinnedVersion } from '../../lib/runtime/versions';
import {
  SparkSession,
  DataFrame,
  StorageLevel,
  Window,
  functions as F,
  types as T,
  Decimal,
  SparkDate,
  SparkTimestamp,
  AnalysisException,
  ParseException,
  ConnectionError,
  AuthenticationError,
  InvalidUrlError,
  OperationInterruptedError,
  SparkConnectError,
  SparkConnectClient,
  LogisticRegression,
  VectorAssembler,
  type ExecutionProgressEvent,
  type Row,
} from '../../lib/connect';
import type { SparkState } from '../../lib/runtime/spark-server';

const run = randomUUID().slice(0, 8);
const uniq = (name: string) => `${name}_${run}`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

describe('connect API (live server)', function () {
  this.timeout(180_000);
  let state: SparkState;
  let spark: SparkSession;
  let tmp: string;
  let people: DataFrame;

  before(async () => {
    state = await ensureSpark();
    spark = await SparkSession.builder().remote(`${state.url}/;token=${state.token}`).appName('connect-api-test').getOrCreate();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), `spark-ts-api-${run}-`));
    people = spark.createDataFrame(
      [
        { id: 1n, name: 'Ann', dept: 'eng', salary: 100.5, age: 30 },
        { id: 2n, name: 'Bob', dept: 'eng', salary: 80, age: null },
        { id: 3n, name: 'Cid', dept: 'ops', salary: null, age: 45 },
        { id: 4n, name: 'Dee', dept: 'ops', salary: 60, age: 28 },
        { id: 4n, name: 'Dee', dept: 'ops', salary: 60, age: 28 },
      ],
      'id BIGINT, name STRING, dept STRING, salary DOUBLE, age INT',
    );
  });

  after(async () => {
    await spark?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('SparkSession', () => {
    it('connects by default through SPARK_REMOTE (and says so without it), reports its version, and stops', async () => {
      const saved = process.env.SPARK_REMOTE;
      delete process.env.SPARK_REMOTE;
      expect((await failure(SparkSession.builder().create())).message).to.match(/set SPARK_REMOTE/);
      process.env.SPARK_REMOTE = `${state.url}/;token=${state.token}`;
      let s: SparkSession;
      try {
        s = await SparkSession.builder().create();
      } finally {
        if (saved === undefined) delete process.env.SPARK_REMOTE;
        else process.env.SPARK_REMOTE = saved;
      }
      expect(await s.version()).to.equal(pinnedVersion('spark'));
      await s.stop();
      expect(s.stopped).to.equal(true);
      expect(String(await failure(s.range(1).collect()))).to.match(/stopped/);
    });

    it('getOrCreate returns the active session for the same endpoint and applies builder settings', async () => {
      const again = await SparkSession.builder()
        .remote(`${state.url}/;token=${state.token}`)
        .config('spark.sql.shuffle.partitions', 3)
        .getOrCreate();
      expect(again).to.equal(spark);
      expect(await spark.conf.get('spark.sql.shuffle.partitions')).to.equal('3');
      await spark.conf.set('spark.sql.shuffle.partitions', 8);
    });

    it('conf.get/set/unset/getAll', async () => {
      const key = 'spark.sql.ansi.enabled';
      const original = await spark.conf.get(key);
      await spark.conf.set(key, false);
      expect(await spark.conf.get(key)).to.equal('false');
      expect(await spark.conf.getAll('spark.sql.ansi')).to.have.property(key, 'false');
      await spark.conf.unset(key);
      expect(await spark.conf.get(key)).to.equal(original);
      expect(await spark.conf.get('spark.ts.not.set', 'fallback')).to.equal('fallback');
      expect(await spark.conf.getOption('spark.ts.not.set')).to.equal(null);
    });

    it('sql with named and positional arguments, range, table', async () => {
      expect(await (await spark.sql('SELECT :a + 1 AS x, :b AS y', { a: 41, b: 'z' })).collect()).to.deep.equal([{ x: 42, y: 'z' }]);
      expect(await (await spark.sql('SELECT ? * 2 AS x', [2n ** 60n])).collect()).to.deep.equal([{ x: 2n ** 61n }]);
      expect(await spark.range(3).collect()).to.deep.equal([{ id: 0n }, { id: 1n }, { id: 2n }]);
      expect(await spark.range(10, 0, -3).collect()).to.deep.equal([{ id: 10n }, { id: 7n }, { id: 4n }, { id: 1n }]);
      const view = uniq('v_range');
      await spark.range(2).createOrReplaceTempView(view);
      expect(await spark.table(view).count()).to.equal(2);
      // DDL runs eagerly, as in PySpark.
      const view2 = uniq('v_ddl');
      await spark.sql(`CREATE OR REPLACE TEMP VIEW ${view2} AS SELECT 7 AS seven`);
      expect(await spark.table(view2).first()).to.deep.equal({ seven: 7 });
    });

    it('createDataFrame with a StructType, a DDL string and an inferred schema', async () => {
      const schema = T.structType([
        T.structField('d', T.decimalType(38, 18)),
        T.structField('day', T.DateType),
        T.structField('ts', T.TimestampType),
      ]);
      const rows = [
        {
          d: Decimal.fromString('1.000000000000000001'),
          day: SparkDate.fromString('1900-03-01'),
          ts: SparkTimestamp.fromString('2024-02-29T23:59:59.123456Z'),
        },
      ];
      expect(await spark.createDataFrame(rows, schema).collect()).to.deep.equal(rows);
      expect(await spark.createDataFrame([[1, 'a']], 'n INT, s STRING').collect()).to.deep.equal([{ n: 1, s: 'a' }]);
      const inferred = spark.createDataFrame([{ n: 1, x: 0.5, s: 'a', b: true }]);
      expect(await inferred.dtypes()).to.deep.equal([
        ['n', 'bigint'],
        ['x', 'double'],
        ['s', 'string'],
        ['b', 'boolean'],
      ]);
    });

    it('read: csv/json/parquet/text/format+load with schema and options; readStream is streaming', async () => {
      const csv = path.join(tmp, 'in.csv');
      fs.writeFileSync(csv, 'a\tb\r\n1\tx\r\n2\ty\r\n');
      const fromCsv = spark.read.schema('a INT, b STRING').option('header', true).option('sep', '\t').csv(csv);
      expect(await fromCsv.orderBy('a').collect()).to.deep.equal([
        { a: 1, b: 'x' },
        { a: 2, b: 'y' },
      ]);
      const inferred = spark.read.options({ header: true, sep: '\t', inferSchema: true }).format('csv').load(csv);
      expect(await inferred.dtypes()).to.deep.equal([
        ['a', 'int'],
        ['b', 'string'],
      ]);
      const json = path.join(tmp, 'in.json');
      fs.writeFileSync(json, '{"k": 1, "v": "p"}\n{"k": 2, "v": "q"}\n');
      expect(await spark.read.json(json).orderBy('k').select('v').collect()).to.deep.equal([{ v: 'p' }, { v: 'q' }]);
      expect(await spark.read.text(json).count()).to.equal(2);
      const pq = path.join(tmp, 'pq');
      await fromCsv.write.parquet(pq);
      expect(await spark.read.parquet(pq).count()).to.equal(2);
      expect(
        await spark.read
          .format('parquet')
          .schema(T.structType([T.structField('a', T.IntegerType)]))
          .load(pq)
          .columns(),
      ).to.deep.equal(['a']);
      const stream = spark.readStream.format('rate').option('rowsPerSecond', 1).load();
      expect(await stream.isStreaming()).to.equal(true);
      expect(await fromCsv.isStreaming()).to.equal(false);
    });

    it('catalog: listTables and dropTempView', async () => {
      const view = uniq('v_cat');
      await spark.range(1).createOrReplaceTempView(view);
      const tables = await spark.catalog.listTables();
      const mine = tables.find((t) => t.name === view);
      expect(mine).to.include({ isTemporary: true });
      expect(await spark.catalog.dropTempView(view)).to.equal(true);
      expect((await spark.catalog.listTables()).some((t) => t.name === view)).to.equal(false);
      expect(await spark.catalog.dropTempView(view)).to.equal(false);
    });
  });

  describe('DataFrame', () => {
    it('select, selectExpr, filter/where, withColumn(s), withColumnRenamed, drop', async () => {
      const df = people
        .select('id', 'name', F.col('salary'))
        .where(F.col('salary').isNotNull())
        .filter('id < 4')
        .withColumn('double', F.col('salary').multiply(2))
        .withColumns({ one: F.lit(1), upper: F.upper('name') })
        .withColumnRenamed('name', 'who')
        .drop('one', F.col('salary'));
      expect(await df.columns()).to.deep.equal(['id', 'who', 'double', 'upper']);
      expect(await df.orderBy('id').collect()).to.deep.equal([
        { id: 1n, who: 'Ann', double: 201, upper: 'ANN' },
        { id: 2n, who: 'Bob', double: 160, upper: 'BOB' },
      ]);
      expect(await people.selectExpr('id * 10 AS x').where('x > 30').count()).to.equal(2);
    });

    it('distinct and dropDuplicates(subset)', async () => {
      expect(await people.distinct().count()).to.equal(4);
      expect(await people.dropDuplicates().count()).to.equal(4);
      expect(await people.dropDuplicates(['dept']).count()).to.equal(2);
    });

    it('groupBy().agg/count/sum/avg/min/max, pivot, and agg', async () => {
      const byDept = await people.groupBy('dept').agg(F.count('*').alias('n'), F.sum('salary').alias('s')).orderBy('dept').collect();
      expect(byDept).to.deep.equal([
        { dept: 'eng', n: 2n, s: 180.5 },
        { dept: 'ops', n: 3n, s: 120 },
      ]);
      expect(await people.groupBy('dept').count().orderBy('dept').collect()).to.deep.equal([
        { dept: 'eng', count: 2n },
        { dept: 'ops', count: 3n },
      ]);
      expect(await people.groupBy('dept').sum('age').orderBy('dept').collect()).to.deep.equal([
        { dept: 'eng', 'sum(age)': 30n },
        { dept: 'ops', 'sum(age)': 101n },
      ]);
      expect(await people.groupBy().avg('salary').collect()).to.deep.equal([{ 'avg(salary)': 75.125 }]);
      expect(await people.groupBy().min('age').collect()).to.deep.equal([{ 'min(age)': 28 }]);
      expect(await people.groupBy().max('age').collect()).to.deep.equal([{ 'max(age)': 45 }]);
      expect(await people.agg({ age: 'max' }).collect()).to.deep.equal([{ 'max(age)': 45 }]);
      const pivot = await people.groupBy('dept').pivot('name', ['Ann', 'Dee']).agg(F.count('id')).orderBy('dept').collect();
      expect(pivot).to.deep.equal([
        { dept: 'eng', Ann: 1n, Dee: null },
        { dept: 'ops', Ann: null, Dee: 2n },
      ]);
      const inferredPivot = await people.groupBy('dept').pivot('name').count().orderBy('dept').columns();
      expect(inferredPivot).to.deep.equal(['dept', 'Ann', 'Bob', 'Cid', 'Dee']);
    });

    it('orderBy/sort with default null placement, limit, offset', async () => {
      const asc = await people.orderBy('age', 'id').select('age').collect();
      expect(asc.map((r) => r.age)).to.deep.equal([null, 28, 28, 30, 45]);
      const desc = await people.sort(F.desc('age'), 'id').select('age').collect();
      expect(desc.map((r) => r.age)).to.deep.equal([45, 30, 28, 28, null]);
      expect(await people.orderBy('id').limit(2).offset(1).select('name').collect()).to.deep.equal([{ name: 'Bob' }]);
    });

    const left = () =>
      spark.createDataFrame(
        [
          [1, 'x'],
          [2, 'y'],
        ],
        'k INT, v STRING',
      );
    const right = () =>
      spark.createDataFrame(
        [
          ['z', 2],
          ['w', 3],
        ],
        'w STRING, k INT',
      );
    const keys = async (df: DataFrame) => (await df.orderBy(F.asc_nulls_last('k')).select('k').collect()).map((r) => r.k);

    it('union and unionByName', async () => {
      const [a, b] = [left(), right()];
      expect(await a.union(a).count()).to.equal(4);
      expect(await a.unionByName(b.withColumnRenamed('w', 'v')).orderBy('k', 'v').collect()).to.deep.equal([
        { k: 1, v: 'x' },
        { k: 2, v: 'y' },
        { k: 2, v: 'z' },
        { k: 3, v: 'w' },
      ]);
      expect(await a.unionByName(b.select('k'), true).where(F.col('v').isNull()).count()).to.equal(2);
    });

    it('joins of every type on column names', async () => {
      const [a, b] = [left(), right()];
      expect(await keys(a.join(b, 'k'))).to.deep.equal([2]);
      expect(await keys(a.join(b, ['k'], 'left'))).to.deep.equal([1, 2]);
      expect(await keys(a.join(b, 'k', 'right'))).to.deep.equal([2, 3]);
      expect(await keys(a.join(b, 'k', 'full_outer'))).to.deep.equal([1, 2, 3]);
      expect(await keys(a.join(b, 'k', 'left_semi'))).to.deep.equal([2]);
      expect(await keys(a.join(b, 'k', 'anti'))).to.deep.equal([1]);
    });

    it('cross and broadcast joins, joins on an expression, self-joins through alias', async () => {
      const [a, b] = [left(), right()];
      expect(await a.crossJoin(b).count()).to.equal(4);
      expect(await a.join(b, undefined, 'cross').count()).to.equal(4);
      expect(await keys(a.join(F.broadcast(b), 'k'))).to.deep.equal([2]);
      expect(await a.join(b.hint('broadcast'), 'k').explain()).to.match(/Broadcast/);
      const onExpr = await a
        .join(b, a.col('k').eq(b.col('k')), 'inner')
        .select(a.col('k'), 'v', 'w')
        .collect();
      expect(onExpr).to.deep.equal([{ k: 2, v: 'y', w: 'z' }]);
      const l = a.alias('l');
      const r = a.alias('r');
      const self = await l
        .join(r, F.col('l.k').lt(F.col('r.k')))
        .select(F.col('l.v').alias('lv'), F.col('r.v').alias('rv'))
        .collect();
      expect(self).to.deep.equal([{ lv: 'x', rv: 'y' }]);
    });

    it('repartition, coalesce, sample, randomSplit', async () => {
      const n = async (df: DataFrame) => Number(await df.select(F.spark_partition_id().alias('p')).distinct().count());
      expect(await n(spark.range(0, 100, 1, 1).repartition(4))).to.equal(4);
      expect(await n(spark.range(0, 100, 1, 4).coalesce(1))).to.equal(1);
      expect(await spark.range(100).repartition(3, 'id').count()).to.equal(100);
      const sampled = await spark.range(1000).sample(0.1, 7).count();
      expect(sampled).to.be.within(50, 150);
      expect(await spark.range(1000).sample(0.1, 7).count()).to.equal(sampled);
      const [x, y] = spark.range(1000).randomSplit([0.3, 0.7], 11);
      const [cx, cy] = [await x!.count(), await y!.count()];
      expect(cx + cy).to.equal(1000);
      expect(cx).to.be.within(200, 400);
    });

    it('describe, summary, na.fill/drop/replace', async () => {
      const d = await people.describe('age').collect();
      expect(d.map((r) => r.summary)).to.deep.equal(['count', 'mean', 'stddev', 'min', 'max']);
      expect(d[0]).to.deep.equal({ summary: 'count', age: '4' });
      const s = await people.select('salary').summary('min', '50%', 'max').collect();
      expect(s).to.deep.equal([
        { summary: 'min', salary: '60.0' },
        { summary: '50%', salary: '60.0' },
        { summary: 'max', salary: '100.5' },
      ]);
      expect(await people.na.fill(0).where('salary = 0 OR age = 0').count()).to.equal(2);
      expect((await people.na.fill({ age: -1 }).where('id = 2').first())?.age).to.equal(-1);
      expect((await people.fillna('unknown', 'name').where('id = 3').first())?.salary).to.equal(null);
      expect(await people.na.drop().count()).to.equal(3);
      expect(await people.na.drop('all').count()).to.equal(5);
      expect(await people.na.drop('any', undefined, ['age']).count()).to.equal(4);
      expect(await people.na.drop('any', 5).count()).to.equal(3);
      const replaced = await people.na.replace(['Ann', 'Bob'], ['A', 'B'], 'name').orderBy('id').select('name').limit(3).collect();
      expect(replaced).to.deep.equal([{ name: 'A' }, { name: 'B' }, { name: 'Cid' }]);
      expect((await people.na.replace({ eng: 'engineering' }).where('id = 1').first())?.dept).to.equal('engineering');
    });

    it('stat: approxQuantile returns numbers; corr, cov, crosstab, freqItems', async () => {
      const nums = spark.range(1, 101).withColumn('x', F.col('id').cast('double')).withColumn('y', F.col('x').multiply(2));
      const med = await nums.stat.approxQuantile('x', [0.5], 0);
      expect(med).to.deep.equal([50]);
      const both = await nums.approxQuantile(['x', 'y'], [0, 1], 0);
      expect(both).to.deep.equal([
        [1, 100],
        [2, 200],
      ]);
      expect(await nums.stat.corr('x', 'y')).to.be.closeTo(1, 1e-12);
      expect(await nums.stat.cov('x', 'y')).to.be.closeTo(1683.3333333333333, 1e-9);
      const ct = await people.stat.crosstab('dept', 'name').orderBy('dept_name').collect();
      expect(ct[0]).to.deep.equal({ dept_name: 'eng', Ann: 1n, Bob: 1n, Cid: 0n, Dee: 0n });
      // freqItems may return false positives (Karp et al.), never false negatives.
      const fi = await people.stat.freqItems(['dept'], 0.5).collect();
      expect(fi[0]?.dept_freqItems as string[]).to.include('ops');
    });

    it('cache, persist(StorageLevel), storageLevel, unpersist(blocking)', async () => {
      const df = spark.range(10).withColumn('r', F.lit(uniq('cache')));
      expect((await df.storageLevel()).equals(StorageLevel.NONE)).to.equal(true);
      await df.persist(StorageLevel.DISK_ONLY);
      expect(await df.count()).to.equal(10);
      expect((await df.storageLevel()).name).to.equal('DISK_ONLY');
      await df.unpersist(true);
      expect((await df.storageLevel()).equals(StorageLevel.NONE)).to.equal(true);
      await df.cache();
      expect((await df.storageLevel()).name).to.equal('MEMORY_AND_DISK_DESER');
      await df.unpersist(true);
    });

    it('localCheckpoint, unpivot, struct fields', async () => {
      const cp = await spark.range(3).withColumn('x', F.col('id').multiply(10)).localCheckpoint();
      expect((await cp.collect()).map((r) => r.x)).to.deep.equal([0n, 10n, 20n]);
      expect(await cp.explain()).to.not.match(/Range/);
      const long = await spark
        .createDataFrame([[1, 2, 3]], 'id INT, a INT, b INT')
        .unpivot(['id'], ['a', 'b'], 'var', 'val')
        .collect();
      expect(long).to.deep.equal([
        { id: 1, var: 'a', val: 2 },
        { id: 1, var: 'b', val: 3 },
      ]);
      const st = await spark
        .range(1)
        .select(F.struct(F.lit(1).alias('a'), F.lit(2).alias('b')).alias('s'))
        .select(F.col('s').withField('c', F.lit(3)).dropFields('a').alias('s'))
        .first();
      expect(st).to.deep.equal({ s: { b: 2, c: 3 } });
    });

    it('explain(mode) returns text; schema, columns, dtypes, printSchema, isEmpty, isStreaming', async () => {
      const df = people.where('age > 29');
      expect(await df.explain()).to.match(/== Physical Plan ==/);
      expect(await df.explain('extended')).to.match(/== Parsed Logical Plan ==/);
      expect(await df.explain('formatted')).to.match(/\(1\)/);
      const schema = await df.schema();
      expect(schema.fields.map((f) => [f.name, f.dataType.type, f.nullable])).to.deep.equal([
        ['id', 'long', true],
        ['name', 'string', true],
        ['dept', 'string', true],
        ['salary', 'double', true],
        ['age', 'integer', true],
      ]);
      expect(await df.columns()).to.deep.equal(['id', 'name', 'dept', 'salary', 'age']);
      expect(await df.dtypes()).to.deep.include(['age', 'int']);
      const write = process.stdout.write;
      let printed = '';
      process.stdout.write = ((s: string) => ((printed += s), true)) as typeof process.stdout.write;
      try {
        await df.printSchema();
      } finally {
        process.stdout.write = write;
      }
      expect(printed).to.include('root\n |-- id: long (nullable = true)');
      expect(await df.isEmpty()).to.equal(false);
      expect(await df.where('age > 100').isEmpty()).to.equal(true);
      expect(await df.isStreaming()).to.equal(false);
    });

    it('actions: collect, toArrow, count, show (server-side), first, take, head, toLocalIterator', async () => {
      const df = spark.range(5).withColumn('sq', F.col('id').multiply(F.col('id')));
      expect((await df.collect()).map((r) => r.sq)).to.deep.equal([0n, 1n, 4n, 9n, 16n]);
      const table = await df.toArrow();
      expect(table.numRows).to.equal(5);
      expect(table.schema.fields.map((f) => f.name)).to.deep.equal(['id', 'sq']);
      expect(await df.count()).to.equal(5);
      expect(await df.first()).to.deep.equal({ id: 0n, sq: 0n });
      expect(await df.where('id > 10').first()).to.equal(null);
      expect(await df.take(2)).to.have.length(2);
      expect(await df.head(3)).to.have.length(3);
      expect(await df.head()).to.deep.equal({ id: 0n, sq: 0n });
      const seen: Row[] = [];
      for await (const r of df.toLocalIterator()) seen.push(r);
      expect(seen).to.have.length(5);
      const text = await spark.createDataFrame([{ s: 'a much longer string than twenty chars' }]).showString(1, 10);
      expect(text).to.include('|a much ...|');
      expect(await df.showString(2)).to.include('only showing top 2 rows');
      expect(await df.showString(1, true, true)).to.include('-RECORD 0');
    });

    it('write: mode, format, option, partitionBy, save, parquet, csv, json, saveAsTable', async () => {
      const out = path.join(tmp, 'w');
      await people.write.mode('overwrite').partitionBy('dept').parquet(path.join(out, 'p'));
      expect(
        fs
          .readdirSync(path.join(out, 'p'))
          .filter((f) => f.startsWith('dept='))
          .sort(),
      ).to.deep.equal(['dept=eng', 'dept=ops']);
      const err = await failure(people.write.parquet(path.join(out, 'p')));
      expect(err).to.be.instanceOf(SparkConnectError);
      expect((err as SparkConnectError).errorClass).to.match(/PATH_ALREADY_EXISTS/);
      await people.write.mode('append').partitionBy('dept').parquet(path.join(out, 'p'));
      expect(await spark.read.parquet(path.join(out, 'p')).count()).to.equal(10);
      await people.write.option('header', true).mode('overwrite').csv(path.join(out, 'c'));
      expect(await spark.read.option('header', true).csv(path.join(out, 'c')).count()).to.equal(5);
      await people.write.format('json').mode('ignore').save(path.join(out, 'j'));
      await people.limit(1).write.format('json').mode('ignore').save(path.join(out, 'j'));
      expect(await spark.read.json(path.join(out, 'j')).count()).to.equal(5);
      await people.write.mode('overwrite').json(path.join(out, 'j'));
      const table = uniq('t_save');
      await people.write.mode('overwrite').option('path', path.join(out, 'tbl')).saveAsTable(table);
      try {
        expect(await spark.table(table).count()).to.equal(5);
      } finally {
        await spark.sql(`DROP TABLE IF EXISTS ${table}`);
      }
    });

    it('window functions: row_number, rank, lag, lead over partitionBy/orderBy/rowsBetween', async () => {
      const w = Window.partitionBy('dept').orderBy(F.desc('salary'), 'id');
      const rows = await people
        .dropDuplicates()
        .select(
          'id',
          F.row_number().over(w).alias('rn'),
          F.rank().over(w).alias('rk'),
          F.lag('id', 1).over(w).alias('prev'),
          F.lead('id', 1, -1).over(w).alias('next'),
          F.sum('salary').over(w.rowsBetween(Window.unboundedPreceding, Window.currentRow)).alias('running'),
        )
        .orderBy('id')
        .collect();
      expect(rows).to.deep.equal([
        { id: 1n, rn: 1, rk: 1, prev: null, next: 2n, running: 100.5 },
        { id: 2n, rn: 2, rk: 2, prev: 1n, next: -1n, running: 180.5 },
        { id: 3n, rn: 2, rk: 2, prev: 4n, next: -1n, running: 60 },
        { id: 4n, rn: 1, rk: 1, prev: null, next: 3n, running: 60 },
      ]);
    });

    it('withWatermark on a stream; an AbortSignal interrupts a running action', async () => {
      const wm = spark.readStream.format('rate').load().withWatermark('timestamp', '10 seconds');
      expect(await wm.isStreaming()).to.equal(true);
      expect(await wm.explain('extended')).to.match(/EventTimeWatermark/);
      const ac = new AbortController();
      const slow = spark.range(0, 2_000_000_000, 1, 2).select(F.sum(F.sqrt('id')).alias('s'));
      setTimeout(() => ac.abort(), 1500);
      const started = Date.now();
      const err = await failure(slow.collect({ signal: ac.signal }));
      expect(err).to.be.instanceOf(OperationInterruptedError);
      expect(Date.now() - started).to.be.lessThan(30_000);
    });
  });

  describe('Column and functions', () => {
    it('basics, operators, cast, alias, when/otherwise, isin, between, like, rlike', async () => {
      const r = await spark
        .range(1)
        .select(
          F.lit(7).plus(3).multiply(2).minus(1).divide(2).alias('arith'),
          F.lit(7).mod(4).alias('mod'),
          F.lit(1).lt(2).and(F.lit(2).ge(2)).or(F.lit(false)).alias('logic'),
          F.lit(null).cast('int').isNull().alias('isnull'),
          F.lit(3).isin(1, 2, 3).alias('isin'),
          F.lit(5).between(1, 5).alias('between'),
          F.lit('Spark').like('Sp%').alias('like'),
          F.lit('Spark').rlike('^S.*k$').alias('rlike'),
          F.when(F.lit(5).gt(10), 'big').when(F.lit(5).gt(1), 'mid').otherwise('small').alias('when'),
          F.expr('1 + 1').cast('decimal(10,2)').alias('dec'),
          F.lit(1).ne(2).alias('ne'),
          F.lit(1).eqNullSafe(null).alias('nullsafe'),
        )
        .first();
      expect(r).to.deep.equal({
        arith: 9.5,
        mod: 3,
        logic: true,
        isnull: true,
        isin: true,
        between: true,
        like: true,
        rlike: true,
        when: 'mid',
        dec: Decimal.fromString('2.00'),
        ne: true,
        nullsafe: false,
      });
    });

    it('strings, dates and times, math', async () => {
      const r = await spark
        .createDataFrame([{ s: '  Hello World ', d: '29-02-2024', t: '2024-02-29 23:59:59' }])
        .select(
          F.lower('s').alias('lower'),
          F.upper(F.trim('s')).alias('upper'),
          F.substring(F.trim('s'), 1, 5).alias('sub'),
          F.concat(F.lit('a'), F.lit('b')).alias('concat'),
          F.regexp_replace('s', '\\s+', '_').alias('re'),
          F.split(F.trim('s'), ' ').alias('split'),
          F.to_date('d', 'dd-MM-yyyy').alias('date'),
          F.to_timestamp('t', 'yyyy-MM-dd HH:mm:ss').alias('ts'),
          F.datediff(F.to_date('d', 'dd-MM-yyyy'), F.lit('2024-01-01')).alias('diff'),
          F.months_between(F.lit('2024-03-31'), F.lit('2024-01-31')).alias('months'),
          F.year(F.to_date('d', 'dd-MM-yyyy')).alias('y'),
          F.month(F.to_date('d', 'dd-MM-yyyy')).alias('m'),
          F.dayofweek(F.to_date('d', 'dd-MM-yyyy')).alias('dow'),
          F.current_date().isNotNull().alias('today'),
          F.round(F.lit(2.345), 2).alias('round'),
          F.abs(F.lit(-3)).alias('abs'),
          F.sqrt(F.lit(16)).alias('sqrt'),
          F.log(F.exp(F.lit(2))).alias('ln'),
          F.pow(2, 10).alias('pow'),
          F.greatest(F.lit(1), F.lit(5), F.lit(3)).alias('greatest'),
          F.least(F.lit(1), F.lit(5), F.lit(3)).alias('least'),
        )
        .first();
      expect(r).to.deep.include({
        lower: '  hello world ',
        upper: 'HELLO WORLD',
        sub: 'Hello',
        concat: 'ab',
        re: '_Hello_World_',
        split: ['Hello', 'World'],
        date: SparkDate.fromString('2024-02-29'),
        ts: SparkTimestamp.fromString('2024-02-29T23:59:59Z'),
        diff: 59,
        months: 2,
        y: 2024,
        m: 2,
        dow: 5,
        today: true,
        round: 2.35,
        abs: 3,
        sqrt: 4,
        ln: 2,
        pow: 1024,
        greatest: 5,
        least: 1,
      });
    });

    it('more functions: arrays, maps, hashing, unix time, typeof', async () => {
      const r = await spark
        .range(1)
        .select(
          F.array_join(F.sort_array(F.array_distinct(F.lit([3, 1, 3, 2])), false), '-').alias('arr'),
          F.map_keys(F.create_map(F.lit('k'), F.lit(1))).alias('keys'),
          F.from_unixtime(F.lit(0)).alias('epoch'),
          F.quarter(F.lit('2024-05-01')).alias('q'),
          F.instr(F.lit('spark'), 'ar').alias('instr'),
          F.typeof(F.lit(1n)).alias('type'),
          F.nvl(F.lit(null), F.lit('x')).alias('nvl'),
          F.base64(F.lit('hi')).alias('b64'),
        )
        .first();
      expect(r).to.deep.equal({
        arr: '3-2-1',
        keys: ['k'],
        epoch: '1970-01-01 00:00:00',
        q: 2,
        instr: 3,
        type: 'bigint',
        nvl: 'x',
        b64: 'aGk=',
      });
    });

    it('aggregates', async () => {
      const r = await people
        .agg(
          F.count('age').alias('count'),
          F.countDistinct('dept').alias('cd'),
          F.sum('age').alias('sum'),
          F.avg('salary').alias('avg'),
          F.min('name').alias('min'),
          F.max('name').alias('max'),
          F.stddev('age').alias('sd'),
          F.variance('age').alias('var'),
          F.percentile_approx('age', 0.5).alias('p50'),
          F.first('name').alias('first'),
          F.last('name').alias('last'),
          F.collect_list('dept').alias('list'),
        )
        .first();
      expect(r).to.deep.include({ count: 4n, cd: 2n, sum: 131n, avg: 75.125, min: 'Ann', max: 'Dee', p50: 28 });
      // ages 30, 45, 28, 28 (one null): sample variance 202.75 / 3
      expect(r?.var as number).to.be.closeTo(202.75 / 3, 1e-9);
      expect(r?.sd as number).to.be.closeTo(Math.sqrt(202.75 / 3), 1e-9);
      expect((r?.list as string[]).length).to.equal(5);
    });

    it('JSON and structs; nulls and NaN', async () => {
      const r = await spark
        .createDataFrame([{ j: '{"a": 1, "b": {"c": "x"}}', n: null as unknown as number, x: NaN }], 'j STRING, n DOUBLE, x DOUBLE')
        .select(
          F.from_json('j', 'a INT, b STRUCT<c: STRING>').alias('parsed'),
          F.to_json(F.struct(F.lit(1).alias('k'))).alias('json'),
          F.named_struct('p', F.lit(1), 'q', F.lit('z')).alias('ns'),
          F.get_json_object('j', '$.b.c').alias('gj'),
          F.coalesce('n', F.lit(0)).alias('coalesce'),
          F.isnan('x').alias('isnan'),
          F.nanvl('x', F.lit(1.5)).alias('nanvl'),
        )
        .first();
      expect(r).to.deep.equal({
        parsed: { a: 1, b: { c: 'x' } },
        json: '{"k":1}',
        ns: { p: 1, q: 'z' },
        gj: 'x',
        coalesce: 0,
        isnan: true,
        nanvl: 1.5,
      });
    });

    it('window(col, duration, slide) for tumbling and sliding windows', async () => {
      const events = spark.createDataFrame(
        [{ ts: SparkTimestamp.fromString('2024-01-01T00:00:07Z'), v: 1 }],
        T.structType([T.structField('ts', T.TimestampType), T.structField('v', T.LongType)]),
      );
      const tumbling = await events.groupBy(F.window('ts', '10 seconds')).count().select('window.start', 'window.end').collect();
      expect(tumbling).to.deep.equal([
        { start: SparkTimestamp.fromString('2024-01-01T00:00:00Z'), end: SparkTimestamp.fromString('2024-01-01T00:00:10Z') },
      ]);
      expect(
        await events
          .groupBy(F.window('ts', '1 minute', '10 seconds'))
          .count()
          .count(),
      ).to.equal(6);
    });
  });

  describe('streaming', () => {
    it('rate source → memory sink: StreamingQuery id, runId, name, status, progress, processAllAvailable, explain, stop; streams.active/get', async () => {
      const name = uniq('q_mem');
      const q = await spark.readStream
        .format('rate')
        .option('rowsPerSecond', 20)
        .load()
        .withWatermark('timestamp', '1 second')
        .writeStream.format('memory')
        .queryName(name)
        .outputMode('append')
        .trigger({ processingTime: '500 milliseconds' })
        .start();
      try {
        expect(q.id).to.match(/^[0-9a-f-]{36}$/);
        expect(q.runId).to.match(/^[0-9a-f-]{36}$/);
        expect(q.name).to.equal(name);
        expect((await spark.streams.active()).map((a) => a.id)).to.include(q.id);
        expect((await spark.streams.get(q.id))?.runId).to.equal(q.runId);
        const deadline = Date.now() + 60_000;
        while ((await q.recentProgress()).filter((p) => p.numInputRows > 0).length === 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 500));
        }
        await q.processAllAvailable();
        const last = await q.lastProgress();
        expect(last?.id).to.equal(q.id);
        expect(last?.batchId).to.be.a('number');
        const progress = await q.recentProgress();
        expect(progress.some((p) => p.numInputRows > 0)).to.equal(true);
        const status = await q.status();
        expect(status.isActive).to.equal(true);
        expect(await q.explain()).to.match(/Physical Plan|WriteToMicroBatchDataSource|MicroBatchScan/);
        expect(await q.exception()).to.equal(null);
        expect(await q.awaitTermination(100)).to.equal(false);
        expect(await spark.table(name).count()).to.be.greaterThan(0);
      } finally {
        await q.stop();
      }
      expect((await q.status()).isActive).to.equal(false);
      expect(await q.awaitTermination(1000)).to.equal(true);
      expect(await spark.streams.get(q.id)).to.equal(null);
    });

    it('rate source → parquet with availableNow, once and toTable', async () => {
      const src = path.join(tmp, 'stream-src');
      fs.mkdirSync(src);
      fs.writeFileSync(path.join(src, 'a.json'), '{"k": 1}\n{"k": 2}\n');
      const input = spark.readStream.schema('k INT').json(src);
      const out = path.join(tmp, 'stream-out');
      const q = await input.writeStream
        .format('parquet')
        .option('checkpointLocation', path.join(tmp, 'cp1'))
        .trigger({ availableNow: true })
        .start(out);
      expect(await q.awaitTermination(60_000)).to.equal(true);
      expect(await spark.read.parquet(out).count()).to.equal(2);
      const once = await input.writeStream
        .format('parquet')
        .option('checkpointLocation', path.join(tmp, 'cp2'))
        .option('path', path.join(tmp, 'o2'))
        .trigger({ once: true })
        .start();
      expect(await once.awaitTermination(60_000)).to.equal(true);
      const table = uniq('t_stream');
      const toTable = await input.writeStream
        .option('checkpointLocation', path.join(tmp, 'cp3'))
        .trigger({ availableNow: true })
        .toTable(table);
      try {
        expect(await toTable.awaitTermination(60_000)).to.equal(true);
        expect(await spark.table(table).count()).to.equal(2);
      } finally {
        await spark.sql(`DROP TABLE IF EXISTS ${table}`);
      }
    });

    it('a failing stream reports its exception and awaitTermination throws it', async () => {
      const q = await spark.readStream
        .format('rate')
        .load()
        .select(F.expr("assert_true(value < 0, 'boom')").alias('x'))
        .writeStream.format('memory')
        .queryName(uniq('q_fail'))
        .start();
      const err = await failure(q.awaitTermination(60_000));
      expect(err.message).to.match(/boom/);
      expect((await q.exception())?.message).to.match(/boom/);
    });
  });

  describe('ML over Connect', () => {
    it('fits a LogisticRegression on VectorAssembler features, transforms, and reads coefficients', async () => {
      const data = spark.createDataFrame(
        [
          [0.0, 0.1, 0],
          [0.2, 0.0, 0],
          [0.3, 0.4, 0],
          [1.0, 0.9, 1],
          [0.9, 1.2, 1],
          [1.3, 0.8, 1],
          [0.6, 0.5, 0],
          [0.7, 0.9, 1],
        ],
        'x1 DOUBLE, x2 DOUBLE, label INT',
      );
      const features = new VectorAssembler({ inputCols: ['x1', 'x2'], outputCol: 'features' }).transform(data);
      const model = await new LogisticRegression({ featuresCol: 'features', labelCol: 'label', maxIter: 50, regParam: 0.01 }).fit(features);
      try {
        const coefficients = await model.coefficients();
        expect(coefficients).to.have.length(2);
        expect(coefficients.every((c) => c > 0)).to.equal(true);
        expect(await model.intercept()).to.be.a('number');
        const predicted = await model.transform(features).select('label', 'prediction').collect();
        const correct = predicted.filter((r) => Number(r.label) === Number(r.prediction)).length;
        expect(correct).to.be.at.least(6);
      } finally {
        await model.release();
      }
    });
  });

  describe('execution', () => {
    it('emits progress events a progress bar can use', async () => {
      const events: ExecutionProgressEvent[] = [];
      const onProgress = (e: ExecutionProgressEvent) => events.push(e);
      spark.on('progress', onProgress);
      try {
        await spark.range(0, 6_000_000, 1, 4).repartition(4).select(F.sum('id')).collect();
      } finally {
        spark.off('progress', onProgress);
      }
      expect(events.length).to.be.greaterThan(0);
      expect(events.every((e) => e.fraction >= 0 && e.fraction <= 1)).to.equal(true);
    });

    it('reattaches when the result stream breaks and still returns the complete result', async () => {
      const client = new SparkConnectClient({ ...SparkSession.builder().remote(`${state.url}/;token=${state.token}`).connectionOptions() });
      const s = await SparkSession.builder().withClient(client).create();
      try {
        client.breakStreamAfterResponses = 3;
        const reattaches: unknown[] = [];
        s.on('reattach', (e) => reattaches.push(e));
        // Many partitions → many Arrow batches → many responses, so the stream breaks several times.
        const table = await s.range(0, 3_000_000, 1, 24).toArrow();
        expect(table.numRows).to.equal(3_000_000);
        const ids = table.getChild('id')!;
        let sum = 0n;
        for (let i = 0; i < ids.length; i++) sum += ids.get(i) as bigint;
        expect(sum).to.equal((2_999_999n * 3_000_000n) / 2n);
        expect(reattaches.length).to.be.greaterThan(0);
      } finally {
        await s.stop();
      }
    });

    it('interruptAll interrupts running operations of the session', async () => {
      const s = await SparkSession.builder().remote(`${state.url}/;token=${state.token}`).create();
      try {
        const running = s
          .range(0, 2_000_000_000, 1, 2)
          .select(F.sum(F.sqrt('id')))
          .collect();
        await new Promise((r) => setTimeout(r, 1500));
        const ids = await s.interruptAll();
        expect(ids.length).to.be.greaterThan(0);
        expect(await failure(running)).to.be.instanceOf(SparkConnectError);
      } finally {
        await s.stop();
      }
    });
    it('interruptTag interrupts only the operations carrying the tag', async () => {
      const tag = uniq('tag');
      const running = spark
        .range(0, 2_000_000_000, 1, 2)
        .select(F.sum(F.sqrt('id')))
        .collect({ tags: [tag] });
      await new Promise((r) => setTimeout(r, 1500));
      expect(await spark.interruptTag(tag)).to.have.length(1);
      expect(await failure(running)).to.be.instanceOf(SparkConnectError);
      expect(await spark.range(1).count()).to.equal(1);
    });
  });

  describe('bad input', () => {
    it('an unknown column gives an AnalysisException with the error class and the column name', async () => {
      const err = await failure(people.select('no_such_col').collect());
      expect(err).to.be.instanceOf(AnalysisException);
      const e = err as AnalysisException;
      expect(e.errorClass).to.match(/^UNRESOLVED_COLUMN/);
      expect(e.sqlState).to.equal('42703');
      expect(e.messageParameters.objectName).to.include('no_such_col');
      expect(e.message).to.include('no_such_col');
    });

    it('a SQL syntax error gives a ParseException', async () => {
      const err = await failure(spark.sql('SELEC 1'));
      expect(err).to.be.instanceOf(ParseException);
      expect((err as ParseException).errorClass).to.equal('PARSE_SYNTAX_ERROR');
    });

    it('a closed port fails within 5 s and names the endpoint', async () => {
      const port = await freePort();
      const started = Date.now();
      const s = await SparkSession.builder().remote(`sc://127.0.0.1:${port}`).create();
      const err = await failure(s.range(1).collect());
      expect(Date.now() - started).to.be.lessThan(5000);
      expect(err).to.be.instanceOf(ConnectionError);
      expect(err.message).to.include(`127.0.0.1:${port}`);
    });

    it('a bad URL names the part that is wrong', async () => {
      const e1 = await failure(SparkSession.builder().remote('http://localhost:15002').create());
      expect(e1).to.be.instanceOf(InvalidUrlError);
      expect(e1.message).to.include('(scheme)');
      const e2 = await failure(SparkSession.builder().remote('sc://localhost:99999').create());
      expect(e2.message).to.include('(port)');
      const e3 = await failure(SparkSession.builder().remote('sc://localhost:15002/;bad key=x').create());
      expect(e3.message).to.include('"bad key" is not a valid gRPC metadata key');
    });

    it('a wrong token gives an AuthenticationError', async () => {
      const s = await SparkSession.builder().remote(`${state.url}/;token=wrong-${run}`).create();
      const err = await failure(s.version());
      expect(err).to.be.instanceOf(AuthenticationError);
    });

    it('bad arguments fail before any request', () => {
      expect(() => people.limit(-1)).to.throw(RangeError);
      expect(() => people.repartition(0)).to.throw(RangeError);
      expect(() => people.join(people, 'id', 'diagonal' as 'inner')).to.throw(/unknown join type/);
      expect(() => people.writeStream.outputMode('sometimes' as 'append')).to.throw(/output mode/);
    });
  });
});
