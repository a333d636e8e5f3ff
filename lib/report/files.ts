import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Writes a file atomically: a temp file in the same directory, then a rename. A reader (or a crash)
 * never sees half a report.
 */
export function writeFileAtomic(file: string, content: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

/** JSON that keeps 64-bit integers exact: a bigint is written as its decimal digits (a string). */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), indent) + '\n';
}

export function writeJson(file: string, value: unknown): void {
  writeFileAtomic(file, toJson(value));
}

/** `reports/x.json` → `reports/x.csv` (a sibling with another extension). */
export function siblingPath(file: string, ext: string): string {
  const parsed = path.parse(file);
  return path.join(parsed.dir, `${parsed.name}.${ext.replace(/^\./, '')}`);
}
