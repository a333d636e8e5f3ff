import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protobuf from 'protobufjs';
import { protoDir } from './proto';

/**
 * How failed calls are retried, as data. One loop (`withRetries`) applies it to unary calls and to the
 * reattachment of result streams alike. The delay before retry n (0-based) is
 * `min(maxBackoffMs, initialBackoffMs × backoffMultiplier^n)`, plus a uniform random jitter in
 * [0, jitterMs) once that delay reaches `minJitterThresholdMs`. Retrying stops after `maxRetries`
 * retries, or when the next try would start more than `maxElapsedMs` after the first one.
 */
export interface RetryPolicy {
  maxRetries: number;
  initialBackoffMs: number;
  backoffMultiplier: number;
  maxBackoffMs: number;
  /** Upper bound of the random delay added to each backoff (milliseconds). */
  jitterMs: number;
  /** Backoffs shorter than this get no jitter (a quick first retry stays quick). */
  minJitterThresholdMs: number;
  /** Overall time budget from the first try: no retry starts after it. */
  maxElapsedMs: number;
  /** Whether an error (a raw gRPC error) is worth another try. Default: `isRetryableError`. */
  shouldRetry: (error: unknown) => boolean;
}

/**
 * The budget of established operations, as PySpark's DefaultPolicy: 15 retries, ×4 from 50 ms up to
 * 60 s, 500 ms jitter above 2 s — about 10 minutes, enough to ride out a load-balancer reset or a
 * server restart.
 */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxRetries: 15,
  initialBackoffMs: 50,
  backoffMultiplier: 4,
  maxBackoffMs: 60_000,
  jitterMs: 500,
  minJitterThresholdMs: 2_000,
  maxElapsedMs: 12 * 60_000,
  shouldRetry: isRetryableError,
});

/**
 * The budget before the client has ever reached the server: a wrong host or a closed port fails within
 * 5 s (naming the endpoint) instead of after 10 minutes.
 */
export const FIRST_CONNECT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxRetries: 6,
  initialBackoffMs: 50,
  backoffMultiplier: 2,
  maxBackoffMs: 1_000,
  jitterMs: 100,
  minJitterThresholdMs: 500,
  maxElapsedMs: 2_500,
  shouldRetry: isRetryableError,
});

/** Best-effort cleanup calls (ReleaseExecute, ReleaseSession): a few quick tries, never a long wait. */
export const CLEANUP_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  ...FIRST_CONNECT_RETRY_POLICY,
  maxRetries: 3,
  maxElapsedMs: 1_000,
});

/** The backoff before retry number `attempt` (0-based), without jitter. */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * policy.backoffMultiplier ** attempt);
}

/** The delay before retry number `attempt`, jitter included; `random` is in [0, 1). */
export function retryDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const base = backoffMs(policy, attempt);
  return base >= policy.minJitterThresholdMs ? base + random() * policy.jitterMs : base;
}

/** The longest time a policy can keep retrying (all its backoffs at maximal jitter, bounded by its budget). */
export function worstCaseRetryMs(policy: RetryPolicy): number {
  let total = 0;
  for (let i = 0; i < policy.maxRetries; i++) {
    const next = retryDelayMs(policy, i, () => 1);
    if (total + next > policy.maxElapsedMs) break;
    total += next;
  }
  return total;
}

/** The Spark error class a gRPC error carries in its ErrorInfo, if any. */
export interface SparkErrorInfo {
  reason: string;
  errorClass?: string;
  sqlState?: string;
  messageParameters?: Record<string, string>;
  classes?: string[];
  errorId?: string;
}

let statusTypes: { Status: protobuf.Type; ErrorInfo: protobuf.Type } | undefined;

/** Reads google.rpc.ErrorInfo out of the `grpc-status-details-bin` trailer, where Spark puts its error class. */
export function sparkErrorInfo(err: unknown): SparkErrorInfo | undefined {
  const metadata = (err as grpc.ServiceError)?.metadata;
  const raw = metadata instanceof grpc.Metadata ? metadata.get('grpc-status-details-bin')[0] : undefined;
  if (!raw || typeof raw === 'string') return undefined;
  if (!statusTypes) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(protoDir(), target);
    root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto']);
    statusTypes = { Status: root.lookupType('google.rpc.Status'), ErrorInfo: root.lookupType('google.rpc.ErrorInfo') };
  }
  const status = statusTypes.Status.decode(raw) as unknown as {
    details: Array<{ type_url?: string; typeUrl?: string; value: Uint8Array }>;
  };
  for (const any of status.details ?? []) {
    const typeUrl = any.type_url ?? any.typeUrl ?? '';
    if (!typeUrl.endsWith('google.rpc.ErrorInfo')) continue;
    const info = statusTypes.ErrorInfo.decode(any.value) as unknown as { reason: string; metadata: Record<string, string> };
    const md = info.metadata ?? {};
    return {
      reason: info.reason,
      errorClass: md.errorClass,
      sqlState: md.sqlState,
      messageParameters: md.messageParameters ? safeJson<Record<string, string>>(md.messageParameters, {}) : {},
      classes: md.classes ? safeJson<string[]>(md.classes, [info.reason]) : [info.reason],
      errorId: md.errorId,
    };
  }
  return undefined;
}

/** The Spark error class of a raw gRPC error: from its ErrorInfo, else from a `[CLASS]` prefix of the message. */
export function sparkErrorClass(err: unknown): string | undefined {
  const info = sparkErrorInfo(err);
  if (info?.errorClass) return info.errorClass;
  const m = /^\s*\[([A-Z_][A-Z0-9_.]*)\]/.exec((err as grpc.ServiceError)?.details ?? '');
  return m?.[1];
}

/**
 * PySpark's classification. An error the Spark server produced (it carries ErrorInfo) is the answer, not
 * a network failure, and is never retried — except INVALID_CURSOR.DISCONNECTED (the server dropped the
 * result cursor, reattaching resumes it). UNAVAILABLE (refused, reset, GOAWAY) is retried, and so is an
 * INTERNAL that is a transport failure (RST_STREAM) rather than a server error.
 */
export function isRetryableError(err: unknown): boolean {
  if (err instanceof RetryableStreamEnd) return true;
  const e = err as grpc.ServiceError;
  if (typeof e?.code !== 'number') return false;
  const errorClass = sparkErrorClass(e);
  if (errorClass !== undefined) return errorClass === 'INVALID_CURSOR.DISCONNECTED';
  if (e.code === grpc.status.UNAVAILABLE) return true;
  if (e.code === grpc.status.INTERNAL && !sparkErrorInfo(e)) return /RST_STREAM|INVALID_CURSOR\.DISCONNECTED/.test(e.details ?? '');
  return false;
}

/** A result stream that ended without ResultComplete: reattach, with the policy's backoff. */
export class RetryableStreamEnd extends Error {
  constructor(readonly operationId: string) {
    super(`the result stream of operation ${operationId} ended before ResultComplete`);
    this.name = 'RetryableStreamEnd';
  }
}

export interface RetryEvent {
  attempt: number;
  delayMs: number;
  error: unknown;
}

/**
 * Runs `attempt` until it succeeds, the policy says the error is final, or the budget is spent; then
 * throws the last error unchanged (the caller converts it). `onRetry` hears each retry before its wait.
 */
export async function withRetries<T>(
  policyOrGetter: RetryPolicy | (() => RetryPolicy),
  attempt: (tryNumber: number) => Promise<T>,
  onRetry?: (event: RetryEvent) => void,
  signal?: AbortSignal,
): Promise<T> {
  const started = Date.now();
  for (let i = 0; ; i++) {
    try {
      return await attempt(i);
    } catch (err) {
      // A getter is asked at each failure: the budget grows once the server has answered.
      const policy = typeof policyOrGetter === 'function' ? policyOrGetter() : policyOrGetter;
      const retryable = err instanceof RetryableStreamEnd || policy.shouldRetry(err);
      if (signal?.aborted || i >= policy.maxRetries || !retryable) throw err;
      const delayMs = retryDelayMs(policy, i);
      if (Date.now() - started + delayMs > policy.maxElapsedMs) throw err;
      onRetry?.({ attempt: i + 1, delayMs, error: err });
      await sleep(delayMs, signal);
      if (signal?.aborted) throw err; // aborted during the wait: no further try
    }
  }
}

/** Waits `ms`; an abort ends the wait early (the caller then sees its signal aborted). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    // An already-aborted signal never fires 'abort' again: without this the wait ran its full length.
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function safeJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
