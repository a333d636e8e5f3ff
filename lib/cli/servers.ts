import { startSpark, stopSpark, sparkStatus } from '../runtime/spark-server';
import { startKafka, stopKafka, kafkaStatus, type KafkaState } from '../runtime/kafka-broker';
import { startPostgres, stopPostgres, postgresStatus, type PostgresState } from '../runtime/postgres';
import { startConnect, stopConnect, connectStatus, type ConnectState } from '../runtime/kafka-connect';
import { rssBytes } from '../runtime/process';

export type ServerName = 'spark' | 'kafka' | 'postgres' | 'connect';

/** `spark-ts up`: starts (or reuses) the embedded servers and says which. */
export async function up(which: ServerName[], out: (line: string) => void = console.log): Promise<void> {
  if (which.includes('spark')) {
    const t0 = Date.now();
    const { state, started } = await startSpark();
    out(`spark: ${started ? `started in ${((Date.now() - t0) / 1000).toFixed(1)}s` : 'already running'} at ${state.url} (pid ${state.pid}, UI ${state.ui_url ?? 'unknown'})`);
  }
  if (which.includes('kafka')) {
    const t0 = Date.now();
    const { state, started } = await startKafka();
    out(`kafka: ${started ? `started in ${((Date.now() - t0) / 1000).toFixed(1)}s` : 'already running'} at ${state.bootstrap_servers} (pid ${state.pid})`);
  }
  if (which.includes('postgres')) {
    const t0 = Date.now();
    const { state, started } = await startPostgres();
    out(`postgres: ${started ? `started in ${((Date.now() - t0) / 1000).toFixed(1)}s` : 'already running'} at 127.0.0.1:${state.port}/${state.database} (PostgreSQL ${state.version}, pid ${state.pid}, OS user ${state.os_user}; url in .run/postgres.json)`);
  }
  if (which.includes('connect')) {
    // The worker keeps its configs and offsets in Kafka: the broker comes first.
    if (!which.includes('kafka')) await up(['kafka'], out);
    const t0 = Date.now();
    const { state, started } = await startConnect();
    out(`connect: ${started ? `started in ${((Date.now() - t0) / 1000).toFixed(1)}s` : 'already running'} at ${state.url} (pid ${state.pid}, broker ${state.bootstrap_servers})`);
  }
}

export async function down(which: ServerName[], out: (line: string) => void = console.log): Promise<void> {
  // Connect first: it holds a replication connection to PostgreSQL and its state lives in Kafka.
  if (which.includes('connect')) out(`connect: ${await stopConnect()}`);
  if (which.includes('postgres')) out(`postgres: ${await stopPostgres()}`);
  if (which.includes('spark')) out(`spark: ${await stopSpark()}`);
  if (which.includes('kafka')) out(`kafka: ${await stopKafka()}`);
}

/** `spark-ts status`: endpoints, pids, UI address and memory; never the token. */
export async function status(out: (line: string) => void = console.log): Promise<void> {
  const s = await sparkStatus();
  if (s.state && s.running) {
    const rss = rssBytes(s.state.pid);
    out(`spark: running${s.healthy ? '' : ' (not answering)'} at ${s.state.url}, pid ${s.state.pid}, master ${s.state.master}, UI ${s.state.ui_url ?? 'unknown'}${rss ? `, RSS ${(rss / 2 ** 20).toFixed(0)} MiB` : ''}`);
  } else out('spark: not running');
  const k = await kafkaStatus();
  if (k.state && k.running) {
    const rss = rssBytes(k.state.pid);
    out(`kafka: running${k.healthy ? '' : ' (not answering)'} at ${k.state.bootstrap_servers}, pid ${k.state.pid}${rss ? `, RSS ${(rss / 2 ** 20).toFixed(0)} MiB` : ''}`);
  } else out('kafka: not running');
  const p = await postgresStatus();
  if (p.state && p.running) {
    const rss = rssBytes(p.state.pid);
    out(`postgres: running${p.healthy ? '' : ' (not answering)'} at 127.0.0.1:${p.state.port}/${p.state.database}, PostgreSQL ${p.state.version}, pid ${p.state.pid}${rss ? `, RSS ${(rss / 2 ** 20).toFixed(0)} MiB (postmaster)` : ''}`);
  } else out('postgres: not running');
  const c = await connectStatus();
  if (c.state && c.running) {
    const rss = rssBytes(c.state.pid);
    out(`connect: running${c.healthy ? '' : ' (not answering)'} at ${c.state.url}, pid ${c.state.pid}${rss ? `, RSS ${(rss / 2 ** 20).toFixed(0)} MiB` : ''}`);
  } else out('connect: not running');
}

/**
 * The servers of the CDC source (Kafka, PostgreSQL, Kafka Connect), started when not running and left
 * running: the connector keeps capturing after the job that registered it returns (`spark-ts down` stops them).
 */
export async function ensureCdcSourceServers(log: (line: string) => void): Promise<{ postgres: PostgresState; connect: ConnectState; kafka: KafkaState }> {
  const report = (name: string, t0: number, started: boolean, where: string) => {
    if (started) log(`${name}: started in ${((Date.now() - t0) / 1000).toFixed(1)}s at ${where}; it keeps running (\`spark-ts down\` stops it)`);
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
