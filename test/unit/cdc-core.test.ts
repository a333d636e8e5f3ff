import { expect } from 'chai';
import { ExactSums } from '../../lib/cdc/exact';
import { SufficientStats } from '../../lib/cdc/stats';
import { ridgeFromRows, ridgeFromStats, relativeDifference } from '../../lib/cdc/ridge';
import { parseMessage, keyOf } from '../../lib/cdc/envelope';
import { compileEncoder, defaultSpec, encodeRow, type CustomerRow } from '../../lib/cdc/features';
import { idBucket } from '../../lib/cdc/split';
import { CdcState } from '../../lib/cdc/state';
import { rocAuc, chooseThreshold, classificationMetrics } from '../../lib/cdc/metrics';
import { generateChanges, prng, MALFORMED_KINDS, normalizeRow } from '../../lib/cdc/generator';
import { isHoldout } from '../../lib/cdc/split';

const FEATURES = ['a', 'b', 'c', 'k'];
const spec = { features: FEATURES, target: 'y', decimals: 0, holdoutPct: 0 };

function randomRows(n: number, seed: number): CustomerRow[] {
  const r = prng(seed);
  return Array.from({ length: n }, (_, i) => {
    const a = Math.floor(r() * 100_000);
    const b = Math.floor(r() * 10);
    const c = Math.floor(r() * 500) - 250;
    return { ID: i + 1, a, b, c, k: 7, y: r() < 0.2 + b / 20 ? 1 : 0, Name: `c${i}` };
  });
}

function maxRel(a: number[], b: number[]): number {
  return Math.max(0, ...a.map((v, i) => relativeDifference(v, b[i])));
}

describe('cdc core', () => {
  describe('ExactSums', () => {
    it('stays exact past 2^53 and returns to zero after retractions', () => {
      const s = new ExactSums(2);
      const big = 2 ** 52 + 3;
      let ref = 0n;
      for (let i = 0; i < 1000; i++) {
        s.add(0, big);
        s.addProduct(1, 94_906_267, 94_906_267 + i, 1); // products beyond 2^53
        ref += BigInt(94_906_267) * BigInt(94_906_267 + i);
      }
      expect(s.get(0)).to.equal(BigInt(big) * 1000n);
      expect(s.get(1)).to.equal(ref);
      for (let i = 0; i < 1000; i++) {
        s.add(0, -big);
        s.addProduct(1, 94_906_267, 94_906_267 + i, -1);
      }
      expect(s.get(0)).to.equal(0n);
      expect(s.get(1)).to.equal(0n);
      expect(ExactSums.fromStrings(['123456789012345678901234567890']).get(0)).to.equal(123456789012345678901234567890n);
    });
  });

  describe('SufficientStats and ridge', () => {
    it('insert then delete of every row restores the exact empty statistics', () => {
      const rows = randomRows(300, 1).map((r) => (encodeRow(r, spec) as { ok: true; row: { x: number[]; y: number } }).row);
      const s = new SufficientStats(FEATURES.length);
      rows.forEach((r) => s.add(r));
      const snapshot = SufficientStats.fromJSON(JSON.parse(JSON.stringify(s.toJSON())));
      expect(snapshot.equals(s)).to.equal(true);
      rows.forEach((r) => s.remove(r));
      expect(s.n).to.equal(0);
      expect(s.equals(new SufficientStats(FEATURES.length))).to.equal(true);
      expect(s.sumXX(2, 1)).to.equal(s.sumXX(1, 2));
    });

    it('the model from exact statistics equals a two-pass batch fit (≤1e-9), constant feature gets 0', () => {
      const rows = randomRows(500, 2);
      const s = new SufficientStats(FEATURES.length);
      rows.forEach((r) => s.add((encodeRow(r, spec) as { ok: true; row: { x: number[]; y: number } }).row));
      for (const lambda of [0, 1, 25]) {
        const inc = ridgeFromStats(s, lambda, [1, 1, 1, 1]);
        const batch = ridgeFromRows(
          rows.map((r) => FEATURES.map((f) => r[f] as number)),
          rows.map((r) => r.y as number),
          lambda,
          FEATURES.length,
        );
        expect(maxRel(inc.coefficients, batch.coefficients)).to.be.below(1e-9);
        expect(maxRel(inc.means, batch.means)).to.be.below(1e-12);
        expect(maxRel(inc.sds, batch.sds)).to.be.below(1e-12);
        expect(inc.intercept).to.be.closeTo(batch.intercept, 1e-15);
        expect(inc.coefficients[3]).to.equal(0);
        expect(inc.sds[3]).to.equal(0);
      }
    });

    it('fixed-point decimals: 2-decimal values are exact, more decimals are rejected with a reason', () => {
      const d = { features: ['v'], target: 'y', decimals: 2 };
      const ok = encodeRow({ v: 0.29, y: 1 }, d);
      expect(ok).to.deep.equal({ ok: true, row: { x: [29], y: 1 } });
      const bad = encodeRow({ v: 0.125, y: 1 }, d);
      expect(bad.ok).to.equal(false);
      expect((bad as { reason: string }).reason).to.match(/more than 2 decimal/);
      const r0 = encodeRow({ v: 1.5, y: 0 }, { ...d, decimals: 0 });
      expect((r0 as { reason: string }).reason).to.match(/v=1.5 has more than 0 decimal/);
      expect((encodeRow({ v: '12', y: 0 }, d) as { reason: string }).reason).to.match(/non-numeric feature v/);
      expect((encodeRow({ v: 1, y: 2 }, d) as { reason: string }).reason).to.match(/target y must be 0 or 1/);
    });
  });

  describe('parseMessage', () => {
    const row = { ID: 5, a: 1 };
    const ev = (o: Record<string, unknown>) =>
      JSON.stringify({ before: null, after: row, op: 'c', ts_ms: 1, source: { table: 't', lsn: 3, snapshot: false }, ...o });
    it('accepts a valid event and a tombstone', () => {
      const p = parseMessage(keyOf(5), ev({}));
      expect(p.kind).to.equal('event');
      expect(p).to.have.property('id', 5);
      expect(parseMessage(keyOf(5), null)).to.deep.equal({ kind: 'tombstone', id: 5 });
      const d = parseMessage(keyOf(5), ev({ op: 'd', before: row, after: null }));
      expect(d).to.include({ kind: 'event', id: 5 });
    });
    it('gives a reason for each kind of malformed event', () => {
      const reason = (k: string | null, v: string) => (parseMessage(k, v) as { reason?: string }).reason;
      expect(reason(keyOf(5), '{"op":')).to.match(/^malformed JSON/);
      expect(reason(keyOf(5), ev({ op: undefined }))).to.equal('missing op');
      expect(reason(keyOf(5), ev({ op: 'x' }))).to.equal('unknown op "x"');
      expect(reason(keyOf(5), ev({ after: { a: 1 } }))).to.equal('after without ID');
      expect(reason(keyOf(5), ev({ source: { table: 't' } }))).to.equal('missing or invalid source.lsn');
      expect(reason(keyOf(6), ev({}))).to.match(/does not match/);
      expect(reason(keyOf(5), '[1]')).to.match(/not a JSON object/);
    });
  });

  describe('CdcState', () => {
    const cfg = { features: ['a'], target: 'y', decimals: 0, holdoutPct: 0 };
    const mk = (op: 'r' | 'c' | 'u' | 'd', lsn: number, after: CustomerRow | null, before: CustomerRow | null = null) => ({
      before,
      after,
      op,
      ts_ms: 0,
      source: { table: 't', lsn, snapshot: op === 'r' },
    });
    it('last writer wins by lsn; replays and stale events change nothing; updates retract the stored row', () => {
      const st = new CdcState(cfg);
      expect(st.apply(1, mk('r', 1, { ID: 1, a: 10, y: 0 })).status).to.equal('applied');
      expect(st.apply(2, mk('c', 2, { ID: 2, a: 20, y: 1 })).status).to.equal('applied');
      expect(st.apply(1, mk('u', 5, { ID: 1, a: 11, y: 1 }, { ID: 1, a: 999, y: 0 })).status).to.equal('applied');
      expect(st.apply(1, mk('u', 5, { ID: 1, a: 11, y: 1 })).status).to.equal('skipped'); // replay
      expect(st.apply(1, mk('u', 4, { ID: 1, a: 50, y: 0 })).status).to.equal('skipped'); // stale
      expect(st.apply(2, mk('d', 6, null, { ID: 2 })).status).to.equal('applied');
      expect(st.apply(2, mk('c', 3, { ID: 2, a: 30, y: 0 })).status).to.equal('skipped'); // stale insert after delete
      const bad = st.apply(3, mk('c', 7, { ID: 3, a: 'x', y: 0 }));
      expect(bad).to.deep.include({ status: 'invalid' });
      expect(st.liveRows()).to.deep.equal([{ id: 1, row: { ID: 1, a: 11, y: 1 } }]);
      expect(st.stats.equals(st.recomputeStats())).to.equal(true);
      expect(st.stats.n).to.equal(1);
      expect(st.stats.sumX(0)).to.equal(11n);
      expect(st.counters).to.include({ events_applied: 4, events_skipped: 3 });
    });
    it('held-out IDs stay in the table but out of the statistics', () => {
      const st = new CdcState({ ...cfg, holdoutPct: 50 });
      for (let id = 1; id <= 200; id++) st.apply(id, mk('c', id, { ID: id, a: id, y: id % 2 }));
      const held = st.liveRows().filter((r) => isHoldout(r.id, 50)).length;
      expect(held).to.be.within(60, 140);
      expect(st.stats.n).to.equal(200 - held);
    });
  });

  describe('compiled encoder and id buckets', () => {
    it("compileEncoder gives encodeRow's result on good and bad rows (default and custom specs, decimals 0 and 2)", () => {
      const r = prng(11);
      const values: unknown[] = [
        0,
        -0,
        1,
        7,
        -3,
        2.5,
        0.01,
        2 ** 53,
        2 ** 31,
        -(2 ** 31) - 1,
        NaN,
        Infinity,
        null,
        undefined,
        '4',
        true,
        {},
      ];
      const pick = () => (r() < 0.995 ? Math.floor(r() * 2000) - 1000 : values[Math.floor(r() * values.length)]);
      const specs = [
        defaultSpec(),
        { ...defaultSpec(), decimals: 2 },
        { features: ['a', 'Tenure_Days', 'Marital_Single', 'b'], target: 'y', decimals: 0 },
        { features: ['a', 'Education_Level'], target: 'Education_Level', decimals: 0 },
      ];
      const dates = ['2014-06-30', '30-06-2014', 16000, 'not a date', null, 1.5];
      const levels = ['Graduation', 'PhD', 'Basic', 'Nope', 3, null];
      const marital = ['Married', 'Alone', 'YOLO', 'Single', 7, null];
      let ok = 0;
      for (const spec of specs) {
        const enc = compileEncoder(spec);
        for (let i = 0; i < 3000; i++) {
          const row: CustomerRow = {};
          for (const f of [...spec.features, 'a', 'b']) if (r() < 0.998) row[f] = pick() as number;
          if (r() < 0.5) delete row.Tenure_Days;
          for (const f of ['Education_Level', 'Marital_Single', 'Marital_Married', 'Marital_Together', 'Marital_Divorced', 'Marital_Widow'])
            if (r() < 0.9) delete row[f];
          row.Dt_Customer = dates[Math.floor(r() * dates.length)] as string;
          row.Education = levels[Math.floor(r() * levels.length)] as string;
          row.Marital_Status = marital[Math.floor(r() * marital.length)] as string;
          const y = r();
          if (y < 0.9) row[spec.target] = y < 0.3 ? 0 : y < 0.6 ? 1 : y < 0.8 ? null : (pick() as number);
          const want = encodeRow(row, spec);
          expect(enc(row)).to.deep.equal(want);
          if (want.ok) ok++;
        }
      }
      // Both outcomes are exercised, on every spec together.
      expect(ok).to.be.within(1000, 11000);
    });

    it('idBucket is FNV-1a of the decimal text for any number', () => {
      const fnv = (id: number) => {
        const s = String(id);
        let h = 0x811c9dc5;
        for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
        return h % 100;
      };
      const ids = [0, -0, 1, 9, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 2 ** 32 + 7, 2 ** 53 - 1, 2 ** 53, 1e21, -5, 1.5, NaN];
      for (let i = 0; i < 5000; i++) ids.push(Math.floor(Math.random() * 10 ** (1 + (i % 15))));
      for (const id of ids) expect(idBucket(id), String(id)).to.equal(fnv(id));
    });
  });

  describe('metrics', () => {
    it('ROC AUC with ties, threshold by F1, confusion metrics', () => {
      expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).to.equal(0.75);
      expect(rocAuc([0.5, 0.5], [0, 1])).to.equal(0.5);
      expect(rocAuc([1, 2], [1, 1])).to.equal(null);
      const t = chooseThreshold([0.1, 0.2, 0.7, 0.9], [0, 0, 1, 1]);
      expect(t).to.equal(0.7);
      const m = classificationMetrics([0.1, 0.2, 0.7, 0.9], [0, 1, 1, 0], 0.5);
      expect(m).to.include({ rows: 4, positives: 2, accuracy: 0.5, precision: 0.5, recall: 0.5 });
    });
  });

  describe('generateChanges', () => {
    const base = randomRows(50, 3).map((r) => ({
      ...r,
      Income: r.a,
      Recency: 5,
      MntWines: 10,
      NumWebPurchases: 1,
      AcceptedCmp1: 0,
      Response: r.y,
    }));
    const opts = { seed: 42, updates: 400, replayRate: 0.1, malformedRate: 0.05 };
    it('is deterministic for a seed, with strictly rising lsn and a tombstone after each delete', () => {
      const a = [...generateChanges(base, opts)];
      const b = [...generateChanges(base, opts)];
      expect(a).to.deep.equal(b);
      expect([...generateChanges(base, { ...opts, seed: 43 })]).to.not.deep.equal(a);
      let last = 0;
      const kinds: Record<string, number> = {};
      a.forEach((m, i) => {
        kinds[m.kind] = (kinds[m.kind] ?? 0) + 1;
        if (m.kind === 'delete') expect(a[i + 1]).to.deep.equal({ key: m.key, value: null, kind: 'tombstone' });
        if (['snapshot', 'insert', 'update', 'delete'].includes(m.kind)) {
          const lsn = JSON.parse(m.value!).source.lsn as number;
          expect(lsn).to.be.above(last);
          last = lsn;
        }
      });
      expect(kinds.snapshot).to.equal(50);
      expect(kinds.insert! + kinds.update! + kinds.delete!).to.equal(400);
      expect(kinds.tombstone).to.equal(kinds.delete);
      expect(kinds.replay).to.be.above(10);
      expect(kinds.malformed).to.be.above(5);
    });
    it('every malformed message is rejected by the consumer with the matching reason', () => {
      const st = new CdcState({ features: ['Income', 'Recency'], target: 'Response', decimals: 0, holdoutPct: 0 });
      const reasons: string[] = [];
      for (const m of generateChanges(base, opts)) {
        const p = parseMessage(m.key, m.value);
        let reason: string | undefined;
        if (p.kind === 'invalid') reason = p.reason;
        else if (p.kind === 'event') {
          const r = st.apply(p.id, p.event);
          if (r.status === 'invalid') reason = r.reason;
        }
        if (m.kind === 'malformed') {
          expect(reason, m.value!).to.be.a('string');
          reasons.push(reason!);
        } else expect(reason, m.value ?? 'tombstone').to.equal(undefined);
      }
      for (const k of MALFORMED_KINDS)
        expect(
          reasons.some((r) => r.startsWith(k === 'non-numeric feature' ? 'non-numeric feature Income' : k)),
          k,
        ).to.equal(true);
    });
    it('normalizes Spark values and drops the scaled columns', () => {
      expect(
        normalizeRow({ ID: 5n, Income_norm: 0.5, Income_std: 1.2, Income: 58138, Dt: new Date('2012-09-04T00:00:00Z') }),
      ).to.deep.equal({ ID: 5, Income: 58138, Dt: '2012-09-04' });
    });
  });
});
