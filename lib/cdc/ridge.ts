import { choleskySolve } from './linalg';
import type { SufficientStats } from './stats';

/**
 * A ridge regression on standardized features: ŷ = intercept + Σ b_j·(x_j − mean_j)/sd_j, fitted by
 * minimizing Σ(y − b0 − bᵀz)² + λ‖b‖² (intercept not penalized). So b0 = mean(y) and
 * b = (ZcᵀZc + λI)⁻¹ Zcᵀyc. Means and sds are population statistics of the training rows; a feature with
 * sd 0 is left out of the solve and gets coefficient 0 (and sd 0 is recorded; scoring skips it).
 */
export interface RidgeModel {
  n: number;
  intercept: number;
  coefficients: number[];
  means: number[];
  sds: number[];
  lambda: number;
}

function solve(
  n: number,
  meanY: number,
  means: number[],
  sds: number[],
  cov: (j: number, k: number) => number,
  covY: (j: number) => number,
  lambda: number,
): RidgeModel {
  const p = means.length;
  const used = sds.map((_, j) => j).filter((j) => sds[j] > 0);
  const coefficients = new Array<number>(p).fill(0);
  if (used.length) {
    // (ZcᵀZc)_jk = n·cov_jk/(sd_j·sd_k); (Zcᵀyc)_j = n·cov(x_j, y)/sd_j.
    const a = used.map((j) => used.map((k) => (n * cov(j, k)) / (sds[j] * sds[k]) + (j === k ? lambda : 0)));
    const b = used.map((j) => (n * covY(j)) / sds[j]);
    const sol = choleskySolve(a, b);
    used.forEach((j, i) => {
      coefficients[j] = sol[i];
    });
  }
  return { n, intercept: meanY, coefficients, means, sds, lambda };
}

/**
 * Solves the ridge model from exact sufficient statistics. Every centred moment is formed exactly in
 * BigInt (n·Σx_jx_k − Σx_j·Σx_k) and rounded once to float64; `scales` are the features' fixed-point
 * factors (10^decimals).
 */
export function ridgeFromStats(stats: SufficientStats, lambda: number, scales: number[]): RidgeModel {
  const p = stats.p;
  const n = stats.n;
  if (n === 0)
    return { n, intercept: 0, coefficients: new Array(p).fill(0), means: new Array(p).fill(0), sds: new Array(p).fill(0), lambda };
  const N = BigInt(n);
  const n2 = n * n;
  const sx = Array.from({ length: p }, (_, j) => stats.sumX(j));
  const sy = stats.sumY();
  const means = sx.map((s, j) => Number(s) / n / scales[j]);
  const cov = (j: number, k: number) => Number(N * stats.sumXX(j, k) - sx[j] * sx[k]) / n2 / (scales[j] * scales[k]);
  const sds = means.map((_, j) => Math.sqrt(cov(j, j)));
  const covY = (j: number) => Number(N * stats.sumXY(j) - sx[j] * sy) / n2 / scales[j];
  return solve(n, Number(sy) / n, means, sds, cov, covY, lambda);
}

/**
 * The same model fitted in batch from rows, by a separate route: two-pass float64 (means, then centred
 * cross-products). Used to verify the incremental model.
 */
export function ridgeFromRows(xs: number[][], ys: number[], lambda: number, p: number): RidgeModel {
  const n = xs.length;
  if (n === 0)
    return { n, intercept: 0, coefficients: new Array(p).fill(0), means: new Array(p).fill(0), sds: new Array(p).fill(0), lambda };
  const means = new Array<number>(p).fill(0);
  let meanY = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) means[j] += xs[i][j];
    meanY += ys[i];
  }
  for (let j = 0; j < p; j++) means[j] /= n;
  meanY /= n;
  const c: number[][] = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  const cy = new Array<number>(p).fill(0);
  const d = new Array<number>(p);
  for (let i = 0; i < n; i++) {
    const row = xs[i];
    for (let j = 0; j < p; j++) d[j] = row[j] - means[j];
    const dy = ys[i] - meanY;
    for (let j = 0; j < p; j++) {
      cy[j] += d[j] * dy;
      for (let k = j; k < p; k++) c[j][k] += d[j] * d[k];
    }
  }
  const cov = (j: number, k: number) => (j <= k ? c[j][k] : c[k][j]) / n;
  // A feature whose values are all equal has exactly zero centred sum of squares here too.
  const sds = means.map((_, j) => Math.sqrt(cov(j, j)));
  return solve(n, meanY, means, sds, cov, (j) => cy[j] / n, lambda);
}

export function score(model: RidgeModel, x: number[]): number {
  let s = model.intercept;
  for (let j = 0; j < x.length; j++) if (model.sds[j] > 0) s += (model.coefficients[j] * (x[j] - model.means[j])) / model.sds[j];
  return s;
}

/**
 * Relative difference used to compare two fits: |a − b| / max(|a|, |b|), with values below `floor`
 * (absolute) treated as equal to zero so a coefficient that is 0 in both never divides by zero.
 */
export function relativeDifference(a: number, b: number, floor = 1e-300): number {
  const d = Math.abs(a - b);
  const m = Math.max(Math.abs(a), Math.abs(b));
  if (m <= floor) return 0;
  return d / m;
}
