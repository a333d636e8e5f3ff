import { defineJob, integerOptionProblem, UsageError } from '../lib/cli/job';
import { produceSensorData } from '../lib/stream/producer';
import { countProgress } from '../lib/cli/count-progress';
import { parseDuration } from '../lib/stream/rate';
import { TOPICS } from '../lib/stream/sensors';
import { DEFAULT_SIMULATION } from '../lib/stream/simulate';

interface ProduceArgs extends Record<string, unknown> {
  topic: string;
  sensors: number;
  rate: number;
  count?: number;
  duration?: string;
  seed: number;
  'anomaly-rate': number;
  'late-rate': number;
  'max-lateness': string;
  'malformed-rate': number;
  partitions: number;
  'bootstrap-servers'?: string;
}

export default defineJob<ProduceArgs, { args: ProduceArgs; durationMs?: number; maxLatenessMs: number }>({
  name: 'stream-produce',
  description: 'Send simulated IoT sensor readings to Kafka (seeded, rate-limited, with anomalies, late and malformed records)',
  needs: ['kafka'],
  options: {
    topic: { type: 'string', default: TOPICS.data, describe: 'Kafka topic' },
    sensors: { type: 'number', default: 100, describe: 'number of simulated sensors' },
    rate: { type: 'number', default: 1000, describe: 'messages per second (token bucket); 0 = as fast as possible' },
    count: { type: 'number', describe: 'stop after this many messages (default: until Ctrl-C)' },
    duration: { type: 'string', describe: 'stop after this long: 30, 30s, 5m (default: until Ctrl-C)' },
    seed: { type: 'number', default: 42, describe: 'simulation seed (same seed, same readings)' },
    'anomaly-rate': {
      type: 'number',
      default: DEFAULT_SIMULATION.anomalyRate,
      describe: 'share of readings that are anomalies (spikes, out of bounds)',
    },
    'late-rate': { type: 'number', default: DEFAULT_SIMULATION.lateRate, describe: 'share of readings sent late (out of order)' },
    'max-lateness': {
      type: 'string',
      default: `${DEFAULT_SIMULATION.maxLatenessMs / 1000}s`,
      describe: 'largest lateness of a late reading',
    },
    'malformed-rate': {
      type: 'number',
      default: DEFAULT_SIMULATION.malformedRate,
      describe: 'share of malformed records (not JSON, missing field, wrong type)',
    },
    partitions: { type: 'number', default: 3, describe: 'partitions when the topic has to be created' },
    'bootstrap-servers': { type: 'string', describe: 'Kafka bootstrap servers (default: the embedded broker)' },
  },
  parse(args) {
    if (!Number.isInteger(args.sensors) || args.sensors < 1)
      return new UsageError(`--sensors must be a positive integer, got ${args.sensors}`);
    if (!(args.rate >= 0)) return new UsageError(`--rate must be >= 0, got ${args.rate}`);
    const integers = integerOptionProblem('seed', args.seed, 0) ?? integerOptionProblem('partitions', args.partitions, 1);
    if (integers) return integers;
    if (args.count !== undefined && !(Number.isInteger(args.count) && args.count >= 0))
      return new UsageError(`--count must be a non-negative integer, got ${args.count}`);
    for (const k of ['anomaly-rate', 'late-rate', 'malformed-rate'] as const) {
      if (!(args[k] >= 0 && args[k] <= 1)) return new UsageError(`--${k} must be within [0, 1], got ${args[k]}`);
    }
    if (args['anomaly-rate'] + args['late-rate'] + args['malformed-rate'] > 1)
      return new UsageError('--anomaly-rate + --late-rate + --malformed-rate must not exceed 1');
    const durationMs = args.duration !== undefined ? parseDuration(args.duration, '--duration') : undefined;
    const maxLatenessMs = parseDuration(args['max-lateness'], '--max-lateness');
    if (maxLatenessMs < 1) return new UsageError('--max-lateness must be at least 1ms');
    return { args, durationMs, maxLatenessMs };
  },
  async run(_spark, { args, durationMs, maxLatenessMs }, ctx) {
    const bootstrapServers = args['bootstrap-servers'] ?? ctx.bootstrapServers;
    const bounded =
      args.count !== undefined ? `${args.count} messages` : durationMs !== undefined ? `${durationMs / 1000} s` : 'until Ctrl-C';
    ctx.log(
      `producing to ${args.topic} at ${bootstrapServers}: ${args.sensors} sensors, ${args.rate > 0 ? `${args.rate} msg/s` : 'as fast as possible'}, ${bounded}, seed ${args.seed}`,
    );
    const bar = countProgress({
      interactive: ctx.interactive,
      total: args.count,
      label: 'sent',
      log: ctx.log,
      plain: (done, f) => `sent ${done}${args.count ? `/${args.count}` : ''}, ${f.rate}, failed ${f.failed}`,
    });
    const summary = await produceSensorData(
      {
        topic: args.topic,
        bootstrapServers,
        sensors: args.sensors,
        seed: args.seed,
        rate: args.rate,
        count: args.count,
        durationMs,
        anomalyRate: args['anomaly-rate'],
        lateRate: args['late-rate'],
        maxLatenessMs,
        malformedRate: args['malformed-rate'],
        partitions: args.partitions,
      },
      {
        signal: ctx.signal,
        log: ctx.log,
        onProgress: (p) => bar.update(p.sent, { rate: `${Math.round(p.rate)} msg/s`, failed: p.failed }),
      },
    );
    bar.stop();
    const c = summary.counts;
    ctx.log(
      `done: sent ${summary.sent}, failed ${summary.failed}, ${(summary.elapsedMs / 1000).toFixed(1)} s, achieved ${Math.round(summary.rate)} msg/s` +
        ` (late ${c.late}, spikes ${c.spike}, out of bounds ${c.out_of_bounds}, malformed ${c.not_json + c.missing_field + c.wrong_type})`,
    );
    return summary.failed > 0 ? 1 : 0;
  },
});
