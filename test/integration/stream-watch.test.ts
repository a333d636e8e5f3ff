import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { ensureKafka } from '../support/servers';
import { createKafka } from '../../lib/kafka/config';
import { parseJobParams } from '../../lib/cli/job';
import { testJobContext } from '../support/job-context';
import type { SparkSession } from '../../lib/connect';
import watchJob from '../../jobs/stream-watch';

describe('stream-watch against real Kafka', function () {
  this.timeout(120_000);

  it('--until-end ends on a partition whose messages retention deleted (it starts at the low offset)', async () => {
    const bootstrap = (await ensureKafka()).bootstrap_servers;
    const kafka = createKafka('stream-watch-test', bootstrap);
    const live = `watch-live-${randomUUID()}`;
    const alerts = `watch-alerts-${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          { topic: live, numPartitions: 1 },
          { topic: alerts, numPartitions: 1 },
        ],
        waitForLeaders: true,
      });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: live, messages: [{ value: '{}' }, { value: '{}' }, { value: '{}' }] });
      await producer.disconnect();
      // As retention does: the partition keeps its offsets (low = high = 3) but no message. (Fetching the
      // offsets first loads the new topic's metadata, which deleteTopicRecords needs.)
      expect((await admin.fetchTopicOffsets(live))[0].high).to.equal('3');
      await admin.deleteTopicRecords({ topic: live, partitions: [{ partition: 0, offset: '3' }] });
      const [p] = await admin.fetchTopicOffsets(live);
      expect([p.low, p.high]).to.deep.equal(['3', '3']);

      const logs: string[] = [];
      const ctx = testJobContext(bootstrap, logs);
      const params = parseJobParams(watchJob, {
        ...(Object.fromEntries(Object.entries(watchJob.options).map(([k, o]) => [k, o.default])) as Parameters<
          typeof watchJob.run
        >[1]['args']),
        'live-topic': live,
        'alerts-topic': alerts,
        'from-beginning': true,
        'until-end': true,
        duration: '30s',
      });
      await watchJob.run(undefined as unknown as SparkSession, params, ctx);
      expect(logs.at(-1), logs.join('\n')).to.match(/\(to the end\): 0 live updates/);
    } finally {
      await admin.deleteTopics({ topics: [live, alerts] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
