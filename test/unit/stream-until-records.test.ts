import { expect } from 'chai';
import { untilRecordsState } from '../../lib/stream/run';
import type { BatchMetrics } from '../../lib/stream/metrics';

/** A batch of one query with `rows` source records (the other figures do not matter here). */
function batch(query: string, batchId: number, rows: number): BatchMetrics {
  return {
    query,
    batchId,
    timestamp: '',
    numInputRows: rows,
    sourceRows: rows,
    inputRowsPerSecond: null,
    processedRowsPerSecond: null,
    batchDurationMs: null,
    durations: {},
    watermark: null,
    stateRows: null,
    rowsDroppedByWatermark: null,
  };
}

describe('stream job --until-records: when a run has read what its producer sent', () => {
  it('reads until both source readers have the records, then waits for the heavy query batch without input', () => {
    const b = [batch('live', 0, 600), batch('kafka', 0, 0), batch('kafka', 1, 700)];
    expect(untilRecordsState(b, 1000, true)).to.equal('reading');
    b.push(batch('kafka', 2, 300));
    // The heavy query has them all, the live query not yet.
    expect(untilRecordsState(b, 1000, true)).to.equal('reading');
    expect(untilRecordsState(b, 1000, false)).to.equal('closing');
    b.push(batch('live', 1, 400));
    expect(untilRecordsState(b, 1000, true)).to.equal('closing');
    // A copy's empty batch is not the heavy query's closing batch.
    b.push(batch('aggregates_10s', 0, 0));
    expect(untilRecordsState(b, 1000, true)).to.equal('closing');
    b.push(batch('kafka', 3, 0));
    expect(untilRecordsState(b, 1000, true)).to.equal('done');
  });

  it('an empty heavy batch before the records were all read does not count as the closing one', () => {
    const b = [batch('kafka', 0, 500), batch('kafka', 1, 0), batch('kafka', 2, 500)];
    expect(untilRecordsState(b, 1000, false)).to.equal('closing');
    expect(untilRecordsState([...b, batch('kafka', 3, 0)], 1000, false)).to.equal('done');
  });
});
