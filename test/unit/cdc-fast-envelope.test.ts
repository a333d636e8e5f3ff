import { expect } from 'chai';
import { parseMessage, type ParsedMessage } from '../../lib/cdc/envelope';
import { parseEncodedForModel, parseForModel, type FastEncoded } from '../../lib/cdc/fast-envelope';
import { defaultSpec, encodeRow, type EncodeResult, type FeatureSpec } from '../../lib/cdc/features';
import { generateChanges, prng } from '../../lib/cdc/generator';
import { CdcState } from '../../lib/cdc/state';
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

/** The same for the fused path's result. */
function encodedOutcome(e: FastEncoded): unknown {
  if (e.kind === 'tombstone') return { kind: e.kind, id: e.id };
  return { kind: e.kind, id: e.id, op: e.op, lsn: e.lsn, row: e.op === 'd' ? null : { ok: true, row: e.row } };
}

/** How often the fused path (parse + encode) took a message the fast path took. */
const fused = { taken: 0, total: 0 };

/**
 * Compares the fast path with parseMessage, and the fused path (parseEncodedForModel) with parseMessage then
 * encodeRow; returns whether the fast path took the message. The fused path takes a message only when the
 * fast path does, and (decimals 0) leaves it only when encodeRow refuses its row.
 */
function check(key: Buffer | null, value: Buffer | null, spec: FeatureSpec, label: string): boolean {
  const fast = parseForModel(key, value, spec);
  const out: FastEncoded = { kind: 'event', id: null, op: 'd', lsn: -1, row: null };
  const took = parseEncodedForModel(key, value, spec, out);
  const what = `${label}: ${value?.toString().slice(0, 300)}`;
  if (fast === undefined) {
    expect(took, `fused path took what the fast path left, ${what}`).to.equal(false);
    return false;
  }
  const slow = parseMessage(key, value, spec);
  const want = outcome(slow, spec);
  expect(outcome(fast, spec), what).to.deep.equal(want);
  fused.total++;
  if (took) {
    fused.taken++;
    expect(encodedOutcome(out), `fused, ${what}`).to.deep.equal(want);
  } else {
    const row = (want as { row?: EncodeResult | null }).row;
    expect(spec.decimals !== 0 || row?.ok === false, `fused path left an encodable row, ${what}`).to.equal(true);
  }
  return true;
}

/** Debezium-like variants of a bare envelope: lower-case columns, a richer source block, other spacing. */
function variants(value: string): string[] {
  const lower = value.replace(/"([A-Za-z_0-9]+)":/g, (_m, k: string) =>
    ['before', 'after', 'op', 'ts_ms', 'source', 'lsn', 'table', 'snapshot'].includes(k) ? `"${k}":` : `"${k.toLowerCase()}":`,
  );
  const richSource = value.replace(
    '"source":{',
    '"source":{"version":"3.7.0.Final","connector":"postgresql","name":"spark_ts","ts_ms":1,"snapshot":"false","db":"spark_ts","sequence":"[\\"24023928\\",\\"24023984\\"]","note":"caf\\u00e9 \\/ \\t","schema":"public","txId":77,"xmin":null,',
  );
  const spaced = value.replace(/,/g, ', ').replace(/:/g, ' : ').replace(/^\{/, ' \n{\t');
  const reordered = (() => {
    const o = JSON.parse(value) as Record<string, unknown>;
    return JSON.stringify({ source: o.source, op: o.op, after: o.after, ts_ms: o.ts_ms, before: o.before });
  })();
  return [lower, richSource, spaced, reordered];
}

/** Big-endian two's-complement bytes of an integer, as few as hold it (Kafka Connect's Decimal), in base64. */
function decimalBase64(unscaled: bigint): string {
  const bytes: number[] = [];
  let v = unscaled;
  for (;;) {
    bytes.unshift(Number(v & 0xffn));
    const sign = bytes[0] & 0x80 ? -1n : 0n;
    v >>= 8n;
    if (v === sign) break;
  }
  return Buffer.from(bytes).toString('base64');
}

type DecimalMode = 'precise' | 'string' | 'double';
/** Columns made NUMERIC in the Debezium-style messages, with their scales. */
const DECIMAL_COLUMNS: Record<string, number> = { income: 2, mntwines: 0, recency: 3 };

/** A row as PostgreSQL + Debezium write it: lower-case names, decimal columns in the given mode (cents and signs varied). */
function debeziumRow(row: Record<string, unknown> | null, mode: DecimalMode): Record<string, unknown> | null {
  if (row === null) return null;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    const col = k.toLowerCase();
    const scale = DECIMAL_COLUMNS[col];
    if (scale === undefined || typeof v !== 'number') {
      out[col] = v;
      continue;
    }
    // A fraction and a sign that depend on the value: the decoded value must still be the slow path's.
    const unscaled = BigInt(v) * 10n ** BigInt(scale) + BigInt(scale ? (v * 37) % 10 ** scale : 0);
    const signed = v % 7 === 3 ? -unscaled : unscaled;
    const text = `${signed < 0n ? '-' : ''}${(signed < 0n ? -signed : signed)
      .toString()
      .padStart(scale + 1, '0')
      .replace(scale ? new RegExp(`(\\d{${scale}})$`) : /$/, scale ? '.$1' : '')}`;
    out[col] = mode === 'precise' ? decimalBase64(signed) : mode === 'string' ? text : Number(text);
  }
  return out;
}

function rowSchema(row: Record<string, unknown>, mode: DecimalMode, field?: string): Record<string, unknown> {
  const fields = Object.entries(row).map(([col, v]) => {
    const scale = DECIMAL_COLUMNS[col];
    if (scale !== undefined) {
      if (mode === 'precise')
        return {
          type: 'bytes',
          optional: true,
          name: 'org.apache.kafka.connect.data.Decimal',
          version: 1,
          parameters: { scale: String(scale), 'connect.decimal.precision': '12' },
          field: col,
        };
      return { type: mode === 'string' ? 'string' : 'double', optional: true, field: col };
    }
    return { type: typeof v === 'number' ? (col === 'id' ? 'int64' : 'int32') : 'string', optional: col !== 'id', field: col };
  });
  return { type: 'struct', fields, optional: true, name: 'spark_ts.public.customers.Value', ...(field ? { field } : {}) };
}

const SOURCE_SCHEMA = {
  type: 'struct',
  fields: [
    'version',
    'connector',
    'name',
    'ts_ms',
    'snapshot',
    'db',
    'sequence',
    'ts_us',
    'ts_ns',
    'schema',
    'table',
    'txId',
    'lsn',
    'xmin',
  ].map((f) => ({ type: 'string', optional: true, field: f })),
  optional: false,
  name: 'io.debezium.connector.postgresql.Source',
  field: 'source',
};

/**
 * A generated bare envelope as Debezium on Kafka Connect writes it: JsonConverter's `{schema, payload}`
 * (or bare, `wrap` false), lower-case columns, decimals in `mode`, Debezium's source block, `transaction`,
 * `ts_us`/`ts_ns`; or (`unwrap`) ExtractNewRecordState's record with `__op`, `__lsn`, `__deleted`.
 * Messages that are not JSON envelopes pass through unchanged.
 */
function debezium(
  key: string | null,
  value: string | null,
  opts: { mode: DecimalMode; wrap: boolean; unwrap?: boolean },
): { key: string | null; value: string | null } {
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(value ?? 'null') as Record<string, unknown>;
  } catch {
    return { key, value };
  }
  if (e === null || typeof e !== 'object' || !['r', 'c', 'u', 'd'].includes(e.op as string)) return { key, value };
  const k = key === null ? null : (JSON.parse(key) as Record<string, unknown>);
  const keyPayload = k && typeof k === 'object' && 'ID' in k ? { id: k.ID } : k;
  const wrapKey = (p: unknown) =>
    JSON.stringify(
      opts.wrap
        ? {
            schema: {
              type: 'struct',
              fields: [{ type: 'int64', optional: false, field: 'id' }],
              optional: false,
              name: 'spark_ts.public.customers.Key',
            },
            payload: p,
          }
        : p,
    );
  const before = debeziumRow(e.before as Record<string, unknown> | null, opts.mode);
  const after = debeziumRow(e.after as Record<string, unknown> | null, opts.mode);
  const row = (after ?? before ?? { id: 0 }) as Record<string, unknown>;
  const src = e.source as Record<string, unknown>;
  const lsn = src.lsn as number;
  let payload: Record<string, unknown>;
  let schema: Record<string, unknown>;
  if (opts.unwrap) {
    const deleted = e.op === 'd';
    payload = { ...(deleted ? before : after), __op: e.op, __lsn: lsn, __deleted: deleted ? 'true' : 'false' };
    schema = rowSchema(payload, opts.mode);
  } else {
    const snapshot = src.snapshot === true ? (lsn % 5 === 0 ? 'last' : 'true') : 'false';
    payload = {
      before,
      after,
      source: {
        version: '3.0.7.Final',
        connector: 'postgresql',
        name: 'spark_ts',
        ts_ms: 1732990000000 + lsn,
        snapshot,
        db: 'spark_ts',
        sequence: `["${lsn * 8}","${lsn * 8 + 4}"]`,
        ts_us: 1732990000000000 + lsn,
        ts_ns: 1732990000000000000 + lsn,
        schema: 'public',
        table: 'customers',
        txId: 700 + lsn,
        lsn,
        xmin: null,
      },
      transaction: lsn % 3 ? null : { id: `${700 + lsn}:${lsn * 8}`, total_order: 1, data_collection_order: 1 },
      op: e.op,
      ts_ms: e.ts_ms,
      ts_us: (e.ts_ms as number) * 1000,
      ts_ns: (e.ts_ms as number) * 1000000,
    };
    schema = {
      type: 'struct',
      fields: [
        rowSchema(row, opts.mode, 'before'),
        rowSchema(row, opts.mode, 'after'),
        SOURCE_SCHEMA,
        { type: 'string', optional: false, field: 'op' },
      ],
      optional: false,
      name: 'spark_ts.public.customers.Envelope',
      version: 2,
    };
  }
  return { key: key === null ? null : wrapKey(keyPayload), value: JSON.stringify(opts.wrap ? { schema, payload } : payload) };
}

const DEBEZIUM_FORMATS: Array<{ mode: DecimalMode; wrap: boolean; unwrap?: boolean }> = [
  { mode: 'precise', wrap: true },
  { mode: 'string', wrap: true },
  { mode: 'double', wrap: true },
  { mode: 'string', wrap: false },
  { mode: 'double', wrap: false },
  { mode: 'precise', wrap: true, unwrap: true },
  { mode: 'double', wrap: false, unwrap: true },
];

const MUTATIONS = ['\\', '"', ' ', '.', 'e', '-', '0', '9', ',', ':', '{', '}', '[', 'n', '\u0001', '\u00e9', 'x'];

describe('CDC fast envelope path', () => {
  it("gives parseMessage's result on every generated message it accepts, and accepts the plain ones", () => {
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
    // Everything but the malformed events is a plain envelope: the fast path must take nearly all of it,
    // and the fused path all of that but the decimals spec (a third of the checks) and unencodable rows.
    expect(accepted / total).to.be.greaterThan(0.95);
    expect(variantsTaken / variantsTotal).to.be.greaterThan(0.95);
    expect(fused.taken / fused.total).to.be.greaterThan(0.6);
  });

  it('a state fed through the fused path and applyEncoded equals one fed through parseMessage and apply', () => {
    const rows = syntheticCustomers(400, 5);
    const config = { ...defaultSpec(), holdoutPct: 20 };
    const viaFast = new CdcState(config);
    const viaSlow = new CdcState(config);
    const out: FastEncoded = { kind: 'event', id: null, op: 'd', lsn: -1, row: null };
    let offset = 0;
    let taken = 0;
    for (const m of generateChanges(rows, { seed: 21, updates: 6000, replayRate: 0.05, malformedRate: 0.02, deleteRatio: 0.15 })) {
      const key = m.key === null ? null : Buffer.from(m.key);
      const value = m.value === null ? null : Buffer.from(m.value);
      const at = { partition: 0, offset: offset++ };
      for (const [state, fast] of [
        [viaFast, true],
        [viaSlow, false],
      ] as const) {
        if (fast && parseEncodedForModel(key, value, config, out)) {
          taken++;
          if (out.kind === 'tombstone') state.counters.tombstones++;
          else state.applyEncoded(out.id!, out.lsn, out.row, at.partition, at.offset);
          continue;
        }
        const p = parseMessage(key, value, config);
        if (p.kind === 'tombstone') state.counters.tombstones++;
        else if (p.kind === 'event') {
          const r = state.apply(p.id, p.event, at);
          if (r.status === 'invalid') state.counters.dlq++;
        } else state.counters.dlq++;
      }
    }
    expect(taken).to.be.greaterThan(6000);
    expect(viaFast.stats.equals(viaSlow.stats)).to.equal(true);
    expect(viaFast.counters).to.deep.equal(viaSlow.counters);
    expect(viaFast.tableRows).to.equal(viaSlow.tableRows);
    expect([...viaFast.keys].sort((a, b) => a[0] - b[0])).to.deep.equal([...viaSlow.keys].sort((a, b) => a[0] - b[0]));
    expect([...viaFast.takeDirty().keys()].sort()).to.deep.equal([...viaSlow.takeDirty().keys()].sort());
    expect(viaFast.pruneDeleted(new Map([[0, offset]]), 100)).to.equal(viaSlow.pruneDeleted(new Map([[0, offset]]), 100));
    expect([...viaFast.keys.keys()].sort()).to.deep.equal([...viaSlow.keys.keys()].sort());
  });

  it('the fused path: derived features from their cached inputs, -0, a column named like a derived feature, missing and odd values', () => {
    const spec = defaultSpec();
    // JSON.stringify writes -0 as 0: this marker becomes the text -0.
    const NEG0 = '__NEG0__';
    const text = (after: Record<string, unknown>) =>
      JSON.stringify({ before: null, after, op: 'c', ts_ms: 1, source: { lsn: 3 } }).replace(/"__NEG0__"/g, '-0');
    const base = {
      ID: 5,
      Year_Birth: 1970,
      Education: 'PhD',
      Marital_Status: 'Together',
      Income: 4,
      Dt_Customer: '2013-02-03',
      Response: 0,
    };
    const rows: Array<Record<string, unknown>> = [
      base,
      { ...base, Dt_Customer: '03-02-2013' },
      { ...base, Dt_Customer: 15739 },
      { ...base, Dt_Customer: 0 },
      { ...base, Dt_Customer: NEG0 },
      { ...base, Dt_Customer: '2013-02-30' },
      { ...base, Tenure_Days: 12 },
      { ...base, Tenure_Days: NEG0, Education: 'Basic' },
      { ...base, Marital_Status: 'Alone' },
      { ...base, Marital_Status: 'YOLO', Education: '2n Cycle' },
      { ...base, Marital_Status: 3 },
      { ...base, Education: 'constructor' },
      { ...base, Response: null },
      { ...base, Response: 2 },
      { ...base, Income: NEG0 },
      { ...base, Income: 1.5 },
      { ...base, Income: 2 ** 53 },
      { ...base, Income: null },
    ];
    const fullRow = (r: Record<string, unknown>) => {
      const full: Record<string, unknown> = { ...r };
      for (const f of spec.features)
        if (!(f in full) && !f.startsWith('Tenure') && !f.startsWith('Education') && !f.startsWith('Marital')) full[f] = 1;
      return full;
    };
    const seen = { taken: 0, left: 0 };
    // Twice: the second round reads the derived features' cache.
    for (let round = 0; round < 2; round++) {
      for (const r of rows) {
        const v = Buffer.from(text(fullRow(r)));
        const before = fused.taken;
        expect(check(Buffer.from('{"ID":5}'), v, spec, JSON.stringify(r)), JSON.stringify(r)).to.equal(true);
        if (fused.taken > before) seen.taken++;
        else seen.left++;
      }
    }
    expect(seen.taken).to.be.greaterThan(0);
    expect(seen.left).to.be.greaterThan(0);
    // -0 in a feature is -0 in the encoded row, as encodeRow has it.
    const out: FastEncoded = { kind: 'event', id: null, op: 'd', lsn: -1, row: null };
    const v = Buffer.from(text(fullRow({ ...base, Income: NEG0 })));
    expect(parseEncodedForModel(null, v, spec, out)).to.equal(true);
    expect(Object.is(out.row!.x[spec.features.indexOf('Income')], -0)).to.equal(true);
  });

  it("gives parseMessage's result on randomly mutated messages (or leaves them to it)", () => {
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
        v =
          kind < 0.4
            ? v.slice(0, at) + c + v.slice(at + 1)
            : kind < 0.7
              ? v.slice(0, at) + c + v.slice(at)
              : kind < 0.9
                ? v.slice(0, at) + v.slice(at + 1)
                : v.slice(0, at);
      }
      let key = m.key as string | null;
      if (r() < 0.1 && key) key = key.replace('"ID"', r() < 0.5 ? '"id"' : '"Id"').replace(/\d/, (d) => String((Number(d) + 1) % 10));
      if (check(key === null ? null : Buffer.from(key), Buffer.from(v, 'utf8'), SPECS[Math.floor(r() * SPECS.length)], 'mutated'))
        accepted++;
    }
    // Many single-byte edits keep the message valid (a digit changed): those must agree too.
    expect(accepted).to.be.greaterThan(1000);
  });

  it("gives parseMessage's result on Debezium's formats ({schema,payload} or bare; precise, string, double decimals; unwrapped records) and takes nearly all of them", () => {
    const rows = syntheticCustomers(300, 5);
    const spec2 = { ...defaultSpec(), decimals: 3 };
    for (const format of DEBEZIUM_FORMATS) {
      let accepted = 0;
      let total = 0;
      for (const m of generateChanges(rows, { seed: 13, updates: 2000, replayRate: 0.05, malformedRate: 0.02 })) {
        const d = debezium(m.key, m.value, format);
        const key = d.key === null ? null : Buffer.from(d.key);
        const value = d.value === null ? null : Buffer.from(d.value);
        for (const spec of [...SPECS, spec2]) {
          total++;
          if (check(key, value, spec, `${JSON.stringify(format)} ${m.kind}`)) accepted++;
        }
      }
      expect(accepted / total, JSON.stringify(format)).to.be.greaterThan(0.95);
    }
  });

  it('decodes precise decimals exactly as parseMessage does: random bytes, lengths, scales and paddings (or leaves them to it)', () => {
    const r = prng(17);
    const spec = { ...defaultSpec(), decimals: 6 };
    const rows = syntheticCustomers(20, 6);
    const messages = [...generateChanges(rows, { seed: 5, updates: 100 })]
      .filter((m) => m.kind === 'update' || m.kind === 'insert')
      .map((m) => debezium(m.key, m.value, { mode: 'precise', wrap: true }));
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    let accepted = 0;
    for (let t = 0; t < 5000; t++) {
      const m = messages[Math.floor(r() * messages.length)];
      const len = r() < 0.8 ? 4 * (1 + Math.floor(r() * 2)) : Math.floor(r() * 13);
      let text = Array.from({ length: len }, () => alphabet[Math.floor(r() * 64)]).join('');
      const pad = r();
      if (pad < 0.3 && len >= 2) text = text.slice(0, -1) + '=';
      else if (pad < 0.5 && len >= 3) text = text.slice(0, -2) + '==';
      else if (pad < 0.55) text = text + '-_=';
      const scale = [0, 1, 2, 3, 6, 22, 23, -1, 1.5][Math.floor(r() * 9)];
      const value = (m.value as string).replace(/"income":"[^"]*"/g, `"income":"${text}"`).replace(/"scale":"2"/g, `"scale":"${scale}"`);
      if (check(Buffer.from(m.key as string), Buffer.from(value), spec, `decimal ${text} scale ${scale}`)) accepted++;
    }
    expect(accepted).to.be.greaterThan(1500);
  });

  it("gives parseMessage's result on randomly mutated Debezium messages, schema and key included (or leaves them to it)", () => {
    const rows = syntheticCustomers(50, 4);
    const r = prng(19);
    const messages = [...generateChanges(rows, { seed: 4, updates: 300 })]
      .filter((m) => m.value !== null)
      .flatMap((m) => DEBEZIUM_FORMATS.map((f) => debezium(m.key, m.value, f)));
    let accepted = 0;
    for (let t = 0; t < 20_000; t++) {
      const m = messages[Math.floor(r() * messages.length)];
      let v = m.value as string;
      const edits = 1 + Math.floor(r() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(r() * v.length);
        const c = MUTATIONS[Math.floor(r() * MUTATIONS.length)];
        const kind = r();
        v =
          kind < 0.4
            ? v.slice(0, at) + c + v.slice(at + 1)
            : kind < 0.7
              ? v.slice(0, at) + c + v.slice(at)
              : kind < 0.9
                ? v.slice(0, at) + v.slice(at + 1)
                : v.slice(0, at);
      }
      let key = m.key;
      if (r() < 0.1 && key) {
        const at = Math.floor(r() * key.length);
        key = key.slice(0, at) + MUTATIONS[Math.floor(r() * MUTATIONS.length)] + key.slice(at + 1);
      }
      if (check(key === null ? null : Buffer.from(key), Buffer.from(v, 'utf8'), SPECS[Math.floor(r() * SPECS.length)], 'mutated'))
        accepted++;
    }
    expect(accepted).to.be.greaterThan(1000);
  });

  it('leaves truncates, duplicated columns, escapes, string lsns and a payload before its schema to parseMessage', () => {
    const spec = defaultSpec();
    const after = { ID: 1, Income: 5, Response: 1 };
    const leave = [
      JSON.stringify({ payload: { before: null, after, op: 'c', ts_ms: 1, source: { lsn: 3 } }, schema: { type: 'struct' } }),
      JSON.stringify({ schema: { type: 'struct' }, payload: { before: null, after, op: 'c', ts_ms: 1, source: { lsn: 3 } }, extra: 1 }),
      JSON.stringify({ ...after, __op: 'c', __lsn: '3' }),
      JSON.stringify({ ...after, op: 'c', __lsn: 3 }),
      JSON.stringify({ before: null, after: null, op: 't', ts_ms: 1, source: { lsn: 3 } }),
      '{"before":null,"after":{"ID":1,"Income":5,"income":6,"Response":1},"op":"c","ts_ms":1,"source":{"lsn":3}}',
      '{"before":null,"after":{"ID":1,"Income":"5.00x","Response":1},"op":"c","ts_ms":1,"source":{"lsn":3}}',
      '{"before":null,"after":{"ID":1,"Income":{"scale":1,"value":"Dw=="},"Response":1},"op":"c","ts_ms":1,"source":{"lsn":3}}',
      '{"before":null,"after":{"ID":1,"Income":5,"Response":1},"op":"c","ts_ms":1,"source":{"lsn":"3"}}',
      '{"before":null,"after":{"ID":1,"Education":"Gradu\\u0061tion","Response":1},"op":"c","ts_ms":1,"source":{"lsn":3}}',
    ];
    for (const v of leave) expect(parseForModel(Buffer.from('{"ID":1}'), Buffer.from(v), spec), v).to.equal(undefined);
    // A delete whose before holds only the key, and one without before (the key's ID).
    for (const v of [
      '{"before":{"id":7},"after":null,"op":"d","ts_ms":1,"source":{"lsn":9}}',
      '{"before":null,"after":null,"op":"d","ts_ms":1,"source":{"lsn":9}}',
    ]) {
      expect(check(Buffer.from('{"id":7}'), Buffer.from(v), spec, 'delete')).to.equal(true);
    }
    expect(check(Buffer.from('{"ID":7}'), null, spec, 'tombstone')).to.equal(true);
    // Taken: a wrapped envelope, a wrapped tombstone, decimal text in a numeric column, an unwrapped record.
    const taken = [
      JSON.stringify({ schema: { type: 'struct' }, payload: { before: null, after, op: 'c', ts_ms: 1, source: { lsn: 3 } } }),
      JSON.stringify({ schema: { type: 'struct' }, payload: null }),
      '{"before":null,"after":{"ID":1,"Income":" 5.00","Response":1},"op":"c","ts_ms":1,"source":{"lsn":3}}',
      JSON.stringify({ ...after, __op: 'c', __lsn: 3 }),
      JSON.stringify({ ...after, __deleted: 'true', __lsn: 3 }),
      // A VariableScaleDecimal (NUMERIC without scale) in a column the model does not read.
      '{"before":{"ID":1,"ratio":{"scale":1,"value":"Dw=="}},"after":{"ID":1,"Income":5,"ratio":{"scale":1,"value":"Dw=="},"Response":1},"op":"u","ts_ms":1,"source":{"lsn":3}}',
    ];
    for (const v of taken)
      expect(check(Buffer.from('{"schema":{"type":"struct"},"payload":{"id":1}}'), Buffer.from(v), spec, v), v).to.equal(true);
  });
});
