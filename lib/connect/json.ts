// The `spark-ts sql --json` contract (issue 4): one JSON object per row.
// - 64-bit integers and decimals: JSON numbers with their exact digits (the text is written here, never via a double)
// - timestamps: ISO-8601 UTC with microseconds (2024-02-29T23:59:59.123456Z); TIMESTAMP_NTZ the same without 'Z'
// - dates: YYYY-MM-DD; binary: base64; arrays: JSON arrays; structs and maps: JSON objects
// - NaN / Infinity / -Infinity: the strings "NaN", "Infinity", "-Infinity"; null: null
import type { DataType, StructType } from './types';
import { Decimal, SparkDate, SparkGeography, SparkGeometry, SparkTime, SparkTimestamp, setOwn, type SparkValue } from './values';

/** A JSON number given as its exact text (a bigint or a decimal), so no double ever rounds it. */
export class JsonNumber {
  constructor(readonly text: string) {
    if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(text)) throw new SyntaxError(`not a JSON number: ${text}`);
  }
  toJSON(): string {
    return this.text;
  }
}

export type JsonValue = null | boolean | number | string | JsonNumber | JsonValue[] | { [key: string]: JsonValue };

function nonFinite(n: number): string | null {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return null;
}

/** The shortest decimal that reads back as the same 32-bit float (1.1f prints 1.1, not 1.100000023841858). */
export function shortestFloat32(n: number): number {
  if (!Number.isFinite(n) || Math.fround(n) !== n) return n;
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(n.toPrecision(p));
    if (Math.fround(candidate) === n) return candidate;
  }
  return n;
}

/** A map key as JSON object member name. */
function keyText(k: SparkValue): string {
  if (k === null) return 'null';
  if (typeof k === 'string') return k;
  if (typeof k === 'number') return nonFinite(k) ?? String(k);
  if (typeof k === 'bigint' || typeof k === 'boolean') return String(k);
  if (k instanceof Decimal || k instanceof SparkDate || k instanceof SparkTime) return k.toString();
  if (k instanceof SparkTimestamp) return k.toISOString();
  if (k instanceof Uint8Array) return Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('base64');
  return jsonText(toJsonValue(k));
}

/**
 * The contract's JSON form of a value. `dataType`, when known, only refines floats (printed as the shortest
 * float32 text); everything else is decided by the value itself.
 */
export function toJsonValue(v: SparkValue, dataType?: DataType): JsonValue {
  if (v === null) return null;
  switch (typeof v) {
    case 'boolean':
    case 'string':
      return v;
    case 'number': {
      const special = nonFinite(v);
      if (special !== null) return special;
      return dataType?.type === 'float' ? shortestFloat32(v) : v;
    }
    case 'bigint':
      return new JsonNumber(v.toString());
    default:
      break;
  }
  if (v instanceof Decimal) return new JsonNumber(v.toString());
  if (v instanceof SparkTimestamp) return v.toISOString();
  if (v instanceof SparkDate || v instanceof SparkTime) return v.toString();
  // { srid, wkb (base64, as binary values) }
  if (v instanceof SparkGeometry || v instanceof SparkGeography) return v.toJSON();
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (Array.isArray(v)) {
    const el = dataType?.type === 'array' ? dataType.elementType : undefined;
    return v.map((x) => toJsonValue(x, el));
  }
  if (v instanceof Map) {
    const vt = dataType?.type === 'map' ? dataType.valueType : undefined;
    const o: { [key: string]: JsonValue } = {};
    for (const [k, x] of v) setOwn(o, keyText(k), toJsonValue(x, vt));
    return o;
  }
  const struct =
    dataType?.type === 'struct' ? dataType : dataType?.type === 'udt' && dataType.sqlType?.type === 'struct' ? dataType.sqlType : undefined;
  const o: { [key: string]: JsonValue } = {};
  for (const [k, x] of Object.entries(v)) setOwn(o, k, toJsonValue(x, struct?.fields.find((f) => f.name === k)?.dataType));
  return o;
}

/** JSON text of a JsonValue; JsonNumber text is written verbatim. */
export function jsonText(v: JsonValue): string {
  if (v === null) return 'null';
  if (v instanceof JsonNumber) return v.text;
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (Object.is(v, -0)) return '-0.0'; // JSON.stringify(-0) is "0": keep the sign Spark keeps
      return Number.isFinite(v) ? JSON.stringify(v) : JSON.stringify(nonFinite(v));
    case 'string':
      return JSON.stringify(v);
    default:
      break;
  }
  if (Array.isArray(v)) return '[' + v.map(jsonText).join(',') + ']';
  const parts: string[] = [];
  for (const [k, x] of Object.entries(v)) parts.push(JSON.stringify(k) + ':' + jsonText(x));
  return '{' + parts.join(',') + '}';
}

/** One JSON Lines record (no trailing newline) for a result row. Pass the result schema to refine floats. */
export function rowToJsonLine(row: Record<string, SparkValue>, schema?: StructType): string {
  const parts: string[] = [];
  const fields = schema?.fields;
  let i = 0;
  for (const [k, x] of Object.entries(row)) {
    const dt = fields?.[i]?.name === k ? fields[i]!.dataType : fields?.find((f) => f.name === k)?.dataType;
    parts.push(JSON.stringify(k) + ':' + jsonText(toJsonValue(x, dt)));
    i++;
  }
  return '{' + parts.join(',') + '}';
}
