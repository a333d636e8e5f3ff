import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { isRunning } from '../../lib/runtime/process';
import { readJson } from '../../lib/util/json';
import { ROOT } from '../../lib/runtime/paths';
import type { SparkState } from '../../lib/runtime/spark-server';
import type { KafkaState } from '../../lib/runtime/kafka-broker';
import type { ClusterState } from '../../lib/runtime/spark-cluster';

const CLI = path.join(ROOT, 'bin', 'spark-ts');

/** A port nothing listens on now (bound to 0, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `bin/spark-ts ARGS` in its own process with `env`; resolves when it exits (never rejects on a non-zero exit). */
export function sparkTs(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 600_000,
): Promise<CliRun> & { pid: number | undefined; stderrSoFar: () => string } {
  const t0 = Date.now();
  const child = spawn(CLI, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliRun>((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    }),
  );
  return Object.assign(done, { pid: child.pid, stderrSoFar: () => stderr });
}

/**
 * A cluster deployment of its own, beside the suite's servers: its own run directory (state files, logs,
 * secret) and free ports, so it neither sees nor disturbs `.run/`. Started and stopped with the real CLI.
 */
export class LocalCluster {
  readonly runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spark-ts-cluster-'));
  env: NodeJS.ProcessEnv = {};
  /** `spark-ts up` wall time, start to ready (executors registered, all brokers in the cluster). */
  upMs = 0;
  upOutput = '';

  async up(workers: number, brokers: number): Promise<void> {
    // The ports the session exported (SPARK_TS_MASTER_PORT, SPARK_TS_MASTER_UI_PORT, SPARK_TS_KAFKA_BROKER_PORTS,
    // SPARK_TS_KAFKA_CONTROLLER_PORTS) when set, so parallel sessions on one machine keep to their own; else
    // free ones. The cluster's Connect server never takes SPARK_TS_SPARK_PORT: the suite's local server has it.
    const given = (name: string): number | undefined => (Number(process.env[name]) > 0 ? Number(process.env[name]) : undefined);
    const list = (name: string): number[] | undefined => {
      const ports = process.env[name]
        ?.split(',')
        .map((p) => Number(p.trim()))
        .filter((p) => p > 0);
      return ports && ports.length >= brokers ? ports.slice(0, brokers) : undefined;
    };
    const free = async (n: number) => Promise.all(Array.from({ length: n }, () => freePort()));
    const spark = (await free(1))[0];
    const master = given('SPARK_TS_MASTER_PORT') ?? (await free(1))[0];
    const ui = given('SPARK_TS_MASTER_UI_PORT') ?? (await free(1))[0];
    const brokerPorts = list('SPARK_TS_KAFKA_BROKER_PORTS') ?? (await free(brokers));
    const controllerPorts = list('SPARK_TS_KAFKA_CONTROLLER_PORTS') ?? (await free(brokers));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SPARK_TS_RUN_DIR: this.runDir,
      SPARK_TS_SPARK_PORT: String(spark),
      SPARK_TS_MASTER_PORT: String(master),
      SPARK_TS_MASTER_UI_PORT: String(ui),
      SPARK_TS_KAFKA_BROKER_PORTS: brokerPorts.join(','),
      SPARK_TS_KAFKA_CONTROLLER_PORTS: controllerPorts.join(','),
      SPARK_TS_DRIVER_MEMORY: process.env.SPARK_TS_DRIVER_MEMORY ?? '2g',
    };
    // Only the cluster's own state decides where jobs go.
    delete env.SPARK_REMOTE;
    delete env.KAFKA_BOOTSTRAP_SERVERS;
    this.env = env;
    const r = await sparkTs(['up', '--workers', String(workers), '--brokers', String(brokers)], env);
    this.upMs = r.ms;
    this.upOutput = r.stdout + r.stderr;
    if (r.code !== 0) throw new Error(`spark-ts up --workers ${workers} --brokers ${brokers} failed (exit ${r.code}):\n${this.upOutput}`);
  }

  spark(): SparkState {
    return this.state<SparkState>('spark.json');
  }

  kafka(): KafkaState {
    return this.state<KafkaState>('kafka.json');
  }

  cluster(): ClusterState {
    return this.state<ClusterState>('cluster.json');
  }

  private state<T>(file: string): T {
    const s = readJson<T>(path.join(this.runDir, file));
    if (!s) throw new Error(`no ${file} in ${this.runDir}: is the cluster up?`);
    return s;
  }

  /** Every JVM of the deployment: driver, master, workers (with executors), brokers. */
  pids(): number[] {
    const s = readJson<SparkState>(path.join(this.runDir, 'spark.json'));
    const c = readJson<ClusterState>(path.join(this.runDir, 'cluster.json'));
    const k = readJson<KafkaState>(path.join(this.runDir, 'kafka.json'));
    return [s?.pid, c?.master_pid, ...(c?.workers.map((w) => w.pid) ?? []), ...(k?.brokers?.map((b) => b.pid) ?? [k?.pid])].filter(
      (p): p is number => Boolean(p),
    );
  }

  /** `spark-ts down`; resolves to the pids still alive afterwards (none, when all is well). */
  async down(): Promise<number[]> {
    const pids = this.pids();
    if (Object.keys(this.env).length) await sparkTs(['down'], this.env);
    const left = pids.filter((p) => isRunning(p));
    // Workers' executors are in their worker's process group.
    const groups = pids.filter((p) => liveGroupMembers(p).length > 0);
    if (!left.length && !groups.length) fs.rmSync(this.runDir, { recursive: true, force: true });
    return [...new Set([...left, ...groups])];
  }
}

/** Live (not zombie) processes whose process group is `pgid`, from /proc. */
export function liveGroupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const fields = fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ');
      if (fields[0] !== 'Z' && Number(fields[2]) === pgid) out.push(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}
