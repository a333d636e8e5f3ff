import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { CONF_DIR, JARS_DIR, KAFKA_STATE_FILE, LOG_DIR, RUN_DIR } from './paths';
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
import type { StartResult } from './spark-server';

export const KAFKA_MAIN_CLASS = 'kafka.Kafka';
const execFileAsync = promisify(execFile);
export const DEFAULT_KAFKA_PORT = Number(process.env.SPARK_TS_KAFKA_PORT ?? 9092);
export const DEFAULT_KAFKA_CONTROLLER_PORT = Number(process.env.SPARK_TS_KAFKA_CONTROLLER_PORT ?? 9093);

export interface KafkaState {
  bootstrap_servers: string;
  pid: number;
  port: number;
  controller_port: number;
  data_dir: string;
  started_at: string;
  log: string;
  /** Set when Kafka runs as several brokers (`up kafka --brokers N`); the fields above then describe broker 1. */
  brokers?: BrokerState[];
}

export interface BrokerState {
  node_id: number;
  pid: number;
  port: number;
  controller_port: number;
  data_dir: string;
  log: string;
}

export interface KafkaStartOptions {
  port?: number;
  controllerPort?: number;
  heap?: string;
  readyTimeoutMs?: number;
  /** More than 1: that many brokers, each also a controller voter (see startKafkaCluster). */
  brokers?: number;
}

const DATA_DIR = path.join(RUN_DIR, 'kafka');

export function readKafkaState(): KafkaState | undefined {
  return readJson<KafkaState>(KAFKA_STATE_FILE);
}

export async function kafkaStatus(): Promise<{ running: boolean; healthy: boolean; state?: KafkaState }> {
  const state = readKafkaState();
  const alive = state?.brokers ? state.brokers.some((b) => isRunning(b.pid, KAFKA_MAIN_CLASS)) : isRunning(state?.pid, KAFKA_MAIN_CLASS);
  if (!state || !alive) return { running: false, healthy: false };
  return { running: true, healthy: await pingKafka(state.bootstrap_servers, 5000), state };
}

function classpath(): string {
  const jars = path.join(JARS_DIR, 'kafka');
  if (!fs.existsSync(path.join(jars, '.complete'))) throw new RuntimeError(`Kafka jars not found in ${jars}: run \`make setup\` first`);
  return `${jars}/*`;
}

/** Starts the single-node KRaft broker (formatting its storage on first start), or reuses a healthy one. */
/** Starts the embedded broker(s), or reuses running ones; one command at a time (withStartLock). */
export function startKafka(opts: KafkaStartOptions = {}): Promise<StartResult<KafkaState>> {
  return withStartLock(KAFKA_STATE_FILE, () => startKafkaLocked(opts));
}

async function startKafkaLocked(opts: KafkaStartOptions): Promise<StartResult<KafkaState>> {
  const existing = await kafkaStatus();
  // A job reuses running brokers as they are; `up kafka --brokers N` also restarts the dead ones.
  if (opts.brokers === undefined && existing.running && existing.state?.brokers) return { state: existing.state, started: false };
  if ((opts.brokers ?? 1) > 1) return startKafkaCluster(opts, existing.state);
  if (existing.running && existing.state?.brokers) {
    throw new RuntimeError(
      `Kafka runs as ${existing.state.brokers.length} brokers at ${existing.state.bootstrap_servers}; stop them first (\`spark-ts down kafka\`) to start one broker`,
    );
  }
  if (existing.running && existing.state) {
    if (
      existing.healthy ||
      (await waitForKafka(existing.state, opts.readyTimeoutMs ?? 60_000).then(
        () => true,
        () => false,
      ))
    ) {
      return { state: existing.state, started: false };
    }
    throw new RuntimeError(
      `the Kafka broker (pid ${existing.state.pid}) is running but not answering; stop it with \`spark-ts down\`\n${tail(existing.state.log)}`,
    );
  }
  checkJava();
  const cp = classpath();
  const port = opts.port ?? DEFAULT_KAFKA_PORT;
  const controllerPort = opts.controllerPort ?? DEFAULT_KAFKA_CONTROLLER_PORT;
  for (const [p, setting] of [
    [port, 'SPARK_TS_KAFKA_PORT'],
    [controllerPort, 'SPARK_TS_KAFKA_CONTROLLER_PORT'],
  ] as const) {
    if (!(await isPortFree(p))) {
      throw new RuntimeError(
        `port ${p} on 127.0.0.1 is already in use, so the Kafka broker cannot listen there; free it or set ${setting}=<port>`,
      );
    }
  }
  fs.mkdirSync(LOG_DIR, { recursive: true });
  fs.mkdirSync(DATA_DIR, { recursive: true });
  const logsDir = path.join(DATA_DIR, 'data');
  const props = fs
    .readFileSync(path.join(CONF_DIR, 'kafka', 'server.properties'), 'utf8')
    .replace(/\$\{port\}/g, String(port))
    .replace(/\$\{controller_port\}/g, String(controllerPort))
    .replace(/\$\{data_dir\}/g, logsDir);
  const propsFile = path.join(DATA_DIR, 'server.properties');
  fs.writeFileSync(propsFile, props);
  const log = path.join(LOG_DIR, 'kafka.log');
  fs.writeFileSync(log, '');
  const jvm = [
    `-Xmx${opts.heap ?? '1g'}`,
    `-Dlog4j2.configurationFile=${path.join(CONF_DIR, 'kafka', 'log4j2.properties')}`,
    `-Dkafka.logs.dir=${LOG_DIR}`,
    '-cp',
    cp,
  ];
  if (!fs.existsSync(path.join(logsDir, 'meta.properties'))) {
    // First start: format the storage with a fresh cluster id (what `kafka-storage.sh format` does).
    const clusterId = randomBytes(16).toString('base64url');
    const fmt = spawnSync('java', [...jvm, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', propsFile], {
      encoding: 'utf8',
    });
    if (fmt.status !== 0) throw new RuntimeError(`formatting Kafka storage failed:\n${(fmt.stdout ?? '') + (fmt.stderr ?? '')}`);
  }
  const pid = spawnDaemon('java', [...jvm, KAFKA_MAIN_CLASS, propsFile], { logFile: log, cwd: DATA_DIR });
  const state: KafkaState = {
    bootstrap_servers: `127.0.0.1:${port}`,
    pid,
    port,
    controller_port: controllerPort,
    data_dir: logsDir,
    started_at: new Date().toISOString(),
    log,
  };
  await recordStart(KAFKA_STATE_FILE, state, { pid, marker: KAFKA_MAIN_CLASS }, () => waitForKafka(state, opts.readyTimeoutMs ?? 90_000));
  return { state, started: true };
}

async function waitForKafka(state: KafkaState, timeoutMs: number): Promise<void> {
  await waitUntilReady(
    { pid: state.pid, marker: KAFKA_MAIN_CLASS, log: state.log, name: 'the Kafka broker' },
    () => pingKafka(state.bootstrap_servers, 3000),
    timeoutMs,
    300,
  );
}

/** A real call: the admin API's describeCluster. */
export async function pingKafka(bootstrapServers: string, timeoutMs: number): Promise<boolean> {
  const kafka = new Kafka({
    clientId: 'spark-ts-runtime',
    brokers: bootstrapServers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 3000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function stopKafka(): Promise<'stopped' | 'killed' | 'not-running'> {
  const state = readKafkaState();
  if (!state) return 'not-running';
  if (state.brokers) {
    const results = await Promise.all(state.brokers.map((b) => stopProcess(b.pid, KAFKA_MAIN_CLASS, 30_000)));
    fs.rmSync(KAFKA_STATE_FILE, { force: true });
    return results.includes('killed') ? 'killed' : results.every((r) => r === 'not-running') ? 'not-running' : 'stopped';
  }
  const result = await stopProcess(state.pid, KAFKA_MAIN_CLASS, 30_000);
  fs.rmSync(KAFKA_STATE_FILE, { force: true });
  return result;
}

/** Ports of the brokers' clients and controllers, from SPARK_TS_KAFKA_BROKER_PORTS / SPARK_TS_KAFKA_CONTROLLER_PORTS (comma lists). */
export function kafkaClusterPorts(n: number): { ports: number[]; controllerPorts: number[] } {
  const list = (env: string, base: number): number[] => {
    const given = process.env[env]
      ?.split(',')
      .map((p) => Number(p.trim()))
      .filter((p) => p > 0);
    if (given?.length && given.length < n) throw new RuntimeError(`${env} names ${given.length} port(s) but ${n} brokers need ${n}`);
    return given?.length ? given.slice(0, n) : Array.from({ length: n }, (_, i) => base + i);
  };
  return { ports: list('SPARK_TS_KAFKA_BROKER_PORTS', 29092), controllerPorts: list('SPARK_TS_KAFKA_CONTROLLER_PORTS', 29192) };
}

const CLUSTER_DATA_DIR = path.join(RUN_DIR, 'kafka-cluster');

/**
 * N KRaft brokers on loopback, each also a controller voter (a combined quorum of N: with 3, any one may
 * fail). Topics default to replication factor min(N, 3) and min.insync.replicas = that minus one, so an
 * acks=all write survives one lost broker. When the brokers already run, the dead ones are restarted on
 * their existing storage (a broker coming back after a crash).
 */
async function startKafkaCluster(opts: KafkaStartOptions, existing: KafkaState | undefined): Promise<StartResult<KafkaState>> {
  if (existing && isRunning(existing.pid, KAFKA_MAIN_CLASS) && !existing.brokers) {
    throw new RuntimeError(
      `a single Kafka broker runs at ${existing.bootstrap_servers}; stop it first (\`spark-ts down kafka\`) to start ${opts.brokers} brokers`,
    );
  }
  const running = existing?.brokers?.some((b) => isRunning(b.pid, KAFKA_MAIN_CLASS)) ? existing : undefined;
  if (running?.brokers && opts.brokers !== undefined && running.brokers.length !== opts.brokers) {
    throw new RuntimeError(
      `Kafka runs as ${running.brokers.length} brokers at ${running.bootstrap_servers}; stop them first (\`spark-ts down kafka\`) to start ${opts.brokers}`,
    );
  }
  checkJava();
  const cp = classpath();
  const n = running?.brokers?.length ?? opts.brokers ?? 3;
  const rf = Math.min(n, 3);
  const jvm = (heap: string) => [
    `-Xmx${heap}`,
    `-Dlog4j2.configurationFile=${path.join(CONF_DIR, 'kafka', 'log4j2.properties')}`,
    `-Dkafka.logs.dir=${LOG_DIR}`,
    '-cp',
    cp,
  ];
  const heap = opts.heap ?? '512m';
  let brokers: BrokerState[];
  if (running?.brokers) {
    brokers = running.brokers;
  } else {
    const { ports, controllerPorts } = kafkaClusterPorts(n);
    for (const p of [...ports, ...controllerPorts]) {
      if (!(await isPortFree(p)))
        throw new RuntimeError(
          `port ${p} on 127.0.0.1 is already in use, so a Kafka broker cannot listen there; free it or set SPARK_TS_KAFKA_BROKER_PORTS / SPARK_TS_KAFKA_CONTROLLER_PORTS`,
        );
    }
    fs.rmSync(CLUSTER_DATA_DIR, { recursive: true, force: true });
    const voters = controllerPorts.map((p, i) => `${i + 1}@127.0.0.1:${p}`).join(',');
    const template = fs.readFileSync(path.join(CONF_DIR, 'kafka', 'cluster-server.properties'), 'utf8');
    const clusterId = randomBytes(16).toString('base64url');
    // Each broker's storage gets the same cluster id; the formats run side by side (a JVM start each).
    brokers = await Promise.all(
      ports.map(async (port, i): Promise<BrokerState> => {
        const dir = path.join(CLUSTER_DATA_DIR, `broker-${i + 1}`);
        fs.mkdirSync(dir, { recursive: true });
        const values = {
          node_id: i + 1,
          voters,
          port,
          controller_port: controllerPorts[i],
          data_dir: path.join(dir, 'data'),
          replication_factor: rf,
          min_insync: Math.max(1, rf - 1),
        };
        const props = Object.entries(values).reduce((text, [k, v]) => text.replace(new RegExp(`\\$\\{${k}\\}`, 'g'), String(v)), template);
        fs.writeFileSync(path.join(dir, 'server.properties'), props);
        try {
          await execFileAsync('java', [
            ...jvm('256m'),
            'kafka.tools.StorageTool',
            'format',
            `--cluster-id=${clusterId}`,
            '-c',
            path.join(dir, 'server.properties'),
          ]);
        } catch (err) {
          const e = err as { stdout?: string; stderr?: string; message: string };
          throw new RuntimeError(`formatting the storage of Kafka broker ${i + 1} failed:\n${(e.stdout ?? '') + (e.stderr ?? e.message)}`);
        }
        return {
          node_id: i + 1,
          pid: 0,
          port,
          controller_port: controllerPorts[i],
          data_dir: path.join(dir, 'data'),
          log: path.join(LOG_DIR, `kafka-${i + 1}.log`),
        };
      }),
    );
  }
  fs.mkdirSync(LOG_DIR, { recursive: true });
  let restarted = 0;
  for (const b of brokers) {
    if (isRunning(b.pid, KAFKA_MAIN_CLASS)) continue;
    const dir = path.dirname(b.data_dir);
    if (!running) fs.writeFileSync(b.log, '');
    b.pid = spawnDaemon('java', [...jvm(heap), KAFKA_MAIN_CLASS, path.join(dir, 'server.properties')], { logFile: b.log, cwd: dir });
    restarted++;
  }
  const first = brokers[0];
  const state: KafkaState = {
    bootstrap_servers: brokers.map((b) => `127.0.0.1:${b.port}`).join(','),
    pid: first.pid,
    port: first.port,
    controller_port: first.controller_port,
    data_dir: first.data_dir,
    started_at: running?.started_at ?? new Date().toISOString(),
    log: first.log,
    brokers,
  };
  writeJson(KAFKA_STATE_FILE, state, { mode: 0o600 });
  try {
    await waitForKafkaBrokers(state, opts.readyTimeoutMs ?? 120_000);
  } catch (err) {
    if (!running) {
      await Promise.all(brokers.map((b) => stopProcess(b.pid, KAFKA_MAIN_CLASS, 5000)));
      fs.rmSync(KAFKA_STATE_FILE, { force: true });
    }
    throw err;
  }
  return { state, started: restarted > 0 };
}

/**
 * Ready when every broker is registered with the quorum (describeCluster lists them all) and a group
 * coordinator answers: the first consumer group creates __consumer_offsets (replicated 3 times), which a
 * job's consumer should not have to wait for.
 */
async function waitForKafkaBrokers(state: KafkaState, timeoutMs: number): Promise<void> {
  const brokers = state.brokers ?? [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const dead = brokers.find((b) => !isRunning(b.pid, KAFKA_MAIN_CLASS));
    if (dead) throw new RuntimeError(`Kafka broker ${dead.node_id} exited during start; last lines of ${dead.log}:\n${tail(dead.log)}`);
    if ((await countKafkaBrokers(state.bootstrap_servers, 3000)) >= brokers.length) return;
    await sleep(300);
  }
  throw new RuntimeError(
    `the ${brokers.length} Kafka brokers were not all ready after ${timeoutMs / 1000}s; see ${brokers.map((b) => b.log).join(', ')}`,
  );
}

async function countKafkaBrokers(bootstrapServers: string, timeoutMs: number): Promise<number> {
  const admin = new Kafka({
    clientId: 'spark-ts-runtime',
    brokers: bootstrapServers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const n = (await admin.describeCluster()).brokers.length;
    await admin.describeGroups(['spark-ts-ready']); // finds the group coordinator (creating __consumer_offsets)
    return n;
  } catch {
    return 0;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
