import { defineJob, UsageError } from '../lib/cli/job';
import { ensureCdcSourceServers } from '../lib/cli/servers';
import { DEFAULT_SOURCE_TABLE, captureTable, checkTableName } from '../lib/cdc/postgres-source';
import { loadCheckedCustomerRows } from './cdc-produce';
import { DEFAULT_CUSTOMERS_INPUT } from '../lib/cdc/defaults';

interface SourceArgs extends Record<string, unknown> {
  input: string;
  table: string;
}

export default defineJob<SourceArgs>({
  name: 'cdc-source',
  description:
    'CDC source: load the preprocessed customers into PostgreSQL public.<table> and capture it with Debezium (topic spark_ts.public.<table>)',
  needs: ['spark'],
  options: {
    input: { type: 'string', default: DEFAULT_CUSTOMERS_INPUT, describe: 'preprocessed customers (Parquet, from the preprocess job)' },
    table: {
      type: 'string',
      default: DEFAULT_SOURCE_TABLE,
      describe: 'table in the spark_ts database (replaced, with its connector, slot and topic)',
    },
  },
  parse(args) {
    const problem = checkTableName(args.table);
    return problem ? new UsageError(problem) : args;
  },
  async run(spark, args, ctx) {
    const input = ctx.resolvePath(args.input);
    const rows = await loadCheckedCustomerRows(spark, input);
    const servers = await ensureCdcSourceServers(ctx.log);
    const r = await captureTable({
      pg: servers.postgres,
      connectUrl: servers.connect.url,
      bootstrapServers: servers.kafka.bootstrap_servers,
      table: args.table,
      rows,
      signal: ctx.signal,
      log: ctx.log,
    });
    ctx.log(
      `cdc-source: snapshot of ${r.rows} rows in ${r.topic} after ${(r.elapsed_ms / 1000).toFixed(1)} s; connector ${r.connector} keeps capturing public.${args.table}`,
    );
    console.log(r.topic);
    return 0;
  },
});
