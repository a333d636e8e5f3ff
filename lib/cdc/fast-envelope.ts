/**
 * A fast path for the consumer's commonest message: a bare Debezium envelope `{before, after, op, ts_ms,
 * source}` (the simulated producer's, or Debezium's with `schemas.enable=false`) whose model columns are
 * plain JSON numbers and ASCII strings. It reads the bytes of the Kafka message directly, without
 * `toString()`, without `JSON.parse` and without copying the row: only the columns the model reads (its
 * features, the target, `ID` and the inputs of derived features) are taken from `after`, `before` is only
 * validated (and read for its ID on a delete), everything else is skipped.
 *
 * It is a strict recognizer of a subset of JSON: whenever a message is anything else (the `{schema,
 * payload}` wrapping, ExtractNewRecordState records, escapes in the strings it reads, control bytes, nested values,
 * decimals as strings, a duplicated column, `op: "t"`, malformed JSON, a key other than `{"ID": n}`, ...)
 * it returns undefined and the caller uses `parseMessage`, so its results are by construction those of
 * `parseMessage` on the messages it accepts (checked by a differential test over generated, mutated and
 * captured messages). The returned event's `after` holds only the model's columns, `before` only the ID,
 * `ts_ms` 0 and `source` only the lsn: all that the consumer's `CdcState.apply` reads.
 */
import { CUSTOMER_COLUMNS, type ParsedMessage } from './envelope';
import { DERIVED_FEATURE_INPUTS, type CustomerRow, type FeatureSpec } from './features';

const Q = 0x22; // "
const BS = 0x5c; // backslash
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const COLON = 0x3a;
const COMMA = 0x2c;
const MINUS = 0x2d;

/** What the fast path needs of a feature spec: the canonical names it reads and where they go in a row. */
export interface FastPlan {
  /** Canonical names read from `after` (ID first). */
  readonly names: readonly string[];
  /** Raw column name (as written in the message) → index in `names`, or -1 when the model does not read it. */
  readonly slots: Map<string, number>;
  /** The canonical names the slow path maps raw names to (case-insensitively). */
  readonly canonical: Map<string, string>;
  /** Which slots must be numbers (features and target): a string there goes to the slow path (decimal text). */
  readonly numeric: readonly boolean[];
  /** Builds the row from the values (an object literal of fixed shape; an absent column is undefined, as in encodeRow's eyes). */
  readonly build: ((values: ReadonlyArray<string | number | boolean | null | undefined>) => CustomerRow) | undefined;
  /** Predicted raw key bytes per position of `after`/`before` (messages repeat their column order). */
  readonly predicted: Array<{ bytes: Uint8Array; slot: number } | undefined>;
}

const plans = new WeakMap<FeatureSpec, FastPlan>();

export function fastPlan(spec: FeatureSpec): FastPlan {
  let plan = plans.get(spec);
  if (plan) return plan;
  const modelColumns = [...spec.features, spec.target];
  const read = new Set<string>(['ID', ...modelColumns]);
  for (const f of spec.features) for (const c of DERIVED_FEATURE_INPUTS[f] ?? []) read.add(c);
  const names = [...read];
  // The slow path's canonical names: ID, the customer table's columns and the model's (envelope.normalizationFor).
  const canonical = new Map<string, string>();
  for (const n of new Set(['ID', ...CUSTOMER_COLUMNS, ...modelColumns])) canonical.set(n.toLowerCase(), n);
  const numericNames = new Set(modelColumns);
  // One object literal of a fixed shape per plan (fast to allocate and to read); names are JSON-quoted.
  // (A column named __proto__ would set the literal's prototype: such a spec never takes the fast path.)
  // eslint-disable-next-line no-new-func -- code generated from JSON-quoted column names, for speed
  const build = names.includes('__proto__') ? undefined : new Function('v', `return {${names.map((n, i) => `${JSON.stringify(n)}: v[${i}]`).join(', ')}};`) as NonNullable<FastPlan['build']>;
  plan = { names, slots: new Map(), canonical, numeric: names.map((n) => numericNames.has(n)), build, predicted: [] };
  plans.set(spec, plan);
  return plan;
}

/** Thrown inside the scanner: give up, the slow path decides. */
class Fallback {}
const FALLBACK = new Fallback();

function isWs(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

// Tight skipping loops over local variables (the hot part: `before` and the columns the model does not
// read). Each returns the index after what it skipped, or -1 when the bytes are not in the accepted subset.

function skipWs(b: Buffer, i: number, end: number): number {
  while (i < end) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/** `i` is just after the opening quote. No escapes, no control bytes (other bytes are not read): keys and read values. */
function plainStringBody(b: Buffer, i: number, end: number): number {
  for (; i < end; i++) {
    const c = b[i];
    if (c === Q) return i + 1;
    if (c === BS || c < 0x20) return -1;
  }
  return -1;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * A skipped string value: JSON's escapes are validated (\" \\ \/ \b \f \n \r \t \uXXXX), never decoded
 * (Debezium's `source.sequence` is such a string). No control bytes.
 */
function skipStringBody(b: Buffer, i: number, end: number): number {
  for (; i < end; i++) {
    const c = b[i];
    if (c === Q) return i + 1;
    if (c < 0x20) return -1;
    if (c === BS) {
      if (i + 1 >= end) return -1;
      const e = b[i + 1];
      if (e === Q || e === BS || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) i++;
      else if (e === 0x75 && i + 5 < end && isHex(b[i + 2]) && isHex(b[i + 3]) && isHex(b[i + 4]) && isHex(b[i + 5])) i += 5;
      else return -1;
    }
  }
  return -1;
}

function skipDigits(b: Buffer, i: number, end: number): number {
  while (i < end && b[i] >= 0x30 && b[i] <= 0x39) i++;
  return i;
}

/** A JSON number (strict grammar). */
function skipNumber(b: Buffer, i: number, end: number): number {
  if (i < end && b[i] === MINUS) i++;
  if (i >= end) return -1;
  if (b[i] === 0x30) i++;
  else if (b[i] >= 0x31 && b[i] <= 0x39) i = skipDigits(b, i + 1, end);
  else return -1;
  if (i < end && b[i] === 0x2e) {
    const f0 = i + 1;
    i = skipDigits(b, f0, end);
    if (i === f0) return -1;
  }
  if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
    i++;
    if (i < end && (b[i] === 0x2b || b[i] === MINUS)) i++;
    const e0 = i;
    i = skipDigits(b, e0, end);
    if (i === e0) return -1;
  }
  return i;
}

function skipLiteral(b: Buffer, i: number, end: number, text: string): number {
  if (i + text.length > end) return -1;
  for (let k = 0; k < text.length; k++) if (b[i + k] !== text.charCodeAt(k)) return -1;
  return i + text.length;
}

/** A scalar starting at `i` (no blanks before it). */
function skipScalarAt(b: Buffer, i: number, end: number): number {
  if (i >= end) return -1;
  const c = b[i];
  if (c === Q) return skipStringBody(b, i + 1, end);
  if (c === MINUS || (c >= 0x30 && c <= 0x39)) return skipNumber(b, i, end);
  if (c === 0x74) return skipLiteral(b, i, end, 'true');
  if (c === 0x66) return skipLiteral(b, i, end, 'false');
  if (c === 0x6e) return skipLiteral(b, i, end, 'null');
  return -1;
}

/** An object of scalars starting at `i` (at its brace). */
function skipFlatObject(b: Buffer, i: number, end: number): number {
  i = skipWs(b, i + 1, end);
  if (i < end && b[i] === RBRACE) return i + 1;
  for (;;) {
    if (i >= end || b[i] !== Q) return -1;
    i = skipStringBody(b, i + 1, end);
    if (i < 0) return -1;
    i = skipWs(b, i, end);
    if (i >= end || b[i] !== COLON) return -1;
    i = skipScalarAt(b, skipWs(b, i + 1, end), end);
    if (i < 0) return -1;
    i = skipWs(b, i, end);
    if (i >= end) return -1;
    const c = b[i];
    if (c === RBRACE) return i + 1;
    if (c !== COMMA) return -1;
    i = skipWs(b, i + 1, end);
  }
}

class Scanner {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  end = 0;

  reset(buf: Buffer): void {
    this.buf = buf;
    this.pos = 0;
    this.end = buf.length;
  }

  ws(): void {
    const b = this.buf;
    while (this.pos < this.end && isWs(b[this.pos])) this.pos++;
  }

  /** The next non-blank byte (not consumed). */
  peek(): number {
    this.ws();
    if (this.pos >= this.end) throw FALLBACK;
    return this.buf[this.pos];
  }

  expect(c: number): void {
    if (this.peek() !== c) throw FALLBACK;
    this.pos++;
  }

  /** A string without escapes or control bytes: returns the start of its contents (pos: after the closing quote). */
  stringRange(): number {
    this.expect(Q);
    const start = this.pos;
    const i = plainStringBody(this.buf, start, this.end);
    if (i < 0) throw FALLBACK;
    this.pos = i;
    return start;
  }

  /** An ASCII string's value (non-ASCII: fall back, the slow path decodes UTF-8). */
  asciiString(): string {
    const start = this.stringRange();
    const endQ = this.pos - 1;
    for (let i = start; i < endQ; i++) if (this.buf[i] >= 0x80) throw FALLBACK;
    return this.buf.toString('latin1', start, endQ);
  }

  /** A JSON number (strict grammar); its value as JSON.parse gives it. */
  number(): number {
    const b = this.buf;
    const start = this.pos;
    let i = start;
    let neg = false;
    if (b[i] === MINUS) {
      neg = true;
      i++;
    }
    const d0 = i;
    if (i >= this.end) throw FALLBACK;
    if (b[i] === 0x30) i++;
    else if (b[i] >= 0x31 && b[i] <= 0x39) while (i < this.end && b[i] >= 0x30 && b[i] <= 0x39) i++;
    else throw FALLBACK;
    const intEnd = i;
    let plain = true;
    if (i < this.end && b[i] === 0x2e) {
      plain = false;
      i++;
      const f0 = i;
      while (i < this.end && b[i] >= 0x30 && b[i] <= 0x39) i++;
      if (i === f0) throw FALLBACK;
    }
    if (i < this.end && (b[i] === 0x65 || b[i] === 0x45)) {
      plain = false;
      i++;
      if (i < this.end && (b[i] === 0x2b || b[i] === MINUS)) i++;
      const e0 = i;
      while (i < this.end && b[i] >= 0x30 && b[i] <= 0x39) i++;
      if (i === e0) throw FALLBACK;
    }
    this.pos = i;
    if (plain && intEnd - d0 <= 15) {
      let v = 0;
      for (let k = d0; k < intEnd; k++) v = v * 10 + (b[k] - 0x30);
      return neg ? -v : v;
    }
    return Number(this.buf.toString('latin1', start, i));
  }

  literal(text: string, value: boolean | null): boolean | null {
    const b = this.buf;
    if (this.pos + text.length > this.end) throw FALLBACK;
    for (let k = 0; k < text.length; k++) if (b[this.pos + k] !== text.charCodeAt(k)) throw FALLBACK;
    this.pos += text.length;
    return value;
  }

  /** A scalar value (string, number, true, false, null); objects and arrays fall back. */
  scalar(): string | number | boolean | null {
    const c = this.peek();
    if (c === Q) return this.asciiString();
    if (c === MINUS || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c === 0x74) return this.literal('true', true);
    if (c === 0x66) return this.literal('false', false);
    if (c === 0x6e) return this.literal('null', null);
    throw FALLBACK;
  }

  /** Skips a scalar value without building it (strings may hold any non-ASCII bytes: they are not read). */
  skipScalar(): void {
    this.ws();
    const i = skipScalarAt(this.buf, this.pos, this.end);
    if (i < 0) throw FALLBACK;
    this.pos = i;
  }

  /** Skips an object of scalars (e.g. `before`), or null. */
  skipFlatObjectOrNull(): void {
    if (this.peek() !== LBRACE) {
      this.literal('null', null);
      return;
    }
    const i = skipFlatObject(this.buf, this.pos, this.end);
    if (i < 0) throw FALLBACK;
    this.pos = i;
  }

  /** True when the key at [start, end) equals `want`. */
  keyIs(start: number, end: number, want: string): boolean {
    const len = end - start;
    if (len !== want.length) return false;
    for (let k = 0; k < len; k++) if (this.buf[start + k] !== want.charCodeAt(k)) return false;
    return true;
  }
}

const scanner = new Scanner();

/** The slot of the raw column name at [start, end): predicted from the last message's column order, else looked up. */
function slotOf(plan: FastPlan, b: Buffer, start: number, end: number, position: number): number {
  const p = plan.predicted[position];
  if (p && p.bytes.length === end - start) {
    let same = true;
    for (let k = 0; k < p.bytes.length; k++) {
      if (p.bytes[k] !== b[start + k]) {
        same = false;
        break;
      }
    }
    if (same) return p.slot;
  }
  for (let k = start; k < end; k++) if (b[k] >= 0x80) throw FALLBACK;
  const raw = b.toString('latin1', start, end);
  let slot = plan.slots.get(raw);
  if (slot === undefined) {
    const name = plan.canonical.get(raw.toLowerCase()) ?? raw;
    slot = plan.names.indexOf(name);
    if (plan.slots.size < 10_000) plan.slots.set(raw, slot);
  }
  if (position < 256) plan.predicted[position] = { bytes: Uint8Array.prototype.slice.call(b, start, end), slot };
  return slot;
}

/**
 * A row object (`after`): the model's columns into `values` (undefined: absent). A nested value, a
 * duplicated model column or a string in a numeric column falls back.
 */
function readRow(plan: FastPlan, s: Scanner, values: Array<string | number | boolean | null | undefined>, onlyId: boolean): void {
  const b = s.buf;
  const end = s.end;
  let i = skipWs(b, s.pos, end);
  if (i >= end || b[i] !== LBRACE) throw FALLBACK;
  i = skipWs(b, i + 1, end);
  if (i < end && b[i] === RBRACE) {
    s.pos = i + 1;
    return;
  }
  for (let position = 0; ; position++) {
    if (i >= end || b[i] !== Q) throw FALLBACK;
    const start = i + 1;
    i = plainStringBody(b, start, end);
    if (i < 0) throw FALLBACK;
    const keyEnd = i - 1;
    i = skipWs(b, i, end);
    if (i >= end || b[i] !== COLON) throw FALLBACK;
    i = skipWs(b, i + 1, end);
    const slot = slotOf(plan, b, start, keyEnd, position);
    if (slot < 0 || (onlyId && slot !== 0)) {
      i = skipScalarAt(b, i, end);
      if (i < 0) throw FALLBACK;
    } else {
      if (values[slot] !== undefined) throw FALLBACK; // a duplicated column: JSON.parse's order rules, leave to the slow path
      s.pos = i;
      const v = s.scalar();
      i = s.pos;
      if (typeof v === 'string' && plan.numeric[slot]) throw FALLBACK; // decimal text: the slow path converts it
      values[slot] = v;
    }
    i = skipWs(b, i, end);
    if (i >= end) throw FALLBACK;
    const c = b[i++];
    if (c === RBRACE) {
      s.pos = i;
      return;
    }
    if (c !== COMMA) throw FALLBACK;
    i = skipWs(b, i, end);
  }
}

/** `{"ID": n}` (any case of the name) → n; null key → null; anything else falls back. */
function readKey(plan: FastPlan, key: Buffer | null): number | null {
  if (key === null || key.length === 0) return null;
  const s = scanner;
  s.reset(key);
  s.expect(LBRACE);
  const start = s.stringRange();
  const end = s.pos - 1;
  if (end - start !== 2 || (s.buf[start] | 0x20) !== 0x69 || (s.buf[start + 1] | 0x20) !== 0x64) throw FALLBACK;
  s.expect(COLON);
  if (s.peek() === Q) throw FALLBACK;
  const id = s.scalar();
  s.expect(RBRACE);
  s.ws();
  if (s.pos !== s.end || typeof id !== 'number' || !Number.isSafeInteger(id)) throw FALLBACK;
  void plan;
  return id;
}

/**
 * The fast path: a ParsedMessage for a plain envelope (see the module comment), or undefined when the
 * message must go through `parseMessage`.
 */
export function parseForModel(key: Buffer | null, value: Buffer | null, spec: FeatureSpec): ParsedMessage | undefined {
  const plan = fastPlan(spec);
  if (!plan.build) return undefined;
  try {
    const keyId = readKey(plan, key);
    if (value === null || value.length === 0) return { kind: 'tombstone', id: keyId };
    const s = scanner;
    s.reset(value);
    s.expect(LBRACE);
    let op = 0;
    let lsn = -1;
    let beforeAt = -1;
    let afterAt = -1;
    let seen = 0;
    for (;;) {
      const start = s.stringRange();
      const keyEnd = s.pos - 1;
      s.expect(COLON);
      let bit: number;
      if (s.keyIs(start, keyEnd, 'before')) {
        bit = 1;
        beforeAt = s.pos;
        s.ws();
        beforeAt = s.pos;
        skipRow(s);
      } else if (s.keyIs(start, keyEnd, 'after')) {
        bit = 2;
        s.ws();
        afterAt = s.pos;
        skipRow(s);
      } else if (s.keyIs(start, keyEnd, 'op')) {
        bit = 4;
        const v = s.scalar();
        op = v === 'r' || v === 'c' || v === 'u' || v === 'd' ? v.charCodeAt(0) : 0;
        if (!op) throw FALLBACK;
      } else if (s.keyIs(start, keyEnd, 'ts_ms')) {
        bit = 8;
        s.skipScalar();
      } else if (s.keyIs(start, keyEnd, 'source')) {
        bit = 16;
        lsn = readSource(s);
      } else throw FALLBACK;
      if (seen & bit) throw FALLBACK;
      seen |= bit;
      const c = s.peek();
      s.pos++;
      if (c === RBRACE) break;
      if (c !== COMMA) throw FALLBACK;
    }
    s.ws();
    if (s.pos !== s.end || seen !== 31 || lsn < 0) throw FALLBACK;
    const values: Array<string | number | boolean | null | undefined> = new Array(plan.names.length);
    let id: number;
    if (op === 0x64) {
      // A delete: before's ID (else the key's).
      s.pos = beforeAt;
      let bid: number | undefined;
      if (s.buf[beforeAt] === LBRACE) {
        readRow(plan, s, values, true);
        const v = values[0];
        if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v))) throw FALLBACK;
        bid = v;
      }
      if (bid === undefined) {
        if (keyId === null) throw FALLBACK;
        bid = keyId;
      }
      id = bid;
      if (keyId !== null && keyId !== id) throw FALLBACK;
      return { kind: 'event', id, event: { before: { ID: id }, after: null, op: 'd', ts_ms: 0, source: { table: '', lsn, snapshot: false } } };
    }
    if (s.buf[afterAt] !== LBRACE) throw FALLBACK;
    s.pos = afterAt;
    readRow(plan, s, values, false);
    const aid = values[0];
    if (typeof aid !== 'number' || !Number.isSafeInteger(aid)) throw FALLBACK;
    if (keyId !== null && keyId !== aid) throw FALLBACK;
    const after = plan.build(values);
    return { kind: 'event', id: aid, event: { before: null, after, op: String.fromCharCode(op) as 'r' | 'c' | 'u', ts_ms: 0, source: { table: '', lsn, snapshot: false } } };
  } catch (e) {
    if (e === FALLBACK) return undefined;
    throw e;
  }
}

/** Skips `before`/`after`: null, or an object of scalars (nested values fall back). */
function skipRow(s: Scanner): void {
  const c = s.peek();
  if (c === LBRACKET) throw FALLBACK;
  s.skipFlatObjectOrNull();
}

/** `source`: an object of scalars with an integer `lsn` ≥ 0 (a string lsn falls back). */
function readSource(s: Scanner): number {
  s.expect(LBRACE);
  let lsn = -1;
  if (s.peek() === RBRACE) throw FALLBACK;
  for (;;) {
    const start = s.stringRange();
    const keyEnd = s.pos - 1;
    s.expect(COLON);
    if (s.keyIs(start, keyEnd, 'lsn')) {
      if (lsn >= 0) throw FALLBACK;
      const v = s.scalar();
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw FALLBACK;
      lsn = v;
    } else s.skipScalar();
    const c = s.peek();
    s.pos++;
    if (c === RBRACE) return lsn;
    if (c !== COMMA) throw FALLBACK;
  }
}
