// Spark Connect client benchmark (issue 3): round-trip latency and collect throughput.
//   node -r ts-node/register/transpile-only scripts/bench/connect-collect.ts [--remote sc://…] [--runs 200] [--sizes 1000000,5000000] [--json-out FILE]
// Needs a Spark Connect server: --remote, else SPARK_REMOTE. For the embedded one (`./bin/spark-ts up spark`):
//   SPARK_REMOTE="$(node -r ts-node/register/transpile-only -e "console.log(require('./lib/runtime/spark-server').sparkRemote())")"
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import { performance } from 'node:perf_hooks';
import yargs from 'yargs';
import Table from 'cli-table3';
import { SparkSession } from '../../lib/connect/index';
import { rowsFromTable, tableFromBatches } from '../../lib/connect/arrow';
import { type ThroughputResult, roundTrips, mixed, throughput } from '../../lib/bench/connect';
import { spread } from '../../lib/measure/stats';
async function main(): Promise<void> {
  const argv = await yargs(process.argv.slice(2))
    .option('remote', { type: 'string', describe: 'sc:// URL of the server (default: SPARK_REMOTE)' })
    .option('runs', { type: 'number', default: 200, describe: 'round trips per latency measure' })
    .option('rounds', { type: 'number', default: 1, describe: 'measure every path this many times (ratios per round)' })
    .option('sizes', { type: 'string', default: '1000000,5000000', describe: 'row counts for the throughput measure' })
    .option('json-out', { type: 'string', describe: 'write the results as JSON to this file' })
    .strict()
    .parse();
  const sizes = argv.sizes.split(',').map((s) => Number(s.trim()));
  if (sizes.some((s) => !Number.isInteger(s) || s <= 0)) throw new Error(`--sizes must be positive integers, got ${argv.sizes}`);

  const builder = SparkSession.builder().appName('spark-ts-bench-collect');
  const spark = await (argv.remote ? builder.remote(argv.remote) : builder).create();
  try {
    const version = await spark.version();
    const lat = await roundTrips(spark, argv.runs);

    const thr: ThroughputResult[] = [];
    for (let round = 0; round < argv.rounds; round++) for (const n of sizes) thr.push(...(await throughput(spark, n, { baseline: true })));

    // Decoding alone, from bytes already in memory (separates client CPU from server time).
    const decodeN = sizes[0]!;
    const batches: Uint8Array[] = [];
    for await (const b of spark.executeArrow(mixed(spark, decodeN).plan)) batches.push(b);
    let t0 = performance.now();
    const table = tableFromBatches(batches);
    const ipcSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const rows = rowsFromTable(table);
    const rowSeconds = (performance.now() - t0) / 1000;
    if (rows.length !== decodeN) throw new Error('decode row count mismatch');

    const latTable = new Table({ head: ['round trip', 'runs', 'median ms', 'p95 ms', 'min ms', 'max ms'] });
    for (const l of lat) latTable.push([l.name, l.runs, l.median_ms, l.p95_ms, l.min_ms, l.max_ms]);
    const thrTable = new Table({
      head: ['rows × 10 cols', 'path', 'seconds', 'rows/s', 'MB/s (Arrow)', 'Arrow MB', 'client CPU s', 'GC pause s'],
    });
    for (const t of thr)
      thrTable.push([
        t.rows.toLocaleString('en-US'),
        t.path,
        t.seconds,
        t.rows_per_s.toLocaleString('en-US'),
        t.mb_per_s,
        Math.round(t.arrow_bytes / 1e5) / 10,
        t.client_cpu_s,
        t.gc_pause_s,
      ]);
    console.log(
      `Spark ${version} · node ${process.versions.node} ${process.execArgv.filter((a) => a.startsWith('--max')).join(' ')} · ${new Date().toISOString()}`,
    );
    console.log(latTable.toString());
    console.log(thrTable.toString());
    const perRound = thr.length / argv.rounds / sizes.length;
    const ratiosBySize = new Map<number, number[]>(sizes.map((n) => [n, []]));
    for (let i = 0; i < thr.length; i += perRound) {
      const set = thr.slice(i, i + perRound);
      const rate = (p: ThroughputResult['path']) => set.find((t) => t.path === p)?.rows_per_s ?? NaN;
      const base = rate('toArrow()');
      ratiosBySize.get(set[0]!.rows)!.push(rate('collect()') / base);
      const get = (p: ThroughputResult['path'], k: 'client_cpu_s' | 'gc_pause_s') => set.find((t) => t.path === p)?.[k] ?? NaN;
      console.log(
        `${set[0]!.rows.toLocaleString('en-US')} rows, round ${Math.floor(i / perRound / sizes.length) + 1}, rate relative to toArrow(): collect() ${(rate('collect()') / base).toFixed(2)}×, baseline (old collect) ${(rate('baseline: whole stream, then rows') / base).toFixed(2)}×, lazy rows ${(rate("collect({ rows: 'lazy' })") / base).toFixed(2)}×, toColumns() ${(rate('toColumns()') / base).toFixed(2)}×; collect() used ${(get('collect()', 'client_cpu_s') - get('toArrow()', 'client_cpu_s')).toFixed(2)} s more client CPU than toArrow() (GC pauses ${get('collect()', 'gc_pause_s').toFixed(2)} s vs ${get('toArrow()', 'gc_pause_s').toFixed(2)} s)`,
      );
    }
    // One round is noisy on a machine the server shares (either path can lose a core to the server for a
    // while), so with several rounds the median ratio per size is the figure to quote.
    const collectRatios = sizes.map((n) => {
      const { min, median, max, n: rounds } = spread(ratiosBySize.get(n)!);
      return { rows: n, rounds, median, min, max };
    });
    if (argv.rounds > 1)
      for (const r of collectRatios)
        console.log(
          `${r.rows.toLocaleString('en-US')} rows, ${r.rounds} rounds: collect() / toArrow() rate median ${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)}×)`,
        );
    console.log(
      `client-side decode of ${decodeN.toLocaleString('en-US')} rows: IPC -> Table ${ipcSeconds.toFixed(3)} s, Table -> rows ${rowSeconds.toFixed(3)} s (${Math.round(decodeN / rowSeconds).toLocaleString('en-US')} rows/s)`,
    );

    if (argv['json-out']) {
      const file = path.resolve(argv['json-out']);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(
        file,
        JSON.stringify(
          {
            benchmark: 'connect-collect',
            spark_version: version,
            node: process.versions.node,
            node_flags: process.execArgv.filter((a) => a.startsWith('--max')),
            measured_at: new Date().toISOString(),
            latency: lat.map(({ samples_ms: _samples, ...rest }) => rest),
            throughput: thr,
            collect_to_arrow_ratio: collectRatios,
            decode_only: {
              rows: decodeN,
              ipc_to_table_s: ipcSeconds,
              table_to_rows_s: rowSeconds,
              rows_per_s: Math.round(decodeN / rowSeconds),
            },
          },
          null,
          2,
        ) + '\n',
      );
      console.log(`wrote ${file}`);
    }
  } finally {
    await spark.stop();
  }
}

// Collecting 5M rows as JS objects needs several GB of heap, and a larger young generation halves the GC
// cost of the millions of values that all survive: re-run with these flags (printed with the results).
const HEAP_MB = 12_288;
const NODE_FLAGS = [`--max-old-space-size=${HEAP_MB}`, '--max-semi-space-size=64'];

if (require.main === module) {
  if (v8.getHeapStatistics().heap_size_limit < (HEAP_MB / 2) * 1024 * 1024 && !process.env.SPARK_TS_BENCH_CHILD) {
    const res = spawnSync(
      process.execPath,
      [...NODE_FLAGS, '-r', 'ts-node/register/transpile-only', __filename, ...process.argv.slice(2)],
      {
        stdio: 'inherit',
        env: { ...process.env, SPARK_TS_BENCH_CHILD: '1' },
      },
    );
    process.exit(res.status ?? 1);
  }
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
