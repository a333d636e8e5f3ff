import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { StateStore, StateStoreError, readStoreReadOnly, type StoreTuning } from '../../lib/cdc/store';
import { CdcState } from '../../lib/cdc/state';
import { writeFileAtomic } from '../../lib/cdc/atomic';
import type { ModelConfig } from '../../lib/cdc/state';

const defaults: ModelConfig = { features: ['a', 'b'], target: 'y', decimals: 0, holdoutPct: 0 };
const ev = (lsn: number, after: Record<string, number> | null, op: 'c' | 'u' | 'd' = 'c') => ({
  before: null,
  after,
  op,
  ts_ms: 0,
  source: { table: 't', lsn, snapshot: false },
});

describe('cdc state store', () => {
  let dir: string;
  beforeEach(() => {
    dir = path.join(os.tmpdir(), `cdc-store-${randomUUID()}`);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('commits table, statistics, counters and offsets together and reloads them exactly', () => {
    const a = StateStore.open(dir, { config: {}, defaults, topic: 't' });
    expect(a.created).to.equal(true);
    const st = a.state;
    st.apply(1, ev(1, { ID: 1, a: 3, b: 4, y: 1 }));
    st.apply(2, ev(2, { ID: 2, a: 5, b: 6, y: 0 }));
    a.store.commit(
      new Map([
        [1, st.keys.get(1)!],
        [2, st.keys.get(2)!],
      ]),
      st,
      [[0, 2]],
    );
    st.apply(1, ev(3, null, 'd'));
    a.store.commit(new Map([[1, st.keys.get(1)!]]), st, [
      [0, 3],
      [1, 7],
    ]);
    a.store.close();
    const b = StateStore.open(dir, { config: {}, defaults, topic: 't' });
    expect(b.created).to.equal(false);
    expect(b.state.liveRows()).to.deep.equal([{ id: 2, row: { ID: 2, a: 5, b: 6, y: 0 } }]);
    expect(b.state.keys.get(1)).to.deep.equal({ lsn: 3, row: null });
    expect(b.state.stats.equals(st.stats)).to.equal(true);
    expect(b.state.counters).to.deep.equal(st.counters);
    expect([...b.offsets]).to.deep.equal([
      [0, 3],
      [1, 7],
    ]);
    b.store.close();
    expect(readStoreReadOnly(dir).state.liveRows()).to.have.length(1);
  });

  const manyCommits = (tuning?: StoreTuning) => {
    const a = StateStore.open(dir, { config: {}, defaults, topic: 't', tuning });
    const st = a.state;
    let lsn = 0;
    let offset = 0;
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 6; round++) {
      // 0–400 changes: inserts, updates and deletes (with their positions), then prune, then commit what is dirty.
      const changes = Math.floor(rand() * 400);
      for (let i = 0; i < changes; i++) {
        const id = 1 + Math.floor(rand() * 300);
        const del = rand() < 0.45;
        st.apply(
          id,
          ev(
            ++lsn,
            del ? null : { ID: id, a: Math.floor(rand() * 9), b: Math.floor(rand() * 9), y: rand() < 0.5 ? 1 : 0 },
            del ? 'd' : 'u',
          ),
          { partition: 0, offset: offset++ },
        );
      }
      st.pruneDeleted(new Map([[0, offset]]), 10);
      a.store.commit(st.takeDirty(), st, [[0, offset]]);
    }
    expect(st.counters.deletes_pruned).to.be.above(64);
    a.store.close();
    const b = StateStore.open(dir, { config: {}, defaults, topic: 't' });
    expect(new Map([...b.state.keys].sort((x, y) => x[0] - y[0]))).to.deep.equal(new Map([...st.keys].sort((x, y) => x[0] - y[0])));
    expect(b.state.stats.equals(st.stats)).to.equal(true);
    b.store.close();
    return a.store.writes;
  };

  it('commits hundreds of keys per commit (one delta segment each) and reloads every key exactly', () => {
    const w = manyCommits();
    expect(w.compactions).to.equal(0);
    expect(w.deltas).to.equal(6);
  });

  it('compacts the segment chain into a new base when the deltas outgrow it, and reloads every key exactly', () => {
    // Compact as soon as the deltas exceed the base: several compactions over the six commits.
    const w = manyCommits({ compactFactor: 1, compactMinBytes: 0 });
    expect(w.compactions).to.be.at.least(2);
    expect(w.deltas).to.be.at.least(1);
  });

  it('reads a version 2 store (one SQLite row per key) and converts it to segments, exactly', () => {
    fs.mkdirSync(dir, { recursive: true });
    const db = new Database(path.join(dir, 'state.db'));
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE rows (id INTEGER PRIMARY KEY, lsn INTEGER NOT NULL, x BLOB, y INTEGER, del_partition INTEGER, del_offset INTEGER);
      CREATE TABLE offsets (topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL, PRIMARY KEY (topic, partition));
    `);
    const st = new CdcState(defaults);
    st.apply(1, ev(1, { ID: 1, a: 3, b: 4, y: 1 }));
    st.apply(2, ev(2, { ID: 2, a: 2 ** 40, b: -6, y: 0 }));
    st.apply(3, ev(3, { ID: 3, a: 1, b: 1, y: 1 }));
    st.apply(3, ev(4, null, 'd'), { partition: 0, offset: 9 });
    const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    put.run('schema_version', '2');
    put.run('config', JSON.stringify(defaults));
    put.run('topic', 't');
    put.run('stats', JSON.stringify(st.stats.toJSON()));
    put.run('counters', JSON.stringify(st.counters));
    const vec = (x: number[], wide: boolean) => {
      const a = wide ? Float64Array.from(x) : Int32Array.from(x);
      return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    };
    const row = db.prepare('INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?)');
    row.run(1, 1, vec([3, 4], false), 1, null, null);
    row.run(2, 2, vec([2 ** 40, -6], true), 0, null, null);
    row.run(3, 4, null, null, 0, 9);
    db.prepare('INSERT INTO offsets VALUES (?, ?, ?)').run('t', 0, 10);
    db.close();
    for (let i = 0; i < 2; i++) {
      // The first open converts, the second reads the segments.
      const b = StateStore.open(dir, { config: {}, defaults, topic: 't' });
      expect(new Map([...b.state.keys].sort((x, y) => x[0] - y[0]))).to.deep.equal(st.keys);
      expect(b.state.stats.equals(st.stats)).to.equal(true);
      expect([...b.offsets]).to.deep.equal([[0, 10]]);
      b.store.close();
    }
    expect(readStoreReadOnly(dir).state.liveRows()).to.have.length(2);
  });

  it('refuses a corrupt store, a missing store next to model.json, and a changed feature list; --reset starts over', () => {
    const a = StateStore.open(dir, { config: {}, defaults, topic: 't' });
    a.store.close();
    expect(() => StateStore.open(dir, { config: { features: ['a'] }, defaults, topic: 't' })).to.throw(
      StateStoreError,
      /built with features/,
    );
    expect(() => StateStore.open(dir, { config: {}, defaults, topic: 'other' })).to.throw(StateStoreError, /belongs to topic t/);
    fs.writeFileSync(path.join(dir, 'state.db'), 'this is not a database, just some bytes '.repeat(200));
    expect(() => StateStore.open(dir, { config: {}, defaults, topic: 't' })).to.throw(StateStoreError, /corrupt/);
    fs.rmSync(path.join(dir, 'state.db'));
    writeFileAtomic(path.join(dir, 'model.json'), '{}');
    expect(() => StateStore.open(dir, { config: {}, defaults, topic: 't' })).to.throw(StateStoreError, /missing but .*model\.json exists/);
    const r = StateStore.open(dir, { reset: true, config: { features: ['a'] }, defaults, topic: 't' });
    expect(r.created).to.equal(true);
    expect(r.state.config.features).to.deep.equal(['a']);
    expect(fs.existsSync(path.join(dir, 'model.json'))).to.equal(false);
    r.store.close();
  });

  it('detects statistics that do not match the stored table', () => {
    const a = StateStore.open(dir, { config: {}, defaults, topic: 't' });
    a.state.apply(1, ev(1, { ID: 1, a: 3, b: 4, y: 1 }));
    // Commit the statistics without the row: an inconsistent store.
    a.store.commit(new Map(), a.state, [[0, 1]]);
    a.store.close();
    expect(() => StateStore.open(dir, { config: {}, defaults, topic: 't' })).to.throw(
      StateStoreError,
      /statistics do not match the stored table/,
    );
  });
});
