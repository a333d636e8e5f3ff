import * as fs from 'node:fs';
import * as path from 'node:path';

// The one atomic writer and JSON helpers (lib/util/json.ts), re-exported for reports.
export { writeFileAtomic, writeJson, toJson } from '../util/json';

/** `reports/x.json` → `reports/x.csv` (a sibling with another extension). */
export function siblingPath(file: string, ext: string): string {
  const parsed = path.parse(file);
  return path.join(parsed.dir, `${parsed.name}.${ext.replace(/^\./, '')}`);
}

/**
 * The newest run under `base` (as `make bench` writes reports/bench): what `base/latest` points at, else the
 * newest timestamped directory (their names sort by time). With `needs`, only a directory holding that file
 * counts (a run that stopped before writing it is passed over).
 */
export function latestRunDir(base: string, needs?: string): string | undefined {
  const complete = (dir: string) => needs === undefined || fs.existsSync(path.join(dir, needs));
  const latest = path.join(base, 'latest');
  if (fs.existsSync(latest) && complete(latest)) return fs.realpathSync(latest);
  if (!fs.existsSync(base)) return undefined;
  const dirs = fs
    .readdirSync(base, { withFileTypes: true })
    .filter((e) => e.isDirectory() && complete(path.join(base, e.name)))
    .map((e) => e.name)
    .sort();
  return dirs.length ? path.join(base, dirs[dirs.length - 1]) : undefined;
}
