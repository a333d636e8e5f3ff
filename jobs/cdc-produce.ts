import * as fs from 'node:fs';
import type { SparkSession } from '../lib/connect';
import { defineJob, integerOptionProblem, JobInputError, UsageError } from '../lib/cli/job';
import { countProgress } from '../lib/cli/count-progress';
import { DEFAULT_TOPIC } from '../lib/cdc/consumer';
import type { CustomerRow } from '../lib/cdc/features';
import { generateChanges, normalizeRow } from '../lib/cdc/generator';
import { produceChanges } from '../lib/cdc/produce';
import { DEFAULT_CUSTOMERS_INPUT, DEFAULT_SEED } from '../lib/cdc/defaults';

interface ProduceArgs extends Record<string, unknown> {
  input: string;
  updates: number;
  rate: number;
  seed: number;
  'start-lsn': number;
  'insert-ratio': number;
  'delete-ratio': number;
  'replay-rate': number;
  'malformed-rate': number;
  topic: string;
  partitions: number;
  'bootstrap-servers'?: string;
}

/** The snapshot rows: the preprocessed customers, read through Spark, without the scaled columns. */
export async function loadCustomerRows(spark: SparkSession, input: string): Promise<CustomerRow[]> {
  const rows = await spark.read.parquet(input).collect();
  return rows.map((r) => normalizeRow(r as Record<string, unknown>));
}

/** The preprocessed customers a CDC source starts from: present, not empty, every ID an integer. */
export async function loadCheckedCustomerRows(spark: SparkSession, input: string): Promise<CustomerRow[]> {
  if (!fs.existsSync(input))
    throw new JobInputError(`no preprocessed customers at ${input}: run \`spark-ts submit preprocess\` first (or give --input)`);
  const rows = await loadCustomerRows(spark, input);
  if (!rows.length) throw new JobInputError(`${input} has no rows`);
  const bad = rows.find((r) => typeof r.ID !== 'number' || !Number.isSafeInteger(r.ID));
  if (bad) throw new JobInputError(`${input}: every row needs an integer ID; found ${JSON.stringify(bad.ID)}`);
  return rows;
}

export default defineJob<ProduceArgs>({
  name: 'cdc-produce',
  description:
    'CDC producer: a snapshot of the preprocessed customers, then a seeded mix of inserts, updates and deletes (Debezium-style events)',
  needs: ['spark', 'kafka'],
  options: {
    input: { type: 'string', default: DEFAULT_CUSTOMERS_INPUT, describe: 'preprocessed customers (Parquet, from the preprocess job)' },
    updates: { type: 'number', default: 10_000, describe: 'change events after the snapshot (inserts + updates + deletes)' },
    rate: { type: 'number', default: 0, describe: 'messages per second; 0 = as fast as possible' },
    seed: { type: 'number', default: DEFAULT_SEED, describe: 'seed: the same seed and input give the same events' },
    'start-lsn': {
      type: 'number',
      default: 1,
      describe: 'first lsn; to append to a topic that already has events, start above its last lsn',
    },
    'insert-ratio': { type: 'number', default: 0.1, describe: 'share of inserts among the changes' },
    'delete-ratio': { type: 'number', default: 0.05, describe: 'share of deletes among the changes (each followed by a tombstone)' },
    'replay-rate': {
      type: 'number',
      default: 0,
      describe: 'for testing: probability of re-sending an already sent event (same lsn) after each event',
    },
    'malformed-rate': { type: 'number', default: 0, describe: 'for testing: probability of sending a broken event after each event' },
    topic: { type: 'string', default: DEFAULT_TOPIC, describe: 'Kafka topic' },
    partitions: { type: 'number', default: 3, describe: 'partitions when the topic has to be created' },
    'bootstrap-servers': { type: 'string', describe: 'Kafka bootstrap servers (default: the embedded broker)' },
  },
  parse(args) {
    if (!(Number.isInteger(args.updates) && args.updates >= 0))
      return new UsageError(`--updates must be a non-negative integer, got ${args.updates}`);
    if (!(args.rate >= 0)) return new UsageError(`--rate must be >= 0, got ${args.rate}`);
    for (const k of ['insert-ratio', 'delete-ratio', 'replay-rate', 'malformed-rate'] as const) {
      if (!(args[k] >= 0 && args[k] <= 1)) return new UsageError(`--${k} must be within [0, 1], got ${args[k]}`);
    }
    if (args['insert-ratio'] + args['delete-ratio'] > 1) return new UsageError('--insert-ratio + --delete-ratio must not exceed 1');
    if (!Number.isInteger(args.seed)) return new UsageError(`--seed must be an integer, got ${args.seed}`);
    const partitions = integerOptionProblem('partitions', args.partitions, 1);
    if (partitions) return partitions;
    if (!(Number.isSafeInteger(args['start-lsn']) && args['start-lsn'] >= 0))
      return new UsageError(`--start-lsn must be a non-negative integer, got ${args['start-lsn']}`);
    return args;
  },
  async run(spark, args, ctx) {
    const input = ctx.resolvePath(args.input);
    const rows = await loadCheckedCustomerRows(spark, input);
    const messages = generateChanges(rows, {
      seed: args.seed,
      startLsn: args['start-lsn'],
      updates: args.updates,
      insertRatio: args['insert-ratio'],
      deleteRatio: args['delete-ratio'],
      replayRate: args['replay-rate'],
      malformedRate: args['malformed-rate'],
    });
    // Snapshot + changes (+ tombstones, replays, malformed: these vary, so the bar's total is an estimate).
    const approx = Math.round(
      (rows.length + args.updates) * (1 + args['replay-rate'] + args['malformed-rate']) + args.updates * args['delete-ratio'],
    );
    const bootstrapServers = args['bootstrap-servers'] ?? ctx.bootstrapServers;
    ctx.log(
      `cdc-produce: ${rows.length} snapshot rows from ${args.input}, ${args.updates} changes, seed ${args.seed} → ${args.topic} at ${bootstrapServers}`,
    );
    const progress = countProgress({
      interactive: ctx.interactive,
      total: approx,
      label: 'cdc-produce',
      format: 'cdc-produce [{bar}] {value}/~{total} messages | {eta_formatted} left',
      log: ctx.log,
      plain: (_done, f) => `cdc-produce: sent ${f.sent}/~${approx}`,
    });
    const summary = await produceChanges(messages, {
      bootstrapServers,
      topic: args.topic,
      rate: args.rate,
      partitions: args.partitions,
      signal: ctx.signal,
      // The total is an estimate: the bar stops at it, the plain line says what was sent.
      onProgress: (sent) => progress.update(Math.min(sent, approx), { sent }),
    });
    progress.stop();
    const k = summary.by_kind;
    ctx.log(
      `cdc-produce: sent ${summary.sent} messages in ${(summary.elapsed_ms / 1000).toFixed(1)} s${summary.interrupted ? ' (interrupted)' : ''}: snapshot ${k.snapshot}, inserts ${k.insert}, updates ${k.update}, deletes ${k.delete}, tombstones ${k.tombstone}, replays ${k.replay}, malformed ${k.malformed}`,
    );
    return summary.interrupted ? 130 : 0;
  },
});
