// The life of one submitted job: acquire the servers it needs, run it with a context, and on every way out
// (return, failure, Ctrl-C, a hang) stop its queries, run its shutdown handlers and release the servers.
import * as path from 'node:path';
import { SparkSession } from '../../connect';
import { ROOT } from '../../runtime/paths';
import { resolveBootstrapServers } from '../../kafka/config';
import { acquireKafka, acquireSpark, type KafkaTarget, type SparkTarget } from '../acquire';
import type { JobContext, JobDefinition } from '../job';
import { ProgressReporter } from '../progress';
import type { ResolvedSettings } from '../settings';
import { describeFailure, exitCodeFor, type Io } from '../output';
import { ShutdownHandlers, TIMED_OUT, signalExitCode, trapSignals, withTimeout } from '../shutdown';
import { errorMessage } from '../../util/errors';
import { SECRET_KEY } from '../../util/secrets';
import type { SubmitOptions } from './args';

function printSettings(settings: ResolvedSettings, log: (line: string) => void): void {
  const show = (o: Record<string, string>) =>
    Object.entries(o)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `    ${k}=${SECRET_KEY.test(k) ? '(hidden)' : v}`);
  log(
    [
      'static settings (apply when a server starts):',
      ...show(settings.static),
      "session settings (set on the job's session):",
      ...show(settings.session),
    ].join('\n'),
  );
}

/** A stand-in Spark session for jobs that declare they do not need Spark: any use says so. */
function noSpark(jobName: string): SparkSession {
  return new Proxy(
    {},
    {
      get(_t, prop) {
        if (prop === 'then' || typeof prop === 'symbol') return undefined;
        throw new Error(`job ${jobName} has no Spark session: its needs do not include 'spark' (add it to use spark.${String(prop)})`);
      },
    },
  ) as SparkSession;
}

type Outcome = { kind: 'returned'; code: number } | { kind: 'failed'; error: unknown } | { kind: 'hung' };
type Trap = ReturnType<typeof trapSignals>;

/** One submitted job on its way: what it was given, and what it acquired (released on every way out). */
interface JobRun {
  job: JobDefinition<Record<string, unknown>, unknown>;
  args: Record<string, unknown>;
  params: unknown;
  runner: SubmitOptions;
  settings: ResolvedSettings;
  io: Io;
  controller: AbortController;
  handlers: ShutdownHandlers;
  progress: ProgressReporter;
  log(line: string): void;
  say(line: string): void;
  spark?: SparkSession;
  sparkTarget?: SparkTarget;
  kafkaTarget?: KafkaTarget;
  /** The interruption of Spark's work after Ctrl-C, once started. */
  interruptWork?: Promise<void>;
  /** How the job ended, once it runs. */
  settled?: Promise<Outcome>;
}

/**
 * Runs a job whose arguments are parsed (`args`, as yargs gave them; `params`, what its `parse` made of them):
 * resolves the exit code (0 ok, 1 failed, 2 usage, 130/143 interrupted). The steps: trap the signals, acquire
 * the servers, run the job until it returns (or is interrupted), clean up, and say how it ended.
 */
export async function runJob(
  job: JobDefinition<Record<string, unknown>, unknown>,
  args: Record<string, unknown>,
  params: unknown,
  runner: SubmitOptions,
  settings: ResolvedSettings,
  io: Io,
): Promise<number> {
  const progress = new ProgressReporter({ stream: process.stderr, interactive: Boolean(process.stderr.isTTY) });
  const log = (line: string) => progress.log(line);
  const run: JobRun = {
    job,
    args,
    params,
    runner,
    settings,
    io,
    controller: new AbortController(),
    handlers: new ShutdownHandlers(),
    progress,
    log,
    say: (line: string) => log(`spark-ts: ${line}`),
  };
  let wake: () => void = () => undefined;
  const interrupted = new Promise<void>((resolve) => (wake = resolve));
  const trap = trapInterrupts(run, wake);

  if (runner.verbose) printSettings(settings, run.say);
  let outcome: Outcome;
  try {
    await acquireServers(run);
    outcome = run.controller.signal.aborted ? { kind: 'returned', code: 0 } : await runToOutcome(run, interrupted);
  } catch (error) {
    outcome = { kind: 'failed', error };
  }
  await cleanUp(run, trap);
  trap.dispose();
  return exitCodeOf(run, outcome, trap.signal);
}

/** Ctrl-C (or SIGTERM) once: abort the job's signal and interrupt Spark's work; twice: exit at once. */
function trapInterrupts(run: JobRun, wake: () => void): Trap {
  return trapSignals(
    (sig) => {
      run.say(`${sig === 'SIGINT' ? 'Ctrl-C' : sig}: interrupting job ${run.job.name} (press Ctrl-C again to exit at once)`);
      run.controller.abort(new Error(`interrupted by ${sig}`));
      run.interruptWork = interruptAfterGrace(run);
      wake();
    },
    (sig) => {
      run.io.err('spark-ts: exiting at once; a server started for this job may still run (`spark-ts status`, `spark-ts down`)');
      process.exit(signalExitCode(sig));
    },
  );
}

/** Starts or connects what the job needs (its `needs`): Spark and its session, Kafka. Stops early once interrupted. */
async function acquireServers(run: JobRun): Promise<void> {
  const { job, runner, settings, controller, say } = run;
  const needs = job.needs ?? ['spark'];
  if (needs.includes('spark')) {
    run.sparkTarget = await acquireSpark({
      remote: runner.remote ?? process.env.SPARK_REMOTE,
      settings,
      log: say,
      purpose: `for job ${job.name}`,
    });
    if (runner.verbose) say(`spark: ${run.sparkTarget.started ? 'started' : 'using'} ${run.sparkTarget.endpoint}`);
    if (!controller.signal.aborted) {
      run.spark = await SparkSession.builder()
        .remote(run.sparkTarget.url)
        .appName(runner.name ?? job.name)
        .config(settings.session)
        .getOrCreate();
      if (runner.progress) run.spark.on('progress', run.progress.onProgress);
    }
  } else if (runner.verbose && (runner.remote || Object.keys(settings.explicitStatic).length)) {
    say(`job ${job.name} does not need Spark: --remote and Spark settings are not used`);
  }
  if (needs.includes('kafka') && !controller.signal.aborted) {
    const jobBootstrap = typeof run.args['bootstrap-servers'] === 'string' ? run.args['bootstrap-servers'] : undefined;
    run.kafkaTarget = await acquireKafka(runner.bootstrapServers ?? jobBootstrap, say);
    if (runner.verbose) say(`kafka: ${run.kafkaTarget.started ? 'started' : 'using'} ${run.kafkaTarget.bootstrapServers}`);
  }
}

/** What the job gets besides its session and parameters. */
function contextOf(run: JobRun): JobContext {
  return {
    signal: run.controller.signal,
    verbose: run.runner.verbose,
    root: ROOT,
    resolvePath: (p) => path.resolve(ROOT, p),
    bootstrapServers: run.kafkaTarget?.bootstrapServers ?? resolveBootstrapServers(run.runner.bootstrapServers),
    interactive: Boolean(process.stdout.isTTY),
    log: run.log,
    onShutdown: (fn) => run.handlers.add(fn),
  };
}

/** How long a job has to return once Spark's work is interrupted after Ctrl-C; then it counts as hung. */
const RETURN_AFTER_INTERRUPT_MS = 15_000;

/** Runs the job until it returns or fails; once interrupted, gives it 15 s to return (else it hung). */
async function runToOutcome(run: JobRun, interrupted: Promise<void>): Promise<Outcome> {
  const ctx = contextOf(run);
  const settled: Promise<Outcome> = Promise.resolve()
    .then(() => run.job.run(run.spark ?? noSpark(run.job.name), run.params, ctx))
    .then(
      (r): Outcome => ({ kind: 'returned', code: typeof r === 'number' ? r : 0 }),
      (error): Outcome => ({ kind: 'failed', error }),
    );
  run.settled = settled;
  const first = await Promise.race([settled, interrupted.then(() => undefined)]);
  if (first) return first;
  // Interrupted: the job had its grace period, Spark operations are being interrupted and queries stopped;
  // give the job time to return.
  await run.interruptWork;
  const late = await withTimeout(settled, RETURN_AFTER_INTERRUPT_MS);
  return late === TIMED_OUT ? { kind: 'hung' } : late;
}

/** Every way out: Spark's work interrupted (after a signal), the job's shutdown handlers, the session stopped, the servers released. */
async function cleanUp(run: JobRun, trap: Trap): Promise<void> {
  const { spark, say } = run;
  if (trap.signal && !run.interruptWork) run.interruptWork = interruptSpark(spark, say);
  await run.interruptWork;
  await run.handlers.run(say);
  if (spark) {
    spark.off('progress', run.progress.onProgress);
    await withTimeout(
      spark.stop().catch(() => undefined),
      5000,
    );
  }
  run.progress.stop();
  for (const target of [run.sparkTarget, run.kafkaTarget]) {
    try {
      await target?.release();
    } catch (err) {
      say(`could not stop a server this job started: ${errorMessage(err)}`);
    }
  }
}

/** How the job ended, said and as an exit code (0 ok, 1 failed or hung, 2 usage, 130/143 interrupted). */
function exitCodeOf(run: JobRun, outcome: Outcome, signal: NodeJS.Signals | undefined): number {
  const { job, runner, say } = run;
  if (signal) {
    const waited = ((job.interruptGraceMs ?? 0) + RETURN_AFTER_INTERRUPT_MS) / 1000;
    say(`job ${job.name} interrupted${outcome.kind === 'hung' ? ` (it did not return within ${waited} s of the interrupt)` : ''}`);
    if (runner.verbose && outcome.kind === 'failed') say(describeFailure(outcome.error, true));
    return signalExitCode(signal);
  }
  if (outcome.kind === 'failed') {
    run.io.err(`spark-ts: job ${job.name} failed: ${describeFailure(outcome.error, runner.verbose)}`);
    return exitCodeFor(outcome.error) === 2 ? 2 : 1;
  }
  return outcome.kind === 'returned' ? outcome.code : 1;
}

/**
 * Ctrl-C with the job running: a job that stops its own queries (`interruptGraceMs`) gets that long to return
 * first; then, or at once for any other job, what is left on the server is stopped and interrupted.
 */
async function interruptAfterGrace(run: JobRun): Promise<void> {
  const grace = run.job.interruptGraceMs ?? 0;
  if (grace > 0 && run.settled) {
    const ended = await withTimeout(run.settled, grace);
    if (ended === TIMED_OUT)
      run.say(`job ${run.job.name} did not return within ${grace / 1000} s of the interrupt; stopping what it left running`);
  }
  await interruptSpark(run.spark, run.say);
}

/**
 * Ctrl-C: stop the session's streaming queries, then interrupt what still runs on the server. Queries go
 * first: interrupting the session also cancels their micro-batch jobs, which would fail them rather than
 * stop them cleanly.
 */
async function interruptSpark(spark: SparkSession | undefined, say: (line: string) => void): Promise<void> {
  if (!spark || spark.stopped) return;
  try {
    const queries = await withTimeout(spark.streams.active(), 10_000);
    if (queries === TIMED_OUT) say('spark: listing the streaming queries did not answer within 10 s');
    else {
      await Promise.all(
        queries.map(async (q) => {
          const r = await withTimeout(q.stop(), 20_000).catch((err: Error) => err);
          const label = q.name ? `"${q.name}" (${q.id})` : q.id;
          if (r === TIMED_OUT) say(`spark: streaming query ${label} did not stop within 20 s`);
          else if (r instanceof Error) say(`spark: could not stop streaming query ${label}: ${r.message}`);
          else say(`spark: stopped streaming query ${label}`);
        }),
      );
    }
  } catch (err) {
    say(`spark: could not list the streaming queries: ${errorMessage(err)}`);
  }
  try {
    const ops = await withTimeout(spark.interruptAll(), 10_000);
    if (ops === TIMED_OUT) say('spark: interrupting the running operations did not answer within 10 s');
    else if (ops.length) say(`spark: interrupted ${ops.length} running operation${ops.length > 1 ? 's' : ''}`);
  } catch (err) {
    say(`spark: could not interrupt the running operations: ${errorMessage(err)}`);
  }
}
