import type { SparkSession } from '../connect';
import { LogisticRegression, VectorAssembler } from '../connect';
import { decodeFeatures } from './features';
import { classificationMetrics, evaluateScores, majorityBaseline, type ClassificationMetrics, type Evaluation } from './metrics';
import { score } from './ridge';
import { isHoldout } from './split';
import type { CdcState } from './state';

export interface SparkMlResult {
  estimator: string;
  params: Record<string, number | string | boolean>;
  /** The F1-optimal cut on P(1) over the training rows (the same rule as ours); train/holdout are at it. */
  threshold: number;
  train: ClassificationMetrics;
  holdout: ClassificationMetrics;
  /** Spark's default decision rule, P(1) ≥ 0.5. */
  at_0_5: { train: ClassificationMetrics; holdout: ClassificationMetrics };
  intercept: number;
  coefficients: number[];
  elapsed_ms: number;
}

function collectProbabilities(rows: Array<Record<string, unknown>>): { scores: number[]; labels: number[] } {
  const scores: number[] = [];
  const labels: number[] = [];
  for (const r of rows) {
    const p = r.probability;
    // probability is an ML vector [P(0), P(1)] (dense or as its struct form)
    const arr = Array.isArray(p) && p.length === 2 && p.every((x) => typeof x === 'number') ? (p as number[]) : vectorValues(p);
    scores.push(arr[1]);
    labels.push(Number(r.label));
  }
  return { scores, labels };
}

function vectorValues(v: unknown): number[] {
  if (Array.isArray(v) && v.length === 4) {
    const [type, size, indices, values] = v as [number, number | null, number[] | null, number[]];
    if (Number(type) === 1) return values.map(Number);
    const out = new Array<number>(Number(size ?? 0)).fill(0);
    (indices ?? []).forEach((i, k) => (out[Number(i)] = Number(values[k])));
    return out;
  }
  if (v && typeof v === 'object' && 'values' in (v as Record<string, unknown>))
    return vectorValues([1, null, null, (v as { values: number[] }).values]);
  throw new TypeError(`not an ML vector: ${String(v)}`);
}

/**
 * Spark ML's LogisticRegression (over Spark Connect) on the same labeled training rows as the ridge model,
 * with the same hold-out rows for its metrics, at 0.5 and at a threshold chosen on its training rows.
 */
export async function sparkLogisticRegression(
  spark: SparkSession,
  state: CdcState,
  params: { regParam: number; maxIter: number },
): Promise<SparkMlResult> {
  const t0 = Date.now();
  const features = state.config.features;
  const cols = features.map((_, j) => `f${j}`);
  const schema = ['id BIGINT', 'holdout BOOLEAN', 'label DOUBLE', ...cols.map((c) => `${c} DOUBLE`)].join(', ');
  const rows = state
    .liveEncoded()
    .filter(({ row }) => row.y !== null)
    .map(({ id, row }) => [id, !state.isTraining(id), Number(row.y), ...decodeFeatures(row, state.config)]);
  const df = spark.createDataFrame(rows, schema);
  const assembled = new VectorAssembler({ inputCols: cols, outputCol: 'features' }).transform(df);
  const { functions: F } = await import('../connect');
  const train = assembled.filter(F.col('holdout').not());
  const lr = new LogisticRegression({
    featuresCol: 'features',
    labelCol: 'label',
    maxIter: params.maxIter,
    regParam: params.regParam,
    standardization: true,
  });
  const model = await lr.fit(train);
  try {
    const scored = await model.transform(assembled).select('holdout', 'label', 'probability').collect();
    const tr = collectProbabilities(scored.filter((r) => !r.holdout));
    const ho = collectProbabilities(scored.filter((r) => r.holdout));
    return {
      estimator: 'org.apache.spark.ml.classification.LogisticRegression',
      params: { maxIter: params.maxIter, regParam: params.regParam, standardization: true },
      ...evaluateScores({ s: tr.scores, y: tr.labels }, { s: ho.scores, y: ho.labels }),
      at_0_5: { train: classificationMetrics(tr.scores, tr.labels, 0.5), holdout: classificationMetrics(ho.scores, ho.labels, 0.5) },
      intercept: await model.intercept(),
      coefficients: await model.coefficients(),
      elapsed_ms: Date.now() - t0,
    };
  } finally {
    await model.release().catch(() => undefined);
  }
}

/** Our model's quality on a table: at the training-chosen threshold, at 0.5, and the majority baseline. */
export function qualityOfState(
  state: CdcState,
  lambda: number,
): {
  evaluation: Evaluation;
  at_0_5: { train: ClassificationMetrics; holdout: ClassificationMetrics };
  baseline: ClassificationMetrics;
  unlabeled: number;
} {
  const model = state.model(lambda);
  const tr = { s: [] as number[], y: [] as number[] };
  const ho = { s: [] as number[], y: [] as number[] };
  for (const { id, row } of state.liveEncoded()) {
    if (row.y === null) continue;
    const part = isHoldout(id, state.config.holdoutPct) ? ho : tr;
    part.s.push(score(model, decodeFeatures(row, state.config)));
    part.y.push(row.y);
  }
  return {
    evaluation: evaluateScores(tr, ho),
    at_0_5: { train: classificationMetrics(tr.s, tr.y, 0.5), holdout: classificationMetrics(ho.s, ho.y, 0.5) },
    baseline: majorityBaseline(tr.y, ho.y),
    unlabeled: state.unlabeledRows,
  };
}

/** The hold-out table printed by cdc-verify: one line per model and decision rule. */
export function qualityTable(rows: ReadonlyArray<readonly [string, number | null, ClassificationMetrics]>): string {
  const f = (x: number | null) => (x === null ? '-' : x.toFixed(4));
  const head = `${'model, decision rule'.padEnd(32)} ${'cut'.padStart(7)} ${'accuracy'.padStart(8)} ${'precision'.padStart(9)} ${'recall'.padStart(7)} ${'ROC AUC'.padStart(7)} ${'PR AUC'.padStart(7)} ${'Brier'.padStart(7)}`;
  const lines = rows.map(
    ([name, cut, m]) =>
      `${name.padEnd(32)} ${f(cut).padStart(7)} ${f(m.accuracy).padStart(8)} ${f(m.precision).padStart(9)} ${f(m.recall).padStart(7)} ${f(m.roc_auc).padStart(7)} ${f(m.pr_auc).padStart(7)} ${f(m.brier).padStart(7)}`,
  );
  return [head, ...lines].join('\n');
}
