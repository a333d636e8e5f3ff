import type { WriteOperation } from './gen/spark/connect/WriteOperation';
import type { WriteStreamOperationStart } from './gen/spark/connect/WriteStreamOperationStart';
import type { WriteOperationV2, _spark_connect_WriteOperationV2_Mode as WriteV2ModeProto } from './gen/spark/connect/WriteOperationV2';
import { toColumnExpr, type ColumnOrName } from './column';
import { stringOptions } from './plan';
import type { ActionOptions, DataFrame } from './dataframe';
import { StreamingQuery } from './streaming';

export type SaveMode = 'append' | 'overwrite' | 'error' | 'errorifexists' | 'ignore';
type OptionValue = string | number | boolean;

const SAVE_MODES: Record<SaveMode, NonNullable<WriteOperation['mode']>> = {
  append: 'SAVE_MODE_APPEND',
  overwrite: 'SAVE_MODE_OVERWRITE',
  error: 'SAVE_MODE_ERROR_IF_EXISTS',
  errorifexists: 'SAVE_MODE_ERROR_IF_EXISTS',
  ignore: 'SAVE_MODE_IGNORE',
};

/** `df.write`: batch output. Settings chain; `save`/`parquet`/`csv`/`json`/`saveAsTable` run the write. */
/** Data source options, as every writer takes them (values stringified as Spark expects). */
abstract class OptionsWriter {
  protected readonly opts: Record<string, string> = {};

  option(key: string, value: OptionValue): this {
    this.opts[key] = String(value);
    return this;
  }

  options(options: Record<string, OptionValue | undefined>): this {
    Object.assign(this.opts, stringOptions(options));
    return this;
  }
}

/** What both writers configure the same way: the data source, its options and the partition columns. */
abstract class BaseWriter extends OptionsWriter {
  protected source?: string;
  protected partitionCols: string[] = [];

  constructor(protected readonly df: DataFrame) {
    super();
  }

  format(source: string): this {
    this.source = source;
    return this;
  }

  partitionBy(...cols: Array<string | string[]>): this {
    this.partitionCols = cols.flat();
    return this;
  }
}

export class DataFrameWriter extends BaseWriter {
  private saveMode: SaveMode = 'error';
  private sortCols: string[] = [];
  private bucket?: { numBuckets: number; cols: string[] };

  mode(mode: SaveMode): this {
    const m = mode.toLowerCase() as SaveMode;
    if (!SAVE_MODES[m]) throw new TypeError(`unknown save mode "${mode}"; expected ${Object.keys(SAVE_MODES).join(', ')}`);
    this.saveMode = m;
    return this;
  }

  sortBy(...cols: Array<string | string[]>): this {
    this.sortCols = cols.flat();
    return this;
  }

  bucketBy(numBuckets: number, ...cols: Array<string | string[]>): this {
    this.bucket = { numBuckets, cols: cols.flat() };
    return this;
  }

  /** The WriteOperation proto this writer would run (pure; for tests and inspection). */
  toProto(target: { path?: string; table?: string; insert?: boolean }): WriteOperation {
    return {
      input: this.df.relation,
      ...(this.source ? { source: this.source } : {}),
      ...(target.path !== undefined ? { path: target.path } : {}),
      ...(target.table !== undefined
        ? {
            table: {
              table_name: target.table,
              save_method: target.insert ? 'TABLE_SAVE_METHOD_INSERT_INTO' : 'TABLE_SAVE_METHOD_SAVE_AS_TABLE',
            },
          }
        : {}),
      mode: SAVE_MODES[this.saveMode],
      options: { ...this.opts },
      partitioning_columns: this.partitionCols,
      sort_column_names: this.sortCols,
      ...(this.bucket ? { bucket_by: { bucket_column_names: this.bucket.cols, num_buckets: this.bucket.numBuckets } } : {}),
    };
  }

  async save(path?: string, opts: ActionOptions = {}): Promise<void> {
    await this.df.session.executeCommand({ write_operation: this.toProto({ path }) }, opts);
  }

  async parquet(path: string, opts: ActionOptions = {}): Promise<void> {
    this.source = 'parquet';
    await this.save(path, opts);
  }

  async csv(path: string, opts: ActionOptions = {}): Promise<void> {
    this.source = 'csv';
    await this.save(path, opts);
  }

  async json(path: string, opts: ActionOptions = {}): Promise<void> {
    this.source = 'json';
    await this.save(path, opts);
  }

  async text(path: string, opts: ActionOptions = {}): Promise<void> {
    this.source = 'text';
    await this.save(path, opts);
  }

  async orc(path: string, opts: ActionOptions = {}): Promise<void> {
    this.source = 'orc';
    await this.save(path, opts);
  }

  async saveAsTable(name: string, opts: ActionOptions = {}): Promise<void> {
    await this.df.session.executeCommand({ write_operation: this.toProto({ table: name }) }, opts);
  }

  /**
   * Writes to a database table over JDBC, like PySpark's `df.write.jdbc(url, table, mode=, properties=)`:
   * `mode` (when given) replaces the writer's save mode; `properties` are the connection's (`user`,
   * `password`, `driver`, `batchsize`, `truncate`, ...). The default mode, `error`, fails if the table exists.
   */
  async jdbc(
    url: string,
    table: string,
    mode?: SaveMode,
    properties: Record<string, OptionValue | undefined> = {},
    opts: ActionOptions = {},
  ): Promise<void> {
    this.format('jdbc');
    if (mode !== undefined) this.mode(mode);
    this.options(properties).options({ url, dbtable: table });
    await this.save(undefined, opts);
  }

  /** As PySpark: `overwrite` given sets the mode (true overwrite, false append); omitted keeps `mode()`'s. */
  async insertInto(name: string, overwrite?: boolean, opts: ActionOptions = {}): Promise<void> {
    if (overwrite !== undefined) this.saveMode = overwrite ? 'overwrite' : 'append';
    await this.df.session.executeCommand({ write_operation: this.toProto({ table: name, insert: true }) }, opts);
  }
}

export type OutputMode = 'append' | 'complete' | 'update';

/** A trigger: `{ processingTime: '1 second' }`, `{ availableNow: true }`, `{ once: true }` or `{ continuous: '1 second' }`. */
export type Trigger = { processingTime: string } | { availableNow: true } | { once: true } | { continuous: string };

/** `df.writeStream`: starts a streaming query. */
export class DataStreamWriter extends BaseWriter {
  private outMode?: OutputMode;
  private trig?: Trigger;
  private name?: string;

  outputMode(mode: OutputMode): this {
    if (!['append', 'complete', 'update'].includes(mode))
      throw new TypeError(`unknown output mode "${mode}"; expected append, complete or update`);
    this.outMode = mode;
    return this;
  }

  trigger(trigger: Trigger): this {
    const keys = Object.keys(trigger);
    if (keys.length !== 1) throw new TypeError('trigger: give exactly one of processingTime, availableNow, once, continuous');
    this.trig = trigger;
    return this;
  }

  queryName(name: string): this {
    this.name = name;
    return this;
  }

  /** The WriteStreamOperationStart proto this writer would run (pure). */
  toProto(target: { path?: string; table?: string } = {}): WriteStreamOperationStart {
    const t = this.trig;
    const trigger =
      t === undefined
        ? {}
        : 'processingTime' in t
          ? { processing_time_interval: t.processingTime }
          : 'availableNow' in t
            ? { available_now: true }
            : 'once' in t
              ? { once: true }
              : { continuous_checkpoint_interval: t.continuous };
    return {
      input: this.df.relation,
      format: this.source ?? '',
      options: { ...this.opts },
      partitioning_column_names: this.partitionCols,
      ...trigger,
      output_mode: this.outMode ?? '',
      query_name: this.name ?? '',
      ...(target.path !== undefined ? { path: target.path } : {}),
      ...(target.table !== undefined ? { table_name: target.table } : {}),
    };
  }

  async start(path?: string, opts: ActionOptions = {}): Promise<StreamingQuery> {
    return this.run(this.toProto({ path }), opts);
  }

  async toTable(tableName: string, opts: ActionOptions = {}): Promise<StreamingQuery> {
    return this.run(this.toProto({ table: tableName }), opts);
  }

  private async run(op: WriteStreamOperationStart, opts: ActionOptions): Promise<StreamingQuery> {
    const responses = await this.df.session.executeCommand({ write_stream_operation_start: op }, opts);
    const result = responses.find((r) => r.write_stream_operation_start_result)?.write_stream_operation_start_result;
    if (!result?.query_id) throw new Error('the server did not return a streaming query id');
    if (result.query_started_event_json) this.df.session.streams.postQueryStarted(result.query_started_event_json);
    return new StreamingQuery(this.df.session, result.query_id.id, result.query_id.run_id, result.name || null);
  }
}

/**
 * `df.writeTo(table)`: DataFrameWriterV2, for catalog tables (v2 sources). Settings chain; `create`,
 * `replace`, `createOrReplace`, `append`, `overwrite(condition)` and `overwritePartitions` run the write.
 */
export class DataFrameWriterV2 extends OptionsWriter {
  private provider?: string;
  private readonly props: Record<string, string> = {};
  private partitioning: ColumnOrName[] = [];
  private clustering: string[] = [];

  constructor(
    private readonly df: DataFrame,
    private readonly table: string,
  ) {
    super();
  }

  /** The table's data source (provider), e.g. `parquet`; for create / replace. */
  using(provider: string): this {
    this.provider = provider;
    return this;
  }

  tableProperty(key: string, value: string): this {
    this.props[key] = value;
    return this;
  }

  /** Partition columns or transforms (`F.years('ts')`, `F.bucket(4, 'id')`, ...); for create / replace. */
  partitionedBy(...cols: Array<ColumnOrName | ColumnOrName[]>): this {
    this.partitioning = cols.flat();
    return this;
  }

  clusterBy(...cols: Array<string | string[]>): this {
    this.clustering = cols.flat();
    return this;
  }

  /** The WriteOperationV2 proto of a write in `mode` (pure; for tests and inspection). */
  toProto(mode: WriteV2ModeProto, overwriteCondition?: ColumnOrName): WriteOperationV2 {
    return {
      input: this.df.relation,
      table_name: this.table,
      ...(this.provider !== undefined ? { provider: this.provider } : {}),
      partitioning_columns: this.partitioning.map(toColumnExpr),
      options: { ...this.opts },
      table_properties: { ...this.props },
      mode,
      ...(overwriteCondition !== undefined ? { overwrite_condition: toColumnExpr(overwriteCondition) } : {}),
      clustering_columns: this.clustering,
    };
  }

  private async run(mode: WriteV2ModeProto, opts: ActionOptions, condition?: ColumnOrName): Promise<void> {
    await this.df.session.executeCommand({ write_operation_v2: this.toProto(mode, condition) }, opts);
  }

  /** Creates the table from the data; fails if it exists. */
  async create(opts: ActionOptions = {}): Promise<void> {
    await this.run('MODE_CREATE', opts);
  }

  /** Replaces the table's definition and data; fails if it does not exist. */
  async replace(opts: ActionOptions = {}): Promise<void> {
    await this.run('MODE_REPLACE', opts);
  }

  async createOrReplace(opts: ActionOptions = {}): Promise<void> {
    await this.run('MODE_CREATE_OR_REPLACE', opts);
  }

  /** Appends the rows to the existing table. */
  async append(opts: ActionOptions = {}): Promise<void> {
    await this.run('MODE_APPEND', opts);
  }

  /** Deletes the rows matching `condition`, then appends the data. */
  async overwrite(condition: ColumnOrName, opts: ActionOptions = {}): Promise<void> {
    await this.run('MODE_OVERWRITE', opts, condition);
  }

  /** Replaces every partition that the data has rows for (dynamic partition overwrite). */
  async overwritePartitions(opts: ActionOptions = {}): Promise<void> {
    await this.run('MODE_OVERWRITE_PARTITIONS', opts);
  }
}
