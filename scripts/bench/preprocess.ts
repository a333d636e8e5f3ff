// preprocess benchmark (issue 5): generate-data + preprocess at 1M and 10M rows; wall time, rows/s and
// the Spark server's peak RSS while each step runs.
//   node -r ts-node/register/transpile-only scripts/bench/preprocess.ts [--rows 1000000,10000000] [--seed 42] [--json-out FILE] [--keep DIR]
// Needs the Spark Connect server (SPARK_REMOTE or .run/spark.json); RSS is read from /proc/<pid>/status of
// the embedded server's pid (.run/spark.json), so it is reported only when that server runs on this machine.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import yargs from 'yargs';
import Table from 'cli-table3';
import { SparkSession } from '../../lib/connect';
import { sparkRemote } from '../../lib/runtime/spark-server';
import { errorMessage } from '../../lib/util/errors';
import { type PreprocessBenchResult, measurePreprocess } from '../../lib/preprocess/measure';
const mib = (b: number | null): string => (b === null ? 'n/a' : `${(b / 2 ** 20).toFixed(0)} MiB`);

async function main(): Promise<void> {
  const argv = await yargs(process.argv.slice(2))
    .option('rows', { type: 'string', default: '1000000,10000000', describe: 'comma-separated sizes' })
    .option('seed', { type: 'number', default: 42 })
    .option('json-out', { type: 'string', describe: 'write the results as JSON here' })
    .option('keep', { type: 'string', describe: 'keep the generated and processed files in this directory' })
    .strict()
    .parseAsync();
  const sizes = argv.rows.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`--rows: whole numbers > 0, got ${argv.rows}`);
  const dir = argv.keep ? path.resolve(argv.keep) : fs.mkdtempSync(path.join(os.tmpdir(), `preprocess-bench-${randomUUID()}-`));
  fs.mkdirSync(dir, { recursive: true });
  const spark = await SparkSession.builder().remote(sparkRemote()).appName('preprocess-bench').getOrCreate();
  const results: PreprocessBenchResult[] = [];
  try {
    for (const n of sizes) {
      console.error(`bench: ${n} rows ...`);
      const r = await measurePreprocess(spark, n, argv.seed, dir);
      results.push(r);
      console.error(`bench: ${n} rows: generate ${r.generate_s.toFixed(1)} s, preprocess ${r.preprocess_s.toFixed(1)} s`);
    }
  } finally {
    await spark.stop();
    if (!argv.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
  const table = new Table({
    head: ['rows', 'input', 'generate', 'gen rows/s', 'gen peak RSS', 'preprocess', 'prep rows/s', 'prep peak RSS', 'server VmHWM'],
  });
  for (const r of results) {
    table.push([
      r.rows.toLocaleString('en-US'),
      mib(r.input_bytes),
      `${r.generate_s.toFixed(1)} s`,
      Math.round(r.generate_rows_per_s).toLocaleString('en-US'),
      mib(r.generate_peak_rss_bytes),
      `${r.preprocess_s.toFixed(1)} s`,
      Math.round(r.preprocess_rows_per_s).toLocaleString('en-US'),
      mib(r.preprocess_peak_rss_bytes),
      mib(r.server_hwm_bytes),
    ]);
  }
  console.log(table.toString());
  for (const r of results)
    console.log(
      `  ${r.rows} rows, preprocess steps (s): ${Object.entries(r.step_seconds)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', ')}`,
    );
  console.log(
    `  machine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; the Spark server is shared, so other work can add to its RSS and time`,
  );
  if (argv['json-out'])
    fs.writeFileSync(argv['json-out'], JSON.stringify({ created_at: new Date().toISOString(), results }, null, 2) + '\n');
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`bench: ${errorMessage(err)}`);
    process.exit(1);
  });
}
