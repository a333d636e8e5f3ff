import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatNumber, validateResults, type BenchResults } from './results';

export interface ComparisonRow {
  id: string;
  unit: string;
  better: 'lower' | 'higher';
  a: number;
  b: number;
  /** b / a of the medians. */
  ratio: number;
  /** True when B is better than A by the figure's own direction. */
  improved: boolean;
}

export function loadResults(dirOrFile: string): BenchResults {
  const file = fs.existsSync(dirOrFile) && fs.statSync(dirOrFile).isDirectory() ? path.join(dirOrFile, 'results.json') : dirOrFile;
  if (!fs.existsSync(file)) throw new Error(`no results.json at ${file}`);
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchResults;
  const errors = validateResults(doc);
  if (errors.length) throw new Error(`${file} is not a valid results.json:\n  ${errors.join('\n  ')}`);
  return doc;
}

/** The ratio B/A of each figure's median that both runs have, in A's order. */
export function compareResults(a: BenchResults, b: BenchResults): { rows: ComparisonRow[]; onlyA: string[]; onlyB: string[] } {
  const bById = new Map(b.figures.map((f) => [f.id, f]));
  const rows: ComparisonRow[] = [];
  for (const fa of a.figures) {
    const fb = bById.get(fa.id);
    if (!fb) continue;
    const ratio = fb.median / fa.median;
    rows.push({
      id: fa.id,
      unit: fa.unit,
      better: fa.better,
      a: fa.median,
      b: fb.median,
      ratio,
      improved: fa.better === 'lower' ? ratio < 1 : ratio > 1,
    });
  }
  const aIds = new Set(a.figures.map((f) => f.id));
  return {
    rows,
    onlyA: a.figures.filter((f) => !bById.has(f.id)).map((f) => f.id),
    onlyB: b.figures.filter((f) => !aIds.has(f.id)).map((f) => f.id),
  };
}

/** `spark-ts bench-compare A B`: the ratio B/A of each figure's median. */
export function benchCompare(a: string, b: string, out: (line: string) => void): number {
  const ra = loadResults(a);
  const rb = loadResults(b);
  const { rows, onlyA, onlyB } = compareResults(ra, rb);
  const width = Math.max(6, ...rows.map((r) => r.id.length));
  out(`${'figure'.padEnd(width)}  ${'A'.padStart(14)}  ${'B'.padStart(14)}  B/A      `);
  for (const r of rows) {
    const mark = Math.abs(r.ratio - 1) < 0.02 ? 'same' : r.improved ? 'better' : 'worse';
    out(
      `${r.id.padEnd(width)}  ${formatNumber(r.a, r.unit).padStart(14)}  ${formatNumber(r.b, r.unit).padStart(14)}  ${r.ratio.toFixed(3).padStart(6)}  ${mark}`,
    );
  }
  if (onlyA.length) out(`only in A: ${onlyA.join(', ')}`);
  if (onlyB.length) out(`only in B: ${onlyB.join(', ')}`);
  return 0;
}
