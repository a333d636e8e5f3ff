import { expect } from 'chai';
import { NewestWindows, slopePerMinute } from '../../lib/stream/metrics';

describe('stream metrics: newest windows', () => {
  it("tells an update of a sensor's newest window from one of an older window reopened by a late reading", () => {
    const w = new NewestWindows();
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    expect(w.isOlder('s1', t(0))).to.equal(false);
    expect(w.isOlder('s1', t(10))).to.equal(false);
    // A late reading reopened the 0 s window of s1: older; s1's 10 s window stays its newest.
    expect(w.isOlder('s1', t(0))).to.equal(true);
    expect(w.isOlder('s1', t(10))).to.equal(false);
    // Sensors are independent.
    expect(w.isOlder('s2', t(0))).to.equal(false);
    expect(w.isOlder('s2', t(20))).to.equal(false);
    expect(w.isOlder('s1', t(20))).to.equal(false);
    expect(w.isOlder('s2', t(10))).to.equal(true);
  });
});

describe('stream metrics: memory trend', () => {
  it('gives the least-squares slope of evenly spaced samples per minute', () => {
    // 10 s apart, +5 MiB per sample: 30 MiB per minute.
    expect(slopePerMinute([100, 105, 110, 115], 10)).to.be.closeTo(30, 1e-9);
    expect(slopePerMinute([200, 200, 200], 10)).to.equal(0);
    // One step up in the middle of a flat run is spread over the run, not read as its size.
    expect(slopePerMinute([0, 0, 0, 60, 60, 60], 60)).to.be.closeTo(270 / 17.5, 1e-9);
    expect(slopePerMinute([42], 10)).to.equal(null);
    expect(slopePerMinute([], 10)).to.equal(null);
  });
});
