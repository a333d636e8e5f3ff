import { startSpark, stopSpark, sparkStatus } from '../runtime/spark-server';
import { startKafka, stopKafka, kafkaStatus, type KafkaState } from '../runtime/kafka-broker';
import { startPostgres, stopPostgres, postgresStatus, type PostgresState } from '../runtime/postgres';
import { startConnect, stopConnect, connectStatus, type ConnectState } from '../runtime/kafka-connect';
import { rssBytes } from '../runtime/process';
import { startCluster, stopCluster, clusterStatus, waitForExecutors } from '../runtime/spark-cluster';

export type ServerName = 'spark' | 'kafka' | 'postgres' | 'connect';

/** `up --workers N`: Spark as a standalone cluster; `up --brokers N`: Kafka as N replicated brokers. */
export interface UpOptions {
  workers?: number;
  workerCores?: number;
  workerMemory?: string;
  brokers?: number;
}

/** `spark-ts up`: starts (or reuses) the embedded servers and says which. */
export async function up(which: ServerName[], out: (line: string) => void = console.log, opts: UpOptions = {}): Promise<void> {
  if (which.includes('spark') && opts.workers !== undefined) await upCluster(opts, out);
  else if (which.includes('spark')) {
    const t0 = Date.now();
    const { state, started } = await startSpark();
    out(
      `spark: ${started ? `started in ${((Date.now() - t0) / 1000).toFixed(1)}s` : 'already running'} at ${state.url} (pid ${state.pid}, UI ${state.ui_url ?? 'unknown'})`,
    );
  }
  if (which.includes('kafka')) {
    const t0 = Date.now();
    const { state, started } = await startKafka(opts.brokers !== undefined ? { brokers: opts.brokers } : {});
    out(
      `kafka: ${started ? `started in ${((Date.now() - t0) / 1000).toFixed(1)}s` : 'already running'} at ${state.bootstrap_servers} (pid ${state.pid})`,
    );
  }
  if (which.includes('postgres')) {
    const t0 = Date.now();
    const { state, started } = await startPostgres();
    out(
      `postgres: ${started ? `started in ${((Date.now() - t0) / 1000).toFixed(1)}s` : 'already running'} at 127.0.0.1:${state.port}/${state.database} (PostgreSQL ${state.version}, pid ${state.pid}, OS user ${state.os_user}; url in .run/postgres.json)`,
    );
  }
  if (which.includes('connect')) {
    // The worker keeps its configs and offsets in Kafka: the broker comes first.
    if (!which.includes('kafka')) await up(['kafka'], out);
    const t0 = Date.now();
    const { state, started } = await startConnect();
    out(
      `connect: ${started ? `started in ${((Date.now() - t0) / 1000).toFixed(1)}s` : 'already running'} at ${state.url} (pid ${state.pid}, broker ${state.bootstrap_servers})`,
    );
  }
}

export async function down(which: ServerName[], out: (line: string) => void = console.log): Promise<void> {
  // Connect first: it holds a replication connection to PostgreSQL and its state lives in Kafka.
  if (which.includes('connect')) out(`connect: ${await stopConnect()}`);
  if (which.includes('postgres')) out(`postgres: ${await stopPostgres()}`);
  if (which.includes('spark')) out(`spark: ${await stopSpark()}`);
  if (which.includes('spark') && (await clusterStatus()).state) out(`spark cluster: ${await stopCluster()}`);
  if (which.includes('kafka')) out(`kafka: ${await stopKafka()}`);
}

/** `spark-ts status`: endpoints, pids, UI address and memory; never the token. */
export async function status(out: (line: string) => void = console.log): Promise<void> {
  const s = await sparkStatus();
  if (s.state && s.running) {
    const rss = rssBytes(s.state.pid);
    out(
      `spark: running${s.healthy ? '' : ' (not answering)'} at ${s.state.url}, pid ${s.state.pid}, master ${s.state.master}, UI ${s.state.ui_url ?? 'unknown'}${rss ? `, RSS ${(rss / 2 ** 20).toFixed(0)} MiB` : ''}`,
    );
  } else out('spark: not running');
  const c = await clusterStatus();
  if (c.running && c.state) {
    const v = c.view;
    out(
      `spark cluster: master ${c.state.master_url} (pid ${c.state.master_pid}, UI ${c.state.master_ui_url}), ${v ? `${v.aliveworkers} live worker(s), ${v.coresused}/${v.cores} cores used` : 'master not answering'}`,
    );
    for (const w of c.state.workers) {
      const rss = rssBytes(w.pid);
      out(
        `  worker ${w.index}: ${rss ? 'running' : 'not running'}, pid ${w.pid}, ${w.cores} core(s), ${w.memory}${rss ? `, RSS ${(rss / 2 ** 20).toFixed(0)} MiB` : ''}`,
      );
    }
  }
  const k = await kafkaStatus();
  if (k.state && k.running) {
    const rss = rssBytes(k.state.pid);
    if (k.state.brokers) {
      out(`kafka: ${k.state.brokers.length} brokers${k.healthy ? '' : ' (not answering)'} at ${k.state.bootstrap_servers}`);
      for (const b of k.state.brokers) {
        const brss = rssBytes(b.pid);
        out(
          `  broker ${b.node_id}: ${brss ? 'running' : 'not running'}, pid ${b.pid}, port ${b.port}, controller port ${b.controller_port}${brss ? `, RSS ${(brss / 2 ** 20).toFixed(0)} MiB` : ''}`,
        );
      }
    } else
      out(
        `kafka: running${k.healthy ? '' : ' (not answering)'} at ${k.state.bootstrap_servers}, pid ${k.state.pid}${rss ? `, RSS ${(rss / 2 ** 20).toFixed(0)} MiB` : ''}`,
      );
  } else out('kafka: not running');
  const p = await postgresStatus();
  if (p.state && p.running) {
    const rss = rssBytes(p.state.pid);
    out(
      `postgres: running${p.healthy ? '' : ' (not answering)'} at 127.0.0.1:${p.state.port}/${p.state.database}, PostgreSQL ${p.state.version}, pid ${p.state.pid}${rss ? `, RSS ${(rss / 2 ** 20).toFixed(0)} MiB (postmaster)` : ''}`,
    );
  } else out('postgres: not running');
  const kc = await connectStatus();
  if (kc.state && kc.running) {
    const rss = rssBytes(kc.state.pid);
    out(
      `connect: running${kc.healthy ? '' : ' (not answering)'} at ${kc.state.url}, pid ${kc.state.pid}${rss ? `, RSS ${(rss / 2 ** 20).toFixed(0)} MiB` : ''}`,
    );
  } else out('connect: not running');
}

/**
 * The servers of the CDC source (Kafka, PostgreSQL, Kafka Connect), started when not running and left
 * running: the connector keeps capturing after the job that registered it returns (`spark-ts down` stops them).
 */
export async function ensureCdcSourceServers(
  log: (line: string) => void,
): Promise<{ postgres: PostgresState; connect: ConnectState; kafka: KafkaState }> {
  const report = (name: string, t0: number, started: boolean, where: string) => {
    if (started)
      log(`${name}: started in ${((Date.now() - t0) / 1000).toFixed(1)}s at ${where}; it keeps running (\`spark-ts down\` stops it)`);
  };
  let t0 = Date.now();
  const kafka = await startKafka();
  report('kafka', t0, kafka.started, kafka.state.bootstrap_servers);
  t0 = Date.now();
  const postgres = await startPostgres();
  report('postgres', t0, postgres.started, `127.0.0.1:${postgres.state.port}`);
  t0 = Date.now();
  const connect = await startConnect({ bootstrapServers: kafka.state.bootstrap_servers });
  report('connect', t0, connect.started, connect.state.url);
  return { postgres: postgres.state, connect: connect.state, kafka: kafka.state };
}

/** The local standalone cluster, then the Connect server as its driver, then its executors: ready to run jobs. */
async function upCluster(opts: UpOptions, out: (line: string) => void): Promise<void> {
  const running = await sparkStatus();
  const cluster = await clusterStatus();
  if (running.running && running.state && running.state.master !== cluster.state?.master_url) {
    throw new Error(
      `a Spark Connect server already runs with master ${running.state.master}; stop it first (\`spark-ts down spark\`) to start it as a cluster's driver`,
    );
  }
  const t0 = Date.now();
  const c = await startCluster({ workers: opts.workers ?? 2, workerCores: opts.workerCores, workerMemory: opts.workerMemory });
  const shape = `${c.state.workers.length} worker(s) × ${c.state.workers[0].cores} core(s), ${c.state.workers[0].memory}`;
  out(
    `spark cluster: ${c.started ? `started in ${((Date.now() - t0) / 1000).toFixed(1)}s` : 'already running'} at ${c.state.master_url} (${shape}; master UI ${c.state.master_ui_url})`,
  );
  const t1 = Date.now();
  const { state, started } = await startSpark({ conf: { 'spark.master': c.state.master_url } });
  await waitForExecutors(c.state, String(state.static_conf['spark.app.name'] ?? 'spark-ts'));
  out(
    `spark: ${started ? `driver started, executors running in ${((Date.now() - t1) / 1000).toFixed(1)}s` : 'already running'} at ${state.url} (pid ${state.pid}, UI ${state.ui_url ?? 'unknown'}); cluster ready ${((Date.now() - t0) / 1000).toFixed(1)}s after start`,
  );
}
