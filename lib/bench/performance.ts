/**
 * docs/performance.md, generated from the newest `make bench` run (reports/bench/<timestamp>/results.json):
 * the page's fixed text, then the run's date, command and machine and its figures. `make bench` rewrites
 * it after every run (scripts/performance-doc.ts), so the page never states figures of a run that is gone.
 */
import * as path from 'node:path';
import { latestRunDir, writeFileAtomic } from '../report/files';
import { loadResults } from './compare';
import { figureTables, machineLine, type BenchResults } from './results';

/** The command that ran the suite: as recorded, else what `make bench` takes for the run's settings. */
export function commandOf(results: BenchResults): string {
  if (results.command) return results.command;
  const args = results.repetitions === 3 ? '' : ` ARGS='--repetitions ${results.repetitions}'`;
  return `${results.quick ? 'QUICK=1 ' : ''}make bench${args}`;
}

/** `2026-11-30T16:17:25.214Z` → `2026-11-30 16:17 UTC`. */
function dateOf(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** The page, from one run's results; `source` is the run's directory as the page names it (reports/bench/<timestamp>). */
export function performanceMarkdown(results: BenchResults, source: string): string {
  return [
    '# Performance: `make bench`',
    '',
    `<!-- Generated from ${source}/results.json by lib/bench/performance.ts (make bench, make performance-doc): edit the generator, not this page. -->`,
    '',
    'Back to the [README](../README.md).',
    '',
    '```sh',
    'make bench            # every figure over 3 repetitions (about 10 minutes on 2 cores), then this page is rewritten',
    'QUICK=1 make bench    # small workloads (about 4 minutes; the test suite runs this and checks results.json)',
    'make performance-doc  # rewrite this page from the newest reports/bench run',
    "./bin/spark-ts bench-compare reports/bench/<A> reports/bench/latest     # ratio B/A of each figure's median",
    '```',
    '',
    'Each run writes `reports/bench/<timestamp>/` and points `reports/bench/latest` at it: `results.json` (schema',
    '`spark-ts-bench/1`, documented in `lib/bench/results.ts`: every figure has a stable `id`, `group`, `unit`,',
    '`better` direction, `workload`, `min`/`median`/`max` over the repetitions and the raw `samples`, next to the',
    "machine's cores, memory, Java, Node, Spark and Kafka versions), `results.csv`, one SVG chart per unit and",
    "`summary.md`. The figures come from the same measuring code as each part's own benchmark script",
    '(`scripts/bench/connect-collect.ts`, `scripts/bench/stream.ts`, `scripts/bench/cdc-apply.ts`,',
    '`scripts/bench/preprocess.ts`, the `cache-bench` job), at sizes that fit three repetitions in a few minutes;',
    "those scripts take the issues' larger sizes, and the module READMEs hold their measurements",
    '([lib/stream](../lib/stream/README.md#benchmark), [lib/cdc](../lib/cdc/README.md),',
    '[lib/preprocess](../lib/preprocess/README.md), [lib/cachebench](../lib/cachebench/README.md)).',
    '',
    '## Latest run',
    '',
    `- date: ${dateOf(results.created_at)} (\`${source}\`)`,
    `- command: \`${commandOf(results)}\`${results.command ? '' : ' (this run did not record its command line: the make target for its settings)'}` +
      `${results.quick ? '; QUICK: small workloads, not the full sizes' : ''}; ${results.repetitions} repetitions per figure`,
    `- machine: ${machineLine(results.machine)}`,
    '',
    'Medians over the repetitions, with min – max. The machine is shared: compare runs as ratios',
    '(`spark-ts bench-compare`), not as absolute times.',
    '',
    ...figureTables(results, '###'),
  ]
    .join('\n')
    .replace(/\n+$/, '\n');
}

/**
 * Rewrites `docFile` from the newest run under `benchDir` that has a results.json; the run's directory is
 * named relative to `root`. Returns that directory, or undefined (and leaves the page) when there is none.
 */
export function writePerformanceDoc(benchDir: string, docFile: string, root: string): string | undefined {
  const dir = latestRunDir(benchDir, 'results.json');
  if (!dir) return undefined;
  const results = loadResults(dir);
  writeFileAtomic(docFile, performanceMarkdown(results, path.relative(root, dir).split(path.sep).join('/')));
  return dir;
}
