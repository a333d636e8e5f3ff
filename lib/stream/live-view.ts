import Table from 'cli-table3';
import { percentiles } from './metrics';
import type { AggregateMessage, AlertMessage } from './sensors';

/** What the live view knows: the latest aggregate per sensor, recent alerts and end-to-end latencies. */
export class LiveViewState {
  readonly latest = new Map<string, { aggregate: AggregateMessage; latencyMs: number; receivedAt: number }>();
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
    if (!prev || Date.parse(prev.aggregate.window_start) <= Date.parse(a.window_start)) this.latest.set(a.sensor_id, { aggregate: a, latencyMs, receivedAt });
    this.latencies.push(latencyMs);
    if (this.latencies.length > this.maxLatencies) this.latencies.splice(0, this.latencies.length - this.maxLatencies);
    return latencyMs;
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
    head: ['sensor', 'window (UTC)', 'readings', 'temp avg', 'min', 'max', 'stddev', 'humidity', 'pressure', 'e2e ms'],
    ...COMPACT,
  });
  const ids = [...state.latest.keys()].sort();
  for (const id of ids.slice(0, opts.rows)) {
    const { aggregate: a, latencyMs } = state.latest.get(id)!;
    sensors.push([
      id,
      `${hms(a.window_start)}–${hms(a.window_end)}`,
      String(a.readings),
      f(a.temperature_avg),
      f(a.temperature_min),
      f(a.temperature_max),
      f(a.temperature_stddev, 3),
      f(a.humidity_avg, 1),
      f(a.pressure_avg, 1),
      ms(latencyMs),
    ]);
  }
  const alerts = new Table({ head: ['event time', 'sensor', 'rule', 'metric', 'value', 'z'], ...COMPACT });
  for (const { alert: a } of [...state.alerts].reverse()) alerts.push([hms(a.ts), a.sensor_id, a.rule, a.metric, f(a.value), f(a.zscore)]);
  const l = state.latency();
  const lines = [
    `${opts.title ?? 'spark-ts stream-watch'} — ${new Date(opts.now).toISOString().slice(0, 19)}Z`,
    `aggregates ${state.aggregatesReceived}, sensors ${ids.length}${ids.length > opts.rows ? ` (showing ${opts.rows})` : ''}, alerts ${state.alertsReceived}${state.unreadable ? `, unreadable ${state.unreadable}` : ''}`,
    `end-to-end latency (event ts → aggregate received), last ${l.count}: p50 ${ms(l.p50)} ms, p95 ${ms(l.p95)} ms, p99 ${ms(l.p99)} ms`,
    ids.length ? sensors.toString() : '(no aggregates yet: windows are emitted when the watermark passes their end)',
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
