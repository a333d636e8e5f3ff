import * as grpc from '@grpc/grpc-js';
import { loadProtocol, type ServiceClient } from './proto';
import { describeEndpoint, isLocalHost, type ConnectionOptions } from './url';
import { DEFAULT_RETRY_POLICY, FIRST_CONNECT_RETRY_POLICY, sparkErrorInfo, withRetries, type RetryEvent, type RetryPolicy } from './retry';
import type { FetchErrorDetailsResponse__Output } from './gen/spark/connect/FetchErrorDetailsResponse';
import {
  AuthenticationError,
  ConnectionError,
  OperationInterruptedError,
  SparkConnectError,
  errorTypeFor,
  type QueryContext,
  type SparkErrorCause,
  type SparkErrorDetails,
} from './errors';

export {
  type RetryPolicy,
  DEFAULT_RETRY_POLICY,
  FIRST_CONNECT_RETRY_POLICY,
  CLEANUP_RETRY_POLICY,
  backoffMs,
  retryDelayMs,
  isRetryableError,
  sleep,
} from './retry';

export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

type UnaryMethod =
  'AnalyzePlan' | 'Config' | 'Interrupt' | 'ReleaseExecute' | 'ReleaseSession' | 'FetchErrorDetails' | 'ArtifactStatus' | 'GetStatus';
type StreamMethod = 'ExecutePlan' | 'ReattachExecute';

export interface UnaryOptions {
  /** Bounds each try. */
  timeoutMs?: number;
  /** Overrides the transport's policy for this call (cleanup calls use a short one). */
  policy?: RetryPolicy;
  signal?: AbortSignal;
}

/**
 * Server keepalive: grpc-java's default server permits one client ping per 5 minutes and sends GOAWAY
 * `too_many_pings` to a client that pings more often. Pinging every 6 minutes (and only during calls)
 * keeps NAT and load-balancer state alive without ever tripping that limit.
 */
export const KEEPALIVE_TIME_MS = 6 * 60_000;

/**
 * HTTP/2 flow-control window of the channel (per stream and for the connection). With the 64 KiB default the
 * server can send only 64 KiB ahead of what the client has read, so it waits while the client decodes a batch.
 * The bound: a reattach resumes after the last response the client processed, and the server keeps only
 * `spark.connect.execute.reattachable.observerRetryBufferSize` (10 MiB) of responses already sent. So the window
 * plus one response in flight (an Arrow batch of up to 4 MiB) must stay below that, or a broken stream could
 * not be resumed: 16 MiB failed the reattach test. 4 MiB keeps most of the gain (numbers in docs/client.md).
 */
export const FLOW_CONTROL_WINDOW_BYTES = 4 * 2 ** 20;

/**
 * Until the server has answered once, each try waits at most this long for a connection. The OS gives a
 * connection to a filtered port or an unroutable host about 2 minutes; a refused one fails at once anyway.
 */
export const FIRST_CONNECT_WAIT_MS = 3000;

/** The gRPC layer: channel, credentials, retries and error decoding. Knows nothing of DataFrames. */
export class GrpcTransport {
  readonly endpoint: string;
  private readonly client: ServiceClient;
  private readonly metadata: grpc.Metadata;
  /** True once any call got an answer: from then on the long policy applies. */
  private established = false;
  /** Hears every retry (the client turns them into `retry` events). */
  onRetry?: (event: RetryEvent & { method: string }) => void;

  constructor(
    readonly options: ConnectionOptions,
    readonly retryPolicy: RetryPolicy = DEFAULT_RETRY_POLICY,
    readonly firstConnectRetryPolicy: RetryPolicy = FIRST_CONNECT_RETRY_POLICY,
  ) {
    this.endpoint = describeEndpoint(options);
    const proto = loadProtocol();
    const creds = options.useSsl ? grpc.credentials.createSsl() : grpc.credentials.createInsecure();
    if (options.token && !options.useSsl && !isLocalHost(options.host)) {
      // parseConnectUrl never produces this; hand-made options must not send a token in clear text.
      throw new Error(`refusing to send a token without TLS to ${this.endpoint} (set useSsl, or connect to localhost)`);
    }
    const target = `${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
    this.client = new proto.spark.connect.SparkConnectService(target, creds, {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      'grpc.primary_user_agent': options.userAgent,
      'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
      'grpc.keepalive_timeout_ms': 20_000,
      'grpc.keepalive_permit_without_calls': 0,
      // A refused connection is retried by our own policy, so keep the channel's own backoff short.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      'grpc-node.flow_control_window': FLOW_CONTROL_WINDOW_BYTES,
    });
    this.metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(options.metadata ?? {})) this.metadata.set(k, v);
    if (options.token) this.metadata.set('authorization', `Bearer ${options.token}`);
  }

  /** The policy that applies now: the short first-connect budget until the server has answered once. */
  currentPolicy(): RetryPolicy {
    return this.established ? this.retryPolicy : this.firstConnectRetryPolicy;
  }

  /** Whether the server has ever answered on this channel. */
  get reached(): boolean {
    return this.established;
  }

  /** Marks the server as reached (a stream's first response does this too). */
  markEstablished(): void {
    this.established = true;
  }

  /**
   * A unary call with the retry policy applied; a failure comes back as a typed SparkConnectError with the
   * server's full details (FetchErrorDetails). `timeoutMs` (or `options.timeoutMs`) bounds each try.
   */
  async unary<Req, Res>(method: UnaryMethod, request: Req, timeoutOrOptions?: number | UnaryOptions): Promise<Res> {
    const opts: UnaryOptions = typeof timeoutOrOptions === 'number' ? { timeoutMs: timeoutOrOptions } : (timeoutOrOptions ?? {});
    try {
      return await withRetries(
        opts.policy ?? this.currentPolicy(),
        () => this.unaryOnce<Req, Res>(method, request, opts.timeoutMs),
        (e) => this.onRetry?.({ ...e, method }),
        opts.signal,
      );
    } catch (err) {
      throw await this.toSparkError(err, method === 'FetchErrorDetails' ? undefined : (id) => this.fetchErrorDetails(id));
    }
  }

  /**
   * Before the server has answered once: resolves when the channel is connected, or has failed (the call then
   * fails at once with the channel's own reason, such as a refused connection); rejects as UNAVAILABLE, naming
   * the endpoint, when no connection came within FIRST_CONNECT_WAIT_MS (a filtered port, an unroutable host).
   */
  private async connected(): Promise<void> {
    if (this.established) return;
    const channel = this.client.getChannel();
    const deadline = Date.now() + FIRST_CONNECT_WAIT_MS;
    const { READY, TRANSIENT_FAILURE, SHUTDOWN } = grpc.connectivityState;
    for (;;) {
      const state = channel.getConnectivityState(true);
      if (state === READY || state === TRANSIENT_FAILURE || state === SHUTDOWN) return;
      const changed = await new Promise<boolean>((resolve) => channel.watchConnectivityState(state, deadline, (err) => resolve(!err)));
      if (!changed) {
        throw Object.assign(new Error(`no connection within ${FIRST_CONNECT_WAIT_MS / 1000} s`), {
          code: grpc.status.UNAVAILABLE,
          details: `no connection within ${FIRST_CONNECT_WAIT_MS / 1000} s (a filtered port or an unreachable host?)`,
          metadata: new grpc.Metadata(),
        });
      }
    }
  }

  private async unaryOnce<Req, Res>(method: UnaryMethod, request: Req, timeoutMs?: number): Promise<Res> {
    await this.connected();
    return new Promise<Res>((resolve, reject) => {
      const options: grpc.CallOptions = timeoutMs ? { deadline: Date.now() + timeoutMs } : {};
      const fn = (this.client as unknown as Record<string, Function>)[method].bind(this.client);
      fn(request, this.metadata, options, (err: grpc.ServiceError | null, res: Res) => {
        if (err) return reject(err);
        this.established = true;
        resolve(res);
      });
    });
  }

  /**
   * A server-streaming call as an async iterator of responses. Errors are raw gRPC errors: the caller
   * (reattachable execution) decides what is retried, then converts with `toSparkError`.
   */
  async *stream<Req, Res>(method: StreamMethod, request: Req, signal?: AbortSignal): AsyncGenerator<Res> {
    await this.connected();
    const fn = (this.client as unknown as Record<string, Function>)[method].bind(this.client);
    const call: grpc.ClientReadableStream<Res> = fn(request, this.metadata, {});
    const onAbort = () => call.cancel();
    // An already-aborted signal never fires 'abort' again.
    if (signal?.aborted) call.cancel();
    else signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const response of call as AsyncIterable<Res>) {
        this.established = true;
        yield response;
      }
      this.established = true; // ended with status OK: the server answered, even if with nothing
    } finally {
      signal?.removeEventListener('abort', onAbort);
      call.cancel();
    }
  }

  /**
   * A client-streaming call (AddArtifacts): sends every request, then resolves with the server's one
   * response. Not retried as a whole here: the caller re-sends from the start.
   */
  clientStream<Req, Res>(method: 'AddArtifacts', requests: Iterable<Req>, timeoutMs = 600_000): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const fn = (this.client as unknown as Record<string, Function>)[method].bind(this.client);
      const call: grpc.ClientWritableStream<Req> = fn(
        this.metadata,
        { deadline: Date.now() + timeoutMs },
        (err: grpc.ServiceError | null, res: Res) => {
          if (err) return reject(err);
          this.established = true;
          resolve(res);
        },
      );
      const it = requests[Symbol.iterator]();
      const pump = () => {
        for (let next = it.next(); !next.done; next = it.next()) {
          if (!call.write(next.value)) {
            call.once('drain', pump);
            return;
          }
        }
        call.end();
      };
      pump();
    });
  }

  /** Runs `attempt` under the current policy (kept for callers of the old API). Errors are converted. */
  async withRetries<T>(attempt: () => Promise<T>): Promise<T> {
    try {
      return await withRetries(this.currentPolicy(), attempt, (e) => this.onRetry?.({ ...e, method: 'call' }));
    } catch (err) {
      throw await this.toSparkError(err, (id) => this.fetchErrorDetails(id));
    }
  }

  /** The full error (message, class, parameters, contexts, cause chain, server stack) for an error id. */
  async fetchErrorDetails(errorId: string): Promise<SparkErrorDetails | undefined> {
    const res = await this.unary<object, FetchErrorDetailsResponse__Output>(
      'FetchErrorDetails',
      {
        session_id: this.options.sessionId,
        user_context: { user_id: this.options.userId, user_name: this.options.userId },
        error_id: errorId,
      },
      { timeoutMs: 10_000, policy: FIRST_CONNECT_RETRY_POLICY },
    );
    return errorDetailsFromResponse(res, errorId);
  }

  /** Converts a gRPC error into a typed SparkConnectError, fetching full details from the server when it can. */
  async toSparkError(err: unknown, fetchDetails?: (errorId: string) => Promise<SparkErrorDetails | undefined>): Promise<SparkConnectError> {
    if (err instanceof SparkConnectError) return err;
    const e = err as grpc.ServiceError;
    if (typeof e?.code !== 'number') return new SparkConnectError(String((err as Error)?.message ?? err), { endpoint: this.endpoint });
    const base = { grpcCode: e.code, endpoint: this.endpoint };
    const info = sparkErrorInfo(e);
    if (!info && (e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED)) {
      return new ConnectionError(`cannot reach Spark Connect at ${this.endpoint}: ${e.details || grpc.status[e.code]}`, base);
    }
    if (e.code === grpc.status.UNAUTHENTICATED) {
      return new AuthenticationError(
        `Spark Connect at ${this.endpoint} rejected the credentials: ${e.details || 'UNAUTHENTICATED'} (check the token)`,
        base,
      );
    }
    if (e.code === grpc.status.CANCELLED && !info) {
      return new OperationInterruptedError(`operation cancelled: ${e.details}`, base);
    }
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
    const Type =
      details.classes.some((c) => /InterruptedException|OPERATION_CANCELED/.test(c)) || details.errorClass === 'OPERATION_CANCELED'
        ? OperationInterruptedError
        : errorTypeFor(details.classes, details.errorClass);
    // `stack` stays the JS call site (where the user awaited); the JVM stack is `serverStackTrace`.
    return new Type(details.serverMessage, { ...details, ...base });
  }

  close(): void {
    this.client.close();
  }
}

/** FetchErrorDetails' answer as SparkErrorDetails: the root error, its query contexts and its cause chain. */
export function errorDetailsFromResponse(res: FetchErrorDetailsResponse__Output, errorId?: string): SparkErrorDetails | undefined {
  if (res.root_error_idx === undefined || res.root_error_idx === null || !res.errors.length) return undefined;
  type ErrorOut = FetchErrorDetailsResponse__Output['errors'][number];
  const trace = (e: ErrorOut) =>
    e.stack_trace.map((f) => `    at ${f.declaring_class}.${f.method_name}(${f.file_name ?? 'Unknown'}:${f.line_number})`).join('\n') ||
    undefined;
  const root = res.errors[res.root_error_idx]!;
  const t = root.spark_throwable;
  const causes: SparkErrorCause[] = [];
  const seen = new Set<number>([res.root_error_idx]);
  for (let idx = root.cause_idx; idx !== undefined && idx !== null && !seen.has(idx) && res.errors[idx]; idx = res.errors[idx]!.cause_idx) {
    seen.add(idx);
    const c = res.errors[idx]!;
    causes.push({
      classes: c.error_type_hierarchy,
      message: c.message,
      errorClass: c.spark_throwable?.error_class || undefined,
      sqlState: c.spark_throwable?.sql_state || undefined,
      messageParameters: c.spark_throwable?.message_parameters ?? {},
      serverStackTrace: trace(c),
    });
  }
  const queryContexts: QueryContext[] = (t?.query_contexts ?? []).map((q) => ({
    contextType: q.context_type === 'DATAFRAME' ? 'DATAFRAME' : 'SQL',
    objectType: q.object_type,
    objectName: q.object_name,
    startIndex: q.start_index,
    stopIndex: q.stop_index,
    fragment: q.fragment,
    callSite: q.call_site,
    summary: q.summary,
  }));
  return {
    errorClass: t?.error_class || undefined,
    sqlState: t?.sql_state || undefined,
    messageParameters: t?.message_parameters ?? {},
    classes: root.error_type_hierarchy,
    serverMessage: root.message,
    errorId,
    serverStackTrace: trace(root),
    queryContexts,
    causes,
  };
}
