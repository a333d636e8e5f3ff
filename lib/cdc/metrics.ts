/** Binary-classification metrics over scores and 0/1 labels. */
export interface ClassificationMetrics {
  rows: number;
  positives: number;
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  roc_auc: number | null;
}

/** ROC AUC by the rank-sum (Mann-Whitney) statistic, ties counted half. Null when a class is missing. */
export function rocAuc(scores: number[], labels: number[]): number | null {
  const n = scores.length;
  const order = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let pos = 0;
  let rankSumPos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (labels[order[k]] === 1) {
      pos++;
      rankSumPos += avgRank;
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return null;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

export function classificationMetrics(scores: number[], labels: number[], threshold: number): ClassificationMetrics {
  let tp = 0, fp = 0, tn = 0, fn = 0;
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
  };
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
  let tp = 0, fp = 0;
  for (let i = 0; i < n; ) {
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
