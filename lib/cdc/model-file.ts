import type { ClassificationMetrics, Evaluation } from './metrics';
import { ridgeFromStats } from './ridge';
import type { CdcState, StateSnapshot } from './state';

/** The contents of <state-dir>/model.json. */
export interface ModelFile {
  features: string[];
  target: string;
  lambda: number;
  n: number;
  intercept: number;
  /** Standardized coefficients, in feature order. */
  coefficients: number[];
  means: number[];
  sds: number[];
  threshold: number;
  events_applied: number;
  events_skipped: number;
  tombstones: number;
  dlq: number;
  /** DLQ'd events that retracted their key's older row. */
  dlq_retracted: number;
  /** Deleted keys forgotten under the delete-retention rule. */
  deletes_pruned: number;
  /** Offsets gone from the topic (retention) that a start with --allow-retention-gap skipped: events never seen. */
  offsets_lost: number;
  /** Next offset to consume per partition, as committed with this state. */
  offsets: Record<string, number>;
  topic: string;
  feature_decimals: number;
  holdout_pct: number;
  /** Live rows of the table, labeled or not. */
  table_rows: number;
  /** Live rows without a label: in the table, not in the model. */
  unlabeled_rows: number;
  /** Threshold and metrics are recomputed lazily (see metrics_at); the coefficients are always current. */
  metrics: { train: ClassificationMetrics; holdout: ClassificationMetrics };
  /** The events_applied and n of the state the threshold and metrics were computed on. */
  metrics_at: { events_applied: number; n: number };
  updated_at: string;
}

/** A threshold and metrics with the state they were measured on. */
export interface StampedEvaluation extends Evaluation {
  at: { events_applied: number; n: number };
}

/** Measures the current state (scores every live labeled row): the expensive part, done lazily. */
export function evaluateState(state: CdcState, lambda: number): StampedEvaluation {
  return { ...state.evaluate(state.model(lambda)), at: { events_applied: state.counters.events_applied, n: state.stats.n } };
}

/**
 * model.json from a snapshot taken at commit time (never from the live state, which may hold a batch
 * not committed yet): the solve from the snapshot's statistics plus the last evaluation.
 */
export function buildModelFile(
  snap: StateSnapshot,
  config: CdcState['config'],
  scales: number[],
  lambda: number,
  offsets: Map<number, number>,
  topic: string,
  evaluation: StampedEvaluation,
): ModelFile {
  const model = ridgeFromStats(snap.stats, lambda, scales);
  const c = snap.counters;
  return {
    features: config.features,
    target: config.target,
    lambda,
    n: model.n,
    intercept: model.intercept,
    coefficients: model.coefficients,
    means: model.means,
    sds: model.sds,
    threshold: evaluation.threshold,
    events_applied: c.events_applied,
    events_skipped: c.events_skipped,
    tombstones: c.tombstones,
    dlq: c.dlq,
    dlq_retracted: c.dlq_retracted,
    deletes_pruned: c.deletes_pruned,
    offsets_lost: c.offsets_lost,
    offsets: Object.fromEntries([...offsets].sort((a, b) => a[0] - b[0]).map(([p, o]) => [String(p), o])),
    topic,
    feature_decimals: config.decimals,
    holdout_pct: config.holdoutPct,
    table_rows: snap.tableRows,
    unlabeled_rows: snap.unlabeledRows,
    metrics: { train: evaluation.train, holdout: evaluation.holdout },
    metrics_at: evaluation.at,
    updated_at: new Date().toISOString(),
  };
}
