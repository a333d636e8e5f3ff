import { expect } from 'chai';
import { ensureSpark } from '../support/servers';
import { FaultProxy } from '../support/fault-proxy';
import { BlackholePort } from '../support/blackhole';
import {
  SparkSession,
  ConnectionError,
  DEFAULT_RETRY_POLICY,
  SparkConnectError,
  SparkRuntimeException,
  functions as F,
} from '../../lib/connect';
import type { SparkState } from '../../lib/runtime/spark-server';

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

/** The client between a real server and a proxy that cuts, delays and refuses (issue 15). */
describe('connect client over a faulty network (live server)', function () {
  this.timeout(120_000);
  let state: SparkState;
  let proxy: FaultProxy;
  let spark: SparkSession;
  const events: Array<{ kind: string; method?: string; operationId?: string }> = [];

  before(async () => {
    state = await ensureSpark();
    proxy = new FaultProxy('127.0.0.1', state.port);
    const port = await proxy.start();
    // The builder's retry policy, with backoffs capped at 1 s so the test does not wait out PySpark's ×4 growth.
    spark = await SparkSession.builder()
      .remote(`sc://127.0.0.1:${port}/;token=${state.token}`)
      .retryPolicy({ ...DEFAULT_RETRY_POLICY, backoffMultiplier: 2, maxBackoffMs: 1000 })
      .appName('connect-network-test')
      .create();
    spark.on('request', (e) => events.push({ kind: 'request', ...e }));
    spark.on('retry', (e) => events.push({ kind: 'retry', method: e.method }));
    spark.on('reattach', (e) => events.push({ kind: 'reattach', operationId: e.operationId }));
    await spark.version();
  });

  beforeEach(() => {
    events.length = 0;
    proxy.delay(0);
    proxy.refuse(false);
  });

  after(async () => {
    await spark?.stop();
    await proxy?.close();
  });

  it('a long collect cut three times mid-stream completes once with every row', async () => {
    const n = 400_000;
    proxy.cutEvery(1_000_000, 3);
    const rows = await spark.range(0, n, 1, 8).select('id', F.expr('id % 7').alias('k')).collect();
    expect(proxy.cuts).to.equal(3);
    expect(rows).to.have.length(n);
    const ids = new Set(rows.map((r) => r.id as bigint));
    expect(ids.size).to.equal(n);
    let sum = 0n;
    for (const id of ids) sum += id;
    expect(sum).to.equal((BigInt(n - 1) * BigInt(n)) / 2n);
    // ExecutePlan went out once; every cut was resumed by ReattachExecute of the same operation.
    const requests = events.filter((e) => e.kind === 'request');
    expect(requests.filter((e) => e.method === 'ExecutePlan')).to.have.length(1);
    expect(requests.filter((e) => e.method === 'ReattachExecute').length).to.be.at.least(3);
    expect(new Set(requests.map((e) => e.operationId)).size).to.equal(1);
  });

  it('reports a real server error at once, even when its text says "stream" or "connection"', async () => {
    proxy.delay(20);
    for (const query of ["SELECT raise_error('Connection refused by the JDBC stream')", 'SELECT * FROM no_such_table_network']) {
      const t0 = Date.now();
      const err = await failure(spark.sql(query).then((df) => df.collect()));
      expect(Date.now() - t0, query).to.be.below(2000);
      expect(err).to.be.instanceOf(SparkConnectError);
      expect(err).not.to.be.instanceOf(ConnectionError);
    }
    const streaming = await failure(spark.readStream.format('rate').load().collect());
    expect(streaming.message).to.match(/writeStream\.start\(\)/);
    expect(events.filter((e) => e.kind === 'retry' || e.kind === 'reattach')).to.deep.equal([]);
    const userError = await failure(spark.range(1).select(F.expr("raise_error('boom')")).collect());
    expect(userError).to.be.instanceOf(SparkRuntimeException);
  });

  it('rides out a few seconds of refused connections once established', async () => {
    proxy.refuse(true);
    proxy.cutNow();
    setTimeout(() => proxy.refuse(false), 1000).unref();
    const t0 = Date.now();
    expect(await spark.range(10).count()).to.equal(10);
    expect(Date.now() - t0).to.be.at.least(900);
    expect(events.filter((e) => e.kind === 'retry').length).to.be.greaterThan(0);
  });

  it('a port that drops connections (a firewall) fails within 5 s, naming the endpoint, instead of the OS timeout', async () => {
    const hole = new BlackholePort();
    const port = await hole.start();
    try {
      const s = await SparkSession.builder().remote(`sc://127.0.0.1:${port}`).create();
      for (const attempt of [() => s.version(), () => s.range(1).collect()]) {
        const t0 = Date.now();
        const err = await failure(attempt());
        expect(Date.now() - t0).to.be.below(5000);
        expect(err).to.be.instanceOf(ConnectionError);
        expect(err.message).to.include(`127.0.0.1:${port}`).and.include('no connection within');
      }
      await s.stop();
    } finally {
      await hole.close();
    }
  });

  it('a server never reached fails within 5 s, naming the endpoint', async () => {
    const refusing = new FaultProxy('127.0.0.1', state.port);
    const port = await refusing.start();
    refusing.refuse(true);
    try {
      const s = await SparkSession.builder().remote(`sc://127.0.0.1:${port}/;token=${state.token}`).create();
      const t0 = Date.now();
      const err = await failure(s.range(1).collect());
      expect(Date.now() - t0).to.be.below(5000);
      expect(err).to.be.instanceOf(ConnectionError);
      expect(err.message).to.include(`127.0.0.1:${port}`);
      const err2 = await failure(s.version());
      expect(err2).to.be.instanceOf(ConnectionError);
      await s.stop();
    } finally {
      await refusing.close();
    }
  });
});
