import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protobuf from 'protobufjs';
import { loadProtocol, protoDir, type ServiceClient } from './proto';
import { describeEndpoint, type ConnectionOptions } from './url';
import {
  AuthenticationError,
  ConnectionError,
  OperationInterruptedError,
  SparkConnectError,
  errorTypeFor,
  type SparkErrorDetails,
} from './errors';

/** Retry policy as data: which gRPC codes are retried, and how long to back off between tries. */
export interface RetryPolicy {
  maxRetries: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  backoffMultiplier: number;
  /** Fraction of each backoff added as random jitter (0 = none). */
  jitter: number;
  /** Stop retrying once this much time has passed since the first try. */
  maxElapsedMs: number;
  retryableCodes: grpc.status[];
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxRetries: 8,
  initialBackoffMs: 50,
  maxBackoffMs: 1000,
  backoffMultiplier: 2,
  jitter: 0.2,
  // A closed port must fail within 5 s; a server that restarts takes longer and is the caller's business.
  maxElapsedMs: 2500,
  retryableCodes: [grpc.status.UNAVAILABLE],
});

/** The backoff before retry number `attempt` (0-based), without jitter. */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * policy.backoffMultiplier ** attempt);
}

export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

type UnaryMethod = 'AnalyzePlan' | 'Config' | 'Interrupt' | 'ReleaseExecute' | 'ReleaseSession' | 'FetchErrorDetails' | 'ArtifactStatus';
type StreamMethod = 'ExecutePlan' | 'ReattachExecute';

/** The gRPC layer: channel, credentials, retries and error decoding. Knows nothing of DataFrames. */
export class GrpcTransport {
  readonly endpoint: string;
  private readonly client: ServiceClient;
  private readonly metadata: grpc.Metadata;

  constructor(readonly options: ConnectionOptions, readonly retryPolicy: RetryPolicy = DEFAULT_RETRY_POLICY) {
    this.endpoint = describeEndpoint(options);
    const proto = loadProtocol();
    const creds = options.useSsl ? grpc.credentials.createSsl() : grpc.credentials.createInsecure();
    const target = `${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
    this.client = new proto.spark.connect.SparkConnectService(target, creds, {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      'grpc.primary_user_agent': options.userAgent,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_permit_without_calls': 0,
      // A refused connection is retried by our own policy, so keep the channel's own backoff short.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    });
    this.metadata = new grpc.Metadata();
    if (options.token) this.metadata.set('authorization', `Bearer ${options.token}`);
  }

  /** A unary call with the retry policy applied. `timeoutMs` bounds each try. */
  async unary<Req, Res>(method: UnaryMethod, request: Req, timeoutMs?: number): Promise<Res> {
    return this.withRetries(() => this.unaryOnce<Req, Res>(method, request, timeoutMs));
  }

  private unaryOnce<Req, Res>(method: UnaryMethod, request: Req, timeoutMs?: number): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const options: grpc.CallOptions = timeoutMs ? { deadline: Date.now() + timeoutMs } : {};
      const fn = (this.client as unknown as Record<string, Function>)[method].bind(this.client);
      fn(request, this.metadata, options, (err: grpc.ServiceError | null, res: Res) => (err ? reject(err) : resolve(res)));
    });
  }

  /**
   * A server-streaming call as an async iterator of responses. Errors are raw gRPC errors: the caller
   * (reattachable execution) decides what is retried, then converts with `toSparkError`.
   */
  async *stream<Req, Res>(method: StreamMethod, request: Req, signal?: AbortSignal): AsyncGenerator<Res> {
    const fn = (this.client as unknown as Record<string, Function>)[method].bind(this.client);
    const call: grpc.ClientReadableStream<Res> = fn(request, this.metadata, {});
    const onAbort = () => call.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const response of call as AsyncIterable<Res>) yield response;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      call.cancel();
    }
  }

  async withRetries<T>(attempt: () => Promise<T>): Promise<T> {
    const policy = this.retryPolicy;
    const started = Date.now();
    for (let i = 0; ; i++) {
      try {
        return await attempt();
      } catch (err) {
        const code = (err as grpc.ServiceError).code;
        const wait = backoffMs(policy, i) * (1 + policy.jitter * Math.random());
        const retryable = policy.retryableCodes.includes(code) && i < policy.maxRetries;
        if (!retryable || Date.now() - started + wait > policy.maxElapsedMs) throw await this.toSparkError(err);
        await sleep(wait);
      }
    }
  }

  /** Converts a gRPC error into a typed SparkConnectError, fetching full details from the server when it can. */
  async toSparkError(err: unknown, fetchDetails?: (errorId: string) => Promise<SparkErrorDetails | undefined>): Promise<SparkConnectError> {
    if (err instanceof SparkConnectError) return err;
    const e = err as grpc.ServiceError;
    if (typeof e?.code !== 'number') return new SparkConnectError(String((err as Error)?.message ?? err), { endpoint: this.endpoint });
    const base = { grpcCode: e.code, endpoint: this.endpoint };
    if (e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED && !e.metadata?.get('grpc-status-details-bin').length) {
      return new ConnectionError(`cannot reach Spark Connect at ${this.endpoint}: ${e.details || grpc.status[e.code]}`, base);
    }
    if (e.code === grpc.status.UNAUTHENTICATED) {
      return new AuthenticationError(`Spark Connect at ${this.endpoint} rejected the credentials: ${e.details || 'UNAUTHENTICATED'} (check the token)`, base);
    }
    if (e.code === grpc.status.CANCELLED) {
      return new OperationInterruptedError(`operation cancelled: ${e.details}`, base);
    }
    const info = decodeErrorInfo(e.metadata);
    let details: SparkErrorDetails = {
      errorClass: info?.errorClass,
      sqlState: info?.sqlState,
      messageParameters: info?.messageParameters ?? {},
      classes: info?.classes ?? [],
      serverMessage: e.details,
      errorId: info?.errorId,
    };
    if (info?.errorId && fetchDetails) {
      const full = await fetchDetails(info.errorId).catch(() => undefined);
      if (full) details = { ...details, ...full, classes: full.classes.length ? full.classes : details.classes };
    }
    const Type = details.classes.some((c) => /InterruptedException|OPERATION_CANCELED/.test(c)) || details.errorClass === 'OPERATION_CANCELED'
      ? OperationInterruptedError
      : errorTypeFor(details.classes, details.errorClass);
    const error = new Type(details.serverMessage, { ...details, ...base });
    if (details.serverStackTrace) error.stack = `${error.name}: ${error.message}\n${details.serverStackTrace}`;
    return error;
  }

  close(): void {
    this.client.close();
  }
}

interface ErrorInfoMetadata {
  errorClass?: string;
  sqlState?: string;
  messageParameters?: Record<string, string>;
  classes?: string[];
  errorId?: string;
}

let statusTypes: { Status: protobuf.Type; ErrorInfo: protobuf.Type } | undefined;

/** Reads google.rpc.ErrorInfo out of the `grpc-status-details-bin` trailer, where Spark puts its error class. */
function decodeErrorInfo(metadata: grpc.Metadata | undefined): ErrorInfoMetadata | undefined {
  const raw = metadata?.get('grpc-status-details-bin')[0];
  if (!raw || typeof raw === 'string') return undefined;
  if (!statusTypes) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(protoDir(), target);
    root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto']);
    statusTypes = { Status: root.lookupType('google.rpc.Status'), ErrorInfo: root.lookupType('google.rpc.ErrorInfo') };
  }
  const status = statusTypes.Status.decode(raw) as unknown as { details: Array<{ type_url?: string; typeUrl?: string; value: Uint8Array }> };
  for (const any of status.details ?? []) {
    const typeUrl = any.type_url ?? any.typeUrl ?? '';
    if (!typeUrl.endsWith('google.rpc.ErrorInfo')) continue;
    const info = statusTypes.ErrorInfo.decode(any.value) as unknown as { reason: string; metadata: Record<string, string> };
    const md = info.metadata ?? {};
    return {
      errorClass: md.errorClass,
      sqlState: md.sqlState,
      messageParameters: md.messageParameters ? safeJson<Record<string, string>>(md.messageParameters, {}) : {},
      classes: md.classes ? safeJson<string[]>(md.classes, [info.reason]) : [info.reason],
      errorId: md.errorId,
    };
  }
  return undefined;
}

function safeJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
