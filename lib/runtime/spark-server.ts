import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { CONF_DIR, JARS_DIR, LOG_DIR, ROOT, RUN_DIR, SPARK_STATE_FILE } from './paths';
import { readPropertiesFile, splitSettings } from './conf';
import { installedVersion, pinnedVersion } from './versions';
import {
  RuntimeError,
  checkJava,
  isPortFree,
  isRunning,
  sleep,
  spawnDaemon,
  stopProcess,
  tail,
  recordStart,
  waitUntilReady,
  withStartLock,
} from './process';
import { readJson, writeJson } from '../util/json';
import { SparkConnectClient } from '../connect/client';
import { JAVA_MODULE_OPTIONS } from './jvm';
import { clusterDriverSettings } from './spark-cluster';

export const SPARK_MAIN_CLASS = 'org.apache.spark.sql.connect.service.SparkConnectServer';
export const DEFAULT_SPARK_PORT = Number(process.env.SPARK_TS_SPARK_PORT ?? 15002);

/** What `.run/spark.json` holds (mode 0600: it carries the token). */
export interface SparkState {
  url: string;
  token: string;
  pid: number;
  ui_url: string | null;
  port: number;
  master: string;
  /** Static settings the server was started with, so a job can tell when its own differ. */
  static_conf: Record<string, string>;
  started_at: string;
  log: string;
}

export interface SparkStartOptions {
  port?: number;
  /** Settings on top of spark-conf/spark-defaults.conf (static ones are used; session ones are ignored here). */
  conf?: Record<string, string>;
  propertiesFile?: string;
  readyTimeoutMs?: number;
}

export interface StartResult<S> {
  state: S;
  /** False when a healthy server was already running and was reused. */
  started: boolean;
}

/** The static settings a start would use: defaults file, then `propertiesFile`, then `conf`. */
export function sparkStaticSettings(opts: SparkStartOptions = {}): Record<string, string> {
  const merged = {
    ...readPropertiesFile(path.join(CONF_DIR, 'spark-defaults.conf')),
    ...(opts.propertiesFile ? readPropertiesFile(opts.propertiesFile) : {}),
    // A smaller (or larger) driver without a properties file, e.g. when several servers share one machine.
    ...(process.env.SPARK_TS_DRIVER_MEMORY ? { 'spark.driver.memory': process.env.SPARK_TS_DRIVER_MEMORY } : {}),
    ...(opts.conf ?? {}),
  };
  const st = splitSettings(merged).static;
  st['spark.connect.grpc.binding.port'] = String(opts.port ?? st['spark.connect.grpc.binding.port'] ?? DEFAULT_SPARK_PORT);
  return st;
}

/**
 * The JVM options of `spark.driver.extraJavaOptions`, which the server's JVM takes as spark-submit gives them
 * to a client-mode driver (the server is the driver), e.g. `-XX:+UseParallelGC` or a profiler agent. Split on
 * whitespace; a quoted option (a value with spaces) is refused rather than split wrongly.
 */
export function driverJavaOptions(conf: Readonly<Record<string, string>>): string[] {
  const value = conf['spark.driver.extraJavaOptions'] ?? '';
  if (/["']/.test(value)) {
    throw new RuntimeError(
      `spark.driver.extraJavaOptions: quoted options are not supported here (${value}); give each option without quotes and without spaces in its value`,
    );
  }
  return value.split(/\s+/).filter(Boolean);
}

/**
 * The embedded local server's task slots: `local[*]` becomes one slot more than the machine has cores
 * (`SPARK_TS_EXTRA_TASK_SLOTS`, default 1; 0 gives plain `local[*]`), with `spark.default.parallelism` kept
 * at the core count so every job splits its data as before. Why: the streaming job runs five queries on one
 * server, and with one slot per core the live query's 500 ms batches waited for the heavy query's tasks to
 * free a slot. Measured at 10k readings/s (newest-window live p95, stream bench, same hour): 1.73 s with one
 * extra slot against 3.48 s without. Other masters, and a parallelism set by the user, are left alone.
 */
export function localTaskSlots(conf: Record<string, string>, cores: number, extra: string | undefined): Record<string, string> {
  const n = extra === undefined || extra === '' ? 1 : Number(extra);
  if (!Number.isInteger(n) || n < 0)
    throw new RuntimeError(`SPARK_TS_EXTRA_TASK_SLOTS must be a whole number >= 0, got ${JSON.stringify(extra)}`);
  if ((conf['spark.master'] ?? 'local[*]') !== 'local[*]' || n === 0) return {};
  return {
    'spark.master': `local[${cores + n}]`,
    ...(conf['spark.default.parallelism'] === undefined ? { 'spark.default.parallelism': String(cores) } : {}),
  };
}

/**
 * glibc's malloc arenas for the server JVM: the user's MALLOC_ARENA_MAX, else 2. glibc gives every thread
 * that contends for malloc an arena of its own, up to 8 per core, and returns little of them to the system:
 * the native memory of RocksDB, the Kafka clients and compression grew with the server's threads. Measured
 * with Native Memory Tracking over a 10-minute stream at 10k readings/s: the RSS beyond what the JVM accounts
 * for grew from 194 to 411 MiB between minute 4 and minute 10 with glibc's default, from 157 to 254 MiB with
 * 2 arenas, at the same throughput. Hadoop's launcher caps it the same way (at 4).
 */
export function mallocArenaMax(env: NodeJS.ProcessEnv): string {
  return env.MALLOC_ARENA_MAX?.trim() ? env.MALLOC_ARENA_MAX : '2';
}

export function readSparkState(): SparkState | undefined {
  return readJson<SparkState>(SPARK_STATE_FILE);
}

/** The embedded server's `sc://` URL with its token (what `SparkSession.builder().remote(...)` takes). */
export function embeddedSparkRemote(state: Pick<SparkState, 'url' | 'token'>): string {
  return state.token ? `${state.url.replace(/\/$/, '')}/;token=${encodeURIComponent(state.token)}` : state.url;
}

/**
 * Where programs of this project connect when not told: SPARK_REMOTE, else the running embedded server
 * (.run/spark.json). lib/connect itself knows only SPARK_REMOTE.
 */
export function sparkRemote(): string {
  if (process.env.SPARK_REMOTE) return process.env.SPARK_REMOTE;
  const state = readSparkState();
  if (state) return embeddedSparkRemote(state);
  throw new Error('no Spark Connect server: set SPARK_REMOTE or start the embedded server (`spark-ts up spark`)');
}

/** The running embedded server, if its state file names a live process that answers with its token. */
export async function sparkStatus(): Promise<{ running: boolean; healthy: boolean; state?: SparkState }> {
  const state = readSparkState();
  if (!state || !isRunning(state.pid, SPARK_MAIN_CLASS)) return { running: false, healthy: false };
  return { running: true, healthy: await pingSpark(state.port, state.token, 5000), state };
}

/** Starts the Spark Connect server, or reuses the one already running and healthy. */
export function startSpark(opts: SparkStartOptions = {}): Promise<StartResult<SparkState>> {
  return withStartLock(SPARK_STATE_FILE, () => startSparkLocked(opts));
}

async function startSparkLocked(opts: SparkStartOptions): Promise<StartResult<SparkState>> {
  const existing = await sparkStatus();
  if (existing.running && existing.healthy && existing.state) return { state: existing.state, started: false };
  if (existing.running && existing.state) {
    // Alive but not answering: maybe still starting from another command; wait for it before giving up.
    if (
      await waitForSpark(existing.state, opts.readyTimeoutMs ?? 180_000).then(
        () => true,
        () => false,
      )
    ) {
      return { state: existing.state, started: false };
    }
    throw new RuntimeError(
      `the Spark Connect server (pid ${existing.state.pid}) is running but not answering; stop it with \`spark-ts down\`\n${tail(existing.state.log)}`,
    );
  }
  checkJava();
  const jars = path.join(JARS_DIR, 'spark');
  if (!fs.existsSync(path.join(jars, '.complete'))) throw new RuntimeError(`Spark jars not found in ${jars}: run \`make setup\` first`);
  const pinned = pinnedVersion('spark');
  const installed = installedVersion('spark');
  if (installed !== pinned) {
    throw new RuntimeError(`the project pins Spark ${pinned} but ${jars} holds Spark ${installed ?? 'nothing'}: run \`make setup\``);
  }

  const conf = sparkStaticSettings(opts);
  // The driver of a cluster: the jars its executors fetch (and, for the local cluster, its RPC secret).
  const clusterDriver = clusterDriverSettings(conf['spark.master'] ?? 'local[*]', conf);
  Object.assign(conf, clusterDriver?.conf);
  const port = Number(conf['spark.connect.grpc.binding.port']);
  if (!(await isPortFree(port))) {
    throw new RuntimeError(
      `port ${port} on 127.0.0.1 is already in use, so the Spark Connect server cannot listen there; ` +
        `free it or choose another port with SPARK_TS_SPARK_PORT=<port> (or --conf spark.connect.grpc.binding.port=<port>)`,
    );
  }
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const log = path.join(LOG_DIR, 'spark.log');
  fs.writeFileSync(log, '');
  const token = randomBytes(32).toString('hex');
  const local = localTaskSlots(conf, os.availableParallelism(), process.env.SPARK_TS_EXTRA_TASK_SLOTS);
  const master = local['spark.master'] ?? conf['spark.master'] ?? 'local[*]';
  const sysProps: Record<string, string> = {
    ...conf,
    ...local,
    'spark.master': master,
    'spark.app.name': conf['spark.app.name'] ?? 'spark-ts',
    'spark.connect.grpc.binding.address': '127.0.0.1',
    'spark.driver.host': '127.0.0.1',
    'spark.driver.bindAddress': '127.0.0.1',
    'spark.app.id': conf['spark.app.id'] ?? `spark-ts-${randomUUID().slice(0, 8)}`,
  };
  delete sysProps['spark.driver.memory'];
  const args = [
    ...JAVA_MODULE_OPTIONS,
    `-Xmx${conf['spark.driver.memory'] ?? '2g'}`,
    ...driverJavaOptions(conf),
    `-Dlog4j2.configurationFile=${path.join(CONF_DIR, 'log4j2.properties')}`,
    ...(clusterDriver?.jvmArgs ?? []),
    ...Object.entries(sysProps).map(([k, v]) => `-D${k}=${v}`),
    '-cp',
    `${jars}/*`,
    SPARK_MAIN_CLASS,
  ];
  // The token travels in the environment, never on the command line, so `ps` does not show it.
  const env = {
    ...process.env,
    MALLOC_ARENA_MAX: mallocArenaMax(process.env),
    SPARK_CONNECT_AUTHENTICATE_TOKEN: token,
    SPARK_LOCAL_IP: '127.0.0.1',
  };
  fs.mkdirSync(RUN_DIR, { recursive: true });
  const pid = spawnDaemon('java', args, { env, cwd: ROOT, logFile: log });
  const state: SparkState = {
    url: `sc://127.0.0.1:${port}`,
    token,
    pid,
    ui_url: null,
    port,
    master,
    static_conf: conf,
    started_at: new Date().toISOString(),
    log,
  };
  await recordStart(SPARK_STATE_FILE, state, { pid, marker: SPARK_MAIN_CLASS }, () => waitForSpark(state, opts.readyTimeoutMs ?? 180_000));
  state.ui_url = findUiUrl(log);
  writeJson(SPARK_STATE_FILE, state, { mode: 0o600 });
  return { state, started: true };
}

async function waitForSpark(state: SparkState, timeoutMs: number): Promise<void> {
  await waitUntilReady(
    { pid: state.pid, marker: SPARK_MAIN_CLASS, log: state.log, name: 'the Spark Connect server' },
    () => pingSpark(state.port, state.token, 3000),
    timeoutMs,
    500,
  );
}

/** A real RPC with the token: the server's Spark version. */
export async function pingSpark(port: number, token: string, timeoutMs: number): Promise<boolean> {
  const client = new SparkConnectClient({
    host: '127.0.0.1',
    port,
    token,
    userId: 'spark-ts-runtime',
    useSsl: false,
    sessionId: randomUUID(),
    userAgent: 'spark-ts-runtime',
  });
  try {
    await Promise.race([client.analyze({ spark_version: {} }), sleep(timeoutMs).then(() => Promise.reject(new Error('timeout')))]);
    return true;
  } catch {
    return false;
  } finally {
    client.transport.close();
  }
}

/** The UI address from the server's log: Jetty's first port, or the last one Spark moved on to when it was taken. */
function findUiUrl(log: string): string | null {
  const text = tail(log, 400);
  const start = [...text.matchAll(/Start Jetty (\S+):(\d+) for SparkUI/g)].at(-1);
  if (!start) return null;
  const moved = [...text.slice(start.index).matchAll(/Service 'SparkUI' could not bind on port \d+\. Attempting port (\d+)/g)].at(-1);
  return `http://${start[1]}:${moved ? moved[1] : start[2]}`;
}

/** Stops the embedded server: graceful first, then killed after a timeout. */
export async function stopSpark(): Promise<'stopped' | 'killed' | 'not-running'> {
  const state = readSparkState();
  if (!state) return 'not-running';
  const result = await stopProcess(state.pid, SPARK_MAIN_CLASS, 30_000);
  fs.rmSync(SPARK_STATE_FILE, { force: true });
  return result;
}
