import { expect } from 'chai';
import { NewestWindows } from '../../lib/stream/metrics';

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
