import yargs, { type Options } from 'yargs';
import { SparkSession } from '../connect';
import { ROOT } from '../runtime/paths';
import { resolveBootstrapServers } from '../kafka/config';
import { findJob, loadRegisteredJob, registeredJobs } from './registry';
import { acquireKafka, acquireSpark, type KafkaTarget, type SparkTarget } from './acquire';
import { UsageError, type JobContext, type JobDefinition } from './job';
import { loadJobFile, looksLikePath } from './load-job';
import { ProgressReporter } from './progress';
import { resolveSettings, DEFAULT_PROPERTIES_FILE, type ResolvedSettings } from './settings';
import { describeFailure, exitCodeFor, processIo, type Io } from './output';
import { ShutdownHandlers, TIMED_OUT, signalExitCode, trapSignals, withTimeout } from './shutdown';
import { errorMessage } from '../util/errors';

/** The runner's own options. They go before the job name, as with spark-submit. */
export const SUBMIT_OPTIONS = {
  master: { type: 'string', describe: 'Spark master of the server this command starts: local[*] (default), local[N], spark://host:7077' },
  remote: { type: 'string', describe: 'use this Spark Connect server and start none: sc://host:15002/;token=... (default: SPARK_REMOTE, else the embedded server)' },
  conf: { type: 'string', array: true, describe: 'a Spark setting key=value (repeatable): static ones apply when a server starts, the others on the session' },
  'properties-file': { type: 'string', describe: `Spark properties layered over ${relative(DEFAULT_PROPERTIES_FILE)}` },
  'driver-memory': { type: 'string', describe: 'memory of the server JVM this command starts, e.g. 4g' },
  name: { type: 'string', describe: 'application name (default: the job name)' },
  verbose: { type: 'boolean', default: false, describe: 'print the settings and server decisions, and JS stacks on failure' },
  'bootstrap-servers': { type: 'string', describe: 'Kafka bootstrap servers to use instead of the embedded broker' },
  progress: { type: 'boolean', default: true, describe: 'show Spark execution progress (a bar on a TTY, periodic lines otherwise); --no-progress hides it' },
} satisfies Record<string, Options>;

export interface SubmitOptions {
  master?: string;
  remote?: string;
  conf: string[];
  propertiesFile?: string;
  driverMemory?: string;
  name?: string;
  verbose: boolean;
  bootstrapServers?: string;
  progress: boolean;
}

const USAGE =
  '$0 [options] <job> [-- job args]\n\n' +
  'Runs a job: a registered name (see `spark-ts jobs`) or a file such as jobs/preprocess.ts.\n' +
  '`spark-ts submit <job> --help` shows the job\'s own options.';

/** `submit [runner options] <job> [--] [job args]`: where the runner's options end and the job's begin. */
export function splitSubmitArgs(argv: string[]): { runner: string[]; job?: string; jobArgs: string[] } {
  const takesValue = new Set(Object.entries(SUBMIT_OPTIONS).filter(([, o]) => o.type !== 'boolean').map(([k]) => `--${k}`));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return { runner: argv.slice(0, i), job: argv[i + 1], jobArgs: stripDashDash(argv.slice(i + 2)) };
    if (a.startsWith('-')) {
      if (!a.includes('=') && takesValue.has(a)) i++;
      continue;
    }
    return { runner: argv.slice(0, i), job: a, jobArgs: stripDashDash(argv.slice(i + 1)) };
  }
  return { runner: argv, jobArgs: [] };
}

function stripDashDash(args: string[]): string[] {
  return args[0] === '--' ? args.slice(1) : args;
}

function relative(p: string): string {
  return p.startsWith(ROOT + '/') ? p.slice(ROOT.length + 1) : p;
}

function failAsUsage(msg: string | null, err: Error | undefined): never {
  throw err ?? new UsageError(msg ?? 'bad arguments');
}

/** Parses the runner's options (strict: an unknown option is a usage error); 'help' when --help was asked. */
export async function parseRunnerOptions(runner: string[], io: Io): Promise<SubmitOptions | 'help'> {
  const parser = yargs(runner)
    .scriptName('spark-ts submit')
    .usage(USAGE)
    .options(SUBMIT_OPTIONS)
    .strict()
    .version(false)
    .help(false)
    .option('help', { type: 'boolean', alias: 'h', describe: 'show this help' })
    .exitProcess(false)
    .fail(failAsUsage);
  const parsed = await parser.parseAsync();
  if (parsed.help) {
    io.out(await parser.getHelp());
    return 'help';
  }
  if (parsed._.length) throw new UsageError(`unexpected argument "${String(parsed._[0])}"`);
  return {
    master: parsed.master,
    remote: parsed.remote,
    conf: (parsed.conf ?? []).map(String),
    propertiesFile: parsed['properties-file'],
    driverMemory: parsed['driver-memory'],
    name: parsed.name,
    verbose: parsed.verbose,
    bootstrapServers: parsed['bootstrap-servers'],
    progress: parsed.progress,
  };
}

/** The known jobs, for error messages. */
export function knownJobsText(): string {
  const names = registeredJobs().map((j) => j.name);
  return names.length ? `known jobs: ${names.join(', ')}` : 'no jobs are registered (jobs/*.ts)';
}

/** A job by registered name or file path. An unknown name is a usage error that lists the known jobs. */
export function resolveJob(ref: string): JobDefinition {
  const registered = findJob(ref);
  if (registered) return loadRegisteredJob(registered);
  if (looksLikePath(ref)) return loadJobFile(ref);
  throw new UsageError(`unknown job "${ref}"; ${knownJobsText()} (or give a job file path)`);
}

/** Parses the job's arguments with the job's own yargs options; 'help' when --help was asked. */
export async function parseJobArgs(job: JobDefinition, args: string[], io: Io): Promise<Record<string, unknown> | 'help'> {
  const options = job.options as Record<string, Options>;
  const parser = yargs(args)
    .scriptName(`spark-ts submit ${job.name}`)
    .usage(`$0 [options]${job.description ? `\n\n${job.description}` : ''}`)
    .options(options)
    .strictOptions()
    .version(false)
    .help(false)
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(`${job.name}: ${msg}${runnerOptionHint(msg, options)}\n(see \`spark-ts submit ${job.name} --help\`)`);
    });
  if (!('help' in options)) parser.option('help', { type: 'boolean', describe: 'show the job\'s options' });
  const parsed = (await parser.parseAsync()) as Record<string, unknown>;
  if (parsed.help === true && !('help' in options)) {
    io.out(await parser.getHelp());
    return 'help';
  }
  delete parsed.$0;
  return parsed;
}

/** When a job rejects an option that belongs to the runner, say where it goes. */
function runnerOptionHint(msg: string, jobOptions: Record<string, Options>): string {
  const m = msg.match(/Unknown arguments?: (.*)$/);
  if (!m) return '';
  const misplaced = m[1].split(', ').filter((name) => name in SUBMIT_OPTIONS && !(name in jobOptions));
  return misplaced.length ? `; ${misplaced.map((n) => `--${n}`).join(', ')} ${misplaced.length > 1 ? 'are' : 'is a'} spark-ts submit option${misplaced.length > 1 ? 's' : ''}: put ${misplaced.length > 1 ? 'them' : 'it'} before the job name` : '';
}

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
    const problem = job.validate?.(args);
    if (problem) throw new UsageError(`${job.name}: ${problem}`);
    const settings = resolveSettings({
      conf: runner.conf,
      propertiesFile: runner.propertiesFile,
      master: runner.master,
      driverMemory: runner.driverMemory,
      name: runner.name,
    });
    return await runJob(job, args, runner, settings, io);
  } catch (err) {
    io.err(`spark-ts: ${describeFailure(err, verbose)}`);
    return exitCodeFor(err);
  }
}

const SECRET_KEY = /token|secret|password|credential/i;

function printSettings(settings: ResolvedSettings, log: (line: string) => void): void {
  const show = (o: Record<string, string>) =>
    Object.entries(o)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `    ${k}=${SECRET_KEY.test(k) ? '(hidden)' : v}`);
  log(['static settings (apply when a server starts):', ...show(settings.static), 'session settings (set on the job\'s session):', ...show(settings.session)].join('\n'));
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

async function runJob(job: JobDefinition, args: Record<string, unknown>, runner: SubmitOptions, settings: ResolvedSettings, io: Io): Promise<number> {
  const needs = job.needs ?? ['spark'];
  const controller = new AbortController();
  const handlers = new ShutdownHandlers();
  const progress = new ProgressReporter({ stream: process.stderr, interactive: Boolean(process.stderr.isTTY) });
  const log = (line: string) => progress.log(line);
  const say = (line: string) => log(`spark-ts: ${line}`);
  let spark: SparkSession | undefined;
  let sparkTarget: SparkTarget | undefined;
  let kafkaTarget: KafkaTarget | undefined;
  let interruptWork: Promise<void> | undefined;
  let wake: () => void = () => undefined;
  const interrupted = new Promise<void>((resolve) => (wake = resolve));

  const trap = trapSignals(
    (sig) => {
      say(`${sig === 'SIGINT' ? 'Ctrl-C' : sig}: interrupting job ${job.name} (press Ctrl-C again to exit at once)`);
      controller.abort(new Error(`interrupted by ${sig}`));
      interruptWork = interruptSpark(spark, say);
      wake();
    },
    (sig) => {
      io.err('spark-ts: exiting at once; a server started for this job may still run (`spark-ts status`, `spark-ts down`)');
      process.exit(signalExitCode(sig));
    },
  );

  if (runner.verbose) printSettings(settings, say);
  let outcome: Outcome;
  try {
    if (needs.includes('spark')) {
      sparkTarget = await acquireSpark({ remote: runner.remote ?? process.env.SPARK_REMOTE, settings, log: say, purpose: `for job ${job.name}` });
      if (runner.verbose) say(`spark: ${sparkTarget.started ? 'started' : 'using'} ${sparkTarget.endpoint}`);
      if (!controller.signal.aborted) {
        spark = await SparkSession.builder().remote(sparkTarget.url).appName(runner.name ?? job.name).config(settings.session).getOrCreate();
        if (runner.progress) spark.on('progress', progress.onProgress);
      }
    } else if (runner.verbose && (runner.remote || Object.keys(settings.explicitStatic).length)) {
      say(`job ${job.name} does not need Spark: --remote and Spark settings are not used`);
    }
    if (needs.includes('kafka') && !controller.signal.aborted) {
      const jobBootstrap = typeof args['bootstrap-servers'] === 'string' ? args['bootstrap-servers'] : undefined;
      kafkaTarget = await acquireKafka(runner.bootstrapServers ?? jobBootstrap, say);
      if (runner.verbose) say(`kafka: ${kafkaTarget.started ? 'started' : 'using'} ${kafkaTarget.bootstrapServers}`);
    }
    if (controller.signal.aborted) {
      outcome = { kind: 'returned', code: 0 };
    } else {
      const ctx: JobContext = {
        signal: controller.signal,
        verbose: runner.verbose,
        root: ROOT,
        bootstrapServers: kafkaTarget?.bootstrapServers ?? resolveBootstrapServers(runner.bootstrapServers),
        interactive: Boolean(process.stdout.isTTY),
        log,
        onShutdown: (fn) => handlers.add(fn),
      };
      const settled: Promise<Outcome> = Promise.resolve()
        .then(() => job.run(spark ?? noSpark(job.name), args, ctx))
        .then(
          (r): Outcome => ({ kind: 'returned', code: typeof r === 'number' ? r : 0 }),
          (error): Outcome => ({ kind: 'failed', error }),
        );
      const first = await Promise.race([settled, interrupted.then(() => undefined)]);
      if (first) outcome = first;
      else {
        // Interrupted: Spark operations are being interrupted and queries stopped; give the job time to return.
        await interruptWork;
        const late = await withTimeout(settled, 15_000);
        outcome = late === TIMED_OUT ? { kind: 'hung' } : late;
      }
    }
  } catch (error) {
    outcome = { kind: 'failed', error };
  }

  if (trap.signal && !interruptWork) interruptWork = interruptSpark(spark, say);
  await interruptWork;
  await handlers.run(say);
  if (spark) {
    spark.off('progress', progress.onProgress);
    await withTimeout(spark.stop().catch(() => undefined), 5000);
  }
  progress.stop();
  for (const target of [sparkTarget, kafkaTarget]) {
    try {
      await target?.release();
    } catch (err) {
      say(`could not stop a server this job started: ${errorMessage(err)}`);
    }
  }
  trap.dispose();

  if (trap.signal) {
    say(`job ${job.name} interrupted${outcome.kind === 'hung' ? ' (it did not return within 15 s of the interrupt)' : ''}`);
    if (runner.verbose && outcome.kind === 'failed') say(describeFailure(outcome.error, true));
    return signalExitCode(trap.signal);
  }
  if (outcome.kind === 'failed') {
    io.err(`spark-ts: job ${job.name} failed: ${describeFailure(outcome.error, runner.verbose)}`);
    return exitCodeFor(outcome.error) === 2 ? 2 : 1;
  }
  return outcome.kind === 'returned' ? outcome.code : 1;
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
