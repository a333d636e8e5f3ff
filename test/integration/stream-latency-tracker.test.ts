import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { ensureKafka } from '../support/servers';
import { connectIdempotentProducer, ensureTopics, sendBatch, streamKafka } from '../../lib/stream/kafka';
import { AggregateLatencyTracker } from '../../lib/stream/metrics';

describe('stream latency tracker (Kafka)', function () {
  this.timeout(120_000);
  const kafka = streamKafka('stream-latency-tracker-test');
  const topic = `test-latency-tracker-${randomUUID().slice(0, 8)}`;

  before(async () => {
    await ensureKafka();
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [topic], 2).finally(() => admin.disconnect());
  });

  after(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('measures exactly the messages written from start() on, including those written while its group joins', async () => {
    const producer = await connectIdempotentProducer(kafka);
    const window = (sensor: string, i: number) => ({
      key: sensor,
      value: JSON.stringify({
        sensor_id: sensor,
        window_start: `2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`,
        window_end: `2026-01-01T00:00:${String(i + 1).padStart(2, '0')}.000Z`,
        readings: 10,
        last_event_ts: Date.now() - 100,
      }),
    });
    const tracker = new AggregateLatencyTracker(kafka, topic);
    try {
      await sendBatch(producer, topic, [window('before-0', 0), window('before-1', 1), window('before-2', 2)]);
      await tracker.start();
      // start() returns before the group join (seconds): these are written while it joins, and must all count.
      const sent = Array.from({ length: 10 }, (_, i) => window(`during-${i % 4}`, i));
      await sendBatch(producer, topic, sent);
      expect(await tracker.drain(60_000)).to.equal(true);
      expect(tracker.samples.map((s) => s.sensor_id).sort()).to.deep.equal(sent.map((m) => m.key).sort());
      expect(tracker.samples.every((s) => s.received_latency_ms >= 100)).to.equal(true);
      // Each window's readings counted once: 10 windows of 10 readings.
      expect(tracker.readingsInClosedWindows()).to.equal(100);
    } finally {
      await tracker.stop();
      await producer.disconnect();
    }
  });
});
