import * as fs from 'node:fs';
import * as path from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { defineJob, UsageError } from '../lib/cli/job';
import { runBenchSuite, QUICK_SIZES, FULL_SIZES } from '../lib/bench/suite';
import { summaryMarkdown, validateResults, writeResults } from '../lib/bench/results';
import { writeBenchCharts } from '../lib/bench/charts';
import { readSparkState } from '../lib/runtime/spark-server';
import { redactArgs } from '../lib/util/secrets';

interface BenchArgs extends Record<string, unknown> {
  quick: boolean;
  repetitions: number;
  'output-dir': string;
  'ui-url'?: string;
}

export default defineJob<BenchArgs>({
  name: 'bench',
  description:
    'Performance evaluation: latency, throughput, memory and model quality, each over ≥3 repetitions → reports/bench/<timestamp>/',
  needs: ['spark', 'kafka'],
  options: {
    quick: { type: 'boolean', default: process.env.QUICK === '1', describe: 'small workloads (a few minutes); default from QUICK=1' },
    repetitions: { type: 'number', default: 3, describe: 'repetitions of every measurement (at least 3)' },
    'output-dir': {
      type: 'string',
      default: 'reports/bench',
      describe: 'a <timestamp>/ directory is made here, and `latest` points at it',
    },
    'ui-url': { type: 'string', describe: "Spark UI address for cache sizes (default: the embedded server's)" },
  },
  parse: (a) =>
    !Number.isInteger(a.repetitions) || a.repetitions < 3
      ? new UsageError(`--repetitions must be an integer of at least 3 (got ${a.repetitions})`)
      : a,
  async run(spark, args, ctx) {
    const base = ctx.resolvePath(args['output-dir']);
    const stamp = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const dir = path.join(base, stamp);
    fs.mkdirSync(dir, { recursive: true });
    const bar = ctx.interactive
      ? new SingleBar({ format: 'bench [{bar}] {value}/{total} {label}', hideCursor: true }, Presets.shades_classic)
      : undefined;
    let started = false;
    const t0 = Date.now();
    const results = await runBenchSuite(spark, {
      quick: args.quick,
      repetitions: args.repetitions,
      sizes: args.quick ? QUICK_SIZES : FULL_SIZES,
      bootstrapServers: ctx.bootstrapServers,
      uiUrl: args['ui-url'] ?? readSparkState()?.ui_url ?? 'http://127.0.0.1:4040',
      signal: ctx.signal,
      log: ctx.log,
      onStep: (done, total, label, phase) => {
        if (bar) {
          if (!started) bar.start(total, done, { label });
          started = true;
          bar.update(done, { label });
        } else if (phase === 'start') ctx.log(`bench: [${done + 1}/${total}] ${label} (${((Date.now() - t0) / 1000).toFixed(0)} s so far)`);
      },
    });
    bar?.stop();
    // The command line, for docs/performance.md (which says how its figures were made).
    const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
    // Secrets (a --remote URL's token, a password setting) never reach results.json or docs/performance.md.
    results.command = `${process.env.QUICK === '1' ? 'QUICK=1 ' : ''}spark-ts ${redactArgs(process.argv.slice(2)).map(quote).join(' ')}`;
    const errors = validateResults(results);
    writeResults(dir, results);
    const charts = await writeBenchCharts(dir, results);
    const summary = summaryMarkdown(results, charts);
    fs.writeFileSync(path.join(dir, 'summary.md'), summary);
    const latest = path.join(base, 'latest');
    fs.rmSync(latest, { force: true });
    fs.symlinkSync(stamp, latest);
    process.stdout.write(summary);
    ctx.log(
      `bench: ${results.figures.length} figures in ${((Date.now() - t0) / 1000).toFixed(0)} s → ${path.relative(ctx.root, dir)} (latest → ${stamp})`,
    );
    if (errors.length) {
      ctx.log(`bench: results.json does not meet its schema:\n  ${errors.join('\n  ')}`);
      return 1;
    }
    return 0;
  },
});
