import * as fs from 'node:fs';
import { defineJob, JobInputError } from '../lib/cli/job';
import { DEFAULT_TOPIC } from '../lib/cdc/consumer';
import { DEFAULT_SOURCE_TABLE, checkTableName, deleteTopics, topicFor } from '../lib/cdc/postgres-source';
import produceJob from './cdc-produce';
import sourceJob from './cdc-source';
import workloadJob from './cdc-workload';
import consumeJob from './cdc-consume';
import verifyJob from './cdc-verify';
import { DEFAULT_CUSTOMERS_INPUT, DEFAULT_STATE_DIR, DEFAULT_MODEL_REPORT, DEFAULT_LAMBDA, DEFAULT_SEED } from '../lib/cdc/defaults';

interface DemoArgs extends Record<string, unknown> {
  input: string;
  updates: number;
  seed: number;
  topic: string;
  'state-dir': string;
  lambda: number;
  report: string;
  'replay-rate': number;
  'malformed-rate': number;
  'bootstrap-servers'?: string;
  simulated: boolean;
  table: string;
}

/** Deletes the demo topics so each demonstration starts a fresh stream (lsn starts at 1 again). */
async function freshTopics(bootstrapServers: string, topics: string[], log: (l: string) => void): Promise<void> {
  const deleted = await deleteTopics(bootstrapServers, topics);
  if (deleted.length) log(`cdc: deleted ${deleted.join(', ')} for a fresh stream`);
}

export default defineJob<DemoArgs>({
  name: 'cdc',
  description:
    'CDC demonstration (make cdc): cdc-source (PostgreSQL + Debezium snapshot), cdc-workload (real SQL changes), cdc-consume until idle, cdc-verify; --simulated: cdc-produce instead of the database',
  needs: ['spark', 'kafka'],
  options: {
    input: { type: 'string', default: DEFAULT_CUSTOMERS_INPUT, describe: 'preprocessed customers (Parquet)' },
    simulated: {
      type: 'boolean',
      default: false,
      describe: 'events from the simulated producer (cdc-produce) instead of PostgreSQL + Debezium',
    },
    table: {
      type: 'string',
      default: DEFAULT_SOURCE_TABLE,
      describe: 'PostgreSQL table (the real path; its topic is spark_ts.public.<table>)',
    },
    updates: { type: 'number', default: 5_000, describe: 'change events after the snapshot' },
    seed: { type: 'number', default: DEFAULT_SEED, describe: 'producer seed' },
    topic: { type: 'string', default: DEFAULT_TOPIC, describe: 'Kafka topic of --simulated (deleted and recreated for the demonstration)' },
    'state-dir': { type: 'string', default: DEFAULT_STATE_DIR, describe: 'consumer state and model.json (reset for the demonstration)' },
    lambda: { type: 'number', default: DEFAULT_LAMBDA, describe: 'ridge penalty λ' },
    report: { type: 'string', default: DEFAULT_MODEL_REPORT, describe: 'model-quality report' },
    'replay-rate': { type: 'number', default: 0.01, describe: '--simulated: share of replayed events (skipped by lsn)' },
    'malformed-rate': { type: 'number', default: 0.002, describe: '--simulated: share of malformed events (to the DLQ)' },
    'bootstrap-servers': { type: 'string', describe: 'Kafka bootstrap servers (default: the embedded broker)' },
  },
  validate(args) {
    return args.simulated ? undefined : checkTableName(args.table);
  },
  async run(spark, args, ctx) {
    const input = ctx.resolvePath(args.input);
    if (!fs.existsSync(input)) throw new JobInputError(`no preprocessed customers at ${input}: run \`make preprocess\` first`);
    const bootstrapServers = args['bootstrap-servers'] ?? ctx.bootstrapServers;
    let topic = args.topic;
    if (!args.simulated) {
      // The real source: the table replaced and captured afresh (a new snapshot), then real SQL changes.
      topic = topicFor(args.table);
      await freshTopics(bootstrapServers, [`${topic}_dlq`], ctx.log);
      const sourced = await sourceJob.run(spark, { input: args.input, table: args.table }, ctx);
      if (sourced) return sourced;
      const changed = await workloadJob.run(spark, { table: args.table, updates: args.updates, seed: args.seed }, ctx);
      if (changed) return changed;
    } else {
      await freshTopics(bootstrapServers, [args.topic, `${args.topic}_dlq`], ctx.log);
      const produced = await produceJob.run(
        spark,
        {
          input: args.input,
          updates: args.updates,
          rate: 0,
          seed: args.seed,
          'start-lsn': 1,
          'insert-ratio': 0.1,
          'delete-ratio': 0.05,
          'replay-rate': args['replay-rate'],
          'malformed-rate': args['malformed-rate'],
          topic: args.topic,
          partitions: 3,
          'bootstrap-servers': bootstrapServers,
        },
        ctx,
      );
      if (produced) return produced;
    }
    const consumed = await consumeJob.run(
      spark,
      {
        topic,
        'state-dir': args['state-dir'],
        lambda: args.lambda,
        reset: true,
        'until-idle': 5,
        'checkpoint-events': 10_000,
        'checkpoint-ms': 5_000,
        'progress-ms': 2_000,
        'bootstrap-servers': bootstrapServers,
      },
      ctx,
    );
    if (consumed) return consumed;
    if (!args.simulated)
      ctx.log(
        `cdc: connector spark-ts-${args.table} keeps capturing public.${args.table} into ${topic} (\`spark-ts down\` stops Connect, PostgreSQL and Kafka)`,
      );
    return verifyJob.run(
      spark,
      { 'state-dir': args['state-dir'], report: args.report, 'spark-ml': true, 'reg-param': 0, 'max-iter': 100 },
      ctx,
    );
  },
});
