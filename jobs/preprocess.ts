import * as path from 'node:path';
import { defineJob } from '../lib/cli/job';
import { parseDelimiterOption } from '../lib/preprocess/header';
import { findKaggleCsv } from '../lib/preprocess/input';
import { runPreprocess } from '../lib/preprocess/pipeline';
import { formatSummary } from '../lib/preprocess/report';

interface PreprocessArgs extends Record<string, unknown> {
  input: string;
  output: string;
  delimiter?: string;
}

export const DEFAULT_INPUT = 'data/raw/marketing_campaign.csv';
export const DEFAULT_OUTPUT = 'data/processed';

export default defineJob<PreprocessArgs, { args: PreprocessArgs; delimiter?: ReturnType<typeof parseDelimiterOption> }>({
  name: 'preprocess',
  description: 'clean, quarantine, de-duplicate, impute, engineer and scale the customer file in Spark',
  options: {
    input: {
      type: 'string',
      default: DEFAULT_INPUT,
      describe: 'the marketing_campaign.csv file (by default: $SPARK_TS_KAGGLE_CSV, else data/raw/, else ../shared/data/)',
    },
    output: {
      type: 'string',
      default: DEFAULT_OUTPUT,
      describe: 'output directory (customers/, customers.csv, quarantine/, scaler.json, quality-report.json)',
    },
    delimiter: {
      type: 'string',
      describe: 'field delimiter (a character, or tab/comma/semicolon/pipe); detected from the header when absent',
    },
  },
  parse(a) {
    return { args: a, delimiter: a.delimiter === undefined ? undefined : parseDelimiterOption(a.delimiter) };
  },
  async run(spark, { args: a, delimiter }, ctx) {
    // Defaults are project paths; paths given on the command line are relative to where it was typed.
    const input = a.input === DEFAULT_INPUT ? (findKaggleCsv() ?? path.resolve(ctx.root, a.input)) : path.resolve(process.cwd(), a.input);
    const output = path.resolve(a.output === DEFAULT_OUTPUT ? ctx.root : process.cwd(), a.output);
    const t0 = Date.now();
    const { report, timings } = await runPreprocess(spark, { input, output, delimiter, log: ctx.log });
    console.log(formatSummary(report, output));
    const s = (Date.now() - t0) / 1000;
    ctx.log(
      `preprocess: done in ${s.toFixed(1)} s` +
        (ctx.verbose
          ? ` (${Object.entries(timings)
              .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
              .join(', ')})`
          : ''),
    );
  },
});
