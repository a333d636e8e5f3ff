import { ZSCORE_MIN_READINGS, ZSCORE_RULES, type AggregateFigures, type SensorReading } from './sensors';

/**
 * An independent reference model of the streaming job's windowed results, in plain TypeScript, for tests:
 * given the valid readings of each micro-batch in order, which windows close and what they contain.
 *
 * Spark's rules, restated (Spark >= 3.4 keeps two watermarks per micro-batch): batch k evicts with
 * wm(k) = max(event time of batches < k) − delay, and drops late rows with the previous batch's eviction
 * watermark wm(k − 1) (−∞ for the first two batches): a row is dropped from each window whose end <= wm(k − 1).
 * A window is emitted (append mode) by the batch whose wm(k) reaches its end, including the no-data batch
 * Spark runs after the last data batch. `batches` lists every batch, no-data ones as [].
 */
export interface ExpectedWindow {
  sensor_id: string;
  window_start: number;
  window_end: number;
  readings: SensorReading[];
}

export function expectedWindows(
  batches: SensorReading[][],
  opts: { windowMs: number; slideMs?: number; watermarkMs: number },
): ExpectedWindow[] {
  const slide = opts.slideMs ?? opts.windowMs;
  const windows = new Map<string, ExpectedWindow>();
  let maxEventTime = -Infinity;
  let previousWatermark = -Infinity;
  for (const batch of batches) {
    const watermark = maxEventTime - opts.watermarkMs;
    const lateWatermark = previousWatermark;
    for (const r of batch) {
      // Every window [start, start + windowMs) with start ≡ 0 (mod slide) that contains ts.
      const lastStart = Math.floor(r.ts / slide) * slide;
      for (let start = lastStart; start > r.ts - opts.windowMs; start -= slide) {
        const end = start + opts.windowMs;
        if (end <= lateWatermark) continue;
        const key = `${r.sensor_id}|${start}`;
        let w = windows.get(key);
        if (!w) windows.set(key, (w = { sensor_id: r.sensor_id, window_start: start, window_end: end, readings: [] }));
        w.readings.push(r);
      }
    }
    for (const r of batch) maxEventTime = Math.max(maxEventTime, r.ts);
    previousWatermark = watermark;
  }
  const finalWatermark = maxEventTime - opts.watermarkMs;
  return [...windows.values()]
    .filter((w) => w.window_end <= finalWatermark)
    .sort((a, b) => a.sensor_id.localeCompare(b.sensor_id) || a.window_start - b.window_start);
}

/**
 * Windows of `windowMs` sliding by `slideMs` built from closed `partialMs` tumbling windows (the job's 1 min
 * windows are merged from its 10 s partials): a reading counts in a window exactly when it counts in its
 * partial window; a window is emitted once the final watermark passes its end.
 */
export function expectedChainedWindows(
  batches: SensorReading[][],
  opts: { partialMs: number; windowMs: number; slideMs: number; watermarkMs: number },
): ExpectedWindow[] {
  const finalWatermark = Math.max(...batches.flat().map((r) => r.ts)) - opts.watermarkMs;
  const windows = new Map<string, ExpectedWindow>();
  for (const p of expectedWindows(batches, { windowMs: opts.partialMs, watermarkMs: opts.watermarkMs })) {
    for (
      let start = Math.floor(p.window_start / opts.slideMs) * opts.slideMs;
      start > p.window_start - opts.windowMs;
      start -= opts.slideMs
    ) {
      const end = start + opts.windowMs;
      if (end > finalWatermark || p.window_end > end) continue;
      const key = `${p.sensor_id}|${start}`;
      let w = windows.get(key);
      if (!w) windows.set(key, (w = { sensor_id: p.sensor_id, window_start: start, window_end: end, readings: [] }));
      w.readings.push(...p.readings);
    }
  }
  return [...windows.values()].sort((a, b) => a.sensor_id.localeCompare(b.sensor_id) || a.window_start - b.window_start);
}

export interface ExpectedAggregate extends AggregateFigures {
  window_start: number;
  window_end: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Sample standard deviation, two-pass (null for fewer than 2 values, as Spark's stddev_samp). */
export function sampleStddev(xs: number[]): number | null {
  if (xs.length < 2) return null;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) * (x - m), 0) / (xs.length - 1));
}

export function aggregate(w: ExpectedWindow): ExpectedAggregate {
  const t = w.readings.map((r) => r.temperature);
  return {
    sensor_id: w.sensor_id,
    window_start: w.window_start,
    window_end: w.window_end,
    readings: w.readings.length,
    temperature_avg: mean(t),
    temperature_min: Math.min(...t),
    temperature_max: Math.max(...t),
    temperature_stddev: sampleStddev(t),
    humidity_avg: mean(w.readings.map((r) => r.humidity)),
    pressure_avg: mean(w.readings.map((r) => r.pressure)),
  };
}

export interface ExpectedZAlert {
  sensor_id: string;
  seq: number;
  metric: string;
  zscore: number;
}

/** zscore alerts of closed 10 s windows: each reading against the window's other readings (two-pass). */
export function expectedZscoreAlerts(windows: ExpectedWindow[]): ExpectedZAlert[] {
  const out: ExpectedZAlert[] = [];
  for (const w of windows) {
    if (w.readings.length < ZSCORE_MIN_READINGS) continue;
    w.readings.forEach((r, i) => {
      for (const rule of ZSCORE_RULES) {
        const others = w.readings.filter((_, j) => j !== i).map((o) => o[rule.metric]);
        const m = mean(others);
        const sd = sampleStddev(others) ?? 0;
        const z = (r[rule.metric] - m) / Math.max(sd, rule.stddevFloor);
        if (Math.abs(z) > rule.threshold) out.push({ sensor_id: r.sensor_id, seq: r.seq, metric: rule.metric, zscore: z });
      }
    });
  }
  return out;
}
