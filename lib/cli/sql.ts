import Table from 'cli-table3';
import { stringify } from 'csv-stringify/sync';
import { SparkSession } from '../connect';
import { JsonNumber, jsonText, rowToJsonLine, toJsonValue } from '../connect/json';
import type { StructType } from '../connect/types';
import type { SparkValue } from '../connect/values';
import { rowKeys } from '../connect/arrow';
import { acquireSpark, type SparkTarget } from './acquire';
import { UsageError } from './job';
import { describeFailure, exitCodeFor, processIo, type Io } from './output';
import { resolveSettings } from './settings';
import { ProgressReporter } from './progress';
import { signalExitCode, trapSignals, withTimeout } from './shutdown';

export interface SqlOptions {
  query: string;
  format: 'table' | 'json' | 'csv';
  maxRows?: number;
  remote?: string;
  conf: string[];
  propertiesFile?: string;
  verbose: boolean;
  /** Show Spark execution progress on stderr (default true). */
  progress?: boolean;
}

/** A value as one table or CSV cell: strings as they are, everything else in its --json form. */
export function cellText(v: SparkValue, dataType?: StructType['fields'][number]['dataType']): string | null {
  const j = toJsonValue(v, dataType);
  if (j === null) return null;
  if (typeof j === 'string') return j;
  if (j instanceof JsonNumber) return j.text;
  return jsonText(j);
}

/** `spark-ts sql "<query>"`: the result as a table, JSON Lines (the --json contract) or CSV. */
export async function sql(opts: SqlOptions, io: Io = processIo): Promise<number> {
  const progress = new ProgressReporter({ stream: process.stderr, interactive: Boolean(process.stderr.isTTY) });
  const say = (line: string) => progress.log(`spark-ts: ${line}`);
  const controller = new AbortController();
  let spark: SparkSession | undefined;
  let target: SparkTarget | undefined;
  const trap = trapSignals(
    () => {
      controller.abort();
      if (spark) void spark.interruptAll().catch(() => undefined);
    },
    (sig) => process.exit(signalExitCode(sig)),
  );
  try {
    if (opts.maxRows !== undefined && !(Number.isInteger(opts.maxRows) && opts.maxRows >= 0)) {
      throw new UsageError(`--max-rows must be a non-negative integer, got ${opts.maxRows}`);
    }
    if (!opts.query.trim()) throw new UsageError('sql needs a query: spark-ts sql "SELECT ..."');
    const settings = resolveSettings({ conf: opts.conf, propertiesFile: opts.propertiesFile });
    target = await acquireSpark({ remote: opts.remote ?? process.env.SPARK_REMOTE, settings, log: say, purpose: 'for the query' });
    spark = await SparkSession.builder().remote(target.url).appName('spark-ts-sql').config(settings.session).getOrCreate();
    if (opts.progress !== false) spark.on('progress', progress.onProgress);
    const signal = controller.signal;
    const t0 = Date.now();
    const df = await spark.sql(opts.query, undefined, { signal });
    const schema = await df.schema();
    const limited = opts.maxRows === undefined ? df : df.limit(opts.maxRows + 1);
    let n = 0;
    let truncated = false;
    const rows: Array<Record<string, SparkValue>> = [];
    const columns = schema.fields.map((f) => f.name);
    // Rows key repeated column names apart (a, a_2, ...): read each field under its own key.
    const keys = rowKeys(columns);
    const cells = (row: Record<string, SparkValue>) => schema.fields.map((f, i) => cellText(row[keys[i]], f.dataType));
    if (opts.format === 'csv' && columns.length) io.out(stringify([columns]).trimEnd());
    if (columns.length) {
      for await (const row of limited.toLocalIterator({ signal })) {
        if (n === 0) progress.stop(); // rows are coming: the bar is done, and must not draw over them
        if (opts.maxRows !== undefined && n >= opts.maxRows) {
          truncated = true;
          break;
        }
        n++;
        if (opts.format === 'json') io.out(rowToJsonLine(row, schema));
        else if (opts.format === 'csv') io.out(stringify([cells(row)]).trimEnd());
        else rows.push(row);
      }
    }
    progress.stop();
    if (opts.format === 'table') {
      if (columns.length) {
        const table = new Table({ head: columns, style: { head: [], border: [] } });
        for (const row of rows) table.push(cells(row).map((c) => c ?? 'NULL'));
        io.out(table.toString());
      }
      say(
        `${n} row${n === 1 ? '' : 's'}${truncated ? ` (stopped at --max-rows ${opts.maxRows})` : ''} in ${((Date.now() - t0) / 1000).toFixed(2)}s`,
      );
    } else if (truncated) {
      say(`stopped at --max-rows ${opts.maxRows}: the result has more rows`);
    }
    return trap.signal ? signalExitCode(trap.signal) : 0;
  } catch (err) {
    if (trap.signal) return signalExitCode(trap.signal);
    io.err(`spark-ts: ${describeFailure(err, opts.verbose)}`);
    return exitCodeFor(err);
  } finally {
    progress.stop();
    trap.dispose();
    if (spark)
      await withTimeout(
        spark.stop().catch(() => undefined),
        5000,
      );
    await target?.release();
  }
}
