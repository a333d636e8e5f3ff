import type { CustomerRow } from './features';

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

export function keyOf(id: number): string {
  return JSON.stringify({ ID: id } satisfies ChangeKey);
}

/** What the consumer makes of one Kafka message. */
export type ParsedMessage =
  | { kind: 'tombstone'; id: number | null }
  | { kind: 'event'; id: number; event: ChangeEvent }
  | { kind: 'invalid'; reason: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function idOf(row: unknown): number | undefined {
  if (!isObject(row)) return undefined;
  const id = row.ID;
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : undefined;
}

function parseKey(key: Buffer | string | null): number | null | { error: string } {
  if (key === null || key.length === 0) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(key.toString());
  } catch {
    return { error: 'malformed JSON key' };
  }
  const id = idOf(parsed);
  return id === undefined ? { error: 'key without integer ID' } : id;
}

/**
 * Parses and validates one message. Row contents (features, target) are checked later against the
 * model's feature list; here: JSON shape, op, lsn, and a consistent integer ID.
 */
export function parseMessage(key: Buffer | string | null, value: Buffer | string | null): ParsedMessage {
  const keyId = parseKey(key);
  if (value === null || value.length === 0) {
    return { kind: 'tombstone', id: typeof keyId === 'number' ? keyId : null };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString());
  } catch (e) {
    return { kind: 'invalid', reason: `malformed JSON: ${(e as Error).message}` };
  }
  if (!isObject(parsed)) return { kind: 'invalid', reason: 'malformed event: not a JSON object' };
  if (parsed.op === undefined || parsed.op === null) return { kind: 'invalid', reason: 'missing op' };
  if (typeof parsed.op !== 'string' || !(CHANGE_OPS as readonly string[]).includes(parsed.op)) {
    return { kind: 'invalid', reason: `unknown op ${JSON.stringify(parsed.op)}` };
  }
  const op = parsed.op as ChangeOp;
  const source = parsed.source;
  if (!isObject(source) || typeof source.lsn !== 'number' || !Number.isSafeInteger(source.lsn) || source.lsn < 0) {
    return { kind: 'invalid', reason: 'missing or invalid source.lsn' };
  }
  const before = parsed.before ?? null;
  const after = parsed.after ?? null;
  if (before !== null && !isObject(before)) return { kind: 'invalid', reason: 'before is not an object' };
  if (after !== null && !isObject(after)) return { kind: 'invalid', reason: 'after is not an object' };
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
  const event: ChangeEvent = {
    before: before as CustomerRow | null,
    after: after as CustomerRow | null,
    op,
    ts_ms: typeof parsed.ts_ms === 'number' ? parsed.ts_ms : 0,
    source: { table: typeof source.table === 'string' ? source.table : '', lsn: source.lsn, snapshot: source.snapshot === true },
  };
  return { kind: 'event', id, event };
}
