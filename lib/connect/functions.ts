/**
 * Spark SQL functions, named exactly as in PySpark (`pyspark.sql.functions`). Import as a namespace:
 * `import { functions as F } from './lib/connect'` then `F.col('x')`, `F.when(...)`, `F.to_date(...)`.
 * Arguments named `col` take a Column or a column name; value arguments take a Column or a literal.
 */
import { Column, type ColumnOrLiteral, type ColumnOrName, colExpr, toColumnExpr, toExpr } from './column';
import { fn, literalExpr, sqlExpression, type LiteralValue } from './plan';
import type { DataType } from './types';
import type { DataFrame } from './dataframe';
import { parseableTypeString } from './types';
import { flat } from './args';

function call(name: string, ...args: ColumnOrName[]): Column {
  return new Column(fn(name, args.map(toColumnExpr)));
}

// ---- basics ----
export function col(name: string): Column {
  return new Column(colExpr(name));
}
export const column = col;
/** A literal; a JS array becomes an array column (`lit([1, 2])` is `array(lit(1), lit(2))`), as in PySpark. */
export function lit(value: LiteralValue | Column | Array<LiteralValue | Column>): Column {
  if (value instanceof Column) return value;
  if (Array.isArray(value))
    return new Column(
      fn(
        'array',
        value.map((v) => lit(v).expr),
      ),
    );
  return new Column(literalExpr(value));
}
/** A SQL expression string, parsed by the server (`expr('a + 1 AS b')`). */
export function expr(sql: string): Column {
  return new Column(sqlExpression(sql));
}
export function when(condition: Column, value: ColumnOrLiteral): Column {
  return new Column(fn('when', [condition.expr, toExpr(value)]));
}
export function asc(c: ColumnOrName): Column {
  return new Column(toColumnExpr(c)).asc();
}
export function desc(c: ColumnOrName): Column {
  return new Column(toColumnExpr(c)).desc();
}
export function asc_nulls_last(c: ColumnOrName): Column {
  return new Column(toColumnExpr(c)).asc_nulls_last();
}
export function desc_nulls_first(c: ColumnOrName): Column {
  return new Column(toColumnExpr(c)).desc_nulls_first();
}
/** Marks a DataFrame as small enough to broadcast in a join (the `broadcast` hint). */
export function broadcast(df: DataFrame): DataFrame {
  return df.hint('broadcast');
}

// ---- strings ----
export const lower = (c: ColumnOrName): Column => call('lower', c);
export const upper = (c: ColumnOrName): Column => call('upper', c);
export const trim = (c: ColumnOrName): Column => call('trim', c);
export const ltrim = (c: ColumnOrName): Column => call('ltrim', c);
export const rtrim = (c: ColumnOrName): Column => call('rtrim', c);
export const length = (c: ColumnOrName): Column => call('length', c);
export const initcap = (c: ColumnOrName): Column => call('initcap', c);
/** 1-based `pos`, as in SQL. */
export function substring(c: ColumnOrName, pos: number | Column, len: number | Column): Column {
  return new Column(fn('substring', [toColumnExpr(c), toExpr(pos), toExpr(len)]));
}
export function concat(...cols: Array<ColumnOrName | ColumnOrName[]>): Column {
  return call('concat', ...flat(cols));
}
export function concat_ws(sep: string, ...cols: Array<ColumnOrName | ColumnOrName[]>): Column {
  return new Column(fn('concat_ws', [literalExpr(sep), ...flat(cols).map(toColumnExpr)]));
}
export function regexp_replace(c: ColumnOrName, pattern: string | Column, replacement: string | Column): Column {
  return new Column(fn('regexp_replace', [toColumnExpr(c), toExpr(pattern), toExpr(replacement)]));
}
export function regexp_extract(c: ColumnOrName, pattern: string, idx: number): Column {
  return new Column(fn('regexp_extract', [toColumnExpr(c), literalExpr(pattern), literalExpr(idx)]));
}
export function split(c: ColumnOrName, pattern: string, limit = -1): Column {
  return new Column(fn('split', [toColumnExpr(c), literalExpr(pattern), literalExpr(limit)]));
}
export function format_string(format: string, ...cols: ColumnOrName[]): Column {
  return new Column(fn('format_string', [literalExpr(format), ...cols.map(toColumnExpr)]));
}
export function lpad(c: ColumnOrName, len: number, pad: string): Column {
  return new Column(fn('lpad', [toColumnExpr(c), literalExpr(len), literalExpr(pad)]));
}
export function rpad(c: ColumnOrName, len: number, pad: string): Column {
  return new Column(fn('rpad', [toColumnExpr(c), literalExpr(len), literalExpr(pad)]));
}
export function instr(c: ColumnOrName, substr: string): Column {
  return new Column(fn('instr', [toColumnExpr(c), literalExpr(substr)]));
}
export function translate(c: ColumnOrName, matching: string, replace: string): Column {
  return new Column(fn('translate', [toColumnExpr(c), literalExpr(matching), literalExpr(replace)]));
}
export const base64 = (c: ColumnOrName): Column => call('base64', c);
export const unbase64 = (c: ColumnOrName): Column => call('unbase64', c);
export const levenshtein = (a: ColumnOrName, b: ColumnOrName): Column => call('levenshtein', a, b);
export const sha1 = (c: ColumnOrName): Column => call('sha1', c);
export const crc32 = (c: ColumnOrName): Column => call('crc32', c);
export const sha2 = (c: ColumnOrName, numBits: number): Column => new Column(fn('sha2', [toColumnExpr(c), literalExpr(numBits)]));
export const md5 = (c: ColumnOrName): Column => call('md5', c);
export const hash = (...cols: ColumnOrName[]): Column => call('hash', ...cols);
export const xxhash64 = (...cols: ColumnOrName[]): Column => call('xxhash64', ...cols);

// ---- dates and times ----
export function to_date(c: ColumnOrName, format?: string): Column {
  return new Column(fn('to_date', format === undefined ? [toColumnExpr(c)] : [toColumnExpr(c), literalExpr(format)]));
}
export function to_timestamp(c: ColumnOrName, format?: string): Column {
  return new Column(fn('to_timestamp', format === undefined ? [toColumnExpr(c)] : [toColumnExpr(c), literalExpr(format)]));
}
export function date_format(c: ColumnOrName, format: string): Column {
  return new Column(fn('date_format', [toColumnExpr(c), literalExpr(format)]));
}
export const datediff = (end: ColumnOrName, start: ColumnOrName): Column => call('datediff', end, start);
export function months_between(date1: ColumnOrName, date2: ColumnOrName, roundOff = true): Column {
  return new Column(fn('months_between', [toColumnExpr(date1), toColumnExpr(date2), literalExpr(roundOff)]));
}
export function date_add(start: ColumnOrName, days: number | Column): Column {
  return new Column(fn('date_add', [toColumnExpr(start), toExpr(days)]));
}
export function date_sub(start: ColumnOrName, days: number | Column): Column {
  return new Column(fn('date_sub', [toColumnExpr(start), toExpr(days)]));
}
export function add_months(start: ColumnOrName, months: number | Column): Column {
  return new Column(fn('add_months', [toColumnExpr(start), toExpr(months)]));
}
export const year = (c: ColumnOrName): Column => call('year', c);
export const month = (c: ColumnOrName): Column => call('month', c);
export const dayofmonth = (c: ColumnOrName): Column => call('dayofmonth', c);
export const dayofweek = (c: ColumnOrName): Column => call('dayofweek', c);
export const dayofyear = (c: ColumnOrName): Column => call('dayofyear', c);
export const hour = (c: ColumnOrName): Column => call('hour', c);
export const minute = (c: ColumnOrName): Column => call('minute', c);
export const second = (c: ColumnOrName): Column => call('second', c);
export const current_date = (): Column => call('current_date');
export const current_timestamp = (): Column => call('current_timestamp');
export const unix_timestamp = (c: ColumnOrName, format = 'yyyy-MM-dd HH:mm:ss'): Column =>
  new Column(fn('unix_timestamp', [toColumnExpr(c), literalExpr(format)]));
export const timestamp_millis = (c: ColumnOrName): Column => call('timestamp_millis', c);
export const timestamp_seconds = (c: ColumnOrName): Column => call('timestamp_seconds', c);
export const unix_millis = (c: ColumnOrName): Column => call('unix_millis', c);
export function date_trunc(format: string, c: ColumnOrName): Column {
  return new Column(fn('date_trunc', [literalExpr(format), toColumnExpr(c)]));
}
/** Tumbling (`slideDuration` omitted) or sliding event-time windows: a struct column `{start, end}`. */
export function window(timeColumn: ColumnOrName, windowDuration: string, slideDuration?: string, startTime?: string): Column {
  const args = [toColumnExpr(timeColumn), literalExpr(windowDuration)];
  if (slideDuration !== undefined || startTime !== undefined) args.push(literalExpr(slideDuration ?? windowDuration));
  if (startTime !== undefined) args.push(literalExpr(startTime));
  return new Column(fn('window', args));
}

export function from_unixtime(c: ColumnOrName, format = 'yyyy-MM-dd HH:mm:ss'): Column {
  return new Column(fn('from_unixtime', [toColumnExpr(c), literalExpr(format)]));
}
export function to_utc_timestamp(c: ColumnOrName, tz: string | Column): Column {
  return new Column(fn('to_utc_timestamp', [toColumnExpr(c), toExpr(tz)]));
}
export function from_utc_timestamp(c: ColumnOrName, tz: string | Column): Column {
  return new Column(fn('from_utc_timestamp', [toColumnExpr(c), toExpr(tz)]));
}
export const weekofyear = (c: ColumnOrName): Column => call('weekofyear', c);
export const quarter = (c: ColumnOrName): Column => call('quarter', c);
export const last_day = (c: ColumnOrName): Column => call('last_day', c);
export function trunc(c: ColumnOrName, format: string): Column {
  return new Column(fn('trunc', [toColumnExpr(c), literalExpr(format)]));
}
export function make_date(year: ColumnOrName, month: ColumnOrName, day: ColumnOrName): Column {
  return call('make_date', year, month, day);
}

// ---- math ----
export function round(c: ColumnOrName, scale = 0): Column {
  return new Column(fn('round', [toColumnExpr(c), literalExpr(scale)]));
}
export function bround(c: ColumnOrName, scale = 0): Column {
  return new Column(fn('bround', [toColumnExpr(c), literalExpr(scale)]));
}
export const abs = (c: ColumnOrName): Column => call('abs', c);
export const sqrt = (c: ColumnOrName): Column => call('sqrt', c);
export const exp = (c: ColumnOrName): Column => call('exp', c);
export const floor = (c: ColumnOrName): Column => call('floor', c);
export const ceil = (c: ColumnOrName): Column => call('ceil', c);
export const signum = (c: ColumnOrName): Column => call('signum', c);
export const log10 = (c: ColumnOrName): Column => call('log10', c);
export const log1p = (c: ColumnOrName): Column => call('log1p', c);
/** `log(col)` is the natural log; `log(base, col)` as in PySpark. */
export function log(arg1: ColumnOrName | number, arg2?: ColumnOrName): Column {
  if (arg2 === undefined) return call('ln', arg1 as ColumnOrName);
  return new Column(fn('log', [literalExpr(arg1 as number), toColumnExpr(arg2)]));
}
export function pow(base: ColumnOrName | number, exponent: ColumnOrName | number): Column {
  const e = (v: ColumnOrName | number) => (typeof v === 'number' ? literalExpr(v) : toColumnExpr(v));
  return new Column(fn('power', [e(base), e(exponent)]));
}
export const greatest = (...cols: ColumnOrName[]): Column => call('greatest', ...cols);
export const least = (...cols: ColumnOrName[]): Column => call('least', ...cols);
export function rand(seed?: number): Column {
  return new Column(fn('rand', seed === undefined ? [] : [literalExpr(seed)]));
}
export function randn(seed?: number): Column {
  return new Column(fn('randn', seed === undefined ? [] : [literalExpr(seed)]));
}
export const monotonically_increasing_id = (): Column => call('monotonically_increasing_id');
export const spark_partition_id = (): Column => call('spark_partition_id');

// ---- aggregates ----
export const count = (c: ColumnOrName): Column => call('count', c === '*' ? lit(1) : c);
export function countDistinct(c: ColumnOrName, ...cols: ColumnOrName[]): Column {
  return new Column(fn('count', [c, ...cols].map(toColumnExpr), true));
}
export const count_distinct = countDistinct;
export function approx_count_distinct(c: ColumnOrName, rsd?: number): Column {
  return new Column(fn('approx_count_distinct', rsd === undefined ? [toColumnExpr(c)] : [toColumnExpr(c), literalExpr(rsd)]));
}
export const sum = (c: ColumnOrName): Column => call('sum', c);
export function sum_distinct(c: ColumnOrName): Column {
  return new Column(fn('sum', [toColumnExpr(c)], true));
}
export const avg = (c: ColumnOrName): Column => call('avg', c);
// Spark's own alias: the column is named mean(x), as PySpark's F.mean gives it.
export const mean = (c: ColumnOrName): Column => call('mean', c);
export const min = (c: ColumnOrName): Column => call('min', c);
export const max = (c: ColumnOrName): Column => call('max', c);
export const stddev = (c: ColumnOrName): Column => call('stddev', c);
export const stddev_samp = (c: ColumnOrName): Column => call('stddev_samp', c);
export const stddev_pop = (c: ColumnOrName): Column => call('stddev_pop', c);
export const variance = (c: ColumnOrName): Column => call('variance', c);
export const var_samp = (c: ColumnOrName): Column => call('var_samp', c);
export const var_pop = (c: ColumnOrName): Column => call('var_pop', c);
export const corr = (a: ColumnOrName, b: ColumnOrName): Column => call('corr', a, b);
export const covar_samp = (a: ColumnOrName, b: ColumnOrName): Column => call('covar_samp', a, b);
export const skewness = (c: ColumnOrName): Column => call('skewness', c);
export const kurtosis = (c: ColumnOrName): Column => call('kurtosis', c);
export function percentile_approx(c: ColumnOrName, percentage: number | number[], accuracy = 10000): Column {
  const p = Array.isArray(percentage)
    ? fn(
        'array',
        percentage.map((v) => literalExpr(v)),
      )
    : literalExpr(percentage);
  return new Column(fn('percentile_approx', [toColumnExpr(c), p, literalExpr(accuracy)]));
}
export function percentile(c: ColumnOrName, percentage: number | number[]): Column {
  const p = Array.isArray(percentage)
    ? fn(
        'array',
        percentage.map((v) => literalExpr(v)),
      )
    : literalExpr(percentage);
  return new Column(fn('percentile', [toColumnExpr(c), p]));
}
export const median = (c: ColumnOrName): Column => call('median', c);
export const mode = (c: ColumnOrName): Column => call('mode', c);
export function first(c: ColumnOrName, ignorenulls = false): Column {
  return new Column(fn('first', [toColumnExpr(c), literalExpr(ignorenulls)]));
}
export function last(c: ColumnOrName, ignorenulls = false): Column {
  return new Column(fn('last', [toColumnExpr(c), literalExpr(ignorenulls)]));
}
export const collect_list = (c: ColumnOrName): Column => call('collect_list', c);
export const collect_set = (c: ColumnOrName): Column => call('collect_set', c);
export const any_value = (c: ColumnOrName): Column => call('any_value', c);
export const max_by = (c: ColumnOrName, ord: ColumnOrName): Column => call('max_by', c, ord);
export const min_by = (c: ColumnOrName, ord: ColumnOrName): Column => call('min_by', c, ord);
export const bool_and = (c: ColumnOrName): Column => call('bool_and', c);
export const bool_or = (c: ColumnOrName): Column => call('bool_or', c);

// ---- windows ----
export const row_number = (): Column => call('row_number');
export const rank = (): Column => call('rank');
export const dense_rank = (): Column => call('dense_rank');
export const percent_rank = (): Column => call('percent_rank');
export const cume_dist = (): Column => call('cume_dist');
export const ntile = (n: number): Column => new Column(fn('ntile', [literalExpr(n)]));
export function lag(c: ColumnOrName, offset = 1, defaultValue?: LiteralValue): Column {
  const args = [toColumnExpr(c), literalExpr(offset)];
  if (defaultValue !== undefined) args.push(literalExpr(defaultValue));
  return new Column(fn('lag', args));
}
export function lead(c: ColumnOrName, offset = 1, defaultValue?: LiteralValue): Column {
  const args = [toColumnExpr(c), literalExpr(offset)];
  if (defaultValue !== undefined) args.push(literalExpr(defaultValue));
  return new Column(fn('lead', args));
}

// ---- JSON and structs ----
/** Parses a JSON string column with a schema given as DDL (`'a INT, b STRING'`) or a DataType. */
export function from_json(c: ColumnOrName, schema: string | DataType | Column, options?: Record<string, string>): Column {
  const schemaExpr = schema instanceof Column ? schema.expr : literalExpr(typeof schema === 'string' ? schema : ddlOf(schema));
  const args = [toColumnExpr(c), schemaExpr];
  if (options && Object.keys(options).length) args.push(optionsMap(options));
  return new Column(fn('from_json', args));
}
export function to_json(c: ColumnOrName, options?: Record<string, string>): Column {
  const args = [toColumnExpr(c)];
  if (options && Object.keys(options).length) args.push(optionsMap(options));
  return new Column(fn('to_json', args));
}
export function get_json_object(c: ColumnOrName, path: string): Column {
  return new Column(fn('get_json_object', [toColumnExpr(c), literalExpr(path)]));
}
export function json_tuple(c: ColumnOrName, ...fields: string[]): Column {
  return new Column(fn('json_tuple', [toColumnExpr(c), ...fields.map((f) => literalExpr(f))]));
}
export function struct(...cols: Array<ColumnOrName | ColumnOrName[]>): Column {
  return call('struct', ...flat(cols));
}
/** `named_struct('a', col('x'), 'b', lit(1))`: names are strings, values are columns or literals. */
export function named_struct(...namesAndValues: Array<string | Column>): Column {
  if (namesAndValues.length % 2 !== 0) throw new TypeError('named_struct() takes name/value pairs');
  const args = namesAndValues.map((v, i) => (i % 2 === 0 ? literalExpr(v as string) : toColumnExpr(v)));
  return new Column(fn('named_struct', args));
}
export function array(...cols: Array<ColumnOrName | ColumnOrName[]>): Column {
  return call('array', ...flat(cols));
}
export const create_map = (...cols: ColumnOrName[]): Column => call('map', ...cols);
export const explode = (c: ColumnOrName): Column => call('explode', c);
export const explode_outer = (c: ColumnOrName): Column => call('explode_outer', c);
export const size = (c: ColumnOrName): Column => call('size', c);
export const posexplode = (c: ColumnOrName): Column => call('posexplode', c);
export const flatten = (c: ColumnOrName): Column => call('flatten', c);
export const array_distinct = (c: ColumnOrName): Column => call('array_distinct', c);
export const map_keys = (c: ColumnOrName): Column => call('map_keys', c);
export const map_values = (c: ColumnOrName): Column => call('map_values', c);
export function sort_array(c: ColumnOrName, asc = true): Column {
  return new Column(fn('sort_array', [toColumnExpr(c), literalExpr(asc)]));
}
export function array_join(c: ColumnOrName, delimiter: string, nullReplacement?: string): Column {
  const args = [toColumnExpr(c), literalExpr(delimiter)];
  if (nullReplacement !== undefined) args.push(literalExpr(nullReplacement));
  return new Column(fn('array_join', args));
}
export function array_contains(c: ColumnOrName, value: ColumnOrLiteral): Column {
  return new Column(fn('array_contains', [toColumnExpr(c), toExpr(value)]));
}
export function element_at(c: ColumnOrName, extraction: ColumnOrLiteral): Column {
  return new Column(fn('element_at', [toColumnExpr(c), toExpr(extraction)]));
}

// ---- nulls and NaN ----
export const coalesce = (...cols: ColumnOrName[]): Column => call('coalesce', ...cols);
export const isnan = (c: ColumnOrName): Column => call('isnan', c);
export const isnull = (c: ColumnOrName): Column => call('isnull', c);
export const isnotnull = (c: ColumnOrName): Column => call('isnotnull', c);
export const nanvl = (a: ColumnOrName, b: ColumnOrName): Column => call('nanvl', a, b);
export const ifnull = (a: ColumnOrName, b: ColumnOrName): Column => call('ifnull', a, b);
export const nullif = (a: ColumnOrName, b: ColumnOrName): Column => call('nullif', a, b);
export const nvl = (a: ColumnOrName, b: ColumnOrName): Column => call('nvl', a, b);

// ---- misc ----
export const count_if = (c: ColumnOrName): Column => call('count_if', c);
export const input_file_name = (): Column => call('input_file_name');
export const uuid = (): Column => call('uuid');
const typeof_ = (c: ColumnOrName): Column => call('typeof', c);
/** `F.typeof(col)`: the SQL type name of each value (`typeof` is a JS keyword, hence the export alias). */
export { typeof_ as typeof };
export function try_divide(a: ColumnOrName, b: ColumnOrName): Column {
  return call('try_divide', a, b);
}

function optionsMap(options: Record<string, string>): Column['expr'] {
  return fn(
    'map',
    Object.entries(options).flatMap(([k, v]) => [literalExpr(k), literalExpr(v)]),
  );
}

function ddlOf(dt: DataType): string {
  // Quoted field names, so that names with spaces or keywords parse back on the server.
  return parseableTypeString(dt);
}

// ---- any function by name ----
/**
 * Calls any Spark SQL function by name — built-in (`'levenshtein'`), qualified (`'system.builtin.abs'`) or a
 * function registered in the catalog — so functions this module has no wrapper for are still reachable.
 * String arguments are column names, as everywhere here; pass `lit('text')` for a string value.
 */
export function callFunction(name: string, ...cols: ColumnOrName[]): Column {
  if (!name.trim()) throw new TypeError('callFunction: the function name is empty');
  return new Column({ call_function: { function_name: name, arguments: cols.map(toColumnExpr) } });
}
export const call_function = callFunction;

// ---- higher-order functions with JS lambdas ----
let lambdaVariables = 0;

/**
 * A JS function over Columns as a Spark lambda: `(x) => x.plus(1)` becomes `x_1 -> x_1 + 1`. The JS
 * function runs once, here, to build the expression; it never runs on the data.
 */
function lambda(f: (...args: Column[]) => Column, arity: number): Column['expr'] {
  const names = Array.from({ length: arity }, (_, i) => `${'xyzw'[i] ?? 'v'}_${++lambdaVariables}`);
  const body = f(...names.map((n) => new Column({ unresolved_named_lambda_variable: { name_parts: [n] } })));
  if (!(body instanceof Column)) throw new TypeError('a lambda must return a Column (e.g. x => x.plus(1))');
  return { lambda_function: { function: body.expr, arguments: names.map((n) => ({ name_parts: [n] })) } };
}

function arityOf(f: Function, allowed: number[], what: string): number {
  const n = f.length === 0 ? allowed[0]! : f.length;
  if (!allowed.includes(n)) throw new TypeError(`${what}: the lambda takes ${allowed.join(' or ')} arguments, not ${f.length}`);
  return n;
}

/** `transform(arr, x => …)` or `(x, i) => …` (i: the index). */
export function transform(c: ColumnOrName, f: (x: Column, i: Column) => Column): Column {
  return new Column(fn('transform', [toColumnExpr(c), lambda(f as (...a: Column[]) => Column, arityOf(f, [1, 2], 'transform'))]));
}
/** `filter(arr, x => …)` or `(x, i) => …`. */
export function filter(c: ColumnOrName, f: (x: Column, i: Column) => Column): Column {
  return new Column(fn('filter', [toColumnExpr(c), lambda(f as (...a: Column[]) => Column, arityOf(f, [1, 2], 'filter'))]));
}
export function exists(c: ColumnOrName, f: (x: Column) => Column): Column {
  return new Column(fn('exists', [toColumnExpr(c), lambda(f, 1)]));
}
export function forall(c: ColumnOrName, f: (x: Column) => Column): Column {
  return new Column(fn('forall', [toColumnExpr(c), lambda(f, 1)]));
}
/** `aggregate(arr, zero, (acc, x) => …, acc => …)`: folds the array; the optional finish maps the result. */
export function aggregate(
  c: ColumnOrName,
  initialValue: ColumnOrLiteral,
  merge: (acc: Column, x: Column) => Column,
  finish?: (acc: Column) => Column,
): Column {
  const args = [toColumnExpr(c), toExpr(initialValue), lambda(merge as (...a: Column[]) => Column, 2)];
  if (finish) args.push(lambda(finish, 1));
  return new Column(fn('aggregate', args));
}
export const reduce = aggregate;
export function zip_with(left: ColumnOrName, right: ColumnOrName, f: (x: Column, y: Column) => Column): Column {
  return new Column(fn('zip_with', [toColumnExpr(left), toColumnExpr(right), lambda(f as (...a: Column[]) => Column, 2)]));
}
export function map_filter(c: ColumnOrName, f: (k: Column, v: Column) => Column): Column {
  return new Column(fn('map_filter', [toColumnExpr(c), lambda(f as (...a: Column[]) => Column, 2)]));
}
export function transform_values(c: ColumnOrName, f: (k: Column, v: Column) => Column): Column {
  return new Column(fn('transform_values', [toColumnExpr(c), lambda(f as (...a: Column[]) => Column, 2)]));
}
export function transform_keys(c: ColumnOrName, f: (k: Column, v: Column) => Column): Column {
  return new Column(fn('transform_keys', [toColumnExpr(c), lambda(f as (...a: Column[]) => Column, 2)]));
}
export function map_zip_with(left: ColumnOrName, right: ColumnOrName, f: (k: Column, v1: Column, v2: Column) => Column): Column {
  return new Column(fn('map_zip_with', [toColumnExpr(left), toColumnExpr(right), lambda(f as (...a: Column[]) => Column, 3)]));
}

// ---- partition transforms, only meaningful in `df.writeTo(t).partitionedBy(...)` (as in PySpark)
export const years = (c: ColumnOrName): Column => call('years', c);
export const months = (c: ColumnOrName): Column => call('months', c);
export const days = (c: ColumnOrName): Column => call('days', c);
export const hours = (c: ColumnOrName): Column => call('hours', c);
/** The `bucket(numBuckets, col)` partition transform. */
export function bucket(numBuckets: number | Column, c: ColumnOrName): Column {
  return new Column(fn('bucket', [toExpr(numBuckets), toColumnExpr(c)]));
}

// ---- more of PySpark's functions whose arguments are all columns (the SQL function of the same name)
export const acos = (c: ColumnOrName): Column => call('acos', c);
export const acosh = (c: ColumnOrName): Column => call('acosh', c);
export const asin = (c: ColumnOrName): Column => call('asin', c);
export const asinh = (c: ColumnOrName): Column => call('asinh', c);
export const atan = (c: ColumnOrName): Column => call('atan', c);
export const atanh = (c: ColumnOrName): Column => call('atanh', c);
export const cos = (c: ColumnOrName): Column => call('cos', c);
export const cosh = (c: ColumnOrName): Column => call('cosh', c);
export const cot = (c: ColumnOrName): Column => call('cot', c);
export const csc = (c: ColumnOrName): Column => call('csc', c);
export const sec = (c: ColumnOrName): Column => call('sec', c);
export const sin = (c: ColumnOrName): Column => call('sin', c);
export const sinh = (c: ColumnOrName): Column => call('sinh', c);
export const tan = (c: ColumnOrName): Column => call('tan', c);
export const tanh = (c: ColumnOrName): Column => call('tanh', c);
export const cbrt = (c: ColumnOrName): Column => call('cbrt', c);
export const degrees = (c: ColumnOrName): Column => call('degrees', c);
export const radians = (c: ColumnOrName): Column => call('radians', c);
export const expm1 = (c: ColumnOrName): Column => call('expm1', c);
export const log2 = (c: ColumnOrName): Column => call('log2', c);
export const ln = (c: ColumnOrName): Column => call('ln', c);
export const factorial = (c: ColumnOrName): Column => call('factorial', c);
export const hex = (c: ColumnOrName): Column => call('hex', c);
export const unhex = (c: ColumnOrName): Column => call('unhex', c);
export const bin = (c: ColumnOrName): Column => call('bin', c);
export const ascii = (c: ColumnOrName): Column => call('ascii', c);
export const reverse = (c: ColumnOrName): Column => call('reverse', c);
export const soundex = (c: ColumnOrName): Column => call('soundex', c);
export const bit_length = (c: ColumnOrName): Column => call('bit_length', c);
export const octet_length = (c: ColumnOrName): Column => call('octet_length', c);
export const char_length = (c: ColumnOrName): Column => call('char_length', c);
export const character_length = (c: ColumnOrName): Column => call('character_length', c);
export const ucase = (c: ColumnOrName): Column => call('ucase', c);
export const lcase = (c: ColumnOrName): Column => call('lcase', c);
export const array_max = (c: ColumnOrName): Column => call('array_max', c);
export const array_min = (c: ColumnOrName): Column => call('array_min', c);
export const array_compact = (c: ColumnOrName): Column => call('array_compact', c);
export const array_size = (c: ColumnOrName): Column => call('array_size', c);
export const cardinality = (c: ColumnOrName): Column => call('cardinality', c);
export const shuffle = (c: ColumnOrName): Column => call('shuffle', c);
export const map_entries = (c: ColumnOrName): Column => call('map_entries', c);
export const map_from_entries = (c: ColumnOrName): Column => call('map_from_entries', c);
export const inline = (c: ColumnOrName): Column => call('inline', c);
export const inline_outer = (c: ColumnOrName): Column => call('inline_outer', c);
export const posexplode_outer = (c: ColumnOrName): Column => call('posexplode_outer', c);
export const sha = (c: ColumnOrName): Column => call('sha', c);
/** `~col` (PySpark's bitwise_not). */
export const bitwise_not = (c: ColumnOrName): Column => call('~', c);
export const bit_count = (c: ColumnOrName): Column => call('bit_count', c);
export const unix_seconds = (c: ColumnOrName): Column => call('unix_seconds', c);
export const unix_micros = (c: ColumnOrName): Column => call('unix_micros', c);
export const unix_date = (c: ColumnOrName): Column => call('unix_date', c);
export const timestamp_micros = (c: ColumnOrName): Column => call('timestamp_micros', c);
export const date_from_unix_date = (c: ColumnOrName): Column => call('date_from_unix_date', c);
export const weekday = (c: ColumnOrName): Column => call('weekday', c);
export const parse_json = (c: ColumnOrName): Column => call('parse_json', c);
export const try_parse_json = (c: ColumnOrName): Column => call('try_parse_json', c);
export const is_variant_null = (c: ColumnOrName): Column => call('is_variant_null', c);
export const schema_of_variant = (c: ColumnOrName): Column => call('schema_of_variant', c);
export const json_array_length = (c: ColumnOrName): Column => call('json_array_length', c);
export const json_object_keys = (c: ColumnOrName): Column => call('json_object_keys', c);
export const every = (c: ColumnOrName): Column => call('every', c);
export const some = (c: ColumnOrName): Column => call('some', c);
export const bit_and = (c: ColumnOrName): Column => call('bit_and', c);
export const bit_or = (c: ColumnOrName): Column => call('bit_or', c);
export const bit_xor = (c: ColumnOrName): Column => call('bit_xor', c);
export const std = (c: ColumnOrName): Column => call('std', c);
export const e = (): Column => call('e');
export const pi = (): Column => call('pi');
export const current_timezone = (): Column => call('current_timezone');
export const current_catalog = (): Column => call('current_catalog');
export const current_database = (): Column => call('current_database');
export const current_schema = (): Column => call('current_schema');
export const current_user = (): Column => call('current_user');
export const version = (): Column => call('version');
export const localtimestamp = (): Column => call('localtimestamp');
export const atan2 = (a: ColumnOrName, b: ColumnOrName): Column => call('atan2', a, b);
export const hypot = (a: ColumnOrName, b: ColumnOrName): Column => call('hypot', a, b);
export const pmod = (a: ColumnOrName, b: ColumnOrName): Column => call('pmod', a, b);
export const array_union = (a: ColumnOrName, b: ColumnOrName): Column => call('array_union', a, b);
export const array_intersect = (a: ColumnOrName, b: ColumnOrName): Column => call('array_intersect', a, b);
export const array_except = (a: ColumnOrName, b: ColumnOrName): Column => call('array_except', a, b);
export const arrays_overlap = (a: ColumnOrName, b: ColumnOrName): Column => call('arrays_overlap', a, b);
export const map_from_arrays = (a: ColumnOrName, b: ColumnOrName): Column => call('map_from_arrays', a, b);
export const map_contains_key = (a: ColumnOrName, b: ColumnOrName): Column => call('map_contains_key', a, b);
export const equal_null = (a: ColumnOrName, b: ColumnOrName): Column => call('equal_null', a, b);
export const try_add = (a: ColumnOrName, b: ColumnOrName): Column => call('try_add', a, b);
export const try_subtract = (a: ColumnOrName, b: ColumnOrName): Column => call('try_subtract', a, b);
export const try_multiply = (a: ColumnOrName, b: ColumnOrName): Column => call('try_multiply', a, b);
export const try_mod = (a: ColumnOrName, b: ColumnOrName): Column => call('try_mod', a, b);
export const try_element_at = (a: ColumnOrName, b: ColumnOrName): Column => call('try_element_at', a, b);
export const startswith = (a: ColumnOrName, b: ColumnOrName): Column => call('startswith', a, b);
export const endswith = (a: ColumnOrName, b: ColumnOrName): Column => call('endswith', a, b);
export const contains = (a: ColumnOrName, b: ColumnOrName): Column => call('contains', a, b);
export const left = (a: ColumnOrName, b: ColumnOrName): Column => call('left', a, b);
export const right = (a: ColumnOrName, b: ColumnOrName): Column => call('right', a, b);
export const regexp_like = (a: ColumnOrName, b: ColumnOrName): Column => call('regexp_like', a, b);
export const regexp_count = (a: ColumnOrName, b: ColumnOrName): Column => call('regexp_count', a, b);
export const regexp_substr = (a: ColumnOrName, b: ColumnOrName): Column => call('regexp_substr', a, b);
export const find_in_set = (a: ColumnOrName, b: ColumnOrName): Column => call('find_in_set', a, b);
export const covar_pop = (a: ColumnOrName, b: ColumnOrName): Column => call('covar_pop', a, b);
export const regr_avgx = (a: ColumnOrName, b: ColumnOrName): Column => call('regr_avgx', a, b);
export const regr_avgy = (a: ColumnOrName, b: ColumnOrName): Column => call('regr_avgy', a, b);
export const regr_count = (a: ColumnOrName, b: ColumnOrName): Column => call('regr_count', a, b);
export const regr_intercept = (a: ColumnOrName, b: ColumnOrName): Column => call('regr_intercept', a, b);
export const regr_r2 = (a: ColumnOrName, b: ColumnOrName): Column => call('regr_r2', a, b);
export const regr_slope = (a: ColumnOrName, b: ColumnOrName): Column => call('regr_slope', a, b);
export const regr_sxx = (a: ColumnOrName, b: ColumnOrName): Column => call('regr_sxx', a, b);
export const regr_sxy = (a: ColumnOrName, b: ColumnOrName): Column => call('regr_sxy', a, b);
export const regr_syy = (a: ColumnOrName, b: ColumnOrName): Column => call('regr_syy', a, b);
export const nvl2 = (a: ColumnOrName, b: ColumnOrName, c: ColumnOrName): Column => call('nvl2', a, b, c);
export const map_concat = (...cols: Array<ColumnOrName | ColumnOrName[]>): Column => call('map_concat', ...flat(cols));
export const arrays_zip = (...cols: Array<ColumnOrName | ColumnOrName[]>): Column => call('arrays_zip', ...flat(cols));
