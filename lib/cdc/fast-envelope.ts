/**
 * A fast path for the consumer's messages: a Debezium envelope `{before, after, op, ts_ms, source, …}` bare
 * (the simulated producer's, or Debezium's with `schemas.enable=false`) or in JsonConverter's `{schema,
 * payload}` wrapping (Debezium's default), and ExtractNewRecordState's flattened records (`__op`, `__lsn`,
 * `__deleted`). It reads the bytes of the Kafka message directly, without `toString()`, without
 * `JSON.parse` and without copying the row: only the columns the model reads (its features, the target,
 * `ID` and the inputs of derived features) are taken from the row, `before` is only validated (and read
 * for its ID on a delete), everything else is validated and skipped. A value's schema is parsed once per
 * distinct schema text (a topic repeats it byte for byte: a cache hit is one `Buffer.compare`); it gives
 * each Decimal column's scale, and precise decimals (base64 two's complement) are decoded from the bytes.
 *
 * It is a strict recognizer of a subset of JSON: whenever a message is anything else (escapes in the
 * strings it reads, control bytes, nested values in model columns, decimals it cannot decode exactly, a
 * duplicated column or member, `op: "t"`, malformed JSON, a payload before its schema, a key other than
 * `{"ID": n}` bare or wrapped, ...) it returns undefined and the caller uses `parseMessage`, so its
 * results are by construction those of `parseMessage` on the messages it accepts (checked by a
 * differential test over generated, wrapped, unwrapped, mutated and captured messages). The returned
 * event's `after` holds only the model's columns, `before` only the ID, `ts_ms` 0 and `source` only the
 * lsn: all that the consumer's `CdcState.apply` reads.
 */
import { CUSTOMER_COLUMNS, type ParsedMessage } from './envelope';
import { DECIMAL_SCHEMA, fieldSchema, type ConnectSchema } from './debezium';
import { DERIVED_FEATURES, DERIVED_FEATURE_INPUTS, type CustomerRow, type FeatureSpec } from './features';
import type { EncodedRow } from './stats';

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
  /** Predicted raw key bytes per position of `after` (messages repeat their column order). */
  readonly predicted: Predicted[];
}

/** A row's column at one position, as the last message had it: its raw name, slot, and Decimal scale under schema `part`. */
export interface Predicted {
  bytes: Uint8Array;
  slot: number;
  part: ConnectSchema | undefined;
  /** The scale of a Decimal column (0..22), or NOT_DECIMAL / ODD_SCALE. */
  scale: number;
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
  const build = names.includes('__proto__')
    ? undefined
    : // eslint-disable-next-line no-new-func -- code generated from JSON-quoted column names, for speed
      (new Function('v', `return {${names.map((n, i) => `${JSON.stringify(n)}: v[${i}]`).join(', ')}};`) as NonNullable<FastPlan['build']>);
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

  /** True when the key at [start, end) equals `want`. */
  keyIs(start: number, end: number, want: string): boolean {
    const len = end - start;
    if (len !== want.length) return false;
    for (let k = 0; k < len; k++) if (this.buf[start + k] !== want.charCodeAt(k)) return false;
    return true;
  }
}

const scanner = new Scanner();

/**
 * String values of read columns, interned: a row's strings repeat (Education, Marital_Status, a few hundred
 * dates), so a string is made once per distinct byte sequence (a direct-mapped cache by a hash of the bytes,
 * compared byte for byte on a hit) instead of once per message. The same value as `asciiString()`: a string
 * without escapes or control bytes, ASCII only (anything else falls back), at most 64 bytes cached.
 */
const INTERN_SIZE = 4096;
const internBytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(INTERN_SIZE).fill(undefined);
const internStrings: string[] = new Array<string>(INTERN_SIZE).fill('');
function internedString(s: Scanner): string {
  const b = s.buf;
  const start = s.stringRange();
  const endQ = s.pos - 1;
  const len = endQ - start;
  let h = len;
  for (let k = start; k < endQ; k++) {
    const c = b[k];
    if (c >= 0x80) throw FALLBACK;
    h = (Math.imul(h, 31) + c) | 0;
  }
  if (len > 64) return b.toString('latin1', start, endQ);
  const slot = (h ^ (h >>> 12)) & (INTERN_SIZE - 1);
  const cached = internBytes[slot];
  if (cached !== undefined && cached.length === len) {
    let same = true;
    for (let k = 0; k < len; k++) {
      if (cached[k] !== b[start + k]) {
        same = false;
        break;
      }
    }
    if (same) return internStrings[slot];
  }
  const str = b.toString('latin1', start, endQ);
  internBytes[slot] = Uint8Array.prototype.slice.call(b, start, endQ);
  internStrings[slot] = str;
  return str;
}

/** A string's body from `i` (after its opening quote): a plain run inline, escapes and control bytes to skipStringBody. */
function skipStringFast(b: Buffer, i: number, end: number): number {
  for (; i < end; i++) {
    const c = b[i];
    if (c === Q) return i + 1;
    if (c === BS || c < 0x20) return skipStringBody(b, i, end);
  }
  return -1;
}

/** Any JSON value starting at `i` (no blanks before it), validated, nested to a bounded depth; -1 outside the subset. */
function skipValueAt(b: Buffer, i: number, end: number, depth: number): number {
  if (i >= end) return -1;
  const c = b[i];
  if (c === Q) return skipStringFast(b, i + 1, end);
  if (c >= 0x31 && c <= 0x39) {
    // The common case inline: a positive integer; anything more goes through the full number grammar.
    const start = i;
    i++;
    while (i < end && b[i] >= 0x30 && b[i] <= 0x39) i++;
    if (i < end && (b[i] === 0x2e || b[i] === 0x65 || b[i] === 0x45)) return skipNumber(b, start, end);
    return i;
  }
  if (c === 0x30) {
    // A zero (common: flags and counts), as skipNumber takes it: a fraction or exponent goes through the grammar.
    const d = i + 1 < end ? b[i + 1] : 0;
    return d === 0x2e || d === 0x65 || d === 0x45 ? skipNumber(b, i, end) : i + 1;
  }
  if (c !== LBRACE && c !== LBRACKET) return skipScalarAt(b, i, end);
  if (depth > 32) return -1;
  const close = c === LBRACE ? RBRACE : 0x5d;
  i = skipWs(b, i + 1, end);
  if (i < end && b[i] === close) return i + 1;
  for (;;) {
    if (close === RBRACE) {
      if (i >= end || b[i] !== Q) return -1;
      i = skipStringFast(b, i + 1, end);
      if (i < 0) return -1;
      if (i < end && b[i] !== COLON) i = skipWs(b, i, end);
      if (i >= end || b[i] !== COLON) return -1;
      i++;
      if (i < end && isWs(b[i])) i = skipWs(b, i, end);
    }
    i = skipValueAt(b, i, end, depth + 1);
    if (i < 0) return -1;
    if (i < end && isWs(b[i])) i = skipWs(b, i, end);
    if (i >= end) return -1;
    const d = b[i];
    if (d === close) return i + 1;
    if (d !== COMMA) return -1;
    i++;
    if (i < end && isWs(b[i])) i = skipWs(b, i, end);
  }
}

/** Not a Decimal column (its value is taken as it is). */
const NOT_DECIMAL = -1;
/** A Decimal column whose scale the fast path does not decode (not an integer in 0..22): a string there falls back. */
const ODD_SCALE = -2;

/**
 * What a column's schema says about its values, as `canonicalRow` reads it: the first field of `part`
 * named exactly `raw`; a `Decimal` there has its scale in `parameters.scale` (default 0).
 */
function scaleIn(part: ConnectSchema | undefined, raw: string): number {
  if (!part) return NOT_DECIMAL;
  let fs: ConnectSchema | undefined;
  try {
    fs = fieldSchema(part, raw);
  } catch {
    throw FALLBACK; // a schema parseMessage cannot read either
  }
  if (fs?.name !== DECIMAL_SCHEMA) return NOT_DECIMAL;
  const scale = Number(fs.parameters?.scale ?? 0);
  return Number.isInteger(scale) && scale >= 0 && scale <= 22 ? scale : ODD_SCALE;
}

/** The row's raw column name at [start, end) and what the model makes of it, predicted from the last message's column order. */
function columnAt(
  plan: FastPlan,
  table: Predicted[],
  part: ConnectSchema | undefined,
  b: Buffer,
  start: number,
  end: number,
  position: number,
): Predicted {
  const p = position < table.length ? table[position] : undefined;
  if (p && p.bytes.length === end - start) {
    let same = true;
    for (let k = 0; k < p.bytes.length; k++) {
      if (p.bytes[k] !== b[start + k]) {
        same = false;
        break;
      }
    }
    if (same) {
      if (p.slot >= 0 && p.part !== part) {
        p.part = part;
        p.scale = scaleIn(part, b.toString('latin1', start, end));
      }
      return p;
    }
  }
  for (let k = start; k < end; k++) if (b[k] >= 0x80) throw FALLBACK;
  const raw = b.toString('latin1', start, end);
  let slot = plan.slots.get(raw);
  if (slot === undefined) {
    const name = plan.canonical.get(raw.toLowerCase()) ?? raw;
    slot = plan.names.indexOf(name);
    if (plan.slots.size < 10_000) plan.slots.set(raw, slot);
  }
  const entry: Predicted = {
    bytes: Uint8Array.prototype.slice.call(b, start, end),
    slot,
    part,
    scale: slot >= 0 ? scaleIn(part, raw) : NOT_DECIMAL,
  };
  if (position < 256) table[position] = entry;
  return entry;
}

const B64 = new Int8Array(256).fill(-1);
for (let k = 0; k < 64; k++) B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(k)] = k;

/**
 * A Decimal's base64 two's-complement bytes at [start, end) (the string's contents) scaled by 10^-scale:
 * what `decodeBase64Decimal` gives, for 1–6 bytes in canonical base64 (length a multiple of 4, `=` only as
 * padding); anything else falls back. With |unscaled| < 2^53 and 10^scale exact (scale ≤ 22) one IEEE
 * division is the correctly rounded decimal, as is parsing its text.
 */
function decimalAt(b: Buffer, start: number, end: number, scale: number): number {
  const len = end - start;
  if (len === 0 || len > 8 || len % 4 !== 0 || scale < 0) throw FALLBACK;
  let pad = 0;
  if (b[end - 1] === 0x3d) pad = b[end - 2] === 0x3d ? 2 : 1;
  let v = 0;
  for (let k = start; k < end - pad; k++) {
    const d = B64[b[k]];
    if (d < 0) throw FALLBACK;
    v = v * 64 + d;
  }
  // Padding: the last character's low bits are not part of the bytes.
  const bytes = (len / 4) * 3 - pad;
  if (pad) v = Math.floor(v / (pad === 1 ? 4 : 16));
  const top = 2 ** (8 * bytes);
  if (v >= top / 2) v -= top;
  return scale === 0 ? v : v / 10 ** scale;
}

/** True when `bytes` are at `start` and a quote follows them. */
function keyMatches(bytes: Uint8Array, b: Buffer, start: number, end: number): boolean {
  const len = bytes.length;
  if (start + len >= end || b[start + len] !== Q) return false;
  for (let k = 0; k < len; k++) if (bytes[k] !== b[start + k]) return false;
  return true;
}

/** A decimal in a string (decimal.handling.mode=string), as `canonicalRow` converts it in a numeric column. */
const DECIMAL_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A flat object's members into `values` (undefined: absent): the model's columns of a row, or (unwrapped
 * records) the row plus ExtractNewRecordState's `__` fields, which `onMeta` takes. Decimals are decoded by
 * the schema `part`. A nested value in a model column, a duplicated model column or a string a numeric
 * column cannot take falls back.
 */
function readRow(
  plan: FastPlan,
  s: Scanner,
  values: Array<string | number | boolean | null | undefined>,
  onlyId: boolean,
  table: Predicted[],
  part: ConnectSchema | undefined,
  onMeta?: (start: number, keyEnd: number) => void,
): void {
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
    // The key as the last message had it at this position (validated bytes followed by the closing quote), else scanned.
    let col: Predicted | undefined = position < table.length ? table[position] : undefined;
    let keyEnd: number;
    if (col !== undefined && col.part === part && keyMatches(col.bytes, b, start, end)) {
      keyEnd = start + col.bytes.length;
      i = keyEnd + 1;
    } else {
      col = undefined;
      i = plainStringBody(b, start, end);
      if (i < 0) throw FALLBACK;
      keyEnd = i - 1;
    }
    i = skipWs(b, i, end);
    if (i >= end || b[i] !== COLON) throw FALLBACK;
    i = skipWs(b, i + 1, end);
    if (onMeta && keyEnd - start >= 2 && b[start] === 0x5f && b[start + 1] === 0x5f) {
      s.pos = i;
      onMeta(start, keyEnd);
      i = s.pos;
    } else {
      col ??= columnAt(plan, table, part, b, start, keyEnd, position);
      const slot = col.slot;
      if (slot < 0 || (onlyId && slot !== 0)) {
        // Not read: any JSON value (e.g. a VariableScaleDecimal `{scale, value}`), validated.
        i = skipValueAt(b, i, end, 0);
        if (i < 0) throw FALLBACK;
      } else {
        if (values[slot] !== undefined) throw FALLBACK; // a duplicated column: JSON.parse's order rules, leave to the slow path
        s.pos = i;
        const c0 = b[i];
        let v = c0 === Q ? internedString(s) : c0 === MINUS || (c0 >= 0x30 && c0 <= 0x39) ? s.number() : s.scalar();
        if (typeof v === 'string') {
          const scale = col.scale;
          if (scale >= 0) v = decimalAt(b, i + 1, s.pos - 1, scale);
          else if (scale === ODD_SCALE) throw FALLBACK;
          else if (plan.numeric[slot]) {
            // decimal.handling.mode=string: a decimal string in a feature or target column is a number.
            const t = v.trim();
            if (!DECIMAL_TEXT.test(t)) throw FALLBACK;
            v = Number(t);
          }
        }
        i = s.pos;
        values[slot] = v;
      }
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

/** The ID in a key's payload: `{"ID": n}` (any case of the name, one member) → n; anything else falls back. */
function readIdObject(s: Scanner): number {
  s.expect(LBRACE);
  const start = s.stringRange();
  const end = s.pos - 1;
  if (end - start !== 2 || (s.buf[start] | 0x20) !== 0x69 || (s.buf[start + 1] | 0x20) !== 0x64) throw FALLBACK;
  s.expect(COLON);
  if (s.peek() === Q) throw FALLBACK;
  const id = s.scalar();
  s.expect(RBRACE);
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw FALLBACK;
  return id;
}

/** Skips any JSON value at the scanner (validated). */
function skipValue(s: Scanner): void {
  s.ws();
  const i = skipValueAt(s.buf, s.pos, s.end, 0);
  if (i < 0) throw FALLBACK;
  s.pos = i;
}

/**
 * The key: `{"ID": n}` bare, or JsonConverter's `{"schema": …, "payload": {"id": n} | null}` (those two
 * members, either order) → n (null payload: null); no key → null; anything else falls back.
 */
function readKey(key: Buffer | null): number | null {
  if (key === null || key.length === 0) return null;
  const s = scanner;
  s.reset(key);
  s.ws();
  const brace = s.pos;
  s.expect(LBRACE);
  const start = s.stringRange();
  const end = s.pos - 1;
  let id: number | null = null;
  if (s.keyIs(start, end, 'schema') || s.keyIs(start, end, 'payload')) {
    const schemaFirst = s.keyIs(start, end, 'schema');
    s.expect(COLON);
    const readPayload = () => {
      if (s.peek() === LBRACE) return readIdObject(s);
      s.literal('null', null);
      return null;
    };
    if (schemaFirst) skipValue(s);
    else id = readPayload();
    s.expect(COMMA);
    const start2 = s.stringRange();
    if (!s.keyIs(start2, s.pos - 1, schemaFirst ? 'payload' : 'schema')) throw FALLBACK;
    s.expect(COLON);
    if (schemaFirst) id = readPayload();
    else skipValue(s);
    s.expect(RBRACE);
  } else {
    s.pos = brace;
    id = readIdObject(s);
  }
  s.ws();
  if (s.pos !== s.end) throw FALLBACK;
  return id;
}

/** A value's schema, parsed once per distinct schema text (messages of a topic repeat it byte for byte). */
interface SchemaEntry {
  bytes: Buffer;
  /** The whole schema (an unwrapped record's row), and its `after` / `before` fields (an envelope's rows). */
  whole: ConnectSchema | undefined;
  after: ConnectSchema | undefined;
  before: ConnectSchema | undefined;
}
const schemaCache: SchemaEntry[] = [];

/** The schema at the scanner: the cached entry whose bytes are the next bytes (a JSON value ends where its bytes say), else parsed. */
function readSchema(s: Scanner): SchemaEntry {
  s.ws();
  const b = s.buf;
  const at = s.pos;
  for (let k = 0; k < schemaCache.length; k++) {
    const e = schemaCache[k];
    const len = e.bytes.length;
    if (at + len <= s.end && b.compare(e.bytes, 0, len, at, at + len) === 0) {
      s.pos = at + len;
      if (k > 0) {
        schemaCache.splice(k, 1);
        schemaCache.unshift(e);
      }
      return e;
    }
  }
  if (b[at] !== LBRACE) throw FALLBACK; // a schema that is not an object: parseMessage ignores it, rare enough to leave to it
  const endAt = skipValueAt(b, at, s.end, 0);
  if (endAt < 0) throw FALLBACK;
  let entry: SchemaEntry;
  try {
    const whole = JSON.parse(b.toString('utf8', at, endAt)) as ConnectSchema;
    entry = { bytes: Buffer.from(b.subarray(at, endAt)), whole, after: fieldSchema(whole, 'after'), before: fieldSchema(whole, 'before') };
  } catch {
    throw FALLBACK;
  }
  schemaCache.unshift(entry);
  if (schemaCache.length > 8) schemaCache.pop();
  s.pos = endAt;
  return entry;
}

type Row = Array<string | number | boolean | null | undefined>;

/**
 * Per plan: the predicted column tables (`after`, `before`, unwrapped records), scratch arrays for the
 * values read from a row (cleared before each use; `upsert` copies them into the row it returns) and the
 * encoder of parseEncodedForModel.
 */
interface Tables {
  after: Predicted[];
  before: Predicted[];
  flat: Predicted[];
  row: Row;
  key: Row;
  /** undefined: not compiled yet; null: none for this spec (decimals > 0). */
  encoder: ValuesEncoder | null | undefined;
}
const tables = new WeakMap<FastPlan, Tables>();
function tablesOf(plan: FastPlan): Tables {
  let t = tables.get(plan);
  if (!t) {
    t = {
      after: plan.predicted,
      before: [],
      flat: [],
      row: new Array(plan.names.length),
      key: new Array(plan.names.length),
      encoder: undefined,
    };
    tables.set(plan, t);
  }
  return t;
}

// The last spec's plan and tables (a consumer asks with the same spec for every message: no WeakMap lookups then).
let lastSpec: FeatureSpec | undefined;
let lastPlan: FastPlan | undefined;
let lastTables: Tables | undefined;
function planOf(spec: FeatureSpec): FastPlan {
  if (spec !== lastSpec || !lastPlan) {
    lastPlan = fastPlan(spec);
    lastTables = tablesOf(lastPlan);
    lastSpec = spec;
  }
  return lastPlan;
}

/** A scratch row of a plan, cleared. */
function scratch(row: Row): Row {
  row.fill(undefined);
  return row;
}

/**
 * Encoded mode (parseEncodedForModel): `upsert` does not build the row but returns UPSERT and leaves its
 * fields here (the values stay in the scratch array `upsertValues` until the next message).
 */
let encodedMode = false;
const UPSERT: ParsedMessage = { kind: 'tombstone', id: null };
let upsertId = 0;
let upsertOp = 0;
let upsertLsn = 0;
let upsertValues: Row = [];

/**
 * The fast path: a ParsedMessage for a plain envelope, a JsonConverter-wrapped one, or an
 * ExtractNewRecordState record (see the module comment), or undefined when the message must go through
 * `parseMessage`.
 */
export function parseForModel(key: Buffer | null, value: Buffer | null, spec: FeatureSpec): ParsedMessage | undefined {
  const plan = planOf(spec);
  if (!plan.build) return undefined;
  return parseCore(key, value, plan);
}

/** What the consumer applies of a message the fast path read and encoded (parseEncodedForModel). */
export interface FastEncoded {
  kind: 'event' | 'tombstone';
  /** The event's ID; a tombstone's key ID (or null). */
  id: number | null;
  /** The event's op (a tombstone: 'd', unused). */
  op: 'r' | 'c' | 'u' | 'd';
  /** The event's source lsn (a tombstone: -1, unused). */
  lsn: number;
  /** The row encoded as `encodeRow` encodes it (null: a delete or a tombstone); reused by the next call, copy what you keep. */
  row: EncodedRow | null;
}

const OPS: Record<number, 'r' | 'c' | 'u'> = { 0x72: 'r', 0x63: 'c', 0x75: 'u' };

/**
 * The fast path fused with the row encoder: fills `out` with what `parseMessage` then `encodeRow` give
 * for the message (kind, id, op, lsn, the encoded row) and returns true, without building the row object;
 * or returns false (out untouched) when the fast path does not take the message, the spec has decimals,
 * or the row is not one that `compileEncoder`'s fast code accepts (every feature a safe integer, the
 * target 0, 1 or null): the caller then goes through parseForModel / parseMessage and the state's encoder.
 */
export function parseEncodedForModel(key: Buffer | null, value: Buffer | null, spec: FeatureSpec, out: FastEncoded): boolean {
  const plan = planOf(spec);
  if (!plan.build) return false;
  const t = lastTables!;
  if (t.encoder === undefined) t.encoder = compileValuesEncoder(plan, spec);
  const encode = t.encoder;
  if (encode === null) return false;
  encodedMode = true;
  let p: ParsedMessage | undefined;
  try {
    p = parseCore(key, value, plan);
  } finally {
    encodedMode = false;
  }
  if (p === undefined) return false;
  if (p === UPSERT) {
    const row = encode(upsertValues);
    if (row === undefined) return false;
    out.kind = 'event';
    out.id = upsertId;
    out.op = OPS[upsertOp];
    out.lsn = upsertLsn;
    out.row = row;
    return true;
  }
  if (p.kind === 'tombstone') {
    out.kind = 'tombstone';
    out.id = p.id;
    out.op = 'd';
    out.lsn = -1;
    out.row = null;
    return true;
  }
  if (p.kind !== 'event' || p.event.op !== 'd') return false;
  out.kind = 'event';
  out.id = p.id;
  out.op = 'd';
  out.lsn = p.event.source.lsn;
  out.row = null;
  return true;
}

type ValuesEncoder = (values: Row) => EncodedRow | undefined;

/**
 * `compileEncoder`'s fast code for decimals = 0, reading the plan's values instead of a row object: a
 * column of a feature's name wins, else a derived feature is computed from its input columns (its
 * DERIVED_FEATURE_INPUTS, all a derived feature reads), else the feature is missing. Accepts exactly the
 * rows that code accepts, with the same result; undefined otherwise (and null for decimals > 0).
 */
function compileValuesEncoder(plan: FastPlan, spec: FeatureSpec): ValuesEncoder | null {
  if (spec.decimals !== 0) return null;
  const p = spec.features.length;
  const slotOf = (n: string) => {
    const k = plan.names.indexOf(n);
    if (k < 0) throw new Error(`fast path: ${n} is not read`);
    return k;
  };
  const slots = Int32Array.from(spec.features, slotOf);
  const derive = spec.features.map((f) =>
    Object.prototype.hasOwnProperty.call(DERIVED_FEATURES, f) ? deriverOf(plan, f, slotOf) : undefined,
  );
  const ySlot = slotOf(spec.target);
  // The row returned, reused for every message (the caller copies what it keeps).
  const x = new Array<number>(p).fill(0);
  const out: EncodedRow = { x, y: null };
  return (v) => {
    for (let j = 0; j < p; j++) {
      let t = v[slots[j]];
      if (t === undefined) {
        const d = derive[j];
        if (d !== undefined) t = d(v);
      }
      if (typeof t !== 'number' || !Number.isSafeInteger(t)) return undefined;
      x[j] = t;
    }
    const y = v[ySlot];
    if (y !== null && y !== 0 && y !== 1) return undefined;
    out.y = y;
    return out;
  };
}

/**
 * A derived feature from the values: its function called on a row holding its input columns. With one
 * input the result is cached by that input's value (a few hundred dates, a handful of statuses; bounded;
 * -0 is not cached, a Map would not tell it from 0).
 */
function deriverOf(plan: FastPlan, f: string, slotOf: (n: string) => number): (v: Row) => number | string {
  const fn = DERIVED_FEATURES[f];
  const inputs = DERIVED_FEATURE_INPUTS[f] ?? [];
  const slots = inputs.map(slotOf);
  if (inputs.length === 1) {
    const name = inputs[0];
    const s0 = slots[0];
    const cache = new Map<unknown, number | string>();
    return (v) => {
      const a = v[s0];
      let r = cache.get(a);
      if (r === undefined) {
        r = fn({ [name]: a } as CustomerRow);
        if (cache.size < 10_000 && !Object.is(a, -0)) cache.set(a, r);
      }
      return r;
    };
  }
  return (v) => {
    const row: Record<string, unknown> = {};
    for (let k = 0; k < inputs.length; k++) row[inputs[k]] = v[slots[k]];
    return fn(row as CustomerRow);
  };
}

function parseCore(key: Buffer | null, value: Buffer | null, plan: FastPlan): ParsedMessage | undefined {
  try {
    const keyId = readKey(key);
    if (value === null || value.length === 0) return { kind: 'tombstone', id: keyId };
    const s = scanner;
    s.reset(value);
    s.ws();
    const brace = s.pos;
    s.expect(LBRACE);
    s.ws();
    let schema: SchemaEntry | undefined;
    let open = brace;
    // JsonConverter's wrapping: exactly `{"schema": {…}, "payload": …}`, in that order (its order).
    if (s.keyIs(s.pos + 1, s.pos + 7, 'schema') && s.buf[s.pos + 7] === Q) {
      s.stringRange();
      s.expect(COLON);
      schema = readSchema(s);
      s.expect(COMMA);
      const start = s.stringRange();
      if (!s.keyIs(start, s.pos - 1, 'payload')) throw FALLBACK;
      s.expect(COLON);
      if (s.peek() !== LBRACE) {
        s.literal('null', null);
        s.expect(RBRACE);
        s.ws();
        if (s.pos !== s.end) throw FALLBACK;
        return { kind: 'tombstone', id: keyId };
      }
      open = s.pos;
    }
    s.pos = open;
    const parsed = readPayload(plan, s, open, keyId, schema);
    if (schema) s.expect(RBRACE);
    s.ws();
    if (s.pos !== s.end) throw FALLBACK;
    return parsed;
  } catch (e) {
    if (e === FALLBACK) return undefined;
    throw e;
  }
}

/** The event object (the scanner is at its opening brace, `open`; it ends after the closing one). */
function readPayload(plan: FastPlan, s: Scanner, open: number, keyId: number | null, schema: SchemaEntry | undefined): ParsedMessage {
  const t = plan === lastPlan ? lastTables! : tablesOf(plan);
  let op = 0;
  let lsn = -1;
  let beforeAt = -1;
  let afterAt = -1;
  let seen = 0;
  let metaSeen = false;
  const values = scratch(t.row);
  s.expect(LBRACE);
  if (s.peek() === RBRACE) throw FALLBACK;
  for (;;) {
    const start = s.stringRange();
    const keyEnd = s.pos - 1;
    s.expect(COLON);
    let bit = 0;
    if (s.keyIs(start, keyEnd, 'before')) {
      bit = 1;
      s.ws();
      beforeAt = s.pos;
      skipRow(s, t.after);
    } else if (s.keyIs(start, keyEnd, 'after')) {
      bit = 2;
      s.ws();
      afterAt = s.pos;
      // Read now (one pass): used unless the op turns out to be a delete.
      if (s.buf[afterAt] === LBRACE) readRow(plan, s, values, false, t.after, schema?.after);
      else s.literal('null', null);
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
    } else {
      // Anything else (Debezium's `transaction`, `ts_us`, `ts_ns`; an unwrapped record's columns and `__` fields): validated, read later if it is an unwrapped record.
      if (keyEnd - start >= 2 && s.buf[start] === 0x5f && s.buf[start + 1] === 0x5f) metaSeen = true;
      skipValue(s);
    }
    if (bit) {
      if (seen & bit) throw FALLBACK;
      seen |= bit;
    }
    const c = s.peek();
    s.pos++;
    if (c === RBRACE) break;
    if (c !== COMMA) throw FALLBACK;
  }
  const end = s.pos;
  if (!(seen & 4)) {
    // No `op`: an ExtractNewRecordState record when it has `__` fields (else parseMessage says "missing op").
    if (!metaSeen || seen !== 0) throw FALLBACK;
    s.pos = open;
    const r = readUnwrapped(plan, s, t.flat, schema?.whole, keyId);
    s.pos = end;
    return r;
  }
  if (seen !== 31 || lsn < 0) throw FALLBACK;
  let result: ParsedMessage;
  if (op === 0x64) {
    // A delete: before's ID (else the key's).
    let bid: number | undefined;
    if (s.buf[beforeAt] === LBRACE) {
      s.pos = beforeAt;
      const key = scratch(t.key);
      readRow(plan, s, key, true, t.before, schema?.before);
      const v = key[0];
      if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v))) throw FALLBACK;
      bid = v;
    }
    if (bid === undefined) {
      if (keyId === null) throw FALLBACK;
      bid = keyId;
    }
    if (keyId !== null && keyId !== bid) throw FALLBACK;
    result = {
      kind: 'event',
      id: bid,
      event: { before: { ID: bid }, after: null, op: 'd', ts_ms: 0, source: { table: '', lsn, snapshot: false } },
    };
  } else {
    if (s.buf[afterAt] !== LBRACE) throw FALLBACK;
    result = upsert(plan, values, op, lsn, keyId);
  }
  s.pos = end;
  return result;
}

function upsert(plan: FastPlan, values: Row, op: number, lsn: number, keyId: number | null): ParsedMessage {
  const aid = values[0];
  if (typeof aid !== 'number' || !Number.isSafeInteger(aid)) throw FALLBACK;
  if (keyId !== null && keyId !== aid) throw FALLBACK;
  if (encodedMode) {
    upsertId = aid;
    upsertOp = op;
    upsertLsn = lsn;
    upsertValues = values;
    return UPSERT;
  }
  const after = plan.build!(values);
  return {
    kind: 'event',
    id: aid,
    event: { before: null, after, op: String.fromCharCode(op) as 'r' | 'c' | 'u', ts_ms: 0, source: { table: '', lsn, snapshot: false } },
  };
}

/**
 * ExtractNewRecordState's record (the scanner at its opening brace): the row's columns, `__op`, `__lsn`
 * (else `__source_lsn`) and `__deleted`, read as `parseUnwrapped` does.
 */
function readUnwrapped(
  plan: FastPlan,
  s: Scanner,
  table: Predicted[],
  part: ConnectSchema | undefined,
  keyId: number | null,
): ParsedMessage {
  const values: Row = new Array(plan.names.length);
  let lsn = -1;
  let lsnRank = 0; // 2: __lsn, 1: __source_lsn (parseUnwrapped prefers __lsn whichever comes first)
  let rawOp: number | undefined; // char code; 0: present but not r/c/u/d
  let deleted = false;
  const seenMeta = new Set<string>();
  readRow(plan, s, values, false, table, part, (start, keyEnd) => {
    const name = s.buf.toString('latin1', start, keyEnd);
    if (seenMeta.has(name)) throw FALLBACK;
    seenMeta.add(name);
    if (name === '__op') {
      const v = s.scalar();
      rawOp = v === 'r' || v === 'c' || v === 'u' || v === 'd' ? v.charCodeAt(0) : 0;
    } else if (name === '__lsn' || name === '__source_lsn') {
      const v = s.scalar();
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw FALLBACK;
      const rank = name === '__lsn' ? 2 : 1;
      if (rank > lsnRank) {
        lsn = v;
        lsnRank = rank;
      }
    } else if (name === '__deleted') {
      const v = s.scalar();
      deleted = v === true || v === 'true';
    } else skipValue(s);
  });
  if (lsn < 0) throw FALLBACK;
  const op = deleted ? 0x64 : rawOp === undefined ? 0x75 : rawOp;
  if (!op) throw FALLBACK;
  if (op === 0x64) {
    const v = values[0];
    let id: number;
    if (typeof v === 'number' && Number.isSafeInteger(v)) id = v;
    else if (v === undefined && keyId !== null) id = keyId;
    else throw FALLBACK;
    if (keyId !== null && keyId !== id) throw FALLBACK;
    return {
      kind: 'event',
      id,
      event: { before: { ID: id }, after: null, op: 'd', ts_ms: 0, source: { table: '', lsn, snapshot: false } },
    };
  }
  return upsert(plan, values, op, lsn, keyId);
}

/**
 * Skips `before`/`after`: null, or an object (validated; what is read of it is read later). Its keys are
 * compared with `after`'s at the same position (a row repeats its column order) before they are scanned.
 */
function skipRow(s: Scanner, table: Predicted[]): void {
  if (s.peek() !== LBRACE) {
    s.literal('null', null);
    return;
  }
  const b = s.buf;
  const end = s.end;
  let i = skipWs(b, s.pos + 1, end);
  if (i < end && b[i] === RBRACE) {
    s.pos = i + 1;
    return;
  }
  for (let position = 0; ; position++) {
    if (i >= end || b[i] !== Q) throw FALLBACK;
    const p = position < table.length ? table[position] : undefined;
    if (p !== undefined && keyMatches(p.bytes, b, i + 1, end)) i += p.bytes.length + 2;
    else i = skipStringFast(b, i + 1, end);
    if (i < 0) throw FALLBACK;
    i = skipWs(b, i, end);
    if (i >= end || b[i] !== COLON) throw FALLBACK;
    i = skipValueAt(b, skipWs(b, i + 1, end), end, 0);
    if (i < 0) throw FALLBACK;
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
