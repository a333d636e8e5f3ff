// `spark-ts submit`: the arguments (./args.ts, pure) and the job's life (./lifecycle.ts).
import { UsageError, parseJobParams, type JobDefinition } from '../job';
import { resolveSettings } from '../settings';
import { describeFailure, exitCodeFor, processIo, type Io } from '../output';
import { errorMessage } from '../../util/errors';
import { knownJobsText, parseJobArgs, parseRunnerOptions, resolveJob, splitSubmitArgs } from './args';
import { runJob } from './lifecycle';

export * from './args';

/** `spark-ts submit ...`: resolves the exit code (0 ok, 1 job failed, 2 usage, 130 interrupted). */
export async function submit(argv: string[], io: Io = processIo): Promise<number> {
  let verbose = argv.includes('--verbose');
  try {
    const split = splitSubmitArgs(argv);
    const runner = await parseRunnerOptions(split.runner, io);
    if (runner === 'help') return 0;
    verbose = runner.verbose;
    if (!split.job) throw new UsageError(`submit needs a job; ${knownJobsText()}`);
    const job = resolveJob(split.job);
    const args = await parseJobArgs(job, split.jobArgs, io);
    if (args === 'help') return 0;
    const params = jobParams(job, args);
    const settings = resolveSettings({
      conf: runner.conf,
      propertiesFile: runner.propertiesFile,
      master: runner.master,
      driverMemory: runner.driverMemory,
      name: runner.name,
    });
    return await runJob(job, args, params, runner, settings, io);
  } catch (err) {
    io.err(`spark-ts: ${describeFailure(err, verbose)}`);
    return exitCodeFor(err);
  }
}

/** The job's parameters, parsed once (`parse`), or its arguments after `validate`: a usage error names the job. */
function jobParams(job: JobDefinition, args: Record<string, unknown>): unknown {
  try {
    if (job.parse) return parseJobParams(job, args);
  } catch (e) {
    throw new UsageError(`${job.name}: ${errorMessage(e)}`);
  }
  const problem = job.validate?.(args);
  if (problem) throw new UsageError(`${job.name}: ${problem}`);
  return args;
}
