import type { ModelFile } from '../cdc/model-file';
import { percentiles } from '../measure/stats';
import type { AggregateMessage, AlertMessage } from '../stream/sensors';

/** A sensor_aggregates(_live) value: the pinned columns plus `last_event_ts`; the live topic adds `final`. */
export type DashboardAggregate = AggregateMessage & { final?: boolean };

/** Where the dashboard's Kafka connection stands (the page shows it). */
export interface KafkaStatus {
  state: 'connecting' | 'connected' | 'reconnecting';
  bootstrap_servers: string;
  /** The topics consumed now (only those that exist are subscribed). */
  topics: string[];
  /** The topic the aggregates come from: the live topic when it exists. */
  aggregates_topic: string | null;
  /** The last failure, while not connected. */
  error: string | null;
  /** Connection attempts that failed since the start. */
  failures: number;
  since: string;
}

/** The `model` event: the CDC model card's figures, read from model.json. */
export interface ModelSummary {
  path: string;
  /** false while model.json is absent or unreadable (`error` says why). */
  present: boolean;
  error?: string;
  n?: number;
  events_applied?: number;
  events_skipped?: number;
  tombstones?: number;
  dlq?: number;
  table_rows?: number;
  features?: number;
  lambda?: number;
  auc?: number | null;
  train_auc?: number | null;
  updated_at?: string;
}

/** The `dlq` event: dead-lettered records by reason since the dashboard's history start. */
export interface DlqCounts {
  total: number;
  counts: Record<string, number>;
}

/** The `stats` event, once a second. */
export interface StatsEvent {
  /** Epoch ms of this sample. */
  t: number;
  /** Readings produced into the data topic per second (its end offsets), null while it does not exist. */
  in_per_s: number | null;
  /** Messages the dashboard consumed per second, by kind. */
  out_per_s: { aggregates: number; alerts: number; dlq: number };
  /** End-to-end latency (newest event in the window → aggregate received here), over the last `latency_window_ms`. */
  latency_ms: { count: number; p50: number | null; p95: number | null; p99: number | null; max: number | null };
  latency_window_ms: number;
  totals: { aggregates: number; alerts: number; dlq: number; unreadable: number };
  sensors: number;
}

/** Summarizes model.json for the card (never more than these figures). */
export function summarizeModel(path: string, model: ModelFile | undefined, error?: string): ModelSummary {
  if (!model) return { path, present: false, ...(error ? { error } : {}) };
  if (typeof model.n !== 'number' || typeof model.events_applied !== 'number')
    return { path, present: false, error: `${path} is not a CDC model.json (no n / events_applied)` };
  return {
    path,
    present: true,
    n: model.n,
    events_applied: model.events_applied,
    events_skipped: model.events_skipped,
    tombstones: model.tombstones,
    dlq: model.dlq,
    table_rows: model.table_rows,
    features: Array.isArray(model.features) ? model.features.length : undefined,
    lambda: model.lambda,
    auc: model.metrics?.holdout?.roc_auc ?? null,
    train_auc: model.metrics?.train?.roc_auc ?? null,
    updated_at: model.updated_at,
  };
}

/** A DLQ value's reason (`{raw, reason, ...}`); unreadable values count as `unreadable`. */
export function dlqReason(value: string): string {
  try {
    const v = JSON.parse(value) as { reason?: unknown };
    return typeof v.reason === 'string' && v.reason ? v.reason : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/**
 * What the dashboard knows, independent of Kafka and HTTP: per-sensor windows of the last `historyMs` of
 * event time, recent alerts, DLQ counts, the model card, throughput and latency samples. Everything is
 * bounded, so a long run keeps a constant size.
 */
export class DashboardState {
  /** sensor → window start (epoch ms) → the newest value of that window. */
  readonly windows = new Map<string, Map<number, DashboardAggregate>>();
  readonly alerts: AlertMessage[] = [];
  readonly dlq: DlqCounts = { total: 0, counts: {} };
  model: ModelSummary | undefined;
  readonly stats: StatsEvent[] = [];
  readonly totals = { aggregates: 0, alerts: 0, dlq: 0, unreadable: 0 };
  private newestWindow = -Infinity;
  /** [received at, latency] of recent aggregates. */
  private latencies: Array<[number, number]> = [];
  private sinceTick = { aggregates: 0, alerts: 0, dlq: 0 };
  private dataOffsets: { t: number; sum: number } | undefined;
  private inRate: number | null = null;
  private dlqChanged = false;

  constructor(
    readonly opts: { historyMs: number; maxAlerts: number; maxStats: number; latencyWindowMs: number } = {
      historyMs: 5 * 60_000,
      maxAlerts: 200,
      maxStats: 600,
      latencyWindowMs: 10_000,
    },
  ) {}

  /** Keeps the newest value of its window (the live topic sends several per window); returns the latency. */
  addAggregate(a: DashboardAggregate, receivedAt: number): number {
    this.totals.aggregates++;
    this.sinceTick.aggregates++;
    const start = Date.parse(a.window_start);
    let perSensor = this.windows.get(a.sensor_id);
    if (!perSensor) this.windows.set(a.sensor_id, (perSensor = new Map()));
    const prev = perSensor.get(start);
    // A replayed or older update of the window (same or earlier newest event) does not replace a newer one.
    if (!prev || prev.last_event_ts <= a.last_event_ts || (a.final && !prev.final)) perSensor.set(start, a);
    if (start > this.newestWindow) {
      this.newestWindow = start;
      this.prune();
    }
    const latency = receivedAt - a.last_event_ts;
    this.latencies.push([receivedAt, latency]);
    return latency;
  }

  addAlert(a: AlertMessage): void {
    this.totals.alerts++;
    this.sinceTick.alerts++;
    this.alerts.push(a);
    if (this.alerts.length > this.opts.maxAlerts) this.alerts.splice(0, this.alerts.length - this.opts.maxAlerts);
  }

  addDlq(reason: string): void {
    this.totals.dlq++;
    this.sinceTick.dlq++;
    this.dlq.total++;
    this.dlq.counts[reason] = (this.dlq.counts[reason] ?? 0) + 1;
    this.dlqChanged = true;
  }

  addUnreadable(): void {
    this.totals.unreadable++;
  }

  /** True once after the DLQ counts changed (the server then sends a `dlq` event). */
  takeDlqChange(): boolean {
    const changed = this.dlqChanged;
    this.dlqChanged = false;
    return changed;
  }

  /** Every retained window, oldest first (what a new page is sent before live events). */
  retainedAggregates(): DashboardAggregate[] {
    const all: DashboardAggregate[] = [];
    for (const perSensor of this.windows.values()) all.push(...perSensor.values());
    return all.sort((x, y) => Date.parse(x.window_start) - Date.parse(y.window_start) || x.sensor_id.localeCompare(y.sensor_id));
  }

  /**
   * One stats sample at `now`: message rates since the previous tick, the data topic's produce rate from two
   * samples of its summed end offsets (null when the topic is missing), latency percentiles over the recent window.
   */
  tick(now: number, previousTick: number, dataEndOffsets?: { t: number; sum: number }): StatsEvent {
    const seconds = Math.max(0.001, (now - previousTick) / 1000);
    if (!dataEndOffsets) {
      this.dataOffsets = undefined;
      this.inRate = null;
    } else {
      if (this.dataOffsets && dataEndOffsets.t > this.dataOffsets.t)
        this.inRate = Math.max(0, (dataEndOffsets.sum - this.dataOffsets.sum) / ((dataEndOffsets.t - this.dataOffsets.t) / 1000));
      this.dataOffsets = dataEndOffsets;
    }
    const inPerS = this.inRate;
    const cutoff = now - this.opts.latencyWindowMs;
    this.latencies = this.latencies.filter(([t]) => t >= cutoff);
    const p = percentiles(this.latencies.map(([, l]) => l));
    const sample: StatsEvent = {
      t: now,
      in_per_s: inPerS,
      out_per_s: {
        aggregates: this.sinceTick.aggregates / seconds,
        alerts: this.sinceTick.alerts / seconds,
        dlq: this.sinceTick.dlq / seconds,
      },
      latency_ms: p,
      latency_window_ms: this.opts.latencyWindowMs,
      totals: { ...this.totals },
      sensors: this.windows.size,
    };
    this.sinceTick = { aggregates: 0, alerts: 0, dlq: 0 };
    this.stats.push(sample);
    if (this.stats.length > this.opts.maxStats) this.stats.splice(0, this.stats.length - this.opts.maxStats);
    return sample;
  }

  private prune(): void {
    const cutoff = this.newestWindow - this.opts.historyMs;
    for (const [sensor, perSensor] of this.windows) {
      for (const start of perSensor.keys()) if (start < cutoff) perSensor.delete(start);
      if (perSensor.size === 0) this.windows.delete(sensor);
    }
  }
}
