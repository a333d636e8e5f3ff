import { expect } from 'chai';
import { encodeLocalRelation, rowsFromBatch, recordBatchesFromIPC } from '../../lib/connect/arrow';
import { parseDDLSchema } from '../../lib/connect/types';

describe('connect createDataFrame encoding', () => {
  it('a null struct whose fields are NOT NULL encodes (and decodes) as a null struct', () => {
    const schema = parseDDLSchema('id INT, p STRUCT<x: INT NOT NULL, q: STRUCT<y: STRING NOT NULL> NOT NULL>');
    const bytes = encodeLocalRelation(
      [
        { id: 1, p: null },
        { id: 2, p: { x: 5, q: { y: 'a' } } },
      ],
      schema,
    );
    const rows = recordBatchesFromIPC(bytes).flatMap((b) => rowsFromBatch(b, schema));
    expect(rows).to.deep.equal([
      { id: 1, p: null },
      { id: 2, p: { x: 5, q: { y: 'a' } } },
    ]);
  });

  it('a null in a NOT NULL field of a present struct is still an error naming the field', () => {
    const schema = parseDDLSchema('p STRUCT<x: INT NOT NULL>');
    expect(() => encodeLocalRelation([{ p: { x: null } }], schema)).to.throw(/p\.x\[0\].*null in a non-nullable field/);
  });

  it('calendar-interval microseconds that would wrap as Arrow nanoseconds are refused, not wrapped', () => {
    const schema = parseDDLSchema('i INTERVAL');
    expect(() => encodeLocalRelation([{ i: { months: 0, days: 0, microseconds: 2n ** 62n } }], schema)).to.throw(/must be within/);
    const ok = (2n ** 63n - 1n) / 1000n;
    const bytes = encodeLocalRelation(
      [{ i: { months: 1, days: 2, microseconds: ok } }, { i: { months: 0, days: 0, microseconds: -ok } }],
      schema,
    );
    const rows = recordBatchesFromIPC(bytes).flatMap((b) => rowsFromBatch(b, schema));
    expect(rows).to.deep.equal([{ i: { months: 1, days: 2, microseconds: ok } }, { i: { months: 0, days: 0, microseconds: -ok } }]);
  });
});
