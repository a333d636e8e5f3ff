import { median, quantile } from '../measure/stats';

/** Times of one mode: iteration 0 includes materialization (persist is lazy; the first query fills the cache). */
export interface TimingSummary {
  first_ms: number | null;
  /** Over iterations 1..K-1; null when there was only one iteration. */
  median_ms: number | null;
  p95_ms: number | null;
  /** The best later iteration: on a shared machine, the least disturbed estimate. */
  min_ms: number | null;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export function summarizeIterations(iterationMs: readonly number[]): TimingSummary {
  if (iterationMs.length === 0) return { first_ms: null, median_ms: null, p95_ms: null, min_ms: null };
  const later = iterationMs.slice(1);
  return {
    first_ms: round1(iterationMs[0]),
    median_ms: later.length ? round1(median(later)) : null,
    p95_ms: later.length ? round1(quantile(later, 0.95)) : null,
    min_ms: later.length ? round1(Math.min(...later)) : null,
  };
}

/**
 * How many times faster than the baseline: baseline median / this median (the steady state, after the
 * first iteration). With a single iteration, the first times are compared instead. null when either is missing.
 */
export function speedup(mode: TimingSummary, baseline: TimingSummary | undefined, by: 'median' | 'min' = 'median'): number | null {
  if (!baseline) return null;
  const pick = (t: TimingSummary) => (by === 'min' ? t.min_ms : t.median_ms) ?? t.first_ms;
  const a = pick(baseline);
  const b = pick(mode);
  if (a === null || b === null || !(b > 0)) return null;
  return Math.round((a / b) * 100) / 100;
}

/** A size per row; null stays null (not measured), never 0. */
export function perRow(bytes: number | null, rows: number): number | null {
  if (bytes === null || !(rows > 0)) return null;
  return Math.round((bytes / rows) * 100) / 100;
}

/** a / b rounded to 3 decimals; null when either is missing or b is not positive. */
export function ratio(a: number | null, b: number | null): number | null {
  if (a === null || b === null || !(b > 0)) return null;
  return Math.round((a / b) * 1000) / 1000;
}

export interface Validated {
  rows: number;
  iterations: number;
}

/** Checks --rows and --iterations; returns a usage message or undefined. */
export function checkCounts(rows: unknown, iterations: unknown): string | undefined {
  const isPositiveInt = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
  const shown = (v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? 'a value that is not a number' : String(v));
  if (!isPositiveInt(rows)) return `--rows must be a positive integer (at least 1), got ${shown(rows)}`;
  if (!isPositiveInt(iterations)) return `--iterations must be a positive integer (at least 1), got ${shown(iterations)}`;
  return undefined;
}

/** Steady-state median and p95 of one query (its times in iterations 1..K-1). */
export function steadyState(timesMs: readonly number[]): { median_ms: number | null; p95_ms: number | null } {
  const s = summarizeIterations(timesMs);
  return { median_ms: s.median_ms, p95_ms: s.p95_ms };
}

/**
 * After how many queries holding the workload this way has paid for itself, against recomputing it every
 * time: the smallest n with  setupMs + n * perQueryMs <= n * baselinePerQueryMs, i.e.
 * n = ceil(setupMs / (baselinePerQueryMs - perQueryMs)), at least 1 (the first query always runs).
 * setupMs is what holding costs once: filling a cache (its first mix minus a steady one) or writing files.
 * null when holding never pays (not faster per query) or a figure is missing.
 */
export function breakEvenQueries(setupMs: number | null, perQueryMs: number | null, baselinePerQueryMs: number | null): number | null {
  if (setupMs === null || perQueryMs === null || baselinePerQueryMs === null) return null;
  const saved = baselinePerQueryMs - perQueryMs;
  if (!(saved > 0)) return null;
  return Math.max(1, Math.ceil(Math.max(0, setupMs) / saved));
}
