import * as path from 'node:path';
import { defineJob, UsageError } from '../lib/cli/job';
import { DEFAULT_DEFECT_RATES, validateRates, type DefectRates } from '../lib/preprocess/defects';
import { runGenerate } from '../lib/preprocess/generate';

interface GenerateArgs extends Record<string, unknown> {
  rows: number;
  seed: number;
  output: string;
  'missing-rate': number;
  'duplicate-rate': number;
  'duplicate-id-rate': number;
  'outlier-rate': number;
  'bad-type-rate': number;
  'malformed-rate': number;
  partitions?: number;
}

export const DEFAULT_SYNTHETIC_PATH = 'data/raw/synthetic_marketing_campaign.csv';

const rate = (kind: string, d: number) => ({ type: 'number' as const, default: d, describe: `fraction of rows with ${kind}` });

function ratesOf(a: GenerateArgs): DefectRates {
  return {
    missing: a['missing-rate'],
    duplicate: a['duplicate-rate'],
    duplicateId: a['duplicate-id-rate'],
    outlier: a['outlier-rate'],
    badType: a['bad-type-rate'],
    malformed: a['malformed-rate'],
  };
}

/** What generate-data runs with: its arguments and the defect rates read from them, once. */
export interface GenerateParams {
  args: GenerateArgs;
  rates: DefectRates;
}

export default defineJob<GenerateArgs, GenerateParams>({
  name: 'generate-data',
  description: 'write a synthetic marketing_campaign.csv (same schema and format, configurable defects) in Spark',
  options: {
    rows: { type: 'number', default: 2240, describe: 'data rows to write' },
    seed: { type: 'number', default: 42, describe: 'the same seed gives the same bytes' },
    output: { type: 'string', default: DEFAULT_SYNTHETIC_PATH, describe: 'file to write (replaced)' },
    'missing-rate': rate('one empty field (mostly Income)', DEFAULT_DEFECT_RATES.missing),
    'duplicate-rate': rate('a copy of another row under a new ID', DEFAULT_DEFECT_RATES.duplicate),
    'duplicate-id-rate': rate("another row's ID and different content", DEFAULT_DEFECT_RATES.duplicateId),
    'outlier-rate': rate('Year_Birth 1893-1900 or Income 666666', DEFAULT_DEFECT_RATES.outlier),
    'bad-type-rate': rate('a number or date that does not parse', DEFAULT_DEFECT_RATES.badType),
    'malformed-rate': rate('one field too few or too many', DEFAULT_DEFECT_RATES.malformed),
    partitions: { type: 'number', describe: 'Spark partitions (the output does not depend on it)' },
  },
  parse(a) {
    if (!Number.isInteger(a.rows) || a.rows < 0) return new UsageError(`--rows must be a whole number >= 0, got ${a.rows}`);
    if (!Number.isInteger(a.seed)) return new UsageError(`--seed must be a whole number, got ${a.seed}`);
    if (a.partitions !== undefined && (!Number.isInteger(a.partitions) || a.partitions < 1))
      return new UsageError(`--partitions must be a whole number >= 1`);
    const rates = ratesOf(a);
    const problem = validateRates(rates);
    return problem ? new UsageError(problem) : { args: a, rates };
  },
  async run(spark, { args: a, rates }, ctx) {
    const output = path.resolve(a.output === DEFAULT_SYNTHETIC_PATH ? ctx.root : process.cwd(), a.output);
    const t0 = Date.now();
    const r = await runGenerate(spark, { rows: a.rows, seed: a.seed, output, rates, partitions: a.partitions });
    const s = (Date.now() - t0) / 1000;
    ctx.log(
      `generate-data: ${a.rows} rows (seed ${a.seed}; ${r.layout.duplicates} duplicates, ${r.layout.duplicateIds} duplicate IDs) ` +
        `-> ${output} (${r.bytes} bytes) in ${s.toFixed(1)} s`,
    );
  },
});
