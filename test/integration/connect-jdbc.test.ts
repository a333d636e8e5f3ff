// spark.read.jdbc / df.write.jdbc against the project's own PostgreSQL (lib/runtime/postgres.ts), through
// the embedded Spark Connect server, which has the PostgreSQL JDBC driver (spark-conf/maven/spark/pom.xml).
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { ensurePostgres, ensureSpark } from '../support/servers';
import { SparkSession, SparkConnectError, functions as F, types as T, type Row } from '../../lib/connect';
import type { PostgresState } from '../../lib/runtime/postgres';

/** postgresql://user:password@host:port/db → the JDBC url and its connection properties. */
function jdbcOf(pgUrl: string): { url: string; properties: { user: string; password: string } } {
  const u = new URL(pgUrl);
  return {
    url: `jdbc:postgresql://${u.hostname}:${u.port}${u.pathname}`,
    properties: { user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) },
  };
}

const sorted = (rows: Row[]) => rows.map((r) => ({ ...r })).sort((a, b) => Number(a.id) - Number(b.id));

describe('connect jdbc (live server and PostgreSQL)', function () {
  this.timeout(240_000);
  const run = randomUUID().slice(0, 8);
  const source = `jdbc_src_${run}`;
  const target = `jdbc_out_${run}`;
  let pg: PostgresState;
  let db: Client;
  let spark: SparkSession;
  let url: string;
  let properties: { user: string; password: string };

  before(async function () {
    this.timeout(400_000);
    const [state, pgState] = await Promise.all([ensureSpark(), ensurePostgres()]);
    pg = pgState;
    ({ url, properties } = jdbcOf(pg.url));
    spark = await SparkSession.builder().remote(`${state.url}/;token=${state.token}`).appName('connect-jdbc-test').getOrCreate();
    db = new Client({ connectionString: pg.url });
    await db.connect();
    await db.query(`CREATE TABLE ${source} (id INT PRIMARY KEY, name TEXT, amount NUMERIC(10,2), at DATE)`);
    await db.query(`INSERT INTO ${source} SELECT g, 'n' || g, g * 1.5, DATE '2024-01-01' + g FROM generate_series(1, 20) g`);
  });
  after(async () => {
    if (db) {
      await db.query(`DROP TABLE IF EXISTS ${source}`).catch(() => undefined);
      await db.query(`DROP TABLE IF EXISTS ${target}`).catch(() => undefined);
      await db.end();
    }
    await spark?.stop();
  });

  it('reads a table: the whole of it, with its types mapped (INT, STRING, DECIMAL(10,2), DATE)', async () => {
    const df = spark.read.jdbc(url, source, { properties });
    const schema = await df.schema();
    expect(schema.fields.map((f) => [f.name, T.simpleString(f.dataType)])).to.deep.equal([
      ['id', 'int'],
      ['name', 'string'],
      ['amount', 'decimal(10,2)'],
      ['at', 'date'],
    ]);
    const rows = sorted(await df.collect());
    expect(rows).to.have.length(20);
    expect(rows[2].name).to.equal('n3');
    expect(String(rows[2].amount)).to.equal('4.50');
    expect(String(rows[2].at)).to.equal('2024-01-04');
  });

  it('reads a query given as the table, with column partitioning (4 partitions) and with predicates (one partition each)', async () => {
    const byColumn = spark.read.jdbc(url, `(SELECT id, name FROM ${source} WHERE id <= 15) q`, {
      column: 'id',
      lowerBound: 1,
      upperBound: 15,
      numPartitions: 4,
      properties,
    });
    // Four non-empty partitions (1-4, 5-8, 9-12, 13-15: strides of (15 - 1) / 4 from lowerBound).
    expect(await byColumn.select(F.spark_partition_id().alias('pid')).distinct().count()).to.equal(4);
    expect((await byColumn.collect()).map((r) => r.id).sort((a, b) => Number(a) - Number(b))).to.deep.equal(
      Array.from({ length: 15 }, (_, i) => i + 1),
    );

    const byPredicates = spark.read.jdbc(url, source, { predicates: ['id <= 5', 'id > 5 AND id <= 8', 'id = 20'], properties });
    expect(await byPredicates.select(F.spark_partition_id()).distinct().count()).to.equal(3);
    expect(sorted(await byPredicates.select('id').collect()).map((r) => r.id)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 20]);
  });

  it('writes a table (error if it exists, then append, then overwrite) and PostgreSQL holds the rows', async () => {
    const df = spark.createDataFrame(
      [
        { id: 1, label: 'a', score: 0.5 },
        { id: 2, label: null, score: 2.25 },
      ],
      'id INT, label STRING, score DOUBLE',
    );
    await df.write.jdbc(url, target, undefined, properties);
    const err = await df.write.jdbc(url, target, 'error', properties).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(SparkConnectError);
    expect(String((err as Error).message)).to.match(/already exists/i);
    await df.where('id = 2').write.jdbc(url, target, 'append', { ...properties, batchsize: 10 });
    const pgRows = async () => (await db.query(`SELECT id, label, score FROM ${target} ORDER BY id, score`)).rows;
    expect(await pgRows()).to.deep.equal([
      { id: 1, label: 'a', score: 0.5 },
      { id: 2, label: null, score: 2.25 },
      { id: 2, label: null, score: 2.25 },
    ]);
    await df.where('id = 1').write.option('truncate', true).jdbc(url, target, 'overwrite', properties);
    expect(await pgRows()).to.deep.equal([{ id: 1, label: 'a', score: 0.5 }]);
    // And it reads back through Spark.
    expect(await spark.read.jdbc(url, target, { properties }).collect()).to.deep.equal([{ id: 1, label: 'a', score: 0.5 }]);
  });

  it('a database that refuses the connection is reported at once as the server error, not retried as a broken stream', async () => {
    const closed = `jdbc:postgresql://127.0.0.1:1${pg.port % 10}/nowhere`;
    const events: unknown[] = [];
    const onReattach = (e: unknown) => events.push(e);
    spark.on('reattach', onReattach);
    try {
      const err = await spark.read
        .jdbc(closed, 'x', { properties })
        .collect()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).to.be.instanceOf(SparkConnectError);
      expect(String((err as Error).message)).to.match(/Connection.*refused|connect/i);
      expect(events).to.deep.equal([]);
    } finally {
      spark.off('reattach', onReattach);
    }
  });
});
