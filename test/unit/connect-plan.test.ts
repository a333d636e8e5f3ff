import { expect } from 'chai';
import {
  SparkSession,
  DataFrame,
  StorageLevel,
  Window,
  functions as F,
  types as T,
  Decimal,
  SparkDate,
  LogisticRegression,
  VectorAssembler,
} from '../../lib/connect';
import { RecordingClient } from '../../lib/connect/testing/recording-client';
import type { Relation } from '../../lib/connect/gen/spark/connect/Relation';
import type { Expression } from '../../lib/connect/gen/spark/connect/Expression';

/** Drops plan ids (`common`) so plans compare by shape. */
function shape<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (k, v) => (k === 'common' ? undefined : typeof v === 'bigint' ? v.toString() : v))) as T;
}

const attr = (name: string): Expression => ({ unresolved_attribute: { unparsed_identifier: name } });
const fn = (name: string, ...args: Expression[]): Expression => ({
  unresolved_function: { function_name: name, arguments: args, is_distinct: false },
});
const int = (v: number): Expression => ({ literal: { integer: v } });

describe('connect plans', () => {
  let client: RecordingClient;
  let spark: SparkSession;
  let base: DataFrame;

  beforeEach(async () => {
    client = new RecordingClient();
    spark = await SparkSession.builder().withClient(client).create();
    base = spark.table('t');
  });

  const input = () => shape(base.relation);
  const body = (df: DataFrame): Relation => shape(df.relation);

  it('gives every relation its own plan id and binds df.col() to it', () => {
    const a = spark.range(3);
    const b = a.select('id');
    expect(a.relation.common?.plan_id).to.not.equal(b.relation.common?.plan_id);
    expect(b.col('id').expr).to.deep.equal({ unresolved_attribute: { unparsed_identifier: 'id', plan_id: b.relation.common?.plan_id } });
  });

  it('range, table, read and readStream', () => {
    expect(body(spark.range(5))).to.deep.equal({ range: { start: '0', end: '5', step: '1' } });
    expect(body(spark.range(2, 10, 2, 4))).to.deep.equal({ range: { start: '2', end: '10', step: '2', num_partitions: 4 } });
    expect(body(spark.table('db.t'))).to.deep.equal({
      read: { named_table: { unparsed_identifier: 'db.t', options: {} }, is_streaming: false },
    });
    const csv = spark.read.schema('a INT, b STRING').option('header', true).options({ sep: '\t', mode: 'PERMISSIVE' }).csv('/x.csv');
    expect(body(csv)).to.deep.equal({
      read: {
        data_source: {
          format: 'csv',
          schema: 'a INT, b STRING',
          options: { header: 'true', sep: '\t', mode: 'PERMISSIVE' },
          paths: ['/x.csv'],
          predicates: [],
        },
        is_streaming: false,
      },
    });
    const schema = T.structType([T.structField('a', T.LongType, false)]);
    const withStruct = spark.read.format('json').schema(schema).load(['/a', '/b']);
    expect(body(withStruct).read?.data_source?.schema).to.equal(T.dataTypeToJson(schema));
    expect(body(withStruct).read?.data_source?.paths).to.deep.equal(['/a', '/b']);
    const rate = spark.readStream.format('rate').option('rowsPerSecond', 5).load();
    expect(body(rate)).to.deep.equal({
      read: { data_source: { format: 'rate', options: { rowsPerSecond: '5' }, paths: [], predicates: [] }, is_streaming: true },
    });
  });

  it('select, selectExpr, filter/where, withColumn(s), withColumnRenamed, drop', () => {
    expect(body(base.select('a', F.col('b').alias('c')))).to.deep.equal({
      project: { input: input(), expressions: [attr('a'), { alias: { expr: attr('b'), name: ['c'] } }] },
    });
    expect(body(base.selectExpr('a + 1 AS b'))).to.deep.equal({
      project: { input: input(), expressions: [{ expression_string: { expression: 'a + 1 AS b' } }] },
    });
    expect(body(base.filter(F.col('a').gt(1)))).to.deep.equal({ filter: { input: input(), condition: fn('>', attr('a'), int(1)) } });
    expect(body(base.where('a > 1'))).to.deep.equal({
      filter: { input: input(), condition: { expression_string: { expression: 'a > 1' } } },
    });
    expect(body(base.withColumn('x', F.lit(1)))).to.deep.equal({
      with_columns: { input: input(), aliases: [{ expr: int(1), name: ['x'] }] },
    });
    expect(body(base.withColumns({ x: F.lit(1), y: F.col('a') })).with_columns?.aliases).to.have.length(2);
    expect(body(base.withColumnRenamed('a', 'b'))).to.deep.equal({
      with_columns_renamed: { input: input(), renames: [{ col_name: 'a', new_col_name: 'b' }] },
    });
    expect(body(base.drop('a', F.col('b')))).to.deep.equal({ drop: { input: input(), column_names: ['a'], columns: [attr('b')] } });
  });

  it('groupBy().agg/count/sum/avg/min/max, agg with a map, and pivot', () => {
    expect(body(base.groupBy('k').agg(F.sum('v').alias('s')))).to.deep.equal({
      aggregate: {
        input: input(),
        group_type: 'GROUP_TYPE_GROUPBY',
        grouping_expressions: [attr('k')],
        aggregate_expressions: [{ alias: { expr: fn('sum', attr('v')), name: ['s'] } }],
      },
    });
    expect(body(base.groupBy('k').count()).aggregate?.aggregate_expressions).to.deep.equal([
      { alias: { expr: { unresolved_function: { function_name: 'count', arguments: [int(1)] } }, name: ['count'] } },
    ]);
    for (const m of ['sum', 'avg', 'min', 'max'] as const) {
      const fnName = m;
      expect(body(base.groupBy('k')[m]('v')).aggregate?.aggregate_expressions).to.deep.equal([
        { unresolved_function: { function_name: fnName, arguments: [attr('v')] } },
      ]);
    }
    expect(body(base.agg({ v: 'max' })).aggregate?.grouping_expressions).to.deep.equal([]);
    const pivoted = body(base.groupBy('k').pivot('p', ['a', 'b']).sum('v'));
    expect(pivoted.aggregate?.group_type).to.equal('GROUP_TYPE_PIVOT');
    expect(pivoted.aggregate?.pivot).to.deep.equal({ col: attr('p'), values: [{ string: 'a' }, { string: 'b' }] });
    expect(() => base.groupBy('k').sum()).to.throw(/needs column names/);
  });

  it('orderBy/sort with Spark’s default null ordering, limit, offset', () => {
    expect(body(base.orderBy('a', F.desc('b')))).to.deep.equal({
      sort: {
        input: input(),
        order: [
          { child: attr('a'), direction: 'SORT_DIRECTION_ASCENDING', null_ordering: 'SORT_NULLS_FIRST' },
          { child: attr('b'), direction: 'SORT_DIRECTION_DESCENDING', null_ordering: 'SORT_NULLS_LAST' },
        ],
        is_global: true,
      },
    });
    expect(body(base.sort(F.col('a').asc_nulls_last())).sort?.order?.[0]?.null_ordering).to.equal('SORT_NULLS_LAST');
    expect(body(base.limit(5))).to.deep.equal({ limit: { input: input(), limit: 5 } });
    expect(body(base.offset(2))).to.deep.equal({ offset: { input: input(), offset: 2 } });
    expect(() => base.limit(-1)).to.throw(RangeError);
  });

  it('joins of every type, on names or an expression; unions; alias', () => {
    const other = spark.table('u');
    const using = body(base.join(other, 'id', 'left'));
    expect(using.join).to.deep.equal({
      left: input(),
      right: shape(other.relation),
      join_type: 'JOIN_TYPE_LEFT_OUTER',
      using_columns: ['id'],
    });
    const cond = base.col('id').eq(other.col('id'));
    expect(body(base.join(other, cond, 'full_outer')).join?.join_condition).to.deep.equal(shape(cond.expr));
    const expected: Record<string, string> = {
      inner: 'JOIN_TYPE_INNER',
      cross: 'JOIN_TYPE_CROSS',
      outer: 'JOIN_TYPE_FULL_OUTER',
      right: 'JOIN_TYPE_RIGHT_OUTER',
      semi: 'JOIN_TYPE_LEFT_SEMI',
      left_anti: 'JOIN_TYPE_LEFT_ANTI',
    };
    for (const [how, type] of Object.entries(expected)) {
      expect(body(base.join(other, ['id'], how as 'inner')).join?.join_type).to.equal(type);
    }
    expect(() => base.join(other, 'id', 'sideways' as 'inner')).to.throw(/unknown join type/);
    expect(body(base.union(other)).set_op).to.deep.equal({
      left_input: input(),
      right_input: shape(other.relation),
      set_op_type: 'SET_OP_TYPE_UNION',
      is_all: true,
    });
    expect(body(base.unionByName(other, true)).set_op).to.include({ by_name: true, allow_missing_columns: true, is_all: true });
    expect(body(base.alias('l'))).to.deep.equal({ subquery_alias: { input: input(), alias: 'l' } });
  });

  it('distinct, dropDuplicates, repartition, coalesce, sample, randomSplit', () => {
    expect(body(base.distinct())).to.deep.equal({ deduplicate: { input: input(), all_columns_as_keys: true } });
    expect(body(base.dropDuplicates(['a']))).to.deep.equal({ deduplicate: { input: input(), column_names: ['a'] } });
    expect(body(base.repartition(4))).to.deep.equal({ repartition: { input: input(), num_partitions: 4, shuffle: true } });
    expect(body(base.repartition(4, 'k'))).to.deep.equal({
      repartition_by_expression: { input: input(), partition_exprs: [attr('k')], num_partitions: 4 },
    });
    expect(body(base.coalesce(1))).to.deep.equal({ repartition: { input: input(), num_partitions: 1, shuffle: false } });
    expect(body(base.sample(0.5, 7))).to.deep.equal({
      sample: { input: input(), lower_bound: 0, upper_bound: 0.5, with_replacement: false, seed: '7', deterministic_order: false },
    });
    expect(body(base.sample(true, 0.1, 1)).sample?.with_replacement).to.equal(true);
    const splits = base.randomSplit([1, 3], 42).map((d) => body(d).sample);
    expect(splits.map((s) => [s?.lower_bound, s?.upper_bound, s?.seed, s?.deterministic_order])).to.deep.equal([
      [0, 0.25, '42', true],
      [0.25, 1, '42', true],
    ]);
  });

  it('describe, summary, na.fill/drop/replace, stat relations, withWatermark', () => {
    expect(body(base.describe('a'))).to.deep.equal({ describe: { input: input(), cols: ['a'] } });
    expect(body(base.summary('min', '50%'))).to.deep.equal({ summary: { input: input(), statistics: ['min', '50%'] } });
    expect(body(base.na.fill(0))).to.deep.equal({ fill_na: { input: input(), cols: [], values: [{ long: '0' }] } });
    expect(body(base.na.fill({ a: 1.5, b: 'x' }))).to.deep.equal({
      fill_na: { input: input(), cols: ['a', 'b'], values: [{ double: 1.5 }, { string: 'x' }] },
    });
    expect(body(base.na.drop('all'))).to.deep.equal({ drop_na: { input: input(), cols: [], min_non_nulls: 1 } });
    expect(body(base.na.drop('any', undefined, ['a']))).to.deep.equal({ drop_na: { input: input(), cols: ['a'] } });
    expect(body(base.na.replace(['Alone'], ['Single'], 'm'))).to.deep.equal({
      replace: { input: input(), cols: ['m'], replacements: [{ old_value: { string: 'Alone' }, new_value: { string: 'Single' } }] },
    });
    expect(body(base.stat.crosstab('a', 'b'))).to.deep.equal({ crosstab: { input: input(), col1: 'a', col2: 'b' } });
    expect(body(base.stat.freqItems(['a'], 0.4))).to.deep.equal({ freq_items: { input: input(), cols: ['a'], support: 0.4 } });
    // Numeric strata: a Map or pairs keep the values' types; a plain object's numeric-looking keys are refused.
    const strata = (df: DataFrame) => (shape(df.relation) as { sample_by: { fractions: unknown[] } }).sample_by.fractions;
    expect(strata(base.stat.sampleBy('k', new Map([[0, 0.1]]), 7))).to.deep.equal([{ stratum: { integer: 0 }, fraction: 0.1 }]);
    expect(strata(base.stat.sampleBy('k', [[1, 0.2]], 7))).to.deep.equal([{ stratum: { integer: 1 }, fraction: 0.2 }]);
    expect(strata(base.stat.sampleBy('k', { a: 0.3 }, 7))).to.deep.equal([{ stratum: { string: 'a' }, fraction: 0.3 }]);
    expect(() => base.stat.sampleBy('k', { 0: 0.1 }, 7)).to.throw(TypeError, /pass a Map or \[value, fraction\] pairs/);
    expect(body(base.withWatermark('ts', '10 seconds'))).to.deep.equal({
      with_watermark: { input: input(), event_time: 'ts', delay_threshold: '10 seconds' },
    });
  });

  it('unpivot, localCheckpoint, hint, toDF, tail', async () => {
    expect(body(base.unpivot(['id'], ['a'], 'k', 'v'))).to.deep.equal({
      unpivot: { input: input(), ids: [attr('id')], values: { values: [attr('a')] }, variable_column_name: 'k', value_column_name: 'v' },
    });
    expect(body(base.hint('broadcast'))).to.deep.equal({ hint: { input: input(), name: 'broadcast', parameters: [] } });
    expect(body(base.toDF('x', 'y'))).to.deep.equal({ to_df: { input: input(), column_names: ['x', 'y'] } });
    client.respond = () => [{ checkpoint_command_result: { relation: { relation_id: 'r-1' } } }];
    const cp = await base.localCheckpoint();
    expect(shape(client.lastPlan.command?.checkpoint_command)).to.deep.equal({ relation: input(), local: true, eager: true });
    expect(body(cp)).to.deep.equal({ cached_remote_relation: { relation_id: 'r-1' } });
    client.respond = () => [];
    await base.tail(2);
    expect(shape(client.lastPlan.root)).to.deep.equal({ tail: { input: input(), limit: 2 } });
  });

  it('approxQuantile sends an approx_quantile relation and returns numbers', async () => {
    client.respond = () => [];
    // No server: the recording client returns no rows, so the result is empty — the plan is what matters here.
    const q = await base.stat.approxQuantile('a', [0.5], 0.01);
    expect(q).to.deep.equal([]);
    const root = shape(client.lastPlan.root) as Relation;
    expect(root.limit?.input?.approx_quantile).to.deep.equal({ input: input(), cols: ['a'], probabilities: [0.5], relative_error: 0.01 });
    const sent = client.plans.length;
    const err = await base.stat.approxQuantile('a', [1.5], 0.01).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(RangeError);
    expect(client.plans.length, 'validated before any request').to.equal(sent);
  });

  it('columns, operators, when/otherwise, cast, isin, between, windows', () => {
    const c = F.col('a');
    expect(c.plus(1).expr).to.deep.equal(fn('+', attr('a'), int(1)));
    expect(c.ne(1).expr).to.deep.equal(fn('not', fn('==', attr('a'), int(1))));
    expect(c.isNull().or(c.isNotNull().not()).expr).to.deep.equal(fn('or', fn('isnull', attr('a')), fn('not', fn('isnotnull', attr('a')))));
    expect(c.isin(1, 2).expr).to.deep.equal(fn('in', attr('a'), int(1), int(2)));
    expect(c.between(1, 2).expr).to.deep.equal(fn('and', fn('>=', attr('a'), int(1)), fn('<=', attr('a'), int(2))));
    expect(c.cast('decimal(10,2)').expr).to.deep.equal({ cast: { expr: attr('a'), type_str: 'decimal(10,2)' } });
    expect(c.cast(T.LongType).expr.cast?.type).to.deep.equal(T.dataTypeToProto(T.LongType));
    expect(F.when(c.gt(1), 'big').when(c.gt(0), 'small').otherwise('none').expr).to.deep.equal(
      fn(
        'when',
        fn('>', attr('a'), int(1)),
        { literal: { string: 'big' } },
        fn('>', attr('a'), int(0)),
        { literal: { string: 'small' } },
        { literal: { string: 'none' } },
      ),
    );
    expect(() => c.otherwise(1)).to.throw(/when\(\)/);
    const w = Window.partitionBy('k').orderBy(F.desc('t')).rowsBetween(Window.unboundedPreceding, Window.currentRow);
    expect(F.row_number().over(w).expr).to.deep.equal({
      window: {
        window_function: fn('row_number'),
        partition_spec: [attr('k')],
        order_spec: [{ child: attr('t'), direction: 'SORT_DIRECTION_DESCENDING', null_ordering: 'SORT_NULLS_LAST' }],
        frame_spec: { frame_type: 'FRAME_TYPE_ROW', lower: { unbounded: true }, upper: { current_row: true } },
      },
    });
    expect(F.lag('v', 1, 0).over(Window.orderBy('t')).expr.window?.window_function).to.deep.equal(fn('lag', attr('v'), int(1), int(0)));
  });

  it('functions build the functions PySpark builds', () => {
    expect(F.countDistinct('a', 'b').expr).to.deep.equal({
      unresolved_function: { function_name: 'count', arguments: [attr('a'), attr('b')], is_distinct: true },
    });
    expect(F.percentile_approx('a', [0.25, 0.75], 100).expr).to.deep.equal(
      fn('percentile_approx', attr('a'), fn('array', { literal: { double: 0.25 } }, { literal: { double: 0.75 } }), int(100)),
    );
    expect(F.to_date('d', 'dd-MM-yyyy').expr).to.deep.equal(fn('to_date', attr('d'), { literal: { string: 'dd-MM-yyyy' } }));
    expect(F.window('ts', '10 seconds').expr).to.deep.equal(fn('window', attr('ts'), { literal: { string: '10 seconds' } }));
    expect(F.window('ts', '1 minute', '10 seconds').expr.unresolved_function?.arguments).to.have.length(3);
    expect(F.log('x').expr).to.deep.equal(fn('ln', attr('x')));
    expect(F.named_struct('a', F.col('x')).expr).to.deep.equal(fn('named_struct', { literal: { string: 'a' } }, attr('x')));
    expect(F.from_json('j', 'a INT').expr).to.deep.equal(fn('from_json', attr('j'), { literal: { string: 'a INT' } }));
    expect(F.lit(2n ** 60n).expr).to.deep.equal({ literal: { long: String(2n ** 60n) } });
    expect(F.lit(1.5).expr).to.deep.equal({ literal: { double: 1.5 } });
    expect(F.lit([1, 'a']).expr).to.deep.equal(fn('array', int(1), { literal: { string: 'a' } }));
    expect(F.lit(null).expr).to.deep.equal({ literal: { null: { null: {} } } });
    expect(F.lit(Decimal.fromString('12.340')).expr).to.deep.equal({ literal: { decimal: { value: '12.340', precision: 5, scale: 3 } } });
    expect(F.lit(SparkDate.fromString('1969-12-31')).expr).to.deep.equal({ literal: { date: -1 } });
    expect(F.expr('a + 1').expr).to.deep.equal({ expression_string: { expression: 'a + 1' } });
  });

  it('sql binds named and positional arguments in a SqlCommand, executed eagerly', async () => {
    const df = await spark.sql('SELECT :x, :y', { x: 1, y: 'a' });
    const cmd = shape(client.lastPlan.command);
    expect(cmd?.sql_command?.input?.sql).to.deep.equal({
      query: 'SELECT :x, :y',
      named_arguments: { x: int(1), y: { literal: { string: 'a' } } },
    });
    expect(body(df).sql?.query).to.equal('SELECT :x, :y');
    await spark.sql('SELECT ?', [true]);
    expect(shape(client.lastPlan.command)?.sql_command?.input?.sql?.pos_arguments).to.deep.equal([{ literal: { boolean: true } }]);
  });

  it('addListener sends StreamingQueryListenerBusCommand and delivers the events it streams back', async () => {
    const progressJson = JSON.stringify({
      progress: { id: 'q1', runId: 'r1', name: 'n', timestamp: '2026-01-01T00:00:00.000Z', batchId: 3, numInputRows: 7, sources: [] },
    });
    client.respond = (plan) =>
      plan.command?.streaming_query_listener_bus_command
        ? [
            { streaming_query_listener_events_result: { listener_bus_listener_added: true, events: [] } },
            {
              streaming_query_listener_events_result: {
                events: [
                  { event_type: 'QUERY_PROGRESS_EVENT', event_json: progressJson },
                  { event_type: 'QUERY_IDLE_EVENT', event_json: JSON.stringify({ id: 'q1', runId: 'r1', timestamp: 't' }) },
                  {
                    event_type: 'QUERY_TERMINATED_EVENT',
                    event_json: JSON.stringify({ id: 'q1', runId: 'r1', exception: 'boom', errorClassOnException: 'X' }),
                  },
                ],
              },
            },
          ]
        : [
            {
              write_stream_operation_start_result: {
                query_id: { id: 'q2', run_id: 'r2' },
                name: 'w',
                query_started_event_json: JSON.stringify({ id: 'q2', runId: 'r2', name: 'w', timestamp: 't0' }),
              },
            },
          ];
    const seen: string[] = [];
    const listener = {
      onQueryStarted: (e: { id: string; name: string | null }) => seen.push(`started ${e.id} ${e.name}`),
      onQueryProgress: (e: { progress: { batchId: number; numInputRows: number } }) =>
        seen.push(`progress ${e.progress.batchId} ${e.progress.numInputRows}`),
      onQueryIdle: (e: { id: string }) => seen.push(`idle ${e.id}`),
      onQueryTerminated: (e: { id: string; exception: string | null; errorClassOnException: string | null }) =>
        seen.push(`terminated ${e.id} ${e.exception} ${e.errorClassOnException}`),
    };
    const throwing = {
      onQueryProgress: () => {
        throw new Error('a broken listener');
      },
    };
    // Both are registered synchronously, before the bus stream yields anything; the throwing one comes first.
    await Promise.all([spark.streams.addListener(throwing), spark.streams.addListener(listener)]);
    expect(shape(client.plans.at(-1)?.command?.streaming_query_listener_bus_command)).to.deep.equal({ add_listener_bus_listener: true });
    await new Promise((r) => setImmediate(r));
    await base.writeStream.format('noop').start();
    expect(seen).to.deep.equal(['progress 3 7', 'idle q1', 'terminated q1 boom X', 'started q2 w']);
  });

  it('spark.stop() detaches the listener bus before releasing the session; a bus that does not end is aborted', async () => {
    // A bus stream that stays open until the server is asked to remove the bus listener, as Spark's does.
    class BusClient extends RecordingClient {
      order: string[] = [];
      endBus: boolean = true;
      private removed!: () => void;
      private readonly removedP = new Promise<void>((r) => (this.removed = r));
      override async *execute(plan: Parameters<RecordingClient['execute']>[0], opts: Parameters<RecordingClient['execute']>[1] = {}) {
        const bus = plan.command?.streaming_query_listener_bus_command;
        if (bus?.remove_listener_bus_listener) {
          this.order.push('remove');
          this.removed();
        }
        if (!bus?.add_listener_bus_listener) return yield* super.execute(plan, opts);
        this.plans.push(plan);
        yield {
          ...(await super.execute(plan, opts).next()).value!,
          streaming_query_listener_events_result: { listener_bus_listener_added: true, events: [] },
        };
        const aborted = new Promise<void>((r) => opts.signal?.addEventListener('abort', () => r()));
        await Promise.race([this.endBus ? this.removedP : new Promise(() => undefined), aborted]);
        this.order.push(opts.signal?.aborted ? 'bus aborted' : 'bus ended');
        if (opts.signal?.aborted) throw new Error('interrupted');
      }
      override async releaseSession(): Promise<void> {
        this.order.push('release');
        await super.releaseSession();
      }
    }
    const seen: string[] = [];
    const bc = new BusClient();
    const s1 = await SparkSession.builder().withClient(bc).create();
    await s1.streams.addListener({ onQueryStarted: () => seen.push('started') });
    await Promise.all([s1.stop(), s1.stop()]); // a second stop waits for the same one
    expect(bc.order).to.deep.equal(['remove', 'bus ended', 'release']);
    expect(s1.streams.listListeners()).to.deep.equal([]);
    expect(s1.streams.listenerBusError).to.equal(undefined);
    s1.streams.postQueryStarted(JSON.stringify({ id: 'q', runId: 'r', name: null, timestamp: 't' }));
    expect(seen).to.deep.equal([]);

    // The server accepts the removal but never ends the stream: after the grace time it is aborted, quietly.
    const stuck = new BusClient();
    stuck.endBus = false;
    const s2 = await SparkSession.builder().withClient(stuck).create();
    await s2.streams.addListener({});
    await s2.streams.detachAll(50);
    expect(stuck.order).to.deep.equal(['remove', 'bus aborted']);
    expect(s2.streams.listenerBusError).to.equal(undefined);
    await s2.stop();
    expect(stuck.order).to.deep.equal(['remove', 'bus aborted', 'release']);
  });

  it('jdbc reader: plain, column-partitioned and by predicates, as PySpark builds them; the writer: format, mode and properties', async () => {
    const url = 'jdbc:postgresql://h:5432/db';
    const props = { user: 'u', password: 'p', fetchsize: 1000 };
    const read = (df: DataFrame) => body(df).read?.data_source;
    expect(read(spark.read.jdbc(url, 'public.t', { properties: props }))).to.deep.equal({
      format: 'jdbc',
      options: { user: 'u', password: 'p', fetchsize: '1000', url, dbtable: 'public.t' },
      paths: [],
      predicates: [],
    });
    expect(
      read(spark.read.jdbc(url, 't', { column: 'id', lowerBound: 1, upperBound: 10n ** 12n, numPartitions: 4, properties: props }))
        ?.options,
    ).to.deep.equal({
      partitionColumn: 'id',
      lowerBound: '1',
      upperBound: '1000000000000',
      numPartitions: '4',
      user: 'u',
      password: 'p',
      fetchsize: '1000',
      url,
      dbtable: 't',
    });
    const byPredicates = read(spark.read.schema('id INT').jdbc(url, 't', { predicates: ['id < 5', 'id >= 5'] }));
    expect(byPredicates).to.deep.equal({
      format: 'jdbc',
      schema: 'id INT',
      options: { url, dbtable: 't' },
      paths: [],
      predicates: ['id < 5', 'id >= 5'],
    });
    // Runtime checks for callers outside TypeScript's checks.
    expect(() => spark.read.jdbc(url, 't', { column: 'id', lowerBound: 1, numPartitions: 2 } as never)).to.throw(
      /lowerBound, upperBound and numPartitions/,
    );
    expect(() =>
      spark.read.jdbc(url, 't', { column: 'id', lowerBound: 1, upperBound: 2, numPartitions: 2, predicates: ['x'] } as never),
    ).to.throw(/not both/);

    await base.write.jdbc(url, 'out_t', 'append', { user: 'u', batchsize: 500 });
    expect(shape(client.lastPlan.command?.write_operation)).to.deep.equal({
      input: input(),
      source: 'jdbc',
      mode: 'SAVE_MODE_APPEND',
      options: { user: 'u', batchsize: '500', url, dbtable: 'out_t' },
      partitioning_columns: [],
      sort_column_names: [],
    });
    // No mode given: the writer's own (PySpark's mode=None), here the default error-if-exists, then a set one kept.
    await base.write.jdbc(url, 'out_t');
    expect(client.lastPlan.command?.write_operation?.mode).to.equal('SAVE_MODE_ERROR_IF_EXISTS');
    await base.write.mode('overwrite').option('truncate', true).jdbc(url, 'out_t');
    expect(client.lastPlan.command?.write_operation?.mode).to.equal('SAVE_MODE_OVERWRITE');
    expect(client.lastPlan.command?.write_operation?.options).to.deep.equal({ truncate: 'true', url, dbtable: 'out_t' });
  });

  it('as PySpark: 64-bit literals checked, -0 stays a double, df.col("*") bound to its plan, sql() results get a plan id, insertInto(t, false) appends, F.mean named mean', async () => {
    expect(() => F.lit(2n ** 63n)).to.throw(RangeError, /outside the 64-bit range/);
    expect(F.lit(2n ** 63n - 1n).expr).to.deep.equal({ literal: { long: '9223372036854775807' } });
    expect(() => spark.range(0, 2n ** 64n)).to.throw(RangeError, /range\(\): end/);
    expect(() => spark.range(1e21)).to.throw(RangeError, /exactly/);
    expect(F.lit(-0).expr).to.deep.equal({ literal: { double: -0 } });
    expect(F.lit(0).expr).to.deep.equal({ literal: { integer: 0 } });

    const l = spark.range(3);
    expect(l.col('*').expr).to.deep.equal({ unresolved_star: { plan_id: l.relation.common?.plan_id } });
    expect(F.col('*').expr).to.deep.equal({ unresolved_star: {} });

    client.respond = () => [{ sql_command_result: { relation: { sql: { query: 'SELECT 1 AS k' }, common: null } } }];
    const a = await spark.sql('SELECT 1 AS k');
    const b = await spark.sql('SELECT 1 AS k');
    expect(a.relation.common?.plan_id).to.be.a('number');
    expect(a.relation.common?.plan_id).to.not.equal(b.relation.common?.plan_id);
    expect(a.col('k').expr).to.deep.equal({ unresolved_attribute: { unparsed_identifier: 'k', plan_id: a.relation.common?.plan_id } });

    await base.write.mode('overwrite').insertInto('t2', false);
    expect(client.lastPlan.command?.write_operation?.mode).to.equal('SAVE_MODE_APPEND');
    await base.write.mode('overwrite').insertInto('t2');
    expect(client.lastPlan.command?.write_operation?.mode).to.equal('SAVE_MODE_OVERWRITE');

    expect(F.mean('x').expr).to.deep.equal(fn('mean', attr('x')));
  });

  it('writeTo builds WriteOperationV2 with provider, options, properties, transforms and the mode of each call', async () => {
    const w = () =>
      base.writeTo('cat.db.t').using('iceberg').option('x', 1).tableProperty('p', 'v').partitionedBy(F.years('ts'), F.bucket(4, 'id'), 'k');
    await w().create();
    expect(shape(client.lastPlan.command?.write_operation_v2)).to.deep.equal({
      input: input(),
      table_name: 'cat.db.t',
      provider: 'iceberg',
      partitioning_columns: [
        { unresolved_function: { function_name: 'years', arguments: [attr('ts')], is_distinct: false } },
        { unresolved_function: { function_name: 'bucket', arguments: [int(4), attr('id')], is_distinct: false } },
        attr('k'),
      ],
      options: { x: '1' },
      table_properties: { p: 'v' },
      mode: 'MODE_CREATE',
      clustering_columns: [],
    });
    const modes: Array<[() => Promise<void>, string]> = [
      [() => w().replace(), 'MODE_REPLACE'],
      [() => w().createOrReplace(), 'MODE_CREATE_OR_REPLACE'],
      [() => base.writeTo('t').append(), 'MODE_APPEND'],
      [() => base.writeTo('t').overwritePartitions(), 'MODE_OVERWRITE_PARTITIONS'],
      [() => base.writeTo('t').overwrite(F.col('k').eq(1)), 'MODE_OVERWRITE'],
    ];
    for (const [run, mode] of modes) {
      await run();
      expect(client.lastPlan.command?.write_operation_v2?.mode, mode).to.equal(mode);
    }
    expect(shape(client.lastPlan.command?.write_operation_v2?.overwrite_condition)).to.deep.equal(shape(F.col('k').eq(1).expr));
    expect(client.lastPlan.command?.write_operation_v2?.provider).to.equal(undefined);
    await base.writeTo('t').clusterBy('a', 'b').append();
    expect(client.lastPlan.command?.write_operation_v2?.clustering_columns).to.deep.equal(['a', 'b']);
  });

  it('write and writeStream build WriteOperation and WriteStreamOperationStart', async () => {
    await base.write.mode('overwrite').format('parquet').option('compression', 'zstd').partitionBy('k').save('/out');
    expect(shape(client.lastPlan.command?.write_operation)).to.deep.equal({
      input: input(),
      source: 'parquet',
      path: '/out',
      mode: 'SAVE_MODE_OVERWRITE',
      options: { compression: 'zstd' },
      partitioning_columns: ['k'],
      sort_column_names: [],
    });
    await base.write.mode('append').saveAsTable('tbl');
    expect(shape(client.lastPlan.command?.write_operation?.table)).to.deep.equal({
      table_name: 'tbl',
      save_method: 'TABLE_SAVE_METHOD_SAVE_AS_TABLE',
    });
    expect(() => base.write.mode('sometimes' as 'append')).to.throw(/unknown save mode/);
    const ws = base.writeStream
      .format('parquet')
      .outputMode('append')
      .option('checkpointLocation', '/cp')
      .trigger({ availableNow: true })
      .queryName('q');
    expect(shape(ws.toProto({ path: '/o' }))).to.deep.equal({
      input: input(),
      format: 'parquet',
      options: { checkpointLocation: '/cp' },
      partitioning_column_names: [],
      available_now: true,
      output_mode: 'append',
      query_name: 'q',
      path: '/o',
    });
    expect(base.writeStream.trigger({ processingTime: '1 second' }).toProto().processing_time_interval).to.equal('1 second');
    expect(base.writeStream.trigger({ once: true }).toProto().once).to.equal(true);
    client.respond = () => [{ write_stream_operation_start_result: { query_id: { id: 'q1', run_id: 'r1' }, name: 'q' } }];
    const q = await ws.toTable('sink');
    expect([q.id, q.runId, q.name]).to.deep.equal(['q1', 'r1', 'q']);
    expect(shape(client.lastPlan.command?.write_stream_operation_start)?.table_name).to.equal('sink');
  });

  it('createDataFrame sends an Arrow LocalRelation with a JSON schema', () => {
    const df = spark.createDataFrame([{ id: 1n, name: 'a' }], 'id BIGINT, name STRING');
    const local = df.relation.local_relation!;
    expect(local.schema).to.equal(T.dataTypeToJson(T.parseDDLSchema('id BIGINT, name STRING')));
    expect((local.data as Buffer).length).to.be.greaterThan(0);
    expect(() => spark.createDataFrame([])).to.throw(/pass a schema/);
  });

  it('persist, unpersist, storageLevel, explain, schema and conf go through AnalyzePlan and Config', async () => {
    await base.persist(StorageLevel.DISK_ONLY);
    expect(shape(client.analyzed.at(-1))).to.deep.equal({
      persist: {
        relation: input(),
        storage_level: { use_disk: true, use_memory: false, use_off_heap: false, deserialized: false, replication: 1 },
      },
    });
    await base.unpersist(true);
    expect(shape(client.analyzed.at(-1))).to.deep.equal({ unpersist: { relation: input(), blocking: true } });
    client.respondAnalyze = () => ({
      get_storage_level: { storage_level: { use_disk: true, use_memory: true, use_off_heap: false, deserialized: true, replication: 1 } },
    });
    expect((await base.storageLevel()).name).to.equal('MEMORY_AND_DISK_DESER');
    client.respondAnalyze = () => ({ explain: { explain_string: '== Physical Plan ==' } });
    expect(await base.explain('formatted')).to.equal('== Physical Plan ==');
    expect(shape(client.analyzed.at(-1))?.explain?.explain_mode).to.equal('EXPLAIN_MODE_FORMATTED');
    await spark.conf.set('spark.sql.shuffle.partitions', 4);
    expect(client.configs.at(-1)).to.deep.equal({ set: { pairs: [{ key: 'spark.sql.shuffle.partitions', value: '4' }] } });
    await spark.stop();
    expect(client.released).to.equal(true);
    const after = await base.collect().then(
      () => null,
      (e: unknown) => e,
    );
    expect(String(after)).to.match(/stopped/);
  });

  it('the recording client can answer queries with rows, so code using collect/count runs without a server', async () => {
    client.respondWithRows(
      [
        { id: 1n, name: 'a' },
        { id: 2n, name: null },
      ],
      'id BIGINT, name STRING',
    );
    expect(await base.collect()).to.deep.equal([
      { id: 1n, name: 'a' },
      { id: 2n, name: null },
    ]);
    const seen = [];
    for await (const row of base) seen.push(row);
    expect(seen).to.have.length(2);
  });

  it('session tags and per-action tags go with every operation', async () => {
    const seen: Array<string[] | undefined> = [];
    const execute = client.execute.bind(client);
    client.execute = (plan, opts = {}) => {
      seen.push(opts.tags);
      return execute(plan, opts);
    };
    spark.addTag('job-1');
    await base.collect({ tags: ['step-a'] });
    spark.removeTag('job-1');
    await base.collect();
    expect(seen).to.deep.equal([['job-1', 'step-a'], undefined]);
    expect(() => spark.addTag('a,b')).to.throw(/comma/);
    await spark.interruptTag('job-1');
    expect(client.interrupted).to.deep.equal(['tag:job-1']);
  });

  it('StorageLevel constants carry PySpark’s flags', () => {
    const flags = (s: StorageLevel) => [s.useDisk, s.useMemory, s.useOffHeap, s.deserialized, s.replication];
    expect(flags(StorageLevel.MEMORY_ONLY)).to.deep.equal([false, true, false, false, 1]);
    expect(flags(StorageLevel.MEMORY_AND_DISK)).to.deep.equal([true, true, false, false, 1]);
    expect(flags(StorageLevel.MEMORY_AND_DISK_DESER)).to.deep.equal([true, true, false, true, 1]);
    expect(flags(StorageLevel.DISK_ONLY_3)).to.deep.equal([true, false, false, false, 3]);
    expect(flags(StorageLevel.OFF_HEAP)).to.deep.equal([true, true, true, false, 1]);
    expect(String(StorageLevel.MEMORY_AND_DISK_2)).to.equal('Disk Memory Serialized 2x Replicated');
  });

  it('ML: VectorAssembler and LogisticRegression build MlRelation / MlCommand protos', async () => {
    const assembled = new VectorAssembler({ inputCols: ['a', 'b'], outputCol: 'f' }).transform(base);
    const t = shape(assembled.relation).ml_relation?.transform;
    expect(t?.transformer).to.deep.include({ name: 'org.apache.spark.ml.feature.VectorAssembler', type: 'OPERATOR_TYPE_TRANSFORMER' });
    expect(t?.params?.params?.inputCols).to.deep.equal({
      array: { element_type: { string: {} }, elements: [{ string: 'a' }, { string: 'b' }] },
    });
    client.respond = () => [{ ml_command_result: { operator_info: { obj_ref: { id: 'm1' }, uid: 'u' } } }];
    const model = await new LogisticRegression({ featuresCol: 'f', labelCol: 'y', maxIter: 10, regParam: 0 }).fit(assembled);
    const fit = shape(client.lastPlan.command?.ml_command?.fit);
    expect(fit?.estimator?.name).to.equal('org.apache.spark.ml.classification.LogisticRegression');
    expect(fit?.params?.params).to.deep.equal({
      featuresCol: { string: 'f' },
      labelCol: { string: 'y' },
      maxIter: { integer: 10 },
      regParam: { double: 0 },
    });
    expect(model.objRef).to.equal('m1');
    expect(shape(model.transform(base).relation).ml_relation?.transform?.obj_ref).to.deep.equal({ id: 'm1' });
  });
});
