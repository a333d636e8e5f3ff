import type { Options } from 'yargs';
import type { SparkSession } from '../connect';
import { UsageError, errorMessage } from '../util/errors';

/** What the runner gives every job besides its Spark session and parsed arguments. */
export interface JobContext {
  /** Aborted on Ctrl-C (SIGINT) or SIGTERM: stop producing, stop streaming queries, return. */
  signal: AbortSignal;
  verbose: boolean;
  /** Project root (absolute). */
  root: string;
  /** A path argument made absolute: relative paths are relative to the project root, as every job's defaults are. */
  resolvePath(p: string): string;
  /** Kafka bootstrap servers: --bootstrap-servers, KAFKA_BOOTSTRAP_SERVERS, or the embedded broker. */
  bootstrapServers: string;
  /** Whether stdout is a TTY (live views and progress bars) or not (plain periodic lines). */
  interactive: boolean;
  /** A line for people, on stderr (stdout stays for data a job chooses to print). */
  log(message: string): void;
  /** Called on shutdown (Ctrl-C or normal end), last registered first: stop queries, flush, close. */
  onShutdown(fn: () => Promise<void> | void): void;
}

/**
 * A job: a module in jobs/ whose default export is `defineJob({...})`. The runner builds the job's yargs
 * options from `options`, so `spark-ts submit <job> --help` shows them. `A` is what yargs gives (the options
 * as declared), `P` what the job runs with: `parse` turns one into the other once, before any server starts.
 */
export interface JobDefinition<A extends Record<string, unknown> = Record<string, unknown>, P = A> {
  name: string;
  /** One line, shown by `spark-ts jobs`. */
  description: string;
  options: { [K in keyof A]: Options };
  /** What the job needs; the runner starts or connects only these. Default: ['spark']. */
  needs?: Array<'spark' | 'kafka'>;
  /**
   * For a job that stops its own streaming queries when `signal` aborts, in the order its output needs (the
   * stream job lets its Parquet copies catch up first): after Ctrl-C the runner waits up to this long for the
   * job to return before it stops the session's queries and interrupts its operations itself. Default 0: at once.
   */
  interruptGraceMs?: number;
  /**
   * What the job's positional arguments are (after its options, as spark-submit's application arguments;
   * they reach `run` as `_`), shown in its usage. Without it the job takes none, and a stray word is refused.
   */
  positionalArgs?: string;
  /**
   * Checks and converts the arguments once, before any server starts: the job's parameters, or a UsageError
   * (exit 2 with its message; a thrown UsageError counts the same). Without it, `run` gets the arguments as parsed.
   */
  parse?(args: A): P | UsageError;
  /** The usage error of these arguments, or undefined: `parse`'s error when the job has `parse` (defineJob adds it). */
  validate?(args: A): string | undefined;
  /**
   * The job. `spark` is connected when the job needs Spark; a job that does not need it must not use it.
   * Resolve or return a number to choose the exit code (default 0).
   */
  run(spark: SparkSession, params: P, ctx: JobContext): Promise<void | number>;
}

/**
 * The usage error of a numeric option that is not an integer of at least `min`, or undefined (an absent
 * optional option passes): the check most jobs' `parse` needs, with one wording.
 */
export function integerOptionProblem(name: string, value: number | undefined, min: number): UsageError | undefined {
  if (value === undefined || (Number.isSafeInteger(value) && value >= min)) return undefined;
  const wanted = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
  return new UsageError(`--${name} must be ${wanted}, got ${String(value)}`);
}

/** The job's parameters from its parsed arguments: `parse` (its returned or thrown UsageError rethrown), or the arguments. */
export function parseJobParams<A extends Record<string, unknown>, P>(job: Pick<JobDefinition<A, P>, 'parse'>, args: A): P {
  if (!job.parse) return args as unknown as P;
  let params: P | UsageError;
  try {
    params = job.parse(args);
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError(errorMessage(e));
  }
  if (params instanceof UsageError) throw params;
  return params;
}

/** The defaults a job declares in its options, by option name (what yargs fills in when a flag is absent). */
export function optionDefaults(options: Record<string, Options>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(options)
      .filter(([, o]) => o.default !== undefined)
      .map(([k, o]) => [k, o.default]),
  );
}

/**
 * Another job's parameters, for a job made of jobs (jobs/cdc.ts): its declared defaults overridden by `given`,
 * then parsed once by its own `parse`, so the composing job restates neither the defaults nor the checks.
 */
export function subJobParams<A extends Record<string, unknown>, P>(job: JobDefinition<A, P>, given: Partial<A>): P {
  return parseJobParams(job, { ...optionDefaults(job.options), ...given } as A);
}

export function defineJob<A extends Record<string, unknown>, P = A>(job: JobDefinition<A, P>): JobDefinition<A, P> {
  if (!job.parse || job.validate) return job;
  return {
    ...job,
    validate(args: A): string | undefined {
      try {
        parseJobParams(job, args);
        return undefined;
      } catch (e) {
        return errorMessage(e);
      }
    },
  };
}

// The errors a job throws live in the lowest layer (lib/util), so parts can throw them too; jobs import them from here.
export { JobInputError, UsageError } from '../util/errors';
