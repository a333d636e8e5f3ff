import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ensureSpark, kaggleCsvPath } from '../support/servers';
import { LocalCluster, sparkTs, type CliRun } from '../support/cluster';
import { SparkSession } from '../../lib/connect';
import { createKafka } from '../../lib/kafka/config';
import { connectIdempotentProducer, ensureTopics, readTopic, sendBatch } from '../../lib/stream/kafka';
import { produceSensorData, type ProduceProgress, type ProduceSummary } from '../../lib/stream/producer';
import { SensorSimulator } from '../../lib/stream/simulate';
import { aggregate, expectedWindows } from '../../lib/stream/expected';
import { sleep } from '../../lib/runtime/process';
import type { CacheBenchReport } from '../../lib/cachebench/run';

function ok(run: CliRun, what: string): CliRun {
  if (run.code !== 0) throw new Error(`${what} failed (exit ${run.code}):\n${run.stderr.slice(-4000)}`);
  return run;
}

const micros = (t: unknown): number => Number((t as { micros: bigint }).micros / 1000n);

/**
 * The acceptance of "beyond one machine": one local deployment for the whole file (a 2-worker Spark
 * standalone cluster with the Connect server as its driver, and three KRaft brokers), started and stopped
 * with `spark-ts up/down` in a run directory of its own; the same jobs run against it and against the
 * suite's local-mode server, and must agree exactly.
 */
describe('cluster: the same jobs on a Spark standalone cluster and 3 Kafka brokers @cluster', function () {
  this.timeout(900_000);
  const cluster = new LocalCluster();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'spark-ts-cluster-test-'));
  let master = '';
  const local = process.env; // the suite's servers (.run/)

  before(async function () {
    this.timeout(600_000);
    // The file's deployment takes several JVMs and minutes; `make test-cluster` runs it alone.
    if (process.env.SPARK_TS_SKIP_CLUSTER_TESTS === '1') this.skip(); // skipped on request (SPARK_TS_SKIP_CLUSTER_TESTS=1)
    await ensureSpark();
    await cluster.up(2, 3);
    master = cluster.cluster().master_url;
    console.log(`      (cluster up, start to ready: ${(cluster.upMs / 1000).toFixed(1)} s)`);
  });

  after(async function () {
    this.timeout(180_000);
    const left = await cluster.down();
    fs.rmSync(work, { recursive: true, force: true });
    expect(left, 'JVMs of the cluster left after spark-ts down').to.deep.equal([]);
  });

  it('starts a master, 2 workers and the driver with RPC authentication, the secret on no command line', async () => {
    const c = cluster.cluster();
    expect(c.workers).to.have.length(2);
    const view = (await (await fetch(`${c.master_ui_url}/json/`)).json()) as { aliveworkers: number; activeapps: Array<{ cores: number }> };
    expect(view.aliveworkers).to.equal(2);
    expect(view.activeapps[0]?.cores).to.equal(2);
    expect(cluster.spark().master).to.equal(master);
    const secret = fs.readFileSync(c.secret_args, 'utf8').match(/secret=(\w+)/)?.[1];
    expect(secret).to.match(/^[0-9a-f]{64}$/);
    expect((fs.statSync(c.secret_args).mode & 0o777).toString(8)).to.equal('600');
    for (const pid of cluster.pids()) expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'), `pid ${pid}`).not.to.include(secret);
    // Executors get the Kafka source from the driver (spark.jars), not from the workers' distribution.
    expect(fs.readdirSync(path.join(c.spark_home, 'jars')).filter((j) => /kafka/.test(j))).to.deep.equal([]);
    expect(c.job_jars.map((j) => path.basename(j)).join(' ')).to.match(/spark-sql-kafka-0-10/);
  });

  it('preprocess on the Kaggle file writes the same customers.csv and quality-report.json, byte for byte, as local mode', async function () {
    const csv = kaggleCsvPath();
    if (!csv) this.skip(); // needs the real Kaggle file (SPARK_TS_KAGGLE_CSV or ../shared/data/marketing_campaign.csv)
    const out = path.join(work, 'preprocess');
    const args = (m: string[]) => ['submit', ...m, '--no-progress', 'preprocess', '--', '--input', csv!, '--output', out];
    const l = ok(await sparkTs(args([]), local), 'preprocess (local)');
    fs.renameSync(out, `${out}-local`);
    const c = ok(await sparkTs(args(['--master', master]), cluster.env), 'preprocess (cluster)');
    console.log(`      (preprocess wall time: local ${(l.ms / 1000).toFixed(1)} s, 2 workers ${(c.ms / 1000).toFixed(1)} s)`);
    for (const f of ['customers.csv', 'quality-report.json']) {
      const a = fs.readFileSync(path.join(`${out}-local`, f));
      const b = fs.readFileSync(path.join(out, f));
      expect(b.length, f).to.be.greaterThan(1000);
      expect(b.equals(a), `${f} identical`).to.equal(true);
    }
  });

  it('cdc (cdc-produce, cdc-consume, cdc-verify) on the cluster keeps the exact model Spark ML refits from the table', async function () {
    const customers = path.join(work, 'preprocess', 'customers');
    if (!fs.existsSync(customers)) this.skip(); // uses the preprocess test's output (it needs the Kaggle file)
    const id = randomUUID().slice(0, 8);
    const report = path.join(work, 'cdc-model.json');
    ok(
      await sparkTs(
        [
          'submit',
          '--master',
          master,
          '--no-progress',
          'cdc',
          '--',
          '--simulated',
          '--input',
          customers,
          '--updates',
          '2000',
          '--topic',
          `cluster-cdc-${id}`,
          '--state-dir',
          path.join(work, 'cdc-state'),
          '--report',
          report,
        ],
        cluster.env,
      ),
      'cdc (cluster)',
    );
    const r = JSON.parse(fs.readFileSync(report, 'utf8')) as { verification: { ok: boolean; max_rel_diff: number }; spark_ml: unknown };
    expect(r.verification.ok).to.equal(true);
    expect(r.verification.max_rel_diff).to.be.at.most(1e-9);
    expect(r.spark_ml, 'Spark ML ran on the executors').to.not.equal(null);
  });

  it('the stream job on 3 brokers, one SIGKILLed mid-run and restarted: exact closed-window totals, and the producer lost nothing', async () => {
    const servers = cluster.kafka().bootstrap_servers;
    expect(servers.split(',')).to.have.length(3);
    const id = randomUUID().slice(0, 8);
    const topics = {
      data: `cluster-data-${id}`,
      dlq: `cluster-dlq-${id}`,
      aggregates: `cluster-agg-${id}`,
      alerts: `cluster-alerts-${id}`,
    };
    // The project's idempotent acks=all producer; its retries must outlast a failover (the lost broker is
    // fenced after broker.session.timeout.ms, then partitions get new leaders).
    const kafka = createKafka('cluster-test', servers, {
      connectionTimeout: 3000,
      retry: { initialRetryTime: 200, maxRetryTime: 2000, retries: 20 },
    });
    const admin = kafka.admin();
    await admin.connect();
    let victim: number;
    try {
      await ensureTopics(admin, Object.values(topics), 2);
      const meta = await admin.fetchTopicMetadata({ topics: [topics.data] });
      for (const p of meta.topics[0].partitions) expect(p.replicas, `partition ${p.partitionId} replicas`).to.have.length(3);
      const cfg = await admin.describeConfigs({
        resources: [{ type: 2, name: topics.data, configNames: ['min.insync.replicas'] }],
        includeSynonyms: false,
      });
      expect(cfg.resources[0].configEntries[0].configValue).to.equal('2');
      victim = meta.topics[0].partitions.find((p) => p.partitionId === 0)!.leader; // the leader of partition 0 goes
    } finally {
      await admin.disconnect();
    }

    const T0 = Date.UTC(2026, 0, 21, 8, 0, 0);
    // The project's stream producer (lib/stream/producer.ts, what `stream-produce` runs): idempotent, acks=all,
    // one partition per produce request with every ack checked. Readings in order only (no late, malformed or
    // anomalous ones), three sensors in turn, one second of event time per three messages, so every window
    // before the closing reading closes with every reading in it.
    const clockFrom = (second: number) => {
      let i = 0;
      return () => {
        const n = i++;
        return T0 + (second + Math.floor(n / 3)) * 1000 + (n % 3) * 10;
      };
    };
    const sim = { sensors: 3, anomalyRate: 0, lateRate: 0, maxLatenessMs: 1000, malformedRate: 0, record: true };
    const retries: string[] = [];
    const produce = (seed: number, from: number, count: number, rate: number, onProgress?: (p: ProduceProgress) => void) =>
      produceSensorData(
        { ...sim, seed, topic: topics.data, bootstrapServers: servers, rate, count, partitions: 2, clock: clockFrom(from) },
        { onProgress, log: (l) => retries.push(l) },
      );
    const runs: ProduceSummary[] = [];
    const dir = path.join(work, `stream-${id}`);
    const jobArgs = (trigger: string, metrics: string) => [
      'submit',
      '--master',
      master,
      '--no-progress',
      'stream',
      '--',
      '--topic',
      topics.data,
      '--dlq-topic',
      topics.dlq,
      '--aggregates-topic',
      topics.aggregates,
      '--alerts-topic',
      topics.alerts,
      '--starting-offsets',
      'earliest',
      '--trigger',
      trigger,
      '--output',
      path.join(dir, 'out'),
      '--checkpoint',
      path.join(dir, 'checkpoint'),
      '--metrics',
      path.join(dir, metrics),
    ];
    let restart: Promise<CliRun> | undefined;
    let killedPid = 0;
    let sentAtKill = 0;
    const closer = new SensorSimulator({ ...sim, seed: 13 }).make(0, T0 + 3_600_000, 'normal'); // closes every window before it
    let closerAcked = new Map<number, number>();
    runs.push(await produce(11, 0, 120, 0)); // seconds 0..39
    const job = sparkTs(jobArgs('processing-time=1s', 'm1.json'), cluster.env);
    let jobEnded = false;
    try {
      const firstCommit = path.join(dir, 'checkpoint', 'aggregates_10s', 'commits', '0');
      const t0 = Date.now();
      while (!fs.existsSync(firstCommit)) {
        if (Date.now() - t0 > 240_000) throw new Error('the stream job committed no batch in 240 s');
        const early = await Promise.race([job, sleep(250).then(() => undefined)]);
        if (early) throw new Error(`the stream job ended early (exit ${early.code}):\n${early.stderr.slice(-3000)}`);
      }
      // Seconds 40..159 at 60 messages/s (3 per request batch, spanning both partitions): the leader of
      // partition 0 is SIGKILLed after 30 acked messages, and restarted once 150 were acked (after the
      // failover), while the producer goes on.
      runs.push(
        await produce(12, 40, 360, 60, (p) => {
          if (!killedPid && p.sent >= 30) {
            sentAtKill = p.sent;
            const b = cluster.kafka().brokers!.find((x) => x.node_id === victim)!;
            killedPid = b.pid;
            process.kill(-b.pid, 'SIGKILL');
          }
          if (killedPid && !restart && p.sent >= 150) restart = sparkTs(['up', 'kafka', '--brokers', '3'], cluster.env);
        }),
      );
      expect(killedPid, 'the broker was killed while the producer ran').to.be.greaterThan(0);
      expect(sentAtKill).to.be.below(150);
      expect(restart, 'the broker was restarted while the producer ran').to.not.equal(undefined);
      ok(await restart!, 'spark-ts up kafka --brokers 3 (restart of the killed broker)');
      const producer = await connectIdempotentProducer(kafka, servers);
      try {
        closerAcked = await sendBatch(producer, topics.data, [{ key: closer.key, value: closer.value }]);
      } finally {
        await producer.disconnect();
      }
      await sleep(3000);
      process.kill(job.pid!, 'SIGINT');
      const ended = await job;
      jobEnded = true;
      expect(ended.code, ended.stderr.slice(-3000)).to.equal(130);
    } finally {
      if (!jobEnded && job.pid) process.kill(job.pid, 'SIGKILL'); // a failure above leaves no job behind
      await restart;
    }
    const back = cluster.kafka().brokers!.find((x) => x.node_id === victim)!;
    expect(back.pid).not.to.equal(killedPid);

    // Whatever the first run had not processed: the same checkpoint, available-now.
    ok(await sparkTs(jobArgs('available-now', 'm2.json'), cluster.env), 'stream (available-now)');

    // The producer lost nothing and doubled nothing: per partition, the broker holds exactly what was acked.
    for (const r of runs) expect(r.failed, `failed sends (${r.lastError})`).to.equal(0);
    expect(runs.map((r) => r.sent)).to.deep.equal([120, 360]);
    const acked: Record<number, number> = {};
    for (const m of [...runs.map((r) => new Map(Object.entries(r.sentByPartition).map(([p, n]) => [Number(p), n]))), closerAcked])
      for (const [p, n] of m) acked[p] = (acked[p] ?? 0) + n;
    const admin2 = kafka.admin();
    await admin2.connect();
    const offsets = await admin2.fetchTopicOffsets(topics.data).finally(() => admin2.disconnect());
    const onBroker = Object.fromEntries(offsets.map((o) => [o.partition, Number(o.high) - Number(o.low)]));
    console.log(
      `      (producer through the broker kill: acked per partition ${JSON.stringify(acked)}, broker offsets ${JSON.stringify(onBroker)}, ${retries.length} request(s) retried beyond kafkajs's own retries; 360 messages in ${(runs[1].elapsedMs / 1000).toFixed(1)} s, 6 s without the failure)`,
    );
    expect(onBroker).to.deep.equal(acked);
    const sent = [...runs.flatMap((r) => r.events), closer];
    const stored = await readTopic(kafka, topics.data, { timeoutMs: 60_000 });
    expect(stored.length).to.equal(sent.length);
    expect(stored.map((m) => m.value).sort()).to.deep.equal(sent.map((e) => e.value).sort());

    const s = cluster.spark();
    const spark = await SparkSession.builder()
      .remote(`${s.url}/;token=${encodeURIComponent(s.token)}`)
      .appName('cluster-test')
      .create();
    try {
      const rows = await spark.read.parquet(path.join(dir, 'out', 'aggregates_10s')).collect();
      const got = rows
        .map((r) => ({
          key: `${r.sensor_id}@${micros(r.window_start)}`,
          readings: Number(r.readings as bigint),
          avg: r.temperature_avg as number,
          min: r.temperature_min as number,
          max: r.temperature_max as number,
        }))
        .sort((a, b) => a.key.localeCompare(b.key));
      const expected = expectedWindows([sent.map((e) => e.reading)], { windowMs: 10_000, watermarkMs: 10_000 }).map(aggregate);
      expect(expected).to.have.length(3 * 16); // 3 sensors, seconds 0..159
      expect(got).to.deep.equal(
        expected
          .map((e) => ({
            key: `${e.sensor_id}@${e.window_start}`,
            readings: e.readings,
            avg: e.temperature_avg,
            min: e.temperature_min,
            max: e.temperature_max,
          }))
          .sort((a, b) => a.key.localeCompare(b.key)),
      );
    } finally {
      await spark.stop();
    }
  });

  it('a worker killed mid-job: Spark reschedules its tasks and cache-bench computes the digest of the local run', async () => {
    const args = (m: string[], out: string) => [
      'submit',
      ...m,
      '--no-progress',
      'cache-bench',
      '--',
      '--rows',
      '200000',
      '--iterations',
      '1',
      '--modes',
      'none,MEMORY_ONLY',
      '--output',
      out,
    ];
    const l = ok(await sparkTs(args([], path.join(work, 'cb-local', 'r.json')), local), 'cache-bench (local)');

    const s = cluster.spark();
    const c = cluster.cluster();
    const run = sparkTs(args(['--master', master], path.join(work, 'cb-cluster', 'r.json')), cluster.env);
    // Kill worker 2 with its executor (a lost machine) while the MEMORY_ONLY mode caches and queries, at a
    // moment its executor runs tasks.
    const api = `${s.ui_url}/api/v1/applications`;
    const get = async <T>(url: string): Promise<T> => (await fetch(url, { signal: AbortSignal.timeout(5000) })).json() as Promise<T>;
    const activeTasksOf = async (execId: string): Promise<number> => {
      const [app] = await get<Array<{ id: string }>>(api);
      const execs = await get<Array<{ id: string; activeTasks: number }>>(`${api}/${app.id}/executors`);
      return execs.find((x) => x.id === execId)?.activeTasks ?? 0;
    };
    // The UI's count of running tasks lags the executor: a task it shows may have ended already, and a kill
    // between tasks reschedules nothing (one CI run met exactly that). So the worker and its executor are
    // frozen first (SIGSTOP): frozen, the executor can neither end nor start a task. Once the count has
    // settled (the same twice, 0.5 s apart: the driver has processed what the executor sent before), a count
    // above 0 is tasks the kill interrupts; otherwise the worker is resumed and the test waits for another.
    const frozenActiveTasks = async (execId: string): Promise<number> => {
      let last = -1;
      for (let i = 0; i < 20; i++) {
        await sleep(500);
        const n = await activeTasksOf(execId);
        if (n === last) return n;
        last = n;
      }
      return 0;
    };
    const workerGroup = -c.workers[1].pid;
    let victim: string | undefined;
    let tasksAtKill = 0;
    const t0 = Date.now();
    while (!victim && Date.now() - t0 < 600_000) {
      const done = await Promise.race([run, sleep(200).then(() => undefined)]);
      if (done) break;
      if (!run.stderrSoFar().includes('none: iteration 1/1')) continue;
      let frozen = false;
      try {
        const appDir = fs.readdirSync(c.workers[1].work_dir).find((d) => d.startsWith('app-'));
        const execId = appDir && fs.readdirSync(path.join(c.workers[1].work_dir, appDir))[0];
        if (!execId || (await activeTasksOf(execId)) === 0) continue;
        process.kill(workerGroup, 'SIGSTOP');
        frozen = true;
        const running = await frozenActiveTasks(execId);
        if (running > 0) {
          process.kill(workerGroup, 'SIGKILL');
          frozen = false;
          victim = execId;
          tasksAtKill = running;
        }
      } catch {
        /* the UI may be busy; ask again */
      } finally {
        if (frozen) process.kill(workerGroup, 'SIGCONT');
      }
    }
    expect(victim, 'worker 2 was killed while its executor ran tasks').to.be.a('string');
    const r = ok(await run, 'cache-bench (cluster, a worker killed)');
    console.log(
      `      (cache-bench wall time: local ${(l.ms / 1000).toFixed(1)} s, 2 workers with one killed ${(r.ms / 1000).toFixed(1)} s; ${tasksAtKill} task(s) running on the killed executor)`,
    );

    const view = await get<{ aliveworkers: number }>(`${c.master_ui_url}/json/`);
    expect(view.aliveworkers, 'the master saw the worker go').to.equal(1);
    const [app] = await get<Array<{ id: string }>>(api);
    const executors = await get<Array<{ id: string; isActive: boolean; failedTasks: number }>>(`${api}/${app.id}/allexecutors`);
    expect(executors.find((e) => e.id === victim)?.isActive, 'the killed executor is lost').to.equal(false);
    // Its running tasks failed with it and ran again elsewhere.
    const stages = await get<Array<{ numFailedTasks: number }>>(`${api}/${app.id}/stages`);
    expect(
      stages.reduce((n, st) => n + st.numFailedTasks, 0),
      'tasks failed with the executor',
    ).to.be.greaterThan(0);

    const read = (dir: string) => JSON.parse(fs.readFileSync(path.join(work, dir, 'r.json'), 'utf8')) as CacheBenchReport;
    const [a, b] = [read('cb-local'), read('cb-cluster')];
    expect(b.digests_equal).to.equal(true);
    expect(b.modes.map((m) => [m.mode, m.result_digest])).to.deep.equal(a.modes.map((m) => [m.mode, m.result_digest]));
    expect(a.modes[0].result_digest).to.match(/^[0-9a-f]{64}$/);
  });
});
