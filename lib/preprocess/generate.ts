import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { SparkSession } from '../connect';
import { INPUT_COLUMN_NAMES } from './schema';
import { generatorPlan, type DefectRates, type RowLayout } from './defects';
import { concatParts } from './files';

export interface GenerateParams {
  rows: number;
  seed: number;
  /** Absolute path of the file to write (replaced). */
  output: string;
  rates: DefectRates;
  /** Spark partitions to generate with; the bytes do not depend on it. Default: one per 500k rows. */
  partitions?: number;
}

export interface GenerateResult {
  layout: RowLayout;
  bytes: number;
  partitions: number;
}

/** The Kaggle file's line ending. */
export const LINE_END = '\r\n';

/**
 * Writes a synthetic marketing_campaign.csv: tab-separated, CRLF, the 29 columns, defects as configured.
 * Spark draws the rows (range + hashed draws, see defects.ts) and writes them as text parts in position
 * order; Node puts the header first and joins the parts into one file.
 */
export async function runGenerate(spark: SparkSession, p: GenerateParams): Promise<GenerateResult> {
  const plan = generatorPlan(p.rows, p.seed, p.rates, INPUT_COLUMN_NAMES);
  const partitions = Math.max(1, Math.min(64, p.partitions ?? Math.ceil(p.rows / 500_000)));
  fs.mkdirSync(path.dirname(p.output), { recursive: true });
  const tmp = path.join(path.dirname(p.output), `.${path.basename(p.output)}.parts-${randomUUID()}`);
  try {
    let df = spark.range(0, p.rows, 1, partitions);
    for (const stage of plan.stages) df = df.selectExpr(...stage);
    await df.write.mode('overwrite').format('text').option('lineSep', LINE_END).save(tmp);
    await concatParts(tmp, '.txt', p.output, INPUT_COLUMN_NAMES.join('\t') + LINE_END);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return { layout: plan.layout, bytes: fs.statSync(p.output).size, partitions };
}
