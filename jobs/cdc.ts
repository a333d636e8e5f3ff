import * as fs from 'node:fs';
import * as path from 'node:path';
import { defineJob, JobInputError } from '../lib/cli/job';
import { DEFAULT_TOPIC } from '../lib/cdc/consumer';
import { createKafka } from '../lib/kafka/config';
import produceJob from './cdc-produce';
import consumeJob from './cdc-consume';
import verifyJob from './cdc-verify';

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
}

/** Deletes the demo topics so each demonstration starts a fresh stream (lsn starts at 1 again). */
async function freshTopics(bootstrapServers: string, topics: string[], log: (l: string) => void): Promise<void> {
  const admin = createKafka('spark-ts-cdc-demo', bootstrapServers).admin();
  await admin.connect();
  try {
    const existing = (await admin.listTopics()).filter((t) => topics.includes(t));
    if (!existing.length) return;
    log(`cdc: deleting ${existing.join(', ')} for a fresh stream`);
    await admin.deleteTopics({ topics: existing, timeout: 30_000 });
    const deadline = Date.now() + 30_000;
    while ((await admin.listTopics()).some((t) => existing.includes(t))) {
      if (Date.now() > deadline) throw new Error(`Kafka did not delete ${existing.join(', ')} within 30 s`);
      await new Promise((r) => setTimeout(r, 300));
    }
    // Deletion is asynchronous on the broker: give it a moment before the topic is created again.
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    await admin.disconnect();
  }
}

export default defineJob<DemoArgs>({
  name: 'cdc',
  description: 'CDC demonstration: cdc-produce (snapshot + changes), cdc-consume until idle, then cdc-verify (make cdc)',
  needs: ['spark', 'kafka'],
  options: {
    input: { type: 'string', default: 'data/processed/customers', describe: 'preprocessed customers (Parquet)' },
    updates: { type: 'number', default: 5_000, describe: 'change events after the snapshot' },
    seed: { type: 'number', default: 42, describe: 'producer seed' },
    topic: { type: 'string', default: DEFAULT_TOPIC, describe: 'Kafka topic (deleted and recreated for the demonstration)' },
    'state-dir': { type: 'string', default: 'models', describe: 'consumer state and model.json (reset for the demonstration)' },
    lambda: { type: 'number', default: 1.0, describe: 'ridge penalty λ' },
    report: { type: 'string', default: 'reports/cdc-model.json', describe: 'model-quality report' },
    'replay-rate': { type: 'number', default: 0.01, describe: 'share of replayed events (skipped by lsn)' },
    'malformed-rate': { type: 'number', default: 0.002, describe: 'share of malformed events (to the DLQ)' },
    'bootstrap-servers': { type: 'string', describe: 'Kafka bootstrap servers (default: the embedded broker)' },
  },
  async run(spark, args, ctx) {
    const input = path.resolve(ctx.root, args.input);
    if (!fs.existsSync(input)) throw new JobInputError(`no preprocessed customers at ${input}: run \`make preprocess\` first`);
    const bootstrapServers = args['bootstrap-servers'] ?? ctx.bootstrapServers;
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
    const consumed = await consumeJob.run(
      spark,
      {
        topic: args.topic,
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
    return verifyJob.run(spark, { 'state-dir': args['state-dir'], report: args.report, 'spark-ml': true, 'reg-param': 0, 'max-iter': 100 }, ctx);
  },
});
