import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ensureKafka } from '../support/servers';
import { runCdcConsumer, type ConsumerOptions, type ConsumerSummary } from '../../lib/cdc/consumer';
import { generateChanges, type CdcMessage } from '../../lib/cdc/generator';
import { produceChanges } from '../../lib/cdc/produce';
import { readStoreReadOnly } from '../../lib/cdc/store';
import { readModelFile, verifyModel } from '../../lib/cdc/verify';
import { createKafka } from '../../lib/kafka/config';
import { deleteTopics, readTopic, syntheticCustomers } from './cdc-support';

/** Polls `check` until it holds; a bound, not a measurement: past `limitMs` it fails with what it waited for. */
async function waitFor(what: string, check: () => Promise<boolean>, limitMs = 90_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The consumer group as the coordinator sees it. */
async function describeGroup(groupId: string): Promise<{ state: string; members: number }> {
  const admin = createKafka('cdc-test-group').admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    return { state: groups[0]?.state ?? 'Dead', members: groups[0]?.members.length ?? 0 };
  } finally {
    await admin.disconnect();
  }
}

/** What must be identical between a run that went through a rebalance and a clean run of the same events. */
function outcome(stateDir: string) {
  const { updated_at: _t, ...model } = readModelFile(stateDir);
  const stored = readStoreReadOnly(stateDir);
  return {
    model,
    table: stored.state.liveRows(),
    keys: [...stored.state.keys].sort((a, b) => a[0] - b[0]),
    counters: stored.state.counters,
    offsets: Object.fromEntries(stored.offsets),
  };
}

/**
 * The consumer-group rebalance bug of issue 16: under load one batch outran the session timeout, the heartbeat
 * failed with "The coordinator is not aware of this member" (UNKNOWN_MEMBER_ID), and the consumer ended the job.
 * Each test makes the first batch slow through the consumer's afterBatch hook (by waiting for a group condition,
 * not for a time), then checks that the consumer rejoined and that its end state equals a clean run's, exactly.
 */
describe('cdc consumer across consumer-group rebalances against real Kafka', function () {
  this.timeout(300_000);
  const dirs: string[] = [];
  const topics: string[] = [];
  const tmpDir = () => {
    const d = path.join(os.tmpdir(), `cdc-rebalance-${randomUUID()}`);
    dirs.push(d);
    return d;
  };
  before(async () => {
    await ensureKafka();
  });
  after(async () => {
    dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
    await deleteTopics(topics);
  });

  /** Inserts, updates, deletes (with tombstones), replays and malformed events, in two halves. */
  const changes = (seed: number): [CdcMessage[], CdcMessage[]] => {
    const all = [
      ...generateChanges(syntheticCustomers(150, seed), {
        seed,
        updates: 2000,
        insertRatio: 0.15,
        deleteRatio: 0.15,
        replayRate: 0.05,
        malformedRate: 0.03,
      }),
    ];
    const half = Math.floor(all.length / 2);
    return [all.slice(0, half), all.slice(half)];
  };

  const options = (topic: string, name: string, log: (l: string) => void): ConsumerOptions => ({
    topic,
    stateDir: tmpDir(),
    groupId: `${name}-${topic}`,
    dlqTopic: `${topic}_dlq_${name}`,
    lambda: 1,
    holdoutPct: 0,
    checkpointEvents: 1_000_000,
    checkpointMs: 300,
    commitMs: 50,
    progressMs: 200,
    log,
  });

  /** Runs the consumer until it has processed `total()` events (it may grow meanwhile), then stops it. */
  const consumeAll = (opts: ConsumerOptions, total: () => number): Promise<ConsumerSummary> => {
    const abort = new AbortController();
    return runCdcConsumer({
      ...opts,
      signal: abort.signal,
      onProgress: (s) => {
        if (s.events >= total() && !abort.signal.aborted) setImmediate(() => abort.abort());
      },
    });
  };

  /** The slow run against a clean run of the same topic: same model, table, keys, counters, offsets and DLQ records. */
  const expectSameAsCleanRun = async (topic: string, slow: ConsumerOptions, slowRun: ConsumerSummary, total: number) => {
    const clean = options(topic, 'clean', () => undefined);
    const cleanRun = await consumeAll(clean, () => total);
    topics.push(slow.dlqTopic!, clean.dlqTopic!);
    // Every offset of the topic processed exactly once, and accounted for.
    expect(slowRun.events_processed).to.equal(total);
    expect(cleanRun.events_processed).to.equal(total);
    const got = outcome(slow.stateDir);
    const c = got.counters;
    expect(c.events_applied + c.events_skipped + c.tombstones + c.dlq).to.equal(total);
    expect(c.dlq).to.be.above(0);
    expect(c.events_skipped).to.be.above(0);
    const admin = createKafka('cdc-test-offsets').admin();
    await admin.connect();
    const high = Object.fromEntries((await admin.fetchTopicOffsets(topic)).map((w) => [w.partition, Number(w.high)]));
    await admin.disconnect();
    expect(got.offsets).to.deep.equal(high);
    expect(got).to.deep.equal(outcome(clean.stateDir));
    const stored = readStoreReadOnly(slow.stateDir);
    expect(verifyModel(stored.state, stored.offsets, readModelFile(slow.stateDir)).ok).to.equal(true);
    // The DLQ: each bad offset exactly once (none lost, none sent twice), the same ones as the clean run's.
    const dlqOffsets = async (t: string) =>
      (await readTopic(t, c.dlq))
        .map((m) => JSON.parse(m.value!) as { partition: number; offset: string })
        .map((r) => `${r.partition}:${r.offset}`)
        .sort();
    const slowDlq = await dlqOffsets(slow.dlqTopic!);
    expect(slowDlq).to.have.length(c.dlq);
    expect(new Set(slowDlq).size).to.equal(c.dlq);
    expect(slowDlq).to.deep.equal(await dlqOffsets(clean.dlqTopic!));
  };

  it('a batch slower than the session timeout: the member is evicted, the consumer rejoins and ends exactly like a clean run', async () => {
    const topic = `cdc-rebalance-evict-${randomUUID()}`;
    topics.push(topic);
    const [first, second] = changes(21);
    let total = (await produceChanges(first, { topic, rate: 0, partitions: 3 })).sent;
    let expected = Number.POSITIVE_INFINITY;
    const logs: string[] = [];
    const slow = options(topic, 'slow', (l) => logs.push(l));
    let slowed = false;
    const run = await consumeAll(
      {
        ...slow,
        // The broker's smallest session (group.min.session.timeout.ms = 6 s).
        sessionTimeoutMs: 6_000,
        heartbeatIntervalMs: 500,
        // The first batch: more events arrive (so some are consumed only after the rejoin), then the batch
        // lasts until the coordinator has dropped this member for missing heartbeats.
        afterBatch: async () => {
          if (slowed) return;
          slowed = true;
          total += (await produceChanges(second, { topic, rate: 0, partitions: 3 })).sent;
          expected = total;
          await waitFor('the coordinator to evict the slow member', async () => (await describeGroup(slow.groupId!)).members === 0);
        },
      },
      () => expected,
    );
    expect(slowed).to.equal(true);
    // The rejoin happened (the coordinator no longer knew the member), and the failed Kafka commit only warned.
    expect(logs.filter((l) => /the consumer group is rebalancing \((UNKNOWN_MEMBER_ID|ILLEGAL_GENERATION)/.test(l))).to.have.lengthOf.above(
      0,
    );
    expect(logs.some((l) => /could not commit offsets to Kafka \(lag display only\)/.test(l))).to.equal(true);
    // After the rejoin the commits to Kafka work again: the group's offsets are the store's.
    const admin = createKafka('cdc-test-offsets').admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId: slow.groupId!, topics: [topic] });
    await admin.disconnect();
    const kafkaOffsets = Object.fromEntries(committed[0].partitions.map((p) => [p.partition, Number(p.offset)]));
    expect(kafkaOffsets).to.deep.equal(Object.fromEntries(readStoreReadOnly(slow.stateDir).offsets));
    await expectSameAsCleanRun(topic, slow, run, total);
  });

  it('another member joins mid-batch: REBALANCE_IN_PROGRESS, partitions move away and back, and the end state is exact', async () => {
    const topic = `cdc-rebalance-join-${randomUUID()}`;
    topics.push(topic);
    const [first, second] = changes(22);
    let total = (await produceChanges(first, { topic, rate: 0, partitions: 3 })).sent;
    let expected = Number.POSITIVE_INFINITY;
    const logs: string[] = [];
    const slow = options(topic, 'slow', (l) => logs.push(l));
    const heartbeatIntervalMs = 100;
    // A plain kafkajs member of the same group: it takes partitions in the rebalance, applies and commits
    // nothing, and leaves as soon as it has joined, so its partitions come back.
    const intruder = createKafka('cdc-test-intruder').consumer({
      groupId: slow.groupId!,
      sessionTimeout: 30_000,
      heartbeatInterval: 1_000,
    });
    let intruderDone: Promise<void> | undefined;
    const intruderPartitions: number[] = [];
    intruder.on(intruder.events.GROUP_JOIN, (e) => intruderPartitions.push(...(e.payload.memberAssignment[topic] ?? [])));
    const run = await consumeAll(
      {
        ...slow,
        sessionTimeoutMs: 30_000,
        heartbeatIntervalMs,
        afterBatch: async () => {
          if (intruderDone) return;
          const started = Date.now();
          total += (await produceChanges(second, { topic, rate: 0, partitions: 3 })).sent;
          expected = total;
          await intruder.connect();
          await intruder.subscribe({ topics: [topic] });
          intruderDone = intruder.run({ autoCommit: false, eachBatch: async () => undefined }).finally(() => intruder.disconnect());
          // The batch lasts until the coordinator waits for this member to rejoin, and at least one heartbeat
          // interval, so the heartbeat that ends it is really sent (and answered REBALANCE_IN_PROGRESS).
          await waitFor('the group to start rebalancing', async () => (await describeGroup(slow.groupId!)).state === 'PreparingRebalance');
          await waitFor('one heartbeat interval', async () => Date.now() - started > heartbeatIntervalMs);
        },
      },
      () => expected,
    );
    expect(intruderDone, 'the slow batch happened').to.not.equal(undefined);
    await intruderDone;
    // The intruder held partitions of the topic, with events the slow consumer had not read yet (the second half
    // was produced before it joined): that the slow consumer processed every offset means they came back.
    expect(intruderPartitions).to.have.lengthOf.above(0);
    expect(logs.filter((l) => /the consumer group is rebalancing \(REBALANCE_IN_PROGRESS/.test(l))).to.have.lengthOf.above(0);
    await expectSameAsCleanRun(topic, slow, run, total);
  });
});
