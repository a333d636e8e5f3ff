import * as grpc from '@grpc/grpc-js';

/** Structured details of a server-side failure, as Spark reports them. */
export interface SparkErrorDetails {
  errorClass?: string;
  sqlState?: string;
  messageParameters: Record<string, string>;
  /** JVM exception classes, most specific first (e.g. org.apache.spark.sql.AnalysisException). */
  classes: string[];
  /** The server's message, fetched in full with FetchErrorDetails when it was truncated. */
  serverMessage: string;
  errorId?: string;
  /** Server-side stack trace when the server sends one (spark.sql.connect.serverStacktrace.enabled). */
  serverStackTrace?: string;
}

/** Any failure of a Spark Connect call. `grpcCode` is the gRPC status of the call that failed. */
export class SparkConnectError extends Error {
  readonly errorClass?: string;
  readonly sqlState?: string;
  readonly messageParameters: Record<string, string>;
  readonly classes: string[];
  readonly serverMessage: string;
  readonly grpcCode?: grpc.status;
  readonly endpoint?: string;

  constructor(message: string, details: Partial<SparkErrorDetails> & { grpcCode?: grpc.status; endpoint?: string } = {}) {
    super(message);
    this.name = new.target.name;
    this.errorClass = details.errorClass;
    this.sqlState = details.sqlState;
    this.messageParameters = details.messageParameters ?? {};
    this.classes = details.classes ?? [];
    this.serverMessage = details.serverMessage ?? message;
    this.grpcCode = details.grpcCode;
    this.endpoint = details.endpoint;
  }
}

/** The query refers to something that does not exist or does not type-check (unresolved column, …). */
export class AnalysisException extends SparkConnectError {}
/** The SQL text does not parse. */
export class ParseException extends AnalysisException {}
/** A streaming query failed. */
export class StreamingQueryException extends SparkConnectError {}
/** Spark rejected an argument (IllegalArgumentException on the server). */
export class IllegalArgumentException extends SparkConnectError {}
/** Arithmetic overflow, division by zero in ANSI mode, … */
export class ArithmeticException extends SparkConnectError {}
/** A run-time failure while executing (SparkRuntimeException, task failures, …). */
export class SparkRuntimeException extends SparkConnectError {}
/** The operation was interrupted (AbortSignal, interruptAll). */
export class OperationInterruptedError extends SparkConnectError {}
/** The server could not be reached. The message names the endpoint. */
export class ConnectionError extends SparkConnectError {}
/** The server refused the credentials (missing or wrong token). */
export class AuthenticationError extends SparkConnectError {}

type ErrorType = typeof SparkConnectError;
const BY_CLASS: Array<[RegExp, ErrorType]> = [
  [/ParseException$/, ParseException],
  [/AnalysisException$/, AnalysisException],
  [/StreamingQueryException$/, StreamingQueryException],
  [/IllegalArgumentException$/, IllegalArgumentException],
  [/ArithmeticException$/, ArithmeticException],
  [/SparkRuntimeException$|SparkException$/, SparkRuntimeException],
];

/** Chooses the most specific error type for the JVM exception classes the server reported. */
export function errorTypeFor(classes: string[], errorClass?: string): ErrorType {
  for (const cls of classes) {
    for (const [re, type] of BY_CLASS) if (re.test(cls)) return type;
  }
  if (errorClass?.startsWith('PARSE_SYNTAX_ERROR')) return ParseException;
  if (errorClass?.startsWith('UNRESOLVED_') || errorClass?.startsWith('TABLE_OR_VIEW_NOT_FOUND')) return AnalysisException;
  return SparkConnectError;
}

/** Formats an error for people: `[ERROR_CLASS] message` (SQLSTATE when known). */
export function formatSparkError(err: unknown): string {
  if (err instanceof SparkConnectError) {
    // Spark's messages may start with a newline (ParseException) and usually carry the class already.
    const message = err.message.trim();
    const head = err.errorClass && !message.startsWith(`[${err.errorClass}]`) ? `[${err.errorClass}] ` : '';
    const state = err.sqlState ? ` SQLSTATE: ${err.sqlState}` : '';
    return `${err.name}: ${head}${message}${state && !message.includes('SQLSTATE') ? state : ''}`;
  }
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
