import * as path from 'node:path';
import { defineJob, integerOptionProblem, JobInputError, UsageError } from '../lib/cli/job';
import {
  DEFAULT_COMMIT_EVENTS,
  DEFAULT_COMMIT_MS,
  DEFAULT_DELETE_RETENTION,
  DEFAULT_HOLDOUT_PCT,
  DEFAULT_TOPIC,
  lambdaProblem,
  runCdcConsumer,
} from '../lib/cdc/consumer';
import { parseFeatureList } from '../lib/cdc/features';
import { StateStoreError } from '../lib/cdc/store';
import { DEFAULT_STATE_DIR, DEFAULT_LAMBDA } from '../lib/cdc/defaults';

interface ConsumeArgs extends Record<string, unknown> {
  topic: string;
  'dlq-topic'?: string;
  group?: string;
  'state-dir': string;
  lambda: number;
  features?: string;
  'feature-decimals'?: number;
  'holdout-pct'?: number;
  reset: boolean;
  'until-idle'?: number;
  'until-end'?: boolean;
  'checkpoint-events': number;
  'checkpoint-ms': number;
  'progress-ms': number;
  'commit-events'?: number;
  'commit-ms'?: number;
  'delete-retention'?: number;
  'allow-retention-gap'?: boolean;
  'bootstrap-servers'?: string;
}

/** What cdc-consume runs with: its arguments and the feature list parsed from them, once. */
export interface ConsumeParams {
  args: ConsumeArgs;
  features?: string[];
}

export default defineJob<ConsumeArgs, ConsumeParams>({
  name: 'cdc-consume',
  description: 'CDC consumer: keeps the customer table and an exact incremental ridge model from change events (crash-safe, auto-saved)',
  needs: ['kafka'],
  options: {
    topic: { type: 'string', default: DEFAULT_TOPIC, describe: 'change-event topic' },
    'dlq-topic': { type: 'string', describe: 'dead-letter topic (default <topic>_dlq)' },
    group: { type: 'string', describe: 'Kafka consumer group (default spark-ts-cdc-<topic>)' },
    'state-dir': { type: 'string', default: DEFAULT_STATE_DIR, describe: 'directory of the state store (state.db) and model.json' },
    lambda: { type: 'number', default: DEFAULT_LAMBDA, describe: 'ridge penalty λ > 0 (intercept not penalized)' },
    features: {
      type: 'string',
      describe: 'comma-separated feature columns (default: the raw numeric columns; fixed by the store once created)',
    },
    'feature-decimals': {
      type: 'number',
      describe: 'decimal places accepted in feature values, kept exact as fixed-point (default 0: integers only)',
    },
    'holdout-pct': { type: 'number', describe: `percent of customer IDs held out for metrics, by hash (default ${DEFAULT_HOLDOUT_PCT})` },
    reset: { type: 'boolean', default: false, describe: 'delete the state store and model.json and start from the beginning of the topic' },
    'until-idle': { type: 'number', describe: 'stop after this many seconds without new events (default: run until Ctrl-C)' },
    'until-end': {
      type: 'boolean',
      default: false,
      describe: 'stop once every event the topic held at the start is applied (with --until-idle: whichever comes first)',
    },
    'checkpoint-events': { type: 'number', default: 10_000, describe: 'write model.json after this many events' },
    'checkpoint-ms': { type: 'number', default: 5_000, describe: 'write model.json at least this often (ms) while events arrive' },
    'progress-ms': { type: 'number', default: 2_000, describe: 'progress line interval (ms)' },
    'commit-events': {
      type: 'number',
      describe: `commit the state store after this many events across partitions (default ${DEFAULT_COMMIT_EVENTS})`,
    },
    'commit-ms': { type: 'number', describe: `...or this long after the last commit (ms, default ${DEFAULT_COMMIT_MS})` },
    'delete-retention': {
      type: 'number',
      describe: `forget a deleted key once this many further offsets of its partition are consumed (default ${DEFAULT_DELETE_RETENTION})`,
    },
    'allow-retention-gap': {
      type: 'boolean',
      default: false,
      describe: 'start even if stored offsets were deleted by retention (warns and counts them; default: refuse)',
    },
    'bootstrap-servers': { type: 'string', describe: 'Kafka bootstrap servers (default: the embedded broker)' },
  },
  parse(args) {
    const lambda = lambdaProblem(args.lambda);
    if (lambda) return new UsageError(lambda);
    for (const k of ['commit-events', 'commit-ms', 'delete-retention'] as const) {
      const v = args[k];
      if (v !== undefined && !(Number.isInteger(v) && v > 0)) return new UsageError(`--${k} must be a positive integer, got ${v}`);
    }
    const d = args['feature-decimals'];
    if (d !== undefined && !(Number.isInteger(d) && d >= 0 && d <= 6))
      return new UsageError(`--feature-decimals must be an integer in [0, 6], got ${d}`);
    const h = args['holdout-pct'];
    if (h !== undefined && !(Number.isInteger(h) && h >= 0 && h < 100))
      return new UsageError(`--holdout-pct must be an integer in [0, 100), got ${h}`);
    if (args['until-idle'] !== undefined && !(args['until-idle'] > 0))
      return new UsageError(`--until-idle must be > 0 seconds, got ${args['until-idle']}`);
    if (!(Number.isInteger(args['checkpoint-events']) && args['checkpoint-events'] > 0))
      return new UsageError(`--checkpoint-events must be a positive integer`);
    if (!(args['checkpoint-ms'] > 0)) return new UsageError(`--checkpoint-ms must be > 0`);
    const progress = integerOptionProblem('progress-ms', args['progress-ms'], 1);
    if (progress) return progress;
    // A bad list throws; parseJobParams reports it as a usage error.
    return { args, features: args.features !== undefined ? parseFeatureList(args.features) : undefined };
  },
  async run(_spark, { args, features }, ctx) {
    try {
      const summary = await runCdcConsumer({
        bootstrapServers: args['bootstrap-servers'] ?? ctx.bootstrapServers,
        topic: args.topic,
        dlqTopic: args['dlq-topic'],
        groupId: args.group,
        stateDir: ctx.resolvePath(args['state-dir']),
        lambda: args.lambda,
        features,
        decimals: args['feature-decimals'],
        holdoutPct: args['holdout-pct'],
        reset: args.reset,
        untilIdleSec: args['until-idle'],
        untilEnd: args['until-end'],
        checkpointEvents: args['checkpoint-events'],
        checkpointMs: args['checkpoint-ms'],
        progressMs: args['progress-ms'],
        commitEvents: args['commit-events'],
        commitMs: args['commit-ms'],
        deleteRetention: args['delete-retention'],
        allowRetentionGap: args['allow-retention-gap'],
        signal: ctx.signal,
        log: ctx.log,
      });
      const m = summary.model;
      ctx.log(
        `cdc-consume: stopped after ${summary.events_processed} messages in ${(summary.elapsed_ms / 1000).toFixed(1)} s; table ${m.table_rows} rows (${m.unlabeled_rows} unlabeled), n ${m.n} (training), applied ${m.events_applied}, skipped ${m.events_skipped}, tombstones ${m.tombstones}, dlq ${m.dlq} (${m.dlq_retracted} retracted a row), pruned deletes ${m.deletes_pruned}${m.offsets_lost ? `, LOST to retention ${m.offsets_lost} (never seen)` : ''}; hold-out AUC ${m.metrics.holdout.roc_auc ?? '-'}; model in ${path.join(args['state-dir'], 'model.json')}`,
      );
      return 0;
    } catch (e) {
      if (e instanceof StateStoreError) throw new JobInputError(e.message);
      throw e;
    }
  },
});
