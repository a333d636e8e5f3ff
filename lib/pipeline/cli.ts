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
    // 100 sensors at 10 readings/s each: 20 s of event time, so with the 10 s watermark the first window of
    // every sensor closes within the run (at 5,000/s the 4 s of data closed only windows of late readings).
    streamRate: a.quick ? 2_000 : 1_000,
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
