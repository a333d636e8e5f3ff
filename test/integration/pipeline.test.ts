import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { ensureKafka, ensureSpark } from '../support/servers';
import { validateResults, type BenchResults } from '../../lib/bench/results';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'spark-ts');

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; seconds: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(CLI, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out, seconds: (Date.now() - t0) / 1000 }));
  });
}

describe('the end-to-end run and the benchmark report', function () {
  let work: string;
  before(async function () {
    this.timeout(240_000);
    await ensureSpark();
    await ensureKafka();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'spark-ts-pipeline-'));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('`make run` passes every step on generated data at a small size', async function () {
    this.timeout(900_000);
    const dir = path.join(work, 'run');
    const r = await run(['run', '--quick', '--synthetic', '--work-dir', dir]);
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.match(/using generated data/);
    const steps = [
      'generate-data',
      'preprocess',
      'stream-produce',
      'stream',
      'stream-watch',
      'cdc-produce',
      'cdc-consume',
      'cdc-verify',
      'cache-bench',
    ];
    for (const [i, step] of steps.entries()) expect(r.out).to.include(`[${i + 1}/${steps.length}] ${step} ok`);
    const summary = fs.readFileSync(path.join(dir, 'reports', 'run', 'summary.md'), 'utf8');
    for (const step of steps) expect(summary).to.include(`| ${step} |`);
    // The live view read this run's topics to their end and stopped there, not at its time cap.
    const watch = fs.readFileSync(path.join(dir, 'reports', 'run', 'logs', 'stream-watch.log'), 'utf8');
    expect(watch).to.match(/watched [\d.]+ s \(to the end\): \d+ live updates/);
    const quality = JSON.parse(fs.readFileSync(path.join(dir, 'processed', 'quality-report.json'), 'utf8'));
    expect(quality.rows_read).to.equal(500);
    console.log(`      (make run --quick took ${r.seconds.toFixed(0)} s)`);
  });

  it('`make bench QUICK=1` writes a results.json that meets its schema, every figure positive and finite', async function () {
    this.timeout(900_000);
    const dir = path.join(work, 'bench');
    const r = await run(['submit', 'bench', '--quick', '--output-dir', dir]);
    expect(r.code, r.out).to.equal(0);
    const latest = path.join(dir, 'latest');
    expect(fs.lstatSync(latest).isSymbolicLink()).to.equal(true);
    const doc = JSON.parse(fs.readFileSync(path.join(latest, 'results.json'), 'utf8')) as BenchResults;
    expect(validateResults(doc)).to.deep.equal([]);
    const groups = new Set(doc.figures.map((f) => f.group));
    expect([...groups].sort()).to.deep.equal(['latency', 'memory', 'model', 'throughput']);
    for (const f of doc.figures) expect(f.n, f.id).to.be.at.least(3);
    for (const file of ['results.csv', 'summary.md']) expect(fs.existsSync(path.join(latest, file)), file).to.equal(true);
    expect(fs.readdirSync(latest).some((f) => f.endsWith('.svg'))).to.equal(true);
    console.log(`      (make bench QUICK=1 took ${r.seconds.toFixed(0)} s)`);
  });
});
