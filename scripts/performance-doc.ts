// Rewrites docs/performance.md from the newest `make bench` run (make bench runs it after the suite;
// make performance-doc alone):
//   node -r ts-node/register/transpile-only scripts/performance-doc.ts [--reports reports/bench] [--output docs/performance.md]
import * as path from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { writePerformanceDoc } from '../lib/bench/performance';
import { ROOT } from '../lib/runtime/paths';
import { errorMessage } from '../lib/util/errors';

async function main(): Promise<number> {
  const args = await yargs(hideBin(process.argv))
    .option('reports', { type: 'string', default: 'reports/bench', describe: 'where make bench writes its runs' })
    .option('output', { type: 'string', default: 'docs/performance.md', describe: 'the page to rewrite' })
    .strict()
    .parseAsync();
  const output = path.resolve(ROOT, args.output);
  const dir = writePerformanceDoc(path.resolve(ROOT, args.reports), output, ROOT);
  if (!dir) {
    console.error(`performance-doc: no run with a results.json under ${args.reports} (run make bench); ${args.output} left as it is`);
    return 1;
  }
  console.error(`performance-doc: ${path.relative(ROOT, output)} from ${path.relative(ROOT, dir)}/results.json`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`performance-doc: ${errorMessage(e)}`);
    process.exit(1);
  },
);
