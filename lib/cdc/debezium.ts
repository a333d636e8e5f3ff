/**
 * What a real Debezium connector writes, made into the rows the consumer models. Kafka Connect's
 * JsonConverter wraps each key and value as `{schema, payload}` (schemas.enable=true, its default) or
 * writes the payload alone; PostgreSQL folds unquoted column names to lower case; NUMERIC columns come
 * as base64 two's-complement bytes with the scale in the schema (decimal.handling.mode=precise, the
 * default), as `{scale, value}` (VariableScaleDecimal: NUMERIC without a declared scale), as strings
 * (mode string) or as doubles (mode double). This module undoes all of that, and nothing else.
 */
import type { CustomerRow } from './features';

/** A Kafka Connect schema as JsonConverter writes it. */
export interface ConnectSchema {
  type: string;
  name?: string;
  field?: string;
  optional?: boolean;
  parameters?: Record<string, string>;
  fields?: ConnectSchema[];
}

export const DECIMAL_SCHEMA = 'org.apache.kafka.connect.data.Decimal';
export const VARIABLE_SCALE_DECIMAL_SCHEMA = 'io.debezium.data.VariableScaleDecimal';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `{schema, payload}` (JsonConverter with schemas) → its parts; anything else is a bare payload. */
export function unwrapConverter(v: unknown): { payload: unknown; schema?: ConnectSchema } {
  if (isObject(v) && 'payload' in v && 'schema' in v && Object.keys(v).length === 2) {
    return { payload: v.payload, schema: isObject(v.schema) ? (v.schema as unknown as ConnectSchema) : undefined };
  }
  return { payload: v };
}

/** The sub-schema of a struct field, if the struct has one by that name. */
export function fieldSchema(schema: ConnectSchema | undefined, field: string): ConnectSchema | undefined {
  return schema?.fields?.find((f) => f.field === field);
}

/** Big-endian two's-complement bytes (Kafka Connect's Decimal encoding) as a BigInt. */
export function twosComplement(bytes: Uint8Array): bigint {
  if (!bytes.length) return 0n;
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return bytes[0] & 0x80 ? v - (1n << BigInt(bytes.length * 8)) : v;
}

/**
 * unscaled·10^-scale as the nearest float64 (what parsing the decimal text gives): exact for every value
 * the model can use, which are integers or fixed-point values with at most --feature-decimals places.
 */
export function decimalValue(unscaled: bigint, scale: number): number {
  return scale <= 0 ? Number(unscaled * 10n ** BigInt(-scale)) : Number(`${unscaled}e-${scale}`);
}

function decodeBase64Decimal(text: string, scale: number): number | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || !Number.isInteger(scale)) return undefined;
  return decimalValue(twosComplement(Buffer.from(text, 'base64')), scale);
}

/** Debezium's VariableScaleDecimal: `{scale, value}` with base64 bytes; recognisable with or without a schema. */
function decodeVariableScale(v: unknown): number | undefined {
  if (!isObject(v) || typeof v.scale !== 'number' || typeof v.value !== 'string' || Object.keys(v).length !== 2) return undefined;
  return decodeBase64Decimal(v.value, v.scale);
}

const DECIMAL_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A lower-case → canonical name map, built once per list of names. */
const nameMaps = new WeakMap<readonly string[], Map<string, string>>();
function nameMap(names: readonly string[]): Map<string, string> {
  let m = nameMaps.get(names);
  if (!m) {
    m = new Map(names.map((n) => [n.toLowerCase(), n]));
    nameMaps.set(names, m);
  }
  return m;
}

export interface RowNormalization {
  /** The canonical column names (e.g. `Income`): a column whose name matches one case-insensitively takes it. */
  names: readonly string[];
  /** Columns the model reads as numbers: a decimal string there (decimal.handling.mode=string) becomes a number. */
  numeric?: ReadonlySet<string>;
}

/**
 * One row (`before`, `after`, or an unwrapped record) with canonical column names and decimals decoded:
 * Decimal bytes need the row's schema for their scale; VariableScaleDecimal carries its own. Without a
 * schema a precise Decimal is indistinguishable from text: it stays a string (and a feature that is a
 * string is rejected to the DLQ with its reason), so schema-less topics need decimal.handling.mode=string
 * or double.
 */
export function canonicalRow(row: Record<string, unknown>, schema: ConnectSchema | undefined, norm: RowNormalization): CustomerRow {
  const names = nameMap(norm.names);
  const out: CustomerRow = {};
  for (const [col, raw] of Object.entries(row)) {
    const name = names.get(col.toLowerCase()) ?? col;
    let v: unknown = raw;
    const fs = schema ? fieldSchema(schema, col) : undefined;
    if (fs?.name === DECIMAL_SCHEMA && typeof raw === 'string') v = decodeBase64Decimal(raw, Number(fs.parameters?.scale ?? 0)) ?? raw;
    else if (isObject(raw)) v = decodeVariableScale(raw) ?? JSON.stringify(raw);
    else if (Array.isArray(raw)) v = JSON.stringify(raw);
    if (typeof v === 'string' && norm.numeric?.has(name) && DECIMAL_TEXT.test(v.trim())) v = Number(v.trim());
    out[name] = v as string | number | boolean | null;
  }
  return out;
}

/** Debezium's `source.snapshot`: a boolean in older releases, now a string enum (true, first, last, incremental, false…). */
export function isSnapshot(v: unknown): boolean {
  return v === true || (typeof v === 'string' && v !== 'false' && v !== '');
}

/** Fields ExtractNewRecordState adds to an unwrapped record (add.fields=op,lsn,… and delete rewriting). */
export const UNWRAP_OP = '__op';
export const UNWRAP_DELETED = '__deleted';
export const UNWRAP_LSN_FIELDS = ['__lsn', '__source_lsn'] as const;

/** True for a record flattened by ExtractNewRecordState (it carries `__op`, `__lsn` or `__deleted`). */
export function isUnwrapped(payload: Record<string, unknown>): boolean {
  return !('op' in payload) && (UNWRAP_OP in payload || UNWRAP_DELETED in payload || UNWRAP_LSN_FIELDS.some((f) => f in payload));
}
