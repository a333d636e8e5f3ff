import { defineJob, integerOptionProblem, UsageError } from '../lib/cli/job';
import type { Trigger } from '../lib/connect';
import { parseDuration, sparkInterval } from '../lib/stream/rate';
import { runStreamJob } from '../lib/stream/run';
import { TOPICS } from '../lib/stream/sensors';

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
  'until-records'?: number;
  'max-offsets-per-trigger'?: number;
  'shuffle-partitions': number;
  'dlq-topic': string;
  'aggregates-topic': string;
  'alerts-topic': string;
  'live-topic': string;
  'live-trigger': string;
  'copy-trigger': string;
  metrics: string;
}

/** `processing-time=<interval>` or `available-now` → a Spark trigger. */
export function parseTrigger(value: string): Trigger {
  if (value === 'available-now') return { availableNow: true };
  const m = /^processing-time=(.+)$/.exec(value);
  if (!m) throw new UsageError(`--trigger: expected processing-time=<interval> or available-now, got "${value}"`);
  return { processingTime: sparkInterval(parseDuration(m[1], '--trigger processing-time')) };
}

/** What the stream job runs with: its arguments and the values parsed from them, once. */
export interface StreamParams {
  args: StreamArgs;
  trigger: Trigger;
  liveTrigger: Trigger;
  copyTrigger: Trigger;
  watermarkMs: number;
  durationMs?: number;
  startingOffsets: 'earliest' | 'latest';
}

export default defineJob<StreamArgs, StreamParams>({
  name: 'stream',
  description: 'Spark Structured Streaming over Kafka sensor data: DLQ, 10 s / 1 min window aggregates, alerts, metrics',
  needs: ['spark', 'kafka'],
  // Ctrl-C: the job stops the heavy and live queries, lets the copies catch up (at most 30 s), then drains the
  // latency consumers (at most 10 s); the runner stopping every query at once would leave the Parquet output short.
  interruptGraceMs: 60_000,
  options: {
    topic: { type: 'string', default: TOPICS.data, describe: 'source Kafka topic' },
    'starting-offsets': {
      type: 'string',
      choices: ['earliest', 'latest'],
      default: 'latest',
      describe: 'where a new checkpoint starts reading',
    },
    trigger: { type: 'string', default: 'processing-time=1 second', describe: 'processing-time=<interval> or available-now' },
    output: { type: 'string', default: 'data/processed/stream/', describe: 'output directory (aggregates_10s/, aggregates_1m/, alerts/)' },
    checkpoint: { type: 'string', default: 'data/checkpoints/stream/', describe: 'checkpoint directory (one subdirectory per query)' },
    'bootstrap-servers': { type: 'string', describe: 'Kafka bootstrap servers (default: the embedded broker)' },
    'spark-bootstrap-servers': {
      type: 'string',
      describe: 'Kafka bootstrap servers as the Spark server sees them (default: --bootstrap-servers)',
    },
    watermark: { type: 'string', default: '10s', describe: 'event-time watermark delay' },
    duration: { type: 'string', describe: 'stop after this long (processing-time runs; default: until Ctrl-C)' },
    'until-records': {
      type: 'number',
      describe:
        'stop once this many source records have been read and the windows the watermark passed are closed (processing-time runs; a producer sending a known count beside the job)',
    },
    'max-offsets-per-trigger': { type: 'number', describe: 'rate limit: Kafka offsets per micro-batch' },
    'shuffle-partitions': {
      type: 'number',
      default: 2,
      describe: 'shuffle (state) partitions of the queries; fixed by the first run of a checkpoint',
    },
    'dlq-topic': { type: 'string', default: TOPICS.dlq, describe: 'dead-letter topic' },
    'aggregates-topic': { type: 'string', default: TOPICS.aggregates, describe: 'topic of the 10 s aggregates (JSON)' },
    'alerts-topic': { type: 'string', default: TOPICS.alerts, describe: 'topic of the alerts (JSON)' },
    'live-topic': {
      type: 'string',
      default: TOPICS.live,
      describe: 'topic of the live 10 s windows: every update (final false) and the closed window (final true)',
    },
    'live-trigger': { type: 'string', default: 'processing-time=500ms', describe: 'trigger of the live query (processing-time runs only)' },
    'copy-trigger': {
      type: 'string',
      default: 'processing-time=5s',
      describe: 'trigger of the Parquet copies (processing-time runs only; a clean stop flushes them)',
    },
    metrics: { type: 'string', default: 'reports/stream-metrics.json', describe: 'metrics report (progress and end-to-end latency)' },
  },
  parse(args) {
    const trigger = parseTrigger(args.trigger);
    const liveTrigger = parseTrigger(args['live-trigger']);
    if (!('processingTime' in liveTrigger)) return new UsageError('--live-trigger must be processing-time=<interval>');
    const copyTrigger = parseTrigger(args['copy-trigger']);
    if (!('processingTime' in copyTrigger)) return new UsageError('--copy-trigger must be processing-time=<interval>');
    const watermarkMs = parseDuration(args.watermark, '--watermark');
    const durationMs = args.duration !== undefined ? parseDuration(args.duration, '--duration') : undefined;
    if (durationMs !== undefined && 'availableNow' in trigger)
      return new UsageError('--duration applies to processing-time runs; an available-now run ends once it has processed what was there');
    if (args['until-records'] !== undefined && 'availableNow' in trigger)
      return new UsageError(
        '--until-records applies to processing-time runs; an available-now run ends once it has processed what was there',
      );
    if (!['earliest', 'latest'].includes(args['starting-offsets']))
      return new UsageError(`--starting-offsets must be earliest or latest, got "${args['starting-offsets']}"`);
    const countProblem =
      integerOptionProblem('max-offsets-per-trigger', args['max-offsets-per-trigger'], 1) ??
      integerOptionProblem('shuffle-partitions', args['shuffle-partitions'], 1) ??
      integerOptionProblem('until-records', args['until-records'], 1);
    if (countProblem) return countProblem;
    return {
      args,
      trigger,
      liveTrigger,
      copyTrigger,
      watermarkMs,
      durationMs,
      startingOffsets: args['starting-offsets'] as 'earliest' | 'latest',
    };
  },
  async run(spark, { args, trigger, liveTrigger, copyTrigger, watermarkMs, durationMs, startingOffsets }, ctx) {
    const local = args['bootstrap-servers'] ?? ctx.bootstrapServers;
    await runStreamJob(
      spark,
      {
        topic: args.topic,
        startingOffsets,
        trigger,
        output: ctx.resolvePath(args.output),
        checkpoint: ctx.resolvePath(args.checkpoint),
        bootstrapServers: args['spark-bootstrap-servers'] ?? local,
        localBootstrapServers: local,
        watermarkMs,
        durationMs,
        untilRecords: args['until-records'],
        maxOffsetsPerTrigger: args['max-offsets-per-trigger'],
        shufflePartitions: args['shuffle-partitions'],
        topics: { dlq: args['dlq-topic'], aggregates: args['aggregates-topic'], alerts: args['alerts-topic'], live: args['live-topic'] },
        liveTrigger,
        copyTrigger,
        metricsFile: ctx.resolvePath(args.metrics),
        queryPrefix: `stream_${process.pid}`,
      },
      ctx,
    );
  },
});
