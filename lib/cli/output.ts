import { SparkConnectError, formatSparkError } from '../connect/errors';
import { JobInputError, UsageError } from './job';
import { InvalidJobError } from './load-job';

/** Where a command writes: `out` for data (stdout), `err` for people (stderr). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The exit code an error stands for: usage errors 2, everything else 1. */
export function exitCodeFor(err: unknown): number {
  return err instanceof UsageError || err instanceof InvalidJobError ? EXIT.usage : EXIT.failed;
}

/**
 * An error as people read it: Spark errors as `Name: [ERROR_CLASS] message SQLSTATE`, others as their
 * message; the JS stack (and the server's stack when it sent one) only when `verbose`.
 */
export function describeFailure(err: unknown, verbose: boolean): string {
  let text: string;
  if (err instanceof SparkConnectError) {
    // The server's message can start with a newline; the class goes on the first line with it.
    err.message = err.message.replace(/^\s+/, '');
    text = formatSparkError(err);
  } else if (err instanceof UsageError || err instanceof JobInputError || err instanceof InvalidJobError) {
    text = err.message;
  } else if (err instanceof Error) {
    text = `${err.name}: ${err.message}`;
  } else {
    text = String(err);
  }
  if (verbose && err instanceof Error && err.stack) {
    const stack = err.stack
      .split('\n')
      .filter((l) => /^\s+at /.test(l))
      .join('\n');
    if (stack) text += `\n${stack}`;
    const server = (err as { serverStackTrace?: string }).serverStackTrace;
    if (server) text += `\nserver stack:\n${server}`;
  }
  return text;
}

/** Resolves once everything written to stdout and stderr has been handed to the OS (pipes are async). */
export function flushOutput(): Promise<void> {
  const drain = (s: NodeJS.WriteStream) =>
    new Promise<void>((resolve) => (s.writableLength === 0 ? resolve() : s.write('', () => resolve())));
  return Promise.all([drain(process.stdout), drain(process.stderr)]).then(() => undefined);
}
