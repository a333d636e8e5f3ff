import path from 'node:path';
import { functions, type DataFrame, type DataStreamWriter, type SparkSession, type StreamingQuery, type Trigger } from '../connect';
import {
  AGGREGATE_COLUMNS,
  PHYSICAL_BOUNDS,
  READING_FIELDS,
  READING_SCHEMA_DDL,
  TOPICS,
  ZSCORE_MIN_READINGS,
  ZSCORE_RULES,
  type Metric,
} from './sensors';
import { sparkInterval } from './rate';

const { col, expr, window } = functions;

/**
 * The streaming pipeline, entirely in Spark: every transformation below is a Spark plan; Node only builds
 * the plans and starts the queries (lib/stream/README.md has the design and why).
 *
 *   Kafka (sensor_data) ─► kafka (heavy, append): parse, classify, aggregate ─► Kafka, per-row topic:
 *       sensor_data_dlq, sensor_aggregates, sensor_aggregates_live (final true), sensor_alerts,
 *       <aggregates>_1m (internal)
 *   Kafka (sensor_data) ─► live (update, 500 ms): running 10 s windows ─► sensor_aggregates_live (final false)
 *   sensor_aggregates ─► aggregates_10s │ <aggregates>_1m ─► aggregates_1m │ sensor_alerts ─► alerts
 *       (light copies to Parquet, exactly once: duplicates of a replayed heavy batch dropped on the natural key)
 *
 * Each query has its own checkpoint. The Parquet sinks are exactly once (the file sink's commit log); the
 * Kafka sink is at least once (Spark's Kafka sink is not transactional): after a crash mid-batch, a batch may
 * be written twice — the DLQ rows carry their source partition and offset, and aggregates their
 * (sensor_id, window_start), so readers (and the copies) can deduplicate.
 *
 * Alerts. `out_of_bounds`: a reading outside PHYSICAL_BOUNDS (raised at once, late or not). `zscore`: for a
 * valid reading x of a sensor in its 10 s tumbling window with n ≥ 3 readings, z = (x − mean₋ₓ) /
 * max(sd₋ₓ, floor), where mean₋ₓ and sd₋ₓ (sample) are those of the window's other n − 1 readings
 * (leave-one-out: with x included |z| can never exceed (n−1)/√n, so one spike among 10 readings could never
 * reach 3). The 10 s aggregation that gives the aggregates also keeps each window's sums and the list of
 * its readings; the leave-one-out statistics follow from the window's own mean and M2 (sum of squared
 * deviations) with Welford's removal formula, M2₋ₓ = M2 − (x − mean)(x − mean₋ₓ), so one aggregation gives
 * every reading its z (no self-join). An alert is emitted when the window closes (the watermark passes its end), like the aggregates.
 */

export interface StreamPipelineOptions {
  /** Kafka bootstrap servers as the Spark server sees them. */
  bootstrapServers: string;
  topic: string;
  startingOffsets: 'earliest' | 'latest';
  trigger: Trigger;
  output: string;
  checkpoint: string;
  watermarkMs: number;
  /** Kafka source rate limit per micro-batch (maxOffsetsPerTrigger). */
  maxOffsetsPerTrigger?: number;
  /** Prefix of the query names (unique per run when several jobs share a server). */
  queryPrefix?: string;
  /** Partitions of the shared exchange of classified records and of the stateful queries (default 2). */
  shufflePartitions?: number;
}

export const QUERY_NAMES = ['kafka', 'aggregates_10s', 'aggregates_1m', 'alerts', 'live'] as const;
export type QueryName = (typeof QUERY_NAMES)[number];

const METRICS = Object.keys(PHYSICAL_BOUNDS) as Metric[];
const q = (s: string) => `'${s.replace(/'/g, "\\'")}'`;

/** SQL: the reason a parsed record is invalid, or NULL when it is valid. Checks run only for invalid rows. */
export function invalidReasonSql(): string {
  const allPresent = READING_FIELDS.map((f) => `r.${f.name} IS NOT NULL`).join(' AND ');
  const inBounds = METRICS.map((m) => `r.${m} BETWEEN ${PHYSICAL_BOUNDS[m].min} AND ${PHYSICAL_BOUNDS[m].max}`).join(' AND ');
  const missing = READING_FIELDS.map((f) => `WHEN get_json_object(raw, '$.${f.name}') IS NULL THEN 'missing_field:${f.name}'`);
  // A present field the explicit schema cannot read as its type (parsed alone, so one bad field names itself).
  const wrongType = READING_FIELDS.map(
    (f) => `WHEN from_json(raw, '${f.name} ${f.sparkType.toUpperCase()}').${f.name} IS NULL THEN 'wrong_type:${f.name}'`,
  );
  const outOfBounds = METRICS.map(
    (m) => `WHEN NOT (r.${m} BETWEEN ${PHYSICAL_BOUNDS[m].min} AND ${PHYSICAL_BOUNDS[m].max}) THEN 'out_of_bounds:${m}'`,
  );
  return [
    'CASE',
    `WHEN ${allPresent} AND ${inBounds} THEN NULL`,
    // json_object_keys is NULL for invalid JSON and for JSON that is not an object.
    `WHEN raw IS NULL OR json_object_keys(raw) IS NULL THEN 'not_json'`,
    ...missing,
    ...wrongType,
    ...outOfBounds,
    `ELSE 'invalid'`,
    'END',
  ].join('\n');
}

/**
 * Consumer settings of every Kafka source of the job (and of the benchmark's plain query). A task of Spark's
 * Kafka reader waited about one `fetch.max.wait.ms` (the broker holds a fetch that finds no new data that
 * long; default 500 ms) before it ended, however few records it read: measured, a batch read of 10,000
 * records took 630 ms with the default and 150 ms with 10 ms. It is paid in every task of every
 * micro-batch, by the live query's 500 ms batches most of all.
 */
export const KAFKA_SOURCE_OPTIONS: Record<string, string> = { 'kafka.fetch.max.wait.ms': '10' };

/** A streaming Kafka source of `topic`: a topic deleted or truncated under a running query is reported, not silently skipped. */
function kafkaSource(spark: SparkSession, bootstrapServers: string, topic: string, startingOffsets: string, maxOffsetsPerTrigger?: number) {
  return spark.readStream
    .format('kafka')
    .option('kafka.bootstrap.servers', bootstrapServers)
    .option('subscribe', topic)
    .option('startingOffsets', startingOffsets)
    .option('failOnDataLoss', 'true')
    .options({ ...KAFKA_SOURCE_OPTIONS, maxOffsetsPerTrigger });
}

/** The Kafka source, parsed and classified: raw, reason (NULL if valid), r (the parsed struct), source coordinates. */
export function classifiedStream(spark: SparkSession, o: StreamPipelineOptions): DataFrame {
  const reader = kafkaSource(spark, o.bootstrapServers, o.topic, o.startingOffsets, o.maxOffsetsPerTrigger);
  // The record is parsed once, behind an explode: a filter on `reason` or on fields of `r` would otherwise be
  // pushed below the projection with `r` substituted, evaluating from_json once per field reference
  // (measured: ~5× the cost of the plain query); a generator's output is a value, never substituted. The
  // classification is a projection over it, which Spark compiles (a lambda would be interpreted per row).
  return reader
    .load()
    .selectExpr(
      'CAST(key AS STRING) AS kafka_key',
      'CAST(value AS STRING) AS raw',
      'topic AS source_topic',
      'partition AS source_partition',
      'offset AS source_offset',
      'timestamp AS source_timestamp',
    )
    .selectExpr('*', `explode(array(from_json(raw, ${q(READING_SCHEMA_DDL)}))) AS r`)
    .selectExpr(
      'kafka_key',
      'raw',
      'source_topic',
      'source_partition',
      'source_offset',
      'source_timestamp',
      'r',
      `${invalidReasonSql()} AS reason`,
    );
}

/** Valid readings with their event time, watermarked. */
export function validReadings(classified: DataFrame, watermarkMs: number): DataFrame {
  return classified
    .filter('reason IS NULL')
    .selectExpr('r.*')
    .withColumn('event_time', expr('timestamp_millis(ts)'))
    .withWatermark('event_time', sparkInterval(watermarkMs));
}

/** The aggregate expressions of the pinned columns (plus last_event_ts, the latest reading's event time). */
function pinnedAggregates() {
  return [
    expr('count(*)').alias('readings'),
    expr('avg(temperature)').alias('temperature_avg'),
    expr('min(temperature)').alias('temperature_min'),
    expr('max(temperature)').alias('temperature_max'),
    expr('stddev_samp(temperature)').alias('temperature_stddev'),
    expr('avg(humidity)').alias('humidity_avg'),
    expr('avg(pressure)').alias('pressure_avg'),
    expr('max(ts)').alias('last_event_ts'),
  ];
}

/** The pinned columns in their pinned order (the window bounds come out of the window struct), then `extra`. */
function pinnedColumns(...extra: string[]): string[] {
  return [
    ...AGGREGATE_COLUMNS.map((c) =>
      c === 'window_start' ? 'window.start AS window_start' : c === 'window_end' ? 'window.end AS window_end' : c,
    ),
    'last_event_ts',
    ...extra,
  ];
}

/** Per-sensor window aggregates with the pinned columns plus last_event_ts. */
export function windowAggregates(valid: DataFrame, windowDuration: string, slideDuration?: string): DataFrame {
  return valid
    .groupBy(window(col('event_time'), windowDuration, slideDuration).alias('window'), col('sensor_id'))
    .agg(...pinnedAggregates())
    .selectExpr(...pinnedColumns());
}

/** The metrics a window sums: those of the pinned averages, which are also the z-score rules' metrics. */
const WINDOW_METRICS: ReadonlyArray<(typeof ZSCORE_RULES)[number]['metric']> = ['temperature', 'humidity', 'pressure'];

/** SQL: the sum of squared deviations M2 = Σx² − (Σx)²/n from a window's sums (clamped at 0 against rounding). */
const m2Sql = (sum: string, sq: string, n: string) => `greatest(${sq} - ${sum} * ${sum} / ${n}, 0D)`;
/** SQL: the sample standard deviation from M2, NULL for one reading (as Spark's stddev_samp). */
const stddevSql = (m2: string, n: string) => `CASE WHEN ${n} > 1 THEN sqrt(${m2} / (${n} - 1)) END`;

/**
 * The 10 s tumbling windows, ONE stateful aggregation for both the aggregates and the z-scores: the window's
 * count, extremes and newest reading, per metric its sum and sum of squares, and the list of its readings
 * (every reading's z needs the window's final statistics, so the readings wait in the state until it
 * closes). Means and M2 follow from the sums in a projection: one cheap aggregate per figure instead of avg,
 * stddev_samp and var_samp each keeping their own moments (profiled: the aggregation's per-row update,
 * collect_list included, was 24–27 % of the heavy query's samples). Sums of 1/16-quantized readings are
 * exact, so a mean is the exact sum over n, as Spark's avg gives it, and the variance M2/(n − 1) agrees with
 * stddev_samp's to rounding. The sums stay in the row: the 1 min windows are merged from them.
 */
export function tenSecondWindows(valid: DataFrame): DataFrame {
  const sums = WINDOW_METRICS.flatMap((m) => [expr(`sum(${m})`).alias(`${m}_sum`), expr(`sum(${m} * ${m})`).alias(`${m}_sq`)]);
  const readings = `collect_list(named_struct('ts', ts, 'seq', seq, ${ZSCORE_RULES.map((r) => `'${r.metric}', ${r.metric}`).join(', ')}))`;
  return valid
    .groupBy(window(col('event_time'), '10 seconds').alias('window'), col('sensor_id'))
    .agg(
      expr('count(*)').alias('readings'),
      expr('min(temperature)').alias('temperature_min'),
      expr('max(temperature)').alias('temperature_max'),
      expr('max(ts)').alias('last_event_ts'),
      // The extremes of the other z-score metrics (temperature's are above): windowMessages reads z there.
      ...ZSCORE_RULES.filter((r) => r.metric !== 'temperature').flatMap((r) => [
        expr(`min(${r.metric})`).alias(`${r.metric}_min`),
        expr(`max(${r.metric})`).alias(`${r.metric}_max`),
      ]),
      ...sums,
      expr(readings).alias('window_readings'),
    )
    .selectExpr(
      '*',
      ...WINDOW_METRICS.flatMap((m) => [`${m}_sum / readings AS ${m}_avg`, `${m2Sql(`${m}_sum`, `${m}_sq`, 'readings')} AS ${m}_m2`]),
    )
    .withColumn('temperature_stddev', expr(stddevSql('temperature_m2', 'readings')));
}

const ALERT_COLUMNS = ['sensor_id', 'rule', 'metric', 'value', 'ts', 'seq', 'zscore', 'window_start', 'window_end'];

/** Rows to a Kafka sink: key sensor_id, value the row as JSON. */
function asKafka(df: DataFrame, keyColumn: string, columns: string[]): DataFrame {
  return df.selectExpr(
    `CAST(${keyColumn} AS STRING) AS key`,
    `to_json(named_struct(${columns.map((c) => `${q(c)}, ${c}`).join(', ')})) AS value`,
  );
}

/** Kafka header of every heavy-query output: the micro-batch's timestamp (epoch ms), the same when a batch is replayed. */
export const EMITTED_AT_HEADER = 'spark_ts_emitted_at';
const EMITTED_AT = `array(named_struct('key', ${q(EMITTED_AT_HEADER)}, 'value', CAST(CAST(unix_millis(current_timestamp()) AS STRING) AS BINARY)))`;

/** The columns of a closed aggregate row (Parquet aggregates_10s / aggregates_1m) and their types, for the copies. */
const AGGREGATE_SCHEMA_DDL =
  'sensor_id STRING, window_start TIMESTAMP, window_end TIMESTAMP, readings BIGINT, temperature_avg DOUBLE, temperature_min DOUBLE, temperature_max DOUBLE, temperature_stddev DOUBLE, humidity_avg DOUBLE, pressure_avg DOUBLE, last_event_ts BIGINT';
const ALERT_SCHEMA_DDL =
  'sensor_id STRING, rule STRING, metric STRING, value DOUBLE, ts BIGINT, seq BIGINT, zscore DOUBLE, window_start TIMESTAMP, window_end TIMESTAMP';

export interface OutputTopics {
  dlq: string;
  aggregates: string;
  alerts: string;
  /** sensor_aggregates_live: running 10 s windows (update mode) and each window's final row. */
  live: string;
  /** Internal: the closed 1 min windows on their way to Parquet. */
  aggregates1m: string;
}

export function outputTopics(t: Partial<OutputTopics> = {}): OutputTopics {
  const aggregates = t.aggregates ?? TOPICS.aggregates;
  return {
    dlq: t.dlq ?? TOPICS.dlq,
    aggregates,
    alerts: t.alerts ?? TOPICS.alerts,
    live: t.live ?? TOPICS.live,
    aggregates1m: t.aggregates1m ?? `${aggregates}_1m`,
  };
}

/** The light copies: which topic each Parquet output comes from (the heavy query writes them). */
export const PARQUET_COPIES = ['aggregates_10s', 'aggregates_1m', 'alerts'] as const;
export type ParquetCopy = (typeof PARQUET_COPIES)[number];
export function copySourceTopic(name: ParquetCopy, topics: OutputTopics): string {
  return name === 'aggregates_10s' ? topics.aggregates : name === 'aggregates_1m' ? topics.aggregates1m : topics.alerts;
}

/** SQL: a Kafka message struct (key, value = JSON of `columns`, topic). */
function message(key: string, columns: Array<[string, string]>, topic: string): string {
  return `named_struct('key', CAST(${key} AS STRING), 'value', to_json(named_struct(${columns.map(([name, sql]) => `${q(name)}, ${sql}`).join(', ')})), 'topic', ${q(topic)})`;
}

const AGGREGATE_FIELDS: Array<[string, string]> = [
  ...AGGREGATE_COLUMNS.map((c): [string, string] => [c, c === 'window_start' ? 'window.start' : c === 'window_end' ? 'window.end' : c]),
  ['last_event_ts', 'last_event_ts'],
];

/**
 * SQL: the leave-one-out z of the value `x` (default: reading r's) for one rule, over a row of
 * `tenSecondWindows` (NULL below ZSCORE_MIN_READINGS).
 */
function zscoreSql(rule: (typeof ZSCORE_RULES)[number], x = `r.${rule.metric}`): string {
  const mean = `${rule.metric}_avg`;
  const meanLoo = `((readings * ${mean} - ${x}) / (readings - 1))`;
  const m2Loo = `(${rule.metric}_m2 - (${x} - ${mean}) * (${x} - ${meanLoo}))`;
  const sdLoo = `sqrt(greatest(${m2Loo} / (readings - 2), 0D))`;
  // Guarded: with ANSI on, the divisions above fail for windows of one or two readings.
  return `CASE WHEN readings >= ${ZSCORE_MIN_READINGS} THEN (${x} - ${meanLoo}) / greatest(${sdLoo}, ${rule.stddevFloor}D) END`;
}

/** windowMessages explodes a window's readings when the z of its min or max is within this fraction of a threshold. */
export const ZSCORE_EXTREMES_MARGIN = 1e-6;

/**
 * The messages of the closed 10 s windows and of the 1 min windows, from ONE 10 s aggregation (`windows`, a
 * row of `tenSecondWindows` per closed window):
 *  - per 10 s window its sensor_aggregates message and its final sensor_aggregates_live message, and per
 *    reading its zscore alerts (see the header). The window's readings are exploded (`posexplode`, the
 *    window's own messages on position 0; only the first reading unless the window's extremes may alert,
 *    below) and each reading's z is plain arithmetic in a projection: Spark
 *    compiles both, while higher-order functions over the readings array are interpreted (measured: they were
 *    half the heavy query's CPU);
 *  - the 1 min windows sliding by 10 s, merged from the 10 s windows' partial sums (six per minute) in a
 *    second, chained aggregation. Over Spark Connect a stateful operator cannot feed two branches (each is
 *    planned with its own state), so the 10 s messages pass THROUGH that aggregation: each rides only in the 1
 *    min window that ends with its own 10 s window, which closes in the same micro-batch (the watermark that
 *    closes the 10 s window closes it too). Measured: a second 10 s aggregation of every reading for the 1
 *    min windows was about a quarter of the heavy query's time.
 * Sums of 1/16-quantized values are exact, so the 1 min mean and variance (Σx² − (Σx)²/n)/(n − 1) are as
 * exact as Spark's own; a reading counts in a 1 min window exactly when it counts in its 10 s window.
 */
function windowMessages(windows: DataFrame, topics: OutputTopics): DataFrame {
  const alert = (rule: (typeof ZSCORE_RULES)[number]) =>
    `CASE WHEN abs(z_${rule.metric}) > ${rule.threshold}D THEN ${message(
      'sensor_id',
      [
        ['sensor_id', 'sensor_id'],
        ['rule', "'zscore'"],
        ['metric', q(rule.metric)],
        ['value', `r.${rule.metric}`],
        ['ts', 'r.ts'],
        ['seq', 'r.seq'],
        ['zscore', `z_${rule.metric}`],
        ['window_start', 'window.start'],
        ['window_end', 'window.end'],
      ],
      topics.alerts,
    )} END`;
  // The window's partial sums ride on its first message (position 0 of its first reading) only.
  const partial = `named_struct('n', readings, 't_sum', temperature_sum, 't_sq', temperature_sq, 't_min', temperature_min, 't_max', temperature_max, 'h_sum', humidity_sum, 'p_sum', pressure_sum, 'last_ts', last_event_ts)`;
  // Most windows have no alert, and exploding all their readings was most of this stage. A reading's |z| grows
  // with its distance from the window's mean (the numerator grows and the leave-one-out deviation shrinks), so
  // if neither the window's min nor its max comes within 1e-6 of the threshold (a margin for rounding), no
  // reading alerts, and only the first reading is exploded (it carries the window's own messages).
  // test/unit/stream-zscore.test.ts checks that premise against the reference model.
  const mayAlert = ZSCORE_RULES.flatMap((rule) =>
    ['min', 'max'].map((e) => `abs(${zscoreSql(rule, `${rule.metric}_${e}`)}) > ${rule.threshold * (1 - ZSCORE_EXTREMES_MARGIN)}D`),
  ).join(' OR ');
  const tenSecond = windows
    .selectExpr('*', `posexplode(CASE WHEN ${mayAlert} THEN window_readings ELSE slice(window_readings, 1, 1) END) AS (pos, r)`)
    .selectExpr('*', ...ZSCORE_RULES.map((rule) => `${zscoreSql(rule)} AS z_${rule.metric}`))
    // Only a window's first reading and the readings that alert make messages: filtered before the explode
    // below, which would otherwise turn every reading into one row per possible message.
    .filter(['pos = 0', ...ZSCORE_RULES.map((rule) => `abs(z_${rule.metric}) > ${rule.threshold}D`)].join(' OR '))
    .selectExpr(
      'window',
      'sensor_id',
      `CASE WHEN pos = 0 THEN ${partial} END AS partial`,
      `explode(array(${[
        `CASE WHEN pos = 0 THEN ${message('sensor_id', AGGREGATE_FIELDS, topics.aggregates)} END`,
        `CASE WHEN pos = 0 THEN ${message('sensor_id', [...AGGREGATE_FIELDS, ['final', 'true']], topics.live)} END`,
        ...ZSCORE_RULES.map(alert),
      ].join(', ')})) AS m`,
    )
    .filter('m IS NOT NULL')
    // One partial per window: the explode repeated it on each message of position 0.
    .selectExpr('window', 'sensor_id', `CASE WHEN m.topic = ${q(topics.aggregates)} THEN partial END AS partial`, 'm');
  const own = 'minute.end = window.end';
  const minute = tenSecond
    .selectExpr('*', "window(window_time(window), '1 minute', '10 seconds') AS minute")
    // A message only in the 1 min window that ends with its 10 s window; a partial in all six of its windows.
    .filter(`partial IS NOT NULL OR ${own}`)
    .groupBy(col('minute'), col('sensor_id'))
    .agg(
      expr('sum(partial.n)').alias('readings'),
      expr('sum(partial.t_sum)').alias('t_sum'),
      expr('sum(partial.t_sq)').alias('t_sq'),
      expr('min(partial.t_min)').alias('temperature_min'),
      expr('max(partial.t_max)').alias('temperature_max'),
      expr('sum(partial.h_sum)').alias('h_sum'),
      expr('sum(partial.p_sum)').alias('p_sum'),
      expr('max(partial.last_ts)').alias('last_event_ts'),
      expr(`collect_list(CASE WHEN ${own} THEN m END)`).alias('passed'),
    );
  const minuteMessage = message(
    'sensor_id',
    [
      ['sensor_id', 'sensor_id'],
      ['window_start', 'minute.start'],
      ['window_end', 'minute.end'],
      ['readings', 'readings'],
      ['temperature_avg', 't_sum / readings'],
      ['temperature_min', 'temperature_min'],
      ['temperature_max', 'temperature_max'],
      ['temperature_stddev', stddevSql(m2Sql('t_sum', 't_sq', 'readings'), 'readings')],
      ['humidity_avg', 'h_sum / readings'],
      ['pressure_avg', 'p_sum / readings'],
      ['last_event_ts', 'last_event_ts'],
    ],
    topics.aggregates1m,
  );
  return minute.selectExpr(`explode(concat(passed, array(${minuteMessage}))) AS m`);
}

/** What crosses the shared exchange: the classified record; raw and key only for invalid ones (only the DLQ reads them). */
const SHARED_FIELDS = ['kafka_key', 'raw', 'source_topic', 'source_partition', 'source_offset', 'source_timestamp', 'r', 'reason'];

/**
 * Registers the classified source as a temporary view ending in one exchange (hash-partitioned by the
 * record's source coordinates, below), and returns a reader of it for each branch of the heavy query. Over Spark Connect every branch plans its own copy of
 * the source; through one view they share the source (one set of offsets) and their exchanges are
 * identical, so Spark's exchange reuse reads and parses the source ONCE per micro-batch and every branch
 * reads the shuffle (measured: 1 Kafka scan instead of 3). Two things keep the exchanges identical: the
 * record crosses as one struct (with nested-field pruning off in STREAM_CONF, no branch prunes it
 * differently), and each branch re-explodes it (a filter over a generator's output is not pushed below it).
 */
export async function sharedClassified(spark: SparkSession, o: StreamPipelineOptions, view: string): Promise<() => DataFrame> {
  const fields = SHARED_FIELDS.map(
    (f) => `'${f}', ${f === 'raw' || f === 'kafka_key' ? `CASE WHEN reason IS NULL THEN NULL ELSE ${f} END` : f}`,
  );
  await classifiedStream(spark, o)
    .selectExpr(`named_struct(${fields.join(', ')}) AS x`)
    // Hash-partitioned by the record's source coordinates (unique, so the partitions are even): a round-robin
    // exchange sorts every task's rows first (spark.sql.execution.sortBeforeRepartition) so that a retried
    // task sends each row where the first attempt did; a hash of the coordinates is deterministic by itself.
    .repartition(o.shufflePartitions ?? 2, 'x.source_partition', 'x.source_offset')
    .createOrReplaceTempView(view);
  return () => spark.table(view).selectExpr('explode(array(x)) AS x').selectExpr('x.*');
}

/**
 * The heavy query: reads and parses the source, classifies every record, aggregates the valid ones and
 * writes every result to Kafka through the per-row `topic` column, in append mode (windows leave when the
 * watermark closes them). Two branches over `classified` (the shared exchange of `sharedClassified`: one
 * source scan), each otherwise a straight line (over Spark Connect a DataFrame used twice is planned twice,
 * state included, so no aggregation here is used twice):
 *   invalid records ─► one DLQ message each (+ an out_of_bounds alert)                 (stateless)
 *   valid readings ─► 10 s windows (one aggregation) ─► per closed window: its sensor_aggregates message,
 *                     its final sensor_aggregates_live message, its zscore alerts        (posexplode)
 *                     ─► 1 min windows sliding by 10 s from the 10 s partials, the 10 s messages passing
 *                        through (chained aggregation) ─► internal topic, copied to Parquet
 */
export function heavyPlan(spark: SparkSession, o: StreamPipelineOptions, topics: OutputTopics, classified: () => DataFrame): DataFrame {
  const invalid = classified().filter('reason IS NOT NULL');
  const dlq = message(
    'kafka_key',
    ['raw', 'reason', 'source_topic', 'source_partition', 'source_offset', 'source_timestamp'].map((c): [string, string] => [c, c]),
    topics.dlq,
  );
  const oob = message(
    'r.sensor_id',
    [
      ['sensor_id', 'r.sensor_id'],
      ['rule', "'out_of_bounds'"],
      ['metric', "substring_index(reason, ':', -1)"],
      ['value', `CASE substring_index(reason, ':', -1) ${METRICS.map((m) => `WHEN '${m}' THEN r.${m}`).join(' ')} END`],
      ['ts', 'r.ts'],
      ['seq', 'r.seq'],
      ['zscore', 'CAST(NULL AS DOUBLE)'],
      ['window_start', 'CAST(NULL AS TIMESTAMP)'],
      ['window_end', 'CAST(NULL AS TIMESTAMP)'],
    ],
    topics.alerts,
  );
  const invalidMessages = invalid.selectExpr(
    `explode(CASE WHEN reason LIKE 'out_of_bounds:%' THEN array(${dlq}, ${oob}) ELSE array(${dlq}) END) AS m`,
  );
  const closedWindows = windowMessages(tenSecondWindows(validReadings(classified(), o.watermarkMs)), topics);
  return invalidMessages
    .unionByName(closedWindows)
    .selectExpr('m.key AS key', 'm.value AS value', 'm.topic AS topic', `${EMITTED_AT} AS headers`);
}

/**
 * The live query: running 10 s windows per sensor, every micro-batch's changed windows (update mode), final
 * false. It reads the source a second time but only keeps the valid readings (no classification, no DLQ).
 */
export function livePlan(spark: SparkSession, o: StreamPipelineOptions): DataFrame {
  const allValid = READING_FIELDS.map((f) => `r.${f.name} IS NOT NULL`)
    .concat(METRICS.map((m) => `r.${m} BETWEEN ${PHYSICAL_BOUNDS[m].min} AND ${PHYSICAL_BOUNDS[m].max}`))
    .join(' AND ');
  const reader = kafkaSource(spark, o.bootstrapServers, o.topic, o.startingOffsets, o.maxOffsetsPerTrigger);
  // Parsed once behind an explode, then filtered (see classifiedStream).
  const valid = reader
    .load()
    .selectExpr(`explode(array(from_json(CAST(value AS STRING), ${q(READING_SCHEMA_DDL)}))) AS r`)
    .filter(allValid)
    .selectExpr('r.*')
    .withColumn('event_time', expr('timestamp_millis(ts)'))
    .withWatermark('event_time', sparkInterval(o.watermarkMs));
  return asKafka(windowAggregates(valid, '10 seconds').withColumn('final', expr('false')), 'sensor_id', [
    ...AGGREGATE_COLUMNS,
    'last_event_ts',
    'final',
  ]);
}

/**
 * A light copy of one output topic to Parquet, exactly once: the Kafka sink is at least once (a replayed
 * batch writes its rows again), the Parquet sink is exactly once; in between, duplicates are dropped on the
 * natural key. The event time of the deduplication is the heavy batch's timestamp (EMITTED_AT_HEADER): the
 * same for a replayed batch, never decreasing from one batch to the next, so no original is ever late and a
 * duplicate is always still in the state (a replay is the last batch before a crash).
 */
export function copyPlan(
  spark: SparkSession,
  o: StreamPipelineOptions,
  name: ParquetCopy,
  topics: OutputTopics,
  startingOffsets: string,
): DataFrame {
  const topic = copySourceTopic(name, topics);
  const isAlert = name === 'alerts';
  const parsed = kafkaSource(spark, o.bootstrapServers, topic, startingOffsets)
    .option('includeHeaders', 'true')
    .load()
    .selectExpr(
      `from_json(CAST(value AS STRING), ${q(isAlert ? ALERT_SCHEMA_DDL : AGGREGATE_SCHEMA_DDL)}) AS m`,
      `timestamp_millis(CAST(CAST(filter(headers, h -> h.key = ${q(EMITTED_AT_HEADER)})[0].value AS STRING) AS BIGINT)) AS emitted_at`,
    )
    .selectExpr('m.*', 'emitted_at')
    .withWatermark('emitted_at', '1 minute');
  const key = isAlert ? ['rule', 'sensor_id', 'seq', 'metric'] : ['sensor_id', 'window_start'];
  const deduped = parsed.dropDuplicates([...key, 'emitted_at']);
  return isAlert ? deduped.selectExpr(...ALERT_COLUMNS) : deduped.selectExpr(...AGGREGATE_COLUMNS);
}

export interface StartedQueries {
  queries: Map<QueryName, StreamingQuery>;
  /** Query name on the server → our name. */
  names: Map<string, QueryName>;
}

export interface StartOptions {
  topics: OutputTopics;
  /** Per Parquet copy, the Kafka startingOffsets (JSON) for a new checkpoint: the topic's end before the heavy query first ran. */
  copyStartingOffsets: Record<ParquetCopy, string>;
  /** Start the live query (processing-time runs). */
  live: boolean;
  liveTrigger: Trigger;
  /** Trigger of the Parquet copies (default: the job's trigger). */
  copyTrigger?: Trigger;
  /** Session settings for the live query only (a query keeps the settings it started with). */
  liveConf?: Record<string, string>;
  /** Session settings for the Parquet copies (default SMALL_STATE_CONF). */
  copyConf?: Record<string, string>;
}

/**
 * The settings of the queries with small state, the live query and the Parquet copies (the open windows of
 * each sensor; the natural keys of the last minute's messages), whose every batch commits it: one state
 * partition (one task and one state file per batch instead of one per shuffle partition, each holding a task
 * slot while it loads and commits), and the HDFS-backed store (an in-memory map with a delta file per batch)
 * instead of RocksDB's checkpoint machinery, which pays for large state only. Measured at 10k readings/s: a
 * copy's batch of ~50 rows took 2.3–3 s with 8 RocksDB partitions, while the live query waited for slots.
 */
export const SMALL_STATE_CONF: Record<string, string> = {
  'spark.sql.shuffle.partitions': '1',
  // No batch without data: one would only evict expired state (dropDuplicates and update mode emit at once),
  // which the next batch with data does anyway. Measured: each copy ran one more batch (0.3-1.2 s) at the end
  // of an available-now run, and twice the batches in a processing-time run.
  'spark.sql.streaming.noDataMicroBatches.enabled': 'false',
  'spark.sql.streaming.stateStore.providerClass': 'org.apache.spark.sql.execution.streaming.state.HDFSBackedStateStoreProvider',
};

/**
 * Starts some of the queries (each with its own checkpoint directory under `checkpoint`), in the order given;
 * consecutive queries with the same session settings start together (a start is a server round trip of
 * analysis and setup: the three copies of an available-now run used to wait for each other's).
 */
export async function startQueries(
  spark: SparkSession,
  o: StreamPipelineOptions,
  s: StartOptions,
  which: readonly QueryName[],
  into: StartedQueries,
): Promise<void> {
  const confOf = (name: QueryName) =>
    name === 'live' ? (s.liveConf ?? SMALL_STATE_CONF) : name === 'kafka' ? undefined : (s.copyConf ?? SMALL_STATE_CONF);
  const groups: Array<{ conf: Record<string, string> | undefined; names: QueryName[] }> = [];
  for (const name of which) {
    const conf = confOf(name);
    const last = groups.at(-1);
    if (last && last.conf === conf) last.names.push(name);
    else groups.push({ conf, names: [name] });
  }
  for (const { conf, names } of groups) {
    const writers = await Promise.all(names.map((name) => queryWriter(spark, o, s, name)));
    const startAll = () => Promise.allSettled(writers.map((w) => w.start()));
    const results = conf ? await withSessionConf(spark, conf, startAll) : await startAll();
    // Those that started are recorded before a failure is thrown, so the caller stops them.
    results.forEach((r, i) => {
      if (r.status === 'rejected') return;
      into.queries.set(names[i]!, r.value);
      into.names.set(`${o.queryPrefix ?? 'stream'}_${names[i]!}`, names[i]!);
    });
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/** One query's plan and sink, ready to start. */
async function queryWriter(spark: SparkSession, o: StreamPipelineOptions, s: StartOptions, name: QueryName): Promise<DataStreamWriter> {
  const serverName = `${o.queryPrefix ?? 'stream'}_${name}`;
  let df: DataFrame;
  let mode: 'append' | 'update' = 'append';
  let trigger = o.trigger;
  let sink: 'kafka' | { parquet: string } = 'kafka';
  if (name === 'kafka') df = heavyPlan(spark, o, s.topics, await sharedClassified(spark, o, `${serverName}_classified`));
  else if (name === 'live') {
    df = livePlan(spark, o).selectExpr('key', 'value', `${q(s.topics.live)} AS topic`);
    mode = 'update';
    trigger = s.liveTrigger;
  } else {
    df = copyPlan(spark, o, name, s.topics, s.copyStartingOffsets[name]);
    sink = { parquet: path.join(o.output, name) };
    trigger = s.copyTrigger ?? o.trigger;
  }
  const w = df.writeStream
    .queryName(serverName)
    .outputMode(mode)
    .trigger(trigger)
    .option('checkpointLocation', path.join(o.checkpoint, name));
  return sink === 'kafka'
    ? w.format('kafka').option('kafka.bootstrap.servers', o.bootstrapServers).option('kafka.acks', 'all')
    : w.format('parquet').option('path', sink.parquet);
}

/** Runs `fn` with some session settings changed, then restores them (a query started inside keeps them). */
async function withSessionConf<T>(spark: SparkSession, conf: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const keys = Object.keys(conf);
  const before = await Promise.all(keys.map((k) => spark.conf.getOption(k)));
  await spark.conf.setAll(conf);
  try {
    return await fn();
  } finally {
    const restore = Object.fromEntries(keys.flatMap((k, i) => (before[i] === null ? [] : [[k, before[i]!]])));
    await Promise.all([
      Object.keys(restore).length ? spark.conf.setAll(restore) : undefined,
      ...keys.filter((_, i) => before[i] === null).map((k) => spark.conf.unset(k)),
    ]);
  }
}
