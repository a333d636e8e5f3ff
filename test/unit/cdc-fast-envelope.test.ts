import { expect } from 'chai';
import { parseMessage, type ParsedMessage } from '../../lib/cdc/envelope';
import { parseForModel } from '../../lib/cdc/fast-envelope';
import { defaultSpec, encodeRow, type FeatureSpec } from '../../lib/cdc/features';
import { generateChanges, prng } from '../../lib/cdc/generator';
import { syntheticCustomers } from '../integration/cdc-support';

/** What the consumer takes from a parsed message: kind, id, op, lsn and the encoded row (or its refusal). */
function outcome(p: ParsedMessage, spec: FeatureSpec): unknown {
  if (p.kind === 'tombstone') return { kind: p.kind, id: p.id };
  if (p.kind === 'truncate') return { kind: p.kind, lsn: p.lsn };
  if (p.kind === 'invalid') return { kind: p.kind, reason: p.reason };
  const e = p.event;
  return { kind: p.kind, id: p.id, op: e.op, lsn: e.source.lsn, row: e.op === 'd' ? null : encodeRow(e.after!, spec) };
}

const SPECS: FeatureSpec[] = [
  defaultSpec(),
  { ...defaultSpec(), decimals: 2 },
  { features: ['Income', 'Tenure_Days', 'Marital_Single', 'Recency'], target: 'Response', decimals: 0 },
];

/** Compares the fast path with parseMessage; returns whether the fast path took the message. */
function check(key: Buffer | null, value: Buffer | null, spec: FeatureSpec, label: string): boolean {
  const fast = parseForModel(key, value, spec);
  if (fast === undefined) return false;
  const slow = parseMessage(key, value, spec);
  expect(outcome(fast, spec), `${label}: ${value?.toString().slice(0, 300)}`).to.deep.equal(outcome(slow, spec));
  return true;
}

/** Debezium-like variants of a bare envelope: lower-case columns, a richer source block, other spacing. */
function variants(value: string): string[] {
  const lower = value.replace(/"([A-Za-z_0-9]+)":/g, (_m, k: string) => (['before', 'after', 'op', 'ts_ms', 'source', 'lsn', 'table', 'snapshot'].includes(k) ? `"${k}":` : `"${k.toLowerCase()}":`));
  const richSource = value.replace('"source":{', '"source":{"version":"3.7.0.Final","connector":"postgresql","name":"spark_ts","ts_ms":1,"snapshot":"false","db":"spark_ts","sequence":"[\\"24023928\\",\\"24023984\\"]","note":"caf\\u00e9 \\/ \\t","schema":"public","txId":77,"xmin":null,');
  const spaced = value.replace(/,/g, ', ').replace(/:/g, ' : ').replace(/^\{/, ' \n{\t');
  const reordered = (() => {
    const o = JSON.parse(value) as Record<string, unknown>;
    return JSON.stringify({ source: o.source, op: o.op, after: o.after, ts_ms: o.ts_ms, before: o.before });
  })();
  return [lower, richSource, spaced, reordered];
}

const MUTATIONS = ['\\', '"', ' ', '.', 'e', '-', '0', '9', ',', ':', '{', '}', '[', 'n', '\u0001', '\u00e9', 'x'];

describe('CDC fast envelope path', () => {
  it('gives parseMessage\'s result on every generated message it accepts, and accepts the plain ones', () => {
    const rows = syntheticCustomers(300, 3);
    let accepted = 0;
    let total = 0;
    let variantsTaken = 0;
    let variantsTotal = 0;
    for (const m of generateChanges(rows, { seed: 9, updates: 3000, replayRate: 0.05, malformedRate: 0.02 })) {
      const key = m.key === null ? null : Buffer.from(m.key);
      const value = m.value === null ? null : Buffer.from(m.value);
      for (const spec of SPECS) {
        total++;
        if (check(key, value, spec, m.kind)) accepted++;
      }
      if (value && m.kind !== 'malformed' && m.kind !== 'tombstone') {
        for (const v of variants(value.toString())) {
          variantsTotal++;
          if (check(key, Buffer.from(v), SPECS[0], `${m.kind} variant`)) variantsTaken++;
        }
      }
    }
    // Everything but the malformed events is a plain envelope: the fast path must take nearly all of it.
    expect(accepted / total).to.be.greaterThan(0.95);
    expect(variantsTaken / variantsTotal).to.be.greaterThan(0.95);
  });

  it('gives parseMessage\'s result on randomly mutated messages (or leaves them to it)', () => {
    const rows = syntheticCustomers(50, 4);
    const r = prng(11);
    const messages = [...generateChanges(rows, { seed: 4, updates: 400 })].filter((m) => m.value !== null);
    let accepted = 0;
    for (let t = 0; t < 20_000; t++) {
      const m = messages[Math.floor(r() * messages.length)];
      let v = m.value as string;
      const edits = 1 + Math.floor(r() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(r() * v.length);
        const c = MUTATIONS[Math.floor(r() * MUTATIONS.length)];
        const kind = r();
        v = kind < 0.4 ? v.slice(0, at) + c + v.slice(at + 1) : kind < 0.7 ? v.slice(0, at) + c + v.slice(at) : kind < 0.9 ? v.slice(0, at) + v.slice(at + 1) : v.slice(0, at);
      }
      let key = m.key as string | null;
      if (r() < 0.1 && key) key = key.replace('"ID"', r() < 0.5 ? '"id"' : '"Id"').replace(/\d/, (d) => String((Number(d) + 1) % 10));
      if (check(key === null ? null : Buffer.from(key), Buffer.from(v, 'utf8'), SPECS[Math.floor(r() * SPECS.length)], 'mutated')) accepted++;
    }
    // Many single-byte edits keep the message valid (a digit changed): those must agree too.
    expect(accepted).to.be.greaterThan(1000);
  });

  it('leaves wrapped, unwrapped, truncate and duplicated-column messages to parseMessage', () => {
    const spec = defaultSpec();
    const after = { ID: 1, Income: 5, Response: 1 };
    const leave = [
      JSON.stringify({ schema: { type: 'struct' }, payload: { before: null, after, op: 'c', ts_ms: 1, source: { lsn: 3 } } }),
      JSON.stringify({ ...after, __op: 'c', __lsn: 3 }),
      JSON.stringify({ before: null, after: null, op: 't', ts_ms: 1, source: { lsn: 3 } }),
      '{"before":null,"after":{"ID":1,"Income":5,"income":6,"Response":1},"op":"c","ts_ms":1,"source":{"lsn":3}}',
      '{"before":null,"after":{"ID":1,"Income":"5.00","Response":1},"op":"c","ts_ms":1,"source":{"lsn":3}}',
      '{"before":null,"after":{"ID":1,"Income":5,"Response":1},"op":"c","ts_ms":1,"source":{"lsn":"3"}}',
      '{"before":null,"after":{"ID":1,"Education":"Gradu\\u0061tion","Response":1},"op":"c","ts_ms":1,"source":{"lsn":3}}',
    ];
    for (const v of leave) expect(parseForModel(Buffer.from('{"ID":1}'), Buffer.from(v), spec), v).to.equal(undefined);
    // A delete whose before holds only the key, and one without before (the key's ID).
    for (const v of ['{"before":{"id":7},"after":null,"op":"d","ts_ms":1,"source":{"lsn":9}}', '{"before":null,"after":null,"op":"d","ts_ms":1,"source":{"lsn":9}}']) {
      expect(check(Buffer.from('{"id":7}'), Buffer.from(v), spec, 'delete')).to.equal(true);
    }
    expect(check(Buffer.from('{"ID":7}'), null, spec, 'tombstone')).to.equal(true);
  });
});
