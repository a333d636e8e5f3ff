import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { ensureKafka } from '../support/servers';
import type { Admin, Kafka } from 'kafkajs';
import { createKafka } from '../../lib/kafka/config';
import { parseJobParams } from '../../lib/cli/job';
import { testJobContext } from '../support/job-context';
import type { SparkSession } from '../../lib/connect';
import watchJob from '../../jobs/stream-watch';

/** Runs `fn` with two new one-partition topics (live, alerts), deleted afterwards. */
async function withTopics(
  fn: (kafka: Kafka, admin: Admin, bootstrap: string, live: string, alerts: string) => Promise<void>,
): Promise<void> {
  const bootstrap = (await ensureKafka()).bootstrap_servers;
  const kafka = createKafka('stream-watch-test', bootstrap);
  const live = `watch-live-${randomUUID()}`;
  const alerts = `watch-alerts-${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [live, alerts].map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: true });
    await fn(kafka, admin, bootstrap, live, alerts);
  } finally {
    await admin.deleteTopics({ topics: [live, alerts] }).catch(() => undefined);
    await admin.disconnect();
  }
}

/** `stream-watch --from-beginning --until-end` over the two topics, in process; its log lines. */
async function watchToEnd(bootstrap: string, live: string, alerts: string): Promise<string[]> {
  const logs: string[] = [];
  const params = parseJobParams(watchJob, {
    ...(Object.fromEntries(Object.entries(watchJob.options).map(([k, o]) => [k, o.default])) as Parameters<typeof watchJob.run>[1]['args']),
    'live-topic': live,
    'alerts-topic': alerts,
    'from-beginning': true,
    'until-end': true,
    duration: '30s',
  });
  await watchJob.run(undefined as unknown as SparkSession, params, testJobContext(bootstrap, logs));
  return logs;
}

describe('stream-watch against real Kafka', function () {
  this.timeout(120_000);

  it('--until-end ends on a partition whose messages retention deleted (it starts at the low offset)', () =>
    withTopics(async (kafka, admin, bootstrap, live, alerts) => {
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

      const logs = await watchToEnd(bootstrap, live, alerts);
      expect(logs.at(-1), logs.join('\n')).to.match(/\(to the end\): 0 live updates/);
    }));

  it('--from-beginning times the messages already in the topic at their write time, not at the time it reads them', () =>
    withTopics(async (kafka, _admin, bootstrap, live, alerts) => {
      // Two updates written 400 and 600 ms after their newest reading (the record timestamp is the write time).
      const written = Date.now() - 60_000;
      const update = (sensor: string, lagMs: number) => ({
        timestamp: String(written),
        value: JSON.stringify({
          sensor_id: sensor,
          window_start: new Date(written - 5_000).toISOString(),
          window_end: new Date(written + 5_000).toISOString(),
          readings: 3,
          last_event_ts: written - lagMs,
          final: false,
        }),
      });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: live, messages: [update('s1', 400), update('s2', 600)] });
      await producer.disconnect();

      const logs = await watchToEnd(bootstrap, live, alerts);
      // A minute old when read; 400 and 600 ms late when written.
      expect(logs.at(-1), logs.join('\n')).to.match(
        /\(to the end\): 2 live updates, .*live latency p50 500 ms, p95 590 ms, .*\(2 messages read from the backlog, timed at their write time\)/,
      );
    }));
});
