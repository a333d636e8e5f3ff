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

  constructor(protected readonly session: SparkSession, private readonly isStreaming: boolean) {}

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

  /** The Read relation for `paths` (pure). */
  toProto(paths: string[], format = this.source): Read {
    return {
      data_source: {
        ...(format ? { format } : {}),
        ...(this.userSchema !== undefined ? { schema: this.userSchema } : {}),
        options: { ...this.opts },
        paths,
        predicates: [],
      },
      is_streaming: this.isStreaming,
    };
  }

  protected dataFrame(paths: string[], format?: string): DataFrame {
    return new DataFrame(this.session, this.session.newRelation({ read: this.toProto(paths, format ?? this.source) }));
  }

  protected tableFrame(name: string): DataFrame {
    return new DataFrame(
      this.session,
      this.session.newRelation({ read: { named_table: { unparsed_identifier: name, options: { ...this.opts } }, is_streaming: this.isStreaming } }),
    );
  }
}

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
