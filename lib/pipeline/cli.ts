import * as path from 'node:path';
import { ROOT } from '../runtime/paths';
import { runPipeline } from './run';

export interface RunCommandArgs {
  input?: string;
  quick: boolean;
  synthetic: boolean;
  /** Put every output under this directory instead of data/processed, models and reports/run. */
  workDir?: string;
  /** Run only these steps (by name, in the pipeline's order). */
  only?: string[];
}

/** `spark-ts run`: the whole pipeline; QUICK sizes keep it to a couple of minutes (used by the tests). */
export function runCommand(a: RunCommandArgs, out: (line: string) => void): Promise<number> {
  return runPipeline({
    input: a.input ? path.resolve(a.input) : undefined,
    syntheticRows: a.quick ? 500 : 2240,
    streamEvents: a.quick ? 2_000 : 20_000,
    streamRate: a.quick ? 2_000 : 5_000,
    watchSeconds: 30,
    cdcUpdates: a.quick ? 500 : 5_000,
    cacheRows: a.quick ? 5_000 : 20_000,
    cacheIterations: 2,
    reportDir: a.workDir ? path.resolve(a.workDir, 'reports', 'run') : path.join(ROOT, 'reports', 'run'),
    processedDir: a.workDir ? path.resolve(a.workDir, 'processed') : path.join(ROOT, 'data', 'processed'),
    stateDir: a.workDir ? path.resolve(a.workDir, 'models') : path.join(ROOT, 'models'),
    synthetic: a.synthetic,
    only: a.only,
    out,
  });
}
