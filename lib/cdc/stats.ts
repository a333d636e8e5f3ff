import { ExactSums } from './exact';

/** One row as the model sees it: features as fixed-point integers (value · 10^decimals) and a 0/1 target (null: no label). */
export interface EncodedRow {
  x: number[];
  y: number | null;
}

/** Serialized statistics: every sum as an exact decimal string. */
export interface StatsJson {
  p: number;
  n: number;
  sums: string[];
}

/**
 * Sufficient statistics of a ridge regression over the current rows, kept exact: n, Σx, Σy, Σxy and the
 * upper triangle of Σxxᵀ. Adding then removing a row restores the exact previous state.
 *
 * Slot layout in `sums`: [0, p) Σx_j; p Σy; [p+1, 2p+1) Σx_j·y; then Σx_j·x_k for j ≤ k, row by row.
 */
/** 2^26: values within ±SMALL have exact products (±2^52) and exact differences of products (±2^53). */
const SMALL = 67_108_864;

export class SufficientStats {
  n = 0;
  readonly sums: ExactSums;
  private readonly changed: Int32Array;
  private readonly isChanged: Uint8Array;

  constructor(
    readonly p: number,
    sums?: ExactSums,
  ) {
    this.sums = sums ?? new ExactSums(SufficientStats.slots(p));
    this.changed = new Int32Array(p);
    this.isChanged = new Uint8Array(p);
    if (this.sums.size !== SufficientStats.slots(p))
      throw new Error(`statistics for ${p} features need ${SufficientStats.slots(p)} sums, got ${this.sums.size}`);
  }

  static slots(p: number): number {
    return 2 * p + 1 + (p * (p + 1)) / 2;
  }

  add(row: EncodedRow): void {
    this.update(row, 1);
  }

  remove(row: EncodedRow): void {
    if (this.n <= 0) throw new Error('cannot remove a row from empty statistics');
    this.update(row, -1);
  }

  /**
   * Replaces a row by another (an update of a training row), exactly: the same result as remove(old) then
   * add(row), but only the terms that change are touched. An update usually changes a few columns, so the
   * Σxxᵀ pairs where neither column changed (most of them) cancel and are skipped.
   */
  replace(old: EncodedRow, row: EncodedRow): void {
    if (old.y === null || row.y === null) throw new Error('a row without a label cannot enter the statistics');
    const p = this.p;
    const s = this.sums;
    const x0 = old.x;
    const x1 = row.x;
    const y0 = old.y;
    const y1 = row.y;
    // Scratch lists (no allocation per update): the changed columns, and a mark per column (cleared below).
    const changed = this.changed;
    const isChanged = this.isChanged;
    let nc = 0;
    // small: every value of both rows within ±2^26, so every product a·b (and y is 0 or 1) is within ±2^52 and a
    // difference of two within ±2^53, all exact: addSwapSmall then needs one check (the sum's).
    let small = true;
    for (let j = 0; j < p; j++) {
      const a = x0[j];
      const b = x1[j];
      if (a !== b) changed[nc++] = j;
      if (a > SMALL || a < -SMALL || b > SMALL || b < -SMALL) small = false;
    }
    if (nc === 0 && y0 === y1) return;
    for (let c = 0; c < nc; c++) {
      const j = changed[c];
      const d = x1[j] - x0[j];
      if (Number.isSafeInteger(d)) s.add(j, d);
      else {
        s.add(j, x1[j]);
        s.add(j, -x0[j]);
      }
      isChanged[j] = 1;
    }
    if (y1 !== y0) s.add(p, y1 - y0);
    for (let j = 0; j < p; j++) {
      if (y0 === y1 && x0[j] === x1[j]) continue;
      if (small) s.addSwapSmall(p + 1 + j, x0[j], y0, x1[j], y1);
      else s.addSwap(p + 1 + j, x0[j], y0, x1[j], y1);
    }
    const base = 2 * p + 1;
    // Pair (j, l), j ≤ l, sits at base + j·p − j(j−1)/2 + (l − j).
    if (nc > 0) {
      // rowStart = base + j·p − j(j−1)/2 − j, stepped by p − j − 1.
      for (let j = 0, rowStart = base; j < p; rowStart += p - j - 1, j++) {
        const a0 = x0[j];
        const a1 = x1[j];
        if (isChanged[j]) {
          if (small) for (let l = j; l < p; l++) s.addSwapSmall(rowStart + l, a0, x0[l], a1, x1[l]);
          else for (let l = j; l < p; l++) s.addSwap(rowStart + l, a0, x0[l], a1, x1[l]);
        } else {
          for (let c = 0; c < nc; c++) {
            const l = changed[c];
            if (l <= j) continue;
            if (small) s.addSwapSmall(rowStart + l, a0, x0[l], a1, x1[l]);
            else s.addSwap(rowStart + l, a0, x0[l], a1, x1[l]);
          }
        }
      }
    }
    for (let c = 0; c < nc; c++) isChanged[changed[c]] = 0;
  }

  private update({ x, y }: EncodedRow, sign: 1 | -1): void {
    if (y === null) throw new Error('a row without a label cannot enter the statistics');
    const p = this.p;
    const s = this.sums;
    this.n += sign;
    for (let j = 0; j < p; j++) s.add(j, sign * x[j]);
    s.add(p, sign * y);
    if (y !== 0) for (let j = 0; j < p; j++) s.addProduct(p + 1 + j, x[j], y, sign);
    s.addUpperOuter(2 * p + 1, x, sign);
  }

  sumX(j: number): bigint {
    return this.sums.get(j);
  }
  sumY(): bigint {
    return this.sums.get(this.p);
  }
  sumXY(j: number): bigint {
    return this.sums.get(this.p + 1 + j);
  }
  sumXX(j: number, l: number): bigint {
    if (l < j) [j, l] = [l, j];
    // Offset of row j in the packed upper triangle, then column l.
    const rowStart = j * this.p - (j * (j - 1)) / 2;
    return this.sums.get(2 * this.p + 1 + rowStart + (l - j));
  }

  equals(other: SufficientStats): boolean {
    if (other.p !== this.p || other.n !== this.n) return false;
    for (let i = 0; i < this.sums.size; i++) if (this.sums.get(i) !== other.sums.get(i)) return false;
    return true;
  }

  clone(): SufficientStats {
    return SufficientStats.fromJSON(this.toJSON());
  }

  toJSON(): StatsJson {
    return { p: this.p, n: this.n, sums: this.sums.toStrings() };
  }

  static fromJSON(j: StatsJson): SufficientStats {
    const s = new SufficientStats(j.p, ExactSums.fromStrings(j.sums));
    s.n = j.n;
    return s;
  }
}
