/**
 * Exact integer accumulators. Each slot is `hi + lo`: `lo` is a float64 that only ever holds a safe
 * integer (|v| < 2^53, where float addition of integers is exact), `hi` a BigInt that takes over whenever
 * a partial sum or a product would leave that range. So sums are exact at any size (millions of
 * additions and retractions leave no drift) while the common case costs a float add.
 */
export class ExactSums {
  private readonly lo: Float64Array;
  private readonly hi: bigint[];

  constructor(readonly size: number) {
    this.lo = new Float64Array(size);
    this.hi = new Array<bigint>(size).fill(0n);
  }

  /** Adds a safe integer term to slot i. */
  add(i: number, term: number): void {
    const s = this.lo[i] + term;
    if (Number.isSafeInteger(s)) this.lo[i] = s;
    else {
      // The float sum may have rounded: redo it exactly.
      this.hi[i] += BigInt(this.lo[i]) + BigInt(term);
      this.lo[i] = 0;
    }
  }

  /** Adds sign·a·b (a, b safe integers) to slot i, exactly. */
  addProduct(i: number, a: number, b: number, sign: 1 | -1): void {
    const p = a * b;
    // A float product within the safe range is exact; one outside it may be rounded, so use BigInt.
    if (Number.isSafeInteger(p)) this.add(i, sign * p);
    else this.hi[i] += BigInt(sign) * BigInt(a) * BigInt(b);
  }

  /**
   * Adds sign·x_j·x_l for every j ≤ l into the consecutive slots from `start` (a packed upper triangle),
   * exactly: the same rule as addProduct, with the common case (safe product, safe sum) inlined.
   */
  addUpperOuter(start: number, x: readonly number[], sign: 1 | -1): void {
    const lo = this.lo;
    const p = x.length;
    let k = start;
    for (let j = 0; j < p; j++) {
      const xj = x[j];
      if (xj === 0) {
        k += p - j;
        continue;
      }
      for (let l = j; l < p; l++, k++) {
        const xl = x[l];
        if (xl === 0) continue;
        const prod = xj * xl;
        const s = lo[k] + sign * prod;
        if (Math.abs(prod) <= Number.MAX_SAFE_INTEGER && Math.abs(s) <= Number.MAX_SAFE_INTEGER) lo[k] = s;
        else this.addProduct(k, xj, xl, sign);
      }
    }
  }

  /**
   * Adds a1·b1 − a0·b0 (safe integers) to slot i, exactly: one float update when both products, their
   * difference and the new sum are safe integers (then every step is exact), else addProduct twice.
   */
  addSwap(i: number, a0: number, b0: number, a1: number, b1: number): void {
    const p1 = a1 * b1;
    const p0 = a0 * b0;
    if (Math.abs(p1) <= Number.MAX_SAFE_INTEGER && Math.abs(p0) <= Number.MAX_SAFE_INTEGER) {
      const s = this.lo[i] + (p1 - p0);
      if (Math.abs(p1 - p0) <= Number.MAX_SAFE_INTEGER && Math.abs(s) <= Number.MAX_SAFE_INTEGER) {
        this.lo[i] = s;
        return;
      }
    }
    if (a1 !== 0 && b1 !== 0) this.addProduct(i, a1, b1, 1);
    if (a0 !== 0 && b0 !== 0) this.addProduct(i, a0, b0, -1);
  }

  /**
   * addSwap when the caller knows |a0·b0|, |a1·b1| ≤ 2^52 (so both products and their difference are exact):
   * one float update when the new sum is a safe integer (then it is exact), else addSwap.
   */
  addSwapSmall(i: number, a0: number, b0: number, a1: number, b1: number): void {
    const s = this.lo[i] + (a1 * b1 - a0 * b0);
    if (s <= Number.MAX_SAFE_INTEGER && s >= -Number.MAX_SAFE_INTEGER) this.lo[i] = s;
    else this.addSwap(i, a0, b0, a1, b1);
  }

  get(i: number): bigint {
    return this.hi[i] + BigInt(this.lo[i]);
  }

  toStrings(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.get(i).toString());
    return out;
  }

  static fromStrings(values: string[]): ExactSums {
    const s = new ExactSums(values.length);
    values.forEach((v, i) => {
      s.hi[i] = BigInt(v);
    });
    return s;
  }
}
