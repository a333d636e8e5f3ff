import type { ChangeEvent } from './envelope';
import { compileEncoder, decodeFeatures, decodeRow, type CustomerRow, type EncodeResult, type FeatureSpec } from './features';
import { evaluateScores, rocAuc, type Evaluation } from './metrics';
import { ridgeFromStats, score, type RidgeModel } from './ridge';
import { isHoldout } from './split';
import { SufficientStats, type EncodedRow } from './stats';

/**
 * What the consumer knows about one key: the lsn of its last applied event and its current row as the
 * model sees it (encoded features + label; null once deleted or retracted). `deletedAt` is where the
 * delete (or retraction) was read, [partition, offset], for pruning.
 */
export interface KeyState {
  lsn: number;
  row: EncodedRow | null;
  deletedAt?: [number, number];
}

export interface Counters {
  /** Events that changed the table (r/c/u/d with a newer lsn). */
  events_applied: number;
  /** Events with lsn ≤ the last applied lsn of their key (replays, stale events). */
  events_skipped: number;
  tombstones: number;
  /** Messages set aside to the DLQ. */
  dlq: number;
  /** DLQ'd events newer than their key's row: the old row was retracted (it is no longer the source's row). */
  dlq_retracted: number;
  /** Deleted keys forgotten under the delete-retention rule (see pruneDeleted). */
  deletes_pruned: number;
  /** Offsets that were gone from the topic (retention) when the consumer started with --allow-retention-gap. */
  offsets_lost: number;
}

export interface ModelConfig extends FeatureSpec {
  /** Percent of customer IDs held out from training (deterministic hash split). */
  holdoutPct: number;
}

/** Where an event was read: its partition and offset. */
export interface EventPosition {
  partition: number;
  offset: number;
}

export type ApplyOutcome = { status: 'applied' | 'skipped' } | { status: 'invalid'; reason: string; retracted: boolean };
const APPLIED: ApplyOutcome = Object.freeze({ status: 'applied' });
const SKIPPED: ApplyOutcome = Object.freeze({ status: 'skipped' });

/** The committed figures a checkpoint is built from, copied at commit time. */
export interface StateSnapshot {
  stats: SufficientStats;
  counters: Counters;
  tableRows: number;
  unlabeledRows: number;
}

/**
 * The CDC table and the model's statistics, in memory. Last writer wins by source.lsn per key; the
 * statistics always cover exactly the live, labeled training rows of the table: an insert adds a row's
 * terms, a delete subtracts the stored row's terms, an update does both. The stored previous row (not the
 * event's `before`) is what gets retracted, so a wrong or missing `before` cannot corrupt the sums.
 */
export class CdcState {
  readonly keys = new Map<number, KeyState>();
  readonly stats: SufficientStats;
  readonly counters: Counters = {
    events_applied: 0,
    events_skipped: 0,
    tombstones: 0,
    dlq: 0,
    dlq_retracted: 0,
    deletes_pruned: 0,
    offsets_lost: 0,
  };
  readonly scales: number[];
  /**
   * Keys changed (or pruned) since the last takeDirty(), in the order of their first change, repeats allowed
   * (an array push per event instead of a Set insertion; takeDirty removes the repeats).
   */
  private dirty: number[] = [];
  /** Deletes in read order per partition: the pruning queue. */
  private readonly deleteQueues = new Map<number, Array<{ offset: number; id: number; lsn: number }>>();
  private live = 0;
  private unlabeled = 0;
  /** encodeRow for this config, compiled once. */
  private readonly encode: (row: CustomerRow) => EncodeResult;

  constructor(
    readonly config: ModelConfig,
    stats?: SufficientStats,
  ) {
    this.stats = stats ?? new SufficientStats(config.features.length);
    this.scales = config.features.map(() => 10 ** config.decimals);
    this.encode = compileEncoder(config);
  }

  isTraining(id: number): boolean {
    return !isHoldout(id, this.config.holdoutPct);
  }

  /** Puts a key as loaded from the store (no statistics change: the loader checks them). */
  restore(id: number, k: KeyState): void {
    this.keys.set(id, k);
    if (k.row) {
      this.live++;
      if (k.row.y === null) this.unlabeled++;
    } else if (k.deletedAt) this.queueDelete(id, k.lsn, k.deletedAt);
  }

  /** Sorts the pruning queues by offset after a load. */
  restored(): void {
    for (const q of this.deleteQueues.values()) q.sort((a, b) => a.offset - b.offset);
  }

  private queueDelete(id: number, lsn: number, [partition, offset]: [number, number]): void {
    let q = this.deleteQueues.get(partition);
    if (!q) this.deleteQueues.set(partition, (q = []));
    q.push({ offset, id, lsn });
  }

  private setRow(id: number, lsn: number, row: EncodedRow | null, at?: EventPosition): void {
    this.setRowAfter(this.keys.get(id), id, lsn, row, at ? at.partition : -1, at ? at.offset : 0);
  }

  /** setRow with the key's current state `prev` already looked up; `partition` -1: no position to record. */
  private setRowAfter(
    prev: KeyState | undefined,
    id: number,
    lsn: number,
    row: EncodedRow | null,
    partition: number,
    offset: number,
    borrowed = false,
  ): void {
    const training = this.isTraining(id);
    const prevIn = Boolean(prev?.row && prev.row.y !== null && training);
    const nextIn = Boolean(row && row.y !== null && training);
    if (prevIn && nextIn) this.stats.replace(prev!.row!, row!);
    else {
      if (prevIn) this.stats.remove(prev!.row!);
      if (nextIn) this.stats.add(row!);
    }
    if (prev?.row) {
      this.live--;
      if (prev.row.y === null) this.unlabeled--;
    }
    if (row) {
      this.live++;
      if (row.y === null) this.unlabeled++;
      if (prev !== undefined && prev.deletedAt === undefined) {
        // A live (or never deleted) key's new row: its entry is updated in place (one allocation and one Map write
        // fewer), and a borrowed row is copied into the key's own row (no allocation at all for an update).
        prev.lsn = lsn;
        const own = prev.row;
        if (borrowed && own !== null && own.x.length === row.x.length) {
          const x = own.x;
          const nx = row.x;
          for (let j = 0; j < x.length; j++) x[j] = nx[j];
          own.y = row.y;
        } else prev.row = borrowed ? { x: row.x.slice(), y: row.y } : row;
        this.markDirty(id);
        return;
      }
      if (borrowed) row = { x: row.x.slice(), y: row.y };
    }
    const k: KeyState = { lsn, row };
    if (!row && partition >= 0) {
      k.deletedAt = [partition, offset];
      this.queueDelete(id, lsn, k.deletedAt);
    }
    this.keys.set(id, k);
    this.markDirty(id);
  }

  /**
   * Applies one parsed event. An event whose row cannot be encoded is reported (the caller sends it to
   * the DLQ); when it is newer than the key's row, that row is retracted too (the source no longer holds
   * it, so keeping it would train on a row that does not exist) and `retracted` says so. A row without a
   * label is kept in the table but not in the statistics. `at` (partition, offset) is recorded for deletes.
   */
  apply(id: number, event: ChangeEvent, at?: EventPosition): ApplyOutcome {
    let newRow: EncodedRow | null = null;
    let invalid: string | undefined;
    if (event.op !== 'd') {
      const enc = this.encode(event.after as CustomerRow);
      if (enc.ok) newRow = enc.row;
      else invalid = enc.reason;
    }
    const lsn = event.source.lsn;
    const prev = this.keys.get(id);
    const stale = prev !== undefined && lsn <= prev.lsn;
    if (invalid !== undefined) {
      if (stale) return { status: 'invalid', reason: invalid, retracted: false };
      const retracted = Boolean(prev?.row);
      this.setRow(id, lsn, null, at);
      if (retracted) this.counters.dlq_retracted++;
      return { status: 'invalid', reason: invalid, retracted };
    }
    if (stale) {
      this.counters.events_skipped++;
      return SKIPPED;
    }
    this.setRowAfter(prev, id, lsn, newRow, at ? at.partition : -1, at ? at.offset : 0);
    this.counters.events_applied++;
    return APPLIED;
  }

  /**
   * What `apply` does with a valid event, for one the fast path has already encoded
   * (parseEncodedForModel): `row` is the event's encoded row, null for a delete, which is recorded at
   * (partition, offset) for pruning. The row is borrowed: it is copied, never kept (the fast path reuses
   * it). Returns true when applied, false when stale (skipped).
   */
  applyEncoded(id: number, lsn: number, row: EncodedRow | null, partition: number, offset: number): boolean {
    const prev = this.keys.get(id);
    if (prev !== undefined && lsn <= prev.lsn) {
      this.counters.events_skipped++;
      return false;
    }
    this.setRowAfter(prev, id, lsn, row, partition, offset, true);
    this.counters.events_applied++;
    return true;
  }

  /**
   * The delete-retention rule: a deleted (or retracted) key's entry exists only to stop an older event
   * for that key from bringing the row back. Such an event can only be a re-delivery from behind the
   * delete in the same partition (a key always maps to one partition). So the entry is forgotten once
   * `retention` more offsets of its partition have been consumed (next offset − delete offset >
   * retention): from then on an older event for that key is assumed impossible. The generator replays
   * from the last 10,000 messages and Kafka Connect re-delivers from its last flushed source offset, both
   * far inside the default. A key re-inserted since its delete is not pruned (its entry is newer).
   */
  pruneDeleted(next: Map<number, number>, retention: number): number {
    let pruned = 0;
    for (const [partition, q] of this.deleteQueues) {
      const limit = (next.get(partition) ?? 0) - retention;
      let i = 0;
      while (i < q.length && q[i].offset < limit) {
        const { id, lsn } = q[i++];
        const k = this.keys.get(id);
        if (k && k.row === null && k.lsn === lsn) {
          this.keys.delete(id);
          this.markDirty(id);
          pruned++;
        }
      }
      if (i) q.splice(0, i);
    }
    this.counters.deletes_pruned += pruned;
    return pruned;
  }

  private markDirty(id: number): void {
    const d = this.dirty;
    d.push(id);
    // Without commits for a long time, repeats are dropped now and then (the list stays within a few times the table).
    if (d.length > 4 * this.keys.size + 65_536) this.dirty = [...new Set(d)];
  }

  /** The keys changed since the last call, with their state (null: pruned, remove from the store). */
  takeDirty(): Map<number, KeyState | null> {
    const out = new Map<number, KeyState | null>();
    for (const id of this.dirty) if (!out.has(id)) out.set(id, this.keys.get(id) ?? null);
    this.dirty = [];
    return out;
  }

  /** A copy of the figures a checkpoint needs (cheap: the statistics, counters and row counts). */
  snapshot(): StateSnapshot {
    return { stats: this.stats.clone(), counters: { ...this.counters }, tableRows: this.live, unlabeledRows: this.unlabeled };
  }

  get tableRows(): number {
    return this.live;
  }

  get unlabeledRows(): number {
    return this.unlabeled;
  }

  /** Rebuilds the statistics from the table: a check on loaded state, and the basis of batch refits. */
  recomputeStats(): SufficientStats {
    const s = new SufficientStats(this.config.features.length);
    for (const [id, k] of this.keys) if (k.row && k.row.y !== null && this.isTraining(id)) s.add(k.row);
    return s;
  }

  /** The live rows in ID order, encoded. */
  liveEncoded(): Array<{ id: number; row: EncodedRow }> {
    const out: Array<{ id: number; row: EncodedRow }> = [];
    for (const [id, k] of this.keys) if (k.row) out.push({ id, row: k.row });
    return out.sort((a, b) => a.id - b.id);
  }

  /** The live rows in ID order as the model sees them: ID, the features by name, the target. */
  liveRows(): Array<{ id: number; row: CustomerRow }> {
    return this.liveEncoded().map(({ id, row }) => ({ id, row: decodeRow(id, row, this.config) }));
  }

  model(lambda: number): RidgeModel {
    return ridgeFromStats(this.stats, lambda, this.scales);
  }

  /** Threshold from the labeled training rows, metrics on the labeled held-out rows. */
  evaluate(model: RidgeModel): Evaluation {
    const tr = { s: [] as number[], y: [] as number[] };
    const ho = { s: [] as number[], y: [] as number[] };
    // In ID order, so float sums (the Brier score) do not depend on how the table was built.
    for (const { id, row } of this.liveEncoded()) {
      if (row.y === null) continue;
      const part = isHoldout(id, this.config.holdoutPct) ? ho : tr;
      part.s.push(score(model, this.featuresOf(row)));
      part.y.push(row.y);
    }
    return evaluateScores(tr, ho);
  }

  /** A row's feature values for scoring: decodeFeatures' values (the row's own integers when there are no decimals: not copied, score only reads them). */
  private featuresOf(row: EncodedRow): number[] {
    return this.config.decimals === 0 ? row.x : decodeFeatures(row, this.config);
  }

  /** ROC AUC on the labeled held-out rows only (the progress line: cheap, no threshold). */
  holdoutAuc(model: RidgeModel): number | null {
    const s: number[] = [];
    const y: number[] = [];
    for (const [id, k] of this.keys) {
      if (!k.row || k.row.y === null || !isHoldout(id, this.config.holdoutPct)) continue;
      s.push(score(model, this.featuresOf(k.row)));
      y.push(k.row.y);
    }
    return rocAuc(s, y);
  }
}
