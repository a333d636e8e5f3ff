import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type SpawnOptions } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { ensureSpark } from '../support/servers';
import { isPortFree, isRunning } from '../../lib/runtime/process';
import type { SparkState } from '../../lib/runtime/spark-server';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'spark-ts');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'jobs');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `spark-ts ...` as a child process (never through a shell). */
function cli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(CLI, args, {
      cwd: ROOT,
      env: { ...process.env, SPARK_TS_JOBS_PATH: FIXTURES, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    } satisfies SpawnOptions);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`spark-ts ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 90_000} ms\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 90_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

function remoteOf(state: SparkState): string {
  return `sc://127.0.0.1:${state.port}/;token=${state.token}`;
}

/** A free TCP port on 127.0.0.1 (with its neighbour free too when `pair`). */
async function freePort(pair = false): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    if ((await isPortFree(port)) && (!pair || (await isPortFree(port + 1)))) return port;
  }
}

describe('cli: spark-ts submit, sql and jobs against the real server', function () {
  let state: SparkState;
  let remote: string;
  before(async function () {
    this.timeout(240_000);
    state = await ensureSpark();
    remote = remoteOf(state);
  });

  it('submits a job from a file path, with job arguments after --', async () => {
    const r = await cli(['submit', '--remote', remote, path.join(FIXTURES, 'fixture-echo.ts'), '--', '--word', 'ab', '--times', '3']);
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout.trim());
    expect(out).to.include({ job: 'fixture-echo', word: 'ab', times: 3, said: 'ababab', timeZone: 'UTC' });
    expect(r.stderr).to.include('fixture-echo: said ababab');
  });

  it('submits a registered job by name, passing options and positional arguments through', async () => {
    const r = await cli(['submit', '--remote', remote, 'fixture-echo', '--word', 'x', '--times', '2', 'first', 'second']);
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout.trim())).to.deep.include({ said: 'xx', rest: ['first', 'second'] });
  });

  it('sets SQL settings from --conf on the job session (over the defaults file)', async () => {
    const r = await cli(['submit', '--remote', remote, '--conf', 'spark.sql.shuffle.partitions=3', 'fixture-echo']);
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout.trim())).to.include({ shufflePartitions: '3', timeZone: 'UTC' });
  });

  it('reuses the running embedded server without --remote, and says clearly when its static settings differ', async () => {
    const running = state.static_conf['spark.driver.memory'] ?? 'it unset';
    const r = await cli(['submit', '--driver-memory', '123m', 'fixture-echo', '--word', 'reuse']);
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout.trim())).to.include({ said: 'reuse' });
    expect(r.stderr).to.include('static Spark settings do not apply');
    expect(r.stderr).to.include(`spark.driver.memory=123m (the server has ${running})`);
    expect(r.stderr).to.include('spark-ts down spark');
    expect(r.stderr).to.not.include('starting the embedded Spark Connect server');
  });

  it('says that static settings do not apply to a --remote server', async () => {
    const r = await cli(['submit', '--remote', remote, '--master', 'spark://elsewhere:7077', 'fixture-echo']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.include('static Spark settings do not apply');
    expect(r.stderr).to.include('spark.master=spark://elsewhere:7077');
  });

  it("`submit <job> --help` shows the job's own options and starts nothing", async () => {
    const r = await cli(['submit', 'fixture-echo', '--help']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.include('spark-ts submit fixture-echo');
    expect(r.stdout).to.include('--word');
    expect(r.stdout).to.include('--times');
  });

  it('`run --only` refuses an unknown step before touching anything, naming the steps there are', async () => {
    const r = await cli(['run', '--only', 'stream,no-such-step']);
    expect(r.code).to.equal(2);
    expect(r.stdout).to.match(/no step named no-such-step; the steps are .*stream-produce, stream, stream-watch/);
  });

  it('`jobs` lists the registered jobs with one line each', async () => {
    const r = await cli(['jobs']);
    expect(r.code).to.equal(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.find((l) => l.startsWith('preprocess '))).to.match(/^preprocess\s+\S/);
    expect(lines.find((l) => l.startsWith('fixture-echo '))).to.include('test fixture: repeat a word');
  });

  it('runs a Kafka-only job with --bootstrap-servers: no server is started and no Spark session given', async () => {
    const r = await cli(['submit', '--bootstrap-servers', '127.0.0.1:1', 'fixture-kafka-only'], {
      env: { SPARK_TS_RUN_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'spark-ts-run-')) },
    });
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout.trim());
    expect(out.bootstrapServers).to.equal('127.0.0.1:1');
    expect(out.sparkUse).to.include("needs do not include 'spark'");
    expect(r.stderr).to.not.include('starting');
  });

  it('a failing job exits 1 with the Spark error class and message, without a JS stack', async () => {
    const r = await cli(['submit', '--remote', remote, 'fixture-bad-sql']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('job fixture-bad-sql failed: AnalysisException: [UNRESOLVED_COLUMN');
    expect(r.stderr).to.include('no_such_column');
    expect(r.stderr).to.not.match(/^\s+at /m);
    const verbose = await cli(['submit', '--remote', remote, '--verbose', 'fixture-bad-sql']);
    expect(verbose.code).to.equal(1);
    expect(verbose.stderr).to.match(/^\s+at /m);
  });

  describe('bad input', () => {
    it('an unknown job exits 2 and lists the known jobs', async () => {
      const r = await cli(['submit', 'no-such-job']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.include('unknown job "no-such-job"');
      expect(r.stderr).to.match(/known jobs: .*preprocess/);
    });

    it('a --conf without = exits 2 naming the argument', async () => {
      const r = await cli(['submit', '--conf', 'spark.sql.shuffle.partitions', 'fixture-echo']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.include('--conf expects key=value, got "spark.sql.shuffle.partitions"');
    });

    it('a job file without run() gives a clear error (exit 2)', async () => {
      const r = await cli(['submit', path.join(FIXTURES, 'fixture-no-run.ts')]);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.include('is not a spark-ts job: it exports no run(spark, args, ctx) function');
    });

    it('a job option the job does not know exits 2, with a hint for runner options put after the job', async () => {
      const r = await cli(['submit', 'fixture-echo', '--verbose']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.include('Unknown argument: verbose');
      expect(r.stderr).to.include('put it before the job name');
    });

    it("a job's own validation failure exits 2", async () => {
      const r = await cli(['submit', 'fixture-echo', '--times', '-1']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.include('--times must be a non-negative integer, got -1');
    });

    it('--remote to a closed port fails within 5 s naming the endpoint', async () => {
      const port = await freePort();
      for (const args of [
        ['sql', 'SELECT 1', '--remote', `sc://127.0.0.1:${port}`],
        ['submit', '--remote', `sc://127.0.0.1:${port}`, 'fixture-echo'],
      ]) {
        // The command's own start (node + ts-node + modules) is not the connection attempt: time a run that
        // loads the same modules and connects nowhere, and allow 5 s on top of it.
        const baseline = await cli(['submit', 'fixture-echo', '--help']);
        const r = await cli(args);
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include(`sc://127.0.0.1:${port}`);
        expect(r.stderr).to.include('connection refused');
        expect(r.ms - baseline.ms, `${r.ms} ms against ${baseline.ms} ms to start`).to.be.below(5000);
      }
    });

    it('a SQL syntax error prints the ParseException with its position and exits 1', async () => {
      const r = await cli(['sql', 'SELEC 1 FORM t', '--remote', remote]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include('ParseException: [PARSE_SYNTAX_ERROR] Syntax error at or near');
      expect(r.stderr).to.include('(line 1, pos 0)');
      expect(r.stderr).to.include('^^^');
    });
  });

  describe('sql', () => {
    it('--json follows the contract exactly for every type', async () => {
      const query = `SELECT
        CAST(9007199254740993 AS BIGINT) AS big,
        CAST(-9223372036854775808 AS BIGINT) AS min_long,
        CAST('12345678901234567890.123456789012345678' AS DECIMAL(38,18)) AS dec,
        CAST('-0.000000000000000001' AS DECIMAL(38,18)) AS tiny_dec,
        DATE'1969-07-20' AS d,
        TIMESTAMP'2024-02-29 23:59:59.123456' AS ts,
        TIMESTAMP_NTZ'2024-02-29 23:59:59.000001' AS ts_ntz,
        X'DEADBEEF' AS bin,
        array(1, 2, NULL) AS arr,
        named_struct('a', 1, 'b', 'x', 'c', array(named_struct('t', TIMESTAMP'1900-01-01 00:00:00'))) AS st,
        map('k1', 1.5D, 'k2', CAST('NaN' AS DOUBLE)) AS m,
        CAST('NaN' AS DOUBLE) AS nan,
        CAST('Infinity' AS DOUBLE) AS inf,
        CAST('-Infinity' AS DOUBLE) AS ninf,
        CAST(NULL AS STRING) AS nul,
        true AS b,
        'say "hi"' AS s,
        CAST(1.1 AS FLOAT) AS f,
        CAST(7 AS INT) AS i`;
      const r = await cli(['sql', query, '--json', '--remote', remote]);
      expect(r.code, r.stderr).to.equal(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.equal(
        '{"big":9007199254740993,"min_long":-9223372036854775808,' +
          '"dec":12345678901234567890.123456789012345678,"tiny_dec":-0.000000000000000001,' +
          '"d":"1969-07-20","ts":"2024-02-29T23:59:59.123456Z","ts_ntz":"2024-02-29T23:59:59.000001",' +
          '"bin":"3q2+7w==","arr":[1,2,null],"st":{"a":1,"b":"x","c":[{"t":"1900-01-01T00:00:00.000000Z"}]},' +
          '"m":{"k1":1.5,"k2":"NaN"},"nan":"NaN","inf":"Infinity","ninf":"-Infinity","nul":null,"b":true,' +
          '"s":"say \\"hi\\"","f":1.1,"i":7}',
      );
      // It parses back as JSON, and the exact digits are there for a reader that keeps them.
      const parsed = JSON.parse(lines[0]);
      expect(parsed).to.include({ d: '1969-07-20', ts: '2024-02-29T23:59:59.123456Z', nan: 'NaN', nul: null });
      expect(Buffer.from(parsed.bin, 'base64').toString('hex')).to.equal('deadbeef');
    });

    it('--json prints one object per row; --max-rows stops early', async () => {
      const r = await cli(['sql', 'SELECT id, id * 2 AS twice FROM range(5) ORDER BY id', '--json', '--max-rows', '3', '--remote', remote]);
      expect(r.code, r.stderr).to.equal(0);
      expect(
        r.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
      ).to.deep.equal([
        { id: 0, twice: 0 },
        { id: 1, twice: 2 },
        { id: 2, twice: 4 },
      ]);
      expect(r.stderr).to.include('--max-rows 3');
    });

    it('--csv writes a header and quoted cells (csv-stringify)', async () => {
      const r = await cli(['sql', `SELECT 1 AS n, 'a,b' AS s, CAST(NULL AS INT) AS z, array(1,2) AS arr`, '--csv', '--remote', remote]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.equal('n,s,z,arr\n1,"a,b",,"[1,2]"\n');
    });

    it('prints a table by default', async () => {
      const r = await cli(['sql', `SELECT 42 AS answer, CAST(NULL AS STRING) AS nothing`, '--remote', remote]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/answer\s*│\s*nothing/);
      expect(r.stdout).to.match(/42\s*│\s*NULL/);
      expect(r.stderr).to.include('1 row');
    });
  });

  /** Submits a fixture job and resolves once it printed `ready`, with its output so far and its exit. */
  async function submitUntilReady(args: string[]) {
    const child = spawn(CLI, ['submit', '--remote', remote, ...args], {
      cwd: ROOT,
      env: { ...process.env, SPARK_TS_JOBS_PATH: FIXTURES },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '' };
    child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the job never said ready:\n${out.stdout}\n${out.stderr}`)), 60_000);
      child.stdout.on('data', (d: Buffer) => {
        out.stdout += d.toString();
        if (out.stdout.includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    return { child, out, exited };
  }

  const queryName = () => `cli_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

  it("Ctrl-C interrupts the running operation, stops the job's streaming queries, runs its shutdown handlers and exits 130", async function () {
    this.timeout(90_000);
    const name = queryName();
    const { child, out, exited } = await submitUntilReady(['fixture-interruptible', '--query', name]);
    await new Promise((r) => setTimeout(r, 500)); // the long operation is on the server now
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await exited;
    const { stdout, stderr } = out;
    expect(code, stderr).to.equal(130);
    expect(Date.now() - t0).to.be.below(30_000);
    expect(stderr).to.include('interrupting job fixture-interruptible');
    expect(stderr, stderr).to.match(/interrupted \d+ running operation/);
    expect(stderr, stderr).to.include(`stopped streaming query "${name}"`);
    expect(stdout).to.include('shutdown handler ran');
    expect(stdout).to.not.include('was not interrupted');
  });

  it('Ctrl-C leaves the queries of a job with a grace period (interruptGraceMs) to the job: it stops them itself', async function () {
    this.timeout(90_000);
    const name = queryName();
    const { child, out, exited } = await submitUntilReady(['fixture-graceful', '--query', name]);
    child.kill('SIGINT');
    expect(await exited, out.stderr).to.equal(130);
    expect(out.stdout, out.stderr).to.include('active after the interrupt: true');
    expect(out.stdout).to.include('stopped its own query');
    expect(out.stderr, out.stderr).to.not.include(`stopped streaming query "${name}"`);
    expect(out.stderr).to.not.include('did not return within');
  });

  it('Ctrl-C stops the queries of a job with a grace period that does not return within it', async function () {
    this.timeout(90_000);
    const name = queryName();
    const { child, out, exited } = await submitUntilReady(['fixture-graceful', '--query', name, '--ignore-signal']);
    const t0 = Date.now();
    child.kill('SIGINT');
    expect(await exited, out.stderr).to.equal(130);
    expect(Date.now() - t0, 'the grace period (3 s) is waited for').to.be.at.least(3000);
    expect(out.stderr, out.stderr).to.include(
      'job fixture-graceful did not return within 3 s of the interrupt; stopping what it left running',
    );
    expect(out.stderr).to.include(`stopped streaming query "${name}"`);
    expect(out.stdout).to.include('the query ended');
  });
});

describe('cli: servers of its own (a separate run directory and ports; the shared servers are not touched)', function () {
  let runDir: string;
  let env: NodeJS.ProcessEnv;
  const pids: number[] = [];

  before(async () => {
    runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spark-ts-cli-run-'));
    const kafkaPort = await freePort(true);
    env = {
      SPARK_TS_RUN_DIR: runDir,
      SPARK_TS_SPARK_PORT: String(await freePort()),
      SPARK_TS_KAFKA_PORT: String(kafkaPort),
      SPARK_TS_KAFKA_CONTROLLER_PORT: String(kafkaPort + 1),
      SPARK_REMOTE: '',
      KAFKA_BOOTSTRAP_SERVERS: '',
    };
  });

  after(async function () {
    this.timeout(120_000);
    await cli(['down'], { env, timeoutMs: 110_000 }); // whatever a failed test left, by this run directory only
    fs.rmSync(runDir, { recursive: true, force: true });
  });

  it('submit with no server running starts one for the job and stops it afterwards', async function () {
    this.timeout(300_000);
    const r = await cli(['submit', '--conf', 'spark.ui.enabled=false', 'fixture-echo', '--word', 'own'], { env, timeoutMs: 280_000 });
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout.trim())).to.include({ said: 'own' });
    expect(r.stderr).to.include('starting the embedded Spark Connect server for job fixture-echo');
    const pid = Number(r.stderr.match(/spark: started in [\d.]+s at \S+ \(pid (\d+)/)?.[1]);
    expect(pid).to.be.greaterThan(0);
    pids.push(pid);
    expect(r.stderr).to.match(/spark: (stopped|killed) \(pid \d+\)/);
    expect(isRunning(pid)).to.equal(false);
    expect(fs.existsSync(path.join(runDir, 'spark.json'))).to.equal(false);
  });

  it('a Kafka-only job gets the embedded broker started for it (and stopped after), and no Spark server', async function () {
    this.timeout(200_000);
    const r = await cli(['submit', 'fixture-kafka-only'], { env, timeoutMs: 180_000 });
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout.trim()).bootstrapServers).to.equal(`127.0.0.1:${env.SPARK_TS_KAFKA_PORT}`);
    const pid = Number(r.stderr.match(/kafka: started the embedded broker in [\d.]+s at \S+ \(pid (\d+)\)/)?.[1]);
    expect(pid, r.stderr).to.be.greaterThan(0);
    pids.push(pid);
    expect(r.stderr).to.match(/kafka: (stopped|killed) \(pid \d+\)/);
    expect(r.stderr).to.not.include('Spark Connect server');
    expect(isRunning(pid)).to.equal(false);
  });

  it('`up` twice starts nothing new; `down` leaves no JVM', async function () {
    this.timeout(400_000);
    const first = await cli(['up'], { env, timeoutMs: 300_000 });
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.match(/spark: started/);
    expect(first.stdout).to.match(/kafka: started/);
    const sparkPid = JSON.parse(fs.readFileSync(path.join(runDir, 'spark.json'), 'utf8')).pid as number;
    const kafkaPid = JSON.parse(fs.readFileSync(path.join(runDir, 'kafka.json'), 'utf8')).pid as number;
    pids.push(sparkPid, kafkaPid);

    const second = await cli(['up'], { env });
    expect(second.code, second.stderr).to.equal(0);
    expect(second.stdout).to.match(/spark: already running/);
    expect(second.stdout).to.match(/kafka: already running/);
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'spark.json'), 'utf8')).pid).to.equal(sparkPid);
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'kafka.json'), 'utf8')).pid).to.equal(kafkaPid);

    const st = await cli(['status'], { env });
    expect(st.stdout).to.include(`pid ${sparkPid}`);
    expect(st.stdout).to.include(`pid ${kafkaPid}`);
    expect(st.stdout).to.not.match(/token/i);

    const down = await cli(['down'], { env, timeoutMs: 110_000 });
    expect(down.code, down.stderr).to.equal(0);
    for (const pid of pids) expect(isRunning(pid), `pid ${pid}`).to.equal(false);
    // Any live process (a zombie left for its reaper is not one) still using this run directory.
    const java = fs
      .readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(runDir) && isRunning(Number(p));
        } catch {
          return false;
        }
      });
    expect(java, 'JVMs of this run directory').to.deep.equal([]);
  });
});
