import type { ChangeEvent } from './envelope';
import { encodeRow, featureValues, type CustomerRow, type FeatureSpec } from './features';
import { chooseThreshold, classificationMetrics, type ClassificationMetrics } from './metrics';
import { ridgeFromStats, score, type RidgeModel } from './ridge';
import { isHoldout } from './split';
import { SufficientStats, type EncodedRow } from './stats';

/** What the consumer knows about one key: the lsn of its last applied event and its current row (null once deleted). */
export interface KeyState {
  lsn: number;
  row: CustomerRow | null;
}

export interface Counters {
  /** Events that changed the table (r/c/u/d with a newer lsn). */
  events_applied: number;
  /** Events with lsn ≤ the last applied lsn of their key (replays, stale events). */
  events_skipped: number;
  tombstones: number;
  /** Messages set aside to the DLQ. */
  dlq: number;
}

export interface ModelConfig extends FeatureSpec {
  /** Percent of customer IDs held out from training (deterministic hash split). */
  holdoutPct: number;
}

export type ApplyOutcome = { status: 'applied' | 'skipped' } | { status: 'invalid'; reason: string };

/**
 * The CDC table and the model's statistics, in memory. Last writer wins by source.lsn per key; the
 * statistics always cover exactly the live training rows of the table: an insert adds a row's terms, a
 * delete subtracts the stored row's terms, an update does both. The stored previous row (not the
 * event's `before`) is what gets retracted, so a wrong or missing `before` cannot corrupt the sums.
 */
export class CdcState {
  readonly keys = new Map<number, KeyState>();
  readonly stats: SufficientStats;
  readonly counters: Counters = { events_applied: 0, events_skipped: 0, tombstones: 0, dlq: 0 };
  readonly scales: number[];

  constructor(readonly config: ModelConfig, stats?: SufficientStats) {
    this.stats = stats ?? new SufficientStats(config.features.length);
    this.scales = config.features.map(() => 10 ** config.decimals);
  }

  isTraining(id: number): boolean {
    return !isHoldout(id, this.config.holdoutPct);
  }

  private encode(row: CustomerRow): EncodedRow {
    const r = encodeRow(row, this.config);
    if (!r.ok) throw new Error(`stored row ${String(row.ID)} cannot be encoded: ${r.reason}`);
    return r.row;
  }

  /**
   * Applies one parsed event. Invalid rows are reported (the caller sends them to the DLQ) and change
   * nothing. The caller counts DLQ messages; this counts applied and skipped events.
   */
  apply(id: number, event: ChangeEvent): ApplyOutcome {
    let newRow: CustomerRow | null = null;
    let newEncoded: EncodedRow | null = null;
    if (event.op !== 'd') {
      newRow = event.after as CustomerRow;
      const enc = encodeRow(newRow, this.config);
      if (!enc.ok) return { status: 'invalid', reason: enc.reason };
      newEncoded = enc.row;
    }
    const lsn = event.source.lsn;
    const prev = this.keys.get(id);
    if (prev && lsn <= prev.lsn) {
      this.counters.events_skipped++;
      return { status: 'skipped' };
    }
    if (this.isTraining(id)) {
      if (prev?.row) this.stats.remove(this.encode(prev.row));
      if (newEncoded) this.stats.add(newEncoded);
    }
    this.keys.set(id, { lsn, row: newRow });
    this.counters.events_applied++;
    return { status: 'applied' };
  }

  /** Rebuilds the statistics from the table: a check on loaded state, and the basis of batch refits. */
  recomputeStats(): SufficientStats {
    const s = new SufficientStats(this.config.features.length);
    for (const [id, k] of this.keys) if (k.row && this.isTraining(id)) s.add(this.encode(k.row));
    return s;
  }

  liveRows(): Array<{ id: number; row: CustomerRow }> {
    const out: Array<{ id: number; row: CustomerRow }> = [];
    for (const [id, k] of this.keys) if (k.row) out.push({ id, row: k.row });
    return out.sort((a, b) => a.id - b.id);
  }

  model(lambda: number): RidgeModel {
    return ridgeFromStats(this.stats, lambda, this.scales);
  }

  /** Threshold from the training rows, metrics on the held-out rows. */
  evaluate(model: RidgeModel): { threshold: number; train: ClassificationMetrics; holdout: ClassificationMetrics } {
    return evaluateRows(model, this.liveRows(), this.config);
  }
}

/** Scores the rows, chooses the threshold on the training part and measures both parts. */
export function evaluateRows(model: RidgeModel, rows: Array<{ id: number; row: CustomerRow }>, config: ModelConfig) {
  const tr = { s: [] as number[], y: [] as number[] };
  const ho = { s: [] as number[], y: [] as number[] };
  for (const { id, row } of rows) {
    const part = isHoldout(id, config.holdoutPct) ? ho : tr;
    part.s.push(score(model, featureValues(row, config)));
    part.y.push(row[config.target] as number);
  }
  const threshold = chooseThreshold(tr.s, tr.y);
  return { threshold, train: classificationMetrics(tr.s, tr.y, threshold), holdout: classificationMetrics(ho.s, ho.y, threshold) };
}
