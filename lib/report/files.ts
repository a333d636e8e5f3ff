import * as path from 'node:path';

// The one atomic writer and JSON helpers (lib/util/json.ts), re-exported for reports.
export { writeFileAtomic, writeJson, toJson } from '../util/json';

/** `reports/x.json` → `reports/x.csv` (a sibling with another extension). */
export function siblingPath(file: string, ext: string): string {
  const parsed = path.parse(file);
  return path.join(parsed.dir, `${parsed.name}.${ext.replace(/^\./, '')}`);
}
