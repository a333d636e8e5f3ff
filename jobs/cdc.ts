import * as fs from 'node:fs';
import { defineJob, JobInputError, UsageError, subJobParams } from '../lib/cli/job';
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

type ParamsOf<J extends { run(spark: never, params: never, ctx: never): unknown }> = Parameters<J['run']>[1];

/** What the demonstration runs with: its arguments and every step's parameters, parsed before any server starts. */
interface CdcParams {
  args: DemoArgs;
  /** The change-event topic: --topic when simulated, the table's Debezium topic otherwise. */
  topic: string;
  feed:
    | { simulated: true; produce: ParamsOf<typeof produceJob> }
    | { simulated: false; source: ParamsOf<typeof sourceJob>; workload: ParamsOf<typeof workloadJob> };
  consume: ParamsOf<typeof consumeJob>;
  verify: ParamsOf<typeof verifyJob>;
}

export default defineJob<DemoArgs, CdcParams>({
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
  parse(args) {
    if (!args.simulated) {
      const problem = checkTableName(args.table);
      if (problem) return new UsageError(problem);
    }
    // The steps' parameters, parsed here once by their own jobs (their defaults are theirs, not restated here).
    const topic = args.simulated ? args.topic : topicFor(args.table);
    const bootstrap = { 'bootstrap-servers': args['bootstrap-servers'] };
    const feed: CdcParams['feed'] = args.simulated
      ? {
          simulated: true,
          produce: subJobParams(produceJob, {
            input: args.input,
            updates: args.updates,
            seed: args.seed,
            'replay-rate': args['replay-rate'],
            'malformed-rate': args['malformed-rate'],
            topic,
            ...bootstrap,
          }),
        }
      : {
          simulated: false,
          source: subJobParams(sourceJob, { input: args.input, table: args.table }),
          workload: subJobParams(workloadJob, { table: args.table, updates: args.updates, seed: args.seed }),
        };
    return {
      args,
      topic,
      feed,
      consume: subJobParams(consumeJob, {
        topic,
        'state-dir': args['state-dir'],
        lambda: args.lambda,
        reset: true,
        // Simulated: the producer has finished, so the topic's end is the end. From PostgreSQL, Debezium may still
        // be delivering the workload's changes: 5 s without an event is the end there.
        'until-end': args.simulated,
        'until-idle': 5,
        ...bootstrap,
      }),
      verify: subJobParams(verifyJob, { 'state-dir': args['state-dir'], report: args.report, 'spark-ml': true }),
    };
  },
  async run(spark, { args, topic, feed, consume, verify }, ctx) {
    const input = ctx.resolvePath(args.input);
    if (!fs.existsSync(input)) throw new JobInputError(`no preprocessed customers at ${input}: run \`make preprocess\` first`);
    const bootstrapServers = args['bootstrap-servers'] ?? ctx.bootstrapServers;
    const steps: Array<() => Promise<void | number>> = feed.simulated
      ? [() => freshTopics(bootstrapServers, [topic, `${topic}_dlq`], ctx.log), () => produceJob.run(spark, feed.produce, ctx)]
      : [
          // The real source: the table replaced and captured afresh (a new snapshot), then real SQL changes.
          () => freshTopics(bootstrapServers, [`${topic}_dlq`], ctx.log),
          () => sourceJob.run(spark, feed.source, ctx),
          () => workloadJob.run(spark, feed.workload, ctx),
        ];
    steps.push(
      () => consumeJob.run(spark, consume, ctx),
      async () => {
        if (!args.simulated)
          ctx.log(
            `cdc: connector spark-ts-${args.table} keeps capturing public.${args.table} into ${topic} (\`spark-ts down\` stops Connect, PostgreSQL and Kafka)`,
          );
        return verifyJob.run(spark, verify, ctx);
      },
    );
    // A failed step ends the demonstration with its code; Ctrl-C ends it after the step it interrupted.
    for (const step of steps) {
      if (ctx.signal.aborted) return;
      const code = await step();
      if (code) return code;
    }
  },
});
