import { expect } from 'chai';
import { SparkSession, Decimal, SparkDate, SparkTimestamp } from '../../lib/connect';
import { RecordingClient } from '../../lib/connect/testing/recording-client';

const SCHEMA = 'id BIGINT, n INT, x DOUBLE, ok BOOLEAN, s STRING, d DATE, ts TIMESTAMP, dec DECIMAL(10,2)';
const ROWS = [
  { id: 1n, n: 7, x: 1.5, ok: true, s: 'a', d: new SparkDate(10), ts: new SparkTimestamp(1_000_001n), dec: new Decimal(12345n, 2) },
  { id: 2n, n: null, x: null, ok: false, s: null, d: null, ts: null, dec: null },
  { id: -3n, n: -1, x: -0.25, ok: null, s: 'ç', d: new SparkDate(-1), ts: new SparkTimestamp(-5n), dec: new Decimal(-1n, 2) },
];

describe('connect result shapes @unit', () => {
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
      expect(JSON.parse(JSON.stringify(lazy[i], (_k, v) => (typeof v === 'bigint' ? v.toString() : v)))).to.have.keys(Object.keys(objects[i]!));
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
    expect([...(cols.column('ts')!.values as BigInt64Array)].filter((_, i) => cols.column('ts')!.valid[i])).to.deep.equal([1_000_001n, -5n]);
    expect(cols.column('s')!.values).to.deep.equal(['a', null, 'ç']);
    expect((cols.column('dec')!.values as Decimal[])[0]!.toString()).to.equal('123.45');
  });
});
