import * as path from 'node:path';
import { defineJob, UsageError } from '../lib/cli/job';
import { MODES, parseModes } from '../lib/cachebench/modes';
import { checkCounts } from '../lib/cachebench/measure';
import { uiUrlCandidates } from '../lib/cachebench/rest';
import { runCacheBench } from '../lib/cachebench/run';
import { renderQueryTable, renderReportTable, reportNotes, writeReport } from '../lib/cachebench/report';

interface CacheBenchArgs extends Record<string, unknown> {
  rows: number;
  iterations: number;
  modes?: string;
  output: string;
  seed: number;
  partitions?: number;
  'work-dir'?: string;
  'keep-files': boolean;
  'ui-url'?: string;
}

export default defineJob<CacheBenchArgs, { args: CacheBenchArgs; modes: ReturnType<typeof parseModes> }>({
  name: 'cache-bench',
  description:
    'Spark caching measured on cleaned customers (CSV -> preprocess plan -> join): every storage level vs no cache vs re-reading Parquet/CSV',
  options: {
    rows: { type: 'number', default: 2_000_000, describe: 'data rows of the generated Kaggle-format CSV the workload is built from' },
    iterations: { type: 'number', default: 5, describe: 'query-mix iterations per mode (the first includes caching)' },
    modes: { type: 'string', describe: `comma-separated, any of: ${MODES.join(', ')} (default: all)` },
    output: { type: 'string', default: 'reports/cache-bench.json', describe: 'JSON report; the CSV and SVG chart are written beside it' },
    seed: { type: 'number', default: 42, describe: 'seed of generate-data (same seed, same CSV bytes, same rows)' },
    partitions: {
      type: 'number',
      describe: 'partitions generate-data writes the CSV with (its bytes do not depend on it; default one per 500k rows)',
    },
    'work-dir': {
      type: 'string',
      describe:
        'directory for the generated CSV, preprocess outputs and Parquet/CSV baselines, visible to the Spark server (default: a fresh temp dir, removed afterwards)',
    },
    'keep-files': { type: 'boolean', default: false, describe: 'keep the generated CSV, preprocess outputs and baselines after the run' },
    'ui-url': {
      type: 'string',
      describe:
        "Spark UI address for the monitoring REST API (default: SPARK_TS_UI_URL, the embedded server's, or whichever of ports 4040-4056 serves this server's application)",
    },
  },
  parse(args) {
    const counts = checkCounts(args.rows, args.iterations);
    if (counts) return new UsageError(counts);
    if (args.partitions !== undefined && !(Number.isSafeInteger(args.partitions) && args.partitions > 0)) {
      return new UsageError(`--partitions must be a positive integer, got ${String(args.partitions)}`);
    }
    if (!Number.isSafeInteger(args.seed)) return new UsageError(`--seed must be an integer, got ${String(args.seed)}`);
    if (!args.output || !String(args.output).trim()) return new UsageError('--output must name a file');
    return { args, modes: parseModes(args.modes) };
  },
  async run(spark, { args, modes }, ctx) {
    const output = ctx.resolvePath(args.output);
    ctx.log(`cache-bench: ${args.rows.toLocaleString('en-US')} rows, ${args.iterations} iterations, modes ${modes.join(', ')}`);
    const report = await runCacheBench(spark, {
      rows: args.rows,
      iterations: args.iterations,
      modes,
      seed: args.seed,
      partitions: args.partitions,
      workDir: args['work-dir'] ? ctx.resolvePath(args['work-dir']) : undefined,
      keepFiles: args['keep-files'],
      uiUrls: uiUrlCandidates(args['ui-url']),
      signal: ctx.signal,
      log: ctx.log,
    });
    const written = await writeReport(report, output);
    console.log(renderReportTable(report));
    console.log(renderQueryTable(report));
    for (const note of reportNotes(report)) ctx.log(note);
    const shown = (f: string) => (f.startsWith(ctx.root + path.sep) ? path.relative(ctx.root, f) : f);
    ctx.log(`wrote ${shown(written.json)}, ${shown(written.csv)}, ${shown(written.svg)}, ${shown(written.speedup_svg)}`);
    const failed = report.modes.filter((m) => m.error);
    if (failed.length || !report.digests_equal || report.leftover_cached_rdds) {
      ctx.log(
        `cache-bench: FAILED${failed.length ? `: ${failed.map((m) => m.mode).join(', ')} failed` : ''}${!report.digests_equal ? '; result digests differ' : ''}${report.leftover_cached_rdds ? '; cached data left on the server' : ''}`,
      );
      return 1;
    }
    return 0;
  },
});
