import type { StreamingQueryCommand } from './gen/spark/connect/StreamingQueryCommand';
import type { StreamingQueryCommandResult__Output } from './gen/spark/connect/StreamingQueryCommandResult';
import type { StreamingQueryManagerCommand } from './gen/spark/connect/StreamingQueryManagerCommand';
import type { StreamingQueryManagerCommandResult__Output } from './gen/spark/connect/StreamingQueryManagerCommandResult';
import { StreamingQueryException } from './errors';
import type { ActionOptions } from './dataframe';
import type { SparkSession } from './session';
import { commandPlan } from './plan';

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
  const total = (key: 'numInputRows' | 'inputRowsPerSecond' | 'processedRowsPerSecond') =>
    sources.reduce((a, s) => a + (Number(s[key]) || 0), 0);
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

  private async command(
    command: Omit<StreamingQueryCommand, 'query_id'>,
    opts: ActionOptions = {},
  ): Promise<StreamingQueryCommandResult__Output> {
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
    const res = await this.command(
      { await_termination: timeoutMs === undefined ? {} : { timeout_ms: String(Math.max(0, Math.floor(timeoutMs))) } },
      opts,
    );
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

/** A query started (delivered with the `start()` that started it, as in PySpark over Connect). */
export interface QueryStartedEvent {
  id: string;
  runId: string;
  name: string | null;
  timestamp: string;
  json: string;
}
export interface QueryProgressEvent {
  progress: StreamingQueryProgress;
  json: string;
}
export interface QueryIdleEvent {
  id: string;
  runId: string;
  timestamp: string;
  json: string;
}
export interface QueryTerminatedEvent {
  id: string;
  runId: string;
  exception: string | null;
  errorClassOnException: string | null;
  json: string;
}

/**
 * `spark.streams.addListener(listener)`: Spark's StreamingQueryListener, over StreamingQueryListenerBusCommand.
 * The callbacks run in this process; events come from every streaming query of the session.
 */
export interface StreamingQueryListener {
  onQueryStarted?(event: QueryStartedEvent): void;
  onQueryProgress?(event: QueryProgressEvent): void;
  onQueryIdle?(event: QueryIdleEvent): void;
  onQueryTerminated?(event: QueryTerminatedEvent): void;
}

type JsonObject = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : v == null ? '' : String(v));
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** `spark.streams`: the session's streaming queries. */
export class StreamingQueryManager {
  private readonly listeners = new Set<StreamingQueryListener>();
  /** The long-running listener-bus command while at least one listener is registered. */
  private bus?: { done: Promise<void>; abort: AbortController; detaching: boolean };
  private busError?: unknown;

  constructor(private readonly session: SparkSession) {}

  /** Listeners registered with addListener (in order). */
  listListeners(): StreamingQueryListener[] {
    return [...this.listeners];
  }

  /**
   * Registers `listener`. The first one starts the server's listener bus for this session (a long-running
   * command whose responses carry the events); this resolves once the server has added it, so no event of a
   * query started afterwards is missed.
   */
  async addListener(listener: StreamingQueryListener): Promise<void> {
    this.listeners.add(listener);
    if (this.bus) return;
    let added!: () => void;
    let failed!: (e: unknown) => void;
    const ready = new Promise<void>((resolve, reject) => {
      added = resolve;
      failed = reject;
    });
    const abort = new AbortController();
    const stream = this.session.client.execute(commandPlan({ streaming_query_listener_bus_command: { add_listener_bus_listener: true } }), {
      signal: abort.signal,
    });
    const bus: { done: Promise<void>; abort: AbortController; detaching: boolean } = { done: Promise.resolve(), abort, detaching: false };
    bus.done = (async () => {
      try {
        for await (const response of stream) {
          const result = response.streaming_query_listener_events_result;
          if (!result) continue;
          if (result.listener_bus_listener_added) added();
          for (const e of result.events ?? []) this.dispatch(e.event_type, e.event_json);
        }
        added(); // ended before saying so: nothing more will come
      } catch (err) {
        if (!bus.detaching) this.busError = err; // an abort while detaching is how it ends, not a failure
        failed(err);
      } finally {
        if (this.bus === bus) this.bus = undefined;
      }
    })();
    this.bus = bus;
    try {
      await ready;
    } catch (err) {
      this.listeners.delete(listener);
      throw err;
    }
  }

  /** Unregisters `listener`; removing the last one stops the server's listener bus for this session. */
  async removeListener(listener: StreamingQueryListener): Promise<void> {
    if (!this.listeners.delete(listener) || this.listeners.size > 0 || !this.bus) return;
    const { done } = this.bus;
    await this.session.executeCommand({ streaming_query_listener_bus_command: { remove_listener_bus_listener: true } });
    await done; // the server completes the long-running command once the bus listener is removed
  }

  /**
   * @internal Called by `spark.stop()` before the session is released: forgets every listener and detaches
   * the server's listener bus (remove_listener_bus_listener, then the long-running command's end), so the
   * command is not left to die with the session. If the server does not end it within `graceMs` (or cannot
   * be asked), the stream is aborted (Interrupt + ReleaseExecute). Never throws.
   */
  async detachAll(graceMs = 5000): Promise<void> {
    this.listeners.clear();
    const bus = this.bus;
    if (!bus) return;
    bus.detaching = true;
    const removed = await this.session
      .executeCommand({ streaming_query_listener_bus_command: { remove_listener_bus_listener: true } })
      .then(
        () => true,
        () => false,
      );
    if (removed) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([bus.done, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
    if (this.bus === bus) bus.abort.abort();
    await bus.done;
  }

  /** The error that ended the listener bus stream, if it failed (listeners then receive nothing more). */
  get listenerBusError(): unknown {
    return this.busError;
  }

  /** @internal Delivers a started event (from a WriteStreamOperationStartResult) to the listeners. */
  postQueryStarted(json: string): void {
    this.dispatch('QUERY_STARTED', json);
  }

  private dispatch(type: string, json: string): void {
    if (this.listeners.size === 0) return;
    let o: JsonObject;
    try {
      o = JSON.parse(json) as JsonObject;
    } catch {
      return;
    }
    for (const l of [...this.listeners]) {
      try {
        switch (type) {
          case 'QUERY_STARTED':
            l.onQueryStarted?.({ id: str(o.id), runId: str(o.runId), name: strOrNull(o.name), timestamp: str(o.timestamp), json });
            break;
          case 'QUERY_PROGRESS_EVENT':
            l.onQueryProgress?.({ progress: parseProgress(JSON.stringify(o.progress ?? o)), json });
            break;
          case 'QUERY_IDLE_EVENT':
            l.onQueryIdle?.({ id: str(o.id), runId: str(o.runId), timestamp: str(o.timestamp), json });
            break;
          case 'QUERY_TERMINATED_EVENT':
            l.onQueryTerminated?.({
              id: str(o.id),
              runId: str(o.runId),
              exception: strOrNull(o.exception),
              errorClassOnException: strOrNull(o.errorClassOnException),
              json,
            });
            break;
          default:
            break;
        }
      } catch {
        // A throwing listener must not stop the others or the event stream (Spark's bus does the same).
      }
    }
  }

  private async command(command: StreamingQueryManagerCommand): Promise<StreamingQueryManagerCommandResult__Output> {
    const responses = await this.session.executeCommand({ streaming_query_manager_command: command });
    const result = responses.find((r) => r.streaming_query_manager_command_result)?.streaming_query_manager_command_result;
    if (!result) throw new Error('the server returned no streaming query manager result');
    return result;
  }

  async active(): Promise<StreamingQuery[]> {
    const res = await this.command({ active: true });
    return (res.active?.active_queries ?? []).map(
      (q) => new StreamingQuery(this.session, q.id?.id ?? '', q.id?.run_id ?? '', q.name ?? null),
    );
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
