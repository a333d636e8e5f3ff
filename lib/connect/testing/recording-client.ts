import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { ExecuteOptions, ExecutionClient, SparkConnectClientEvents } from '../client';
import type { Plan } from '../gen/spark/connect/Plan';
import type { ExecutePlanResponse__Output } from '../gen/spark/connect/ExecutePlanResponse';
import type { AnalyzePlanRequest } from '../gen/spark/connect/AnalyzePlanRequest';
import type { AnalyzePlanResponse__Output } from '../gen/spark/connect/AnalyzePlanResponse';
import type { ConfigRequest } from '../gen/spark/connect/ConfigRequest';
import type { ConfigResponse__Output } from '../gen/spark/connect/ConfigResponse';
import { encodeLocalRelation } from '../arrow';
import { parseDDLSchema, type StructType } from '../types';

type AnalyzeRequest = Parameters<ExecutionClient['analyze']>[0];

/** Canned responses need only the fields a test cares about. */
export type DeepPartial<T> = T extends Buffer | Uint8Array
  ? T
  : T extends Array<infer U>
    ? Array<DeepPartial<U>>
    : T extends object
      ? { [K in keyof T]?: DeepPartial<T[K]> }
      : T;

/**
 * A fake client that records what a session sends and answers with canned responses, so DataFrames can
 * build and "run" plans with no server. Unit tests assert on `plans`, `analyzed` and `configs`.
 */
export class RecordingClient extends EventEmitter<SparkConnectClientEvents> implements ExecutionClient {
  readonly sessionId = randomUUID();
  readonly endpoint = 'sc://recording:0';
  readonly plans: Plan[] = [];
  readonly analyzed: AnalyzeRequest[] = [];
  readonly configs: NonNullable<ConfigRequest['operation']>[] = [];
  released = false;
  interrupted: string[] = [];
  /** What ExecutePlan answers for a plan (default: just ResultComplete). */
  respond: (plan: Plan) => Array<DeepPartial<ExecutePlanResponse__Output>> = () => [];
  /** What AnalyzePlan answers (default: an empty response). */
  respondAnalyze: (request: AnalyzeRequest) => DeepPartial<AnalyzePlanResponse__Output> = () => ({});
  /** What Config answers (default: no pairs). */
  respondConfig: (operation: NonNullable<ConfigRequest['operation']>) => DeepPartial<ConfigResponse__Output> = () => ({ pairs: [] });

  /**
   * Makes every query answer with these rows (one Arrow batch), so code under test can `collect()`,
   * `count()`... without a server. Rows are objects keyed by column name, or arrays in schema order.
   */
  respondWithRows(rows: Array<Record<string, unknown>> | unknown[][], schema: StructType | string): this {
    const struct = typeof schema === 'string' ? parseDDLSchema(schema) : schema;
    const data = Buffer.from(encodeLocalRelation(rows, struct));
    this.respond = () => [{ arrow_batch: { row_count: String(rows.length), data }, response_type: 'arrow_batch' }];
    return this;
  }

  get lastPlan(): Plan {
    const p = this.plans.at(-1);
    if (!p) throw new Error('no plan was executed');
    return p;
  }

  async *execute(plan: Plan, opts: ExecuteOptions = {}): AsyncGenerator<ExecutePlanResponse__Output> {
    this.plans.push(plan);
    const operationId = opts.operationId ?? randomUUID();
    for (const r of this.respond(plan)) yield response({ operation_id: operationId, ...(r as Partial<ExecutePlanResponse__Output>) });
    yield response({ operation_id: operationId, result_complete: {}, response_type: 'result_complete' });
  }

  async analyze(request: Omit<AnalyzePlanRequest, 'session_id' | 'user_context' | 'client_type'>): Promise<AnalyzePlanResponse__Output> {
    this.analyzed.push(request);
    return { session_id: this.sessionId, server_side_session_id: '', ...this.respondAnalyze(request) } as AnalyzePlanResponse__Output;
  }

  async config(operation: ConfigRequest['operation']): Promise<ConfigResponse__Output> {
    if (operation) this.configs.push(operation);
    return {
      session_id: this.sessionId,
      server_side_session_id: '',
      pairs: [],
      warnings: [],
      ...this.respondConfig(operation ?? {}),
    } as ConfigResponse__Output;
  }

  async interruptOperation(operationId: string): Promise<string[]> {
    this.interrupted.push(operationId);
    return [operationId];
  }

  async interruptAll(): Promise<string[]> {
    this.interrupted.push('*');
    return [];
  }

  async interruptTag(tag: string): Promise<string[]> {
    this.interrupted.push(`tag:${tag}`);
    return [];
  }

  async releaseSession(): Promise<void> {
    this.released = true;
  }
}

function response(r: Partial<ExecutePlanResponse__Output>): ExecutePlanResponse__Output {
  return {
    session_id: '',
    server_side_session_id: '',
    operation_id: '',
    response_id: randomUUID(),
    metrics: null,
    observed_metrics: [],
    schema: null,
    ...r,
  } as ExecutePlanResponse__Output;
}
