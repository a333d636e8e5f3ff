import { sleep } from '../connect/retry';
/** Pacing and durations for the producer and the streaming job. */

/**
 * A token bucket: `ratePerSecond` tokens refill continuously up to `burst`. `take(n)` waits until n tokens
 * are there. A rate of 0 means unlimited (take never waits).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number = Math.max(1, ratePerSecond / 10),
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerSecond >= 0)) throw new RangeError(`rate must be >= 0, got ${ratePerSecond}`);
    this.tokens = burst;
    this.last = now();
  }

  /** Milliseconds to wait before n tokens are available (0 when they are), without taking them. */
  delayFor(n: number): number {
    if (this.ratePerSecond === 0) return 0;
    this.refill();
    return this.tokens >= n ? 0 : ((n - this.tokens) / this.ratePerSecond) * 1000;
  }

  /** Takes n tokens, waiting as needed; the wait ends early (without tokens) when `signal` aborts. */
  async take(n: number, signal?: AbortSignal): Promise<boolean> {
    if (this.ratePerSecond === 0) return true;
    if (n > this.burst) throw new RangeError(`cannot take ${n} tokens from a bucket of ${this.burst}`);
    for (;;) {
      const wait = this.delayFor(n);
      if (wait === 0) {
        this.tokens -= n;
        return true;
      }
      if (signal?.aborted) return false;
      await sleep(wait, signal);
    }
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
  }
}

/**
 * Parses a duration: a number of seconds ("30", 30) or a number with a unit: ms, s, m, h ("500ms", "10s",
 * "1m", "1.5h", "10 seconds", "1 minute"). Returns milliseconds; throws a message naming the bad value.
 */
export function parseDuration(value: string | number, what = 'duration'): number {
  if (typeof value === 'number') {
    if (!(value >= 0) || !Number.isFinite(value)) throw new RangeError(`${what} must be a non-negative number of seconds, got ${value}`);
    return value * 1000;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?)?\s*$/i.exec(value);
  if (!m) throw new RangeError(`${what}: cannot read "${value}" (use e.g. 500ms, 10s, 1m, 2h, or seconds)`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const factor =
    unit.startsWith('ms') || unit.startsWith('milli') ? 1 : unit.startsWith('h') ? 3_600_000 : unit.startsWith('m') ? 60_000 : 1000;
  return n * factor;
}

/** Spark interval text for a duration in ms ("10 seconds", "500 milliseconds"). */
export function sparkInterval(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} seconds` : `${ms} milliseconds`;
}
