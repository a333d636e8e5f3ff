import type * as arrow from 'apache-arrow';
import type { Relation } from './gen/spark/connect/Relation';
import type { _spark_connect_Join_JoinType as JoinTypeProto } from './gen/spark/connect/Join';
import { Column, type ColumnOrName, colExpr, toColumnExpr, toSortOrder } from './column';
import { fn, literalExpr, planIdOf, randomSeed, rootPlan, sqlExpression, type LiteralValue, type PlanProto } from './plan';
import { type StructType, dataTypeFromProto, simpleString, treeString } from './types';
import { appendRows, recordBatchesFromIPC, rowsFromBatch, tableFromBatches, type Row } from './arrow';
import { columnsFromTable, lazyRowsFromBatch, type LazyRow, type ResultColumns } from './results';
import { StorageLevel } from './storage-level';
import type { Observation } from './observation';
import { DataFrameWriter, DataFrameWriterV2, DataStreamWriter } from './writer';
import type { SparkSession } from './session';
import { GroupedData } from './grouped-data';
import { DataFrameNaFunctions, type FillValue } from './na-functions';
import { DataFrameStatFunctions } from './stat-functions';
import { flat } from './args';

// GroupedData, df.na and df.stat live in their own modules; they are part of this one's API.
export { GroupedData } from './grouped-data';
export { DataFrameNaFunctions, type FillValue } from './na-functions';
export { DataFrameStatFunctions } from './stat-functions';

/** Options every action takes: an AbortSignal interrupts the running operation on the server. */
export interface ActionOptions {
  signal?: AbortSignal;
  /** Operation tags, for `spark.interruptTag(tag)`. */
  tags?: string[];
}

export type ExplainMode = 'simple' | 'extended' | 'codegen' | 'cost' | 'formatted';

/** Join types as PySpark spells them. */
export type JoinType =
  | 'inner'
  | 'cross'
  | 'outer'
  | 'full'
  | 'fullouter'
  | 'full_outer'
  | 'left'
  | 'leftouter'
  | 'left_outer'
  | 'right'
  | 'rightouter'
  | 'right_outer'
  | 'semi'
  | 'leftsemi'
  | 'left_semi'
  | 'anti'
  | 'leftanti'
  | 'left_anti';

const JOIN_TYPES: Record<JoinType, JoinTypeProto> = {
  inner: 'JOIN_TYPE_INNER',
  cross: 'JOIN_TYPE_CROSS',
  outer: 'JOIN_TYPE_FULL_OUTER',
  full: 'JOIN_TYPE_FULL_OUTER',
  fullouter: 'JOIN_TYPE_FULL_OUTER',
  full_outer: 'JOIN_TYPE_FULL_OUTER',
  left: 'JOIN_TYPE_LEFT_OUTER',
  leftouter: 'JOIN_TYPE_LEFT_OUTER',
  left_outer: 'JOIN_TYPE_LEFT_OUTER',
  right: 'JOIN_TYPE_RIGHT_OUTER',
  rightouter: 'JOIN_TYPE_RIGHT_OUTER',
  right_outer: 'JOIN_TYPE_RIGHT_OUTER',
  semi: 'JOIN_TYPE_LEFT_SEMI',
  leftsemi: 'JOIN_TYPE_LEFT_SEMI',
  left_semi: 'JOIN_TYPE_LEFT_SEMI',
  anti: 'JOIN_TYPE_LEFT_ANTI',
  leftanti: 'JOIN_TYPE_LEFT_ANTI',
  left_anti: 'JOIN_TYPE_LEFT_ANTI',
};

const EXPLAIN_MODES = {
  simple: 'EXPLAIN_MODE_SIMPLE',
  extended: 'EXPLAIN_MODE_EXTENDED',
  codegen: 'EXPLAIN_MODE_CODEGEN',
  cost: 'EXPLAIN_MODE_COST',
  formatted: 'EXPLAIN_MODE_FORMATTED',
} as const;

type Cols = Array<ColumnOrName | ColumnOrName[]>;
/**
 * A lazily evaluated relation, as in PySpark. Transformations return new DataFrames and never touch the
 * server; actions (collect, count, show, write...) execute the plan. `relation` is the plan proto.
 */
export class DataFrame {
  private cachedSchema?: Promise<StructType>;

  constructor(
    readonly session: SparkSession,
    readonly relation: Relation,
  ) {}

  /** The plan that executes this DataFrame. */
  get plan(): PlanProto {
    return rootPlan(this.relation);
  }

  /** A new DataFrame over a relation body; the session gives it a fresh plan id. */
  private derive(body: Relation): DataFrame {
    return new DataFrame(this.session, this.session.newRelation(body));
  }

  // ------------------------------------------------------------------ columns

  /** A column bound to this DataFrame (unambiguous in joins), PySpark's `df['x']` / `df.x`. */
  col(name: string): Column {
    return new Column(colExpr(name, planIdOf(this.relation)));
  }

  // ------------------------------------------------------------------ projection and filtering

  select(...cols: Cols): DataFrame {
    return this.derive({ project: { input: this.relation, expressions: flat(cols).map(toColumnExpr) } });
  }

  selectExpr(...exprs: Array<string | string[]>): DataFrame {
    return this.derive({ project: { input: this.relation, expressions: flat(exprs).map(sqlExpression) } });
  }

  /** A Column condition, or a SQL condition string. */
  filter(condition: Column | string): DataFrame {
    const e = typeof condition === 'string' ? sqlExpression(condition) : condition.expr;
    return this.derive({ filter: { input: this.relation, condition: e } });
  }

  where(condition: Column | string): DataFrame {
    return this.filter(condition);
  }

  withColumn(name: string, col: Column): DataFrame {
    return this.withColumns({ [name]: col });
  }

  withColumns(columns: Record<string, Column>): DataFrame {
    const aliases = Object.entries(columns).map(([name, c]) => ({ expr: c.expr, name: [name] }));
    return this.derive({ with_columns: { input: this.relation, aliases } });
  }

  withColumnRenamed(existing: string, renamed: string): DataFrame {
    return this.withColumnsRenamed({ [existing]: renamed });
  }

  withColumnsRenamed(renames: Record<string, string>): DataFrame {
    return this.derive({
      with_columns_renamed: {
        input: this.relation,
        renames: Object.entries(renames).map(([col_name, new_col_name]) => ({ col_name, new_col_name })),
      },
    });
  }

  drop(...cols: Cols): DataFrame {
    const all = flat(cols);
    const names = all.filter((c): c is string => typeof c === 'string');
    const columns = all.filter((c): c is Column => c instanceof Column).map((c) => c.expr);
    return this.derive({ drop: { input: this.relation, column_names: names, columns } });
  }

  /** Renames all columns, in order. */
  toDF(...names: string[]): DataFrame {
    return this.derive({ to_df: { input: this.relation, column_names: names } });
  }

  alias(name: string): DataFrame {
    return this.derive({ subquery_alias: { input: this.relation, alias: name } });
  }

  hint(name: string, ...parameters: LiteralValue[]): DataFrame {
    return this.derive({ hint: { input: this.relation, name, parameters: parameters.map(literalExpr) } });
  }

  /** Applies `f` to this DataFrame (PySpark's `transform`), for chaining reusable steps. */
  transform<A extends unknown[]>(f: (df: DataFrame, ...args: A) => DataFrame, ...args: A): DataFrame {
    return f(this, ...args);
  }

  distinct(): DataFrame {
    return this.derive({ deduplicate: { input: this.relation, all_columns_as_keys: true } });
  }

  /** Removes duplicate rows, considering only `subset` when given. */
  dropDuplicates(subset?: string[]): DataFrame {
    if (!subset) return this.distinct();
    return this.derive({ deduplicate: { input: this.relation, column_names: subset } });
  }

  drop_duplicates(subset?: string[]): DataFrame {
    return this.dropDuplicates(subset);
  }

  dropDuplicatesWithinWatermark(subset?: string[]): DataFrame {
    return this.derive({
      deduplicate: { input: this.relation, ...(subset ? { column_names: subset } : { all_columns_as_keys: true }), within_watermark: true },
    });
  }

  // ------------------------------------------------------------------ aggregation

  groupBy(...cols: Cols): GroupedData {
    return new GroupedData(this, 'GROUP_TYPE_GROUPBY', flat(cols).map(toColumnExpr));
  }

  groupby(...cols: Cols): GroupedData {
    return this.groupBy(...cols);
  }

  rollup(...cols: Cols): GroupedData {
    return new GroupedData(this, 'GROUP_TYPE_ROLLUP', flat(cols).map(toColumnExpr));
  }

  cube(...cols: Cols): GroupedData {
    return new GroupedData(this, 'GROUP_TYPE_CUBE', flat(cols).map(toColumnExpr));
  }

  /** Aggregates without groups: `df.agg(F.max('x'))` or `df.agg({ x: 'max' })`. */
  agg(...exprs: Array<Column | Record<string, string>>): DataFrame {
    return this.groupBy().agg(...exprs);
  }

  // ------------------------------------------------------------------ ordering and combining

  orderBy(...cols: Cols): DataFrame {
    return this.derive({ sort: { input: this.relation, order: flat(cols).map((c) => toSortOrder(c).sort_order!), is_global: true } });
  }

  sort(...cols: Cols): DataFrame {
    return this.orderBy(...cols);
  }

  sortWithinPartitions(...cols: Cols): DataFrame {
    return this.derive({ sort: { input: this.relation, order: flat(cols).map((c) => toSortOrder(c).sort_order!), is_global: false } });
  }

  limit(n: number): DataFrame {
    return this.derive({ limit: { input: this.relation, limit: checkCount('limit', n) } });
  }

  offset(n: number): DataFrame {
    return this.derive({ offset: { input: this.relation, offset: checkCount('offset', n) } });
  }

  /** UNION ALL by position (PySpark's union keeps duplicates). */
  union(other: DataFrame): DataFrame {
    return this.setOp(other, 'SET_OP_TYPE_UNION', { is_all: true });
  }

  unionAll(other: DataFrame): DataFrame {
    return this.union(other);
  }

  unionByName(other: DataFrame, allowMissingColumns = false): DataFrame {
    return this.setOp(other, 'SET_OP_TYPE_UNION', { is_all: true, by_name: true, allow_missing_columns: allowMissingColumns });
  }

  intersect(other: DataFrame): DataFrame {
    return this.setOp(other, 'SET_OP_TYPE_INTERSECT', { is_all: false });
  }

  intersectAll(other: DataFrame): DataFrame {
    return this.setOp(other, 'SET_OP_TYPE_INTERSECT', { is_all: true });
  }

  subtract(other: DataFrame): DataFrame {
    return this.setOp(other, 'SET_OP_TYPE_EXCEPT', { is_all: false });
  }

  exceptAll(other: DataFrame): DataFrame {
    return this.setOp(other, 'SET_OP_TYPE_EXCEPT', { is_all: true });
  }

  private setOp(
    other: DataFrame,
    type: 'SET_OP_TYPE_UNION' | 'SET_OP_TYPE_INTERSECT' | 'SET_OP_TYPE_EXCEPT',
    flags: { is_all: boolean; by_name?: boolean; allow_missing_columns?: boolean },
  ): DataFrame {
    return this.derive({ set_op: { left_input: this.relation, right_input: other.relation, set_op_type: type, ...flags } });
  }

  /**
   * Joins with `other` on column names (a USING join: the key columns appear once) or on a Column condition.
   * `how` is any of PySpark's join type names; the default is an inner join.
   */
  join(other: DataFrame, on?: string | string[] | Column, how: JoinType = 'inner'): DataFrame {
    const joinType = JOIN_TYPES[how];
    if (!joinType) throw new TypeError(`unknown join type "${how}"; expected one of ${Object.keys(JOIN_TYPES).join(', ')}`);
    const keys =
      on === undefined ? {} : on instanceof Column ? { join_condition: on.expr } : { using_columns: typeof on === 'string' ? [on] : on };
    return this.derive({ join: { left: this.relation, right: other.relation, join_type: joinType, ...keys } });
  }

  crossJoin(other: DataFrame): DataFrame {
    return this.derive({ join: { left: this.relation, right: other.relation, join_type: 'JOIN_TYPE_CROSS' } });
  }

  // ------------------------------------------------------------------ partitioning and sampling

  /** `repartition(8)`, `repartition(8, 'k')` or `repartition('k')` (hash partitioning by expressions). */
  /**
   * Range-partitions by the columns (sorted ascending unless a column is already `asc()`/`desc()`), into
   * `numPartitions` or the session default.
   */
  repartitionByRange(numPartitionsOrCol: number | ColumnOrName, ...cols: ColumnOrName[]): DataFrame {
    const n = typeof numPartitionsOrCol === 'number' ? numPartitionsOrCol : undefined;
    const exprs = [...(typeof numPartitionsOrCol === 'number' ? [] : [numPartitionsOrCol]), ...cols];
    if (n !== undefined && (!Number.isInteger(n) || n < 1))
      throw new RangeError(`repartitionByRange: numPartitions must be a positive integer, got ${n}`);
    if (exprs.length === 0) throw new TypeError('repartitionByRange: give at least one column');
    return this.derive({
      repartition_by_expression: {
        input: this.relation,
        partition_exprs: exprs.map(toSortOrder),
        ...(n !== undefined ? { num_partitions: n } : {}),
      },
    });
  }

  /**
   * Observes metrics (aggregate expressions with aliases) while an action runs over the result:
   * `df.observe(obs, F.count(F.lit(1)).alias('n'))`, then `await obs.get()` after the action. A string
   * names the observation; its values then come only through streaming query progress.
   */
  observe(observation: Observation | string, ...exprs: Column[]): DataFrame {
    if (exprs.length === 0) throw new TypeError('observe: give at least one metric expression');
    const name = typeof observation === 'string' ? observation : observation.name;
    if (typeof observation !== 'string') {
      const known = this.session.observations.get(name);
      if (known && known !== observation) throw new Error(`observe: another Observation is already named "${name}"`);
      this.session.observations.set(name, observation);
    }
    return this.derive({ collect_metrics: { input: this.relation, name, metrics: exprs.map((e) => e.expr) } });
  }

  /** Each row as a JSON string, in one column `value` (PySpark returns an RDD of strings; over Connect a DataFrame). */
  toJSON(): DataFrame {
    return this.select(new Column(fn('to_json', [fn('struct', [{ unresolved_star: {} }])])).alias('value'));
  }

  repartition(numPartitionsOrCol?: number | ColumnOrName, ...cols: ColumnOrName[]): DataFrame {
    const n = typeof numPartitionsOrCol === 'number' ? numPartitionsOrCol : undefined;
    const exprs = [...(typeof numPartitionsOrCol === 'number' || numPartitionsOrCol === undefined ? [] : [numPartitionsOrCol]), ...cols];
    if (n !== undefined && (!Number.isInteger(n) || n < 1))
      throw new RangeError(`repartition: numPartitions must be a positive integer, got ${n}`);
    if (exprs.length === 0) {
      if (n === undefined) throw new TypeError('repartition: give a number of partitions or columns');
      return this.derive({ repartition: { input: this.relation, num_partitions: n, shuffle: true } });
    }
    return this.derive({
      repartition_by_expression: {
        input: this.relation,
        partition_exprs: exprs.map(toColumnExpr),
        ...(n !== undefined ? { num_partitions: n } : {}),
      },
    });
  }

  coalesce(numPartitions: number): DataFrame {
    if (!Number.isInteger(numPartitions) || numPartitions < 1)
      throw new RangeError(`coalesce: numPartitions must be a positive integer, got ${numPartitions}`);
    return this.derive({ repartition: { input: this.relation, num_partitions: numPartitions, shuffle: false } });
  }

  /** `sample(fraction, seed?)` or `sample(withReplacement, fraction, seed?)`, as in PySpark. */
  sample(fractionOrWithReplacement: number | boolean, fractionOrSeed?: number, seed?: number): DataFrame {
    let withReplacement = false;
    let fraction: number;
    if (typeof fractionOrWithReplacement === 'boolean') {
      withReplacement = fractionOrWithReplacement;
      if (fractionOrSeed === undefined) throw new TypeError('sample: fraction is required');
      fraction = fractionOrSeed;
    } else {
      fraction = fractionOrWithReplacement;
      seed = fractionOrSeed;
    }
    if (!(fraction >= 0)) throw new RangeError(`sample: fraction must be >= 0, got ${fraction}`);
    return this.derive({
      sample: {
        input: this.relation,
        lower_bound: 0,
        upper_bound: fraction,
        with_replacement: withReplacement,
        seed: String(seed ?? randomSeed()),
        deterministic_order: false,
      },
    });
  }

  /** Splits by normalized weights; each split is a deterministic sample over the same seed, as PySpark does. */
  randomSplit(weights: number[], seed?: number): DataFrame[] {
    if (weights.some((w) => !(w >= 0))) throw new RangeError(`randomSplit: weights must be >= 0, got ${weights.join(', ')}`);
    const total = weights.reduce((a, b) => a + b, 0);
    if (!(total > 0)) throw new RangeError('randomSplit: the sum of weights must be > 0');
    const s = String(seed ?? randomSeed());
    const out: DataFrame[] = [];
    let lower = 0;
    for (const w of weights) {
      const upper = lower + w / total;
      out.push(
        this.derive({
          sample: {
            input: this.relation,
            lower_bound: lower,
            upper_bound: Math.min(upper, 1),
            with_replacement: false,
            seed: s,
            deterministic_order: true,
          },
        }),
      );
      lower = upper;
    }
    return out;
  }

  // ------------------------------------------------------------------ statistics

  describe(...cols: Array<string | string[]>): DataFrame {
    return this.derive({ describe: { input: this.relation, cols: flat(cols) } });
  }

  summary(...statistics: Array<string | string[]>): DataFrame {
    return this.derive({ summary: { input: this.relation, statistics: flat(statistics) } });
  }

  get na(): DataFrameNaFunctions {
    return new DataFrameNaFunctions(this);
  }

  get stat(): DataFrameStatFunctions {
    return new DataFrameStatFunctions(this);
  }

  fillna(value: FillValue | Record<string, FillValue>, subset?: string | string[]): DataFrame {
    return this.na.fill(value, subset);
  }

  dropna(how: 'any' | 'all' = 'any', thresh?: number, subset?: string | string[]): DataFrame {
    return this.na.drop(how, thresh, subset);
  }

  approxQuantile(col: string, probabilities: number[], relativeError: number, opts?: ActionOptions): Promise<number[]>;
  approxQuantile(col: string[], probabilities: number[], relativeError: number, opts?: ActionOptions): Promise<number[][]>;
  approxQuantile(
    col: string | string[],
    probabilities: number[],
    relativeError: number,
    opts?: ActionOptions,
  ): Promise<number[] | number[][]> {
    return typeof col === 'string'
      ? this.stat.approxQuantile(col, probabilities, relativeError, opts)
      : this.stat.approxQuantile(col, probabilities, relativeError, opts);
  }

  // ------------------------------------------------------------------ streaming and caching

  withWatermark(eventTime: string, delayThreshold: string): DataFrame {
    return this.derive({ with_watermark: { input: this.relation, event_time: eventTime, delay_threshold: delayThreshold } });
  }

  /** Persists at MEMORY_AND_DISK_DESER, PySpark's default for DataFrames. */
  async cache(): Promise<DataFrame> {
    return this.persist(StorageLevel.MEMORY_AND_DISK_DESER);
  }

  async persist(level: StorageLevel = StorageLevel.MEMORY_AND_DISK_DESER): Promise<DataFrame> {
    await this.session.client.analyze({ persist: { relation: this.relation, storage_level: level.toProto() } });
    return this;
  }

  async unpersist(blocking = false): Promise<DataFrame> {
    await this.session.client.analyze({ unpersist: { relation: this.relation, blocking } });
    return this;
  }

  /** The storage level this DataFrame is persisted at (StorageLevel.NONE when it is not). */
  async storageLevel(): Promise<StorageLevel> {
    const res = await this.session.client.analyze({ get_storage_level: { relation: this.relation } });
    return StorageLevel.fromProto(res.get_storage_level?.storage_level ?? null);
  }

  /**
   * Materializes this DataFrame and cuts its lineage: `localCheckpoint` keeps the data on executors,
   * `checkpoint` in the checkpoint directory. The result refers to the server's copy.
   */
  async localCheckpoint(eager = true, storageLevel?: StorageLevel, opts: ActionOptions = {}): Promise<DataFrame> {
    return this.checkpointed(true, eager, storageLevel, opts);
  }

  async checkpoint(eager = true, opts: ActionOptions = {}): Promise<DataFrame> {
    return this.checkpointed(false, eager, undefined, opts);
  }

  private async checkpointed(local: boolean, eager: boolean, level: StorageLevel | undefined, opts: ActionOptions): Promise<DataFrame> {
    const responses = await this.session.executeCommand(
      { checkpoint_command: { relation: this.relation, local, eager, ...(level ? { storage_level: level.toProto() } : {}) } },
      opts,
    );
    const id = responses.find((r) => r.checkpoint_command_result)?.checkpoint_command_result?.relation?.relation_id;
    if (!id) throw new Error('the server returned no checkpointed relation');
    return this.derive({ cached_remote_relation: { relation_id: id } });
  }

  /** Wide to long: keeps `ids`, turns the `values` columns (default: all others) into variable/value rows. */
  unpivot(ids: ColumnOrName[], values: ColumnOrName[] | undefined, variableColumnName: string, valueColumnName: string): DataFrame {
    return this.derive({
      unpivot: {
        input: this.relation,
        ids: ids.map(toColumnExpr),
        ...(values ? { values: { values: values.map(toColumnExpr) } } : {}),
        variable_column_name: variableColumnName,
        value_column_name: valueColumnName,
      },
    });
  }

  melt(ids: ColumnOrName[], values: ColumnOrName[] | undefined, variableColumnName: string, valueColumnName: string): DataFrame {
    return this.unpivot(ids, values, variableColumnName, valueColumnName);
  }

  // ------------------------------------------------------------------ inspection

  /** The schema (one AnalyzePlan round trip, then remembered: a DataFrame's plan never changes). */
  async schema(): Promise<StructType> {
    this.cachedSchema ??= this.fetchSchema();
    try {
      return await this.cachedSchema;
    } catch (err) {
      this.cachedSchema = undefined;
      throw err;
    }
  }

  private async fetchSchema(): Promise<StructType> {
    const res = await this.session.client.analyze({ schema: { plan: this.plan } });
    if (!res.schema?.schema) throw new Error('the server returned no schema');
    const dt = dataTypeFromProto(res.schema.schema);
    if (dt.type !== 'struct') throw new Error(`expected a struct schema, got ${simpleString(dt)}`);
    return dt;
  }

  async columns(): Promise<string[]> {
    return (await this.schema()).fields.map((f) => f.name);
  }

  /** [name, simple type string] pairs, as PySpark's `dtypes`. */
  async dtypes(): Promise<Array<[string, string]>> {
    return (await this.schema()).fields.map((f) => [f.name, simpleString(f.dataType)]);
  }

  /** The schema as a tree (PySpark's printSchema); printed to stdout and returned. */
  async printSchema(level?: number): Promise<string> {
    const res = await this.session.client.analyze({ tree_string: { plan: this.plan, ...(level !== undefined ? { level } : {}) } });
    const text = res.tree_string?.tree_string ?? treeString(await this.schema());
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return text;
  }

  /** The query plan as text (`mode`: simple, extended, codegen, cost, formatted). */
  async explain(mode: ExplainMode | boolean = 'simple'): Promise<string> {
    const m = typeof mode === 'boolean' ? (mode ? 'extended' : 'simple') : mode;
    const res = await this.session.client.analyze({ explain: { plan: this.plan, explain_mode: EXPLAIN_MODES[m] } });
    return res.explain?.explain_string ?? '';
  }

  async isStreaming(): Promise<boolean> {
    const res = await this.session.client.analyze({ is_streaming: { plan: this.plan } });
    return res.is_streaming?.is_streaming ?? false;
  }

  async isLocal(): Promise<boolean> {
    const res = await this.session.client.analyze({ is_local: { plan: this.plan } });
    return res.is_local?.is_local ?? false;
  }

  async inputFiles(): Promise<string[]> {
    const res = await this.session.client.analyze({ input_files: { plan: this.plan } });
    return res.input_files?.files ?? [];
  }

  async createOrReplaceTempView(name: string): Promise<void> {
    await this.createView(name, false, true);
  }

  async createTempView(name: string): Promise<void> {
    await this.createView(name, false, false);
  }

  async createGlobalTempView(name: string): Promise<void> {
    await this.createView(name, true, false);
  }

  async createOrReplaceGlobalTempView(name: string): Promise<void> {
    await this.createView(name, true, true);
  }

  private async createView(name: string, isGlobal: boolean, replace: boolean): Promise<void> {
    await this.session.executeCommand({ create_dataframe_view: { input: this.relation, name, is_global: isGlobal, replace } });
  }

  // ------------------------------------------------------------------ actions

  /** Arrow IPC record batches as they arrive from the server (nothing is held in memory). */
  arrowBatches(opts: ActionOptions = {}): AsyncGenerator<Uint8Array> {
    return this.session.executeArrow(this.plan, opts);
  }

  /** The whole result as an apache-arrow Table. */
  async toArrow(opts: ActionOptions = {}): Promise<arrow.Table> {
    return (await this.fetchAll(opts)).table;
  }

  /**
   * Every row, with exact values (bigint, Decimal, SparkDate, SparkTimestamp, Uint8Array, ...). Each Arrow
   * batch is decoded as it arrives (its bytes dropped), so decoding overlaps the server's work.
   * `{ rows: 'lazy' }` gives LazyRows instead: one small object per row, a column decoded only when read.
   */
  async collect(opts?: ActionOptions & { rows?: 'objects' }): Promise<Row[]>;
  async collect(opts: ActionOptions & { rows: 'lazy' }): Promise<LazyRow[]>;
  async collect(opts: ActionOptions & { rows?: 'objects' | 'lazy' } = {}): Promise<Row[] | LazyRow[]> {
    let schema: StructType | undefined;
    const lazy = opts.rows === 'lazy';
    const out: Array<Row | LazyRow> = [];
    for await (const bytes of this.session.executeArrow(this.plan, opts, (s) => (schema = s))) {
      for (const batch of recordBatchesFromIPC(bytes)) {
        if (!lazy) {
          appendRows(batch, schema, out as Row[]);
          continue;
        }
        const rows = lazyRowsFromBatch(batch, schema);
        for (let i = 0; i < rows.length; i++) out.push(rows[i]!);
      }
    }
    return out as Row[] | LazyRow[];
  }

  /**
   * The whole result as columns: a typed array per fixed-width column plus a validity array, exact values
   * for the rest; no object per row. The fastest way to numbers in bulk.
   */
  async toColumns(opts: ActionOptions = {}): Promise<ResultColumns> {
    const { table, schema } = await this.fetchAll(opts);
    return columnsFromTable(table, schema);
  }

  private async fetchAll(opts: ActionOptions): Promise<{ table: arrow.Table; schema?: StructType }> {
    const batches: Uint8Array[] = [];
    let schema: StructType | undefined;
    for await (const b of this.session.executeArrow(this.plan, opts, (s) => (schema = s))) batches.push(b);
    return { table: tableFromBatches(batches, schema), schema };
  }

  /** Rows one at a time, decoding each Arrow batch as it arrives. */
  async *toLocalIterator(opts: ActionOptions = {}): AsyncGenerator<Row> {
    let schema: StructType | undefined;
    for await (const batch of this.session.executeArrow(this.plan, opts, (s) => (schema = s))) {
      for (const row of rowsFromBatch(batch, schema)) yield row;
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<Row> {
    return this.toLocalIterator();
  }

  async take(n: number, opts: ActionOptions = {}): Promise<Row[]> {
    return this.limit(n).collect(opts);
  }

  /** The first `n` rows; `head()` with no argument is the first row (or null), as in PySpark. */
  head(opts?: ActionOptions): Promise<Row | null>;
  head(n: number, opts?: ActionOptions): Promise<Row[]>;
  async head(nOrOpts?: number | ActionOptions, opts: ActionOptions = {}): Promise<Row[] | Row | null> {
    if (typeof nOrOpts === 'number') return this.take(nOrOpts, opts);
    return this.first(nOrOpts ?? {});
  }

  async first(opts: ActionOptions = {}): Promise<Row | null> {
    const rows = await this.take(1, opts);
    return rows[0] ?? null;
  }

  /** The tail: the last `n` rows. */
  async tail(n: number, opts: ActionOptions = {}): Promise<Row[]> {
    return new DataFrame(this.session, this.session.newRelation({ tail: { input: this.relation, limit: checkCount('tail', n) } })).collect(
      opts,
    );
  }

  async isEmpty(opts: ActionOptions = {}): Promise<boolean> {
    return (await this.take(1, opts)).length === 0;
  }

  /** The number of rows. A number: an exact count up to 2^53. */
  async count(opts: ActionOptions = {}): Promise<number> {
    const row = await this.groupBy().count().first(opts);
    return Number(row?.count ?? 0);
  }

  /** The table text Spark renders (server-side ShowString). */
  async showString(n = 20, truncate: boolean | number = true, vertical = false, opts: ActionOptions = {}): Promise<string> {
    const t = typeof truncate === 'number' ? truncate : truncate ? 20 : 0;
    const df = new DataFrame(
      this.session,
      this.session.newRelation({ show_string: { input: this.relation, num_rows: n, truncate: t, vertical } }),
    );
    const row = await df.first(opts);
    return String(row?.show_string ?? '');
  }

  /** Prints the first `n` rows as a table on stdout (and returns the text). */
  async show(n = 20, truncate: boolean | number = true, vertical = false, opts: ActionOptions = {}): Promise<string> {
    const text = await this.showString(n, truncate, vertical, opts);
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return text;
  }

  get write(): DataFrameWriter {
    return new DataFrameWriter(this);
  }

  /** A DataFrameWriterV2 for the catalog table `table` (PySpark's `writeTo`). */
  writeTo(table: string): DataFrameWriterV2 {
    return new DataFrameWriterV2(this, table);
  }

  get writeStream(): DataStreamWriter {
    return new DataStreamWriter(this);
  }
}

function checkCount(what: string, n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 31 - 1) throw new RangeError(`${what}: expected a non-negative 32-bit integer, got ${n}`);
  return n;
}
