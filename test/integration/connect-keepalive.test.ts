import { expect } from 'chai';
import { ensureSpark } from '../support/servers';
import { SparkSession, functions as F } from '../../lib/connect';
import { embeddedSparkRemote } from '../../lib/runtime/spark-server';

/**
 * A result stream that stays quiet for over 2 minutes (a query that sleeps in the server) while unary calls run
 * beside it. A client that pings more often than the server's gRPC default permits (one ping per
 * 5 minutes) gets GOAWAY `too_many_pings` after about 90 s, which fails the calls in flight. The server also
 * ends a result stream after 2 minutes (`senderMaxStreamDuration`), here with nothing sent: the client must
 * reattach at once, not count it as a failure (a wait longer than the retry budget would fail otherwise).
 */
describe('connect keepalive (live server, over 2 quiet minutes)', function () {
  this.timeout(300_000);

  it('a stream quiet for over 2 minutes and unary calls beside it keep working; the server ending it empty is a reattach, not a retry', async () => {
    const state = await ensureSpark();
    const spark = await SparkSession.builder().remote(embeddedSparkRemote(state)).appName('connect-keepalive-test').create();
    const retries: string[] = [];
    spark.on('retry', (e) => retries.push(`${e.method}: ${String((e.error as Error).message)}`));
    let reattaches = 0;
    spark.on('reattach', () => reattaches++);
    try {
      // No progress messages either: the stream sends nothing until the result.
      await spark.conf.set('spark.connect.progress.reportInterval', '-1');
      const t0 = Date.now();
      const quiet = spark.range(1).select(F.expr("reflect('java.lang.Thread', 'sleep', 135000L)").alias('slept'), F.col('id')).collect();
      const beside: string[] = [];
      // One unary call after 100 quiet seconds (a client pinging every 30 s has had its GOAWAY by then), one at the end.
      await new Promise((r) => setTimeout(r, 100_000));
      beside.push(await spark.version());
      const rows = await quiet;
      beside.push(await spark.version());
      expect(Date.now() - t0).to.be.at.least(135_000);
      expect(rows).to.deep.equal([{ slept: 'null', id: 0n }]); // reflect() of a void method gives the string 'null'
      expect(beside).to.have.length(2);
      expect(retries, retries.join('\n')).to.deep.equal([]);
      expect(reattaches, 'the server ended the quiet stream at its 2-minute limit').to.be.at.least(1);
    } finally {
      await spark.stop();
    }
  });
});
