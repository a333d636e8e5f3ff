import type { StreamingQueryCommand } from './gen/spark/connect/StreamingQueryCommand';
import type { StreamingQueryCommandResult__Output } from './gen/spark/connect/StreamingQueryCommandResult';
import type { StreamingQueryManagerCommand } from './gen/spark/connect/StreamingQueryManagerCommand';
import type { StreamingQueryManagerCommandResult__Output } from './gen/spark/connect/StreamingQueryManagerCommandResult';
import { StreamingQueryException } from './errors';
import type { ActionOptions } from './dataframe';
import type { SparkSession } from './session';

export interface StreamingQueryStatus {
  message: string;
  isDataAvailable: boolean;
  isTriggerActive: boolean;
  isActive: boolean;
}

/**
 * A progress report of one micro-batch, as Spark's StreamingQueryProgress JSON (parsed). The fields listed
 * are the ones jobs read most; everything else Spark sends is kept too.
 */
export interface StreamingQueryProgress {
  id: string;
  runId: string;
  name: string | null;
  timestamp: string;
  batchId: number;
  numInputRows: number;
  inputRowsPerSecond?: number;
  processedRowsPerSecond?: number;
  durationMs?: Record<string, number>;
  eventTime?: Record<string, string>;
  stateOperators?: Array<Record<string, unknown>>;
  sources?: Array<Record<string, unknown>>;
  sink?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * Parses a progress JSON. Spark 4 leaves the totals out of the JSON (PySpark derives them from the
 * sources); they are derived here the same way, so `numInputRows` is always a number.
 */
export function parseProgress(json: string): StreamingQueryProgress {
  const p = JSON.parse(json) as StreamingQueryProgress;
  const sources = (p.sources ?? []) as Array<{ numInputRows?: number; inputRowsPerSecond?: number; processedRowsPerSecond?: number }>;
  const total = (key: 'numInputRows' | 'inputRowsPerSecond' | 'processedRowsPerSecond') => sources.reduce((a, s) => a + (Number(s[key]) || 0), 0);
  if (typeof p.numInputRows !== 'number') p.numInputRows = total('numInputRows');
  if (typeof p.inputRowsPerSecond !== 'number') p.inputRowsPerSecond = total('inputRowsPerSecond');
  if (typeof p.processedRowsPerSecond !== 'number') p.processedRowsPerSecond = total('processedRowsPerSecond');
  return p;
}

/** A running streaming query on the server; every property is a round trip. */
export class StreamingQuery {
  constructor(
    private readonly session: SparkSession,
    readonly id: string,
    readonly runId: string,
    readonly name: string | null,
  ) {}

  private async command(command: Omit<StreamingQueryCommand, 'query_id'>, opts: ActionOptions = {}): Promise<StreamingQueryCommandResult__Output> {
    const responses = await this.session.executeCommand(
      { streaming_query_command: { query_id: { id: this.id, run_id: this.runId }, ...command } },
      opts,
    );
    const result = responses.find((r) => r.streaming_query_command_result)?.streaming_query_command_result;
    if (!result) throw new Error(`the server returned no result for streaming query ${this.id}`);
    return result;
  }

  async status(): Promise<StreamingQueryStatus> {
    const s = (await this.command({ status: true })).status;
    return {
      message: s?.status_message ?? '',
      isDataAvailable: s?.is_data_available ?? false,
      isTriggerActive: s?.is_trigger_active ?? false,
      isActive: s?.is_active ?? false,
    };
  }

  async isActive(): Promise<boolean> {
    return (await this.status()).isActive;
  }

  /** The latest progress, or null before the first batch. */
  async lastProgress(): Promise<StreamingQueryProgress | null> {
    const json = (await this.command({ last_progress: true })).recent_progress?.recent_progress_json ?? [];
    return json.length ? parseProgress(json[json.length - 1]!) : null;
  }

  async recentProgress(): Promise<StreamingQueryProgress[]> {
    const json = (await this.command({ recent_progress: true })).recent_progress?.recent_progress_json ?? [];
    return json.map(parseProgress);
  }

  /** Blocks until every source's available data has been processed (for tests and bounded runs). */
  async processAllAvailable(opts: ActionOptions = {}): Promise<void> {
    await this.command({ process_all_available: true }, opts);
  }

  /** Waits for the query to end; with `timeoutMs`, resolves false if it is still running then. */
  async awaitTermination(timeoutMs?: number, opts: ActionOptions = {}): Promise<boolean> {
    const res = await this.command({ await_termination: timeoutMs === undefined ? {} : { timeout_ms: String(Math.max(0, Math.floor(timeoutMs))) } }, opts);
    const terminated = res.await_termination?.terminated ?? false;
    if (terminated) {
      const err = await this.exception();
      if (err) throw err;
    }
    return terminated;
  }

  async stop(): Promise<void> {
    await this.command({ stop: true });
  }

  /** The error that ended the query, or null. */
  async exception(): Promise<StreamingQueryException | null> {
    const e = (await this.command({ exception: true })).exception;
    if (!e?.exception_message) return null;
    return new StreamingQueryException(e.exception_message, {
      errorClass: e.error_class || undefined,
      serverMessage: e.exception_message,
      endpoint: this.session.client.endpoint,
    });
  }

  async explain(extended = false): Promise<string> {
    return (await this.command({ explain: { extended } })).explain?.result ?? '';
  }

  toString(): string {
    return `StreamingQuery(id=${this.id}, runId=${this.runId}${this.name ? `, name=${this.name}` : ''})`;
  }
}

/** `spark.streams`: the session's streaming queries. */
export class StreamingQueryManager {
  constructor(private readonly session: SparkSession) {}

  private async command(command: StreamingQueryManagerCommand): Promise<StreamingQueryManagerCommandResult__Output> {
    const responses = await this.session.executeCommand({ streaming_query_manager_command: command });
    const result = responses.find((r) => r.streaming_query_manager_command_result)?.streaming_query_manager_command_result;
    if (!result) throw new Error('the server returned no streaming query manager result');
    return result;
  }

  async active(): Promise<StreamingQuery[]> {
    const res = await this.command({ active: true });
    return (res.active?.active_queries ?? []).map((q) => new StreamingQuery(this.session, q.id?.id ?? '', q.id?.run_id ?? '', q.name ?? null));
  }

  /** The active query with this id, or null. */
  async get(id: string): Promise<StreamingQuery | null> {
    const res = await this.command({ get_query: id });
    const q = res.query;
    if (!q?.id?.id) return null;
    return new StreamingQuery(this.session, q.id.id, q.id.run_id, q.name ?? null);
  }

  async awaitAnyTermination(timeoutMs?: number): Promise<boolean> {
    const res = await this.command({ await_any_termination: timeoutMs === undefined ? {} : { timeout_ms: String(timeoutMs) } });
    return res.await_any_termination?.terminated ?? false;
  }

  async resetTerminated(): Promise<void> {
    await this.command({ reset_terminated: true });
  }
}
