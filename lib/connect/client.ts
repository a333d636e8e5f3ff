import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { GrpcTransport, DEFAULT_RETRY_POLICY, backoffMs, sleep, type RetryPolicy } from './transport';
import { OperationInterruptedError, type SparkErrorDetails } from './errors';
import type { ConnectionOptions } from './url';
import type { Plan } from './gen/spark/connect/Plan';
import type { ExecutePlanRequest } from './gen/spark/connect/ExecutePlanRequest';
import type { ExecutePlanResponse__Output } from './gen/spark/connect/ExecutePlanResponse';
import type { ReattachExecuteRequest } from './gen/spark/connect/ReattachExecuteRequest';
import type { AnalyzePlanRequest } from './gen/spark/connect/AnalyzePlanRequest';
import type { AnalyzePlanResponse__Output } from './gen/spark/connect/AnalyzePlanResponse';
import type { ConfigRequest } from './gen/spark/connect/ConfigRequest';
import type { ConfigResponse__Output } from './gen/spark/connect/ConfigResponse';
import type { FetchErrorDetailsResponse__Output } from './gen/spark/connect/FetchErrorDetailsResponse';
import type { UserContext } from './gen/spark/connect/UserContext';

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

/** Events: `progress` (ExecutionProgressEvent), `reattach` ({operationId, attempt, lastResponseId}). */
export interface SparkConnectClientEvents {
  progress: [ExecutionProgressEvent];
  reattach: [{ operationId: string; attempt: number; lastResponseId?: string }];
}

/**
 * What a SparkSession needs from a client. The real SparkConnectClient and the recording fake client of
 * unit tests (lib/connect/testing/recording-client.ts) both provide it.
 */
export interface ExecutionClient
  extends Pick<
    SparkConnectClient,
    'sessionId' | 'endpoint' | 'execute' | 'analyze' | 'config' | 'interruptAll' | 'interruptTag' | 'interruptOperation' | 'releaseSession'
  > {
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
  /** Test hook: end each ExecutePlan/Reattach stream after this many responses, as a broken network would. */
  breakStreamAfterResponses?: number;

  constructor(readonly options: ConnectionOptions, retryPolicy: RetryPolicy = DEFAULT_RETRY_POLICY) {
    super();
    this.sessionId = options.sessionId;
    this.userContext = { user_id: options.userId, user_name: options.userId };
    this.transport = new GrpcTransport(options, retryPolicy);
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
   * Executes a plan and yields every response. The execution is reattachable: if the stream ends or breaks
   * before ResultComplete, it reattaches after the last response it saw; at the end it releases the operation.
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
    let lastResponseId: string | undefined;
    let complete = false;
    let attempt = 0;
    const executeStarted = Date.now();
    let started = false;
    const onAbort = () => void this.interruptOperation(operationId).catch(() => undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      while (!complete) {
        if (signal?.aborted) throw new OperationInterruptedError(`operation ${operationId} interrupted`, { endpoint: this.endpoint });
        const stream = !started
          ? this.transport.stream<ExecutePlanRequest, ExecutePlanResponse__Output>('ExecutePlan', request, signal)
          : this.transport.stream<ReattachExecuteRequest, ExecutePlanResponse__Output>(
              'ReattachExecute',
              { ...this.common(), operation_id: operationId, ...(lastResponseId ? { last_response_id: lastResponseId } : {}) },
              signal,
            );
        started = true;
        let seen = 0;
        try {
          for await (const response of stream) {
            if (response.server_side_session_id) this.serverSideSessionId = response.server_side_session_id;
            lastResponseId = response.response_id;
            if (response.execution_progress) this.emitProgress(operationId, response);
            if (response.result_complete) complete = true;
            yield response;
            attempt = 0;
            if (this.breakStreamAfterResponses !== undefined && ++seen >= this.breakStreamAfterResponses && !complete) break;
          }
        } catch (err) {
          if (signal?.aborted) throw new OperationInterruptedError(`operation ${operationId} interrupted`, { endpoint: this.endpoint });
          const code = (err as grpc.ServiceError).code;
          const retry = this.transport.retryPolicy;
          const wait = backoffMs(retry, attempt);
          if (lastResponseId === undefined && code === grpc.status.UNAVAILABLE) {
            // Before the server has seen the operation there is nothing to reattach to: run it again, within
            // the policy's time budget, so a closed port fails as fast for ExecutePlan as for unary calls.
            if (attempt >= retry.maxRetries || Date.now() - executeStarted + wait > retry.maxElapsedMs) {
              throw await this.transport.toSparkError(err, (id) => this.fetchErrorDetails(id));
            }
            started = false;
          } else if (!isReattachable(err) || attempt >= retry.maxRetries) {
            throw await this.transport.toSparkError(err, (id) => this.fetchErrorDetails(id));
          }
          await sleep(wait);
          attempt++;
        }
        if (!complete) this.emit('reattach', { operationId, attempt, lastResponseId });
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // Frees the server's buffered responses; after completion this is a courtesy, after a failure a must.
      void this.transport
        .unary('ReleaseExecute', { ...this.common(), operation_id: operationId, release_all: {} }, 5000)
        .catch(() => undefined);
    }
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
    const res = await this.call<{ interrupted_ids: string[] }>('Interrupt', {
      ...this.common(),
      interrupt_type: 'INTERRUPT_TYPE_OPERATION_ID',
      operation_id: operationId,
    });
    return res.interrupted_ids;
  }

  async interruptAll(): Promise<string[]> {
    const res = await this.call<{ interrupted_ids: string[] }>('Interrupt', { ...this.common(), interrupt_type: 'INTERRUPT_TYPE_ALL' });
    return res.interrupted_ids;
  }

  async interruptTag(tag: string): Promise<string[]> {
    const res = await this.call<{ interrupted_ids: string[] }>('Interrupt', { ...this.common(), interrupt_type: 'INTERRUPT_TYPE_TAG', operation_tag: tag });
    return res.interrupted_ids;
  }

  /** Fetches the full error (message, class, parameters, server stack) for an error id from a failed call. */
  async fetchErrorDetails(errorId: string): Promise<SparkErrorDetails | undefined> {
    const res = await this.transport.unary<object, FetchErrorDetailsResponse__Output>(
      'FetchErrorDetails',
      { ...this.common(), error_id: errorId },
      10_000,
    );
    if (res.root_error_idx === undefined || !res.errors.length) return undefined;
    const root = res.errors[res.root_error_idx];
    const t = root.spark_throwable;
    const trace = root.stack_trace.map((f) => `    at ${f.declaring_class}.${f.method_name}(${f.file_name ?? 'Unknown'}:${f.line_number})`).join('\n');
    return {
      errorClass: t?.error_class || undefined,
      sqlState: t?.sql_state || undefined,
      messageParameters: t?.message_parameters ?? {},
      classes: root.error_type_hierarchy,
      serverMessage: root.message,
      errorId,
      serverStackTrace: trace || undefined,
    };
  }

  /** Releases the server-side session. The client is unusable afterwards. */
  async releaseSession(): Promise<void> {
    try {
      await this.transport.unary('ReleaseSession', { session_id: this.sessionId, user_context: this.userContext, client_type: CLIENT_TYPE }, 5000);
    } finally {
      this.transport.close();
    }
  }

  private call<Res>(method: 'AnalyzePlan' | 'Config' | 'Interrupt', request: object): Promise<Res> {
    return this.transport.withRetries(async () => {
      try {
        return await this.transport.unary<object, Res>(method, request);
      } catch (err) {
        throw await this.transport.toSparkError(err, (id) => this.fetchErrorDetails(id));
      }
    });
  }
}

/** A broken stream (network, server restart, a deliberately ended response stream) can be reattached. */
function isReattachable(err: unknown): boolean {
  const code = (err as grpc.ServiceError)?.code;
  if (code === grpc.status.UNAVAILABLE) return true;
  if (code === grpc.status.INTERNAL && /RST_STREAM|stream|connection/i.test((err as grpc.ServiceError).details ?? '')) return true;
  return false;
}
