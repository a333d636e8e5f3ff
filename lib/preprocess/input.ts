import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../runtime/paths';

/** The Kaggle file's name, wherever it is. */
export const KAGGLE_FILE = 'marketing_campaign.csv';

/**
 * Where the Kaggle "Customer Personality Analysis" file is looked for, in order: `SPARK_TS_KAGGLE_CSV` when set
 * (then only there), `data/raw/`, and `../shared/data/` beside the project (the workplace's copy). The file is
 * not redistributable, so it is never in the repository.
 */
export function kaggleCsvCandidates(env: NodeJS.ProcessEnv = process.env, root: string = ROOT): string[] {
  if (env.SPARK_TS_KAGGLE_CSV) return [path.resolve(env.SPARK_TS_KAGGLE_CSV)];
  return [path.join(root, 'data', 'raw', KAGGLE_FILE), path.resolve(root, '..', 'shared', 'data', KAGGLE_FILE)];
}

/** The first candidate that exists, or undefined. */
export function findKaggleCsv(env: NodeJS.ProcessEnv = process.env, root: string = ROOT): string | undefined {
  return kaggleCsvCandidates(env, root).find((f) => fs.existsSync(f));
}

/** The candidates for a message: "SPARK_TS_KAGGLE_CSV (x)" or "data/raw/… or ../shared/data/…". */
export function describeKaggleCsvCandidates(env: NodeJS.ProcessEnv = process.env, root: string = ROOT): string {
  const c = kaggleCsvCandidates(env, root);
  return env.SPARK_TS_KAGGLE_CSV ? `SPARK_TS_KAGGLE_CSV (${c[0]})` : c.map((f) => path.relative(root, f)).join(' or ');
}
