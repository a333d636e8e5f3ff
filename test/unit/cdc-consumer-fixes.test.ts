import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { checkOffsets, lambdaProblem, runCdcConsumer } from '../../lib/cdc/consumer';
import {
  DEFAULT_FEATURES,
  defaultSpec,
  encodeRow,
  epochDays,
  featureValues,
  sourceColumns,
  type CustomerRow,
} from '../../lib/cdc/features';
import { brierScore, majorityBaseline, prAuc } from '../../lib/cdc/metrics';
import { relativeDifference, ridgeFromRows } from '../../lib/cdc/ridge';
import { CdcState } from '../../lib/cdc/state';
import { SufficientStats } from '../../lib/cdc/stats';
import { prng } from '../../lib/cdc/generator';
import { StateStore, StateStoreError } from '../../lib/cdc/store';
import { trainingData } from '../../lib/cdc/verify';
import consumeJob from '../../jobs/cdc-consume';

const cfg = { features: ['a'], target: 'y', decimals: 0, holdoutPct: 0 };
const ev = (op: 'r' | 'c' | 'u' | 'd', lsn: number, after: CustomerRow | null) => ({
  before: null,
  after,
  op,
  ts_ms: 0,
  source: { table: 't', lsn, snapshot: false },
});

describe('cdc consumer fixes', () => {
  let dir: string;
  beforeEach(() => {
    dir = path.join(os.tmpdir(), `cdc-fixes-${randomUUID()}`);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('bug 2: λ must be > 0, refused by the job and by the consumer before it touches Kafka', async () => {
    expect(lambdaProblem(1)).to.equal(undefined);
    for (const l of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(lambdaProblem(l)).to.match(/--lambda must be a finite number > 0/);
    const args = { topic: 't', 'state-dir': dir, lambda: 0, reset: false, 'checkpoint-events': 10, 'checkpoint-ms': 10, 'progress-ms': 10 };
    expect(consumeJob.validate?.(args)).to.match(/--lambda must be a finite number > 0, got 0/);
    const err = await runCdcConsumer({
      topic: 't',
      stateDir: dir,
      lambda: 0,
      bootstrapServers: '127.0.0.1:1',
      checkpointEvents: 10,
      checkpointMs: 10,
      log: () => undefined,
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).to.be.instanceOf(StateStoreError);
    expect(err?.message).to.match(/--lambda must be/);
  });

  it('bug 4: stored offsets are checked against the watermarks (beyond high: refused; below low: refused or a counted warning)', () => {
    const wm = [
      { partition: 0, low: 10, high: 50 },
      { partition: 1, low: 0, high: 5 },
    ];
    const warnings: string[] = [];
    expect([...checkOffsets('t', new Map([[0, 20]]), wm, false, (l) => warnings.push(l)).next]).to.deep.equal([
      [0, 20],
      [1, 0],
    ]);
    expect(() => checkOffsets('t', new Map([[1, 6]]), wm, false, () => undefined)).to.throw(
      StateStoreError,
      /stored offset 6 of t partition 1 is beyond the partition's end \(high watermark 5\)/,
    );
    expect(() => checkOffsets('t', new Map([[0, 4]]), wm, false, () => undefined)).to.throw(
      StateStoreError,
      /below the partition's start \(low watermark 10\): 6 events were deleted by retention/,
    );
    expect(() => checkOffsets('t', new Map([[2, 0]]), wm, false, () => undefined)).to.throw(
      StateStoreError,
      /partition 2, which the topic no longer has/,
    );
    const gap = checkOffsets('t', new Map([[0, 4]]), wm, true, (l) => warnings.push(l));
    expect(gap.lost).to.equal(6);
    expect(gap.next.get(0)).to.equal(10);
    expect(warnings.join('\n')).to.match(/WARNING: t partition 0: offsets 4\.\.9 \(6 events\) were deleted by retention/);
  });

  it('bug 5: a second open of the same state directory is refused while the first holds it, and allowed after', () => {
    const defaults = { features: ['a'], target: 'y', decimals: 0, holdoutPct: 0 };
    const a = StateStore.open(dir, { config: {}, defaults, topic: 't' });
    expect(() => StateStore.open(dir, { config: {}, defaults, topic: 't' })).to.throw(StateStoreError, /is in use by another consumer/);
    expect(() => StateStore.open(dir, { config: {}, defaults, topic: 't', reset: true })).to.throw(StateStoreError, /is in use/);
    a.store.close();
    const b = StateStore.open(dir, { config: {}, defaults, topic: 't' });
    expect(b.created).to.equal(false);
    b.store.close();
  });

  it("bug 6: a DLQ'd update retracts the old row and says so; a stale bad event retracts nothing", () => {
    const st = new CdcState(cfg);
    st.apply(1, ev('r', 1, { ID: 1, a: 10, y: 1 }));
    st.apply(2, ev('r', 2, { ID: 2, a: 20, y: 0 }));
    expect(st.apply(1, ev('u', 3, { ID: 1, a: 'n/a', y: 1 }))).to.deep.equal({
      status: 'invalid',
      reason: 'non-numeric feature a: "n/a"',
      retracted: true,
    });
    expect(st.apply(2, ev('u', 1, { ID: 2, a: 'n/a', y: 1 }))).to.deep.equal({
      status: 'invalid',
      reason: 'non-numeric feature a: "n/a"',
      retracted: false,
    });
    expect(st.liveRows().map((r) => r.id)).to.deep.equal([2]);
    expect(st.stats.n).to.equal(1);
    expect(st.stats.equals(st.recomputeStats())).to.equal(true);
    expect(st.counters.dlq_retracted).to.equal(1);
    // An older good event cannot bring the retracted row back; a newer one can.
    expect(st.apply(1, ev('u', 2, { ID: 1, a: 11, y: 1 })).status).to.equal('skipped');
    expect(st.apply(1, ev('u', 4, { ID: 1, a: 12, y: 1 })).status).to.equal('applied');
    expect(st.tableRows).to.equal(2);
  });

  it('bug 6: unlabeled rows count in the table and not in the model; the model equals a refit on the labeled rows', () => {
    const st = new CdcState(cfg);
    st.apply(1, ev('r', 1, { ID: 1, a: 10, y: 1 }));
    st.apply(2, ev('r', 2, { ID: 2, a: 20, y: 0 }));
    st.apply(3, ev('c', 3, { ID: 3, a: 30, y: null }));
    st.apply(4, ev('c', 4, { ID: 4, a: 45, y: 1 }));
    expect(st.tableRows).to.equal(4);
    expect(st.unlabeledRows).to.equal(1);
    expect(st.stats.n).to.equal(3);
    // The label arrives: the row enters the model; it is lost again: it leaves.
    st.apply(3, ev('u', 5, { ID: 3, a: 30, y: 0 }));
    expect([st.stats.n, st.unlabeledRows]).to.deep.equal([4, 0]);
    st.apply(3, ev('u', 6, { ID: 3, a: 31, y: null }));
    expect([st.stats.n, st.unlabeledRows, st.tableRows]).to.deep.equal([3, 1, 4]);
    expect(st.stats.equals(st.recomputeStats())).to.equal(true);
    const { xs, ys } = trainingData(st);
    expect(xs).to.deep.equal([[10], [20], [45]]);
    const fit = ridgeFromRows(xs, ys, 1, 1);
    expect(relativeDifference(st.model(1).coefficients[0], fit.coefficients[0])).to.be.below(1e-12);
    expect(st.evaluate(st.model(1)).train.rows).to.equal(3);
    expect((encodeRow({ a: 1, y: 2 }, cfg) as { reason: string }).reason).to.match(/target y must be 0 or 1/);
  });

  it('bug 6: deleted keys are pruned once `retention` further offsets of their partition are consumed, and survive a reload', () => {
    const defaults = { features: ['a'], target: 'y', decimals: 0, holdoutPct: 0 };
    const { store, state } = StateStore.open(dir, { config: {}, defaults, topic: 't' });
    state.apply(1, ev('r', 1, { ID: 1, a: 1, y: 1 }), { partition: 0, offset: 0 });
    state.apply(2, ev('r', 2, { ID: 2, a: 2, y: 0 }), { partition: 0, offset: 1 });
    state.apply(3, ev('r', 3, { ID: 3, a: 3, y: 0 }), { partition: 1, offset: 0 });
    state.apply(1, ev('d', 4, null), { partition: 0, offset: 2 });
    state.apply(3, ev('d', 5, null), { partition: 1, offset: 1 });
    state.apply(2, ev('d', 6, null), { partition: 0, offset: 3 });
    state.apply(2, ev('c', 7, { ID: 2, a: 5, y: 1 }), { partition: 0, offset: 4 }); // re-inserted: not pruned
    expect(state.keys.get(1)).to.deep.equal({ lsn: 4, row: null, deletedAt: [0, 2] });
    // Within the window nothing goes: a replay of key 1's insert is still skipped.
    expect(
      state.pruneDeleted(
        new Map([
          [0, 5],
          [1, 2],
        ]),
        3,
      ),
    ).to.equal(0);
    expect(state.apply(1, ev('r', 1, { ID: 1, a: 1, y: 1 }), { partition: 0, offset: 5 }).status).to.equal('skipped');
    store.commit(state.takeDirty(), state, [
      [0, 6],
      [1, 2],
    ]);
    store.close();
    const again = StateStore.open(dir, { config: {}, defaults, topic: 't' });
    const s2 = again.state;
    // next − delete offset > retention: key 1 (offset 2, next 6, retention 3) goes; key 3 (partition 1) stays.
    expect(
      s2.pruneDeleted(
        new Map([
          [0, 6],
          [1, 2],
        ]),
        3,
      ),
    ).to.equal(1);
    expect(s2.keys.has(1)).to.equal(false);
    expect(s2.keys.get(3)).to.deep.equal({ lsn: 5, row: null, deletedAt: [1, 1] });
    expect(s2.keys.get(2)?.row).to.deep.equal({ x: [5], y: 1 });
    expect(s2.counters.deletes_pruned).to.equal(1);
    again.store.commit(s2.takeDirty(), s2, [[0, 6]]);
    again.store.close();
    const third = StateStore.open(dir, { config: {}, defaults, topic: 't' });
    expect([...third.state.keys.keys()].sort()).to.deep.equal([2, 3]);
    expect(third.state.stats.equals(third.state.recomputeStats())).to.equal(true);
    third.store.close();
  });

  it('throughput: the inlined outer product stays exact past 2^53 and after retractions', () => {
    const s = new SufficientStats(3);
    const rows = [
      [94_906_267, 3, 0],
      [-94_906_265, 94_906_267, 7],
      [2 ** 52, 1, 2],
    ].map((x, i) => ({ x, y: i % 2 }));
    for (const r of rows) s.add(r);
    const ref = (j: number, l: number) => rows.reduce((acc, r) => acc + BigInt(r.x[j]) * BigInt(r.x[l]), 0n);
    for (let j = 0; j < 3; j++) for (let l = j; l < 3; l++) expect(s.sumXX(j, l), `${j},${l}`).to.equal(ref(j, l));
    for (const r of rows) s.remove(r);
    expect(s.equals(new SufficientStats(3))).to.equal(true);
  });

  it('throughput: replace(old, new) with every value within ±2^26 (one-check updates) stays exact as sums cross 2^53', () => {
    const r = prng(17);
    const p = 5;
    const LIM = 2 ** 26;
    // Values up to the bound itself (products up to 2^52): a few rows take a sum past 2^53.
    const draw = () => (r() < 0.1 ? (r() < 0.5 ? -LIM : LIM) : Math.floor((r() * 2 - 1) * LIM));
    const rows = Array.from({ length: 40 }, () => ({ x: Array.from({ length: p }, draw), y: r() < 0.5 ? 1 : 0 }));
    const a = replaceEqualsRemoveAdd(
      rows,
      3000,
      r,
      (x) => {
        for (let c = 0; c < 1 + Math.floor(r() * 3); c++) x[Math.floor(r() * p)] = draw();
      },
      0.2,
    );
    // The sums did leave the float range (the BigInt part was used).
    expect([...Array(SufficientStats.slots(p)).keys()].some((i) => a.sums.get(i) > BigInt(Number.MAX_SAFE_INTEGER))).to.equal(true);
  });

  it('throughput: replace(old, new) touches only changed terms and equals remove + add exactly', () => {
    const r = prng(7);
    const p = 6;
    // Column 0 past 2^53 in products, columns 1–2 signed near 2^26.5 (products and sums around 2^53), the rest small.
    const big = (j: number) => (j === 0 ? 2 ** 40 : j < 3 ? 2 ** 26.5 : 1000);
    const draw = (j: number) => Math.floor(r() * big(j)) * (j === 1 || j === 2 ? (r() < 0.5 ? -1 : 1) : 1);
    const rows = Array.from({ length: 50 }, () => ({
      x: Array.from({ length: p }, (_, j) => draw(j) * (r() < 0.2 ? 0 : 1)),
      y: r() < 0.3 ? 1 : 0,
    }));
    replaceEqualsRemoveAdd(
      rows,
      2000,
      r,
      (x) => {
        for (let c = 0; c < 1 + Math.floor(r() * 3); c++) {
          const j = Math.floor(r() * p);
          x[j] = r() < 0.2 ? 0 : draw(j);
        }
      },
      0.1,
    );
  });

  it('quality: integer encodings of date, education and marital status; PR AUC, Brier and the majority baseline', () => {
    expect(epochDays('2012-09-04')).to.equal(epochDays('04-09-2012'));
    expect(epochDays(15587)).to.equal(15587);
    expect(epochDays('2012-02-30')).to.equal(undefined);
    const row: CustomerRow = { ID: 1, Year_Birth: 1957, Education: 'PhD', Marital_Status: 'Alone', Dt_Customer: '2014-12-31', Response: 1 };
    for (const f of DEFAULT_FEATURES.slice(0, 21)) row[f] = 1;
    const enc = encodeRow(row, { features: [...DEFAULT_FEATURES], target: 'Response', decimals: 0 });
    expect(enc.ok).to.equal(true);
    const x = (enc as { ok: true; row: { x: number[] } }).row.x;
    const at = (f: string) => x[DEFAULT_FEATURES.indexOf(f)];
    expect([at('Year_Birth'), at('Tenure_Days'), at('Education_Level'), at('Marital_Single'), at('Marital_Married')]).to.deep.equal([
      1957, 1, 4, 1, 0,
    ]);
    expect(featureValues(row, defaultSpec())).to.deep.equal(x);
    expect(sourceColumns(defaultSpec())).to.include.members([
      'Dt_Customer',
      'Education',
      'Marital_Status',
      'Year_Birth',
      'Income',
      'Response',
    ]);
    expect(
      (
        encodeRow({ ...row, Education: 'Kindergarten' }, { features: ['Education_Level'], target: 'Response', decimals: 0 }) as {
          reason: string;
        }
      ).reason,
    ).to.match(/unknown Education "Kindergarten"/);
    expect(prAuc([0.9, 0.8, 0.3, 0.1], [1, 0, 1, 0])).to.be.closeTo((1 / 2) * 1 + (1 / 2) * (2 / 3), 1e-12);
    expect(brierScore([1.4, 0.5, -1], [1, 0, 0])).to.be.closeTo(0.25 / 3, 1e-12);
    const base = majorityBaseline([0, 0, 0, 1], [0, 1, 0, 0]);
    expect(base).to.include({ accuracy: 0.75, recall: 0, roc_auc: 0.5 });
    expect(base.brier).to.be.closeTo((0.0625 * 3 + 0.5625) / 4, 1e-12);
  });
});

/**
 * Replaces random rows `steps` times (a copy of the old features changed by `mutate`, the label flipped with
 * probability `flip`) in one SufficientStats through replace() and in another through remove() + add();
 * checks both equal each other and a fresh fit of the final rows. Returns the replace() side.
 */
function replaceEqualsRemoveAdd(
  rows: Array<{ x: number[]; y: number }>,
  steps: number,
  r: () => number,
  mutate: (x: number[]) => void,
  flip: number,
): SufficientStats {
  const p = rows[0].x.length;
  const a = new SufficientStats(p);
  const b = new SufficientStats(p);
  rows.forEach((row) => (a.add(row), b.add(row)));
  for (let i = 0; i < steps; i++) {
    const k = Math.floor(r() * rows.length);
    const old = rows[k];
    const x = old.x.slice();
    mutate(x);
    const row = { x, y: r() < flip ? 1 - old.y : old.y };
    a.replace(old, row);
    b.remove(old);
    b.add(row);
    rows[k] = row;
  }
  expect(a.equals(b)).to.equal(true);
  const fresh = new SufficientStats(p);
  rows.forEach((row) => fresh.add(row));
  expect(a.equals(fresh)).to.equal(true);
  return a;
}
