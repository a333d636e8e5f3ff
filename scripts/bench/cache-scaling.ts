// cache-bench scaling (issue 17): several `cache-bench` reports of the same mix at different --rows, side by
// side: a table, the combined JSON, and two charts (mix time by size per mode; bytes held against storage memory).
//   node -r ts-node/register/transpile-only scripts/bench/cache-scaling.ts --reports a.json,b.json,c.json --output reports/cache-scaling.json
// The reports come from runs such as `spark-ts submit cache-bench --rows 1000000 --iterations 2 --output a.json`.
import * as path from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { siblingPath, writeJson, writeSvg } from '../../lib/report';
import { readJson } from '../../lib/util/json';
import type { CacheBenchReport } from '../../lib/cachebench/run';
import { renderScalingTable, scalingMemoryChartSpec, scalingRows, scalingTimeChartSpec } from '../../lib/cachebench/scaling';
import { errorMessage } from '../../lib/util/errors';

async function main(): Promise<number> {
  const args = await yargs(hideBin(process.argv))
    .option('reports', { type: 'string', demandOption: true, describe: 'comma-separated cache-bench JSON reports' })
    .option('output', { type: 'string', default: 'reports/cache-scaling.json', describe: 'combined JSON; the charts go beside it' })
    .strict()
    .parse();
  const reports = args.reports.split(',').map((f) => {
    const r = readJson<CacheBenchReport>(path.resolve(f.trim()));
    if (!r || r.benchmark !== 'cache-bench' || !r.workload?.ledger) throw new Error(`not a cache-bench report of this version: ${f}`);
    return r;
  });
  const rows = scalingRows(reports);
  const out = path.resolve(args.output);
  writeJson(out, { benchmark: 'cache-bench-scaling', created_at: new Date().toISOString(), reports: args.reports.split(','), rows });
  await writeSvg(siblingPath(out, 'svg'), scalingTimeChartSpec(rows));
  await writeSvg(siblingPath(out, 'memory.svg'), scalingMemoryChartSpec(rows));
  console.log(renderScalingTable(rows));
  console.log(`wrote ${out}, ${siblingPath(out, 'svg')}, ${siblingPath(out, 'memory.svg')}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`cache-bench scaling: ${errorMessage(e)}`);
    process.exit(1);
  },
);
