import path from 'node:path';
import { defineJob, UsageError } from '../lib/cli/job';
import type { Trigger } from '../lib/connect';
import { parseDuration, sparkInterval } from '../lib/stream/rate';
import { runStreamJob } from '../lib/stream/run';
import { TOPICS } from '../lib/stream/sensors';
import { errorMessage } from '../lib/util/errors';

interface StreamArgs extends Record<string, unknown> {
  topic: string;
  'starting-offsets': string;
  trigger: string;
  output: string;
  checkpoint: string;
  'bootstrap-servers'?: string;
  'spark-bootstrap-servers'?: string;
  watermark: string;
  duration?: string;
  'max-offsets-per-trigger'?: number;
  'shuffle-partitions': number;
  'dlq-topic': string;
  'aggregates-topic': string;
  'alerts-topic': string;
  'live-topic': string;
  'live-trigger': string;
  metrics: string;
}

/** `processing-time=<interval>` or `available-now` → a Spark trigger. */
export function parseTrigger(value: string): Trigger {
  if (value === 'available-now') return { availableNow: true };
  const m = /^processing-time=(.+)$/.exec(value);
  if (!m) throw new UsageError(`--trigger: expected processing-time=<interval> or available-now, got "${value}"`);
  return { processingTime: sparkInterval(parseDuration(m[1], '--trigger processing-time')) };
}

export default defineJob<StreamArgs>({
  name: 'stream',
  description: 'Spark Structured Streaming over Kafka sensor data: DLQ, 10 s / 1 min window aggregates, alerts, metrics',
  needs: ['spark', 'kafka'],
  options: {
    topic: { type: 'string', default: TOPICS.data, describe: 'source Kafka topic' },
    'starting-offsets': { type: 'string', choices: ['earliest', 'latest'], default: 'latest', describe: 'where a new checkpoint starts reading' },
    trigger: { type: 'string', default: 'processing-time=1 second', describe: 'processing-time=<interval> or available-now' },
    output: { type: 'string', default: 'data/processed/stream/', describe: 'output directory (aggregates_10s/, aggregates_1m/, alerts/)' },
    checkpoint: { type: 'string', default: 'data/checkpoints/stream/', describe: 'checkpoint directory (one subdirectory per query)' },
    'bootstrap-servers': { type: 'string', describe: 'Kafka bootstrap servers (default: the embedded broker)' },
    'spark-bootstrap-servers': { type: 'string', describe: 'Kafka bootstrap servers as the Spark server sees them (default: --bootstrap-servers)' },
    watermark: { type: 'string', default: '10s', describe: 'event-time watermark delay' },
    duration: { type: 'string', describe: 'stop after this long (default: until Ctrl-C, or when available-now is done)' },
    'max-offsets-per-trigger': { type: 'number', describe: 'rate limit: Kafka offsets per micro-batch' },
    'shuffle-partitions': { type: 'number', default: 2, describe: 'shuffle (state) partitions of the queries; fixed by the first run of a checkpoint' },
    'dlq-topic': { type: 'string', default: TOPICS.dlq, describe: 'dead-letter topic' },
    'aggregates-topic': { type: 'string', default: TOPICS.aggregates, describe: 'topic of the 10 s aggregates (JSON)' },
    'alerts-topic': { type: 'string', default: TOPICS.alerts, describe: 'topic of the alerts (JSON)' },
    'live-topic': { type: 'string', default: TOPICS.live, describe: 'topic of the live 10 s windows: every update (final false) and the closed window (final true)' },
    'live-trigger': { type: 'string', default: 'processing-time=500ms', describe: 'trigger of the live query (processing-time runs only)' },
    metrics: { type: 'string', default: 'reports/stream-metrics.json', describe: 'metrics report (progress and end-to-end latency)' },
  },
  validate(args) {
    try {
      parseTrigger(args.trigger);
      if (!('processingTime' in parseTrigger(args['live-trigger']))) return '--live-trigger must be processing-time=<interval>';
      parseDuration(args.watermark, '--watermark');
      if (args.duration !== undefined) parseDuration(args.duration, '--duration');
    } catch (e) {
      return errorMessage(e);
    }
    if (!['earliest', 'latest'].includes(args['starting-offsets'])) return `--starting-offsets must be earliest or latest, got "${args['starting-offsets']}"`;
    if (args['max-offsets-per-trigger'] !== undefined && !(Number.isInteger(args['max-offsets-per-trigger']) && args['max-offsets-per-trigger'] > 0)) {
      return `--max-offsets-per-trigger must be a positive integer, got ${args['max-offsets-per-trigger']}`;
    }
    if (!(Number.isInteger(args['shuffle-partitions']) && args['shuffle-partitions'] > 0)) return `--shuffle-partitions must be a positive integer, got ${args['shuffle-partitions']}`;
    return undefined;
  },
  async run(spark, args, ctx) {
    const local = args['bootstrap-servers'] ?? ctx.bootstrapServers;
    const resolve = (p: string) => path.resolve(ctx.root, p);
    const trigger = parseTrigger(args.trigger);
    await runStreamJob(
      spark,
      {
        topic: args.topic,
        startingOffsets: args['starting-offsets'] as 'earliest' | 'latest',
        trigger,
        output: resolve(args.output),
        checkpoint: resolve(args.checkpoint),
        bootstrapServers: args['spark-bootstrap-servers'] ?? local,
        localBootstrapServers: local,
        watermarkMs: parseDuration(args.watermark, '--watermark'),
        durationMs: args.duration !== undefined ? parseDuration(args.duration, '--duration') : undefined,
        maxOffsetsPerTrigger: args['max-offsets-per-trigger'],
        shufflePartitions: args['shuffle-partitions'],
        topics: { dlq: args['dlq-topic'], aggregates: args['aggregates-topic'], alerts: args['alerts-topic'], live: args['live-topic'] },
        liveTrigger: parseTrigger(args['live-trigger']),
        metricsFile: resolve(args.metrics),
        queryPrefix: `stream_${process.pid}`,
      },
      ctx,
    );
  },
});
