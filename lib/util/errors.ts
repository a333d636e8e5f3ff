/**
 * Errors shared by jobs and the parts they call, in the lowest layer so that a part (lib/preprocess, lib/cdc,
 * ...) can throw them without importing the command line (lib/cli re-exports them for jobs).
 */

/** Thrown by a job for bad input it discovers late (a missing file, a bad header): exit 1 with the message. */
export class JobInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobInputError';
  }
}

/** Thrown for a usage error (bad flag value): exit 2 with the message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The message of a caught value: an Error's message, or the value as text (a thrown string, a rejection reason). */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
