import type { Read } from './gen/spark/connect/Read';
import { stringOptions } from './plan';
import { type StructType, dataTypeToJson } from './types';
import { DataFrame } from './dataframe';
import type { SparkSession } from './session';

type OptionValue = string | number | boolean;

/** Shared by the batch and streaming readers: format, schema and options, then a Read relation. */
abstract class BaseReader<Self> {
  protected source?: string;
  protected userSchema?: string;
  protected readonly opts: Record<string, string> = {};

  constructor(
    protected readonly session: SparkSession,
    private readonly isStreaming: boolean,
  ) {}

  protected abstract self(): Self;

  format(source: string): Self {
    this.source = source;
    return this.self();
  }

  /** A DDL string (`'id INT, name STRING'`) or a StructType. No schema means the source infers one. */
  schema(schema: string | StructType): Self {
    this.userSchema = typeof schema === 'string' ? schema : dataTypeToJson(schema);
    return this.self();
  }

  option(key: string, value: OptionValue): Self {
    this.opts[key] = String(value);
    return this.self();
  }

  options(options: Record<string, OptionValue | undefined>): Self {
    Object.assign(this.opts, stringOptions(options));
    return this.self();
  }

  /** The Read relation for `paths` (pure); `predicates` only for JDBC (one partition each). */
  toProto(paths: string[], format = this.source, predicates: string[] = []): Read {
    return {
      data_source: {
        ...(format ? { format } : {}),
        ...(this.userSchema !== undefined ? { schema: this.userSchema } : {}),
        options: { ...this.opts },
        paths,
        predicates,
      },
      is_streaming: this.isStreaming,
    };
  }

  protected dataFrame(paths: string[], format?: string, predicates: string[] = []): DataFrame {
    return new DataFrame(this.session, this.session.newRelation({ read: this.toProto(paths, format ?? this.source, predicates) }));
  }

  protected tableFrame(name: string): DataFrame {
    return new DataFrame(
      this.session,
      this.session.newRelation({
        read: { named_table: { unparsed_identifier: name, options: { ...this.opts } }, is_streaming: this.isStreaming },
      }),
    );
  }
}

/** Connection properties of a JDBC source or sink (`user`, `password`, `driver`, `fetchsize`, ...). */
export type JdbcProperties = Record<string, OptionValue | undefined>;

/**
 * How `spark.read.jdbc` splits the table, as PySpark's keywords: by a numeric, date or timestamp
 * `column` into `numPartitions` strides between `lowerBound` and `upperBound` (the bounds only set the
 * strides; rows outside them are still read), or one partition per WHERE-clause in `predicates`.
 */
export type JdbcReadOptions = { properties?: JdbcProperties } & (
  | {
      column: string;
      lowerBound: number | bigint | string;
      upperBound: number | bigint | string;
      numPartitions: number;
      predicates?: undefined;
    }
  | { predicates: string[]; column?: undefined }
  | { column?: undefined; predicates?: undefined }
);

function pathList(path?: string | string[]): string[] {
  return path === undefined ? [] : typeof path === 'string' ? [path] : path;
}

/** `spark.read`: batch sources. */
export class DataFrameReader extends BaseReader<DataFrameReader> {
  constructor(session: SparkSession) {
    super(session, false);
  }
  protected self(): DataFrameReader {
    return this;
  }

  load(path?: string | string[]): DataFrame {
    return this.dataFrame(pathList(path));
  }
  csv(path: string | string[], options: Record<string, OptionValue | undefined> = {}): DataFrame {
    return this.options(options).dataFrame(pathList(path), 'csv');
  }
  json(path: string | string[], options: Record<string, OptionValue | undefined> = {}): DataFrame {
    return this.options(options).dataFrame(pathList(path), 'json');
  }
  parquet(...paths: string[]): DataFrame {
    return this.dataFrame(paths, 'parquet');
  }
  orc(...paths: string[]): DataFrame {
    return this.dataFrame(paths, 'orc');
  }
  text(path: string | string[]): DataFrame {
    return this.dataFrame(pathList(path), 'text');
  }
  table(name: string): DataFrame {
    return this.tableFrame(name);
  }

  /**
   * A database table (or a parenthesised query with an alias as `table`) over JDBC, like PySpark's
   * `spark.read.jdbc(url, table, column=, lowerBound=, upperBound=, numPartitions=, predicates=, properties=)`:
   *
   *   spark.read.jdbc('jdbc:postgresql://host:5432/db', 'public.orders', { properties: { user, password } })
   *   spark.read.jdbc(url, 'orders', { column: 'id', lowerBound: 1, upperBound: 1_000_000, numPartitions: 8, properties })
   *   spark.read.jdbc(url, 'orders', { predicates: ["region = 'eu'", "region = 'us'"], properties })
   *
   * The driver must be on the server's classpath (the embedded server has PostgreSQL's).
   */
  jdbc(url: string, table: string, options: JdbcReadOptions = {}): DataFrame {
    const { properties = {}, column, predicates } = options;
    if (column !== undefined && predicates !== undefined)
      throw new TypeError('jdbc: give either column partitioning or predicates, not both');
    this.format('jdbc');
    if (column !== undefined) {
      const { lowerBound, upperBound, numPartitions } = options as Extract<JdbcReadOptions, { column: string }>;
      if (lowerBound === undefined || upperBound === undefined || numPartitions === undefined) {
        throw new TypeError('jdbc: column partitioning needs lowerBound, upperBound and numPartitions');
      }
      this.options({ partitionColumn: column, lowerBound: String(lowerBound), upperBound: String(upperBound), numPartitions });
    }
    this.options(properties).options({ url, dbtable: table });
    return this.dataFrame([], 'jdbc', predicates ?? []);
  }
}

/** `spark.readStream`: streaming sources (kafka, rate, files, ...). */
export class DataStreamReader extends BaseReader<DataStreamReader> {
  constructor(session: SparkSession) {
    super(session, true);
  }
  protected self(): DataStreamReader {
    return this;
  }

  load(path?: string): DataFrame {
    return this.dataFrame(pathList(path));
  }
  csv(path: string, options: Record<string, OptionValue | undefined> = {}): DataFrame {
    return this.options(options).dataFrame([path], 'csv');
  }
  json(path: string, options: Record<string, OptionValue | undefined> = {}): DataFrame {
    return this.options(options).dataFrame([path], 'json');
  }
  parquet(path: string): DataFrame {
    return this.dataFrame([path], 'parquet');
  }
  text(path: string): DataFrame {
    return this.dataFrame([path], 'text');
  }
  table(name: string): DataFrame {
    return this.tableFrame(name);
  }
}
