import { expect } from 'chai';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { micros, streamSuite } from '../support/stream';
import { resolveBootstrapServers } from '../../lib/kafka/config';
import { ROOT } from '../../lib/runtime/paths';
import { produceSensorData } from '../../lib/stream/producer';
import { runStreamJob } from '../../lib/stream/run';
import { connectIdempotentProducer, ensureTopics, readTopic, sendBatch, streamKafka } from '../../lib/stream/kafka';
import { SensorSimulator, type SimulatedEvent } from '../../lib/stream/simulate';
import { aggregate, expectedWindows } from '../../lib/stream/expected';

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** The error a promise rejects with (undefined if it resolves). */
async function failure(p: Promise<unknown>): Promise<Error | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return e as Error;
  }
}

describe('stream faults (Kafka + Spark)', function () {
  this.timeout(600_000);
  const suite = streamSuite('stream-faults-test');

  it('an unreachable broker fails the producer and the job with a clear error within 10 s', async () => {
    const port = await closedPort();
    const servers = `127.0.0.1:${port}`;
    let t0 = Date.now();
    let err = await failure(
      produceSensorData({
        topic: 'x',
        bootstrapServers: servers,
        sensors: 1,
        seed: 1,
        rate: 0,
        count: 1,
        anomalyRate: 0,
        lateRate: 0,
        maxLatenessMs: 1,
        malformedRate: 0,
      }),
    );
    expect(Date.now() - t0).to.be.lessThan(10_500);
    expect(err?.message).to.match(new RegExp(`cannot reach Kafka at ${servers} within 10 s`));

    t0 = Date.now();
    err = await failure(
      runStreamJob(
        suite.spark,
        {
          topic: 'x',
          startingOffsets: 'earliest',
          trigger: { availableNow: true },
          output: '/nonexistent',
          checkpoint: '/nonexistent',
          bootstrapServers: servers,
          localBootstrapServers: servers,
          watermarkMs: 10_000,
          metricsFile: '/nonexistent/m.json',
        },
        { signal: new AbortController().signal, log: () => undefined, onShutdown: () => undefined },
      ),
    );
    expect(Date.now() - t0).to.be.lessThan(10_500);
    expect(err?.message).to.match(new RegExp(`cannot reach Kafka at ${servers} within 10 s`));
  });

  it('a job killed mid-run (SIGKILL) and restarted from its checkpoint loses and duplicates nothing in Parquet', async () => {
    const id = randomUUID().slice(0, 8);
    const topics = {
      data: `test-kill-data-${id}`,
      dlq: `test-kill-dlq-${id}`,
      aggregates: `test-kill-agg-${id}`,
      alerts: `test-kill-alerts-${id}`,
      live: `test-kill-live-${id}`,
    };
    suite.trackTopics(...Object.values(topics), `${topics.aggregates}_1m`);
    const kafka = streamKafka('stream-kill-test');
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, Object.values(topics), 2).finally(() => admin.disconnect());
    const dir = suite.tempDir(`stream-kill-${id}-`);
    const spark = suite.spark;

    // In-order readings only (no reading is ever late), so the result does not depend on where the
    // micro-batches split: every window before the flush closes, with every reading in it.
    const T0 = Date.UTC(2026, 0, 20, 8, 0, 0);
    const sim = new SensorSimulator({ sensors: 3, seed: 5, anomalyRate: 0, lateRate: 0, maxLatenessMs: 1000, malformedRate: 0 });
    const phase = (from: number, to: number): SimulatedEvent[] => {
      const out: SimulatedEvent[] = [];
      for (let t = from; t <= to; t++)
        for (let s = 0; s < 3; s++) out.push(sim.make(s, T0 + t * 1000 + s * 10, t % 17 === 3 && s === 0 ? 'not_json' : 'normal'));
      return out;
    };
    const producer = await connectIdempotentProducer(kafka);
    const send = (events: SimulatedEvent[]) =>
      sendBatch(
        producer,
        topics.data,
        events.map((e) => ({ key: e.key, value: e.value })),
      );
    const all: SimulatedEvent[] = [];
    try {
      const p1 = phase(0, 39);
      all.push(...p1);
      await send(p1);

      const args = [
        'submit',
        'stream',
        '--',
        '--topic',
        topics.data,
        '--dlq-topic',
        topics.dlq,
        '--aggregates-topic',
        topics.aggregates,
        '--alerts-topic',
        topics.alerts,
        '--live-topic',
        topics.live,
        '--starting-offsets',
        'earliest',
        '--trigger',
        'processing-time=1s',
        '--output',
        path.join(dir, 'out'),
        '--checkpoint',
        path.join(dir, 'checkpoint'),
        '--metrics',
        path.join(dir, 'm1.json'),
      ];
      const child = spawn(path.join(ROOT, 'bin', 'spark-ts'), args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      // Wait for the aggregation's first committed batch, then send more and kill it while it works.
      const firstCommit = path.join(dir, 'checkpoint', 'aggregates_10s', 'commits', '0');
      const t0 = Date.now();
      while (!fs.existsSync(firstCommit)) {
        if (child.exitCode !== null) throw new Error(`the job ended early: ${stderr}`);
        if (Date.now() - t0 > 180_000) throw new Error(`no committed batch in 180 s: ${stderr}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const p2 = phase(40, 79);
      all.push(...p2);
      await send(p2);
      await new Promise((r) => setTimeout(r, 1500));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    } finally {
      // The remaining readings and a flush reading per sensor that closes every window before it.
      const p3 = [...phase(80, 99), ...[0, 1, 2].map((s) => sim.make(s, T0 + 3_600_000, 'normal'))];
      all.push(...p3);
      await send(p3);
      await producer.disconnect();
    }

    // The restart: same checkpoint, available-now. (A new run of a query stops any run of it still active.)
    await runStreamJob(
      spark,
      {
        topic: topics.data,
        startingOffsets: 'earliest',
        trigger: { availableNow: true },
        output: path.join(dir, 'out'),
        checkpoint: path.join(dir, 'checkpoint'),
        bootstrapServers: resolveBootstrapServers(),
        localBootstrapServers: resolveBootstrapServers(),
        watermarkMs: 10_000,
        topics,
        metricsFile: path.join(dir, 'm2.json'),
        queryPrefix: `kill_${id}`,
      },
      { signal: new AbortController().signal, log: () => undefined, onShutdown: () => undefined },
    );

    const rows = await spark.read.parquet(path.join(dir, 'out', 'aggregates_10s')).collect();
    const keys = rows.map((r) => `${r.sensor_id}@${micros(r.window_start)}`);
    expect(new Set(keys).size, 'no duplicate windows').to.equal(keys.length);
    const valid = all.filter((e) => e.kind === 'normal').map((e) => e.reading);
    const expected = expectedWindows([valid], { windowMs: 10_000, watermarkMs: 10_000 }).map(aggregate);
    expect(expected).to.have.length(30);
    const got = rows
      .map((r) => ({
        key: `${r.sensor_id}@${micros(r.window_start)}`,
        readings: Number(r.readings as bigint),
        avg: r.temperature_avg as number,
        min: r.temperature_min as number,
        max: r.temperature_max as number,
      }))
      .sort((a, b) => a.key.localeCompare(b.key));
    expect(got).to.deep.equal(
      expected
        .map((e) => ({
          key: `${e.sensor_id}@${e.window_start}`,
          readings: e.readings,
          avg: e.temperature_avg,
          min: e.temperature_min,
          max: e.temperature_max,
        }))
        .sort((a, b) => a.key.localeCompare(b.key)),
    );
    // The DLQ (an at-least-once Kafka sink) has every malformed record; a batch replayed after the kill may
    // repeat some, which its source offsets identify.
    const dlq = (await readTopic(kafka, topics.dlq)).map((m) => JSON.parse(m.value) as { source_partition: number; source_offset: number });
    const distinct = new Set(dlq.map((d) => `${d.source_partition}:${d.source_offset}`));
    expect(distinct.size).to.equal(all.filter((e) => e.kind === 'not_json').length);
  });
});
