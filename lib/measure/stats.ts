/**
 * Small, exact statistics for benchmark samples, with one definition of a quantile for every report
 * (cache bench, stream latencies, the dashboard, the benchmark suite).
 */

/** The q-quantile of numbers sorted ascending: linear interpolation between closest ranks (the common "type 7"). */
function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** The q-quantile (0..1) of a sample, NaN for an empty one (see quantileOfSorted for the definition). */
export function quantile(samples: readonly number[], q: number): number {
  return quantileOfSorted(
    [...samples].sort((a, b) => a - b),
    q,
  );
}

/** p50, p95, p99 and max of a sample (the same quantile); nulls for an empty sample. */
export function percentiles(samples: readonly number[]): {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
} {
  if (samples.length === 0) return { count: 0, p50: null, p95: null, p99: null, max: null };
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => quantileOfSorted(sorted, q);
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1] };
}

export const median = (s: readonly number[]) => quantile(s, 0.5);

export interface Spread {
  min: number;
  median: number;
  max: number;
  n: number;
}

export function spread(samples: readonly number[]): Spread {
  return { min: Math.min(...samples), median: median(samples), max: Math.max(...samples), n: samples.length };
}

/** Least-squares slope of evenly spaced samples, per minute; null for fewer than 2 samples. */
export function slopePerMinute(samples: readonly number[], everyS: number): number | null {
  const n = samples.length;
  if (n < 2) return null;
  const meanX = (n - 1) / 2;
  const meanY = samples.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  samples.forEach((y, i) => {
    num += (i - meanX) * (y - meanY);
    den += (i - meanX) ** 2;
  });
  return (num / den) * (60 / everyS);
}

/** Runs `fn` `times` times, sequentially, and returns what each run returned. */
export async function repeat<T>(times: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < times; i++) out.push(await fn(i));
  return out;
}
