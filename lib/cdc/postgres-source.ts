/**
 * The real CDC source: the customers in a PostgreSQL table, captured by the Debezium PostgreSQL connector
 * on Kafka Connect into `spark_ts.public.<table>`. Loading replaces the table and its capture (connector,
 * its stored offsets, replication slot, publication, topic), so every load starts with a fresh snapshot.
 */
import { Client, types as pgTypes, type ClientConfig } from 'pg';
import { createKafka } from '../kafka/config';
import type { CustomerRow } from './features';
import { canonicalRow } from './debezium';
import { CUSTOMER_COLUMNS } from './envelope';
import { sleep } from '../runtime/process';

export const TOPIC_PREFIX = 'spark_ts';
export const DEFAULT_SOURCE_TABLE = 'customers';

export function topicFor(table: string): string {
  return `${TOPIC_PREFIX}.public.${table}`;
}
export function connectorName(table: string): string {
  return `spark-ts-${table}`;
}
/** Replication slot and publication: one per table, so tables are captured side by side. */
export function slotName(table: string): string {
  return `spark_ts_${table}`;
}

/** A table name we put into SQL unquoted-safe: lower-case letters, digits, underscores. */
export function checkTableName(table: string): string | undefined {
  return /^[a-z_][a-z0-9_]{0,40}$/.test(table)
    ? undefined
    : `table name must match [a-z_][a-z0-9_]* (at most 41 characters), got ${JSON.stringify(table)}`;
}

/**
 * A pg client whose values come back as the rows the CDC jobs use: int8 and numeric as numbers (exact for
 * the integers and 2-decimal amounts of this data), dates as `YYYY-MM-DD` text.
 */
export function pgClient(url: string): Client {
  const INT8 = 20;
  const NUMERIC = 1700;
  const DATE = 1082;
  const types: ClientConfig['types'] = {
    getTypeParser: ((oid: number, format?: string) => {
      if (oid === INT8 || oid === NUMERIC) return (v: string) => Number(v);
      if (oid === DATE) return (v: string) => v;
      return pgTypes.getTypeParser(oid, format as 'text');
    }) as NonNullable<ClientConfig['types']>['getTypeParser'],
  };
  return new Client({ connectionString: url, types });
}

/** The PostgreSQL column name of a canonical column: PostgreSQL's own folding (lower case). */
export function pgColumn(name: string): string {
  return name.toLowerCase();
}

/**
 * Column types from the rows: `id` bigint primary key; Income numeric(12,2) (money: exact, and it comes
 * through Debezium as a precise decimal); integer-valued numbers integer (bigint when larger); other
 * numbers double precision; YYYY-MM-DD text date; booleans boolean; the rest text.
 */
export function columnTypes(rows: CustomerRow[]): Array<{ name: string; type: string }> {
  const names = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) names.add(k);
  if (!names.has('ID')) throw new Error('the rows have no ID column');
  const out: Array<{ name: string; type: string }> = [];
  for (const name of names) {
    const values = rows.map((r) => r[name]).filter((v) => v !== null && v !== undefined);
    let type: string;
    if (name === 'ID') type = 'bigint';
    else if (name === 'Income') type = 'numeric(12,2)';
    else if (values.length && values.every((v) => typeof v === 'number')) {
      const nums = values as number[];
      type = nums.every(Number.isInteger) ? (nums.every((v) => Math.abs(v) < 2 ** 31) ? 'integer' : 'bigint') : 'double precision';
    } else if (values.length && values.every((v) => typeof v === 'boolean')) type = 'boolean';
    else if (values.length && values.every((v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v))) type = 'date';
    else type = 'text';
    out.push({ name, type });
  }
  if (new Set(out.map((c) => pgColumn(c.name))).size !== out.length)
    throw new Error('two columns differ only in case: PostgreSQL would fold them into one');
  return out;
}

/** Replaces `public.<table>` with the rows (one transaction: batched multi-row INSERTs). */
export async function loadTable(url: string, table: string, rows: CustomerRow[]): Promise<{ columns: number; rows: number }> {
  const cols = columnTypes(rows);
  const client = pgClient(url);
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(`DROP TABLE IF EXISTS public.${table}`);
    await client.query(
      `CREATE TABLE public.${table} (${cols.map((c) => `${pgColumn(c.name)} ${c.type}${c.name === 'ID' ? ' PRIMARY KEY' : ''}`).join(', ')})`,
    );
    const per = Math.max(1, Math.floor(30_000 / cols.length));
    for (let i = 0; i < rows.length; i += per) {
      const chunk = rows.slice(i, i + per);
      const params: unknown[] = [];
      const tuples = chunk.map((r) => `(${cols.map((c) => `$${params.push(r[c.name] ?? null)}`).join(', ')})`);
      await client.query(
        `INSERT INTO public.${table} (${cols.map((c) => pgColumn(c.name)).join(', ')}) VALUES ${tuples.join(', ')}`,
        params,
      );
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    await client.end();
  }
  return { columns: cols.length, rows: rows.length };
}

/** `SELECT * FROM public.<table>` as canonical customer rows (the batch-refit view of the database). */
export async function readTable(url: string, table: string): Promise<CustomerRow[]> {
  const client = pgClient(url);
  await client.connect();
  try {
    const r = await client.query(`SELECT * FROM public.${table} ORDER BY id`);
    const names = { names: ['ID', ...CUSTOMER_COLUMNS] };
    return r.rows.map((row: Record<string, unknown>) => canonicalRow(row, undefined, names));
  } finally {
    await client.end();
  }
}

// --- Kafka Connect REST ---------------------------------------------------------------------------

async function rest(connectUrl: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const r = await fetch(`${connectUrl}${path}`, {
    method,
    headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await r.text();
  let json: unknown = text;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: r.status, json };
}

function restError(what: string, r: { status: number; json: unknown }): Error {
  const msg =
    typeof r.json === 'object' && r.json !== null && 'message' in r.json
      ? String((r.json as { message: unknown }).message)
      : JSON.stringify(r.json);
  return new Error(`Kafka Connect: ${what} failed (HTTP ${r.status}): ${msg}`);
}

export interface ConnectorStatus {
  connector: { state: string; trace?: string };
  tasks: Array<{ id: number; state: string; trace?: string }>;
}

export async function connectorStatus(connectUrl: string, name: string): Promise<ConnectorStatus | undefined> {
  const r = await rest(connectUrl, 'GET', `/connectors/${name}/status`);
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw restError(`status of ${name}`, r);
  return r.json as ConnectorStatus;
}

/**
 * Removes a connector and what it left: stop it, delete its stored source offsets (else a new connector of
 * that name would resume from them and skip the snapshot), delete it.
 */
export async function removeConnector(connectUrl: string, name: string): Promise<boolean> {
  if (!(await connectorStatus(connectUrl, name))) return false;
  const stop = await rest(connectUrl, 'PUT', `/connectors/${name}/stop`);
  if (stop.status >= 300) throw restError(`stopping ${name}`, stop);
  for (let i = 0; ; i++) {
    const s = await connectorStatus(connectUrl, name);
    if (!s || (s.connector.state === 'STOPPED' && s.tasks.length === 0)) break;
    if (i > 300) throw new Error(`Kafka Connect: connector ${name} did not stop within 60 s`);
    await sleep(200);
  }
  const offsets = await rest(connectUrl, 'DELETE', `/connectors/${name}/offsets`);
  if (offsets.status >= 300) throw restError(`deleting the offsets of ${name}`, offsets);
  const del = await rest(connectUrl, 'DELETE', `/connectors/${name}`);
  if (del.status >= 300 && del.status !== 404) throw restError(`deleting ${name}`, del);
  return true;
}

/** Drops a replication slot (waiting for its last reader to let go) and the publication of that name. */
export async function dropSlot(url: string, slot: string): Promise<void> {
  const client = pgClient(url);
  await client.connect();
  try {
    for (let i = 0; ; i++) {
      const r = await client.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      if (!r.rowCount) break;
      if (!r.rows[0].active) {
        await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
        break;
      }
      if (i > 300) throw new Error(`replication slot ${slot} is still in use after 60 s`);
      await sleep(200);
    }
    await client.query(`DROP PUBLICATION IF EXISTS ${slot}`);
  } finally {
    await client.end();
  }
}

export async function deleteTopics(bootstrapServers: string, topics: string[]): Promise<string[]> {
  const admin = createKafka('spark-ts-cdc-source', bootstrapServers).admin();
  await admin.connect();
  try {
    const existing = (await admin.listTopics()).filter((t) => topics.includes(t));
    if (!existing.length) return [];
    await admin.deleteTopics({ topics: existing, timeout: 30_000 });
    const deadline = Date.now() + 30_000;
    while ((await admin.listTopics()).some((t) => existing.includes(t))) {
      if (Date.now() > deadline) throw new Error(`Kafka did not delete ${existing.join(', ')} within 30 s`);
      await sleep(300);
    }
    // Deletion is asynchronous on the broker: give it a moment before the topic is created again.
    await sleep(1000);
    return existing;
  } finally {
    await admin.disconnect();
  }
}

export interface PostgresEndpoint {
  url: string;
  port: number;
  user: string;
  database: string;
}

/**
 * The Debezium connector's configuration for one table: pgoutput, snapshot first, its own slot and
 * publication (filtered to the table), truncates emitted (skipped.operations=none), one partition (a
 * table's changes in one total order). `overrides` changes any setting (converters, decimal mode, SMTs).
 */
export function connectorConfig(pg: PostgresEndpoint, table: string, overrides: Record<string, string> = {}): Record<string, string> {
  const password = decodeURIComponent(new URL(pg.url).password);
  return {
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'tasks.max': '1',
    'database.hostname': '127.0.0.1',
    'database.port': String(pg.port),
    'database.user': pg.user,
    'database.password': password,
    'database.dbname': pg.database,
    'topic.prefix': TOPIC_PREFIX,
    'table.include.list': `public.${table}`,
    'plugin.name': 'pgoutput',
    'slot.name': slotName(table),
    'publication.name': slotName(table),
    'publication.autocreate.mode': 'filtered',
    'snapshot.mode': 'initial',
    'skipped.operations': 'none',
    'topic.creation.default.partitions': '1',
    'topic.creation.default.replication.factor': '1',
    // Debezium names its JMX metrics by topic.prefix: without a tag of its own, a second connector with the
    // same prefix (another table) waits a minute per metrics set for a name that never frees up.
    'custom.metric.tags': `table=${table}`,
    ...overrides,
  };
}

/** Creates a connector and waits until it and its task run (a failed task's trace is the error). */
export async function createConnector(
  connectUrl: string,
  name: string,
  config: Record<string, string>,
  timeoutMs = 120_000,
): Promise<void> {
  const r = await rest(connectUrl, 'POST', '/connectors', { name, config });
  if (r.status >= 300) throw restError(`creating ${name}`, r);
  await waitForConnectorRunning(connectUrl, name, timeoutMs);
}

export async function waitForConnectorRunning(connectUrl: string, name: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await connectorStatus(connectUrl, name).catch(() => undefined);
    const failed = s?.tasks.find((t) => t.state === 'FAILED') ?? (s?.connector.state === 'FAILED' ? s.connector : undefined);
    if (failed) throw new Error(`Kafka Connect: connector ${name} failed: ${(failed.trace ?? '').split('\n').slice(0, 3).join(' ')}`);
    if (s?.connector.state === 'RUNNING' && s.tasks.length && s.tasks.every((t) => t.state === 'RUNNING')) return;
    if (Date.now() > deadline)
      throw new Error(`Kafka Connect: connector ${name} was not running after ${timeoutMs / 1000} s (${JSON.stringify(s ?? 'absent')})`);
    await sleep(300);
  }
}

/**
 * Waits until Kafka Connect has committed an offset that marks the snapshot complete. Until then a Connect
 * crash makes the connector snapshot again on restart (snapshot.mode=initial with no stored offset), and a
 * second snapshot cannot carry the deletes made in between: the consumer would keep rows the table lost.
 */
export async function waitForSnapshotOffset(connectUrl: string, name: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await rest(connectUrl, 'GET', `/connectors/${name}/offsets`);
    if (r.status !== 200) throw restError(`offsets of ${name}`, r);
    const offsets = (r.json as { offsets?: Array<{ offset?: Record<string, unknown> }> }).offsets ?? [];
    if (offsets.some((o) => o.offset && (o.offset['last_snapshot_record'] === true || !('snapshot' in o.offset)))) return;
    if (signal?.aborted) throw new Error('interrupted');
    if (Date.now() > deadline)
      throw new Error(
        `Kafka Connect: no committed offset of ${name} marks its snapshot complete after ${timeoutMs / 1000} s (${JSON.stringify(offsets)})`,
      );
    await sleep(300);
  }
}

/** Messages in a topic (sum of high watermarks minus low ones); 0 when it does not exist yet. */
export async function topicSize(bootstrapServers: string, topic: string): Promise<number> {
  const admin = createKafka('spark-ts-cdc-source', bootstrapServers).admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return 0;
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((s, o) => s + Number(o.high) - Number(o.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Waits until the topic holds at least `count` messages (the snapshot's one `r` per row). */
export async function waitForTopicSize(
  bootstrapServers: string,
  topic: string,
  count: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await topicSize(bootstrapServers, topic);
    if (n >= count) return n;
    if (signal?.aborted) throw new Error('interrupted');
    if (Date.now() > deadline) throw new Error(`${topic} holds ${n} of ${count} messages after ${timeoutMs / 1000} s`);
    await sleep(300);
  }
}

export interface CaptureResult {
  topic: string;
  rows: number;
  columns: number;
  connector: string;
  /** Load start to the snapshot being in Kafka (ms). */
  elapsed_ms: number;
}

/**
 * cdc-source: replace the table's capture and the table, load the rows, register the connector and wait
 * until the snapshot (one `r` per row) is in the topic and Connect has committed the offset that marks it complete.
 */
export async function captureTable(opts: {
  pg: PostgresEndpoint;
  connectUrl: string;
  bootstrapServers: string;
  table: string;
  rows: CustomerRow[];
  overrides?: Record<string, string>;
  /** Default connectorName(table). */
  connector?: string;
  /** Default topicFor(table) (set it when overrides change topic.prefix). */
  topic?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
}): Promise<CaptureResult> {
  const t0 = Date.now();
  const name = opts.connector ?? connectorName(opts.table);
  const topic = opts.topic ?? topicFor(opts.table);
  const log = opts.log ?? (() => undefined);
  const problem = checkTableName(opts.table);
  if (problem) throw new Error(problem);
  if (await removeConnector(opts.connectUrl, name)) log(`cdc-source: removed connector ${name} and its offsets`);
  await dropSlot(opts.pg.url, opts.overrides?.['slot.name'] ?? slotName(opts.table));
  const deleted = await deleteTopics(opts.bootstrapServers, [topic]);
  if (deleted.length) log(`cdc-source: deleted topic ${topic}`);
  const loaded = await loadTable(opts.pg.url, opts.table, opts.rows);
  log(`cdc-source: loaded ${loaded.rows} rows (${loaded.columns} columns) into public.${opts.table}`);
  await createConnector(opts.connectUrl, name, connectorConfig(opts.pg, opts.table, opts.overrides));
  log(`cdc-source: connector ${name} running; waiting for the snapshot in ${topic}`);
  await waitForTopicSize(opts.bootstrapServers, topic, loaded.rows, opts.timeoutMs ?? 300_000, opts.signal);
  await waitForSnapshotOffset(opts.connectUrl, name, opts.timeoutMs ?? 300_000, opts.signal);
  return { topic, rows: loaded.rows, columns: loaded.columns, connector: name, elapsed_ms: Date.now() - t0 };
}
