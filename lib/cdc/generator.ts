import { CDC_TABLE, keyOf, type ChangeEvent, type ChangeOp } from './envelope';
import type { CustomerRow } from './features';

/** One Kafka message the producer sends. `kind` is for counting; consumers see only key and value. */
export interface CdcMessage {
  key: string | null;
  value: string | null;
  kind: 'snapshot' | 'insert' | 'update' | 'delete' | 'tombstone' | 'replay' | 'malformed';
}

export interface GeneratorOptions {
  seed: number;
  /** Change events after the snapshot (inserts + updates + deletes). */
  updates: number;
  /** Shares of inserts and deletes among the changes; the rest are updates. */
  insertRatio?: number;
  deleteRatio?: number;
  /** Probability, after each event, of re-sending an already sent event (same lsn). */
  replayRate?: number;
  /** Probability, after each event, of sending a broken event. */
  malformedRate?: number;
  /** First lsn of the stream. */
  startLsn?: number;
  /** A fixed clock origin so ts_ms is deterministic too. */
  startTsMs?: number;
}

/** The kinds of broken events, each with the reason the consumer gives in the DLQ (prefix). */
export const MALFORMED_KINDS = ['malformed JSON', 'missing op', 'unknown op', 'after without ID', 'non-numeric feature'] as const;

/** mulberry32: a small seeded PRNG; the whole stream is a function of the seed and the input rows. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Turns a value collected from Spark into plain JSON: bigint → number (string when beyond 2^53), Date →
 * YYYY-MM-DD (dates) or ISO timestamp; the scaled `_norm`/`_std` columns are dropped.
 */
export function normalizeRow(raw: Record<string, unknown>): CustomerRow {
  const out: CustomerRow = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k.endsWith('_norm') || k.endsWith('_std')) continue;
    if (v === null || v === undefined) out[k] = null;
    else if (typeof v === 'bigint') out[k] = Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    else if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[k] = v;
    else if (v instanceof Date) {
      const iso = v.toISOString();
      out[k] = iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
    } else out[k] = String(v);
  }
  return out;
}

const MNT = ['MntWines', 'MntFruits', 'MntMeatProducts', 'MntFishProducts', 'MntSweetProducts', 'MntGoldProds'];
const CHANNELS = ['NumWebPurchases', 'NumCatalogPurchases', 'NumStorePurchases'];
const CAMPAIGNS = ['AcceptedCmp1', 'AcceptedCmp2', 'AcceptedCmp3', 'AcceptedCmp4', 'AcceptedCmp5'];

function num(row: CustomerRow, col: string): number | undefined {
  const v = row[col];
  return typeof v === 'number' ? v : undefined;
}

/** Adds delta to a column and to the engineered total that sums it, when the row has them. */
function bump(row: CustomerRow, col: string, delta: number, total?: string): void {
  const v = num(row, col);
  if (v === undefined) return;
  row[col] = v + delta;
  if (total && num(row, total) !== undefined) row[total] = (row[total] as number) + delta;
}

/**
 * How likely a customer is to respond to the latest campaign: higher for past acceptors, big wine
 * spenders and recent buyers (the patterns of the real data), so updated responses stay learnable.
 */
function propensity(row: CustomerRow): number {
  const accepted = CAMPAIGNS.reduce((s, c) => s + (num(row, c) ?? 0), 0);
  const wines = num(row, 'MntWines') ?? 0;
  const recency = num(row, 'Recency') ?? 50;
  return Math.min(0.95, 0.04 + 0.2 * accepted + wines / 4000 + (recency < 20 ? 0.1 : 0));
}

/** Keeps the engineered ratio columns consistent with the changed sums. */
function refreshRatios(row: CustomerRow): void {
  const spend = num(row, 'Total_Spend');
  const purchases = num(row, 'Total_Purchases');
  if ('Spend_per_Purchase' in row && spend !== undefined && purchases !== undefined)
    row.Spend_per_Purchase = purchases > 0 ? spend / purchases : 0;
  const income = num(row, 'Income');
  const family = num(row, 'Family_Size');
  if ('Income_per_Capita' in row && income !== undefined && family !== undefined && family > 0) row.Income_per_Capita = income / family;
}

/**
 * The deterministic change stream: a snapshot (`r` per row, in ID order), then a seeded mix of inserts
 * (new customers modelled on existing ones), realistic updates (income changes, purchases raising
 * Mnt / Num columns, campaign responses, visits) and deletes (each followed by a tombstone). lsn rises
 * strictly by 1 per real event; replays repeat an earlier message byte for byte; malformed messages carry
 * no lsn of their own except the non-numeric one, which takes a fresh lsn.
 */
export function* generateChanges(rows: CustomerRow[], opts: GeneratorOptions): Generator<CdcMessage> {
  const rand = prng(opts.seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const insertRatio = opts.insertRatio ?? 0.1;
  const deleteRatio = opts.deleteRatio ?? 0.05;
  const replayRate = opts.replayRate ?? 0;
  const malformedRate = opts.malformedRate ?? 0;
  let lsn = opts.startLsn ?? 1;
  const t0 = opts.startTsMs ?? Date.UTC(2024, 0, 1);

  const sorted = [...rows].sort((a, b) => (a.ID as number) - (b.ID as number));
  const current = new Map<number, CustomerRow>();
  const liveIds: number[] = [];
  const livePos = new Map<number, number>();
  const addLive = (id: number) => {
    livePos.set(id, liveIds.length);
    liveIds.push(id);
  };
  const removeLive = (id: number) => {
    const i = livePos.get(id)!;
    const last = liveIds.pop()!;
    if (last !== id) {
      liveIds[i] = last;
      livePos.set(last, i);
    }
    livePos.delete(id);
  };
  let nextId = 1;
  // A window of recently sent events for replays (bounded memory for long runs).
  const recent: CdcMessage[] = [];
  const RECENT_MAX = 10_000;
  let malformedIndex = 0;

  const event = (op: ChangeOp, before: CustomerRow | null, after: CustomerRow | null, snapshot: boolean): string => {
    const e: ChangeEvent = { before, after, op, ts_ms: t0 + lsn, source: { table: CDC_TABLE, lsn, snapshot } };
    lsn++;
    return JSON.stringify(e);
  };

  function* extras(): Generator<CdcMessage> {
    if (replayRate > 0 && recent.length && rand() < replayRate) {
      const m = recent[int(0, recent.length - 1)];
      yield { key: m.key, value: m.value, kind: 'replay' };
    }
    if (malformedRate > 0 && liveIds.length && rand() < malformedRate) {
      const id = liveIds[int(0, liveIds.length - 1)];
      const kind = MALFORMED_KINDS[malformedIndex++ % MALFORMED_KINDS.length];
      const row = current.get(id)!;
      let value: string;
      switch (kind) {
        case 'malformed JSON':
          value = `{"op":"u","after":{"ID":${id},`;
          break;
        case 'missing op':
          value = JSON.stringify({ before: row, after: row, ts_ms: t0, source: { table: CDC_TABLE, lsn: 0, snapshot: false } });
          break;
        case 'unknown op':
          value = JSON.stringify({ before: row, after: row, op: 'x', ts_ms: t0, source: { table: CDC_TABLE, lsn: 0, snapshot: false } });
          break;
        case 'after without ID': {
          const { ID: _omit, ...rest } = row;
          value = JSON.stringify({ before: null, after: rest, op: 'u', ts_ms: t0, source: { table: CDC_TABLE, lsn: 0, snapshot: false } });
          break;
        }
        default: {
          const broken = { ...row, Income: 'n/a' };
          value = event('u', row, broken, false);
        }
      }
      yield { key: keyOf(id), value, kind: 'malformed' };
    }
  }

  function* send(m: CdcMessage, tombstone = false): Generator<CdcMessage> {
    yield m;
    // Debezium's tombstone comes right after its delete.
    if (tombstone) yield { key: m.key, value: null, kind: 'tombstone' };
    recent.push(m);
    if (recent.length > RECENT_MAX) recent.splice(0, recent.length - RECENT_MAX);
    yield* extras();
  }

  for (const r of sorted) {
    const id = r.ID as number;
    const row = { ...r };
    current.set(id, row);
    addLive(id);
    nextId = Math.max(nextId, id + 1);
    yield* send({ key: keyOf(id), value: event('r', null, row, true), kind: 'snapshot' });
  }

  for (let i = 0; i < opts.updates; i++) {
    const u = rand();
    if (liveIds.length === 0 || u < insertRatio) {
      const template = liveIds.length ? current.get(liveIds[int(0, liveIds.length - 1)])! : sorted[0];
      if (!template) throw new Error('cannot generate inserts without any customer row to model them on');
      const id = nextId++;
      const row: CustomerRow = { ...template, ID: id };
      const income = num(row, 'Income');
      if (income !== undefined) row.Income = Math.max(0, Math.round(income * (0.8 + 0.4 * rand())));
      for (const c of MNT) {
        const v = num(row, c);
        if (v !== undefined) bump(row, c, Math.round(v * (0.5 + rand())) - v, 'Total_Spend');
      }
      if (num(row, 'Recency') !== undefined) row.Recency = int(0, 99);
      // A new customer tends to respond like the one it was modelled on.
      if (num(row, 'Response') !== undefined && rand() < 0.2) row.Response = rand() < propensity(row) ? 1 : 0;
      refreshRatios(row);
      current.set(id, row);
      addLive(id);
      yield* send({ key: keyOf(id), value: event('c', null, row, false), kind: 'insert' });
    } else if (u < insertRatio + deleteRatio && liveIds.length > 1) {
      const id = liveIds[int(0, liveIds.length - 1)];
      const before = current.get(id)!;
      current.delete(id);
      removeLive(id);
      yield* send({ key: keyOf(id), value: event('d', before, null, false), kind: 'delete' }, true);
    } else {
      const id = liveIds[int(0, liveIds.length - 1)];
      const before = current.get(id)!;
      const row: CustomerRow = { ...before };
      const what = rand();
      if (what < 0.25) {
        const income = num(row, 'Income');
        if (income !== undefined) row.Income = Math.max(0, Math.round(income * (0.9 + 0.25 * rand())));
      } else if (what < 0.75) {
        bump(row, MNT[int(0, MNT.length - 1)], int(1, 120), 'Total_Spend');
        bump(row, CHANNELS[int(0, CHANNELS.length - 1)], 1, 'Total_Purchases');
        if (rand() < 0.2) bump(row, 'NumDealsPurchases', 1);
        if (num(row, 'Recency') !== undefined) row.Recency = int(0, 10);
      } else if (what < 0.9) {
        if (rand() < 0.5) {
          const c = CAMPAIGNS[int(0, CAMPAIGNS.length - 1)];
          if (num(row, c) === 0) bump(row, c, 1, 'Total_Accepted_Campaigns');
        } else if (num(row, 'Response') !== undefined) row.Response = rand() < propensity(row) ? 1 : 0;
      } else {
        if (num(row, 'NumWebVisitsMonth') !== undefined) row.NumWebVisitsMonth = int(0, 12);
        const rec = num(row, 'Recency');
        if (rec !== undefined) row.Recency = Math.min(99, rec + int(1, 30));
      }
      refreshRatios(row);
      current.set(id, row);
      yield* send({ key: keyOf(id), value: event('u', before, row, false), kind: 'update' });
    }
  }
}
