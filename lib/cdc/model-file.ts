import type { ClassificationMetrics } from './metrics';
import type { CdcState } from './state';

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
  /** Next offset to consume per partition, as committed with this state. */
  offsets: Record<string, number>;
  topic: string;
  feature_decimals: number;
  holdout_pct: number;
  table_rows: number;
  metrics: { train: ClassificationMetrics; holdout: ClassificationMetrics };
  updated_at: string;
}

export function buildModelFile(state: CdcState, lambda: number, offsets: Map<number, number>, topic: string): ModelFile {
  const model = state.model(lambda);
  const evaluation = state.evaluate(model);
  const rows = state.liveRows().length;
  return {
    features: state.config.features,
    target: state.config.target,
    lambda,
    n: model.n,
    intercept: model.intercept,
    coefficients: model.coefficients,
    means: model.means,
    sds: model.sds,
    threshold: evaluation.threshold,
    events_applied: state.counters.events_applied,
    events_skipped: state.counters.events_skipped,
    tombstones: state.counters.tombstones,
    dlq: state.counters.dlq,
    offsets: Object.fromEntries([...offsets].sort((a, b) => a[0] - b[0]).map(([p, o]) => [String(p), o])),
    topic,
    feature_decimals: state.config.decimals,
    holdout_pct: state.config.holdoutPct,
    table_rows: rows,
    metrics: { train: evaluation.train, holdout: evaluation.holdout },
    updated_at: new Date().toISOString(),
  };
}
