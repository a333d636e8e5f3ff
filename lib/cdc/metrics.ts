/** Binary-classification metrics over scores and 0/1 labels. */
export interface ClassificationMetrics {
  rows: number;
  positives: number;
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  roc_auc: number | null;
  /** Area under the precision-recall curve as average precision (step-wise, ties as one step). */
  pr_auc: number | null;
  /** Mean squared error of the score clipped to [0, 1] as a probability of 1. */
  brier: number | null;
}

/** Threshold chosen on the training rows; metrics of both parts at it. */
export interface Evaluation {
  threshold: number;
  train: ClassificationMetrics;
  holdout: ClassificationMetrics;
}

/** ROC AUC by the rank-sum (Mann-Whitney) statistic, ties counted half. Null when a class is missing. */
export function rocAuc(scores: number[], labels: number[]): number | null {
  const n = scores.length;
  const order = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let pos = 0;
  let rankSumPos = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++)
      if (labels[order[k]] === 1) {
        pos++;
        rankSumPos += avgRank;
      }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return null;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Average precision: Σ over distinct score cuts (high to low) of precision × recall gained. Null without positives. */
export function prAuc(scores: number[], labels: number[]): number | null {
  const n = scores.length;
  const totalPos = labels.reduce((a, b) => a + b, 0);
  if (totalPos === 0) return null;
  const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let tp = 0;
  let seen = 0;
  let ap = 0;
  for (let i = 0; i < n;) {
    let j = i;
    let stepPos = 0;
    while (j < n && scores[order[j]] === scores[order[i]]) {
      if (labels[order[j]] === 1) stepPos++;
      j++;
    }
    tp += stepPos;
    seen = j;
    ap += (stepPos / totalPos) * (tp / seen);
    i = j;
  }
  return ap;
}

/** Brier score of scores read as P(1), clipped to [0, 1]. */
export function brierScore(scores: number[], labels: number[]): number | null {
  if (!scores.length) return null;
  let s = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = Math.min(1, Math.max(0, scores[i]));
    s += (p - labels[i]) ** 2;
  }
  return s / scores.length;
}

export function classificationMetrics(scores: number[], labels: number[], threshold: number): ClassificationMetrics {
  let tp = 0,
    fp = 0,
    tn = 0,
    fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const predicted = scores[i] >= threshold;
    if (labels[i] === 1) predicted ? tp++ : fn++;
    else predicted ? fp++ : tn++;
  }
  const rows = scores.length;
  return {
    rows,
    positives: tp + fn,
    accuracy: rows ? (tp + tn) / rows : null,
    precision: tp + fp ? tp / (tp + fp) : null,
    recall: tp + fn ? tp / (tp + fn) : null,
    roc_auc: rocAuc(scores, labels),
    pr_auc: prAuc(scores, labels),
    brier: brierScore(scores, labels),
  };
}

/** Chooses the threshold on the training scores and measures both parts at it. */
export function evaluateScores(train: { s: number[]; y: number[] }, holdout: { s: number[]; y: number[] }): Evaluation {
  const threshold = chooseThreshold(train.s, train.y);
  return {
    threshold,
    train: classificationMetrics(train.s, train.y, threshold),
    holdout: classificationMetrics(holdout.s, holdout.y, threshold),
  };
}

/**
 * The majority baseline: predicts the training majority class for everyone, with the training positive
 * rate as its probability (so its Brier score is the one to beat; its ROC AUC is 0.5 by construction).
 */
export function majorityBaseline(trainLabels: number[], labels: number[]): ClassificationMetrics {
  const rate = trainLabels.length ? trainLabels.reduce((a, b) => a + b, 0) / trainLabels.length : 0;
  const scores = labels.map(() => rate);
  // A constant score: predicted class is the majority (1 only if positives are the majority).
  return classificationMetrics(scores, labels, rate > 0.5 ? rate : rate + 1);
}

/**
 * The decision threshold: the score cut (predict 1 when score ≥ t) that maximizes F1 on the training rows,
 * ties going to the higher accuracy, then the higher threshold. Response is rare (~15%), so accuracy alone
 * would favour predicting 0 for everyone. Returns 0.5 when there is nothing to choose from.
 */
export function chooseThreshold(scores: number[], labels: number[]): number {
  const n = scores.length;
  const totalPos = labels.reduce((a, b) => a + b, 0);
  if (n === 0 || totalPos === 0 || totalPos === n) return 0.5;
  const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let best = { f1: -1, acc: -1, t: 0.5 };
  let tp = 0,
    fp = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j < n && scores[order[j]] === scores[order[i]]) {
      if (labels[order[j]] === 1) tp++;
      else fp++;
      j++;
    }
    const t = scores[order[i]];
    const f1 = (2 * tp) / (2 * tp + fp + (totalPos - tp));
    const acc = (tp + (n - totalPos - fp)) / n;
    if (f1 > best.f1 || (f1 === best.f1 && acc > best.acc)) best = { f1, acc, t };
    i = j;
  }
  return best.t;
}
