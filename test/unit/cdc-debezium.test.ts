import { expect } from 'chai';
import { decimalValue, isSnapshot, twosComplement } from '../../lib/cdc/debezium';
import { applyTruncate } from '../../lib/cdc/truncate';
import { CdcState } from '../../lib/cdc/state';
import { defaultSpec } from '../../lib/cdc/features';
import { syntheticCustomers } from '../integration/cdc-support';

// The wire formats themselves are checked against events captured from the real connector in
// test/integration/cdc-postgres.test.ts; these are the arithmetic underneath.
describe('Debezium decoding', () => {
  it("decodes Kafka Connect Decimal bytes (big-endian two's complement) exactly", () => {
    expect(twosComplement(Buffer.from([]))).to.equal(0n);
    expect(twosComplement(Buffer.from([0x7f]))).to.equal(127n);
    expect(twosComplement(Buffer.from([0xff]))).to.equal(-1n);
    expect(twosComplement(Buffer.from([0x00, 0x80]))).to.equal(128n);
    expect(twosComplement(Buffer.from([0x80, 0x00]))).to.equal(-32768n);
    expect(twosComplement(Buffer.from('WLYo', 'base64'))).to.equal(5813800n);
    expect(decimalValue(5813800n, 2)).to.equal(58138);
    expect(decimalValue(-4634450n, 2)).to.equal(-46344.5);
    expect(decimalValue(123456n, 2)).to.equal(1234.56);
    expect(decimalValue(15n, -2)).to.equal(1500);
    // Beyond 2^53 the unscaled value still rounds once, like parsing the decimal text.
    expect(decimalValue(12345678901234567891n, 3)).to.equal(Number('12345678901234567.891'));
  });

  it("reads source.snapshot as a boolean or Debezium's string enum", () => {
    for (const v of [true, 'true', 'first', 'last', 'first_in_data_collection', 'incremental'])
      expect(isSnapshot(v), String(v)).to.equal(true);
    for (const v of [false, 'false', undefined, null, '']) expect(isSnapshot(v), String(v)).to.equal(false);
  });

  it('a truncate deletes exactly the rows older than it, and a re-delivered one changes nothing', () => {
    const spec = { ...defaultSpec(), holdoutPct: 0 };
    const state = new CdcState(spec);
    const rows = syntheticCustomers(20, 5);
    rows.forEach((r, i) =>
      state.apply(r.ID as number, { op: 'c', before: null, after: r, ts_ms: 0, source: { table: 't', lsn: 10 + i, snapshot: false } }),
    );
    // Row 20 changes after the truncate (a higher lsn): it stays.
    const deleted = applyTruncate(state, 29);
    expect(deleted.sort((a, b) => a - b)).to.deep.equal(rows.slice(0, 19).map((r) => r.ID as number));
    expect(state.liveRows().map((r) => r.id)).to.deep.equal([rows[19].ID]);
    expect(state.stats.n).to.equal(1);
    expect(state.counters.events_applied).to.equal(21);
    // A stale event for a truncated row is skipped; the same truncate again deletes nothing.
    expect(
      state.apply(rows[0].ID as number, {
        op: 'u',
        before: null,
        after: rows[0],
        ts_ms: 0,
        source: { table: 't', lsn: 12, snapshot: false },
      }).status,
    ).to.equal('skipped');
    expect(applyTruncate(state, 29)).to.deep.equal([]);
    expect(state.counters.events_skipped).to.equal(2);
  });
});
