/**
 * The deterministic hold-out split of customer IDs: FNV-1a (32-bit) of the decimal ID, bucket = hash mod
 * 100; an ID is held out when its bucket is below `holdoutPct`. Stable across runs, machines and order.
 */
const DIGITS = new Float64Array(16);

export function idBucket(id: number): number {
  // Non-negative safe integers (every real ID): the digits arithmetically, without building the string.
  if (Number.isSafeInteger(id) && id > 0) {
    let n = 0;
    // Below 2^31 in int32 arithmetic (no float division), above it in floats.
    if (id <= 0x7fffffff) {
      for (let v = id; v > 0;) {
        const q = (v / 10) | 0;
        DIGITS[n++] = v - q * 10;
        v = q;
      }
    } else {
      for (let v = id; v > 0; v = Math.floor(v / 10)) DIGITS[n++] = v % 10;
    }
    let h = 0x811c9dc5;
    while (n > 0) {
      h ^= 0x30 + DIGITS[--n];
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h % 100;
  }
  const s = String(id);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % 100;
}

export function isHoldout(id: number, holdoutPct: number): boolean {
  return idBucket(id) < holdoutPct;
}
