import fs from 'node:fs';
import path from 'node:path';
import { latestRunDir } from '../report/files';

/** One report directory as the page lists it: links to its files and its SVG charts (shown inline). */
export interface ReportListing {
  title: string;
  /** Directory relative to the reports directory. */
  dir: string;
  updated_at: string;
  links: Array<{ name: string; href: string }>;
  svgs: Array<{ name: string; href: string }>;
}

/** The files a report listing links to; anything else under reports/ is not served. */
export const SERVED_TYPES: Readonly<Record<string, string>> = {
  '.svg': 'image/svg+xml',
  '.md': 'text/plain; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.csv': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
};

const href = (reportsDir: string, file: string) =>
  `/reports/${path.relative(reportsDir, file).split(path.sep).map(encodeURIComponent).join('/')}`;

function listing(reportsDir: string, title: string, dir: string, maxDepth: number): ReportListing | null {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return null;
  const files: string[] = [];
  const walk = (d: string, depth: number) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && depth < maxDepth && !/^(checkpoints|stream|logs)$/.test(e.name)) walk(p, depth + 1);
      else if (e.isFile() && SERVED_TYPES[path.extname(e.name)]) files.push(p);
    }
  };
  walk(dir, 0);
  if (!files.length) return null;
  const newest = Math.max(...files.map((f) => fs.statSync(f).mtimeMs));
  const rel = (f: string) => path.relative(dir, f);
  const summaryFirst = (a: string, b: string) =>
    Number(path.basename(b) === 'summary.md') - Number(path.basename(a) === 'summary.md') || a.localeCompare(b);
  return {
    title,
    dir: path.relative(reportsDir, dir) || '.',
    updated_at: new Date(newest).toISOString(),
    links: files
      .filter((f) => !f.endsWith('.svg'))
      .sort(summaryFirst)
      .map((f) => ({ name: rel(f), href: href(reportsDir, f) })),
    svgs: files.filter((f) => f.endsWith('.svg')).map((f) => ({ name: rel(f), href: href(reportsDir, f) })),
  };
}

/** The newest `make bench` run (reports/bench/latest, else the newest timestamped directory). */
const latestBenchDir = (reportsDir: string) => latestRunDir(path.join(reportsDir, 'bench'));

/** The latest `make bench` and `make run` reports, each null when there is none yet. */
export function listReports(reportsDir: string): { reports_dir: string; bench: ReportListing | null; run: ReportListing | null } {
  const bench = latestBenchDir(reportsDir);
  return {
    reports_dir: reportsDir,
    bench: bench ? listing(reportsDir, 'make bench (latest)', bench, 0) : null,
    run: listing(reportsDir, 'make run', path.join(reportsDir, 'run'), 1),
  };
}

/**
 * The file a `/reports/...` request names, or undefined: it must resolve (symlinks followed) inside the
 * reports directory and have a served type, so no request reaches anything else on disk.
 */
export function resolveReportFile(reportsDir: string, urlPath: string): { file: string; type: string } | undefined {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath.replace(/^\/reports\//, ''));
  } catch {
    return undefined;
  }
  if (rel.includes('\0')) return undefined;
  const type = SERVED_TYPES[path.extname(rel)];
  if (!type) return undefined;
  let root: string;
  let file: string;
  try {
    root = fs.realpathSync(reportsDir);
    file = fs.realpathSync(path.resolve(root, rel));
  } catch {
    return undefined;
  }
  if (!file.startsWith(root + path.sep) || !fs.statSync(file).isFile()) return undefined;
  return { file, type };
}
