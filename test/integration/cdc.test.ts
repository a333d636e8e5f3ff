import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ensureKafka } from '../support/servers';
import { runCdcConsumer } from '../../lib/cdc/consumer';
import { CDC_TABLE, keyOf, type ChangeEvent, type ChangeOp } from '../../lib/cdc/envelope';
import { decodeRow, defaultSpec, DEFAULT_FEATURES, encodeRow, type CustomerRow } from '../../lib/cdc/features';
import { generateChanges, MALFORMED_KINDS, type CdcMessage } from '../../lib/cdc/generator';
import { produceChanges } from '../../lib/cdc/produce';
import { relativeDifference, ridgeFromRows } from '../../lib/cdc/ridge';
import { readStoreReadOnly } from '../../lib/cdc/store';
import { readModelFile, verifyModel } from '../../lib/cdc/verify';
import { parseJobParams } from '../../lib/cli/job';
import type { SparkSession } from '../../lib/connect';
import consumeJob from '../../jobs/cdc-consume';
import { deleteTopics, readTopic, syntheticCustomers } from './cdc-support';
import { testJobContext } from '../support/job-context';

describe('cdc against real Kafka', function () {
  this.timeout(180_000);
  const dirs: string[] = [];
  const tmpDir = () => {
    const d = path.join(os.tmpdir(), `cdc-it-${randomUUID()}`);
    dirs.push(d);
    return d;
  };
  before(async () => {
    await ensureKafka();
  });
  const topics: string[] = [];
  after(async () => {
    dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
    await deleteTopics(topics);
  });

  it('snapshot, inserts, updates, deletes, replays, stale and malformed events: the model equals a batch fit on the expected table', async () => {
    const topic = `cdc-seq-${randomUUID()}`;
    topics.push(topic);
    const base = syntheticCustomers(60, 11);
    const messages: CdcMessage[] = [];
    // Every well-formed event the test sends, to compute the expected table independently.
    const valid: Array<{ id: number; op: ChangeOp; lsn: number; after: CustomerRow | null }> = [];
    const send = (op: ChangeOp, id: number, lsn: number, after: CustomerRow | null, before: CustomerRow | null = null) => {
      const e: ChangeEvent = { before, after, op, ts_ms: 1_700_000_000_000 + lsn, source: { table: CDC_TABLE, lsn, snapshot: op === 'r' } };
      const m: CdcMessage = {
        key: keyOf(id),
        value: JSON.stringify(e),
        kind: op === 'r' ? 'snapshot' : op === 'c' ? 'insert' : op === 'u' ? 'update' : 'delete',
      };
      messages.push(m);
      valid.push({ id, op, lsn, after });
      if (op === 'd') messages.push({ key: keyOf(id), value: null, kind: 'tombstone' });
      return m;
    };
    const replay = (m: CdcMessage) => {
      messages.push({ ...m, kind: 'replay' });
      const e = JSON.parse(m.value!) as ChangeEvent;
      valid.push({ id: (e.after ?? e.before)!.ID as number, op: e.op, lsn: e.source.lsn, after: e.after });
    };
    let lsn = 0;
    const current = new Map<number, CustomerRow>();
    const sent: CdcMessage[] = [];
    for (const row of base.slice(0, 50)) {
      current.set(row.ID as number, row);
      sent.push(send('r', row.ID as number, ++lsn, row));
    }
    for (const row of base.slice(50)) {
      current.set(row.ID as number, row);
      sent.push(send('c', row.ID as number, ++lsn, row));
    }
    // Updates, several per key for some keys.
    for (let i = 0; i < 40; i++) {
      const id = 1 + ((i * 7) % 60);
      const before = current.get(id)!;
      const after = {
        ...before,
        Income: (before.Income as number) + 1000 * (i + 1),
        MntWines: (before.MntWines as number) + i,
        Response: i % 3 === 0 ? 1 : 0,
      };
      current.set(id, after);
      sent.push(send('u', id, ++lsn, after, before));
    }
    // Deletes (with tombstones), one of a key that never existed.
    for (const id of [3, 7, 55]) {
      sent.push(send('d', id, ++lsn, null, current.get(id)!));
      current.delete(id);
    }
    send('d', 999, ++lsn, null, { ID: 999 });
    // Replays: a deleted key's snapshot must not come back; an old update; the latest delete again.
    replay(sent[2]);
    replay(sent[60]);
    replay(sent[sent.length - 1]);
    // Stale events: lower lsn than what was applied for the key (a delayed event).
    const staleLsn = 55;
    send('u', 8, staleLsn, { ...current.get(8)!, Income: 1 });
    send('c', 7, 10, { ...base[6], Income: 2 });
    // A deleted customer comes back with a newer lsn.
    const back = { ...base[2], Income: 77_777 };
    send('c', 3, ++lsn, back);
    // Malformed: one of each kind, on existing keys.
    const broken = [
      '{"op":"u","after":{"ID":1,',
      JSON.stringify({ before: null, after: base[0], ts_ms: 1, source: { table: CDC_TABLE, lsn: 1_000_000, snapshot: false } }),
      JSON.stringify({ before: null, after: base[0], op: 'z', ts_ms: 1, source: { table: CDC_TABLE, lsn: 1_000_001, snapshot: false } }),
      JSON.stringify({
        before: null,
        after: { ...base[0], ID: undefined },
        op: 'u',
        ts_ms: 1,
        source: { table: CDC_TABLE, lsn: 1_000_002, snapshot: false },
      }),
      JSON.stringify({
        before: null,
        after: { ...base[0], MntWines: 'lots' },
        op: 'u',
        ts_ms: 1,
        source: { table: CDC_TABLE, lsn: 1_000_003, snapshot: false },
      }),
    ];
    for (const value of broken) messages.push({ key: keyOf(1), value, kind: 'malformed' });

    await produceChanges(messages, { topic, rate: 0, partitions: 3 });
    const stateDir = tmpDir();
    const result = await runCdcConsumer({
      topic,
      stateDir,
      lambda: 1.0,
      holdoutPct: 0,
      // It stops at the topic's end; the idle limit is only the fallback, far off.
      untilEnd: true,
      untilIdleSec: 30,
      checkpointEvents: 25,
      checkpointMs: 500,
      log: () => undefined,
    });
    expect(result.elapsed_ms, 'stopped at the end of the topic, not after 30 s idle').to.be.below(30_000);

    // The expected table: for each key, its event with the highest lsn; a delete means no row, and so does
    // a newer event that went to the DLQ (the non-numeric update of key 1 retracts its row). Rows as the
    // model stores them: ID, the features, the target.
    const best = new Map<number, { op: ChangeOp; lsn: number; after: CustomerRow | null }>();
    const retracting = { id: 1, op: 'd' as ChangeOp, lsn: 1_000_003, after: null };
    for (const v of [...valid, retracting]) if (!best.has(v.id) || v.lsn > best.get(v.id)!.lsn) best.set(v.id, v);
    const spec = defaultSpec();
    const encoded = (row: CustomerRow) => (encodeRow(row, spec) as { ok: true; row: { x: number[]; y: number } }).row;
    const expected = [...best]
      .filter(([, v]) => v.op !== 'd')
      .sort((a, b) => a[0] - b[0])
      .map(([id, v]) => ({ id, row: decodeRow(id, encoded(v.after!), spec) }));
    const stored = readStoreReadOnly(stateDir);
    expect(stored.state.liveRows()).to.deep.equal(expected);
    expect(expected.find((r) => r.id === 3)!.row.Income).to.equal(77_777);
    expect(expected.some((r) => r.id === 7)).to.equal(false);
    expect(expected.some((r) => r.id === 1)).to.equal(false);

    const fit = ridgeFromRows(
      expected.map((r) => DEFAULT_FEATURES.map((f) => r.row[f] as number)),
      expected.map((r) => r.row.Response as number),
      1.0,
      DEFAULT_FEATURES.length,
    );
    const model = readModelFile(stateDir);
    expect(model.features).to.deep.equal([...DEFAULT_FEATURES]);
    expect(model.n).to.equal(expected.length);
    expect(model.lambda).to.equal(1.0);
    const worst = Math.max(
      relativeDifference(model.intercept, fit.intercept),
      ...model.coefficients.map((c, j) => relativeDifference(c, fit.coefficients[j])),
    );
    expect(worst).to.be.at.most(1e-9);
    for (const k of [
      'features',
      'target',
      'lambda',
      'n',
      'intercept',
      'coefficients',
      'means',
      'sds',
      'threshold',
      'events_applied',
      'events_skipped',
      'offsets',
      'updated_at',
    ])
      expect(model).to.have.property(k);
    // Replays (3) and stale events (2) were skipped; every good event with a new lsn was applied.
    expect(model.events_skipped).to.equal(5);
    expect(model.events_applied).to.equal(valid.length - 5);
    expect(model.tombstones).to.equal(4);
    expect(model.dlq).to.equal(5);
    expect(model.dlq_retracted).to.equal(1);
    expect(result.events_processed).to.equal(messages.length);
    expect(verifyModel(stored.state, stored.offsets, model).ok).to.equal(true);

    const dlq = await readTopic(`${topic}_dlq`, 5);
    expect(dlq).to.have.length(5);
    const reasons = dlq.map((m) => JSON.parse(m.value!).reason as string).sort();
    expect(reasons).to.deep.equal(
      [
        'after without ID',
        'malformed JSON: ' + reasons[1].slice('malformed JSON: '.length),
        'missing op',
        'non-numeric feature MntWines: "lots"',
        'unknown op "z"',
      ].sort(),
    );
    dlq.forEach((m) => expect(m.headers.reason).to.be.a('string'));
    // The DLQ record of the non-numeric update says that it retracted key 1's row; the others retracted nothing.
    const retracted = dlq.filter((m) => JSON.parse(m.value!).retracted === true);
    expect(retracted.map((m) => [JSON.parse(m.value!).reason, m.headers.retracted])).to.deep.equal([
      ['non-numeric feature MntWines: "lots"', 'true'],
    ]);
  });

  it('an interrupted producer counts by kind only what it sent', async () => {
    const topic = `cdc-stop-${randomUUID()}`;
    topics.push(topic);
    const abort = new AbortController();
    const summary = await produceChanges(generateChanges(syntheticCustomers(200, 3), { seed: 4, updates: 5000 }), {
      topic,
      rate: 0,
      signal: abort.signal,
      onProgress: (sent) => {
        if (sent >= 1000) abort.abort();
      },
    });
    expect(summary.interrupted).to.equal(true);
    expect(summary.sent).to.be.at.least(1000).and.below(5000);
    expect(Object.values(summary.by_kind).reduce((a, b) => a + b, 0)).to.equal(summary.sent);
    expect((await readTopic(topic, summary.sent)).length).to.equal(summary.sent);
  });

  it('the DLQ count equals the malformed events injected by the producer (through the cdc-consume job)', async () => {
    const topic = `cdc-dlq-${randomUUID()}`;
    topics.push(topic);
    const summary = await produceChanges(
      generateChanges(syntheticCustomers(80, 5), { seed: 9, updates: 600, malformedRate: 0.04, replayRate: 0.05 }),
      { topic, rate: 0 },
    );
    const injected = summary.by_kind.malformed;
    expect(injected).to.be.above(10);
    const stateDir = tmpDir();
    const logs: string[] = [];
    const ctx = testJobContext((await ensureKafka()).bootstrap_servers, logs);
    const args = {
      topic,
      'state-dir': stateDir,
      lambda: 1,
      reset: false,
      'until-idle': 3,
      'checkpoint-events': 100,
      'checkpoint-ms': 1000,
      'progress-ms': 500,
    };
    expect(consumeJob.validate?.(args)).to.equal(undefined);
    const code = await consumeJob.run(undefined as unknown as SparkSession, parseJobParams(consumeJob, args), ctx);
    expect(code).to.equal(0);
    expect(logs.some((l) => /events\/s, lag \d+, n \d+, AUC/.test(l))).to.equal(true);
    const model = readModelFile(stateDir);
    expect(model.dlq).to.equal(injected);
    const dlq = await readTopic(`${topic}_dlq`, injected);
    expect(dlq).to.have.length(injected);
    const kinds = new Set(dlq.map((m) => MALFORMED_KINDS.find((k) => (JSON.parse(m.value!).reason as string).startsWith(k))));
    expect([...kinds].sort()).to.deep.equal([...MALFORMED_KINDS].sort());

    // A second start over the same topic and group without the store: refused, not a silent fresh start.
    fs.rmSync(path.join(stateDir, 'state.db'));
    const failure = (a: typeof args) =>
      consumeJob.run(undefined as unknown as SparkSession, parseJobParams(consumeJob, a), ctx).then(
        () => undefined,
        (e: Error) => e,
      );
    expect((await failure(args))?.message).to.match(/missing but .*model\.json exists/);
    fs.rmSync(path.join(stateDir, 'model.json'));
    expect((await failure(args))?.message).to.match(/consumer group .* has already consumed/);
    // --reset rebuilds the same state from the beginning of the topic.
    expect(await consumeJob.run(undefined as unknown as SparkSession, parseJobParams(consumeJob, { ...args, reset: true }), ctx)).to.equal(
      0,
    );
    const again = readModelFile(stateDir);
    expect(again.coefficients).to.deep.equal(model.coefficients);
    expect(again.dlq).to.equal(injected);
  });
});
