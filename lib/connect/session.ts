import {
  SparkConnectClient,
  type ClientRetryOptions,
  type ExecutionClient,
  type ExecuteOptions,
  type SparkConnectClientEvents,
} from './client';
import { parseConnectUrl, connectionIdentity, DEFAULT_USER_AGENT, type ConnectionOptions } from './url';
import type { RetryPolicy } from './retry';
import type { Relation } from './gen/spark/connect/Relation';
import type { Command } from './gen/spark/connect/Command';
import type { Plan } from './gen/spark/connect/Plan';
import type { Expression } from './gen/spark/connect/Expression';
import type { ExecutePlanResponse__Output } from './gen/spark/connect/ExecutePlanResponse';
import { PlanIdGenerator, commandPlan, int64String, literalExpr, withPlanId, type LiteralValue } from './plan';
import { Column } from './column';
import { DataFrame, type ActionOptions } from './dataframe';
import { DataFrameReader, DataStreamReader } from './reader';
import { StreamingQueryManager } from './streaming';
import { type StructType, dataTypeFromProto, dataTypeToProto, parseDDLSchema } from './types';
import type { StorageLevel } from './storage-level';
import { inferSchema, localRelation } from './arrow';
import { isStaticSetting } from './static-settings';
import { encodeMessage } from './proto';
import type { Observation } from './observation';

/** Where a session connects when `remote()` is not given: SPARK_REMOTE, as every Spark Connect client. */
export function defaultRemote(): string {
  if (process.env.SPARK_REMOTE) return process.env.SPARK_REMOTE;
  throw new Error(
    'no Spark Connect server: pass remote("sc://host:port"), or set SPARK_REMOTE (the embedded server\'s URL is `sparkRemote()` of lib/runtime/spark-server, or `spark-ts up spark` prints it)',
  );
}

const creating = new Map<string, Promise<SparkSession>>();

/** `SparkSession.builder()`: where to connect and the session settings to apply. */
export class SparkSessionBuilder {
  private url?: string;
  private name?: string;
  private readonly settings: Record<string, string> = {};
  private client?: ExecutionClient;
  private retry: ClientRetryOptions = {};

  /** An `sc://` URL; default: SPARK_REMOTE. */
  remote(url: string): this {
    this.url = url;
    return this;
  }

  /** Over Connect the application belongs to the server; the name goes into the user agent. */
  appName(name: string): this {
    this.name = name;
    return this;
  }

  config(key: string, value: string | number | boolean): this;
  config(settings: Record<string, string | number | boolean>): this;
  config(keyOrSettings: string | Record<string, string | number | boolean>, value?: string | number | boolean): this {
    if (typeof keyOrSettings === 'string') this.settings[keyOrSettings] = String(value);
    else for (const [k, v] of Object.entries(keyOrSettings)) this.settings[k] = String(v);
    return this;
  }

  /**
   * How calls are retried once the server has answered (default: DEFAULT_RETRY_POLICY, ~10 minutes as
   * PySpark); `firstConnect` bounds the wait for a server never reached (default: fails within 5 s).
   */
  retryPolicy(policy: RetryPolicy, firstConnect?: RetryPolicy): this {
    this.retry = { retryPolicy: policy, ...(firstConnect ? { firstConnectRetryPolicy: firstConnect } : {}) };
    return this;
  }

  /** Uses a ready client (the recording client of unit tests, or a client with its own retry policy). */
  withClient(client: ExecutionClient): this {
    this.client = client;
    return this;
  }

  /** The connection options this builder resolves to (the token included: do not print). */
  connectionOptions(): ConnectionOptions {
    const opts = parseConnectUrl(this.url ?? defaultRemote());
    if (this.name && opts.userAgent === DEFAULT_USER_AGENT) opts.userAgent = `${DEFAULT_USER_AGENT} app/${this.name.replace(/\s+/g, '_')}`;
    return opts;
  }

  /**
   * A new session with this builder's settings applied. Static settings (master, memory, ...) cannot
   * change on a running server: they are refused with an error that names them.
   */
  async create(): Promise<SparkSession> {
    const statics = Object.keys(this.settings).filter(isStaticSetting);
    if (statics.length) {
      throw new Error(`static Spark settings cannot be set on a session (they apply when the server starts): ${statics.join(', ')}`);
    }
    const ownClient = this.client === undefined;
    const client = this.client ?? new SparkConnectClient(this.connectionOptions(), this.retry);
    const session = new SparkSession(client);
    try {
      if (Object.keys(this.settings).length) await session.conf.setAll(this.settings);
    } catch (err) {
      // A setting the server refuses (or an unreachable server) fails the creation: release what it opened.
      if (ownClient) await client.releaseSession().catch(() => undefined);
      throw err;
    }
    return session;
  }

  /**
   * The active session for the same connection identity (endpoint, user, token, TLS, session id,
   * metadata) if there is one (settings are applied to it), else a new one.
   */
  async getOrCreate(): Promise<SparkSession> {
    if (this.client) return this.create();
    const url = this.url ?? defaultRemote();
    const key = connectionIdentity(this.connectionOptions(), /;session_id=/.test(url));
    // Concurrent callers share one creation.
    const pending = creating.get(key);
    if (pending) await pending.catch(() => undefined);
    const active = SparkSession.active.get(key);
    if (active && !active.stopped && !(active.client as { closed?: boolean }).closed) {
      if (Object.keys(this.settings).length) await active.conf.setAll(this.settings);
      return active;
    }
    const created = this.create();
    creating.set(key, created);
    try {
      const session = await created;
      SparkSession.active.set(key, session);
      return session;
    } finally {
      creating.delete(key);
    }
  }
}

/** The entry point, shaped like PySpark's SparkSession: `await SparkSession.builder().getOrCreate()`. */
export class SparkSession {
  /** Sessions returned by getOrCreate, by endpoint. */
  static readonly active = new Map<string, SparkSession>();

  static builder(): SparkSessionBuilder {
    return new SparkSessionBuilder();
  }

  readonly conf: RuntimeConfig;
  readonly catalog: Catalog;
  readonly streams: StreamingQueryManager;
  /** createDataFrame data larger than this (bytes of Arrow) is uploaded once as an artifact; PySpark's default. */
  localRelationCacheThreshold = 64 * 1024 * 1024;
  private readonly planIds = new PlanIdGenerator();
  private readonly tags = new Set<string>();
  private closed = false;

  constructor(readonly client: ExecutionClient) {
    this.conf = new RuntimeConfig(client);
    this.catalog = new Catalog(this);
    this.streams = new StreamingQueryManager(this);
  }

  get sessionId(): string {
    return this.client.sessionId;
  }

  get stopped(): boolean {
    return this.closed;
  }

  /** Execution events: `progress` (for progress bars) and `reattach` (a broken result stream was resumed). */
  on<K extends keyof SparkConnectClientEvents>(event: K, listener: (...args: SparkConnectClientEvents[K]) => void): this {
    this.client.on(event, listener);
    return this;
  }

  off<K extends keyof SparkConnectClientEvents>(event: K, listener: (...args: SparkConnectClientEvents[K]) => void): this {
    this.client.off(event, listener);
    return this;
  }

  // ------------------------------------------------------------------ plan building

  /** A relation with a fresh plan id (used by DataFrame; plan ids make columns unambiguous in joins). */
  newRelation(body: Relation): Relation {
    return withPlanId(body, this.planIds.next());
  }

  private dataFrame(body: Relation): DataFrame {
    return new DataFrame(this, this.newRelation(body));
  }

  // ------------------------------------------------------------------ execution layer

  private checkOpen(): void {
    if (this.closed) throw new Error('this SparkSession was stopped');
  }

  private executeOptions(opts: ActionOptions): ExecuteOptions {
    const tags = [...this.tags, ...(opts.tags ?? [])];
    return { ...(opts.signal ? { signal: opts.signal } : {}), ...(tags.length ? { tags } : {}) };
  }

  /** Observations by name, registered by `DataFrame.observe`, filled from responses' observed metrics. */
  readonly observations = new Map<string, Observation>();

  private deliverObservations(response: ExecutePlanResponse__Output): void {
    for (const m of response.observed_metrics ?? []) this.observations.get(m.name)?.deliver(m.keys, m.values);
  }

  /** Tags every later operation of this session (for `interruptTag`), as PySpark's `addTag`. */
  addTag(tag: string): void {
    if (!/^[^,]+$/.test(tag)) throw new TypeError(`a tag must be non-empty and contain no comma: "${tag}"`);
    this.tags.add(tag);
  }

  removeTag(tag: string): void {
    this.tags.delete(tag);
  }

  getTags(): string[] {
    return [...this.tags];
  }

  clearTags(): void {
    this.tags.clear();
  }

  /**
   * Runs a query plan and yields its Arrow IPC batches as they arrive. `onSchema` receives the result
   * schema the server sends first.
   */
  async *executeArrow(plan: Plan, opts: ActionOptions = {}, onSchema?: (schema: StructType) => void): AsyncGenerator<Uint8Array> {
    this.checkOpen();
    for await (const response of this.client.execute(plan, this.executeOptions(opts))) {
      this.deliverObservations(response);
      if (response.schema && onSchema) {
        const dt = dataTypeFromProto(response.schema);
        if (dt.type === 'struct') onSchema(dt);
      }
      if (response.arrow_batch?.data?.length) yield response.arrow_batch.data;
    }
  }

  /** Runs a command and returns the server's non-Arrow responses (command results). */
  async executeCommand(command: Command, opts: ActionOptions = {}): Promise<ExecutePlanResponse__Output[]> {
    this.checkOpen();
    const out: ExecutePlanResponse__Output[] = [];
    for await (const response of this.client.execute(commandPlan(command), this.executeOptions(opts))) {
      this.deliverObservations(response);
      if (!response.arrow_batch && !response.execution_progress && !response.result_complete) out.push(response);
    }
    return out;
  }

  // ------------------------------------------------------------------ DataFrames

  /**
   * Runs SQL. As in PySpark, the statement executes now (so DDL and SET take effect), and a query comes
   * back as a DataFrame. `args` binds `:name` (object) or `?` (array) parameters.
   */
  async sql(
    query: string,
    args?: Record<string, LiteralValue | Column> | Array<LiteralValue | Column>,
    opts: ActionOptions = {},
  ): Promise<DataFrame> {
    const relation = this.newRelation({ sql: sqlRelationBody(query, args) });
    const responses = await this.executeCommand({ sql_command: { input: relation } }, opts);
    const result = responses.find((r) => r.sql_command_result)?.sql_command_result?.relation;
    // The server's relation has no plan id; one of our own lets its columns be told apart in a self-join (as
    // PySpark's CachedRelation does). Set after the spread: the decoded relation carries `common: null`.
    return new DataFrame(this, result ? ({ ...result, common: { plan_id: this.planIds.next() } } as Relation) : relation);
  }

  /** `range(end)` or `range(start, end, step, numPartitions)`; the column is `id` (bigint). */
  range(startOrEnd: number | bigint, end?: number | bigint, step: number | bigint = 1, numPartitions?: number): DataFrame {
    const [start, stop] = end === undefined ? [0, startOrEnd] : [startOrEnd, end];
    const stepText = int64String(step, 'range(): step');
    if (stepText === '0') throw new RangeError('range: step must not be 0');
    return this.dataFrame({
      range: {
        start: int64String(start, 'range(): start'),
        end: int64String(stop, 'range(): end'),
        step: stepText,
        ...(numPartitions !== undefined ? { num_partitions: numPartitions } : {}),
      },
    });
  }

  table(name: string): DataFrame {
    return this.read.table(name);
  }

  get read(): DataFrameReader {
    return new DataFrameReader(this);
  }

  get readStream(): DataStreamReader {
    return new DataStreamReader(this);
  }

  /**
   * A DataFrame from local rows, sent as an Arrow IPC LocalRelation. `schema` is a StructType, a DDL
   * string (`'id BIGINT, name STRING'`), or omitted to infer it from row objects as PySpark does.
   * Rows are objects keyed by column name, or arrays in schema order.
   */
  createDataFrame(rows: Array<Record<string, unknown>> | unknown[][], schema?: StructType | string): DataFrame {
    let struct: StructType;
    if (schema === undefined) {
      if (rows.length === 0) throw new TypeError('createDataFrame: cannot infer a schema from no rows; pass a schema');
      struct = inferSchema(rows as Array<Record<string, unknown>>);
    } else {
      struct = typeof schema === 'string' ? parseDDLSchema(schema) : schema;
    }
    // char(n)/varchar(n) go as string (what Spark accepts in a LocalRelation), checked for length here.
    const relation = localRelation(rows, struct);
    const body = { data: Buffer.from(relation.data), schema: relation.schema };
    // Large data goes to the server once, as a cached artifact the plan names by hash (as PySpark does):
    // not inlined in every plan, and not bound by the gRPC message limit.
    if (relation.data.byteLength > this.localRelationCacheThreshold && this.client.cacheArtifact) {
      const hash = this.client.cacheArtifact(encodeMessage('spark.connect.LocalRelation', body));
      return this.dataFrame({ cached_local_relation: { hash } });
    }
    return this.dataFrame({ local_relation: body });
  }

  // ------------------------------------------------------------------ session

  async version(): Promise<string> {
    const res = await this.client.analyze({ spark_version: {} });
    return res.spark_version?.version ?? '';
  }

  /** Interrupts every running operation of this session; returns the interrupted operation ids. */
  async interruptAll(): Promise<string[]> {
    return this.client.interruptAll();
  }

  async interruptTag(tag: string): Promise<string[]> {
    return this.client.interruptTag(tag);
  }

  /** Releases the server-side session (ReleaseSession). The session is unusable afterwards. */
  /**
   * Ends the session: detaches the streaming listener bus (if listeners were added), then releases the
   * session on the server and closes the connection. Calling it again waits for the same stop.
   */
  async stop(): Promise<void> {
    return (this.stopping ??= (async () => {
      for (const [k, s] of SparkSession.active) if (s === this) SparkSession.active.delete(k);
      await this.streams.detachAll();
      this.closed = true;
      await this.client.releaseSession();
    })());
  }
  private stopping?: Promise<void>;
}

function sqlRelationBody(
  query: string,
  args?: Record<string, LiteralValue | Column> | Array<LiteralValue | Column>,
): NonNullable<Relation['sql']> {
  const toArg = (v: LiteralValue | Column): Expression => (v instanceof Column ? v.expr : literalExpr(v));
  if (args === undefined) return { query };
  if (Array.isArray(args)) return { query, pos_arguments: args.map(toArg) };
  return { query, named_arguments: Object.fromEntries(Object.entries(args).map(([k, v]) => [k, toArg(v)])) };
}

/** `spark.conf`: the session's SQL settings. */
export class RuntimeConfig {
  constructor(private readonly client: ExecutionClient) {}

  /** The value; with no default, an unset key without a default in Spark is an error (as in PySpark). */
  async get(key: string, defaultValue?: string): Promise<string | null> {
    const res =
      defaultValue === undefined
        ? await this.client.config({ get: { keys: [key] } })
        : await this.client.config({ get_with_default: { pairs: [{ key, value: defaultValue }] } });
    return res.pairs[0]?.value ?? null;
  }

  /** The value or null when unset (no error). */
  async getOption(key: string): Promise<string | null> {
    const res = await this.client.config({ get_option: { keys: [key] } });
    return res.pairs[0]?.value ?? null;
  }

  async set(key: string, value: string | number | boolean): Promise<void> {
    await this.client.config({ set: { pairs: [{ key, value: String(value) }] } });
  }

  async setAll(settings: Record<string, string>): Promise<void> {
    await this.client.config({ set: { pairs: Object.entries(settings).map(([key, value]) => ({ key, value })) } });
  }

  async unset(key: string): Promise<void> {
    await this.client.config({ unset: { keys: [key] } });
  }

  /** Every setting that is set (optionally only those under a prefix), keyed by full name. */
  async getAll(prefix?: string): Promise<Record<string, string>> {
    const res = await this.client.config({ get_all: prefix === undefined ? {} : { prefix } });
    // The server strips the prefix from the keys it returns; put it back so keys are names one can set.
    return Object.fromEntries(res.pairs.map((p) => [`${prefix ?? ''}${p.key}`, p.value ?? '']));
  }

  async isModifiable(key: string): Promise<boolean> {
    const res = await this.client.config({ is_modifiable: { keys: [key] } });
    return res.pairs[0]?.value === 'true';
  }
}

export interface CatalogTable {
  name: string;
  catalog: string | null;
  namespace: string[] | null;
  description: string | null;
  tableType: string;
  isTemporary: boolean;
}

/** `spark.catalog`: tables and views. */
export class Catalog {
  constructor(private readonly session: SparkSession) {}

  private run(body: NonNullable<Relation['catalog']>, opts: ActionOptions = {}) {
    return new DataFrame(this.session, this.session.newRelation({ catalog: body })).collect(opts);
  }

  async listTables(dbName?: string, pattern?: string): Promise<CatalogTable[]> {
    const rows = await this.run({ list_tables: { ...(dbName ? { db_name: dbName } : {}), ...(pattern ? { pattern } : {}) } });
    return rows.map(catalogTable);
  }

  /** Drops a temporary view; true if it existed. */
  async dropTempView(name: string): Promise<boolean> {
    const rows = await this.run({ drop_temp_view: { view_name: name } });
    return rows[0] ? Object.values(rows[0])[0] === true : false;
  }

  async dropGlobalTempView(name: string): Promise<boolean> {
    const rows = await this.run({ drop_global_temp_view: { view_name: name } });
    return rows[0] ? Object.values(rows[0])[0] === true : false;
  }

  async tableExists(name: string): Promise<boolean> {
    const rows = await this.run({ table_exists: { table_name: name } });
    return rows[0] ? Object.values(rows[0])[0] === true : false;
  }

  async currentDatabase(): Promise<string> {
    const rows = await this.run({ current_database: {} });
    return String(rows[0] ? Object.values(rows[0])[0] : '');
  }

  async isCached(name: string): Promise<boolean> {
    const rows = await this.run({ is_cached: { table_name: name } });
    return rows[0] ? Object.values(rows[0])[0] === true : false;
  }

  async clearCache(): Promise<void> {
    await this.run({ clear_cache: {} });
  }

  async listDatabases(pattern?: string): Promise<CatalogDatabase[]> {
    const rows = await this.run({ list_databases: pattern ? { pattern } : {} });
    return rows.map((r) => ({
      name: String(r.name),
      catalog: str(r.catalog),
      description: str(r.description),
      locationUri: String(r.locationUri ?? ''),
    }));
  }

  async listColumns(tableName: string, dbName?: string): Promise<CatalogColumn[]> {
    const rows = await this.run({ list_columns: { table_name: tableName, ...(dbName ? { db_name: dbName } : {}) } });
    return rows.map((r) => ({
      name: String(r.name),
      description: str(r.description),
      dataType: String(r.dataType),
      nullable: r.nullable === true,
      isPartition: r.isPartition === true,
      isBucket: r.isBucket === true,
      isCluster: r.isCluster === true,
    }));
  }

  async listFunctions(dbName?: string, pattern?: string): Promise<CatalogFunction[]> {
    const rows = await this.run({ list_functions: { ...(dbName ? { db_name: dbName } : {}), ...(pattern ? { pattern } : {}) } });
    return rows.map((r) => ({
      name: String(r.name),
      catalog: str(r.catalog),
      namespace: Array.isArray(r.namespace) ? r.namespace.map(String) : null,
      description: str(r.description),
      className: String(r.className ?? ''),
      isTemporary: r.isTemporary === true,
    }));
  }

  async setCurrentDatabase(dbName: string): Promise<void> {
    await this.run({ set_current_database: { db_name: dbName } });
  }

  async getTable(tableName: string, dbName?: string): Promise<CatalogTable> {
    const rows = await this.run({ get_table: { table_name: tableName, ...(dbName ? { db_name: dbName } : {}) } });
    return catalogTable(rows[0]!);
  }

  /** Creates a table (managed, or external with `path`) and returns it as a DataFrame, as PySpark. */
  async createTable(
    tableName: string,
    opts: { path?: string; source?: string; schema?: StructType | string; description?: string; options?: Record<string, string> } = {},
  ): Promise<DataFrame> {
    const schema = opts.schema === undefined ? undefined : typeof opts.schema === 'string' ? parseDDLSchema(opts.schema) : opts.schema;
    const body: NonNullable<Relation['catalog']> = {
      create_table: {
        table_name: tableName,
        ...(opts.path ? { path: opts.path } : {}),
        ...(opts.source ? { source: opts.source } : {}),
        ...(opts.description ? { description: opts.description } : {}),
        ...(schema ? { schema: dataTypeToProto(schema) } : {}),
        options: opts.options ?? {},
      },
    };
    await this.run(body);
    return this.session.table(tableName);
  }

  async cacheTable(tableName: string, storageLevel?: StorageLevel): Promise<void> {
    await this.run({ cache_table: { table_name: tableName, ...(storageLevel ? { storage_level: storageLevel.toProto() } : {}) } });
  }

  async uncacheTable(tableName: string): Promise<void> {
    await this.run({ uncache_table: { table_name: tableName } });
  }

  async refreshTable(tableName: string): Promise<void> {
    await this.run({ refresh_table: { table_name: tableName } });
  }
}

export interface CatalogDatabase {
  name: string;
  catalog: string | null;
  description: string | null;
  locationUri: string;
}

export interface CatalogColumn {
  name: string;
  description: string | null;
  dataType: string;
  nullable: boolean;
  isPartition: boolean;
  isBucket: boolean;
  isCluster: boolean;
}

export interface CatalogFunction {
  name: string;
  catalog: string | null;
  namespace: string[] | null;
  description: string | null;
  className: string;
  isTemporary: boolean;
}

function str(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

function catalogTable(r: Record<string, unknown>): CatalogTable {
  return {
    name: String(r.name),
    catalog: str(r.catalog),
    namespace: Array.isArray(r.namespace) ? r.namespace.map(String) : null,
    description: str(r.description),
    tableType: String(r.tableType),
    isTemporary: r.isTemporary === true,
  };
}
