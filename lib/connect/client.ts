import { EventEmitter } from 'node:events';
import { createHash, randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { GrpcTransport } from './transport';
import {
  CLEANUP_RETRY_POLICY,
  DEFAULT_RETRY_POLICY,
  FIRST_CONNECT_RETRY_POLICY,
  RetryableStreamEnd,
  sparkErrorClass,
  withRetries,
  type RetryEvent,
  type RetryPolicy,
} from './retry';
import { ConnectionError, OperationInterruptedError, SessionChangedError, SparkConnectError, type SparkErrorDetails } from './errors';
import type { ConnectionOptions } from './url';
import type { Plan } from './gen/spark/connect/Plan';
import type { ExecutePlanRequest } from './gen/spark/connect/ExecutePlanRequest';
import type { ExecutePlanResponse__Output } from './gen/spark/connect/ExecutePlanResponse';
import type { ReattachExecuteRequest } from './gen/spark/connect/ReattachExecuteRequest';
import type { AnalyzePlanRequest } from './gen/spark/connect/AnalyzePlanRequest';
import type { AnalyzePlanResponse__Output } from './gen/spark/connect/AnalyzePlanResponse';
import type { ConfigRequest } from './gen/spark/connect/ConfigRequest';
import type { ConfigResponse__Output } from './gen/spark/connect/ConfigResponse';
import type { UserContext } from './gen/spark/connect/UserContext';
import type { ArtifactStatusesResponse__Output } from './gen/spark/connect/ArtifactStatusesResponse';
import type { AddArtifactsResponse__Output } from './gen/spark/connect/AddArtifactsResponse';

/** Artifact upload chunk: far below any server's message limit (128 MiB by default). */
const ARTIFACT_CHUNK_BYTES = 4 * 1024 * 1024;
/** An empty result stream the server held open at least this long ended at its length limit, not in a failure. */
const SERVER_HELD_STREAM_MS = 1000;

export const CLIENT_TYPE = 'spark-ts';

/** Progress of a running operation, from the server's ExecutionProgress messages. */
export interface ExecutionProgressEvent {
  operationId: string;
  stages: Array<{ stageId: number; numTasks: number; numCompletedTasks: number; inputBytesRead: number; done: boolean }>;
  inflightTasks: number;
  /** Completed tasks over all tasks seen so far, in [0, 1]. */
  fraction: number;
}

export interface ExecuteOptions {
  signal?: AbortSignal;
  operationId?: string;
  tags?: string[];
}

/**
 * Events: `progress` (ExecutionProgressEvent), `reattach` ({operationId, attempt, lastResponseId}),
 * `retry` (a failed try about to be repeated after `delayMs`), `request` (each ExecutePlan / ReattachExecute sent).
 */
export interface SparkConnectClientEvents {
  progress: [ExecutionProgressEvent];
  reattach: [{ operationId: string; attempt: number; lastResponseId?: string }];
  retry: [RetryEvent & { method: string; operationId?: string }];
  request: [{ method: 'ExecutePlan' | 'ReattachExecute'; operationId: string }];
}

/** How a client retries: `retryPolicy` for established connections, `firstConnectRetryPolicy` until the server first answers. */
export interface ClientRetryOptions {
  retryPolicy?: RetryPolicy;
  firstConnectRetryPolicy?: RetryPolicy;
}

/**
 * What a SparkSession needs from a client. The real SparkConnectClient and the recording fake client of
 * unit tests (lib/connect/testing/recording-client.ts) both provide it.
 */
export interface ExecutionClient
  extends
    Pick<
      SparkConnectClient,
      | 'sessionId'
      | 'endpoint'
      | 'execute'
      | 'analyze'
      | 'config'
      | 'interruptAll'
      | 'interruptTag'
      | 'interruptOperation'
      | 'releaseSession'
    >,
    Partial<Pick<SparkConnectClient, 'cacheArtifact'>> {
  on<K extends keyof SparkConnectClientEvents>(event: K, listener: (...args: SparkConnectClientEvents[K]) => void): unknown;
  off<K extends keyof SparkConnectClientEvents>(event: K, listener: (...args: SparkConnectClientEvents[K]) => void): unknown;
}

/**
 * One Spark Connect session over a transport: reattachable execution, analysis, config and the
 * session's lifetime. DataFrames sit on top of it; tests may swap in a recording client.
 */
export class SparkConnectClient extends EventEmitter<SparkConnectClientEvents> {
  readonly sessionId: string;
  readonly userContext: UserContext;
  readonly transport: GrpcTransport;
  private serverSideSessionId?: string;
  /** ReleaseExecute calls still in flight: ReleaseSession waits for them (else the server refuses them, the session gone). */
  private readonly cleanups = new Set<Promise<unknown>>();
  /**
   * Background uploads of cached local relations, by hash. The bytes stay until the upload succeeded, so an
   * action that needs a failed one can upload it again.
   */
  private readonly uploads = new Map<string, { done: Promise<void>; bytes?: Uint8Array }>();
  /** Set when the server lost the session: every later call fails with it. */
  private closedBecause?: SessionChangedError;
  /** Test hook: end each ExecutePlan/Reattach stream after this many responses, as a server's stream limit would. */
  breakStreamAfterResponses?: number;

  constructor(
    readonly options: ConnectionOptions,
    retry: RetryPolicy | ClientRetryOptions = DEFAULT_RETRY_POLICY,
  ) {
    super();
    this.sessionId = options.sessionId;
    this.userContext = { user_id: options.userId, user_name: options.userId };
    const r: ClientRetryOptions = 'shouldRetry' in retry ? { retryPolicy: retry } : retry;
    this.transport = new GrpcTransport(
      options,
      r.retryPolicy ?? DEFAULT_RETRY_POLICY,
      r.firstConnectRetryPolicy ?? FIRST_CONNECT_RETRY_POLICY,
    );
    this.transport.onRetry = (e) => this.emit('retry', e);
  }

  get endpoint(): string {
    return this.transport.endpoint;
  }

  private common() {
    return {
      session_id: this.sessionId,
      user_context: this.userContext,
      client_type: CLIENT_TYPE,
      ...(this.serverSideSessionId ? { client_observed_server_side_session_id: this.serverSideSessionId } : {}),
    };
  }

  /**
   * Executes a plan and yields every response, as PySpark's reattachable execution does: ExecutePlan is
   * sent once; a broken or ended stream is resumed with ReattachExecute after the last response seen
   * (under the retry policy, with a fresh budget per response); ExecutePlan is re-sent only when the
   * server never registered the operation (OPERATION_NOT_FOUND / SESSION_NOT_FOUND before any response).
   * Consumed responses are released as the caller moves on (release_until), everything at the end.
   */
  async *execute(plan: Plan, opts: ExecuteOptions = {}): AsyncGenerator<ExecutePlanResponse__Output> {
    const operationId = opts.operationId ?? randomUUID();
    const request: ExecutePlanRequest = {
      ...this.common(),
      plan,
      operation_id: operationId,
      tags: opts.tags ?? [],
      request_options: [{ reattach_options: { reattachable: true } }],
    };
    const signal = opts.signal;
    const interrupted = () => new OperationInterruptedError(`operation ${operationId} interrupted`, { endpoint: this.endpoint });
    if (signal?.aborted) throw interrupted();
    this.checkOpen();
    await this.uploadsFor(plan);
    if (signal?.aborted) throw interrupted(); // aborted during the uploads: nothing was sent yet
    let lastResponseId: string | undefined;
    let complete = false;
    let executeSent = false;
    let reattaches = 0;
    let iterator: AsyncIterator<ExecutePlanResponse__Output> | undefined;
    let yieldedOnStream = 0;
    let streamOpenedAt = 0;
    const releaser = new ResponseReleaser((responseId) =>
      this.tracked(
        this.transport.unary(
          'ReleaseExecute',
          { ...this.common(), operation_id: operationId, release_until: { response_id: responseId } },
          { timeoutMs: 10_000, policy: CLEANUP_RETRY_POLICY },
        ),
      ),
    );
    const open = (): AsyncIterator<ExecutePlanResponse__Output> => {
      yieldedOnStream = 0;
      streamOpenedAt = Date.now();
      if (!executeSent) {
        executeSent = true;
        this.emit('request', { method: 'ExecutePlan', operationId });
        return this.transport
          .stream<ExecutePlanRequest, ExecutePlanResponse__Output>('ExecutePlan', request, signal)
          [Symbol.asyncIterator]();
      }
      reattaches++;
      this.emit('reattach', { operationId, attempt: reattaches, lastResponseId });
      this.emit('request', { method: 'ReattachExecute', operationId });
      const reattach: ReattachExecuteRequest = {
        ...this.common(),
        operation_id: operationId,
        ...(lastResponseId ? { last_response_id: lastResponseId } : {}),
      };
      return this.transport
        .stream<ReattachExecuteRequest, ExecutePlanResponse__Output>('ReattachExecute', reattach, signal)
        [Symbol.asyncIterator]();
    };
    const drop = () => {
      const it = iterator;
      iterator = undefined;
      void it?.return?.(undefined).catch(() => undefined);
    };
    /** The next response, or undefined when this stream ended after progress (reattach at once). */
    const nextOnce = async (): Promise<ExecutePlanResponse__Output | undefined> => {
      iterator ??= open();
      let r: IteratorResult<ExecutePlanResponse__Output>;
      try {
        if (this.breakStreamAfterResponses !== undefined && yieldedOnStream >= this.breakStreamAfterResponses) {
          r = { done: true, value: undefined };
        } else {
          r = await iterator.next();
        }
      } catch (err) {
        drop();
        const errorClass = sparkErrorClass(err);
        if (errorClass === 'INVALID_HANDLE.OPERATION_NOT_FOUND' || errorClass === 'INVALID_HANDLE.SESSION_NOT_FOUND') {
          if (lastResponseId !== undefined) {
            throw new SparkConnectError(
              `[RESPONSE_ALREADY_RECEIVED] operation ${operationId} is gone from the server (${errorClass}) after part of its result was received; it cannot be resumed or re-run safely`,
              { errorClass: 'RESPONSE_ALREADY_RECEIVED', endpoint: this.endpoint },
            );
          }
          // The server never registered it: sending ExecutePlan again cannot run it twice.
          executeSent = false;
          throw new RetryableStreamEnd(operationId);
        }
        throw err;
      }
      if (r.done) {
        const progressed = yieldedOnStream > 0;
        const heldMs = Date.now() - streamOpenedAt;
        drop();
        if (complete) return undefined;
        // A stream that ended after progress, or that the server held open with nothing to send (a wait on
        // the server such as awaitTermination: it ends a stream after its length limit, 2 min by default),
        // is the server's stream limit: reattach now, with the retry budget untouched. An empty stream that
        // ended at once backs off like an error (no hot loop against a server that closes every stream).
        if (progressed || heldMs >= SERVER_HELD_STREAM_MS) return undefined;
        throw new RetryableStreamEnd(operationId);
      }
      yieldedOnStream++;
      return r.value;
    };
    // Cleanup calls use the short policy: an abort must not keep the process busy retrying for minutes.
    const interrupt = () =>
      this.transport
        .unary(
          'Interrupt',
          { ...this.common(), interrupt_type: 'INTERRUPT_TYPE_OPERATION_ID', operation_id: operationId },
          { timeoutMs: 5000, policy: CLEANUP_RETRY_POLICY },
        )
        .catch(() => undefined);
    const onAbort = () => void interrupt();
    signal?.addEventListener('abort', onAbort, { once: true });
    let failed = false;
    try {
      while (!complete) {
        let response: ExecutePlanResponse__Output | undefined;
        try {
          response = await withRetries(
            () => this.transport.currentPolicy(),
            nextOnce,
            (e) => this.emit('retry', { method: 'ExecutePlan', operationId, ...e }),
            signal,
          );
        } catch (err) {
          failed = true;
          if (signal?.aborted) throw interrupted();
          throw this.noteSessionLost(await this.transport.toSparkError(err, (id) => this.fetchErrorDetails(id)));
        }
        if (response === undefined) continue;
        this.checkServerSession(response.server_side_session_id);
        lastResponseId = response.response_id;
        if (response.execution_progress) this.emitProgress(operationId, response);
        if (response.result_complete) complete = true;
        yield response;
        if (!complete && lastResponseId) releaser.release(lastResponseId);
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      drop();
      releaser.stop();
      // Frees the server's buffered responses; after completion this is a courtesy, after a failure or an
      // abandoned iteration a must (it also ends a still-running operation).
      const releaseAll = () =>
        this.tracked(
          this.transport
            .unary(
              'ReleaseExecute',
              { ...this.common(), operation_id: operationId, release_all: {} },
              { timeoutMs: 5000, policy: CLEANUP_RETRY_POLICY },
            )
            .catch(() => undefined),
        );
      if (!complete && !failed && !signal?.aborted) {
        // The caller stopped iterating (break, return(), an exception in its loop body): the operation may
        // still run on the server. Release it before return() resolves, so that once the caller's loop is
        // left the server holds nothing of it.
        await releaseAll();
      } else void releaseAll();
      if (!complete && lastResponseId === undefined && executeSent) {
        // Aborted before the server answered: the ExecutePlan may still be on its way, so interrupt and
        // release once more after it had time to register.
        setTimeout(() => {
          void interrupt();
          void releaseAll();
        }, 1000).unref();
      }
    }
  }

  /**
   * Caches `bytes` on the server as the artifact `cache/<sha256>` (as PySpark does for local data above
   * 64 MB), unless the server has it already; returns the hash at once and uploads in the background.
   * Every later execute/analyze waits for the upload, so a plan naming the hash never arrives first.
   */
  cacheArtifact(bytes: Uint8Array): string {
    const hash = createHash('sha256').update(bytes).digest('hex');
    if (!this.uploads.has(hash)) this.startUpload(hash, bytes);
    return hash;
  }

  private startUpload(hash: string, bytes: Uint8Array): Promise<void> {
    const entry: { done: Promise<void>; bytes?: Uint8Array } = { done: this.uploadArtifact(`cache/${hash}`, bytes), bytes };
    // Reported by the actions that need it (uploadsFor), never as an unhandled rejection.
    entry.done.then(
      () => (entry.bytes = undefined),
      () => undefined,
    );
    this.uploads.set(hash, entry);
    return entry.done;
  }

  private async uploadArtifact(name: string, bytes: Uint8Array): Promise<void> {
    const status = await this.transport.unary<object, ArtifactStatusesResponse__Output>('ArtifactStatus', {
      ...this.common(),
      names: [name],
    });
    if (status.statuses[name]?.exists) return;
    const chunk = (data: Uint8Array) => ({ data: Buffer.from(data.buffer, data.byteOffset, data.byteLength), crc: String(crc32(data)) });
    const requests: object[] = [];
    if (bytes.byteLength <= ARTIFACT_CHUNK_BYTES) {
      requests.push({ ...this.common(), batch: { artifacts: [{ name, data: chunk(bytes) }] } });
    } else {
      const numChunks = Math.ceil(bytes.byteLength / ARTIFACT_CHUNK_BYTES);
      for (let i = 0; i < numChunks; i++) {
        const part = chunk(bytes.subarray(i * ARTIFACT_CHUNK_BYTES, (i + 1) * ARTIFACT_CHUNK_BYTES));
        requests.push(
          i === 0
            ? {
                ...this.common(),
                begin_chunk: { name, total_bytes: String(bytes.byteLength), num_chunks: String(numChunks), initial_chunk: part },
              }
            : { ...this.common(), chunk: part },
        );
      }
    }
    try {
      const res = await withRetries(
        () => this.transport.currentPolicy(),
        () => this.transport.clientStream<object, AddArtifactsResponse__Output>('AddArtifacts', requests),
      );
      const summary = res.artifacts.find((a) => a.name === name);
      if (summary && !summary.is_crc_successful)
        throw new SparkConnectError(`the server received artifact ${name} corrupted (CRC mismatch)`, { endpoint: this.endpoint });
    } catch (err) {
      throw await this.transport.toSparkError(err, (id) => this.fetchErrorDetails(id));
    }
  }

  /**
   * Waits for the background uploads a request names (cached local relations), so its plan never arrives
   * before its data; another relation's failed upload is not this request's business. A failed upload is
   * tried once more for each request that needs it, and its error is that request's error.
   */
  private async uploadsFor(request: object): Promise<void> {
    if (!this.uploads.size) return;
    await Promise.all(
      cachedRelationHashes(request).map(async (hash) => {
        const entry = this.uploads.get(hash);
        if (!entry) return; // not uploaded by this client: the server says whether it has it
        try {
          await entry.done;
        } catch (err) {
          const current = this.uploads.get(hash);
          if (current && current !== entry) return current.done; // another request is uploading it again
          if (!entry.bytes) throw err;
          await this.startUpload(hash, entry.bytes);
        }
      }),
    );
  }

  /** A changed server-side session id means the server lost this session: fail and close, never continue silently. */
  private checkServerSession(observed: string | undefined): void {
    if (!observed) return;
    if (this.serverSideSessionId === undefined) {
      this.serverSideSessionId = observed;
      return;
    }
    if (observed !== this.serverSideSessionId) {
      this.closedBecause = new SessionChangedError(
        `[INVALID_HANDLE.SESSION_CHANGED] the server at ${this.endpoint} no longer has session ${this.sessionId} (server-side id ${this.serverSideSessionId}, now ${observed}): it restarted or dropped the session, so temp views and settings are gone; create a new session`,
        { errorClass: 'INVALID_HANDLE.SESSION_CHANGED', endpoint: this.endpoint },
      );
      throw this.closedBecause;
    }
  }

  /** A SESSION_CHANGED error from the server (it checks the id this client observed) closes the client too. */
  private noteSessionLost(err: Error): Error {
    if (err instanceof SessionChangedError) this.closedBecause ??= err;
    return err;
  }

  /** True once the server lost this session (see SessionChangedError): every call fails. */
  get closed(): boolean {
    return this.closedBecause !== undefined;
  }

  private checkOpen(): void {
    if (this.closedBecause) throw this.closedBecause;
  }

  private emitProgress(operationId: string, response: ExecutePlanResponse__Output): void {
    const p = response.execution_progress!;
    const stages = p.stages.map((s) => ({
      stageId: Number(s.stage_id),
      numTasks: Number(s.num_tasks),
      numCompletedTasks: Number(s.num_completed_tasks),
      inputBytesRead: Number(s.input_bytes_read),
      done: s.done,
    }));
    const total = stages.reduce((a, s) => a + s.numTasks, 0);
    const doneTasks = stages.reduce((a, s) => a + s.numCompletedTasks, 0);
    this.emit('progress', { operationId, stages, inflightTasks: Number(p.num_inflight_tasks), fraction: total ? doneTasks / total : 0 });
  }

  async analyze(request: Omit<AnalyzePlanRequest, 'session_id' | 'user_context' | 'client_type'>): Promise<AnalyzePlanResponse__Output> {
    return this.call<AnalyzePlanResponse__Output>('AnalyzePlan', { ...this.common(), ...request });
  }

  async config(operation: ConfigRequest['operation']): Promise<ConfigResponse__Output> {
    return this.call<ConfigResponse__Output>('Config', { ...this.common(), operation });
  }

  /** Interrupts one operation (used by AbortSignal) or, with no id, every operation of the session. */
  async interruptOperation(operationId: string): Promise<string[]> {
    const res = await this.call<{ interrupted_ids: string[]; server_side_session_id?: string }>('Interrupt', {
      ...this.common(),
      interrupt_type: 'INTERRUPT_TYPE_OPERATION_ID',
      operation_id: operationId,
    });
    return res.interrupted_ids;
  }

  async interruptAll(): Promise<string[]> {
    const res = await this.call<{ interrupted_ids: string[]; server_side_session_id?: string }>('Interrupt', {
      ...this.common(),
      interrupt_type: 'INTERRUPT_TYPE_ALL',
    });
    return res.interrupted_ids;
  }

  async interruptTag(tag: string): Promise<string[]> {
    const res = await this.call<{ interrupted_ids: string[]; server_side_session_id?: string }>('Interrupt', {
      ...this.common(),
      interrupt_type: 'INTERRUPT_TYPE_TAG',
      operation_tag: tag,
    });
    return res.interrupted_ids;
  }

  /** Fetches the full error (message, class, parameters, contexts, causes, server stack) for an error id. */
  async fetchErrorDetails(errorId: string): Promise<SparkErrorDetails | undefined> {
    return this.transport.fetchErrorDetails(errorId);
  }

  /** Releases the server-side session. The client is unusable afterwards. */
  /** Keeps `p` in `cleanups` until it settles. */
  private tracked<T>(p: Promise<T>): Promise<T> {
    this.cleanups.add(p);
    const drop = () => this.cleanups.delete(p);
    p.then(drop, drop);
    return p;
  }

  async releaseSession(): Promise<void> {
    try {
      // A server that never answered holds no session of this client: nothing to release (and no wait for it).
      if (this.closedBecause || !this.transport.reached) return;
      // The last operations' ReleaseExecute (sent in the background once a result is complete) go first,
      // as PySpark's close() waits for its release pool: after ReleaseSession the server refuses them.
      while (this.cleanups.size > 0) await Promise.allSettled([...this.cleanups]);
      await this.transport
        .unary(
          'ReleaseSession',
          { session_id: this.sessionId, user_context: this.userContext, client_type: CLIENT_TYPE },
          { timeoutMs: 5000, policy: CLEANUP_RETRY_POLICY },
        )
        .catch((err: unknown) => {
          // An unreachable server has nothing to release (it expires idle sessions itself).
          if (!(err instanceof ConnectionError)) throw err;
        });
    } finally {
      this.transport.close();
    }
  }

  private async call<Res extends { server_side_session_id?: string }>(
    method: 'AnalyzePlan' | 'Config' | 'Interrupt',
    request: object,
  ): Promise<Res> {
    this.checkOpen();
    if (method === 'AnalyzePlan') await this.uploadsFor(request);
    const res = await this.transport.unary<object, Res>(method, request).catch((err: Error) => {
      throw this.noteSessionLost(err);
    });
    this.checkServerSession(res.server_side_session_id);
    return res;
  }
}

/**
 * Coalesces ReleaseExecute(release_until) calls: at most one in flight, then the newest id. The server
 * keeps sent responses until released, so releasing as we go bounds its memory per operation.
 */
class ResponseReleaser {
  private inFlight = false;
  private pending?: string;
  private stopped = false;

  constructor(private readonly send: (responseId: string) => Promise<unknown>) {}

  release(responseId: string): void {
    if (this.stopped) return;
    this.pending = responseId;
    if (!this.inFlight) void this.pump();
  }

  private async pump(): Promise<void> {
    this.inFlight = true;
    while (this.pending !== undefined && !this.stopped) {
      const id = this.pending;
      this.pending = undefined;
      await this.send(id).catch(() => undefined);
    }
    this.inFlight = false;
  }

  stop(): void {
    this.stopped = true;
  }
}

/** The hashes of every cached local relation in a request (a walk of its plan, byte arrays skipped). */
export function cachedRelationHashes(value: unknown, out: string[] = []): string[] {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return out;
  if (Array.isArray(value)) {
    for (const v of value) cachedRelationHashes(v, out);
    return out;
  }
  for (const [k, v] of Object.entries(value)) {
    if (k === 'cached_local_relation' && v && typeof (v as { hash?: unknown }).hash === 'string') out.push((v as { hash: string }).hash);
    else cachedRelationHashes(v, out);
  }
  return out;
}
