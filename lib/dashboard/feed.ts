import type { Admin, Consumer, Kafka } from 'kafkajs';
import { createKafka, resolveBootstrapServers } from '../kafka/config';
import { connectWithin } from '../stream/kafka';
import { parseAggregate, parseAlert } from '../stream/live-view';
import type { AlertMessage } from '../stream/sensors';
import { dlqReason, type DashboardAggregate, type KafkaStatus } from './state';

/** The topics the dashboard reads; the live aggregates topic is used instead of `aggregates` once it exists. */
export interface FeedTopics {
  live: string;
  aggregates: string;
  alerts: string;
  dlq: string;
  /** Only its end offsets are read (the readings' produce rate), never its messages. */
  data: string;
}

export interface FeedHandlers {
  aggregate(a: DashboardAggregate, receivedAt: number): void;
  alert(a: AlertMessage, receivedAt: number): void;
  dlq(reason: string): void;
  unreadable(topic: string): void;
  status(s: KafkaStatus): void;
}

export interface FeedOptions {
  bootstrapServers?: string;
  topics: FeedTopics;
  /** Read each topic from the first record at or after this time (epoch ms); 0 = from the beginning. */
  readFrom: number;
  /** How often the topic list and the data topic's end offsets are polled (ms). */
  pollMs?: number;
  /** Wait before reconnecting after a failure (ms). */
  retryMs?: number;
}

/** Which topics to subscribe to, of those that exist: the live aggregates when present, else the final ones. */
export function chooseTopics(existing: ReadonlySet<string>, t: FeedTopics): { aggregates: string | null; subscribe: string[] } {
  const aggregates = existing.has(t.live) ? t.live : existing.has(t.aggregates) ? t.aggregates : null;
  const subscribe = [aggregates, existing.has(t.alerts) ? t.alerts : null, existing.has(t.dlq) ? t.dlq : null].filter(
    (x): x is string => x !== null,
  );
  return { aggregates, subscribe };
}

class RestartFeed extends Error {}

/**
 * A kafkajs consumer of the aggregates, alerts and DLQ topics that never gives up: any failure (broker
 * unreachable, consumer crash, a poll that times out) is reported as `reconnecting` and the whole client is
 * rebuilt after `retryMs`. Each (re)start uses a fresh consumer group whose offsets are set first — where
 * this feed stopped for partitions it has read, else the first record at or after `readFrom` — so nothing is
 * read twice and nothing is skipped across reconnects. It subscribes only to topics that exist and restarts
 * when that set changes (the live topic appearing, or the job creating its topics after the dashboard).
 */
export class KafkaFeed {
  private readonly bootstrapServers: string;
  private readonly next = new Map<string, Map<number, string>>();
  private stopped = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private generation = 0;
  private status: KafkaStatus;
  /** The data topic's summed end offsets at the last poll, undefined while it is missing or Kafka is down. */
  dataEndOffsets: { t: number; sum: number } | undefined;

  constructor(
    private readonly opts: FeedOptions,
    private readonly handlers: FeedHandlers,
    // Few retries per request: a failure reaches the feed's own loop, which retries forever and says so.
    private readonly makeKafka: (bootstrapServers: string) => Kafka = (bs) =>
      createKafka('spark-ts-dashboard', bs, { retry: { initialRetryTime: 200, maxRetryTime: 1000, retries: 3 } }),
  ) {
    this.bootstrapServers = resolveBootstrapServers(opts.bootstrapServers);
    this.status = {
      state: 'connecting',
      bootstrap_servers: this.bootstrapServers,
      topics: [],
      aggregates_topic: null,
      error: null,
      failures: 0,
      since: new Date().toISOString(),
    };
  }

  start(): void {
    this.loop ??= this.run();
  }

  currentStatus(): KafkaStatus {
    return this.status;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private setStatus(patch: Partial<KafkaStatus>): void {
    const changedState = patch.state !== undefined && patch.state !== this.status.state;
    this.status = { ...this.status, ...patch, ...(changedState ? { since: new Date().toISOString() } : {}) };
    this.handlers.status(this.status);
  }

  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let failed = false;
      const kafka = this.makeKafka(this.bootstrapServers);
      const admin = kafka.admin();
      const session: { consumer?: Consumer } = {};
      try {
        await this.session(kafka, admin, session);
      } catch (e) {
        if (!(e instanceof RestartFeed) && !this.stopped) {
          failed = true;
          this.dataEndOffsets = undefined;
          this.setStatus({ state: 'reconnecting', error: e instanceof Error ? e.message : String(e), failures: this.status.failures + 1 });
        }
      } finally {
        this.generation++;
        // Disconnecting from a dead broker can hang in retries: bounded, and its failure is not news.
        await connectWithin(this.bootstrapServers, async () => {
          await session.consumer?.disconnect();
          await admin.disconnect();
        }).catch(() => undefined);
      }
      if (failed && !this.stopped) await this.pause(this.opts.retryMs ?? 2000);
    }
  }

  private async session(kafka: Kafka, admin: Admin, session: { consumer?: Consumer }): Promise<void> {
    const generation = this.generation;
    await connectWithin(this.bootstrapServers, () => admin.connect());
    const existing = async () => new Set(await connectWithin(this.bootstrapServers, () => admin.listTopics()));
    const chosen = chooseTopics(await existing(), this.opts.topics);
    let crash: Error | undefined;
    if (chosen.subscribe.length) {
      // Where to start each partition: after what this feed has read, else the first record at or after readFrom.
      const starts: Array<{ topic: string; partition: number; offset: string }> = [];
      for (const topic of chosen.subscribe) {
        const partitions = await connectWithin(this.bootstrapServers, () => admin.fetchTopicOffsetsByTimestamp(topic, this.opts.readFrom));
        const known = this.next.get(topic);
        for (const p of partitions) starts.push({ topic, partition: p.partition, offset: known?.get(p.partition) ?? p.offset });
      }
      const consumer = kafka.consumer({
        groupId: `spark-ts-dashboard-${process.pid}-${Date.now()}-${generation}`,
        maxWaitTimeInMs: 250,
        allowAutoTopicCreation: false,
        retry: { retries: 5, restartOnFailure: async () => false },
      });
      session.consumer = consumer;
      consumer.on(consumer.events.CRASH, (e) => {
        crash = e.payload.error;
        this.wake?.();
      });
      await connectWithin(this.bootstrapServers, () => consumer.connect());
      for (const topic of chosen.subscribe) await consumer.subscribe({ topic, fromBeginning: true });
      const running = consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          if (this.generation !== generation) return;
          const receivedAt = Date.now();
          let positions = this.next.get(topic);
          if (!positions) this.next.set(topic, (positions = new Map()));
          positions.set(partition, String(BigInt(message.offset) + 1n));
          this.dispatch(topic, message.value?.toString() ?? '', receivedAt);
        },
      });
      // Seeks made before run() joins the group are applied before its first fetch (kafkajs applies pending
      // seeks at the start of each fetch); a fresh group with one member is assigned every partition.
      // (admin.setOffsets would do the same with a committed offset, but it waits for a fetch: seconds per topic.)
      for (const s of starts) consumer.seek(s);
      await connectWithin(this.bootstrapServers, () => running);
    }
    this.setStatus({ state: 'connected', error: null, topics: chosen.subscribe, aggregates_topic: chosen.aggregates });
    const { data } = this.opts.topics;
    while (!this.stopped) {
      if (crash) throw crash;
      const now = await existing();
      const again = chooseTopics(now, this.opts.topics);
      if (again.subscribe.join('\n') !== chosen.subscribe.join('\n')) throw new RestartFeed();
      if (now.has(data)) {
        const offsets = await connectWithin(this.bootstrapServers, () => admin.fetchTopicOffsets(data));
        this.dataEndOffsets = { t: Date.now(), sum: offsets.reduce((s, o) => s + Number(o.high), 0) };
      } else this.dataEndOffsets = undefined;
      await this.pause(this.opts.pollMs ?? 1000);
    }
  }

  private dispatch(topic: string, value: string, receivedAt: number): void {
    const t = this.opts.topics;
    if (topic === t.live || topic === t.aggregates) {
      const a = parseAggregate(value);
      // A window start that is not a time cannot be placed on the curves: unreadable, like bad JSON.
      if (a && Number.isFinite(Date.parse(a.window_start))) this.handlers.aggregate(a as DashboardAggregate, receivedAt);
      else this.handlers.unreadable(topic);
    } else if (topic === t.alerts) {
      const a = parseAlert(value);
      if (a) this.handlers.alert(a, receivedAt);
      else this.handlers.unreadable(topic);
    } else if (topic === t.dlq) this.handlers.dlq(dlqReason(value));
  }
}
