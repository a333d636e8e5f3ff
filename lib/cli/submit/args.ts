// `spark-ts submit` arguments, pure: the runner's options, where they end and the job's begin, the job by
// name or file, the job's own options. No server is started or contacted here (see ./lifecycle.ts).
import yargs, { type Options } from 'yargs';
import { ROOT } from '../../runtime/paths';
import { findJob, loadRegisteredJob, registeredJobs } from '../registry';
import { UsageError, type JobDefinition } from '../job';
import { loadJobFile, looksLikePath } from '../load-job';
import { DEFAULT_PROPERTIES_FILE } from '../settings';
import type { Io } from '../output';

/** The runner's own options. They go before the job name, as with spark-submit. */
export const SUBMIT_OPTIONS = {
  master: { type: 'string', describe: 'Spark master of the server this command starts: local[*] (default), local[N], spark://host:7077' },
  remote: {
    type: 'string',
    describe: 'use this Spark Connect server and start none: sc://host:15002/;token=... (default: SPARK_REMOTE, else the embedded server)',
  },
  conf: {
    type: 'string',
    array: true,
    describe: 'a Spark setting key=value (repeatable): static ones apply when a server starts, the others on the session',
  },
  'properties-file': { type: 'string', describe: `Spark properties layered over ${relative(DEFAULT_PROPERTIES_FILE)}` },
  'driver-memory': { type: 'string', describe: 'memory of the server JVM this command starts, e.g. 4g' },
  name: { type: 'string', describe: 'application name (default: the job name)' },
  verbose: { type: 'boolean', default: false, describe: 'print the settings and server decisions, and JS stacks on failure' },
  'bootstrap-servers': { type: 'string', describe: 'Kafka bootstrap servers to use instead of the embedded broker' },
  progress: {
    type: 'boolean',
    default: true,
    describe: 'show Spark execution progress (a bar on a TTY, periodic lines otherwise); --no-progress hides it',
  },
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
  "`spark-ts submit <job> --help` shows the job's own options.";

/** `submit [runner options] <job> [--] [job args]`: where the runner's options end and the job's begin. */
export function splitSubmitArgs(argv: string[]): { runner: string[]; job?: string; jobArgs: string[] } {
  const takesValue = new Set(
    Object.entries(SUBMIT_OPTIONS)
      .filter(([, o]) => o.type !== 'boolean')
      .map(([k]) => `--${k}`),
  );
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
    .usage(`$0 [options]${job.positionalArgs ? ` [${job.positionalArgs}]` : ''}${job.description ? `\n\n${job.description}` : ''}`)
    .options(options)
    .strictOptions()
    .version(false)
    .help(false)
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(`${job.name}: ${msg}${runnerOptionHint(msg, options)}\n(see \`spark-ts submit ${job.name} --help\`)`);
    });
  if (!('help' in options)) parser.option('help', { type: 'boolean', describe: "show the job's options" });
  const parsed = (await parser.parseAsync()) as Record<string, unknown>;
  if (parsed.help === true && !('help' in options)) {
    io.out(await parser.getHelp());
    return 'help';
  }
  // A word without a flag is a mistake (a value given twice, a forgotten --name), never silently ignored.
  const stray = (parsed._ as unknown[] | undefined) ?? [];
  if (stray.length && !job.positionalArgs)
    throw new UsageError(
      `${job.name}: unexpected argument${stray.length > 1 ? 's' : ''} ${stray.map((s) => `"${String(s)}"`).join(', ')}: the job takes no positional arguments (every option is --name value)\n(see \`spark-ts submit ${job.name} --help\`)`,
    );
  delete parsed.$0;
  return parsed;
}

/** When a job rejects an option that belongs to the runner, say where it goes. */
function runnerOptionHint(msg: string, jobOptions: Record<string, Options>): string {
  const m = msg.match(/Unknown arguments?: (.*)$/);
  if (!m) return '';
  const misplaced = m[1].split(', ').filter((name) => name in SUBMIT_OPTIONS && !(name in jobOptions));
  return misplaced.length
    ? `; ${misplaced.map((n) => `--${n}`).join(', ')} ${misplaced.length > 1 ? 'are' : 'is a'} spark-ts submit option${misplaced.length > 1 ? 's' : ''}: put ${misplaced.length > 1 ? 'them' : 'it'} before the job name`
    : '';
}
