/**
 * The deterministic hold-out split of customer IDs: FNV-1a (32-bit) of the decimal ID, bucket = hash mod
 * 100; an ID is held out when its bucket is below `holdoutPct`. Stable across runs, machines and order.
 */
export function idBucket(id: number): number {
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
