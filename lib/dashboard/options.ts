import net from 'node:net';
import path from 'node:path';
import { ROOT } from '../runtime/paths';
import { parseDuration } from '../stream/rate';
import { TOPICS } from '../stream/sensors';
import type { DashboardOptions } from './server';

/** The topic the streaming job writes running (not yet final) window values to, when it does. */
export const LIVE_AGGREGATES_TOPIC = TOPICS.live;

export const DEFAULT_PORT = 4050;

/** What `spark-ts dashboard` takes on its command line. */
export interface DashboardArgs {
  host: string;
  port: number;
  'bootstrap-servers'?: string;
  'live-topic': string;
  'aggregates-topic': string;
  'alerts-topic': string;
  'dlq-topic': string;
  'data-topic': string;
  model: string;
  'reports-dir': string;
  history: string;
  'from-beginning': boolean;
}

/** The yargs options of `spark-ts dashboard` (kept beside the defaults they describe). */
export const DASHBOARD_CLI_OPTIONS = {
  host: { type: 'string', default: '127.0.0.1', describe: 'address to listen on; anything but loopback prints a warning' },
  port: { type: 'number', default: DEFAULT_PORT, describe: 'HTTP port (0 = any free port)' },
  'bootstrap-servers': { type: 'string', describe: 'Kafka bootstrap servers (default: KAFKA_BOOTSTRAP_SERVERS, else the embedded broker)' },
  'live-topic': {
    type: 'string',
    default: LIVE_AGGREGATES_TOPIC,
    describe: 'running window values; used instead of --aggregates-topic once it exists',
  },
  'aggregates-topic': { type: 'string', default: TOPICS.aggregates, describe: 'final 10 s aggregates' },
  'alerts-topic': { type: 'string', default: TOPICS.alerts, describe: 'alerts' },
  'dlq-topic': { type: 'string', default: TOPICS.dlq, describe: 'dead-lettered readings (counted by reason)' },
  'data-topic': { type: 'string', default: TOPICS.data, describe: 'readings: only its end offsets are read, for the input rate' },
  model: {
    type: 'string',
    default: path.join('models', 'model.json'),
    describe: "the CDC model.json to watch (cdc-consume's --state-dir, default models/)",
  },
  'reports-dir': { type: 'string', default: 'reports', describe: 'where `make bench` and `make run` write their reports' },
  history: { type: 'string', default: '5m', describe: 'event time kept per sensor, and how far back the topics are read at start' },
  'from-beginning': { type: 'boolean', default: false, describe: 'read the topics from their beginning instead' },
} as const;

/** True for 127.0.0.0/8, ::1 and localhost: addresses other machines cannot reach. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return host === '::1' || host === '::ffff:127.0.0.1';
}

/** Checks the arguments and resolves paths against the project root; a bad value throws a RangeError. */
export function resolveDashboardOptions(a: DashboardArgs): DashboardOptions {
  if (!(Number.isInteger(a.port) && a.port >= 0 && a.port <= 65535))
    throw new RangeError(`--port must be an integer from 0 to 65535, got ${a.port}`);
  if (!a.host || !(a.host === 'localhost' || net.isIP(a.host)))
    throw new RangeError(`--host must be an IP address or localhost, got "${a.host}"`);
  const historyMs = parseDuration(a.history, '--history');
  if (historyMs < 10_000) throw new RangeError('--history must be at least 10s (one window)');
  return {
    host: a.host,
    port: a.port,
    bootstrapServers: a['bootstrap-servers'],
    topics: {
      live: a['live-topic'],
      aggregates: a['aggregates-topic'],
      alerts: a['alerts-topic'],
      dlq: a['dlq-topic'],
      data: a['data-topic'],
    },
    modelFile: path.resolve(ROOT, a.model),
    reportsDir: path.resolve(ROOT, a['reports-dir']),
    historyMs,
    fromBeginning: a['from-beginning'],
  };
}
