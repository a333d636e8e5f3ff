import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { micros, streamSuite } from '../support/stream';
import { resolveBootstrapServers } from '../../lib/kafka/config';
import { SparkSession } from '../../lib/connect';
import { parseJobParams, type JobContext } from '../../lib/cli/job';
import streamJob from '../../jobs/stream';
import { connectIdempotentProducer, ensureTopics, readTopic, sendBatch, streamKafka } from '../../lib/stream/kafka';
import { SensorSimulator, type EventKind, type SimulatedEvent } from '../../lib/stream/simulate';
import { aggregate, expectedChainedWindows, expectedWindows, expectedZscoreAlerts } from '../../lib/stream/expected';
import type { AggregateMessage, AlertMessage, SensorReading } from '../../lib/stream/sensors';

/** 2026-01-15 12:00:00 UTC: on a 1 min boundary, so every window below is easy to name. */
const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const WATERMARK_MS = 10_000;
const SENSORS = 4;

interface Topics {
  data: string;
  dlq: string;
  aggregates: string;
  alerts: string;
}

function jobArgs(dir: string, topics: Topics, extra: Record<string, unknown> = {}) {
  const defaults = Object.fromEntries(
    Object.entries(streamJob.options)
      .filter(([, o]) => o.default !== undefined)
      .map(([k, o]) => [k, o.default]),
  );
  return {
    ...defaults,
    topic: topics.data,
    'starting-offsets': 'earliest',
    trigger: 'available-now',
    output: path.join(dir, 'out'),
    checkpoint: path.join(dir, 'checkpoint'),
    'dlq-topic': topics.dlq,
    'aggregates-topic': topics.aggregates,
    'alerts-topic': topics.alerts,
    metrics: path.join(dir, 'stream-metrics.json'),
    ...extra,
  } as Parameters<NonNullable<typeof streamJob.validate>>[0];
}

function context(): JobContext & { lines: string[] } {
  const lines: string[] = [];
  return {
    signal: new AbortController().signal,
    verbose: false,
    root: process.cwd(),
    resolvePath: (p: string) => path.resolve(process.cwd(), p),
    bootstrapServers: resolveBootstrapServers(),
    interactive: false,
    lines,
    log: (m: string) => lines.push(m),
    onShutdown: () => undefined,
  };
}

/**
 * The known event set, in phases that Spark sees as separate micro-batches.
 * Phase A: 4 sensors, one reading per second from T0 to T0+54 s (windows [0,10) .. [50,60)); spikes (one
 * per sensor-window), out-of-bounds readings, each kind of malformed record, and out-of-order readings.
 * Phase A2 (single-run test only): on-time readings T0+55 s .. T0+109 s and one more malformed record.
 * Phase B, after a last on-time second L (54 or 109): late readings inside the watermark (L − 7.5 s:
 * after the current watermark, in a window still open), late readings outside it (T0+15 s: window [10,20)
 * closed long ago, dropped), on-time readings L+1 .. L+15 s, one malformed record, and a far-future flush
 * reading per sensor (T0+1 h) whose watermark closes every window before it (the flush windows stay open
 * and are never emitted).
 * Spark drops late rows with the previous batch's watermark (see lib/stream/expected.ts), so the late
 * readings of B are judged against max(A) − 10 s = T0+44.03 s in both tests: the restart test has a no-data
 * batch between A and B, the single-run test has A2 there.
 */
function eventSet(seed: number, withA2: boolean): { phaseA: SimulatedEvent[]; phaseA2: SimulatedEvent[]; phaseB: SimulatedEvent[] } {
  const sim = new SensorSimulator({ sensors: SENSORS, seed, anomalyRate: 0, lateRate: 0, maxLatenessMs: 60_000, malformedRate: 0 });
  const at = (s: number, second: number) => T0 + second * 1000 + s * 10;
  const faults = new Map<string, EventKind>([
    ['0:13', 'spike'],
    ['1:27', 'spike'],
    ['2:41', 'spike'],
    ['3:5', 'spike'],
    ['0:52', 'spike'],
    ['1:8', 'out_of_bounds'],
    ['3:33', 'out_of_bounds'],
    ['0:20', 'not_json'],
    ['2:22', 'missing_field'],
    ['3:44', 'wrong_type'],
    ['1:36', 'wrong_type'],
  ]);
  const phaseA: SimulatedEvent[] = [];
  for (let t = 0; t <= 54; t++) {
    for (let s = 0; s < SENSORS; s++) {
      // Out of order inside the batch: sensor 2 at t = 30..32 arrives 3 s late (same batch, so not late for Spark).
      if (s === 2 && t >= 30 && t <= 32) phaseA.push(sim.make(s, at(s, t + 3), 'late', 3000));
      else phaseA.push(sim.make(s, at(s, t), faults.get(`${s}:${t}`) ?? 'normal'));
    }
  }
  const phaseA2: SimulatedEvent[] = [];
  if (withA2)
    for (let t = 55; t <= 109; t++)
      for (let s = 0; s < SENSORS; s++) phaseA2.push(sim.make(s, at(s, t), t === 70 && s === 2 ? 'missing_field' : 'normal'));
  const last = withA2 ? 109 : 54;
  const phaseB: SimulatedEvent[] = [];
  for (let s = 0; s < SENSORS; s++) {
    phaseB.push(sim.make(s, at(s, last), 'late', 7_500)); // inside the watermark
    phaseB.push(sim.make(s, at(s, last), 'late', at(s, last) - (T0 + 15_000))); // T0+15 s: outside, dropped
  }
  for (let t = last + 1; t <= last + 15; t++)
    for (let s = 0; s < SENSORS; s++) phaseB.push(sim.make(s, at(s, t), t === last + 6 && s === 1 ? 'not_json' : 'normal'));
  for (let s = 0; s < SENSORS; s++) phaseB.push(sim.make(s, T0 + 3_600_000, 'normal'));
  return { phaseA, phaseA2, phaseB };
}

const VALID_KINDS = new Set<EventKind>(['normal', 'late', 'spike']);
const DLQ_KINDS = new Set<EventKind>(['not_json', 'missing_field', 'wrong_type', 'out_of_bounds']);
const validReadings = (events: SimulatedEvent[]): SensorReading[] => events.filter((e) => VALID_KINDS.has(e.kind)).map((e) => e.reading);

function expectedReason(e: SimulatedEvent): string {
  return e.kind === 'not_json' ? 'not_json' : `${e.kind}:${e.field}`;
}

async function readParquet(spark: SparkSession, dir: string) {
  return spark.read.parquet(dir).collect();
}

describe('stream job (Kafka + Spark, available-now)', function () {
  this.timeout(600_000);
  const suite = streamSuite('stream-test');
  const kafka: Kafka = streamKafka('stream-test');
  let spark: SparkSession;
  before(() => {
    spark = suite.spark;
  });

  async function setup(partitions: number): Promise<{ dir: string; topics: Topics }> {
    const id = randomUUID().slice(0, 8);
    const topics = {
      data: `test-stream-data-${id}`,
      dlq: `test-stream-dlq-${id}`,
      aggregates: `test-stream-agg-${id}`,
      alerts: `test-stream-alerts-${id}`,
      live: `test-stream-live-${id}`,
    };
    suite.trackTopics(...Object.values(topics), `${topics.aggregates}_1m`);
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, [topics.data], partitions);
      await ensureTopics(admin, [topics.dlq, topics.aggregates, topics.alerts], 1);
    } finally {
      await admin.disconnect();
    }
    const dir = suite.tempDir(`stream-test-${id}-`);
    return { dir, topics };
  }

  async function send(topic: string, events: SimulatedEvent[]): Promise<void> {
    const producer = await connectIdempotentProducer(kafka);
    try {
      await sendBatch(
        producer,
        topic,
        events.map((e) => ({ key: e.key, value: e.value })),
      );
    } finally {
      await producer.disconnect();
    }
  }

  function checkAggregates(rows: Array<Record<string, unknown>>, batches: SensorReading[][], label: string): void {
    const expected = expectedWindows(batches, { windowMs: 10_000, watermarkMs: WATERMARK_MS }).map(aggregate);
    const actual = rows
      .map((r) => ({
        sensor_id: r.sensor_id as string,
        window_start: micros(r.window_start),
        window_end: micros(r.window_end),
        readings: Number(r.readings as bigint),
        temperature_avg: r.temperature_avg as number,
        temperature_min: r.temperature_min as number,
        temperature_max: r.temperature_max as number,
        temperature_stddev: r.temperature_stddev as number | null,
        humidity_avg: r.humidity_avg as number,
        pressure_avg: r.pressure_avg as number,
      }))
      .sort((a, b) => String(a.sensor_id).localeCompare(String(b.sensor_id)) || a.window_start - b.window_start);
    expect(Object.keys(rows[0] ?? {}).sort(), `${label} columns`).to.deep.equal(
      [
        'sensor_id',
        'window_start',
        'window_end',
        'readings',
        'temperature_avg',
        'temperature_min',
        'temperature_max',
        'temperature_stddev',
        'humidity_avg',
        'pressure_avg',
      ].sort(),
    );
    expect(
      actual.map((a) => `${a.sensor_id}@${a.window_start}`),
      `${label}: windows`,
    ).to.deep.equal(expected.map((e) => `${e.sensor_id}@${e.window_start}`));
    actual.forEach((a, i) => {
      const e = expected[i];
      const where = `${label} ${e.sensor_id} [${new Date(e.window_start).toISOString()})`;
      expect(a.window_end, where).to.equal(e.window_end);
      expect(a.readings, `${where} readings`).to.equal(e.readings);
      expect(a.temperature_avg, `${where} temperature_avg`).to.equal(e.temperature_avg);
      expect(a.temperature_min, `${where} temperature_min`).to.equal(e.temperature_min);
      expect(a.temperature_max, `${where} temperature_max`).to.equal(e.temperature_max);
      expect(a.humidity_avg, `${where} humidity_avg`).to.equal(e.humidity_avg);
      expect(a.pressure_avg, `${where} pressure_avg`).to.equal(e.pressure_avg);
      if (e.temperature_stddev === null) expect(a.temperature_stddev, where).to.equal(null);
      else expect(Math.abs((a.temperature_stddev as number) - e.temperature_stddev), `${where} temperature_stddev`).to.be.lessThan(1e-9);
    });
  }

  it('computes every 10 s aggregate exactly, sends each malformed record to the DLQ and raises exactly the injected alerts', async () => {
    const { dir, topics } = await setup(1);
    const { phaseA, phaseA2, phaseB } = eventSet(101, true);
    // One partition and maxOffsetsPerTrigger = |phase A| = |phase A2| make the micro-batches exactly A, A2, B.
    expect(phaseA2.length).to.equal(phaseA.length);
    expect(phaseB.length).to.be.lessThan(phaseA.length);
    await send(topics.data, [...phaseA, ...phaseA2, ...phaseB]);
    const ctx = context();
    const code = await streamJob.run(
      spark,
      parseJobParams(streamJob, jobArgs(dir, topics, { 'max-offsets-per-trigger': phaseA.length })),
      ctx,
    );
    expect(code ?? 0).to.equal(0);

    const batches = [validReadings(phaseA), validReadings(phaseA2), validReadings(phaseB)];
    const all = [...phaseA, ...phaseA2, ...phaseB];

    // aggregates_10s: every row exact.
    const rows = await readParquet(spark, path.join(dir, 'out', 'aggregates_10s'));
    checkAggregates(rows, batches, 'aggregates_10s');
    // The late readings outside the watermark are in no window; those inside are.
    const expected10 = expectedWindows(batches, { windowMs: 10_000, watermarkMs: WATERMARK_MS });
    const counted = new Set(expected10.flatMap((w) => w.readings.map((r) => `${r.sensor_id}#${r.seq}`)));
    const lateOutside = phaseB.filter((e) => e.kind === 'late' && e.reading.ts < T0 + 20_000);
    const lateInside = phaseB.filter((e) => e.kind === 'late' && e.reading.ts > T0 + 100_000);
    expect(lateOutside).to.have.length(SENSORS);
    expect(lateInside).to.have.length(SENSORS);
    for (const e of lateOutside) expect(counted.has(`${e.key}#${e.reading.seq}`), 'late outside the watermark dropped').to.equal(false);
    for (const e of lateInside) expect(counted.has(`${e.key}#${e.reading.seq}`), 'late inside the watermark counted').to.equal(true);

    // aggregates_1m (1 min windows sliding by 10 s, merged from the 10 s partials): the windows and their
    // reading counts; a reading counts in a 1 min window exactly when it counts in its 10 s window.
    const rows1m = await readParquet(spark, path.join(dir, 'out', 'aggregates_1m'));
    const expected1m = expectedChainedWindows(batches, {
      partialMs: 10_000,
      windowMs: 60_000,
      slideMs: 10_000,
      watermarkMs: WATERMARK_MS,
    }).map(aggregate);
    const got1m = rows1m.map((r) => `${r.sensor_id}@${micros(r.window_start)}=${r.readings}`).sort();
    expect(got1m).to.deep.equal(expected1m.map((e) => `${e.sensor_id}@${e.window_start}=${e.readings}`).sort());

    // The same 10 s rows reached the aggregates topic as JSON.
    const aggMessages = (await readTopic(kafka, topics.aggregates)).map((m) => JSON.parse(m.value) as AggregateMessage);
    expect(aggMessages.map((m) => `${m.sensor_id}@${Date.parse(m.window_start)}=${m.readings}`).sort()).to.deep.equal(
      expected10.map((w) => `${w.sensor_id}@${w.window_start}=${w.readings.length}`).sort(),
    );

    // DLQ: exactly the malformed and out-of-bounds records, each with its raw value and reason.
    const dlq = (await readTopic(kafka, topics.dlq)).map((m) => JSON.parse(m.value) as { raw: string; reason: string });
    const injected = all.filter((e) => DLQ_KINDS.has(e.kind));
    expect(injected.length).to.equal(8);
    expect(dlq).to.have.length(injected.length);
    expect(dlq.map((d) => `${d.reason}|${d.raw}`).sort()).to.deep.equal(injected.map((e) => `${expectedReason(e)}|${e.value}`).sort());

    // Alerts: the spikes (zscore) and the out-of-bounds readings, nothing else, in Parquet and in Kafka.
    const spikes = all.filter((e) => e.kind === 'spike');
    const outOfBounds = all.filter((e) => e.kind === 'out_of_bounds');
    const expectedAlerts = [
      ...spikes.map((e) => `zscore|${e.key}|${e.reading.seq}|${e.field}`),
      ...outOfBounds.map((e) => `out_of_bounds|${e.key}|${e.reading.seq}|${e.field}`),
    ].sort();
    const alertRows = await readParquet(spark, path.join(dir, 'out', 'alerts'));
    expect(alertRows.map((a) => `${a.rule}|${a.sensor_id}|${a.seq}|${a.metric}`).sort()).to.deep.equal(expectedAlerts);
    const alertMessages = (await readTopic(kafka, topics.alerts)).map((m) => JSON.parse(m.value) as AlertMessage);
    expect(alertMessages.map((a) => `${a.rule}|${a.sensor_id}|${a.seq}|${a.metric}`).sort()).to.deep.equal(expectedAlerts);
    // The z-scores agree with the reference model, which also finds no other reading above the threshold.
    const model = expectedZscoreAlerts(expected10);
    expect(model.map((a) => `zscore|${a.sensor_id}|${a.seq}|${a.metric}`).sort()).to.deep.equal(
      spikes.map((e) => `zscore|${e.key}|${e.reading.seq}|${e.field}`).sort(),
    );
    for (const a of alertRows.filter((r) => r.rule === 'zscore')) {
      const m = model.find((x) => x.sensor_id === a.sensor_id && x.seq === Number(a.seq as bigint) && x.metric === a.metric);
      expect(Math.abs((a.zscore as number) - (m?.zscore ?? NaN))).to.be.lessThan(1e-6);
    }

    // Metrics: progress of every query, batch durations. The heavy query (kafka) read every record once; the
    // Parquet copies read the aggregates and alerts it wrote (available-now runs no live query).
    const metrics = JSON.parse(fs.readFileSync(path.join(dir, 'stream-metrics.json'), 'utf8'));
    expect(Object.keys(metrics.queries).sort()).to.deep.equal(['aggregates_10s', 'aggregates_1m', 'alerts', 'kafka']);
    expect(metrics.queries.kafka.source_rows).to.equal(all.length);
    expect(metrics.queries.aggregates_10s.input_rows).to.equal(expected10.length);
    expect(metrics.queries.kafka.batch_duration_ms.count).to.be.greaterThan(1);
    expect(metrics.end_to_end_latency_ms.record_timestamp.count).to.equal(expected10.length);
    // The closed windows hold the valid readings the reference model counts in them (late ones excluded).
    expect(metrics.readings_in_closed_windows).to.equal(expected10.reduce((n, w) => n + w.readings.length, 0));
    // What came in and where it went adds up: every record read is valid or set aside to the DLQ.
    expect(metrics.topic_messages_written).to.include({
      [topics.dlq]: injected.length,
      [topics.aggregates]: expected10.length,
      [topics.alerts]: expectedAlerts.length,
    });
  });

  it('restarts from its checkpoint: a second run adds the new events with no window lost or duplicated', async () => {
    const { dir, topics } = await setup(3);
    const { phaseA, phaseB } = eventSet(202, false);
    await send(topics.data, phaseA);
    const first = await streamJob.run(spark, parseJobParams(streamJob, jobArgs(dir, topics)), context());
    expect(first ?? 0).to.equal(0);
    const afterFirst = await readParquet(spark, path.join(dir, 'out', 'aggregates_10s'));
    // Only the windows the first run's watermark (T0+44.03 s) closed: [0,10) .. [30,40) per sensor.
    checkAggregates(afterFirst, [validReadings(phaseA)], 'after the first run');
    expect(afterFirst).to.have.length(4 * SENSORS);

    await send(topics.data, phaseB);
    const second = await streamJob.run(spark, parseJobParams(streamJob, jobArgs(dir, topics)), context());
    expect(second ?? 0).to.equal(0);
    const rows = await readParquet(spark, path.join(dir, 'out', 'aggregates_10s'));
    const keys = rows.map((r) => `${r.sensor_id}@${micros(r.window_start)}`);
    expect(new Set(keys).size, 'no duplicate windows').to.equal(keys.length);
    // The first run ended with a no-data batch (it evicted the closed windows): B comes after it.
    const batches = [validReadings(phaseA), [], validReadings(phaseB)];
    checkAggregates(rows, batches, 'after the restart');
    const total = rows.reduce((s, r) => s + Number(r.readings as bigint), 0);
    const lateOutside = phaseB.filter((e) => e.kind === 'late' && e.reading.ts < T0 + 20_000);
    const counted = new Set(
      expectedWindows(batches, { windowMs: 10_000, watermarkMs: WATERMARK_MS }).flatMap((w) =>
        w.readings.map((r) => `${r.sensor_id}#${r.seq}`),
      ),
    );
    for (const e of lateOutside) expect(counted.has(`${e.key}#${e.reading.seq}`), 'late outside the watermark dropped').to.equal(false);
    const expectedTotal = expectedWindows(batches, { windowMs: 10_000, watermarkMs: WATERMARK_MS }).reduce(
      (s, w) => s + w.readings.length,
      0,
    );
    expect(total).to.equal(expectedTotal);
    // The DLQ got each invalid record once over both runs.
    const dlq = await readTopic(kafka, topics.dlq);
    expect(dlq).to.have.length([...phaseA, ...phaseB].filter((e) => DLQ_KINDS.has(e.kind)).length);
  });
});
