import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CLUSTER_STATE_FILE, JARS_DIR, LOG_DIR, RUN_DIR } from './paths';
import { JAVA_MODULE_OPTIONS } from './jvm';
import { RuntimeError, checkJava, isPortFree, isRunning, sleep, spawnDaemon, stopProcess, tail, withStartLock } from './process';
import { readJson, writeJson } from '../util/json';

/**
 * A Spark standalone cluster on loopback: one master and N workers, started from the jars `make setup`
 * downloads. The Spark Connect server joins it as the driver (spark-server.ts asks `clusterDriverSettings`
 * for the settings when its master is this cluster's URL).
 */
export const MASTER_MAIN_CLASS = 'org.apache.spark.deploy.master.Master';
export const WORKER_MAIN_CLASS = 'org.apache.spark.deploy.worker.Worker';
export const DEFAULT_MASTER_PORT = Number(process.env.SPARK_TS_MASTER_PORT ?? 7077);
export const DEFAULT_MASTER_UI_PORT = Number(process.env.SPARK_TS_MASTER_UI_PORT ?? 8080);
export const DEFAULT_WORKER_CORES = 1;
export const DEFAULT_WORKER_MEMORY = '1g';

/**
 * The jars a job brings on top of a stock Spark distribution: the Kafka source and its client. Workers
 * run a stock distribution (SPARK_HOME/jars without these), and the driver ships these to its executors
 * with `spark.jars`, as `spark-submit --jars/--packages` does on a real cluster.
 */
const JOB_JAR = /^(spark-sql-kafka-0-10|spark-token-provider-kafka-0-10|kafka-clients|commons-pool2)[_-]/;

export interface WorkerState {
  index: number;
  pid: number;
  cores: number;
  memory: string;
  work_dir: string;
  log: string;
}

/** What `.run/cluster.json` holds. The RPC secret itself is only in `secret_args` (mode 0600). */
export interface ClusterState {
  master_url: string;
  master_pid: number;
  master_ui_url: string;
  master_log: string;
  workers: WorkerState[];
  /** A JVM argument file (`java @file`) with spark.authenticate and its secret: never on a command line. */
  secret_args: string;
  spark_home: string;
  /** The jars the driver ships to executors (spark.jars). */
  job_jars: string[];
  started_at: string;
}

export interface ClusterStartOptions {
  workers: number;
  workerCores?: number;
  /** Memory each worker offers to executors (Spark's format: 512m, 1g). One executor per worker uses all of it. */
  workerMemory?: string;
  masterPort?: number;
  masterUiPort?: number;
  readyTimeoutMs?: number;
}

export interface MasterView {
  status: string;
  aliveworkers: number;
  cores: number;
  coresused: number;
  workers: Array<{ id: string; host: string; state: string; cores: number; memory: number }>;
  activeapps: Array<{ id: string; name: string; cores: number; state: string }>;
}

const CLUSTER_DIR = path.join(RUN_DIR, 'cluster');

export function readClusterState(): ClusterState | undefined {
  return readJson<ClusterState>(CLUSTER_STATE_FILE);
}

/** The master's own view (its UI's JSON), or undefined when it does not answer. */
export async function masterView(state: Pick<ClusterState, 'master_ui_url'>, timeoutMs = 3000): Promise<MasterView | undefined> {
  try {
    const res = await fetch(`${state.master_ui_url}/json/`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? ((await res.json()) as MasterView) : undefined;
  } catch {
    return undefined;
  }
}

export async function clusterStatus(): Promise<{ running: boolean; state?: ClusterState; view?: MasterView }> {
  const state = readClusterState();
  if (!state || !isRunning(state.master_pid, MASTER_MAIN_CLASS)) return { running: false, state };
  return { running: true, state, view: await masterView(state) };
}

/** SPARK_HOME for the workers: a stock distribution's layout (jars/), linked to the downloaded jars. */
function prepareSparkHome(): { home: string; jobJars: string[] } {
  const jarsDir = path.join(JARS_DIR, 'spark');
  if (!fs.existsSync(path.join(jarsDir, '.complete')))
    throw new RuntimeError(`Spark jars not found in ${jarsDir}: run \`make setup\` first`);
  const home = path.join(CLUSTER_DIR, 'spark-home');
  fs.rmSync(home, { recursive: true, force: true });
  fs.mkdirSync(path.join(home, 'jars'), { recursive: true });
  for (const name of fs.readdirSync(jarsDir).filter((n) => n.endsWith('.jar') && !JOB_JAR.test(n))) {
    fs.symlinkSync(path.join(jarsDir, name), path.join(home, 'jars', name));
  }
  const extra = jobJars();
  if (extra.length < 3) throw new RuntimeError(`the Kafka source jars are missing from ${jarsDir}: run \`make setup\``);
  return { home, jobJars: extra };
}

function daemonEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, SPARK_HOME: home, SPARK_SCALA_VERSION: '2.13', SPARK_LOCAL_IP: '127.0.0.1', ...extra };
}

function daemonArgs(secretArgs: string, heap: string, home: string): string[] {
  return [
    ...JAVA_MODULE_OPTIONS,
    `-Xmx${heap}`,
    `@${secretArgs}`,
    `-Dlog4j2.configurationFile=${path.join(CLUSTER_DIR, 'log4j2.properties')}`,
    '-cp',
    `${home}/jars/*`,
  ];
}

/**
 * Starts the master and N workers (or reuses a running cluster with at least that many live workers) and
 * waits until the master sees them all alive.
 */
export function startCluster(opts: ClusterStartOptions): Promise<{ state: ClusterState; started: boolean }> {
  return withStartLock(CLUSTER_STATE_FILE, () => startClusterLocked(opts));
}

async function startClusterLocked(opts: ClusterStartOptions): Promise<{ state: ClusterState; started: boolean }> {
  if (!Number.isInteger(opts.workers) || opts.workers < 1)
    throw new RuntimeError(`--workers must be a whole number of at least 1, got ${opts.workers}`);
  const existing = await clusterStatus();
  if (existing.running && existing.state) {
    const alive = existing.state.workers.filter((w) => isRunning(w.pid, WORKER_MAIN_CLASS)).length;
    if (alive === opts.workers && existing.state.workers.length === opts.workers) return { state: existing.state, started: false };
    throw new RuntimeError(
      `a Spark cluster already runs at ${existing.state.master_url} with ${alive} live worker(s) of ${existing.state.workers.length}; ` +
        'stop it first (`spark-ts down spark`) to start one with a different shape',
    );
  }
  checkJava();
  const masterPort = opts.masterPort ?? DEFAULT_MASTER_PORT;
  const uiPort = opts.masterUiPort ?? DEFAULT_MASTER_UI_PORT;
  for (const [p, setting] of [
    [masterPort, 'SPARK_TS_MASTER_PORT'],
    [uiPort, 'SPARK_TS_MASTER_UI_PORT'],
  ] as const) {
    if (!(await isPortFree(p)))
      throw new RuntimeError(
        `port ${p} on 127.0.0.1 is already in use, so the Spark master cannot listen there; free it or set ${setting}=<port>`,
      );
  }
  const cores = opts.workerCores ?? DEFAULT_WORKER_CORES;
  const memory = opts.workerMemory ?? DEFAULT_WORKER_MEMORY;
  if (!/^\d+[mg]$/.test(memory)) throw new RuntimeError(`worker memory must look like 512m or 1g, got "${memory}"`);

  fs.mkdirSync(CLUSTER_DIR, { recursive: true });
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const { home, jobJars } = prepareSparkHome();
  // The daemons log what the master and workers decide (registrations, executor launches and losses).
  fs.writeFileSync(
    path.join(CLUSTER_DIR, 'log4j2.properties'),
    [
      'rootLogger.level = warn',
      'rootLogger.appenderRef.stdout.ref = console',
      'appender.console.type = Console',
      'appender.console.name = console',
      'appender.console.layout.type = PatternLayout',
      'appender.console.layout.pattern = %d{HH:mm:ss.SSS} %p %c{1}: %m%n',
      'logger.deploy.name = org.apache.spark.deploy',
      'logger.deploy.level = info',
      '',
    ].join('\n'),
  );
  // One secret for master, workers and driver (standalone mode has no per-application secret); workers hand
  // it to their executors in the environment. It sits in a 0600 file that the JVMs read as `@file`.
  const secretArgs = path.join(CLUSTER_DIR, 'auth.args');
  fs.writeFileSync(secretArgs, `-Dspark.authenticate=true\n-Dspark.authenticate.secret=${randomBytes(32).toString('hex')}\n`, {
    mode: 0o600,
  });
  fs.chmodSync(secretArgs, 0o600);

  const masterLog = path.join(LOG_DIR, 'spark-master.log');
  fs.writeFileSync(masterLog, '');
  const masterPid = spawnDaemon(
    'java',
    [
      ...daemonArgs(secretArgs, '256m', home),
      '-Dspark.master.rest.enabled=false',
      MASTER_MAIN_CLASS,
      '--host',
      '127.0.0.1',
      '--port',
      String(masterPort),
      '--webui-port',
      String(uiPort),
    ],
    { env: daemonEnv(home), cwd: CLUSTER_DIR, logFile: masterLog },
  );
  const state: ClusterState = {
    master_url: `spark://127.0.0.1:${masterPort}`,
    master_pid: masterPid,
    master_ui_url: `http://127.0.0.1:${uiPort}`,
    master_log: masterLog,
    workers: [],
    secret_args: secretArgs,
    spark_home: home,
    job_jars: jobJars,
    started_at: new Date().toISOString(),
  };
  writeJson(CLUSTER_STATE_FILE, state, { mode: 0o600 });
  try {
    // Recorded after each worker: if a later one fails to start, stopCluster (from the file) stops those running.
    for (let i = 1; i <= opts.workers; i++) {
      state.workers.push(startWorker(state, i, cores, memory));
      writeJson(CLUSTER_STATE_FILE, state, { mode: 0o600 });
    }
    await waitForWorkers(state, opts.workers, opts.readyTimeoutMs ?? 120_000);
  } catch (err) {
    await stopCluster();
    throw err;
  }
  return { state, started: true };
}

function startWorker(state: ClusterState, index: number, cores: number, memory: string): WorkerState {
  const workDir = path.join(CLUSTER_DIR, `worker-${index}`);
  fs.mkdirSync(path.join(workDir, 'tmp'), { recursive: true });
  const log = path.join(LOG_DIR, `spark-worker-${index}.log`);
  fs.writeFileSync(log, '');
  const pid = spawnDaemon(
    'java',
    [
      ...daemonArgs(state.secret_args, '256m', state.spark_home),
      WORKER_MAIN_CLASS,
      '--host',
      '127.0.0.1',
      '--webui-port',
      '0',
      '--cores',
      String(cores),
      '--memory',
      memory,
      '--work-dir',
      workDir,
      state.master_url,
    ],
    // Executors inherit the worker's scratch directory (shuffle and spill files) through SPARK_LOCAL_DIRS.
    { env: daemonEnv(state.spark_home, { SPARK_LOCAL_DIRS: path.join(workDir, 'tmp') }), cwd: workDir, logFile: log },
  );
  return { index, pid, cores, memory, work_dir: workDir, log };
}

async function waitForWorkers(state: ClusterState, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(state.master_pid, MASTER_MAIN_CLASS))
      throw new RuntimeError(`the Spark master exited during start; last lines of ${state.master_log}:\n${tail(state.master_log)}`);
    const dead = state.workers.find((w) => !isRunning(w.pid, WORKER_MAIN_CLASS));
    if (dead) throw new RuntimeError(`Spark worker ${dead.index} exited during start; last lines of ${dead.log}:\n${tail(dead.log)}`);
    const view = await masterView(state);
    if (view && view.aliveworkers >= n) return;
    await sleep(300);
  }
  throw new RuntimeError(
    `the Spark cluster did not have ${n} live worker(s) after ${timeoutMs / 1000}s; last lines of ${state.master_log}:\n${tail(state.master_log)}`,
  );
}

/** The Kafka source and its client among the downloaded jars: what a cluster's executors need beyond Spark. */
export function jobJars(): string[] {
  const jarsDir = path.join(JARS_DIR, 'spark');
  return fs.existsSync(jarsDir)
    ? fs
        .readdirSync(jarsDir)
        .filter((n) => JOB_JAR.test(n))
        .sort()
        .map((n) => path.join(jarsDir, n))
    : [];
}

/**
 * The extra settings of a Connect server that is the driver of a cluster (`master` spark://, k8s://):
 * executors fetch the job jars from it (spark.jars, unless set). For the running local cluster's URL, also
 * its RPC secret (a JVM argument file) and executors the size of its workers. Undefined for local masters.
 */
export function clusterDriverSettings(
  master: string,
  conf: Record<string, string>,
): { conf: Record<string, string>; jvmArgs: string[] } | undefined {
  if (!/^(spark|k8s):\/\//.test(master)) return undefined;
  const out: { conf: Record<string, string>; jvmArgs: string[] } = { conf: {}, jvmArgs: [] };
  if (!conf['spark.jars']) out.conf['spark.jars'] = jobJars().join(',');
  const state = readClusterState();
  if (!state || state.master_url !== master) return out;
  if (!isRunning(state.master_pid, MASTER_MAIN_CLASS)) {
    throw new RuntimeError(
      `the local Spark cluster's master (${master}) is not running: start the cluster with \`spark-ts up spark --workers N\``,
    );
  }
  // One executor per worker, with the memory the worker offers.
  if (!conf['spark.executor.memory']) out.conf['spark.executor.memory'] = state.workers[0]?.memory ?? DEFAULT_WORKER_MEMORY;
  out.jvmArgs.push(`@${state.secret_args}`);
  return out;
}

/** Kills one worker with SIGKILL, with the executor it launched (its process group): a lost machine. */
export function killWorker(index: number): WorkerState {
  const w = readClusterState()?.workers.find((x) => x.index === index);
  if (!w) throw new RuntimeError(`no worker ${index} in the local cluster`);
  // A stale state file's pid may belong to another process group by now.
  if (!isRunning(w.pid, WORKER_MAIN_CLASS)) throw new RuntimeError(`worker ${index} (pid ${w.pid}) is not running`);
  try {
    process.kill(-w.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
  return w;
}

/** Stops the workers (with their executors), then the master. */
export async function stopCluster(): Promise<'stopped' | 'killed' | 'not-running'> {
  const state = readClusterState();
  if (!state) return 'not-running';
  const results = await Promise.all(state.workers.map((w) => stopProcess(w.pid, WORKER_MAIN_CLASS, 15_000)));
  results.push(await stopProcess(state.master_pid, MASTER_MAIN_CLASS, 15_000));
  fs.rmSync(CLUSTER_STATE_FILE, { force: true });
  fs.rmSync(state.secret_args, { force: true });
  if (results.includes('killed')) return 'killed';
  return results.every((r) => r === 'not-running') ? 'not-running' : 'stopped';
}

/** Waits until the master has granted the driver's application every core of the cluster (its executors run). */
export async function waitForExecutors(state: ClusterState, appName: string, timeoutMs = 120_000): Promise<MasterView> {
  const cores = state.workers.reduce((s, w) => s + w.cores, 0);
  const deadline = Date.now() + timeoutMs;
  let view: MasterView | undefined;
  while (Date.now() < deadline) {
    view = await masterView(state);
    if (view?.activeapps.some((a) => a.name === appName && a.state === 'RUNNING' && a.cores >= cores)) return view;
    await sleep(300);
  }
  throw new RuntimeError(
    `the driver "${appName}" did not get ${cores} executor core(s) from ${state.master_url} within ${timeoutMs / 1000}s; see ${state.master_log} and the worker logs`,
  );
}
