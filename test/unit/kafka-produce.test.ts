import { expect } from 'chai';
import type { Message, PartitionMetadata, ProducerRecord, RecordMetadata } from 'kafkajs';
import { PartialSendError, PerPartitionSender, groupByPartition } from '../../lib/kafka/produce';

const meta = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, i) => ({
    partitionErrorCode: 0,
    partitionId: i,
    leader: i % 3,
    replicas: [0, 1, 2],
    isr: [0, 1, 2],
    offlineReplicas: [],
  }));

/** A producer stand-in that records every request and answers per `answer`. */
function fakeProducer(answer: (record: ProducerRecord, call: number) => RecordMetadata[] | Error) {
  const calls: ProducerRecord[] = [];
  return {
    calls,
    send: async (record: ProducerRecord): Promise<RecordMetadata[]> => {
      calls.push(record);
      const a = answer(record, calls.length);
      if (a instanceof Error) throw a;
      return a;
    },
  };
}
const ackOf = (r: ProducerRecord): RecordMetadata[] => [
  { topicName: r.topic, partition: r.messages[0].partition!, errorCode: 0, baseOffset: '0' },
];

describe('per-partition sending (kafka/produce)', () => {
  const messages: Message[] = Array.from({ length: 60 }, (_, i) => ({ key: `sensor-${i % 7}`, value: `v${i}` }));

  it('groups by the partition of the key (the default partitioner), each group in batch order', () => {
    const groups = groupByPartition('t', meta(3), messages);
    // The same key always lands on the same partition (kafkajs's DefaultPartitioner, as producer.send used).
    const byKey = new Map<string, number>();
    for (const [p, list] of groups)
      for (const m of list) {
        expect(byKey.get(String(m.key)) ?? p, String(m.key)).to.equal(p);
        byKey.set(String(m.key), p);
      }
    expect([...groups.values()].flat()).to.have.length(60);
    for (const list of groups.values()) {
      const idx = list.map((m) => Number(String(m.value).slice(1)));
      expect(idx).to.deep.equal([...idx].sort((a, b) => a - b));
    }
    expect(groups.size).to.be.greaterThan(1);
  });

  it('sends one partition per request, with the partition set, and returns the acked count per partition', async () => {
    const producer = fakeProducer((r) => ackOf(r));
    const sender = new PerPartitionSender(producer, async () => meta(3));
    const acked = await sender.send('t', messages);
    const groups = groupByPartition('t', meta(3), messages);
    expect(producer.calls).to.have.length(groups.size);
    for (const c of producer.calls) {
      expect(c.acks).to.equal(-1);
      expect(new Set(c.messages.map((m) => m.partition)).size, 'one partition per request').to.equal(1);
      expect(c.messages.map((m) => m.value)).to.deep.equal(groups.get(c.messages[0].partition!)!.map((m) => m.value));
    }
    expect(Object.fromEntries(acked)).to.deep.equal(Object.fromEntries([...groups].map(([p, l]) => [p, l.length])));
  });

  it('never assumes an ack: a response without the partition, an error code or a thrown send is retried', async () => {
    const bad: Array<(r: ProducerRecord) => RecordMetadata[] | Error> = [
      () => [],
      (r) => [{ ...ackOf(r)[0], errorCode: 6 }],
      (r) => [{ ...ackOf(r)[0], baseOffset: '-1' }],
      () => new Error('connection closed'),
    ];
    for (const first of bad) {
      let n = 0;
      const producer = fakeProducer((r) => (n++ === 0 ? first(r) : ackOf(r)));
      const retried: number[] = [];
      const sender = new PerPartitionSender(producer, async () => meta(1), { retryPauseMs: 1, onRetry: (_, p) => retried.push(p) });
      const acked = await sender.send('t', messages);
      expect(retried).to.deep.equal([0]);
      expect(producer.calls).to.have.length(2);
      expect(producer.calls[1].messages.map((m) => m.value)).to.deep.equal(producer.calls[0].messages.map((m) => m.value));
      expect(acked.get(0)).to.equal(60);
    }
  });

  it('past the deadline a partition fails: a PartialSendError says which partitions were acked and which not', async () => {
    const groups = groupByPartition('t', meta(3), messages);
    const dead = [...groups.keys()][0];
    const producer = fakeProducer((r) => (r.messages[0].partition === dead ? new Error('leader gone') : ackOf(r)));
    const sender = new PerPartitionSender(producer, async () => meta(3), { retryDeadlineMs: 20, retryPauseMs: 5 });
    const err = await sender.send('t', messages).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(PartialSendError);
    const e = err as PartialSendError;
    expect([...e.failed]).to.deep.equal([[dead, groups.get(dead)!.length]]);
    expect(e.failedCount + [...e.acked.values()].reduce((a, b) => a + b, 0)).to.equal(60);
    expect(e.message).to.match(/leader gone/);
  });
});
