import Table from 'cli-table3';
import { percentiles } from '../measure/stats';
import type { AggregateMessage, AlertMessage, LiveAggregateMessage } from './sensors';

/**
 * What the live view knows: per sensor its open window (the newest running update) and its last closed
 * window, recent alerts, latencies and the processed rate.
 */
export class LiveViewState {
  /** The last closed window per sensor. */
  readonly latest = new Map<string, { aggregate: AggregateMessage; latencyMs: number; receivedAt: number }>();
  /** The newest open window per sensor (running update, final false). */
  readonly open = new Map<string, { aggregate: AggregateMessage; latencyMs: number; receivedAt: number }>();
  /** Readings counted so far per window (sensor@window_start), for the processed rate. */
  private readonly windowReadings = new Map<string, number>();
  private readonly finals = new Set<string>();
  private readingsTotal = 0;
  private readonly readingsHistory: Array<{ at: number; total: number }> = [];
  windowsClosed = 0;
  readonly alerts: Array<{ alert: AlertMessage; receivedAt: number }> = [];
  /** Recent end-to-end latencies (ms), newest last. */
  readonly latencies: number[] = [];
  aggregatesReceived = 0;
  alertsReceived = 0;
  /** Messages that were not the JSON this view expects. */
  unreadable = 0;

  constructor(
    readonly maxAlerts = 10,
    readonly maxLatencies = 5000,
  ) {}

  /** An aggregate arrived at `receivedAt` (epoch ms): its latency runs from its window's latest event time. */
  addAggregate(a: AggregateMessage, receivedAt: number): number {
    const latencyMs = receivedAt - a.last_event_ts;
    this.aggregatesReceived++;
    const prev = this.latest.get(a.sensor_id);
    // Late windows can arrive after newer ones: keep the newest window per sensor.
    if (!prev || Date.parse(prev.aggregate.window_start) <= Date.parse(a.window_start))
      this.latest.set(a.sensor_id, { aggregate: a, latencyMs, receivedAt });
    this.pushLatency(latencyMs);
    return latencyMs;
  }

  /**
   * A sensor_aggregates_live message: a running update (final false) or the window's closed row (final
   * true). A final row is the window's last word: a running update of a window already final is stale and ignored.
   */
  addLive(m: LiveAggregateMessage, receivedAt: number): number {
    const key = `${m.sensor_id}@${m.window_start}`;
    const latencyMs = receivedAt - m.last_event_ts;
    if (!m.final && this.finals.has(key)) return latencyMs;
    this.readingsTotal += m.readings - (this.windowReadings.get(key) ?? 0);
    this.windowReadings.set(key, m.readings);
    this.readingsHistory.push({ at: receivedAt, total: this.readingsTotal });
    while (this.readingsHistory.length > 2 && receivedAt - this.readingsHistory[1].at > 10_000) this.readingsHistory.shift();
    if (m.final) {
      this.finals.add(key);
      this.windowsClosed++;
      const o = this.open.get(m.sensor_id);
      if (o && o.aggregate.window_start === m.window_start) this.open.delete(m.sensor_id);
      return this.addAggregate(m, receivedAt);
    }
    this.aggregatesReceived++;
    const prev = this.open.get(m.sensor_id);
    if (!prev || Date.parse(prev.aggregate.window_start) <= Date.parse(m.window_start))
      this.open.set(m.sensor_id, { aggregate: m, latencyMs, receivedAt });
    this.pushLatency(latencyMs);
    // Forget the bookkeeping of windows long closed.
    if (this.finals.size > 100_000) {
      this.finals.clear();
      this.windowReadings.clear();
    }
    return latencyMs;
  }

  /** Readings per second over about the last 10 s (from the windows' growing counts). */
  processedRate(): number | null {
    const h = this.readingsHistory;
    if (h.length < 2) return null;
    const first = h[0];
    const last = h[h.length - 1];
    return last.at > first.at ? ((last.total - first.total) * 1000) / (last.at - first.at) : null;
  }

  private pushLatency(latencyMs: number): void {
    this.latencies.push(latencyMs);
    if (this.latencies.length > this.maxLatencies) this.latencies.splice(0, this.latencies.length - this.maxLatencies);
  }

  addAlert(a: AlertMessage, receivedAt: number): void {
    this.alertsReceived++;
    this.alerts.push({ alert: a, receivedAt });
    if (this.alerts.length > this.maxAlerts) this.alerts.splice(0, this.alerts.length - this.maxAlerts);
  }

  latency(): ReturnType<typeof percentiles> {
    return percentiles(this.latencies);
  }
}

/** Parses a sensor_aggregates_live value; undefined when it is not one. */
export function parseLiveAggregate(value: string): LiveAggregateMessage | undefined {
  const v = parseAggregate(value) as LiveAggregateMessage | undefined;
  return v && typeof v.final === 'boolean' ? v : undefined;
}

/** Parses a message value as an aggregate or an alert; undefined when it is not one. */
export function parseAggregate(value: string): AggregateMessage | undefined {
  try {
    const v = JSON.parse(value) as AggregateMessage;
    return typeof v.sensor_id === 'string' && typeof v.window_start === 'string' && typeof v.last_event_ts === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

export function parseAlert(value: string): AlertMessage | undefined {
  try {
    const v = JSON.parse(value) as AlertMessage;
    return typeof v.sensor_id === 'string' && typeof v.rule === 'string' && typeof v.ts === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

const f = (x: number | null | undefined, digits = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));
const ms = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${Math.round(x)}`);
/** No rule between rows: the view has to fit a terminal. */
const COMPACT = { chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' }, style: { head: [], border: [] } };
const hms = (iso: string | number | null) => (iso === null ? '-' : new Date(iso).toISOString().slice(11, 19));

/** The full-screen view: a table of the latest aggregates per sensor, the recent alerts and the latency. */
export function renderLiveView(state: LiveViewState, opts: { rows: number; now: number; title?: string }): string {
  const sensors = new Table({
    head: [
      'sensor',
      'open window',
      'readings',
      'temp avg',
      'last closed window',
      'readings',
      'temp avg',
      'min',
      'max',
      'stddev',
      'humidity',
      'pressure',
      'latency ms',
    ],
    ...COMPACT,
  });
  const ids = [...new Set([...state.latest.keys(), ...state.open.keys()])].sort();
  for (const id of ids.slice(0, opts.rows)) {
    const o = state.open.get(id);
    const c = state.latest.get(id);
    const a = c?.aggregate;
    sensors.push([
      id,
      o ? `${hms(o.aggregate.window_start)}–${hms(o.aggregate.window_end)}` : '-',
      o ? String(o.aggregate.readings) : '-',
      o ? f(o.aggregate.temperature_avg) : '-',
      a ? `${hms(a.window_start)}–${hms(a.window_end)}` : '-',
      a ? String(a.readings) : '-',
      f(a?.temperature_avg),
      f(a?.temperature_min),
      f(a?.temperature_max),
      f(a?.temperature_stddev, 3),
      f(a?.humidity_avg, 1),
      f(a?.pressure_avg, 1),
      ms(o && (!c || o.receivedAt >= c.receivedAt) ? o.latencyMs : c?.latencyMs),
    ]);
  }
  const alerts = new Table({ head: ['event time', 'sensor', 'rule', 'metric', 'value', 'z'], ...COMPACT });
  for (const { alert: a } of [...state.alerts].reverse()) alerts.push([hms(a.ts), a.sensor_id, a.rule, a.metric, f(a.value), f(a.zscore)]);
  const l = state.latency();
  const rate = state.processedRate();
  const lines = [
    `${opts.title ?? 'spark-ts stream-watch'} — ${new Date(opts.now).toISOString().slice(0, 19)}Z`,
    `updates ${state.aggregatesReceived}, windows closed ${state.windowsClosed}, sensors ${ids.length}${ids.length > opts.rows ? ` (showing ${opts.rows})` : ''}, alerts ${state.alertsReceived}${state.unreadable ? `, unreadable ${state.unreadable}` : ''}` +
      `, processed ${rate === null ? '-' : Math.round(rate)} readings/s`,
    `live latency (newest reading in the window → update received), last ${l.count}: p50 ${ms(l.p50)} ms, p95 ${ms(l.p95)} ms, p99 ${ms(l.p99)} ms`,
    ids.length ? sensors.toString() : '(no aggregates yet: the first live update comes within a second or two of the first readings)',
    'recent alerts',
    state.alerts.length ? alerts.toString() : '(none)',
  ];
  return lines.join('\n');
}

/** One plain line per aggregate (off a TTY). */
export function aggregateLine(a: AggregateMessage, latencyMs: number): string {
  return (
    `aggregate ${a.sensor_id} ${a.window_start}..${a.window_end} readings=${a.readings} temp_avg=${f(a.temperature_avg)} ` +
    `min=${f(a.temperature_min)} max=${f(a.temperature_max)} stddev=${f(a.temperature_stddev, 3)} humidity_avg=${f(a.humidity_avg, 1)} ` +
    `pressure_avg=${f(a.pressure_avg, 1)} latency_ms=${Math.round(latencyMs)}`
  );
}

/** One plain line per alert (off a TTY). */
export function alertLine(a: AlertMessage): string {
  return `alert ${a.rule} ${a.sensor_id} ${a.metric}=${f(a.value)}${a.zscore !== null ? ` z=${f(a.zscore)}` : ''} ts=${new Date(a.ts).toISOString()} seq=${a.seq}`;
}
