import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { ensureSpark } from '../support/servers';
import { SparkRestClient, resolveUiUrl } from '../../lib/cachebench/rest';
import { MODES } from '../../lib/cachebench/modes';
import type { CacheBenchReport } from '../../lib/cachebench/run';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'spark-ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `spark-ts ...` as a child process (no shell), as a person runs it. */
function sparkTs(args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(CLI, args, { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      reject(new Error(`spark-ts ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const NUMERIC_FIELDS = ['first_ms', 'median_ms', 'p95_ms', 'speedup', 'memory_bytes', 'disk_bytes', 'bytes_per_row'] as const;

describe('cache-bench job against the real server', function () {
  const dir = path.join(os.tmpdir(), `cache-bench-test-${randomUUID()}`);
  let rest: SparkRestClient;
  /** The first test's digest: the second run (another generate + preprocess + plan) must reproduce it. */
  let firstDigest: string | null = null;
  const ROWS = 10_000;

  before(async function () {
    this.timeout(240_000);
    await ensureSpark();
    rest = new SparkRestClient(resolveUiUrl());
    const probe = await rest.probe();
    if (!probe.ok) throw new Error(`the acceptance test needs the Spark UI's REST API: ${probe.reason}`);
    fs.mkdirSync(dir, { recursive: true });
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('10k generated rows × 2 iterations: every mode reports its fields, digests agree, caches are measured and freed', async function () {
    this.timeout(30 * 60_000);
    const output = path.join(dir, 'cb.json');
    const run = await sparkTs(['submit', 'cache-bench', '--rows', String(ROWS), '--iterations', '2', '--output', output], 29 * 60_000);
    expect(run.code, run.stderr).to.equal(0);

    const report = JSON.parse(fs.readFileSync(output, 'utf8')) as CacheBenchReport;
    expect(report.rows).to.equal(ROWS);
    // The ledger adds up: generated rows = quarantined + duplicates + held, and every mode counted the held rows.
    const l = report.workload.ledger;
    expect(l.rows_read).to.equal(ROWS);
    expect(l.rows_quarantined + l.duplicates_removed + l.duplicate_ids_removed + l.rows_held).to.equal(ROWS);
    expect(l.rows_held).to.be.within(ROWS * 0.8, ROWS);
    expect(report.workload.columns).to.be.greaterThan(80);
    expect(report.iterations).to.equal(2);
    expect(report.machine.cores).to.be.greaterThan(0);
    expect(report.machine.memory_bytes).to.be.greaterThan(0);
    expect(report.machine.spark_version).to.match(/^4\./);
    expect(report.modes.map((m) => m.mode)).to.deep.equal([...MODES]);

    for (const m of report.modes) {
      expect(m.error, `${m.mode} failed`).to.equal(null);
      // The shared server is started with off-heap memory (spark-conf/spark-defaults.conf), so nothing is skipped.
      expect(m.skipped, `${m.mode} skipped`).to.equal(null);
      for (const f of NUMERIC_FIELDS) {
        expect(m[f], `${m.mode}.${f}`).to.be.a('number');
        expect(Number.isFinite(m[f]) && (m[f] as number) >= 0, `${m.mode}.${f} = ${m[f]}`).to.equal(true);
      }
      expect(m.first_ms, m.mode).to.be.greaterThan(0);
      expect(m.iterations_ms, m.mode).to.have.length(2);
      expect(m.storage_level, m.mode).to.equal(['none', 'parquet', 'csv'].includes(m.mode) ? 'NONE' : m.mode);
      expect(m.result_digest, m.mode).to.match(/^[0-9a-f]{64}$/);
      expect(m.digest_stable, m.mode).to.equal(true);
      expect(Object.keys(m.query_stats), m.mode).to.deep.equal(report.workload.queries.map((q) => q.name));
      for (const st of Object.values(m.query_stats)) expect(st.median_ms, m.mode).to.be.greaterThan(0);
      expect(m.setup_ms, m.mode).to.be.a('number');
    }
    firstDigest = report.modes[0].result_digest;
    const digests = new Set(report.modes.map((m) => m.result_digest));
    expect(digests.size, 'one digest for every mode').to.equal(1);
    expect(report.digests_equal).to.equal(true);

    const byMode = Object.fromEntries(report.modes.map((m) => [m.mode, m]));
    expect(byMode.none.speedup).to.equal(1);
    expect(byMode.MEMORY_ONLY.memory_bytes).to.be.greaterThan(0);
    expect(byMode.MEMORY_ONLY.disk_bytes).to.equal(0);
    expect(byMode.MEMORY_ONLY.cached_partitions).to.equal(byMode.MEMORY_ONLY.total_partitions);
    expect(byMode.DISK_ONLY.disk_bytes).to.be.greaterThan(0);
    expect(byMode.DISK_ONLY.memory_bytes).to.equal(0);
    expect(byMode.OFF_HEAP.off_heap_bytes).to.be.greaterThan(0);
    for (const m of ['MEMORY_ONLY', 'MEMORY_AND_DISK', 'MEMORY_ONLY_SER', 'DISK_ONLY', 'OFF_HEAP']) {
      expect(byMode[m].storage_freed, `${m} freed after unpersist`).to.equal(true);
      expect(byMode[m].bytes_per_row, m).to.be.greaterThan(0);
      expect(byMode[m].ratio_to_parquet, m).to.be.greaterThan(0);
    }
    expect(report.baselines.parquet_bytes).to.be.greaterThan(0);
    expect(report.baselines.csv_bytes).to.be.greaterThan(report.baselines.parquet_bytes as number);
    expect(byMode.parquet.bytes_per_row).to.be.closeTo((report.baselines.parquet_bytes as number) / l.rows_held, 0.01);
    expect(byMode.parquet.setup_ms).to.equal(report.baselines.parquet_write_ms);
    expect(byMode.MEMORY_ONLY.fits, 'a few MiB fit in storage memory').to.equal(true);
    expect(byMode.MEMORY_ONLY.memory_bytes_per_row).to.equal(byMode.MEMORY_ONLY.bytes_per_row);

    // The job read the REST API of this server's application (not another server's UI on a shared machine).
    expect(report.rest_api.reachable).to.equal(true);
    expect(report.rest_api.app_id).to.be.a('string');
    rest = new SparkRestClient(report.rest_api.url, undefined, report.rest_api.app_id as string);
    expect((await rest.probe()).ok).to.equal(true);
    // Nothing of this run is left cached on the server, by Spark's own account.
    expect(report.leftover_cached_rdds).to.equal(0);
    expect(await rest.cachedWith(report.cache_marker)).to.deep.equal([]);
    // The baselines were removed.
    expect(fs.existsSync(report.baselines.work_dir)).to.equal(false);

    // The CSV has the same rows; the chart has a line per mode; the table was printed.
    const csv = fs.readFileSync(path.join(dir, 'cb.csv'), 'utf8').trim().split('\n');
    expect(csv).to.have.length(1 + MODES.length);
    expect(csv[0].split(',').slice(0, 10)).to.deep.equal([
      'mode',
      'storage_level',
      'first_ms',
      'median_ms',
      'p95_ms',
      'speedup',
      'memory_bytes',
      'disk_bytes',
      'bytes_per_row',
      'result_digest',
    ]);
    const svg = fs.readFileSync(path.join(dir, 'cb.svg'), 'utf8');
    expect((svg.match(/class="mark-line/g) ?? []).length).to.equal(MODES.length);
    expect(fs.readFileSync(path.join(dir, 'cb.speedup.svg'), 'utf8')).to.match(/^<svg/);
    for (const m of MODES) expect(run.stdout).to.include(m);
    expect(run.stderr).to.include('result digests: equal in every mode');
  });

  it('a second run (REST unreachable) reproduces the digest; it reports null sizes, never 0, and still frees the cache', async function () {
    this.timeout(10 * 60_000);
    const output = path.join(dir, 'no-rest.json');
    const run = await sparkTs(
      [
        'submit',
        'cache-bench',
        '--rows',
        String(ROWS),
        '--iterations',
        '1',
        '--modes',
        'none,MEMORY_ONLY',
        '--ui-url',
        'http://127.0.0.1:9',
        '--output',
        output,
      ],
      9 * 60_000,
    );
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.match(/memory and disk figures will be null: .*127\.0\.0\.1:9.*cannot be reached/);
    const report = JSON.parse(fs.readFileSync(output, 'utf8')) as CacheBenchReport;
    expect(report.rest_api.reachable).to.equal(false);
    for (const m of report.modes) {
      expect(m.memory_bytes, m.mode).to.equal(null);
      expect(m.disk_bytes, m.mode).to.equal(null);
      expect(m.bytes_per_row, m.mode).to.equal(null);
      expect(m.median_ms, `${m.mode}: one iteration has no later ones`).to.equal(null);
      expect(m.first_ms, m.mode).to.be.greaterThan(0);
    }
    expect(report.modes[1].storage_level).to.equal('MEMORY_ONLY');
    expect(report.modes[0].result_digest).to.equal(report.modes[1].result_digest);
    // Determinism: the same --rows and --seed, generated, preprocessed and queried again, give the same answers.
    expect(firstDigest, 'the first run produced a digest to compare with').to.match(/^[0-9a-f]{64}$/);
    expect(report.modes[0].result_digest, 'same digest as the first run').to.equal(firstDigest);
    // The job could not check through REST, but it did unpersist: the real REST API shows nothing of this run.
    expect(await rest.cachedWith(report.cache_marker)).to.deep.equal([]);
  });

  for (const [args, message] of [
    [['--rows', '0'], /--rows must be a positive integer \(at least 1\), got 0/],
    [['--rows=-3'], /--rows must be a positive integer \(at least 1\), got -3/],
    [['--iterations', '0'], /--iterations must be a positive integer/],
    [['--modes', 'none,MEMORY_ONLY_3'], /unknown mode "MEMORY_ONLY_3"; known modes: none, MEMORY_ONLY, /],
  ] as Array<[string[], RegExp]>) {
    it(`exits 2 with a clear message for ${args.join(' ')}`, async function () {
      this.timeout(60_000);
      const run = await sparkTs(['submit', 'cache-bench', ...args, '--output', path.join(dir, 'never.json')], 55_000);
      expect(run.code).to.equal(2);
      expect(run.stderr).to.match(message);
      expect(fs.existsSync(path.join(dir, 'never.json'))).to.equal(false);
    });
  }
});
