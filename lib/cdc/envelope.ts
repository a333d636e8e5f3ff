import type { CustomerRow } from './features';
import {
  canonicalRow,
  fieldSchema,
  isSnapshot,
  isUnwrapped,
  unwrapConverter,
  UNWRAP_DELETED,
  UNWRAP_LSN_FIELDS,
  UNWRAP_OP,
  type ConnectSchema,
  type RowNormalization,
} from './debezium';
import { INPUT_COLUMN_NAMES } from '../preprocess/schema';
import { errorMessage } from '../util/errors';

/** Debezium operation codes: snapshot read, create, update, delete. */
export type ChangeOp = 'r' | 'c' | 'u' | 'd';
export const CHANGE_OPS: readonly ChangeOp[] = ['r', 'c', 'u', 'd'];

export interface SourceInfo {
  table: string;
  /** Log sequence number: rises strictly across the whole stream. */
  lsn: number;
  snapshot: boolean;
}

/** A Debezium-style change event value. */
export interface ChangeEvent {
  before: CustomerRow | null;
  after: CustomerRow | null;
  op: ChangeOp;
  ts_ms: number;
  source: SourceInfo;
}

/** The message key: one customer's events share it, so they stay in order on one partition. */
export interface ChangeKey {
  ID: number;
}

export const CDC_TABLE = 'customers';

/** The customer table's columns (the Kaggle file's, and the preprocess job's engineered ones), by canonical name. */
export const CUSTOMER_COLUMNS: readonly string[] = [
  ...INPUT_COLUMN_NAMES,
  'Age',
  'Tenure_Days',
  'Children',
  'Family_Size',
  'Is_Parent',
  'Total_Spend',
  'Total_Purchases',
  'Total_Accepted_Campaigns',
  'Spend_per_Purchase',
  'Income_per_Capita',
  'Education_Level',
  'Age_Group',
];

export function keyOf(id: number): string {
  return JSON.stringify({ ID: id } satisfies ChangeKey);
}

/** What the consumer makes of one Kafka message. */
export type ParsedMessage =
  | { kind: 'tombstone'; id: number | null }
  | { kind: 'event'; id: number; event: ChangeEvent }
  /** Debezium's `op: "t"`: every row whose last change is older than `lsn` is gone. */
  | { kind: 'truncate'; lsn: number }
  | { kind: 'invalid'; reason: string };

/** The names the consumer reads rows by (its features and target); other columns keep their names. */
export interface RowColumns {
  features: readonly string[];
  target: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function idOf(row: unknown): number | undefined {
  if (!isObject(row)) return undefined;
  const id = row.ID;
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : undefined;
}

/** The key's ID: `{"ID": n}`, `{"id": n}` (PostgreSQL's lower case), bare or in JsonConverter's `{schema, payload}`. */
function parseKey(key: Buffer | string | null): number | null | { error: string } {
  if (key === null || key.length === 0) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(key.toString());
  } catch {
    return { error: 'malformed JSON key' };
  }
  const { payload } = unwrapConverter(parsed);
  if (payload === null) return null;
  if (!isObject(payload)) return { error: 'key without integer ID' };
  const k = Object.keys(payload).find((c) => c.toLowerCase() === 'id');
  const id = k === undefined ? undefined : payload[k];
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : { error: 'key without integer ID' };
}

/** Canonical names per column list: the key column, the model's columns and the customer table's. */
const normalizations = new WeakMap<RowColumns, RowNormalization>();
const DEFAULT_NORMALIZATION: RowNormalization = { names: ['ID', ...CUSTOMER_COLUMNS] };
function normalizationFor(columns: RowColumns | undefined): RowNormalization {
  if (!columns) return DEFAULT_NORMALIZATION;
  let n = normalizations.get(columns);
  if (!n) {
    const modelColumns = [...columns.features, columns.target];
    n = { names: [...new Set(['ID', ...CUSTOMER_COLUMNS, ...modelColumns])], numeric: new Set(modelColumns) };
    normalizations.set(columns, n);
  }
  return n;
}

/** A `before`/`after` row with canonical names and decoded decimals; null when absent, 'bad' when not an object. */
function rowOf(v: unknown, schema: ConnectSchema | undefined, norm: RowNormalization): CustomerRow | null | 'bad' {
  if (v === null || v === undefined) return null;
  if (!isObject(v)) return 'bad';
  return canonicalRow(v, schema, norm);
}

/** A non-negative safe integer lsn (Debezium's source.lsn is an int64 WAL position). */
function lsnOf(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Parses and validates one message: the simulated producer's events and real Debezium output (with or
 * without JsonConverter's `{schema, payload}`, any case of column names, decimals in precise / string /
 * double mode, the string `source.snapshot`, truncates, and ExtractNewRecordState's flattened records).
 * Row contents (features, target) are checked later against the model's feature list; here: JSON shape,
 * op, lsn, and a consistent integer ID. `columns` (the model's) get canonical names and numeric decimals.
 */
export function parseMessage(key: Buffer | string | null, value: Buffer | string | null, columns?: RowColumns): ParsedMessage {
  const keyId = parseKey(key);
  if (value === null || value.length === 0) {
    return { kind: 'tombstone', id: typeof keyId === 'number' ? keyId : null };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString());
  } catch (e) {
    return { kind: 'invalid', reason: `malformed JSON: ${errorMessage(e)}` };
  }
  const { payload, schema } = unwrapConverter(parsed);
  if (payload === null) return { kind: 'tombstone', id: typeof keyId === 'number' ? keyId : null };
  if (!isObject(payload)) return { kind: 'invalid', reason: 'malformed event: not a JSON object' };
  const norm = normalizationFor(columns);
  if (isUnwrapped(payload)) return parseUnwrapped(payload, schema, keyId, norm);
  if (payload.op === undefined || payload.op === null) return { kind: 'invalid', reason: 'missing op' };
  if (typeof payload.op !== 'string' || !(CHANGE_OPS as readonly string[]).includes(payload.op)) {
    if (payload.op !== 't') return { kind: 'invalid', reason: `unknown op ${JSON.stringify(payload.op)}` };
  }
  const source = payload.source;
  const lsn = isObject(source) ? lsnOf(source.lsn) : undefined;
  if (!isObject(source) || lsn === undefined) return { kind: 'invalid', reason: 'missing or invalid source.lsn' };
  if (payload.op === 't') return { kind: 'truncate', lsn };
  const op = payload.op as ChangeOp;
  const before = rowOf(payload.before, fieldSchema(schema, 'before'), norm);
  const after = rowOf(payload.after, fieldSchema(schema, 'after'), norm);
  if (before === 'bad') return { kind: 'invalid', reason: 'before is not an object' };
  if (after === 'bad') return { kind: 'invalid', reason: 'after is not an object' };
  return finish(
    op,
    before,
    after,
    keyId,
    {
      table: typeof source.table === 'string' ? source.table : '',
      lsn,
      snapshot: isSnapshot(source.snapshot),
    },
    typeof payload.ts_ms === 'number' ? payload.ts_ms : 0,
  );
}

/** ExtractNewRecordState's flattened record: the row itself plus `__op`, `__lsn` and (delete rewriting) `__deleted`. */
function parseUnwrapped(
  payload: Record<string, unknown>,
  schema: ConnectSchema | undefined,
  keyId: ReturnType<typeof parseKey>,
  norm: RowNormalization,
): ParsedMessage {
  const lsnField = UNWRAP_LSN_FIELDS.find((f) => f in payload);
  const lsn = lsnField ? lsnOf(payload[lsnField]) : undefined;
  if (lsn === undefined)
    return { kind: 'invalid', reason: 'unwrapped record without a valid __lsn (configure ExtractNewRecordState with add.fields=op,lsn)' };
  const deleted = payload[UNWRAP_DELETED] === true || payload[UNWRAP_DELETED] === 'true';
  const rawOp = payload[UNWRAP_OP];
  const op: ChangeOp | undefined = deleted
    ? 'd'
    : typeof rawOp === 'string' && (CHANGE_OPS as readonly string[]).includes(rawOp)
      ? (rawOp as ChangeOp)
      : rawOp === undefined
        ? 'u'
        : undefined;
  if (op === undefined) return { kind: 'invalid', reason: `unknown op ${JSON.stringify(rawOp)}` };
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(payload)) if (!k.startsWith('__')) fields[k] = v;
  const row = canonicalRow(fields, schema, norm);
  const snap = payload.__source_snapshot ?? payload.__snapshot;
  return finish(
    op,
    op === 'd' ? row : null,
    op === 'd' ? null : row,
    keyId,
    { table: typeof payload.__table === 'string' ? payload.__table : '', lsn, snapshot: op === 'r' || isSnapshot(snap) },
    0,
  );
}

function finish(
  op: ChangeOp,
  before: CustomerRow | null,
  after: CustomerRow | null,
  keyId: ReturnType<typeof parseKey>,
  source: SourceInfo,
  tsMs: number,
): ParsedMessage {
  let id: number | undefined;
  if (op === 'd') {
    id = idOf(before) ?? (typeof keyId === 'number' ? keyId : undefined);
    if (id === undefined) return { kind: 'invalid', reason: 'delete without ID (no before.ID and no key)' };
  } else {
    if (after === null) return { kind: 'invalid', reason: `op ${op} without after` };
    id = idOf(after);
    if (id === undefined) return { kind: 'invalid', reason: 'after without ID' };
  }
  if (typeof keyId === 'object' && keyId !== null) return { kind: 'invalid', reason: keyId.error };
  if (typeof keyId === 'number' && keyId !== id) return { kind: 'invalid', reason: `key ID ${keyId} does not match row ID ${id}` };
  return { kind: 'event', id, event: { before, after, op, ts_ms: tsMs, source } };
}
