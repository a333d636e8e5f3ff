import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { ensureKafka } from '../support/servers';
import { runCdcConsumer, type ConsumerOptions } from '../../lib/cdc/consumer';
import { CDC_TABLE, keyOf, type ChangeEvent } from '../../lib/cdc/envelope';
import type { CustomerRow } from '../../lib/cdc/features';
import { generateChanges } from '../../lib/cdc/generator';
import { produceChanges } from '../../lib/cdc/produce';
import { readStoreReadOnly } from '../../lib/cdc/store';
import { readModelFile, verifyModel } from '../../lib/cdc/verify';
import { createKafka } from '../../lib/kafka/config';
import { deleteTopics, syntheticCustomers } from './cdc-support';

function readStoreOffsets(dir: string): Map<number, number> | undefined {
  try {
    return readStoreReadOnly(dir).offsets;
  } catch {
    return undefined;
  }
}

/** The bugs of issue 16 that need a broker: each test failed before its fix. */
describe('cdc consumer fixes against real Kafka', function () {
  this.timeout(180_000);
  const dirs: string[] = [];
  const topics: string[] = [];
  const tmpDir = () => {
    const d = path.join(os.tmpdir(), `cdc-fix-${randomUUID()}`);
    dirs.push(d);
    return d;
  };
  const base = (topic: string, stateDir: string): ConsumerOptions => ({
    topic,
    stateDir,
    lambda: 1,
    holdoutPct: 0,
    untilIdleSec: 2,
    checkpointEvents: 1_000_000,
    checkpointMs: 300,
    commitMs: 50,
    progressMs: 1000,
    log: () => undefined,
  });
  const snapshotEvent = (row: CustomerRow, lsn: number) =>
    JSON.stringify({
      before: null,
      after: row,
      op: 'r',
      ts_ms: 0,
      source: { table: CDC_TABLE, lsn, snapshot: true },
    } satisfies ChangeEvent);
  before(async () => {
    await ensureKafka();
  });
  after(async () => {
    dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
    await deleteTopics(topics);
  });

  it('bug 1: while a batch waits on its DLQ send, model.json never shows it (checkpoints come from the committed snapshot)', async () => {
    const topic = `cdc-fix-ckpt-${randomUUID()}`;
    topics.push(topic);
    const rows = syntheticCustomers(40, 3);
    await produceChanges(
      rows.map((r, i) => ({ key: keyOf(r.ID as number), value: snapshotEvent(r, i + 1), kind: 'snapshot' as const })),
      { topic, rate: 0, partitions: 1 },
    );
    const stateDir = tmpDir();
    const running = runCdcConsumer({ ...base(topic, stateDir), checkpointMs: 100, untilIdleSec: 120 }).then(
      () => undefined,
      (e: Error) => e,
    );
    for (let i = 0; i < 200 && readStoreOffsets(stateDir)?.get(0) !== 40; i++) await new Promise((r) => setTimeout(r, 100));
    expect(readStoreOffsets(stateDir)?.get(0)).to.equal(40);
    // The DLQ topic disappears: the next DLQ send retries for seconds (unknown topic), then fails.
    const admin = createKafka('cdc-fix-admin').admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [`${topic}_dlq`] });
    await admin.disconnect();
    // A second batch: good rows and one bad row, so the batch waits on the DLQ with its rows applied in memory.
    const more = syntheticCustomers(30, 4, 100);
    const messages = more.map((r, i) => ({ key: keyOf(r.ID as number), value: snapshotEvent(r, 100 + i), kind: 'snapshot' as const }));
    messages.push({ key: keyOf(1), value: '{"op":', kind: 'snapshot' });
    await produceChanges(messages, { topic, rate: 0, partitions: 1 });
    const err = await running;
    expect(err, 'the DLQ send must fail').to.be.instanceOf(Error);
    // The store holds only the first batch; model.json (rewritten by the timer meanwhile) must agree with it.
    const stored = readStoreReadOnly(stateDir);
    const model = readModelFile(stateDir);
    expect(stored.state.stats.n).to.equal(40);
    expect(model.n).to.equal(40);
    expect(model.offsets).to.deep.equal({ 0: 40 });
    expect(verifyModel(stored.state, stored.offsets, model).ok).to.equal(true);
  });

  it('bug 4: offsets below the low watermark (retention) or beyond the high one (recreated topic) are refused at start', async () => {
    const topic = `cdc-fix-wm-${randomUUID()}`;
    topics.push(topic);
    await produceChanges(generateChanges(syntheticCustomers(30, 5), { seed: 1, updates: 50 }), { topic, rate: 0, partitions: 1 });
    const stateDir = tmpDir();
    await runCdcConsumer(base(topic, stateDir));
    const stored = readStoreReadOnly(stateDir).offsets.get(0)!;
    // More events arrive, then retention deletes them before the consumer saw them.
    await produceChanges(generateChanges(syntheticCustomers(10, 6, 500), { seed: 2, updates: 20 }), { topic, rate: 0, partitions: 1 });
    const admin = createKafka('cdc-fix-admin').admin();
    await admin.connect();
    const [{ high }] = await admin.fetchTopicOffsets(topic);
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: String(Number(high) - 5) }] });
    await admin.disconnect();
    const below = await runCdcConsumer(base(topic, stateDir)).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(below?.message).to.match(new RegExp(`stored offset ${stored} of .* below the partition's start .*deleted by retention`));
    // With --allow-retention-gap it goes on, warning and counting the gap.
    const logs: string[] = [];
    const gap = await runCdcConsumer({ ...base(topic, stateDir), allowRetentionGap: true, log: (l) => logs.push(l) });
    expect(gap.model.offsets).to.deep.equal({ 0: Number(high) });
    expect(logs.some((l) => /WARNING: .*deleted by retention/.test(l))).to.equal(true);
    expect(readStoreReadOnly(stateDir).state.counters.offsets_lost).to.equal(Number(high) - 5 - stored);
    expect(gap.model.offsets_lost, 'model.json reports the gap too').to.equal(Number(high) - 5 - stored);
    // A store that is ahead of the topic (the topic was recreated): refused.
    const db = new Database(path.join(stateDir, 'state.db'));
    db.prepare('UPDATE offsets SET next_offset = next_offset + 1000').run();
    db.close();
    const beyond = await runCdcConsumer(base(topic, stateDir)).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(beyond?.message).to.match(/beyond the partition's end .*recreated or truncated/);
  });

  it('bug 5: a second consumer on the same state directory is refused; --reset reports a failed offset reset', async () => {
    const topic = `cdc-fix-lock-${randomUUID()}`;
    topics.push(topic);
    await produceChanges(generateChanges(syntheticCustomers(30, 7), { seed: 3, updates: 100 }), { topic, rate: 0 });
    const stateDir = tmpDir();
    const abort = new AbortController();
    const running = runCdcConsumer({ ...base(topic, stateDir), untilIdleSec: undefined, signal: abort.signal });
    await new Promise((r) => setTimeout(r, 1500));
    const second = await runCdcConsumer({ ...base(topic, stateDir), groupId: `other-${topic}` }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(second?.message).to.match(/state directory .* is in use by another consumer/);
    // --reset while the group has a live member: Kafka refuses to rewind, and the consumer says so (nothing deleted).
    const other = tmpDir();
    const reset = await runCdcConsumer({ ...base(topic, other), groupId: `spark-ts-cdc-${topic}`, reset: true }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(reset?.message).to.match(/--reset: could not rewind consumer group .*nothing was deleted/);
    abort.abort();
    const done = await running;
    expect(done.model.n).to.be.above(0);
    expect(fs.existsSync(path.join(stateDir, 'state.db'))).to.equal(true);
  });

  it('bug 6: with pruning of deleted keys the model still equals a batch refit, and the store keeps fewer keys', async () => {
    const topic = `cdc-fix-prune-${randomUUID()}`;
    topics.push(topic);
    const produced = await produceChanges(
      generateChanges(syntheticCustomers(100, 8), { seed: 4, updates: 3000, deleteRatio: 0.2, insertRatio: 0.2 }),
      { topic, rate: 0, partitions: 3 },
    );
    const kept = tmpDir();
    const pruned = tmpDir();
    const a = await runCdcConsumer({ ...base(topic, kept), groupId: `kept-${topic}` });
    const b = await runCdcConsumer({ ...base(topic, pruned), groupId: `pruned-${topic}`, deleteRetention: 50 });
    expect(b.events_processed).to.equal(produced.sent);
    const sa = readStoreReadOnly(kept);
    const sb = readStoreReadOnly(pruned);
    expect(sb.state.liveRows()).to.deep.equal(sa.state.liveRows());
    expect(b.model.coefficients).to.deep.equal(a.model.coefficients);
    expect(b.model.deletes_pruned).to.be.above(100);
    expect(sb.state.keys.size).to.equal(sa.state.keys.size - b.model.deletes_pruned);
    expect(verifyModel(sb.state, sb.offsets, readModelFile(pruned)).ok).to.equal(true);
  });
});
