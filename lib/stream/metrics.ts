import type { Consumer, Kafka } from 'kafkajs';
import { sleep, type StreamingQueryProgress } from '../connect';
import type { AggregateMessage, LiveAggregateMessage } from './sensors';
import { READER_MAX_WAIT_MS } from './kafka';
import { topicOffsets } from '../kafka/topics';
import { percentiles } from '../measure/stats';
import { writeJson } from '../util/json';

export { percentiles };

/**
 * A latency for a status line, in the unit that reads best: ms under 10 s, then s, min, h and d (events
 * replayed from an old backlog are days old at receipt). '-' when there is no figure.
 */
export function formatLatency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  const s = ms / 1000;
  if (Math.abs(ms) < 10_000) return `${Math.round(ms)} ms`;
  if (Math.abs(s) < 120) return `${s.toFixed(1)} s`;
  if (Math.abs(s) < 7200) return `${(s / 60).toFixed(1)} min`;
  if (Math.abs(s) < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}

/** One micro-batch of one query, condensed from StreamingQuery.lastProgress. */
export interface BatchMetrics {
  query: string;
  batchId: number;
  timestamp: string;
  numInputRows: number;
  /**
   * Records of the source topic the batch covered: the largest source's input rows. A query over Spark
   * Connect that reads its topic in several branches has one source per branch, each counting the same records.
   */
  sourceRows: number;
  inputRowsPerSecond: number | null;
  processedRowsPerSecond: number | null;
  batchDurationMs: number | null;
  /** Spark's breakdown of the batch (addBatch, queryPlanning, walCommit, commitOffsets, ...), ms. */
  durations: Record<string, number>;
  watermark: string | null;
  stateRows: number | null;
  rowsDroppedByWatermark: number | null;
}

const num = (v: unknown): number | null =>
  typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v !== '' && Number.isFinite(Number(v)) ? Number(v) : null;

/**
 * Condenses a progress report. Spark 4.0's progress JSON over Connect carries the row counts and rates per
 * source only, so the query's figures are summed over its sources (the same numbers Spark derives).
 */
export function condenseProgress(query: string, p: StreamingQueryProgress): BatchMetrics {
  const sources = (p.sources ?? []) as Array<Record<string, unknown>>;
  const sum = (key: string): number | null => {
    const direct = num(p[key]);
    if (direct !== null) return direct;
    const values = sources.map((s) => num(s[key])).filter((v): v is number => v !== null);
    return values.length ? values.reduce((a, b) => a + b, 0) : null;
  };
  const states = (p.stateOperators ?? []) as Array<Record<string, unknown>>;
  const stateSum = (key: string): number | null => (states.length ? states.reduce((a, s) => a + (num(s[key]) ?? 0), 0) : null);
  return {
    query,
    batchId: p.batchId,
    timestamp: p.timestamp,
    numInputRows: sum('numInputRows') ?? 0,
    sourceRows: Math.max(0, ...sources.map((s) => num(s.numInputRows) ?? 0), sources.length ? 0 : (num(p.numInputRows) ?? 0)),
    inputRowsPerSecond: sum('inputRowsPerSecond'),
    processedRowsPerSecond: sum('processedRowsPerSecond'),
    batchDurationMs: num(p.batchDuration) ?? num(p.durationMs?.triggerExecution),
    durations: { ...(p.durationMs ?? {}) },
    watermark: (p.eventTime?.watermark as string | undefined) ?? null,
    stateRows: stateSum('numRowsTotal'),
    rowsDroppedByWatermark: stateSum('numRowsDroppedByWatermark'),
  };
}

/** Keeps each query's batches once (progress polling sees the same batch several times). */
export class ProgressLog {
  readonly batches: BatchMetrics[] = [];
  private readonly seen = new Set<string>();

  add(query: string, progress: StreamingQueryProgress | null): BatchMetrics | undefined {
    if (!progress) return undefined;
    const key = `${query}#${progress.runId}#${progress.batchId}`;
    if (this.seen.has(key)) return undefined;
    this.seen.add(key);
    const b = condenseProgress(query, progress);
    this.batches.push(b);
    return b;
  }

  /** Per query: batches, rows, mean input and processing rates, and batch duration percentiles. */
  summary(): Record<
    string,
    {
      batches: number;
      input_rows: number;
      source_rows: number;
      input_rows_per_s_mean: number | null;
      processed_rows_per_s_mean: number | null;
      batch_duration_ms: ReturnType<typeof percentiles>;
    }
  > {
    const out: ReturnType<ProgressLog['summary']> = {};
    const byQuery = new Map<string, BatchMetrics[]>();
    for (const b of this.batches) {
      const list = byQuery.get(b.query);
      if (list) list.push(b);
      else byQuery.set(b.query, [b]);
    }
    for (const [query, bs] of byQuery) {
      // Rates of batches that read rows (no-data batches report 0 and would drag the means down).
      const withData = bs.filter((b) => b.numInputRows > 0);
      const mean = (xs: Array<number | null>) => {
        const v = xs.filter((x): x is number => x !== null);
        return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
      };
      out[query] = {
        batches: bs.length,
        input_rows: bs.reduce((a, b) => a + b.numInputRows, 0),
        source_rows: bs.reduce((a, b) => a + b.sourceRows, 0),
        input_rows_per_s_mean: mean(withData.map((b) => b.inputRowsPerSecond)),
        processed_rows_per_s_mean: mean(withData.map((b) => b.processedRowsPerSecond)),
        batch_duration_ms: percentiles(bs.map((b) => b.batchDurationMs).filter((x): x is number => x !== null)),
      };
    }
    return out;
  }
}

export interface LatencySample {
  sensor_id: string;
  window_end: string;
  /** Kafka record timestamp (when Spark wrote the aggregate) − the window's latest event time. */
  latency_ms: number;
  /** When this process received it − the window's latest event time. */
  received_latency_ms: number;
  /** When this process received it (epoch ms). */
  received_at: number;
}

/**
 * End-to-end latency: consumes the aggregates topic from its end offsets at start (so only aggregates of
 * this run count), and measures, per aggregate, from its latest reading's event time (`last_event_ts`) to
 * the aggregate's arrival in the topic (its Kafka record timestamp) and to its receipt here.
 */
export class AggregateLatencyTracker {
  readonly samples: LatencySample[] = [];
  private consumer?: Consumer;
  private joined?: Promise<void>;
  /** Per partition, the offset after the last message received. */
  private readonly next = new Map<number, number>();
  /** Readings per closed window received, by `sensor_id|window_start` (a replayed batch's copy counts once). */
  private readonly windowReadings = new Map<string, number>();

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly onSample?: (s: LatencySample, message: AggregateMessage) => void,
  ) {}

  /**
   * Takes the topic's end offsets (only what is written from now on is measured) and starts the consumer's
   * group join in the background: the join takes seconds, and nothing written meanwhile is missed, since the
   * consumer then seeks to these offsets. `ready()` or `drain()` wait for it.
   */
  async start(): Promise<void> {
    // The topic exists with its leaders: the job created it with ensureTopics (lib/kafka/topics.ts) first.
    const offsets = await topicOffsets(this.kafka, [this.topic]);
    for (const o of offsets) this.next.set(o.partition, o.high);
    this.joined = this.join().catch(async (err: unknown) => {
      await this.stop().catch(() => undefined);
      throw err;
    });
    this.joined.catch(() => undefined); // reported by ready() / drain()
  }

  /** Resolves once the consumer has joined (rejects if it could not). */
  async ready(): Promise<void> {
    await this.joined;
  }

  /**
   * Joins the group and resolves at the first join. It seeks on EVERY join, to the offset after the last message
   * received (at first, the ends that start() took): when a join fails (it can time out on a loaded machine),
   * kafkajs restarts the consumer, run() has already returned without a group, and a seek after run() failed
   * with "Consumer group was not initialized" (twentieth session: a memory run lost all its latency figures).
   * A crash that kafkajs does not restart from rejects.
   */
  private async join(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: `spark-ts-stream-latency-${process.pid}-${Date.now()}`,
      maxWaitTimeInMs: READER_MAX_WAIT_MS,
    });
    this.consumer = consumer;
    const firstJoin = new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.GROUP_JOIN, () => {
        for (const [partition, offset] of this.next) consumer.seek({ topic: this.topic, partition, offset: String(offset) });
        resolve();
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) reject(payload.error);
      });
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: false });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const received = Date.now();
        this.next.set(partition, Math.max(this.next.get(partition) ?? 0, Number(message.offset) + 1));
        if (!message.value) return;
        let m: AggregateMessage;
        try {
          m = JSON.parse(message.value.toString()) as AggregateMessage;
        } catch {
          return;
        }
        if (typeof m.last_event_ts !== 'number') return;
        if (typeof m.readings === 'number') this.windowReadings.set(`${m.sensor_id}|${m.window_start}`, m.readings);
        const s: LatencySample = {
          sensor_id: m.sensor_id,
          window_end: m.window_end,
          latency_ms: Number(message.timestamp) - m.last_event_ts,
          received_latency_ms: received - m.last_event_ts,
          received_at: received,
        };
        this.samples.push(s);
        this.onSample?.(s, m);
      },
    });
    await firstJoin;
  }

  /**
   * Waits until every message in the topic now (its end offsets, e.g. after the queries stopped) has been
   * received, at most `maxMs`; resolves with whether it got there.
   */
  async drain(maxMs = 15_000): Promise<boolean> {
    const t0 = Date.now();
    // A consumer still restarting after failed joins must not hold the job's end up.
    const gaveUp = new AbortController();
    const joined = await Promise.race([
      (this.joined ?? Promise.resolve()).then(() => true),
      sleep(maxMs, gaveUp.signal).then(() => false),
    ]).finally(() => gaveUp.abort());
    if (!joined) return false;
    const ends = await topicOffsets(this.kafka, [this.topic]);
    const behind = () => ends.some((e) => (this.next.get(e.partition) ?? 0) < e.high);
    while (behind() && Date.now() - t0 < maxMs) await sleep(50);
    return !behind();
  }

  /** The valid readings the closed windows received so far hold (each window counted once). */
  readingsInClosedWindows(): number {
    let n = 0;
    for (const r of this.windowReadings.values()) n += r;
    return n;
  }

  async stop(): Promise<void> {
    const c = this.consumer;
    this.consumer = undefined;
    await c?.disconnect();
  }

  summary(): { basis: string; record_timestamp: ReturnType<typeof percentiles>; received: ReturnType<typeof percentiles> } {
    return {
      basis:
        'per aggregate: from the latest event ts in its window to its arrival in the aggregates topic (Kafka record timestamp) and to its receipt by the job',
      record_timestamp: percentiles(this.samples.map((s) => s.latency_ms)),
      received: percentiles(this.samples.map((s) => s.received_latency_ms)),
    };
  }
}

/**
 * Per sensor, the newest window seen so far, in order of receipt: a message for an older window is an update
 * reopened by a late reading. Within one micro-batch a sensor's old and new windows may arrive in either
 * order; an old one received first counts as newest (the conservative side: its latency stays in the
 * newest-window figures).
 */
export class NewestWindows {
  private readonly newest = new Map<string, string>();

  /** Records a message; true when its window is older than the newest already seen for its sensor. */
  isOlder(sensorId: string, windowStart: string): boolean {
    const newest = this.newest.get(sensorId);
    // Spark writes every window_start in one ISO format, so string order is time order.
    if (newest !== undefined && windowStart < newest) return true;
    this.newest.set(sensorId, windowStart);
    return false;
  }
}

/** One sensor_aggregates_live message as the latency tracker saw it. */
export interface LiveSample {
  /** Receipt minus the window's last_event_ts (ms). */
  latency_ms: number;
  /** When it was received (epoch ms). */
  received_at: number;
  final: boolean;
  /**
   * An update of a window older than the newest this sensor had already been seen in (a late reading reopened
   * it): its last_event_ts is the old window's newest reading, so its latency includes how late the reading was.
   */
  older_window: boolean;
}

/**
 * Live latency: every sensor_aggregates_live message of this run, from the newest reading in its window
 * (`last_event_ts`) to its receipt here; and separately the final updates (the closed windows).
 */
export class LiveLatencyTracker {
  private readonly tracker: AggregateLatencyTracker;
  readonly samples: LiveSample[] = [];
  private readonly newestWindows = new NewestWindows();

  constructor(kafka: Kafka, topic: string, onMessage?: (m: LiveAggregateMessage, latencyMs: number) => void) {
    this.tracker = new AggregateLatencyTracker(kafka, topic, (s, m) => {
      const live = m as LiveAggregateMessage;
      const older = this.newestWindows.isOlder(live.sensor_id, live.window_start);
      this.samples.push({ latency_ms: s.received_latency_ms, received_at: s.received_at, final: live.final === true, older_window: older });
      onMessage?.(live, s.received_latency_ms);
    });
  }

  /** Latency percentiles of the running updates (final false) received at or after `sinceMs` (epoch ms). */
  updatesSince(sinceMs: number, which: 'all' | 'newest_window' | 'older_window' = 'all'): ReturnType<typeof percentiles> {
    return percentiles(
      this.samples
        .filter((s) => !s.final && s.received_at >= sinceMs && (which === 'all' || s.older_window === (which === 'older_window')))
        .map((s) => s.latency_ms),
    );
  }

  start(): Promise<void> {
    return this.tracker.start();
  }

  ready(): Promise<void> {
    return this.tracker.ready();
  }

  drain(maxMs?: number): Promise<boolean> {
    return this.tracker.drain(maxMs);
  }

  stop(): Promise<void> {
    return this.tracker.stop();
  }

  summary(): {
    basis: string;
    live: ReturnType<typeof percentiles>;
    updates: ReturnType<typeof percentiles>;
    newest_window_updates: ReturnType<typeof percentiles>;
    older_window_updates: ReturnType<typeof percentiles>;
    final: ReturnType<typeof percentiles>;
  } {
    const latencies = (keep: (s: LiveSample) => boolean) => percentiles(this.samples.filter(keep).map((s) => s.latency_ms));
    return {
      basis:
        "per sensor_aggregates_live message: from last_event_ts (the newest reading in its window) to its receipt by the job; updates = final false, split into updates of the sensor's newest window and of an older one (reopened by a late reading, so its latency includes the reading's lateness); final = the closed window",
      live: latencies(() => true),
      updates: latencies((s) => !s.final),
      newest_window_updates: latencies((s) => !s.final && !s.older_window),
      older_window_updates: latencies((s) => !s.final && s.older_window),
      final: latencies((s) => s.final),
    };
  }
}

/** Writes a JSON report atomically (a reader never sees half of it), creating its directory. */
export function writeReport(file: string, report: unknown): void {
  writeJson(file, report);
}
