import * as net from 'node:net';
import { parseConnectUrl, describeEndpoint, InvalidUrlError } from '../connect/url';
import { ConnectionError } from '../connect/errors';
import { startSpark, stopSpark, sparkStatus, embeddedSparkRemote } from '../runtime/spark-server';
import { startKafka, stopKafka } from '../runtime/kafka-broker';
import { resolveBootstrapServers } from '../kafka/config';
import { UsageError } from './job';
import { describeMismatches, staticMismatches, type ResolvedSettings } from './settings';

/** A Spark Connect server a command runs against, and whether this command started it. */
export interface SparkTarget {
  /** The full sc:// URL (may carry the token: never print it). */
  url: string;
  /** The printable endpoint, sc://host:port. */
  endpoint: string;
  started: boolean;
  /** Stops the server if this command started it; a no-op otherwise. */
  release(): Promise<void>;
}

export interface AcquireSparkOptions {
  /** --remote (or SPARK_REMOTE): use this server and start none. */
  remote?: string;
  settings: ResolvedSettings;
  log(line: string): void;
  /** Why the server is started, for the log line (`for the job`, `for the query`). */
  purpose: string;
}

/** How long a remote endpoint gets to accept a TCP connection before the command gives up. */
export const CONNECT_PROBE_MS = 3000;

/**
 * The server a command runs against: `--remote` as given (checked to be reachable), else the embedded
 * server reused when it runs (with a clear message when its static settings differ from the wanted ones),
 * else an embedded server started for this command and stopped by `release()`.
 */
export async function acquireSpark(opts: AcquireSparkOptions): Promise<SparkTarget> {
  const { settings, log } = opts;
  if (opts.remote) {
    let parsed;
    try {
      parsed = parseConnectUrl(opts.remote);
    } catch (err) {
      if (err instanceof InvalidUrlError) throw new UsageError(`--remote: ${err.message}`);
      throw err;
    }
    const endpoint = describeEndpoint(parsed);
    if (Object.keys(settings.explicitStatic).length) {
      log(
        describeMismatches(
          Object.entries(settings.explicitStatic).map(([key, wanted]) => ({ key, wanted, running: undefined })),
          `the remote server ${endpoint}`,
          'Set them on that server when it starts (its spark-defaults.conf or its start command); --remote only connects.',
        ).replace(/ \(the server has it unset\)/g, ''),
      );
    }
    await probeEndpoint(parsed.host, parsed.port, endpoint);
    return { url: opts.remote, endpoint, started: false, release: async () => undefined };
  }

  const status = await sparkStatus();
  if (status.running) {
    const { state } = await startSpark(); // reuses it (waiting if it is still starting)
    const mismatches = staticMismatches(settings.static, state.static_conf ?? {});
    if (mismatches.length) {
      log(
        describeMismatches(
          mismatches,
          `the running embedded Spark server (${state.url}, pid ${state.pid})`,
          'The job runs with the server as it is. To use these settings, stop it (`spark-ts down spark`) and submit again: ' +
            'submit then starts a server with them for the job.',
        ),
      );
    }
    return { url: embeddedSparkRemote(state), endpoint: state.url, started: false, release: async () => undefined };
  }

  const t0 = Date.now();
  log(
    `starting the embedded Spark Connect server ${opts.purpose} (master ${settings.static['spark.master'] ?? 'local[*]'}); it stops when the command ends`,
  );
  const { state, started } = await startSpark({ conf: settings.static });
  if (started)
    log(`spark: started in ${((Date.now() - t0) / 1000).toFixed(1)}s at ${state.url} (pid ${state.pid}, UI ${state.ui_url ?? 'unknown'})`);
  let released = false;
  return {
    url: embeddedSparkRemote(state),
    endpoint: state.url,
    started,
    release: async () => {
      if (!started || released) return;
      released = true;
      const how = await stopSpark();
      log(`spark: ${how} (pid ${state.pid})`);
    },
  };
}

/** Fails fast (naming the endpoint) when nothing accepts a connection there. */
export function probeEndpoint(host: string, port: number, endpoint: string, timeoutMs = CONNECT_PROBE_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const fail = (why: string) => {
      socket.destroy();
      reject(new ConnectionError(`cannot reach the Spark Connect server at ${endpoint}: ${why}`, { endpoint }));
    };
    socket.setTimeout(timeoutMs, () => fail(`no answer within ${timeoutMs / 1000}s`));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      fail(err.code === 'ECONNREFUSED' ? 'connection refused (is the server running, and is the port right?)' : err.message),
    );
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
  });
}

/** The Kafka a job uses, and whether this command started the embedded broker for it. */
export interface KafkaTarget {
  bootstrapServers: string;
  started: boolean;
  release(): Promise<void>;
}

/** An explicit --bootstrap-servers or KAFKA_BOOTSTRAP_SERVERS is used as is; otherwise the embedded broker (started if needed). */
export async function acquireKafka(explicit: string | undefined, log: (line: string) => void): Promise<KafkaTarget> {
  if (explicit || process.env.KAFKA_BOOTSTRAP_SERVERS) {
    return { bootstrapServers: resolveBootstrapServers(explicit), started: false, release: async () => undefined };
  }
  const t0 = Date.now();
  const { state, started } = await startKafka();
  if (started)
    log(
      `kafka: started the embedded broker in ${((Date.now() - t0) / 1000).toFixed(1)}s at ${state.bootstrap_servers} (pid ${state.pid}); it stops when the job ends`,
    );
  let released = false;
  return {
    bootstrapServers: state.bootstrap_servers,
    started,
    release: async () => {
      if (!started || released) return;
      released = true;
      log(`kafka: ${await stopKafka()} (pid ${state.pid})`);
    },
  };
}
