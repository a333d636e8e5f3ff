import { expect } from 'chai';
import { redactArgs } from '../../lib/util/secrets';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { commandOf, performanceMarkdown, writePerformanceDoc } from '../../lib/bench/performance';
import { loadResults } from '../../lib/bench/compare';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'bench');

describe('docs/performance.md generator', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-doc-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** A run directory under tmp/reports/bench holding the fixture (with `edit` applied). */
  function run(stamp: string, edit: (doc: Record<string, unknown>) => void = () => undefined): string {
    const dir = path.join(tmp, 'reports', 'bench', stamp);
    fs.mkdirSync(dir, { recursive: true });
    const doc = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'results.json'), 'utf8')) as Record<string, unknown>;
    edit(doc);
    fs.writeFileSync(path.join(dir, 'results.json'), JSON.stringify(doc));
    return dir;
  }

  it("states the run's date, command and machine, then its figures as tables by group", () => {
    const page = performanceMarkdown(loadResults(FIXTURE), 'reports/bench/20261130T161259Z');
    const lines = page.split('\n');
    expect(lines[0]).to.equal('# Performance: `make bench`');
    expect(lines).to.include('- date: 2026-11-30 16:17 UTC (`reports/bench/20261130T161259Z`)');
    expect(lines).to.include(
      '- command: `QUICK=1 make bench` (this run did not record its command line: the make target for its settings); ' +
        'QUICK: small workloads, not the full sizes; 3 repetitions per figure',
    );
    expect(lines).to.include('- machine: 2 cores, 24 GiB, AMD EPYC · Java 17.0.15 · Node 20.20.2 · Spark 4.2.0 · Kafka 4.4.0');
    expect(lines).to.include('### Latency');
    expect(lines).to.include('| Spark Connect round trip, SELECT 1 (median) | 33.7 | 31.0 – 70.8 | ms | 20 runs |');
    expect(lines).to.include('| collect through toArrow() | 285,670 | 188,419 – 398,365 | rows/s | 50,000 rows × 10 mixed columns |');
    expect(lines).to.include(
      '| Spark Connect server RSS at rest (before the suite) | 338.6 MiB | 338.6 MiB – 338.6 MiB | MiB | as the suite found the server |',
    );
    expect(lines).to.not.include('### Model');
    expect(page.endsWith('|\n')).to.equal(true);
  });

  it('names the command as recorded, else as make bench takes the settings', () => {
    const r = loadResults(FIXTURE);
    expect(commandOf(r)).to.equal('QUICK=1 make bench');
    expect(commandOf({ ...r, quick: false, repetitions: 5 })).to.equal("make bench ARGS='--repetitions 5'");
    expect(commandOf({ ...r, command: 'spark-ts submit bench --repetitions 4' })).to.equal('spark-ts submit bench --repetitions 4');
  });

  it('writes the page from the newest run that has a results.json, and leaves it when there is none', () => {
    const doc = path.join(tmp, 'docs', 'performance.md');
    const bench = path.join(tmp, 'reports', 'bench');
    expect(writePerformanceDoc(bench, doc, tmp)).to.equal(undefined);
    expect(fs.existsSync(doc)).to.equal(false);

    run('20261130T140024Z', (d) => ((d.machine as Record<string, unknown>).spark = '4.1.0'));
    const newest = run('20261130T161259Z');
    fs.mkdirSync(path.join(bench, '20261130T170000Z')); // a run that stopped before its results.json
    expect(writePerformanceDoc(bench, doc, tmp)).to.equal(newest);
    const page = fs.readFileSync(doc, 'utf8');
    expect(page).to.include('(`reports/bench/20261130T161259Z`)');
    expect(page).to.include('Spark 4.2.0');
    expect(page).to.include('- command: `QUICK=1 make bench` (this run did not record');
    expect(page).to.not.include('4.1.0');

    // `latest` wins when it points at a complete run.
    fs.symlinkSync('20261130T140024Z', path.join(bench, 'latest'));
    expect(writePerformanceDoc(bench, doc, tmp)).to.equal(path.join(bench, '20261130T140024Z'));
    expect(fs.readFileSync(doc, 'utf8')).to.include('Spark 4.1.0');
  });
});

describe('secrets in recorded command lines', () => {
  it('hides a Spark Connect token, a secret --conf value and the word after a secret flag; nothing else', () => {
    expect(
      redactArgs([
        'submit',
        '--remote',
        'sc://h:15002/;token=SECRET1;user_id=me',
        '--conf',
        'spark.ssl.keyPassword=SECRET2',
        '--token',
        'SECRET3',
        '--conf',
        'spark.sql.shuffle.partitions=4',
        'bench',
      ]),
    ).to.deep.equal([
      'submit',
      '--remote',
      'sc://h:15002/;token=(hidden);user_id=me',
      '--conf',
      'spark.ssl.keyPassword=(hidden)',
      '--token',
      '(hidden)',
      '--conf',
      'spark.sql.shuffle.partitions=4',
      'bench',
    ]);
  });
});
