import { defineJob, UsageError } from '../lib/cli/job';
import { connectWithin, streamKafka } from '../lib/stream/kafka';
import { LiveViewState, aggregateLine, alertLine, parseAggregate, parseAlert, renderLiveView } from '../lib/stream/live-view';
import { parseDuration, sleep } from '../lib/stream/rate';
import { TOPICS } from '../lib/stream/sensors';

interface WatchArgs extends Record<string, unknown> {
  'aggregates-topic': string;
  'alerts-topic': string;
  duration?: string;
  rows: number;
  refresh: string;
  'from-beginning': boolean;
  'bootstrap-servers'?: string;
}

export default defineJob<WatchArgs>({
  name: 'stream-watch',
  description: 'Live terminal view of the streaming job: latest per-sensor aggregates, recent alerts, end-to-end latency',
  needs: ['kafka'],
  options: {
    'aggregates-topic': { type: 'string', default: TOPICS.aggregates, describe: 'topic of the 10 s aggregates' },
    'alerts-topic': { type: 'string', default: TOPICS.alerts, describe: 'topic of the alerts' },
    duration: { type: 'string', describe: 'stop after this long: 30s, 5m (default: until Ctrl-C)' },
    rows: { type: 'number', default: 20, describe: 'sensors shown in the table' },
    refresh: { type: 'string', default: '1s', describe: 'screen refresh interval (TTY), summary interval otherwise ×5' },
    'from-beginning': { type: 'boolean', default: false, describe: 'read the topics from their start instead of new messages only' },
    'bootstrap-servers': { type: 'string', describe: 'Kafka bootstrap servers (default: the embedded broker)' },
  },
  validate(args) {
    try {
      if (args.duration !== undefined) parseDuration(args.duration, '--duration');
      if (parseDuration(args.refresh, '--refresh') < 100) return '--refresh must be at least 100ms';
    } catch (e) {
      return (e as Error).message;
    }
    if (!(Number.isInteger(args.rows) && args.rows > 0)) return `--rows must be a positive integer, got ${args.rows}`;
    return undefined;
  },
  async run(_spark, args, ctx) {
    let durationMs: number | undefined;
    let refreshMs: number;
    try {
      durationMs = args.duration !== undefined ? parseDuration(args.duration, '--duration') : undefined;
      refreshMs = parseDuration(args.refresh, '--refresh');
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const bootstrapServers = args['bootstrap-servers'] ?? ctx.bootstrapServers;
    const kafka = streamKafka('spark-ts-stream-watch', bootstrapServers);
    const consumer = kafka.consumer({ groupId: `spark-ts-stream-watch-${process.pid}-${Date.now()}` });
    await connectWithin(bootstrapServers, () => consumer.connect());
    const state = new LiveViewState();
    const interactive = ctx.interactive;
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await consumer.disconnect();
    };
    ctx.onShutdown(stop);
    await consumer.subscribe({ topics: [args['aggregates-topic'], args['alerts-topic']], fromBeginning: args['from-beginning'] });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const receivedAt = Date.now();
        const value = message.value?.toString() ?? '';
        if (topic === args['aggregates-topic']) {
          const a = parseAggregate(value);
          if (!a) return void state.unreadable++;
          const latency = state.addAggregate(a, receivedAt);
          if (!interactive) process.stdout.write(`${aggregateLine(a, latency)}\n`);
        } else {
          const a = parseAlert(value);
          if (!a) return void state.unreadable++;
          state.addAlert(a, receivedAt);
          if (!interactive) process.stdout.write(`${alertLine(a)}\n`);
        }
      },
    });
    ctx.log(`watching ${args['aggregates-topic']} and ${args['alerts-topic']} at ${bootstrapServers}${durationMs !== undefined ? ` for ${durationMs / 1000} s` : ' (Ctrl-C to stop)'}`);
    const t0 = Date.now();
    let lastSummary = Date.now();
    let watchedMs = 0;
    try {
      while (!ctx.signal.aborted && (durationMs === undefined || Date.now() - t0 < durationMs)) {
        await sleep(Math.min(refreshMs, durationMs === undefined ? refreshMs : Math.max(0, durationMs - (Date.now() - t0))), ctx.signal);
        if (interactive) {
          // Clear the screen and home the cursor, then draw the whole view.
          process.stdout.write(`\x1b[2J\x1b[H${renderLiveView(state, { rows: args.rows, now: Date.now() })}\n`);
        } else if (Date.now() - lastSummary >= refreshMs * 5) {
          lastSummary = Date.now();
          const l = state.latency();
          ctx.log(`aggregates ${state.aggregatesReceived}, alerts ${state.alertsReceived}, e2e latency p50 ${Math.round(l.p50 ?? NaN)} p95 ${Math.round(l.p95 ?? NaN)} p99 ${Math.round(l.p99 ?? NaN)} ms`);
        }
      }
    } finally {
      watchedMs = Date.now() - t0;
      await stop();
    }
    const l = state.latency();
    ctx.log(
      `watched ${(watchedMs / 1000).toFixed(0)} s: ${state.aggregatesReceived} aggregates, ${state.alertsReceived} alerts` +
        (l.count ? `, end-to-end latency p50 ${Math.round(l.p50 ?? 0)} ms, p95 ${Math.round(l.p95 ?? 0)} ms, p99 ${Math.round(l.p99 ?? 0)} ms` : ''),
    );
  },
});
