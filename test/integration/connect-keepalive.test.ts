import { expect } from 'chai';
import { ensureSpark } from '../support/servers';
import { SparkSession, functions as F } from '../../lib/connect';
import { embeddedSparkRemote } from '../../lib/runtime/spark-server';

/**
 * A result stream that stays quiet for 2 minutes (a query that sleeps in the server) while unary calls run
 * beside it. A client that pings more often than the server's gRPC default permits (one ping per
 * 5 minutes) gets GOAWAY `too_many_pings` after about 90 s, which fails the calls in flight.
 */
describe('connect keepalive (live server, 2 quiet minutes)', function () {
  this.timeout(300_000);

  it('a stream quiet for 2 minutes and unary calls beside it keep working', async () => {
    const state = await ensureSpark();
    const spark = await SparkSession.builder().remote(embeddedSparkRemote(state)).appName('connect-keepalive-test').create();
    const retries: string[] = [];
    spark.on('retry', (e) => retries.push(`${e.method}: ${String((e.error as Error).message)}`));
    try {
      // No progress messages either: the stream sends nothing until the result.
      await spark.conf.set('spark.connect.progress.reportInterval', '-1');
      const t0 = Date.now();
      const quiet = spark.range(1).select(F.expr("reflect('java.lang.Thread', 'sleep', 120000L)").alias('slept'), F.col('id')).collect();
      const beside: string[] = [];
      // One unary call after 100 quiet seconds (a client pinging every 30 s has had its GOAWAY by then), one at the end.
      await new Promise((r) => setTimeout(r, 100_000));
      beside.push(await spark.version());
      const rows = await quiet;
      beside.push(await spark.version());
      expect(Date.now() - t0).to.be.at.least(120_000);
      expect(rows).to.deep.equal([{ slept: 'null', id: 0n }]); // reflect() of a void method gives the string 'null'
      expect(beside).to.have.length(2);
      expect(retries, retries.join('\n')).to.deep.equal([]);
    } finally {
      await spark.stop();
    }
  });
});
