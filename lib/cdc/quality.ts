import type { SparkSession } from '../connect';
import { LogisticRegression, VectorAssembler } from '../connect';
import { featureValues } from './features';
import { classificationMetrics, type ClassificationMetrics } from './metrics';
import type { CdcState } from './state';

export interface SparkMlResult {
  estimator: string;
  params: Record<string, number | string | boolean>;
  threshold: number;
  train: ClassificationMetrics;
  holdout: ClassificationMetrics;
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
  if (v && typeof v === 'object' && 'values' in (v as Record<string, unknown>)) return vectorValues([1, null, null, (v as { values: number[] }).values]);
  throw new TypeError(`not an ML vector: ${String(v)}`);
}

/**
 * Spark ML's LogisticRegression (over Spark Connect) on the same training rows as the ridge model, with
 * the same hold-out rows for its metrics. Its threshold is Spark's default 0.5 on P(Response = 1).
 */
export async function sparkLogisticRegression(spark: SparkSession, state: CdcState, params: { regParam: number; maxIter: number }): Promise<SparkMlResult> {
  const t0 = Date.now();
  const features = state.config.features;
  const cols = features.map((_, j) => `f${j}`);
  const schema = ['id BIGINT', 'holdout BOOLEAN', 'label DOUBLE', ...cols.map((c) => `${c} DOUBLE`)].join(', ');
  const rows = state.liveRows().map(({ id, row }) => [id, !state.isTraining(id), Number(row[state.config.target]), ...featureValues(row, state.config)]);
  const df = spark.createDataFrame(rows, schema);
  const assembled = new VectorAssembler({ inputCols: cols, outputCol: 'features' }).transform(df);
  const { functions: F } = await import('../connect');
  const train = assembled.filter(F.col('holdout').not());
  const lr = new LogisticRegression({ featuresCol: 'features', labelCol: 'label', maxIter: params.maxIter, regParam: params.regParam, standardization: true });
  const model = await lr.fit(train);
  try {
    const scored = await model.transform(assembled).select('holdout', 'label', 'probability').collect();
    const tr = collectProbabilities(scored.filter((r) => !r.holdout));
    const ho = collectProbabilities(scored.filter((r) => r.holdout));
    return {
      estimator: 'org.apache.spark.ml.classification.LogisticRegression',
      params: { maxIter: params.maxIter, regParam: params.regParam, standardization: true },
      threshold: 0.5,
      train: classificationMetrics(tr.scores, tr.labels, 0.5),
      holdout: classificationMetrics(ho.scores, ho.labels, 0.5),
      intercept: await model.intercept(),
      coefficients: await model.coefficients(),
      elapsed_ms: Date.now() - t0,
    };
  } finally {
    await model.release().catch(() => undefined);
  }
}
