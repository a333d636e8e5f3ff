import { defineJob, UsageError } from '../lib/cli/job';
import { connectWithin, READER_MAX_WAIT_MS, streamKafka } from '../lib/stream/kafka';
import { LiveViewState, aggregateLine, alertLine, parseAlert, parseLiveAggregate, renderLiveView } from '../lib/stream/live-view';
import type { Kafka } from 'kafkajs';
import { topicOffsets } from '../lib/kafka/topics';
import { sleep } from '../lib/connect';
import { parseDuration } from '../lib/stream/rate';
import { TOPICS } from '../lib/stream/sensors';

interface WatchArgs extends Record<string, unknown> {
  'live-topic': string;
  'alerts-topic': string;
  duration?: string;
  rows: number;
  refresh: string;
  'from-beginning': boolean;
  'until-end': boolean;
  'bootstrap-servers'?: string;
}

export default defineJob<WatchArgs, { args: WatchArgs; durationMs?: number; refreshMs: number }>({
  name: 'stream-watch',
  description: 'Live terminal view of the streaming job: open and last closed 10 s window per sensor, recent alerts, live latency',
  needs: ['kafka'],
  options: {
    'live-topic': { type: 'string', default: TOPICS.live, describe: 'topic of the live 10 s windows (running updates and closed windows)' },
    'alerts-topic': { type: 'string', default: TOPICS.alerts, describe: 'topic of the alerts' },
    duration: { type: 'string', describe: 'stop after this long: 30s, 5m (default: until Ctrl-C)' },
    rows: { type: 'number', default: 20, describe: 'sensors shown in the table' },
    refresh: { type: 'string', default: '1s', describe: 'screen refresh interval (TTY), summary interval otherwise ×5' },
    'from-beginning': {
      type: 'boolean',
      default: false,
      describe: 'read the topics from their start instead of new messages only (a message already there is timed at its write time)',
    },
    'until-end': {
      type: 'boolean',
      default: false,
      describe: 'with --from-beginning: stop once every message the topics held at the start has been read (--duration still caps it)',
    },
    'bootstrap-servers': { type: 'string', describe: 'Kafka bootstrap servers (default: the embedded broker)' },
  },
  parse(args) {
    const durationMs = args.duration !== undefined ? parseDuration(args.duration, '--duration') : undefined;
    const refreshMs = parseDuration(args.refresh, '--refresh');
    if (refreshMs < 100) return new UsageError('--refresh must be at least 100ms');
    if (!(Number.isInteger(args.rows) && args.rows > 0)) return new UsageError(`--rows must be a positive integer, got ${args.rows}`);
    if (args['until-end'] && !args['from-beginning'])
      return new UsageError('--until-end reads what the topics held at the start, so it needs --from-beginning');
    return { args, durationMs, refreshMs };
  },
  async run(_spark, { args, durationMs, refreshMs }, ctx) {
    const bootstrapServers = args['bootstrap-servers'] ?? ctx.bootstrapServers;
    const kafka = streamKafka('spark-ts-stream-watch', bootstrapServers);
    const consumer = kafka.consumer({ groupId: `spark-ts-stream-watch-${process.pid}-${Date.now()}`, maxWaitTimeInMs: READER_MAX_WAIT_MS });
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
    const topics = [args['live-topic'], args['alerts-topic']];
    // --from-beginning: the topics' end offsets now (--until-end reads to them), and per partition the offset
    // after the last message read.
    const startEnds = args['from-beginning'] ? await endOffsets(kafka, topics) : undefined;
    const ends = args['until-end'] ? startEnds : undefined;
    // A message already in its topic when the view started (read from the backlog) is timed at its write
    // time, when a live reader would have had it: its time of reading here says only how old it is.
    let backlog = 0;
    const inBacklog = (topic: string, partition: number, offset: string) =>
      startEnds !== undefined && Number(offset) < (startEnds.get(`${topic}/${partition}`)?.high ?? 0);
    const next = new Map<string, number>();
    // A partition nothing is read from starts at its low offset: empty, or emptied by retention, it is read already.
    const readToEnd = () => ends !== undefined && [...ends].every(([k, { low, high }]) => (next.get(k) ?? low) >= high);
    await consumer.subscribe({ topics: [args['live-topic'], args['alerts-topic']], fromBeginning: args['from-beginning'] });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const old = inBacklog(topic, partition, message.offset);
        const receivedAt = old ? Number(message.timestamp) : Date.now();
        if (old && topic === args['live-topic']) backlog++;
        next.set(`${topic}/${partition}`, Number(message.offset) + 1);
        const value = message.value?.toString() ?? '';
        if (topic === args['live-topic']) {
          const a = parseLiveAggregate(value);
          if (!a) return void state.unreadable++;
          const latency = state.addLive(a, receivedAt);
          // Off a terminal: one line per closed window (the running updates only feed the summary).
          if (!interactive && a.final) process.stdout.write(`${aggregateLine(a, latency)}\n`);
        } else {
          const a = parseAlert(value);
          if (!a) return void state.unreadable++;
          state.addAlert(a, receivedAt);
          if (!interactive) process.stdout.write(`${alertLine(a)}\n`);
        }
      },
    });
    const until = [ends ? 'to the end' : '', durationMs !== undefined ? `for ${durationMs / 1000} s at most` : '']
      .filter(Boolean)
      .join(', ');
    ctx.log(
      `watching ${args['live-topic']} and ${args['alerts-topic']} at ${bootstrapServers}${until ? ` ${until}` : ' (Ctrl-C to stop)'}`,
    );
    const t0 = Date.now();
    let lastSummary = Date.now();
    let lastDraw = 0;
    let watchedMs = 0;
    try {
      while (!ctx.signal.aborted && (durationMs === undefined || Date.now() - t0 < durationMs) && !readToEnd()) {
        const left = durationMs === undefined ? refreshMs : Math.max(0, durationMs - (Date.now() - t0));
        // Reading to the end is checked often; the view is still drawn once per refresh.
        await sleep(Math.min(refreshMs, left, ends ? 100 : refreshMs), ctx.signal);
        if (Date.now() - lastDraw < refreshMs && !readToEnd()) continue;
        lastDraw = Date.now();
        if (interactive) {
          // Clear the screen and home the cursor, then draw the whole view.
          process.stdout.write(`\x1b[2J\x1b[H${renderLiveView(state, { rows: args.rows, now: Date.now() })}\n`);
        } else if (Date.now() - lastSummary >= refreshMs * 5) {
          lastSummary = Date.now();
          const l = state.latency();
          const rate = state.processedRate();
          ctx.log(
            `updates ${state.aggregatesReceived}, windows closed ${state.windowsClosed}, alerts ${state.alertsReceived}, processed ${rate === null ? '-' : Math.round(rate)} readings/s, live latency p50 ${Math.round(l.p50 ?? NaN)} p95 ${Math.round(l.p95 ?? NaN)} p99 ${Math.round(l.p99 ?? NaN)} ms`,
          );
        }
      }
    } finally {
      watchedMs = Date.now() - t0;
      await stop();
    }
    const l = state.latency();
    ctx.log(
      `watched ${(watchedMs / 1000).toFixed(ends ? 1 : 0)} s${ends ? (readToEnd() ? ' (to the end)' : ' (NOT to the end)') : ''}: ${state.aggregatesReceived} live updates, ${state.windowsClosed} windows closed, ${state.alertsReceived} alerts` +
        (l.count
          ? `, live latency p50 ${Math.round(l.p50 ?? 0)} ms, p95 ${Math.round(l.p95 ?? 0)} ms, p99 ${Math.round(l.p99 ?? 0)} ms` +
            (backlog ? ` (${backlog} messages read from the backlog, timed at their write time)` : '')
          : ''),
    );
  },
});

/** The end offset of every partition of `topics`, keyed `topic/partition`. */
async function endOffsets(kafka: Kafka, topics: string[]): Promise<Map<string, { low: number; high: number }>> {
  return new Map((await topicOffsets(kafka, topics)).map((p) => [`${p.topic}/${p.partition}`, { low: p.low, high: p.high }]));
}
