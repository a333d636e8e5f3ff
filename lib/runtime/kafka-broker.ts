import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { CONF_DIR, JARS_DIR, KAFKA_STATE_FILE, LOG_DIR, RUN_DIR } from './paths';
import { RuntimeError, checkJava, isPortFree, isRunning, readJson, sleep, spawnDaemon, stopProcess, tail, writePrivateJson } from './process';
import type { StartResult } from './spark-server';

export const KAFKA_MAIN_CLASS = 'kafka.Kafka';
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
}

export interface KafkaStartOptions {
  port?: number;
  controllerPort?: number;
  heap?: string;
  readyTimeoutMs?: number;
}

const DATA_DIR = path.join(RUN_DIR, 'kafka');

export function readKafkaState(): KafkaState | undefined {
  return readJson<KafkaState>(KAFKA_STATE_FILE);
}

export async function kafkaStatus(): Promise<{ running: boolean; healthy: boolean; state?: KafkaState }> {
  const state = readKafkaState();
  if (!state || !isRunning(state.pid, KAFKA_MAIN_CLASS)) return { running: false, healthy: false };
  return { running: true, healthy: await pingKafka(state.bootstrap_servers, 5000), state };
}

function classpath(): string {
  const jars = path.join(JARS_DIR, 'kafka');
  if (!fs.existsSync(path.join(jars, '.complete'))) throw new RuntimeError(`Kafka jars not found in ${jars}: run \`make setup\` first`);
  return `${jars}/*`;
}

/** Starts the single-node KRaft broker (formatting its storage on first start), or reuses a healthy one. */
export async function startKafka(opts: KafkaStartOptions = {}): Promise<StartResult<KafkaState>> {
  const existing = await kafkaStatus();
  if (existing.running && existing.state) {
    if (existing.healthy || (await waitForKafka(existing.state, opts.readyTimeoutMs ?? 60_000).then(() => true, () => false))) {
      return { state: existing.state, started: false };
    }
    throw new RuntimeError(`the Kafka broker (pid ${existing.state.pid}) is running but not answering; stop it with \`spark-ts down\`\n${tail(existing.state.log)}`);
  }
  checkJava();
  const cp = classpath();
  const port = opts.port ?? DEFAULT_KAFKA_PORT;
  const controllerPort = opts.controllerPort ?? DEFAULT_KAFKA_CONTROLLER_PORT;
  for (const [p, setting] of [[port, 'SPARK_TS_KAFKA_PORT'], [controllerPort, 'SPARK_TS_KAFKA_CONTROLLER_PORT']] as const) {
    if (!(await isPortFree(p))) {
      throw new RuntimeError(`port ${p} on 127.0.0.1 is already in use, so the Kafka broker cannot listen there; free it or set ${setting}=<port>`);
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
    const fmt = spawnSync('java', [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsFile], { encoding: 'utf8' });
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
  writePrivateJson(KAFKA_STATE_FILE, state);
  try {
    await waitForKafka(state, opts.readyTimeoutMs ?? 90_000);
  } catch (err) {
    await stopProcess(pid, KAFKA_MAIN_CLASS, 5000);
    fs.rmSync(KAFKA_STATE_FILE, { force: true });
    throw err;
  }
  return { state, started: true };
}

async function waitForKafka(state: KafkaState, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(state.pid, KAFKA_MAIN_CLASS)) {
      throw new RuntimeError(`the Kafka broker exited during start; last lines of ${state.log}:\n${tail(state.log)}`);
    }
    if (await pingKafka(state.bootstrap_servers, 3000)) return;
    await sleep(300);
  }
  throw new RuntimeError(`the Kafka broker was not ready after ${timeoutMs / 1000}s; last lines of ${state.log}:\n${tail(state.log)}`);
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
  const result = await stopProcess(state.pid, KAFKA_MAIN_CLASS, 30_000);
  fs.rmSync(KAFKA_STATE_FILE, { force: true });
  return result;
}
