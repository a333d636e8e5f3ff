import { defineJob, UsageError } from '../lib/cli/job';
import { countProgress } from '../lib/cli/count-progress';
import { startPostgres } from '../lib/runtime/postgres';
import { DEFAULT_SOURCE_TABLE, checkTableName } from '../lib/cdc/postgres-source';
import { runWorkload } from '../lib/cdc/postgres-workload';
import { DEFAULT_SEED } from '../lib/cdc/defaults';

interface WorkloadArgs extends Record<string, unknown> {
  table: string;
  updates: number;
  seed: number;
}

export default defineJob<WorkloadArgs>({
  name: 'cdc-workload',
  description:
    'CDC workload: real INSERT / UPDATE / DELETE transactions on the PostgreSQL table (the cdc-produce mix), captured by Debezium',
  needs: [],
  options: {
    table: { type: 'string', default: DEFAULT_SOURCE_TABLE, describe: 'table in the spark_ts database (loaded by cdc-source)' },
    updates: { type: 'number', describe: 'changes to make (inserts + updates + deletes); required' },
    seed: { type: 'number', default: DEFAULT_SEED, describe: 'seed: the same table and seed give the same SQL' },
  },
  parse(args) {
    if (args.updates === undefined) return new UsageError('--updates N is required');
    if (!(Number.isInteger(args.updates) && args.updates >= 0))
      return new UsageError(`--updates must be a non-negative integer, got ${args.updates}`);
    if (!Number.isInteger(args.seed)) return new UsageError(`--seed must be an integer, got ${args.seed}`);
    const problem = checkTableName(args.table);
    return problem ? new UsageError(problem) : args;
  },
  async run(_spark, args, ctx) {
    const { state } = await startPostgres();
    const progress = countProgress({
      interactive: ctx.interactive,
      total: args.updates,
      label: 'cdc-workload',
      format: 'cdc-workload [{bar}] {value}/{total} changes | {eta_formatted} left',
      log: ctx.log,
      plain: (n) => `cdc-workload: ${n}/${args.updates} changes`,
    });
    const s = await runWorkload({
      url: state.url,
      table: args.table,
      updates: args.updates,
      seed: args.seed,
      signal: ctx.signal,
      onProgress: (n) => progress.update(n, {}),
    });
    progress.stop();
    ctx.log(
      `cdc-workload: ${s.inserts} inserts, ${s.updates} updates, ${s.deletes} deletes in ${s.transactions} transactions on public.${args.table} in ${(s.elapsed_ms / 1000).toFixed(1)} s${s.interrupted ? ' (interrupted)' : ''}`,
    );
    return s.interrupted ? 130 : 0;
  },
});
