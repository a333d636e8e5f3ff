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
  /** Where in the SQL text or DataFrame code the failure is (from FetchErrorDetails). */
  queryContexts?: QueryContext[];
  /** The JVM exception's cause chain, outermost first (from FetchErrorDetails `cause_idx`). */
  causes?: SparkErrorCause[];
}

/** A place in the user's query that an error points at (SQL text span or DataFrame call site). */
export interface QueryContext {
  contextType: 'SQL' | 'DATAFRAME';
  objectType: string;
  objectName: string;
  startIndex: number;
  stopIndex: number;
  fragment: string;
  callSite: string;
  summary: string;
}

/** One link of a server-side cause chain. */
export interface SparkErrorCause {
  classes: string[];
  message: string;
  errorClass?: string;
  sqlState?: string;
  messageParameters: Record<string, string>;
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
  readonly errorId?: string;
  /** The server's JVM stack trace (when the server sends one); `stack` stays the JS call site. */
  readonly serverStackTrace?: string;
  readonly queryContexts: QueryContext[];
  /** The server-side cause chain, outermost first; `cause` is its first link as an Error. */
  readonly causes: SparkErrorCause[];

  constructor(message: string, details: Partial<SparkErrorDetails> & { grpcCode?: grpc.status; endpoint?: string } = {}) {
    super(message, details.causes?.length ? { cause: causeChainError(details.causes) } : undefined);
    this.name = new.target.name;
    this.errorClass = details.errorClass;
    this.sqlState = details.sqlState;
    this.messageParameters = details.messageParameters ?? {};
    this.classes = details.classes ?? [];
    this.serverMessage = details.serverMessage ?? message;
    this.grpcCode = details.grpcCode;
    this.endpoint = details.endpoint;
    this.errorId = details.errorId;
    this.serverStackTrace = details.serverStackTrace;
    this.queryContexts = details.queryContexts ?? [];
    this.causes = details.causes ?? [];
  }
}

/** The cause chain as linked plain Errors (`err.cause.cause…`), so Node prints it. */
function causeChainError(causes: SparkErrorCause[]): Error {
  let next: Error | undefined;
  for (let i = causes.length - 1; i >= 0; i--) {
    const c = causes[i]!;
    const e: Error = new Error(c.message, next ? { cause: next } : undefined);
    e.name = c.classes[0] ?? 'Error';
    e.stack = `${e.name}: ${c.message}${c.serverStackTrace ? `\n${c.serverStackTrace}` : ''}`;
    next = e;
  }
  return next!;
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
/** A date/time value cannot be parsed or is out of range (java.time.DateTimeException, ANSI casts). */
export class DateTimeException extends SparkConnectError {}
/** The server does not support the operation (UnsupportedOperationException, a feature of a newer Spark). */
export class UnsupportedOperationException extends SparkConnectError {}
/** The server restarted or dropped the session: its temp views and settings are gone; this client is closed. */
export class SessionChangedError extends SparkConnectError {}
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
  [/DateTimeException$/, DateTimeException],
  [/UnsupportedOperationException$/, UnsupportedOperationException],
  [/SparkRuntimeException$|SparkException$/, SparkRuntimeException],
];

/** Chooses the most specific error type for the JVM exception classes the server reported. */
export function errorTypeFor(classes: string[], errorClass?: string): ErrorType {
  if (errorClass?.startsWith('INVALID_HANDLE.SESSION_CHANGED')) return SessionChangedError;
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
