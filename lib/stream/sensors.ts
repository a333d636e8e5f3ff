/**
 * The sensor reading contract shared by the producer, the Spark job, the live view and the tests: the JSON
 * value's fields, the physical bounds that make a reading invalid, and the alert rules, all kept as data.
 */

/** One reading, as the producer sends it (the Kafka value is this object as JSON; the key is sensor_id). */
export interface SensorReading {
  sensor_id: string;
  site: string;
  /** Event time, epoch milliseconds. */
  ts: number;
  temperature: number;
  humidity: number;
  pressure: number;
  battery: number;
  seq: number;
}

export type ReadingField = keyof SensorReading;

/** Field → Spark SQL type of the explicit schema the job parses values with (the order is the JSON order). */
export const READING_FIELDS: ReadonlyArray<{ name: ReadingField; sparkType: 'string' | 'bigint' | 'double' }> = [
  { name: 'sensor_id', sparkType: 'string' },
  { name: 'site', sparkType: 'string' },
  { name: 'ts', sparkType: 'bigint' },
  { name: 'temperature', sparkType: 'double' },
  { name: 'humidity', sparkType: 'double' },
  { name: 'pressure', sparkType: 'double' },
  { name: 'battery', sparkType: 'double' },
  { name: 'seq', sparkType: 'bigint' },
];

/** The DDL schema string for from_json. */
export const READING_SCHEMA_DDL = READING_FIELDS.map((f) => `${f.name} ${f.sparkType.toUpperCase()}`).join(', ');

export type Metric = 'temperature' | 'humidity' | 'pressure' | 'battery';

/**
 * Physical bounds, inclusive: a reading outside them is impossible for the hardware (a common industrial
 * temperature/humidity/barometric sensor), so it is invalid (DLQ, reason out_of_bounds:<metric>) and also
 * raises an out_of_bounds alert.
 */
export const PHYSICAL_BOUNDS: Readonly<Record<Metric, { min: number; max: number; unit: string }>> = {
  temperature: { min: -40, max: 85, unit: '°C' },
  humidity: { min: 0, max: 100, unit: '%' },
  pressure: { min: 300, max: 1100, unit: 'hPa' },
  battery: { min: 0, max: 100, unit: '%' },
};

/**
 * z-score alert rules: a reading whose |z| against the other readings of its sensor in the same 10 s tumbling
 * window is above `threshold`. The standard deviation is floored at `stddevFloor` (about a few sensor
 * resolution steps) so that a perfectly flat window cannot turn a rounding step into an alert.
 */
export const ZSCORE_RULES: ReadonlyArray<{ metric: Exclude<Metric, 'battery'>; threshold: number; stddevFloor: number }> = [
  { metric: 'temperature', threshold: 3, stddevFloor: 0.5 },
  { metric: 'humidity', threshold: 3, stddevFloor: 2.5 },
  { metric: 'pressure', threshold: 3, stddevFloor: 1 },
];

/** Minimum readings in a window (the reading itself included) before a z-score is defined. */
export const ZSCORE_MIN_READINGS = 3;

/** DLQ reasons; a reason may carry the field or metric after a colon (missing_field:ts, out_of_bounds:humidity). */
export type DlqReasonKind = 'not_json' | 'missing_field' | 'wrong_type' | 'out_of_bounds';

/** Topic names the issue pins. */
export const TOPICS = {
  data: 'sensor_data',
  dlq: 'sensor_data_dlq',
  aggregates: 'sensor_aggregates',
  alerts: 'sensor_alerts',
  live: 'sensor_aggregates_live',
} as const;

/** The pinned columns of aggregates_10s (Parquet) and of the JSON rows in sensor_aggregates. */
export const AGGREGATE_COLUMNS = [
  'sensor_id',
  'window_start',
  'window_end',
  'readings',
  'temperature_avg',
  'temperature_min',
  'temperature_max',
  'temperature_stddev',
  'humidity_avg',
  'pressure_avg',
] as const;

/** The figures of one sensor's window, shared by the Kafka messages and the tests' expected rows. */
export interface AggregateFigures {
  sensor_id: string;
  readings: number;
  temperature_avg: number;
  temperature_min: number;
  temperature_max: number;
  temperature_stddev: number | null;
  humidity_avg: number;
  pressure_avg: number;
}

/** A sensor_aggregates message value (the pinned columns; timestamps as ISO strings, plus the latest event time). */
export interface AggregateMessage extends AggregateFigures {
  window_start: string;
  window_end: string;
  /** Epoch ms of the latest reading in the window: the start of the end-to-end latency. */
  last_event_ts: number;
}

/** A sensor_aggregates_live message value: the running (final false) or closed (final true) window. */
export interface LiveAggregateMessage extends AggregateMessage {
  final: boolean;
}

/** A sensor_alerts message value. */
export interface AlertMessage {
  sensor_id: string;
  /** out_of_bounds | zscore */
  rule: string;
  metric: string;
  value: number;
  /** Event time of the reading, epoch ms. */
  ts: number;
  seq: number;
  zscore: number | null;
  window_start: string | null;
  window_end: string | null;
}
