import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { SparkConnectError } from '../../lib/connect';
import { micros, streamSuite } from '../support/stream';
import { resolveBootstrapServers } from '../../lib/kafka/config';
import { runStreamJob } from '../../lib/stream/run';
import { connectIdempotentProducer, ensureTopics, readTopic, sendBatch, streamKafka } from '../../lib/stream/kafka';
import { SensorSimulator, type SimulatedEvent } from '../../lib/stream/simulate';
import { aggregate, expectedWindows } from '../../lib/stream/expected';
import type { LiveAggregateMessage } from '../../lib/stream/sensors';

describe('stream live path (Kafka + Spark, processing-time trigger)', function () {
  this.timeout(600_000);
  const suite = streamSuite('stream-live-test');

  it('the latest sensor_aggregates_live message of each window is its closed aggregates_10s row, with final true', async () => {
    const id = randomUUID().slice(0, 8);
    const topics = {
      data: `test-live-data-${id}`,
      dlq: `test-live-dlq-${id}`,
      aggregates: `test-live-agg-${id}`,
      alerts: `test-live-alerts-${id}`,
      live: `test-live-live-${id}`,
    };
    suite.trackTopics(...Object.values(topics), `${topics.aggregates}_1m`);
    const kafka = streamKafka('stream-live-test');
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [topics.data], 2).finally(() => admin.disconnect());
    const dir = suite.tempDir(`stream-live-${id}-`);
    const spark = suite.spark;

    // The known event set: 4 sensors, a reading every 500 ms, in order (so which window closes with what does
    // not depend on where the micro-batches split), with spikes and malformed records; sent in three phases
    // while the job runs, then a far-future flush reading per sensor that closes every window before it.
    const T0 = Date.UTC(2026, 0, 21, 9, 0, 0);
    const sim = new SensorSimulator({ sensors: 4, seed: 14, anomalyRate: 0, lateRate: 0, maxLatenessMs: 1000, malformedRate: 0 });
    const phase = (from: number, to: number): SimulatedEvent[] => {
      const out: SimulatedEvent[] = [];
      for (let t = from; t < to; t += 500)
        for (let s = 0; s < 4; s++)
          out.push(
            sim.make(s, T0 + t + s * 10, t % 7_000 === 3_500 && s === 1 ? 'spike' : t % 9_000 === 4_500 && s === 2 ? 'not_json' : 'normal'),
          );
      return out;
    };
    const ac = new AbortController();
    const lines: string[] = [];
    const job = runStreamJob(
      spark,
      {
        topic: topics.data,
        startingOffsets: 'earliest',
        trigger: { processingTime: '1 second' },
        liveTrigger: { processingTime: '500 milliseconds' },
        output: path.join(dir, 'out'),
        checkpoint: path.join(dir, 'checkpoint'),
        bootstrapServers: resolveBootstrapServers(),
        localBootstrapServers: resolveBootstrapServers(),
        watermarkMs: 10_000,
        topics,
        metricsFile: path.join(dir, 'metrics.json'),
        queryPrefix: `live_${id}`,
      },
      { signal: ac.signal, log: (l) => lines.push(l), onShutdown: () => undefined },
    );
    let jobError: unknown;
    job.catch((e) => (jobError = e));
    const producer = await connectIdempotentProducer(kafka);
    const all: SimulatedEvent[] = [];
    const send = async (events: SimulatedEvent[]) => {
      all.push(...events);
      await sendBatch(
        producer,
        topics.data,
        events.map((e) => ({ key: e.key, value: e.value })),
      );
    };
    const closed = (events: SimulatedEvent[]) =>
      expectedWindows([events.filter((e) => e.kind !== 'not_json').map((e) => e.reading)], { windowMs: 10_000, watermarkMs: 10_000 }).map(
        aggregate,
      );
    const aggregatesDir = path.join(dir, 'out', 'aggregates_10s');
    // The file sink creates its directory (and commit log) when the query starts; until its first batch with
    // rows commits, there is nothing to read.
    const parquetRows = async () =>
      fs.existsSync(aggregatesDir)
        ? spark.read
            .parquet(aggregatesDir)
            .collect()
            .catch((e: unknown) => {
              if (e instanceof SparkConnectError && e.errorClass === 'UNABLE_TO_INFER_SCHEMA') return [];
              throw e;
            })
        : [];
    const waitFor = async (what: string, ok: () => Promise<boolean>) => {
      const t0 = Date.now();
      while (!(await ok())) {
        if (jobError) throw new Error(`the job failed: ${(jobError as Error).message}`);
        if (Date.now() - t0 > 240_000) throw new Error(`timed out waiting for ${what}: ${lines.join('\n')}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    try {
      await send(phase(0, 25_000));
      // The first live update arrives while every window is still open.
      await waitFor('a live update', async () => (await readTopic(kafka, topics.live).catch(() => [])).length > 0);
      await send(phase(25_000, 50_000));
      await send(phase(50_000, 62_000));
      await send([0, 1, 2, 3].map((s) => sim.make(s, T0 + 3_600_000, 'normal')));
      await waitFor('every closed window in Parquet', async () => (await parquetRows()).length >= closed(all).length);
      // Let the live query handle the flush's windows too.
      await new Promise((r) => setTimeout(r, 3000));
    } finally {
      await producer.disconnect();
      ac.abort();
      await job.catch(() => undefined);
    }

    const rows = await parquetRows();
    const expected = closed(all);
    expect(expected).to.have.length(4 * 7);
    expect(rows).to.have.length(expected.length);
    const live = (await readTopic(kafka, topics.live)).map((m) => ({ ...m, v: JSON.parse(m.value) as LiveAggregateMessage }));
    // Kafka keeps the order per partition and the key (sensor_id) fixes the partition: the last message of a
    // (sensor_id, window_start) in partition order is the latest.
    const latest = new Map<string, LiveAggregateMessage>();
    const seen = new Map<string, number>();
    for (const m of live.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)))) {
      const key = `${m.v.sensor_id}@${Date.parse(m.v.window_start)}`;
      latest.set(key, m.v);
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    for (const m of live) expect(m.key, 'key sensor_id').to.equal(m.v.sensor_id);
    expect(Object.keys(live[0].v)).to.deep.equal([
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
      'last_event_ts',
      'final',
    ]);
    for (const r of rows) {
      const key = `${r.sensor_id}@${micros(r.window_start)}`;
      const m = latest.get(key);
      expect(m, `a live message for ${key}`).to.not.equal(undefined);
      expect(m?.final, `${key}: the latest message is the final one`).to.equal(true);
      expect(Date.parse(m?.window_end ?? ''), key).to.equal(micros(r.window_end));
      expect(m?.readings, key).to.equal(Number(r.readings as bigint));
      for (const c of [
        'temperature_avg',
        'temperature_min',
        'temperature_max',
        'temperature_stddev',
        'humidity_avg',
        'pressure_avg',
      ] as const)
        expect(m?.[c], `${key} ${c}`).to.equal(r[c]);
    }
    // The windows also had running updates before their final one, and the still-open flush windows are not final.
    expect([...seen.values()].filter((n) => n > 1).length, 'windows with running updates').to.be.greaterThan(rows.length / 2);
    const open = [...latest.entries()].filter(([k]) => !rows.some((r) => `${r.sensor_id}@${micros(r.window_start)}` === k));
    expect(open.map(([, m]) => m.final)).to.deep.equal([false, false, false, false]);
    // The closed windows are the reference model's.
    expect(rows.map((r) => `${r.sensor_id}@${micros(r.window_start)}=${r.readings}`).sort()).to.deep.equal(
      expected.map((e) => `${e.sensor_id}@${e.window_start}=${e.readings}`).sort(),
    );
    const metrics = JSON.parse(fs.readFileSync(path.join(dir, 'metrics.json'), 'utf8'));
    expect(Object.keys(metrics.queries).sort()).to.deep.equal(['aggregates_10s', 'aggregates_1m', 'alerts', 'kafka', 'live']);
    expect(metrics.live_latency_ms.final.count).to.equal(rows.length);
  });
});
