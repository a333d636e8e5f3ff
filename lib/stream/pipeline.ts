import path from 'node:path';
import { functions, type DataFrame, type SparkSession, type StreamingQuery, type Trigger } from '../connect';
import { AGGREGATE_COLUMNS, PHYSICAL_BOUNDS, READING_FIELDS, READING_SCHEMA_DDL, TOPICS, ZSCORE_MIN_READINGS, ZSCORE_RULES, type Metric } from './sensors';
import { sparkInterval } from './rate';

const { col, expr, from_json, window } = functions;

/**
 * The streaming pipeline, entirely in Spark: every transformation below is a Spark plan; Node only builds
 * the plans and starts the queries.
 *
 *   Kafka (sensor_data) ─► parse with the explicit schema ─► classify
 *     ├─ invalid (not_json, missing_field:<f>, wrong_type:<f>, out_of_bounds:<m>) ─► DLQ rows
 *     └─ valid ─► watermark ─┬─ tumbling 10 s per sensor ─► Parquet aggregates_10s  +  aggregate rows
 *                            ├─ sliding 1 min / 10 s    ─► Parquet aggregates_1m
 *                            └─ 10 s window z-scores ─┐
 *     out_of_bounds readings (stateless) ─────────────┴─► Parquet alerts  +  alert rows
 *   DLQ rows + aggregate rows + alert rows ─► one Kafka query (each row names its topic:
 *     sensor_data_dlq, sensor_aggregates, sensor_alerts)
 *
 * Four queries, each with its own checkpoint: kafka, aggregates_10s, aggregates_1m, alerts. The Parquet
 * sinks are exactly once (the file sink's commit log); the Kafka sink is at least once (Spark's Kafka sink
 * is not transactional): after a crash mid-batch, a batch may be written twice — the DLQ rows carry their
 * source partition and offset, and aggregates their (sensor_id, window_start), so readers can deduplicate.
 *
 * Alerts. `out_of_bounds`: a reading outside PHYSICAL_BOUNDS (raised at once, late or not). `zscore`: for a
 * valid reading x of a sensor in its 10 s tumbling window with n ≥ 3 readings, z = (x − mean₋ₓ) /
 * max(sd₋ₓ, floor), where mean₋ₓ and sd₋ₓ (sample) are those of the window's other n − 1 readings
 * (leave-one-out: with x included |z| can never exceed (n−1)/√n, so one spike among 10 readings could never
 * reach 3). The window is collected by a streaming aggregation (count, mean, variance and the list of
 * readings); the leave-one-out statistics follow from the window's own mean and variance with Welford's
 * removal formula, M2₋ₓ = M2 − (x − mean)(x − mean₋ₓ), so one aggregation gives every reading its z (no
 * self-join). An alert is emitted when the window closes (the watermark passes its end), like the aggregates.
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
  topics?: { dlq: string; aggregates: string; alerts: string };
  /** Kafka source rate limit per micro-batch (maxOffsetsPerTrigger). */
  maxOffsetsPerTrigger?: number;
  /** Prefix of the query names (unique per run when several jobs share a server). */
  queryPrefix?: string;
}

export const QUERY_NAMES = ['kafka', 'aggregates_10s', 'aggregates_1m', 'alerts'] as const;
export type QueryName = (typeof QUERY_NAMES)[number];

const METRICS = Object.keys(PHYSICAL_BOUNDS) as Metric[];
const q = (s: string) => `'${s.replace(/'/g, "\\'")}'`;

/** SQL: the reason a parsed record is invalid, or NULL when it is valid. Checks run only for invalid rows. */
export function invalidReasonSql(): string {
  const allPresent = READING_FIELDS.map((f) => `r.${f.name} IS NOT NULL`).join(' AND ');
  const inBounds = METRICS.map((m) => `r.${m} BETWEEN ${PHYSICAL_BOUNDS[m].min} AND ${PHYSICAL_BOUNDS[m].max}`).join(' AND ');
  const missing = READING_FIELDS.map((f) => `WHEN get_json_object(raw, '$.${f.name}') IS NULL THEN 'missing_field:${f.name}'`);
  // A present field the explicit schema cannot read as its type (parsed alone, so one bad field names itself).
  const wrongType = READING_FIELDS.map((f) => `WHEN from_json(raw, '${f.name} ${f.sparkType.toUpperCase()}').${f.name} IS NULL THEN 'wrong_type:${f.name}'`);
  const outOfBounds = METRICS.map((m) => `WHEN NOT (r.${m} BETWEEN ${PHYSICAL_BOUNDS[m].min} AND ${PHYSICAL_BOUNDS[m].max}) THEN 'out_of_bounds:${m}'`);
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

/** The Kafka source, parsed and classified: raw, reason (NULL if valid), r (the parsed struct), source coordinates. */
export function classifiedStream(spark: SparkSession, o: StreamPipelineOptions): DataFrame {
  let reader = spark.readStream
    .format('kafka')
    .option('kafka.bootstrap.servers', o.bootstrapServers)
    .option('subscribe', o.topic)
    .option('startingOffsets', o.startingOffsets)
    // A topic deleted or truncated under a running query is reported, not silently skipped.
    .option('failOnDataLoss', 'true');
  if (o.maxOffsetsPerTrigger) reader = reader.option('maxOffsetsPerTrigger', o.maxOffsetsPerTrigger);
  return reader
    .load()
    .selectExpr('CAST(key AS STRING) AS kafka_key', 'CAST(value AS STRING) AS raw', 'topic AS source_topic', 'partition AS source_partition', 'offset AS source_offset', 'timestamp AS source_timestamp')
    .withColumn('r', from_json(col('raw'), READING_SCHEMA_DDL))
    .withColumn('reason', expr(invalidReasonSql()));
}

/** Valid readings with their event time, watermarked. */
export function validReadings(classified: DataFrame, watermarkMs: number): DataFrame {
  return classified
    .filter('reason IS NULL')
    .selectExpr('r.*')
    .withColumn('event_time', expr('timestamp_millis(ts)'))
    .withWatermark('event_time', sparkInterval(watermarkMs));
}

/** Per-sensor window aggregates with the pinned columns (plus last_event_ts, the latest reading's event time). */
export function windowAggregates(valid: DataFrame, windowDuration: string, slideDuration?: string): DataFrame {
  return valid
    .groupBy(window(col('event_time'), windowDuration, slideDuration).alias('window'), col('sensor_id'))
    .agg(
      expr('count(*)').alias('readings'),
      expr('avg(temperature)').alias('temperature_avg'),
      expr('min(temperature)').alias('temperature_min'),
      expr('max(temperature)').alias('temperature_max'),
      expr('stddev_samp(temperature)').alias('temperature_stddev'),
      expr('avg(humidity)').alias('humidity_avg'),
      expr('avg(pressure)').alias('pressure_avg'),
      expr('max(ts)').alias('last_event_ts'),
    )
    // The pinned columns in their pinned order; the window bounds come out of the window struct.
    .selectExpr(...AGGREGATE_COLUMNS.map((c) => (c === 'window_start' ? 'window.start AS window_start' : c === 'window_end' ? 'window.end AS window_end' : c)), 'last_event_ts');
}

const ALERT_COLUMNS = ['sensor_id', 'rule', 'metric', 'value', 'ts', 'seq', 'zscore', 'window_start', 'window_end'];

/** zscore alerts (see the header): per 10 s window, each valid reading against the window's other readings. */
export function zscoreAlerts(valid: DataFrame): DataFrame {
  const stats = ZSCORE_RULES.flatMap((r) => [expr(`avg(${r.metric})`).alias(`${r.metric}_mean`), expr(`coalesce(var_samp(${r.metric}), 0D)`).alias(`${r.metric}_var`)]);
  const perReading = ZSCORE_RULES.map((r) => {
    const x = `reading.${r.metric}`;
    const mean = `${r.metric}_mean`;
    const meanLoo = `((n * ${mean} - ${x}) / (n - 1))`;
    const m2Loo = `(${r.metric}_var * (n - 1) - (${x} - ${mean}) * (${x} - ${meanLoo}))`;
    const sdLoo = `sqrt(greatest(${m2Loo} / (n - 2), 0D))`;
    return `named_struct('metric', '${r.metric}', 'value', ${x}, 'z', (${x} - ${meanLoo}) / greatest(${sdLoo}, ${r.stddevFloor}D), 'threshold', ${r.threshold}D)`;
  });
  return valid
    .groupBy(window(col('event_time'), '10 seconds').alias('window'), col('sensor_id'))
    .agg(expr('count(*)').alias('n'), ...stats, expr('collect_list(named_struct(\'ts\', ts, \'seq\', seq, ' + ZSCORE_RULES.map((r) => `'${r.metric}', ${r.metric}`).join(', ') + '))').alias('window_readings'))
    .filter(`n >= ${ZSCORE_MIN_READINGS}`)
    .selectExpr('sensor_id', 'window', 'n', ...ZSCORE_RULES.flatMap((r) => [`${r.metric}_mean`, `${r.metric}_var`]), 'explode(window_readings) AS reading')
    .selectExpr('sensor_id', 'window', 'reading', `explode(array(${perReading.join(', ')})) AS check`)
    .filter('abs(check.z) > check.threshold')
    .selectExpr(
      'sensor_id',
      "'zscore' AS rule",
      'check.metric AS metric',
      'check.value AS value',
      'reading.ts AS ts',
      'reading.seq AS seq',
      'check.z AS zscore',
      'window.start AS window_start',
      'window.end AS window_end',
    );
}

/** out_of_bounds alerts: stateless, straight from the classified records. */
export function outOfBoundsAlerts(classified: DataFrame): DataFrame {
  return classified
    .filter("reason LIKE 'out_of_bounds:%'")
    .selectExpr(
      'r.sensor_id AS sensor_id',
      "'out_of_bounds' AS rule",
      "substring_index(reason, ':', -1) AS metric",
      `CASE substring_index(reason, ':', -1) ${METRICS.map((m) => `WHEN '${m}' THEN r.${m}`).join(' ')} END AS value`,
      'r.ts AS ts',
      'r.seq AS seq',
      'CAST(NULL AS DOUBLE) AS zscore',
      'CAST(NULL AS TIMESTAMP) AS window_start',
      'CAST(NULL AS TIMESTAMP) AS window_end',
    );
}

/** Rows to a Kafka sink: key sensor_id, value the row as JSON. */
function asKafka(df: DataFrame, keyColumn: string, columns: string[]): DataFrame {
  return df.selectExpr(`CAST(${keyColumn} AS STRING) AS key`, `to_json(named_struct(${columns.map((c) => `${q(c)}, ${c}`).join(', ')})) AS value`);
}

export interface StartedQueries {
  queries: Map<QueryName, StreamingQuery>;
  /** Query name on the server → our name. */
  names: Map<string, QueryName>;
}

/** Builds the plans and starts the four queries (each with its own checkpoint directory under `checkpoint`). */
export async function startStreamPipeline(spark: SparkSession, o: StreamPipelineOptions): Promise<StartedQueries> {
  const topics = o.topics ?? { dlq: TOPICS.dlq, aggregates: TOPICS.aggregates, alerts: TOPICS.alerts };
  const classified = classifiedStream(spark, o);
  const valid = validReadings(classified, o.watermarkMs);
  const agg10 = windowAggregates(valid, '10 seconds');
  const agg1m = windowAggregates(valid, '1 minute', '10 seconds');
  const alerts = outOfBoundsAlerts(classified).unionByName(zscoreAlerts(valid));
  const pinned = [...AGGREGATE_COLUMNS];
  const dlq = classified
    .filter('reason IS NOT NULL')
    .selectExpr(
      'kafka_key AS key',
      "to_json(named_struct('raw', raw, 'reason', reason, 'source_topic', source_topic, 'source_partition', source_partition, 'source_offset', source_offset, 'source_timestamp', source_timestamp)) AS value",
    );

  // One query writes every Kafka output (DLQ, aggregates, alerts): each row names its topic. Four queries
  // instead of six: each query reads the source and schedules its own micro-batches, and on a small
  // machine that overhead, not the data, dominates.
  const toKafka = dlq
    .selectExpr('key', 'value', `${q(topics.dlq)} AS topic`)
    .unionByName(asKafka(agg10, 'sensor_id', [...pinned, 'last_event_ts']).selectExpr('key', 'value', `${q(topics.aggregates)} AS topic`))
    .unionByName(asKafka(alerts, 'sensor_id', ALERT_COLUMNS).selectExpr('key', 'value', `${q(topics.alerts)} AS topic`));
  const plans: Array<{ name: QueryName; df: DataFrame; sink: 'kafka' | { parquet: string } }> = [
    { name: 'kafka', df: toKafka, sink: 'kafka' },
    { name: 'aggregates_10s', df: agg10.selectExpr(...pinned), sink: { parquet: path.join(o.output, 'aggregates_10s') } },
    { name: 'aggregates_1m', df: agg1m.selectExpr(...pinned), sink: { parquet: path.join(o.output, 'aggregates_1m') } },
    { name: 'alerts', df: alerts, sink: { parquet: path.join(o.output, 'alerts') } },
  ];
  const started: StartedQueries = { queries: new Map(), names: new Map() };
  try {
    for (const p of plans) {
      const serverName = `${o.queryPrefix ?? 'stream'}_${p.name}`;
      let w = p.df.writeStream
        .queryName(serverName)
        .outputMode('append')
        .trigger(o.trigger)
        .option('checkpointLocation', path.join(o.checkpoint, p.name));
      if (p.sink === 'kafka') {
        w = w.format('kafka').option('kafka.bootstrap.servers', o.bootstrapServers).option('kafka.acks', 'all');
      } else {
        w = w.format('parquet').option('path', p.sink.parquet);
      }
      const query = await w.start();
      started.queries.set(p.name, query);
      started.names.set(serverName, p.name);
    }
  } catch (e) {
    // Do not leave half a pipeline running.
    await Promise.allSettled([...started.queries.values()].map((query) => query.stop()));
    throw e;
  }
  return started;
}
