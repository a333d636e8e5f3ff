import type { Options } from 'yargs';
import type { SparkSession } from '../connect';

/** What the runner gives every job besides its Spark session and parsed arguments. */
export interface JobContext {
  /** Aborted on Ctrl-C (SIGINT) or SIGTERM: stop producing, stop streaming queries, return. */
  signal: AbortSignal;
  verbose: boolean;
  /** Project root (absolute): resolve default paths against it. */
  root: string;
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
 * options from `options`, so `spark-ts submit <job> --help` shows them.
 */
export interface JobDefinition<A extends Record<string, unknown> = Record<string, unknown>> {
  name: string;
  /** One line, shown by `spark-ts jobs`. */
  description: string;
  options: { [K in keyof A]: Options };
  /** What the job needs; the runner starts or connects only these. Default: ['spark']. */
  needs?: Array<'spark' | 'kafka'>;
  /** Checks arguments before any server starts; return an error message for a usage error (exit 2). */
  validate?(args: A): string | undefined;
  /**
   * The job. `spark` is connected when the job needs Spark; a job that does not need it must not use it.
   * Resolve or return a number to choose the exit code (default 0).
   */
  run(spark: SparkSession, args: A, ctx: JobContext): Promise<void | number>;
}

export function defineJob<A extends Record<string, unknown>>(job: JobDefinition<A>): JobDefinition<A> {
  return job;
}

// The errors a job throws live in the lowest layer (lib/util), so parts can throw them too; jobs import them from here.
export { JobInputError, UsageError } from '../util/errors';
