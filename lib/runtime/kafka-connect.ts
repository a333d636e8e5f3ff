import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONF_DIR, CONNECT_STATE_FILE, JARS_DIR, LOG_DIR, RUN_DIR } from './paths';
import {
  RuntimeError,
  checkJava,
  isPortFree,
  isRunning,
  spawnDaemon,
  stopProcess,
  tail,
  recordStart,
  waitUntilReady,
  withStartLock,
} from './process';
import { readJson } from '../util/json';
import { readKafkaState } from './kafka-broker';
import type { StartResult } from './spark-server';

export const CONNECT_MAIN_CLASS = 'org.apache.kafka.connect.cli.ConnectDistributed';
export const DEFAULT_CONNECT_PORT = Number(process.env.SPARK_TS_CONNECT_PORT ?? 8083);

/** What `.run/connect.json` holds. */
export interface ConnectState {
  /** The REST API: http://127.0.0.1:<port> */
  url: string;
  pid: number;
  port: number;
  bootstrap_servers: string;
  plugin_path: string;
  started_at: string;
  log: string;
}

export function readConnectState(): ConnectState | undefined {
  return readJson<ConnectState>(CONNECT_STATE_FILE);
}

export async function connectStatus(): Promise<{ running: boolean; healthy: boolean; state?: ConnectState }> {
  const state = readConnectState();
  if (!state || !isRunning(state.pid, CONNECT_MAIN_CLASS)) return { running: false, healthy: false };
  return { running: true, healthy: await pingConnect(state.url, 3000), state };
}

/** A real call: the worker lists its connectors (its REST resources are up only once the herder has started). */
export async function pingConnect(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const r = await fetch(`${url}/connectors`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) return false;
    return Array.isArray(await r.json());
  } catch {
    return false;
  }
}

function dirs(): { classpath: string; pluginPath: string } {
  const jars = path.join(JARS_DIR, 'connect');
  const plugins = path.join(JARS_DIR, 'debezium');
  for (const d of [jars, plugins]) {
    if (!fs.existsSync(path.join(d, '.complete'))) throw new RuntimeError(`Kafka Connect jars not found in ${d}: run \`make setup\` first`);
  }
  return { classpath: `${jars}/*`, pluginPath: plugins };
}

/**
 * Starts a one-worker Kafka Connect cluster (distributed mode, REST on 127.0.0.1) against the given
 * broker (default: the embedded one, which must be running), with the Debezium PostgreSQL connector on
 * its plugin path; or reuses a healthy running worker.
 */
export function startConnect(
  opts: { port?: number; bootstrapServers?: string; heap?: string; readyTimeoutMs?: number } = {},
): Promise<StartResult<ConnectState>> {
  return withStartLock(CONNECT_STATE_FILE, () => startConnectLocked(opts));
}

async function startConnectLocked(opts: {
  port?: number;
  bootstrapServers?: string;
  heap?: string;
  readyTimeoutMs?: number;
}): Promise<StartResult<ConnectState>> {
  const existing = await connectStatus();
  if (existing.running && existing.state) {
    if (
      existing.healthy ||
      (await waitForConnect(existing.state, opts.readyTimeoutMs ?? 120_000).then(
        () => true,
        () => false,
      ))
    )
      return { state: existing.state, started: false };
    throw new RuntimeError(
      `Kafka Connect (pid ${existing.state.pid}) is running but not answering; stop it with \`spark-ts down connect\`\n${tail(existing.state.log)}`,
    );
  }
  checkJava();
  const { classpath, pluginPath } = dirs();
  const bootstrap = opts.bootstrapServers ?? readKafkaState()?.bootstrap_servers;
  if (!bootstrap) throw new RuntimeError('Kafka Connect needs a Kafka broker: start it first (`spark-ts up kafka`)');
  const port = opts.port ?? DEFAULT_CONNECT_PORT;
  if (!(await isPortFree(port)))
    throw new RuntimeError(
      `port ${port} on 127.0.0.1 is already in use, so Kafka Connect cannot listen there; free it or set SPARK_TS_CONNECT_PORT=<port>`,
    );
  const dir = path.join(RUN_DIR, 'connect');
  fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const props = fs
    .readFileSync(path.join(CONF_DIR, 'kafka-connect', 'connect-distributed.properties'), 'utf8')
    .replace(/\$\{bootstrap_servers\}/g, bootstrap)
    .replace(/\$\{port\}/g, String(port))
    .replace(/\$\{plugin_path\}/g, pluginPath);
  const propsFile = path.join(dir, 'connect-distributed.properties');
  fs.writeFileSync(propsFile, props);
  const log = path.join(LOG_DIR, 'connect.log');
  fs.writeFileSync(log, '');
  const jvm = [
    `-Xmx${opts.heap ?? '512m'}`,
    `-Dlog4j2.configurationFile=${path.join(CONF_DIR, 'kafka-connect', 'log4j2.properties')}`,
    '-cp',
    classpath,
  ];
  const pid = spawnDaemon('java', [...jvm, CONNECT_MAIN_CLASS, propsFile], { logFile: log, cwd: dir });
  const state: ConnectState = {
    url: `http://127.0.0.1:${port}`,
    pid,
    port,
    bootstrap_servers: bootstrap,
    plugin_path: pluginPath,
    started_at: new Date().toISOString(),
    log,
  };
  await recordStart(CONNECT_STATE_FILE, state, { pid, marker: CONNECT_MAIN_CLASS }, () =>
    waitForConnect(state, opts.readyTimeoutMs ?? 180_000),
  );
  return { state, started: true };
}

async function waitForConnect(state: ConnectState, timeoutMs: number): Promise<void> {
  await waitUntilReady(
    { pid: state.pid, marker: CONNECT_MAIN_CLASS, log: state.log, name: 'Kafka Connect' },
    () => pingConnect(state.url, 2000),
    timeoutMs,
    300,
  );
}

export async function stopConnect(): Promise<'stopped' | 'killed' | 'not-running'> {
  const state = readConnectState();
  if (!state) return 'not-running';
  const result = await stopProcess(state.pid, CONNECT_MAIN_CLASS, 30_000);
  fs.rmSync(CONNECT_STATE_FILE, { force: true });
  return result;
}
