import { expect } from 'chai';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { tableFromIPC } from 'apache-arrow';
import { ensureKafka, ensureSpark } from '../support/servers';
import { SparkConnectClient } from '../../lib/connect/client';
import { AuthenticationError } from '../../lib/connect/errors';
import { GrpcTransport } from '../../lib/connect/transport';
import { createKafka } from '../../lib/kafka/config';
import { ensureTopics } from '../../lib/kafka/topics';
import { isRunning } from '../../lib/runtime/process';
import type { SparkState } from '../../lib/runtime/spark-server';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'spark-ts');

function clientFor(state: SparkState, token: string | undefined): SparkConnectClient {
  return new SparkConnectClient({
    host: '127.0.0.1',
    port: state.port,
    token,
    userId: 'test',
    useSsl: false,
    sessionId: randomUUID(),
    userAgent: 'test',
  });
}

describe('runtime: embedded Spark Connect server', function () {
  let state: SparkState;
  before(async function () {
    this.timeout(240_000);
    state = await ensureSpark();
  });

  it('answers a real ExecutePlan (SELECT 1) with the token', async () => {
    const client = clientFor(state, state.token);
    try {
      const batches: Uint8Array[] = [];
      for await (const r of client.execute({ root: { common: { plan_id: 0 }, sql: { query: 'SELECT 1 AS one' } } })) {
        if (r.arrow_batch) batches.push(r.arrow_batch.data);
      }
      const rows = batches.flatMap((b) =>
        tableFromIPC(b)
          .toArray()
          .map((row) => row.toJSON()),
      );
      expect(rows).to.deep.equal([{ one: 1 }]);
    } finally {
      await client.releaseSession();
    }
  });

  for (const [label, token] of [
    ['no token', undefined],
    ['a wrong token', 'not-the-token'],
  ] as const) {
    it(`rejects ${label} with UNAUTHENTICATED`, async () => {
      const transport = new GrpcTransport({
        host: '127.0.0.1',
        port: state.port,
        token,
        userId: 't',
        useSsl: false,
        sessionId: randomUUID(),
        userAgent: 't',
      });
      try {
        await transport.unary('AnalyzePlan', { session_id: randomUUID(), user_context: { user_id: 't' }, spark_version: {} }, 10_000);
        expect.fail('the call should have been rejected');
      } catch (err) {
        expect(err).to.be.instanceOf(AuthenticationError);
        expect((err as AuthenticationError).grpcCode).to.equal(grpc.status.UNAUTHENTICATED);
      } finally {
        transport.close();
      }
    });
  }

  it('keeps the state file private and the token off the command line', () => {
    const file = path.join(ROOT, '.run', 'spark.json');
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
    const cmdline = fs.readFileSync(`/proc/${state.pid}/cmdline`, 'utf8');
    expect(cmdline).to.not.include(state.token);
    expect(state.url).to.equal(`sc://127.0.0.1:${state.port}`);
  });

  it('fails clearly when the Spark port is taken', async function () {
    this.timeout(60_000);
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spark-ts-run-'));
    try {
      const r = spawnSync(CLI, ['up', 'spark'], {
        env: { ...process.env, SPARK_TS_RUN_DIR: runDir, SPARK_TS_SPARK_PORT: String(port) },
        encoding: 'utf8',
      });
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include(`port ${port}`);
      expect(r.stderr).to.include('SPARK_TS_SPARK_PORT');
    } finally {
      blocker.close();
      fs.rmSync(runDir, { recursive: true, force: true });
    }
  });
});

describe('runtime: embedded Kafka broker', function () {
  before(async function () {
    this.timeout(120_000);
    await ensureKafka();
  });

  it('creates a topic, then produces and consumes 1,000 messages in order per partition', async function () {
    this.timeout(90_000);
    const topic = `runtime-test-${randomUUID().slice(0, 8)}`;
    const kafka = createKafka('runtime-test');
    const admin = kafka.admin();
    await admin.connect();
    // Through the project's topic helper: it waits until every partition's leader serves it (kafkajs's own
    // waitForLeaders gives up after a few seconds on a broker holding many topics).
    await ensureTopics(admin, [{ topic, numPartitions: 3, replicationFactor: 1 }]);
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.disconnect();
    expect(meta.topics.map((t) => [t.name, t.partitions.length])).to.deep.equal([[topic, 3]]);

    const sent = Array.from({ length: 1000 }, (_, i) => ({ key: `k${i % 7}`, value: JSON.stringify({ i, payload: `m-${i}` }) }));
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: sent });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `${topic}-g` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: Array<{ partition: number; key: string; value: string }> = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${received.length} of 1000 messages arrived`)), 60_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          received.push({ partition, key: message.key!.toString(), value: message.value!.toString() });
          if (received.length === sent.length) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();

    // Same content, and within each partition (so for each key) the order of sending.
    expect(received.map((m) => m.value).sort()).to.deep.equal(sent.map((m) => m.value).sort());
    const byKey = new Map<string, number[]>();
    for (const m of received) byKey.set(m.key, [...(byKey.get(m.key) ?? []), JSON.parse(m.value).i]);
    for (const [key, order] of byKey) {
      expect(order, `order of key ${key}`).to.deep.equal([...order].sort((a, b) => a - b));
      expect(new Set(received.filter((m) => m.key === key).map((m) => m.partition)).size).to.equal(1);
    }
  });

  it('ensureTopics creates what is missing with each spec, waits for leaders, and tolerates a concurrent creator', async function () {
    this.timeout(90_000);
    const id = randomUUID().slice(0, 8);
    const [a, b] = [`topics-a-${id}`, `topics-b-${id}`];
    const kafka = createKafka('runtime-topics-test');
    const [admin1, admin2] = [kafka.admin(), kafka.admin()];
    await Promise.all([admin1.connect(), admin2.connect()]);
    try {
      // Two creators race for the same topics: both resolve once the topics are ready.
      await Promise.all([
        ensureTopics(admin1, [
          { topic: a, numPartitions: 3 },
          { topic: b, numPartitions: 1 },
        ]),
        ensureTopics(admin2, [
          { topic: a, numPartitions: 3 },
          { topic: b, numPartitions: 1 },
        ]),
      ]);
      const meta = await admin1.fetchTopicMetadata({ topics: [a, b] });
      const partitions = Object.fromEntries(meta.topics.map((t) => [t.name, t.partitions.map((p) => p.leader >= 0)]));
      expect(partitions).to.deep.equal({ [a]: [true, true, true], [b]: [true] });
      // Existing topics are left alone (their partition counts stay).
      await ensureTopics(admin1, [a, b], 7);
      const again = await admin1.fetchTopicMetadata({ topics: [a, b] });
      expect(again.topics.map((t) => [t.name, t.partitions.length]).sort()).to.deep.equal([
        [a, 3],
        [b, 1],
      ]);
    } finally {
      await admin1.deleteTopics({ topics: [a, b] }).catch(() => undefined);
      await Promise.all([admin1.disconnect(), admin2.disconnect()]);
    }
  });

  it('starts a second broker, reuses it on `up`, and leaves no JVM after `down`', async function () {
    this.timeout(120_000);
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spark-ts-run-'));
    const env = { ...process.env, SPARK_TS_RUN_DIR: runDir, SPARK_TS_KAFKA_PORT: '19092', SPARK_TS_KAFKA_CONTROLLER_PORT: '19093' };
    try {
      const first = spawnSync(CLI, ['up', 'kafka'], { env, encoding: 'utf8' });
      expect(first.status, first.stderr).to.equal(0);
      expect(first.stdout).to.match(/kafka: started/);
      const pid = JSON.parse(fs.readFileSync(path.join(runDir, 'kafka.json'), 'utf8')).pid as number;
      const second = spawnSync(CLI, ['up', 'kafka'], { env, encoding: 'utf8' });
      expect(second.stdout).to.match(/kafka: already running/);
      expect(JSON.parse(fs.readFileSync(path.join(runDir, 'kafka.json'), 'utf8')).pid).to.equal(pid);
      const down = spawnSync(CLI, ['down', 'kafka'], { env, encoding: 'utf8' });
      expect(down.status).to.equal(0);
      expect(isRunning(pid)).to.equal(false);
    } finally {
      spawnSync(CLI, ['down', 'kafka'], { env });
      fs.rmSync(runDir, { recursive: true, force: true });
    }
  });
});
