/**
 * spark-ts's Spark Connect client: the one public entry.
 *
 *   import { SparkSession, functions as F, Window } from '../lib/connect';
 *   const spark = await SparkSession.builder().appName('demo').getOrCreate();   // remote(url), else SPARK_REMOTE
 *   const df = spark.read.option('header', true).csv('data.csv').where(F.col('x').gt(1));
 *   const rows = await df.groupBy('k').agg(F.avg('x').alias('avg_x')).orderBy('k').collect();
 *   await spark.stop();
 *
 * Shaped like PySpark in camelCase. Differences that JavaScript forces:
 * - actions and anything that asks the server are async (`await df.count()`, `await df.schema()`,
 *   `await spark.sql(...)` — SQL runs eagerly as in PySpark, so DDL takes effect);
 * - operators are methods: `col('a').plus(1).gt(col('b')).and(col('c').isNotNull())`;
 * - values are exact: LongType → bigint, DecimalType → Decimal, DateType → SparkDate, TimestampType →
 *   SparkTimestamp (microseconds), TimeType → SparkTime (nanoseconds of the day), GeometryType /
 *   GeographyType → SparkGeometry / SparkGeography (srid + WKB), BinaryType → Uint8Array; `toArrow()` gives
 *   an apache-arrow Table;
 * - every action takes `{ signal }` (an AbortSignal interrupts the operation on the server);
 * - `spark.on('progress', e => ...)` reports execution progress, `spark.on('reattach', ...)` resumed streams.
 *
 * Plans are pure: a DataFrame's `relation` is the Spark Connect proto, built with no server. Unit tests
 * use `SparkSession.builder().withClient(new RecordingClient()).create()` (lib/connect/testing) and
 * assert on the recorded plans, or answer queries with `respondWithRows(rows, schema)`.
 */
import * as functions from './functions';

export {
  SparkSession,
  SparkSessionBuilder,
  RuntimeConfig,
  Catalog,
  defaultRemote,
  type CatalogTable,
  type CatalogDatabase,
  type CatalogColumn,
  type CatalogFunction,
} from './session';
export {
  DataFrame,
  GroupedData,
  DataFrameNaFunctions,
  DataFrameStatFunctions,
  type ActionOptions,
  type ExplainMode,
  type JoinType,
  type FillValue,
} from './dataframe';
export { Column, type ColumnOrName, type ColumnOrLiteral } from './column';
export { functions };
export { Window, WindowSpec } from './window';
export { DataFrameReader, DataStreamReader, type JdbcReadOptions, type JdbcProperties } from './reader';
export { DataFrameWriter, DataFrameWriterV2, DataStreamWriter, type SaveMode, type OutputMode, type Trigger } from './writer';
export {
  StreamingQuery,
  StreamingQueryManager,
  type StreamingQueryStatus,
  type StreamingQueryProgress,
  type StreamingQueryListener,
  type QueryStartedEvent,
  type QueryProgressEvent,
  type QueryIdleEvent,
  type QueryTerminatedEvent,
} from './streaming';
export { StorageLevel } from './storage-level';
export { Observation } from './observation';
export { LogisticRegression, LogisticRegressionModel, VectorAssembler, type LogisticRegressionParams } from './ml';
export type { LiteralValue } from './plan';

// Values, types and Arrow (the results layer).
export {
  Decimal,
  SparkDate,
  SparkTimestamp,
  SparkTime,
  SparkGeometry,
  SparkGeography,
  type SparkValue,
  type CalendarInterval,
} from './values';
export type { Row } from './arrow';
export type { LazyRow, ResultColumn, ResultColumns, TypedValues } from './results';
export * as types from './types';
export type { DataType, StructType, StructField } from './types';

// Connection, client and errors.
export {
  SparkConnectClient,
  type ExecutionClient,
  type ExecutionProgressEvent,
  type ExecuteOptions,
  type ClientRetryOptions,
} from './client';
export {
  DEFAULT_RETRY_POLICY,
  FIRST_CONNECT_RETRY_POLICY,
  isRetryableError,
  retryDelayMs,
  backoffMs,
  sleep,
  type RetryPolicy,
  type RetryEvent,
} from './retry';
export { isStaticSetting } from './static-settings';
export { parseConnectUrl, describeEndpoint, connectionIdentity, InvalidUrlError, type ConnectionOptions } from './url';
export {
  SparkConnectError,
  AnalysisException,
  ParseException,
  StreamingQueryException,
  IllegalArgumentException,
  ArithmeticException,
  SparkRuntimeException,
  OperationInterruptedError,
  ConnectionError,
  AuthenticationError,
  DateTimeException,
  UnsupportedOperationException,
  SessionChangedError,
  formatSparkError,
  type QueryContext,
  type SparkErrorCause,
} from './errors';
