import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ensureConnect, ensurePostgres, markConnectStarted } from '../support/servers';
import { readTopic, syntheticCustomers } from './cdc-support';
import { parseMessage, type ParsedMessage, type RowColumns } from '../../lib/cdc/envelope';
import { parseForModel } from '../../lib/cdc/fast-envelope';
import { encodeRow, defaultSpec } from '../../lib/cdc/features';
import { prng } from '../../lib/cdc/generator';
import { relativeDifference, ridgeFromRows } from '../../lib/cdc/ridge';
import { isHoldout } from '../../lib/cdc/split';
import { readStoreReadOnly } from '../../lib/cdc/store';
import { readModelFile } from '../../lib/cdc/verify';
import type { ConsumerOptions } from '../../lib/cdc/consumer';
import {
  captureTable,
  connectorConfig,
  createConnector,
  deleteTopics,
  dropSlot,
  pgClient,
  readTable,
  removeConnector,
  topicSize,
  waitForConnectorRunning,
} from '../../lib/cdc/postgres-source';
import { runWorkload } from '../../lib/cdc/postgres-workload';
import { startConnect } from '../../lib/runtime/kafka-connect';
import type { PostgresState } from '../../lib/runtime/postgres';
import type { ConnectState } from '../../lib/runtime/kafka-connect';
import { sleep } from '../../lib/runtime/process';

const ROOT = path.resolve(__dirname, '..', '..');
const ENTRY = path.join(ROOT, 'test', 'support', 'cdc-consume-entry.ts');
type ChildOptions = Omit<ConsumerOptions, 'log' | 'signal' | 'onProgress'>;

/** The consumer in a child process; SIGKILLed once it reports `killAt` processed events. */
function runChild(opts: ChildOptions, killAt?: number): Promise<{ code: number | null; killed: boolean; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', ENTRY, JSON.stringify(opts)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (killAt === undefined || killed) return;
      const counts = [...out.matchAll(/cdc-consume: (\d+) events,/g)].map((m) => Number(m[1]));
      if (counts.length && counts[counts.length - 1] >= killAt) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, killed, out }));
  });
}

/** The batch refit computed from the database itself: SELECT * FROM the table, the model's own split and encoding. */
async function refitFromDatabase(pg: PostgresState, table: string, lambda: number, features: string[], holdoutPct: number) {
  const spec = { ...defaultSpec(), features };
  const xs: number[][] = [];
  const ys: number[] = [];
  const rows = await readTable(pg.url, table);
  for (const row of rows) {
    const id = row.ID as number;
    if (isHoldout(id, holdoutPct)) continue;
    const enc = encodeRow(row, spec);
    if (!enc.ok) throw new Error(`row ${id} from the database cannot be encoded: ${enc.reason}`);
    if (enc.row.y === null) continue;
    xs.push(enc.row.x);
    ys.push(enc.row.y as number);
  }
  return { rows, fit: ridgeFromRows(xs, ys, lambda, features.length) };
}

function maxRelDiff(model: { intercept: number; coefficients: number[] }, batch: { intercept: number; coefficients: number[] }): number {
  return Math.max(
    relativeDifference(model.intercept, batch.intercept),
    ...model.coefficients.map((c, j) => relativeDifference(c, batch.coefficients[j])),
  );
}

describe('cdc from a real PostgreSQL through Debezium on Kafka Connect', function () {
  this.timeout(900_000);
  const run = randomUUID().slice(0, 8);
  const root = path.join(os.tmpdir(), `cdc-pg-${run}`);
  let pg: PostgresState;
  let connect: ConnectState;
  let bootstrap: string;
  const cleanup: Array<() => Promise<unknown>> = [];

  before(async function () {
    this.timeout(400_000);
    pg = await ensurePostgres();
    connect = await ensureConnect();
    bootstrap = connect.bootstrap_servers;
    fs.mkdirSync(root, { recursive: true });
  });
  after(async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('PostgreSQL runs as the project starts it: .run/postgres.json (0600) with url and pid, logical WAL, 127.0.0.1 only, not as root', async () => {
    const file = path.join(ROOT, '.run', 'postgres.json');
    if (!process.env.SPARK_TS_RUN_DIR) expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
    expect(pg.url).to.match(new RegExp(`^postgresql://spark_ts:[^@]+@127\\.0\\.0\\.1:${pg.port}/spark_ts$`));
    expect(fs.readFileSync(`/proc/${pg.pid}/cmdline`, 'utf8')).to.include('postgres');
    const c = pgClient(pg.url);
    await c.connect();
    try {
      const setting = async (name: string) => (await c.query(`SELECT current_setting('${name}') AS v`)).rows[0].v as string;
      expect(await setting('wal_level')).to.equal('logical');
      expect(await setting('listen_addresses')).to.equal('127.0.0.1');
    } finally {
      await c.end();
    }
    if (process.getuid?.() === 0) expect(fs.statSync(`/proc/${pg.pid}`).uid, 'the postmaster must not run as root').to.not.equal(0);
  });

  /** Registers a capture of `table` under its own prefix, slot and publication; removed after the suite. */
  async function capture(table: string, prefix: string, overrides: Record<string, string>): Promise<string> {
    const slot = `${prefix}_slot`;
    const name = `${prefix}-connector`;
    const topic = `${prefix}.public.${table}`;
    cleanup.push(async () => {
      await removeConnector(connect.url, name);
      await dropSlot(pg.url, slot);
      await deleteTopics(bootstrap, [topic]);
    });
    await createConnector(
      connect.url,
      name,
      connectorConfig(pg, table, {
        'topic.prefix': prefix,
        'slot.name': slot,
        'publication.name': slot,
        'custom.metric.tags': `capture=${prefix}`,
        ...overrides,
      }),
    );
    return topic;
  }

  it('reads what the real connector writes: {schema,payload} or bare, precise/string/double decimals, lower-case columns, tombstones, truncate, unwrapped records', async () => {
    const table = `fx_${run}`;
    const client = pgClient(pg.url);
    await client.connect();
    cleanup.push(async () => {
      const c = pgClient(pg.url);
      await c.connect();
      await c.query(`DROP TABLE IF EXISTS ${table}`);
      await c.end();
    });
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    await client.query(
      `CREATE TABLE ${table} (id bigint PRIMARY KEY, income numeric(12,2), ratio numeric, mntwines integer, dt_customer date, education text, response smallint)`,
    );
    await client.query(
      `INSERT INTO ${table} VALUES (1, 58138.00, 1.5, 635, '2012-09-04', 'Graduation', 1), (2, -46344.50, 3, 11, '2014-03-08', 'PhD', 0)`,
    );
    const jsonConv = (schemas: boolean) => ({
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'key.converter.schemas.enable': String(schemas),
      'value.converter.schemas.enable': String(schemas),
    });
    const topics = {
      precise: await capture(table, `fxa${run}`, {}),
      string: await capture(table, `fxb${run}`, { ...jsonConv(false), 'decimal.handling.mode': 'string' }),
      unwrapped: await capture(table, `fxc${run}`, {
        'decimal.handling.mode': 'double',
        transforms: 'unwrap',
        'transforms.unwrap.type': 'io.debezium.transforms.ExtractNewRecordState',
        'transforms.unwrap.add.fields': 'op,lsn',
        'transforms.unwrap.delete.tombstone.handling.mode': 'rewrite',
      }),
    };
    for (const topic of Object.values(topics)) expect(await waitSize(topic, 2)).to.be.at.least(2);
    // The changes: one transaction with an update (a cent), an insert and a delete; two updates of one key in one transaction; a truncate; an insert after it.
    await client.query('BEGIN');
    await client.query(`UPDATE ${table} SET income = income + 0.01 WHERE id = 1`);
    await client.query(`INSERT INTO ${table} VALUES (3, 1234.56, 0.25, 7, '2020-01-01', 'Master', 0)`);
    await client.query(`DELETE FROM ${table} WHERE id = 2`);
    await client.query('COMMIT');
    await client.query('BEGIN');
    await client.query(`UPDATE ${table} SET mntwines = 700 WHERE id = 1`);
    await client.query(`UPDATE ${table} SET mntwines = 701 WHERE id = 1`);
    await client.query('COMMIT');
    await client.query(`TRUNCATE ${table}`);
    await client.query(`INSERT INTO ${table} VALUES (4, 99.99, 2, 1, '2021-02-03', 'Basic', 1)`);
    await client.end();

    const columns: RowColumns = { features: ['Income', 'Ratio', 'MntWines'], target: 'Response' };
    // The consumer's byte-level fast path must give parseMessage's result on every real message it takes.
    const fastTaken: Record<string, number> = {};
    const fastSpecs = [
      { features: ['Income', 'Ratio', 'MntWines'], target: 'Response', decimals: 2 },
      { features: ['Income', 'MntWines'], target: 'Response', decimals: 2 },
    ];
    const checkFast = (topic: string, message: { key: string | null; value: string | null }) => {
      const m = {
        key: message.key === null ? null : Buffer.from(message.key),
        value: message.value === null ? null : Buffer.from(message.value),
      };
      for (const spec of fastSpecs) {
        const fast = parseForModel(m.key, m.value, spec);
        if (fast === undefined) continue;
        fastTaken[`${topic}/${spec.features.length}`] = (fastTaken[`${topic}/${spec.features.length}`] ?? 0) + 1;
        expect(fastOutcome(fast), `${m.value?.toString()}`).to.deep.equal(fastOutcome(parseMessage(m.key, m.value, spec)));
      }
    };
    const parsedOf = async (topic: string, expected: number): Promise<ParsedMessage[]> => {
      await waitSize(topic, expected);
      const messages = await readTopic(topic, expected, 30_000);
      messages.forEach((m) => checkFast(topic, m));
      return messages.map((m) => parseMessage(m.key, m.value, columns));
    };
    // Envelope topics: 2 snapshot + u, c, d, tombstone + u, u + t + c = 10 messages.
    const precise = await parsedOf(topics.precise, 10);
    const stringMode = await parsedOf(topics.string, 10);
    expect(precise.map((p) => p.kind)).to.deep.equal([
      'event',
      'event',
      'event',
      'event',
      'event',
      'tombstone',
      'event',
      'event',
      'truncate',
      'event',
    ]);
    const events = precise.filter((p): p is Extract<ParsedMessage, { kind: 'event' }> => p.kind === 'event');
    expect(events.map((e) => `${e.event.op}${e.id}`)).to.deep.equal(['r1', 'r2', 'u1', 'c3', 'd2', 'u1', 'u1', 'c4']);
    // Lower-case PostgreSQL columns come back under the model's names; precise decimals decode exactly.
    expect(events[0].event.after).to.include({ ID: 1, Income: 58138, Ratio: 1.5, MntWines: 635, Response: 1 });
    expect(events[1].event.after).to.include({ ID: 2, Income: -46344.5, Ratio: 3 });
    expect(events[2].event.after).to.include({ Income: 58138.01 });
    expect(events[3].event.after).to.include({ ID: 3, Income: 1234.56, Ratio: 0.25 });
    expect(events[0].event.source.snapshot).to.equal(true);
    expect(events[2].event.source.snapshot).to.equal(false);
    // REPLICA IDENTITY DEFAULT: a delete's before holds only the key.
    expect(events[4].event.before).to.deep.equal({
      ID: 2,
      Income: null,
      Ratio: null,
      MntWines: null,
      Dt_Customer: null,
      Education: null,
      Response: null,
    });
    // Every change has its own WAL position; the snapshot's rows share the slot's.
    const lsns = events.map((e) => e.event.source.lsn);
    expect(lsns[0]).to.equal(lsns[1]);
    for (let i = 2; i < lsns.length; i++) expect(lsns[i]).to.be.above(lsns[i - 1]);
    const truncate = precise[8] as Extract<ParsedMessage, { kind: 'truncate' }>;
    expect(truncate.lsn).to.be.above(lsns[6]).and.below(lsns[7]);
    // Without schemas, in string mode: the same events, the same values.
    expect(stringMode.map(summary).filter((x) => !isTruncate(x))).to.deep.equal(precise.map(summary).filter((x) => !isTruncate(x)));
    expect(stringMode.filter((x) => x.kind === 'truncate')).to.deep.equal([truncate]);
    // ExtractNewRecordState (double mode): the same rows and lsns; the delete is rewritten with __deleted.
    const unwrappedMessages = await readTopic(topics.unwrapped, 9, 20_000);
    unwrappedMessages.forEach((m) => checkFast(topics.unwrapped, m));
    const unwrapped = unwrappedMessages.map((m) => parseMessage(m.key, m.value, columns));
    const unwrappedEvents = unwrapped.filter((p) => p.kind === 'event').map(summary);
    expect(unwrappedEvents).to.deep.equal(precise.filter((p) => p.kind === 'event').map(summary));
    // The fast path takes the wrapped precise events when Ratio (NUMERIC without scale: a nested
    // VariableScaleDecimal) is not read, and all events and tombstones of the string and unwrapped topics.
    expect(fastTaken[`${topics.precise}/2`], 'precise, wrapped').to.equal(9);
    expect(fastTaken[`${topics.string}/3`], 'string, bare').to.equal(9);
    expect(fastTaken[`${topics.unwrapped}/3`], 'unwrapped').to.be.at.least(8);
  });

  function fastOutcome(p: ParsedMessage): unknown {
    if (p.kind !== 'event') return p;
    const e = p.event;
    const row =
      e.after === null
        ? null
        : { ID: e.after.ID, Income: e.after.Income, Ratio: e.after.Ratio, MntWines: e.after.MntWines, Response: e.after.Response };
    return { kind: p.kind, id: p.id, op: e.op, lsn: e.source.lsn, row };
  }

  async function waitSize(topic: string, n: number, timeoutMs = 60_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await topicSize(bootstrap, topic);
      if (s >= n || Date.now() > deadline) return s;
      await sleep(300);
    }
  }

  function isTruncate(x: unknown): boolean {
    return typeof x === 'object' && x !== null && (x as { kind?: string }).kind === 'truncate';
  }

  function summary(p: ParsedMessage): unknown {
    if (p.kind !== 'event') return p;
    const row = p.event.after ?? {};
    // A snapshot's lsn is its slot's consistent point: each connector has its own slot.
    return {
      op: p.event.op,
      id: p.id,
      lsn: p.event.op === 'r' ? 'snapshot' : p.event.source.lsn,
      Income: row.Income,
      Ratio: row.Ratio,
      MntWines: row.MntWines,
      Response: row.Response,
    };
  }

  const table = `customers_${run}`;
  let topic = '';
  let reference: ReturnType<typeof snapshotOf>;

  function snapshotOf(stateDir: string) {
    const { updated_at: _t, offsets: _o, ...model } = readModelFile(stateDir);
    const store = readStoreReadOnly(stateDir);
    return { model, keys: [...store.state.keys].sort((a, b) => a[0] - b[0]) };
  }

  it('end to end: cdc-source, cdc-workload (3,000 changes in transactions), cdc-consume: the model equals a batch refit from SELECT * in PostgreSQL', async () => {
    const rows = syntheticCustomers(400, 16);
    const t0 = Date.now();
    const source = await captureTable({ pg, connectUrl: connect.url, bootstrapServers: bootstrap, table, rows });
    topic = source.topic;
    cleanup.push(async () => {
      await removeConnector(connect.url, source.connector);
      await dropSlot(pg.url, `spark_ts_${table}`);
      await deleteTopics(bootstrap, [topic, `${topic}_dlq`]);
    });
    expect(topic).to.equal(`spark_ts.public.${table}`);
    const tSource = Date.now() - t0;
    const w = await runWorkload({ url: pg.url, table, updates: 3000, seed: 7 });
    expect(w.inserts + w.updates + w.deletes).to.equal(3000);
    // Snapshot + changes + a tombstone per delete.
    const expected = rows.length + 3000 + w.deletes;
    expect(await waitSize(topic, expected, 120_000)).to.equal(expected);
    const stateDir = path.join(root, 'e2e');
    const t1 = Date.now();
    const r = await runChild({ topic, stateDir, lambda: 1, untilIdleSec: 2, checkpointEvents: 500, checkpointMs: 1000, progressMs: 200 });
    expect(r.code, r.out).to.equal(0);
    const model = readModelFile(stateDir);
    const { rows: dbRows, fit } = await refitFromDatabase(pg, table, model.lambda, model.features, 20);
    const diff = maxRelDiff(model, fit);
    console.log(
      `      source ${(tSource / 1000).toFixed(1)} s, workload ${(w.elapsed_ms / 1000).toFixed(1)} s (${w.transactions} transactions), consume ${((Date.now() - t1) / 1000).toFixed(1)} s; ${expected} messages; max rel diff vs refit ${diff.toExponential(2)}`,
    );
    expect(model.n).to.equal(fit.n);
    expect(diff).to.be.at.most(1e-9);
    // The table too: the consumer's live keys are exactly the database's rows.
    const store = readStoreReadOnly(stateDir);
    const live = [...store.state.keys]
      .filter(([, k]) => k.row !== null)
      .map(([id]) => id)
      .sort((a, b) => a - b);
    expect(live).to.deep.equal(dbRows.map((row) => row.ID as number));
    expect(model.dlq).to.equal(0);
    reference = snapshotOf(stateDir);
  });

  it('SIGKILL of the consumer at 5 random points of the real stream, restarting each time: the same end state', async () => {
    expect(topic, 'needs the end-to-end test').to.not.equal('');
    const rand = prng(2026);
    const stateDir = path.join(root, 'kill');
    const opts: ChildOptions = {
      topic,
      stateDir,
      lambda: 1,
      untilIdleSec: 1,
      checkpointEvents: 500,
      checkpointMs: 1000,
      progressMs: 100,
      groupId: `kill-${run}`,
      maxBytesPerPartition: 64 * 1024,
    };
    const points: number[] = [];
    // Five kills, each after a random number of events of that run (the stream has 3,544 messages: the kills stay inside it).
    for (let trial = 0; trial < 5; trial++) {
      const killAt = 100 + Math.floor(rand() * 500);
      const r = await runChild(opts, killAt);
      expect(r.killed, `run ${trial} ended before ${killAt} events:\n${r.out}`).to.equal(true);
      points.push(killAt);
    }
    const last = await runChild(opts);
    expect(last.code, last.out).to.equal(0);
    expect(snapshotOf(stateDir), `killed after ${points.join(', ')} events`).to.deep.equal(reference);
  });

  it('Kafka Connect SIGKILLed mid-workload and restarted: no change lost, none applied twice', async () => {
    const t = `restart_${run}`;
    const source = await captureTable({
      pg,
      connectUrl: connect.url,
      bootstrapServers: bootstrap,
      table: t,
      rows: syntheticCustomers(300, 99),
    });
    cleanup.push(async () => {
      await removeConnector(connect.url, source.connector);
      await dropSlot(pg.url, `spark_ts_${t}`);
      await deleteTopics(bootstrap, [source.topic, `${source.topic}_dlq`]);
    });
    let killedAt = -1;
    const workload = runWorkload({
      url: pg.url,
      table: t,
      updates: 2500,
      seed: 11,
      onProgress: (n) => {
        if (n === 800) {
          killedAt = n;
          process.kill(connect.pid, 'SIGKILL');
        }
      },
    });
    const w = await workload;
    expect(killedAt).to.equal(800);
    const t0 = Date.now();
    connect = (await startConnect({ bootstrapServers: bootstrap })).state;
    markConnectStarted();
    await waitForConnectorRunning(connect.url, source.connector, 120_000);
    const expected = 300 + 2500 + w.deletes;
    const size = await waitSize(source.topic, expected, 120_000);
    console.log(
      `      Connect restarted in ${((Date.now() - t0) / 1000).toFixed(1)} s; topic holds ${size} messages for ${expected} changes (${size - expected} re-sent)`,
    );
    expect(size).to.be.at.least(expected);
    const stateDir = path.join(root, 'restart');
    const r = await runChild({
      topic: source.topic,
      stateDir,
      lambda: 1,
      untilIdleSec: 3,
      checkpointEvents: 500,
      checkpointMs: 1000,
      progressMs: 200,
    });
    expect(r.code, r.out).to.equal(0);
    const model = readModelFile(stateDir);
    const { rows: dbRows, fit } = await refitFromDatabase(pg, t, model.lambda, model.features, 20);
    expect(model.n).to.equal(fit.n);
    expect(maxRelDiff(model, fit)).to.be.at.most(1e-9);
    const live = [...readStoreReadOnly(stateDir).state.keys]
      .filter(([, k]) => k.row !== null)
      .map(([id]) => id)
      .sort((a, b) => a - b);
    expect(live).to.deep.equal(dbRows.map((row) => row.ID as number));
    // Re-sent events (same lsn) were skipped, not applied twice: applied = one per change.
    expect(model.events_applied).to.equal(300 + 2500);
    // Every message read is accounted for (the topic may have grown by late re-sends since the wait).
    expect(model.events_applied + model.events_skipped + model.tombstones + model.dlq).to.equal(await topicSize(bootstrap, source.topic));
  });
});
