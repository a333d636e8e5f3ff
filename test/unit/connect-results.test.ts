import { expect } from 'chai';
import { SparkSession, Decimal, SparkDate, SparkTimestamp } from '../../lib/connect';
import { RecordingClient } from '../../lib/connect/testing/recording-client';
import { tableFromIPC, type RecordBatch } from 'apache-arrow';
import { columnsFromBatch, encodeLocalRelation, rowKeys, rowsFromBatch } from '../../lib/connect/arrow';
import { arrayType, decimalType, structField, structType } from '../../lib/connect/types';

const SCHEMA = 'id BIGINT, n INT, x DOUBLE, ok BOOLEAN, s STRING, d DATE, ts TIMESTAMP, dec DECIMAL(10,2)';
const ROWS = [
  { id: 1n, n: 7, x: 1.5, ok: true, s: 'a', d: new SparkDate(10), ts: new SparkTimestamp(1_000_001n), dec: new Decimal(12345n, 2) },
  { id: 2n, n: null, x: null, ok: false, s: null, d: null, ts: null, dec: null },
  { id: -3n, n: -1, x: -0.25, ok: null, s: 'ç', d: new SparkDate(-1), ts: new SparkTimestamp(-5n), dec: new Decimal(-1n, 2) },
];

describe('connect result shapes', () => {
  let spark: SparkSession;
  let client: RecordingClient;

  beforeEach(async () => {
    client = new RecordingClient();
    spark = await SparkSession.builder().withClient(client).create();
    client.respondWithRows(ROWS, SCHEMA);
  });

  it('lazy rows read the same values as row objects, by property and by get()', async () => {
    const objects = await spark.range(1).collect();
    const lazy = await spark.range(1).collect({ rows: 'lazy' });
    expect(lazy).to.have.length(3);
    for (let i = 0; i < 3; i++) {
      for (const k of Object.keys(objects[i]!)) {
        expect(lazy[i]![k], `${i}.${k}`).to.deep.equal(objects[i]![k]);
        expect(lazy[i]!.get(k)).to.deep.equal(objects[i]![k]);
      }
      expect(lazy[i]!.toObject()).to.deep.equal(objects[i]);
      expect(JSON.parse(JSON.stringify(lazy[i], (_k, v) => (typeof v === 'bigint' ? v.toString() : v)))).to.have.keys(
        Object.keys(objects[i]!),
      );
    }
    expect(() => lazy[0]!.get('nope')).to.throw(RangeError, /no column "nope"/);
  });

  it('a lazy row decodes a column only when it is read', async () => {
    const lazy = await spark.range(1).collect({ rows: 'lazy' });
    const batch = (lazy[0] as unknown as { $batch: { decoded: unknown[] } }).$batch;
    expect(batch.decoded.filter(Boolean)).to.have.length(0);
    void lazy[1]!.s;
    expect(batch.decoded.filter(Boolean)).to.have.length(1);
  });

  it('toColumns gives typed arrays with validity for fixed-width types and exact values for the rest', async () => {
    const cols = await spark.range(1).toColumns();
    expect(cols.numRows).to.equal(3);
    const id = cols.column('id')!;
    expect(id.values).to.be.instanceOf(BigInt64Array);
    expect([...(id.values as BigInt64Array)]).to.deep.equal([1n, 2n, -3n]);
    expect([...id.valid]).to.deep.equal([1, 1, 1]);
    const n = cols.column('n')!;
    expect(n.values).to.be.instanceOf(Int32Array);
    expect([...n.valid]).to.deep.equal([1, 0, 1]);
    expect((n.values as Int32Array)[2]).to.equal(-1);
    expect(cols.column('x')!.values).to.be.instanceOf(Float64Array);
    expect([...(cols.column('ok')!.values as Uint8Array)].filter((_, i) => cols.column('ok')!.valid[i])).to.deep.equal([1, 0]);
    expect([...(cols.column('d')!.values as Int32Array)].filter((_, i) => cols.column('d')!.valid[i])).to.deep.equal([10, -1]);
    expect([...(cols.column('ts')!.values as BigInt64Array)].filter((_, i) => cols.column('ts')!.valid[i])).to.deep.equal([
      1_000_001n,
      -5n,
    ]);
    expect(cols.column('s')!.values).to.deep.equal(['a', null, 'ç']);
    expect((cols.column('dec')!.values as Decimal[])[0]!.toString()).to.equal('123.45');
  });
});

describe('connect one-pass row decoding', () => {
  const schema = structType([
    structField('id', { type: 'long' }),
    structField('n', { type: 'integer' }),
    structField('x', { type: 'double' }),
    structField('ok', { type: 'boolean' }),
    structField('s', { type: 'string' }),
    structField('d', { type: 'date' }),
    structField('ts', { type: 'timestamp' }),
    structField('tn', { type: 'timestamp_ntz' }),
    structField('dec', decimalType(38, 2)),
    structField('arr', arrayType({ type: 'integer' }, true)),
    structField('sh', { type: 'short' }),
  ]);
  const rows = [
    [
      1n,
      7,
      1.5,
      true,
      'a',
      new SparkDate(10),
      new SparkTimestamp(1_000_001n),
      new SparkTimestamp(5n, true),
      new Decimal(12345n, 2),
      [1, null],
      1,
    ],
    [2n, null, null, false, null, null, null, null, null, null, null],
    [
      -3n,
      -1,
      -0.25,
      null,
      'ç€',
      new SparkDate(-1),
      new SparkTimestamp(-5n),
      new SparkTimestamp(-1n, true),
      new Decimal(-(10n ** 30n), 2),
      [],
      -2,
    ],
    [
      4n,
      9,
      2,
      true,
      '',
      new SparkDate(16384 + 10),
      new SparkTimestamp(0n),
      new SparkTimestamp(0n, true),
      new Decimal(10n ** 37n, 2),
      [3],
      3,
    ],
  ];

  /** The rows as the column decoder (decodeData, one array per column) gives them. */
  function byColumns(batch: RecordBatch): Record<string, unknown>[] {
    const cols = columnsFromBatch(batch, schema);
    const keys = rowKeys(schema.fields.map((f) => f.name));
    return Array.from({ length: batch.numRows }, (_, r) => Object.fromEntries(keys.map((k, c) => [k, cols[c]![r]])));
  }

  it('gives the values the column decoder gives, with nulls, non-ASCII text, and big decimals', () => {
    const batch = tableFromIPC(encodeLocalRelation(rows, schema)).batches[0]!;
    const got = rowsFromBatch(batch, schema);
    expect(got).to.deep.equal(byColumns(batch));
    expect(got[0]).to.deep.equal({
      id: 1n,
      n: 7,
      x: 1.5,
      ok: true,
      s: 'a',
      d: new SparkDate(10),
      ts: new SparkTimestamp(1_000_001n),
      tn: new SparkTimestamp(5n, true),
      dec: new Decimal(12345n, 2),
      arr: [1, null],
      sh: 1,
    });
    expect(got[2]!.s).to.equal('ç€');
    expect(got[2]!.dec).to.deep.equal(new Decimal(-(10n ** 30n), 2));
    expect(got[3]!.d).to.deep.equal(new SparkDate(16394)); // same date-cache slot as day 10, another day
    expect(Object.keys(got[1]!)).to.deep.equal(['id', 'n', 'x', 'ok', 's', 'd', 'ts', 'tn', 'dec', 'arr', 'sh']);
  });

  it('reads ASCII text, short values from one column string and long ones apart, whole and sliced', () => {
    const textSchema = structType([structField('k', { type: 'integer' }), structField('t', { type: 'string' })]);
    const long = 'a value of more than 13 characters';
    const texts = ['x', 'name-1234', '', null, 'exactly-13-ch', long, 'twelve-chars'];
    const batch = tableFromIPC(
      encodeLocalRelation(
        texts.map((t, k) => [k, t]),
        textSchema,
      ),
    ).batches[0]!;
    for (const b of [batch, batch.slice(2, 6)]) {
      const got = rowsFromBatch(b, textSchema);
      expect(got.map((r) => r.t)).to.deep.equal(b === batch ? texts : texts.slice(2, 6));
    }
  });

  it('reads a sliced batch (non-zero offset) at the right rows and validity bits', () => {
    const batch = tableFromIPC(encodeLocalRelation(rows, schema)).batches[0]!.slice(1, 4);
    const got = rowsFromBatch(batch, schema);
    expect(got).to.have.length(3);
    expect(got).to.deep.equal(byColumns(batch));
    expect(got[0]!.ok).to.equal(false);
    expect(got[0]!.n).to.equal(null);
    expect(got[1]!.ok).to.equal(null);
    expect(got[2]!.s).to.equal('');
  });
});
