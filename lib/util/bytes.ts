/** A byte count for people, in binary units: `512 B`, `28.3 KiB`, `1.5 GiB`; null (not measured) is `n/a`. */
export function formatBytes(n: number | null): string {
  if (n === null) return 'n/a';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u ? v.toFixed(1) : String(v)} ${units[u]}`;
}
