import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { SparkSession } from '../../lib/connect';
import { runGenerate, type GenerateResult } from '../../lib/preprocess/generate';
import { runPreprocess } from '../../lib/preprocess/pipeline';
import { rowLayout, type DefectRates } from '../../lib/preprocess/defects';
import { INPUT_COLUMNS, INPUT_COLUMN_NAMES } from '../../lib/preprocess/schema';
import { ensureSpark, kaggleCsvPath } from '../support/servers';
import { sparkRemote } from '../../lib/runtime/spark-server';

const RATES: DefectRates = { missing: 0.05, duplicate: 0.1, duplicateId: 0.02, outlier: 0.02, badType: 0.02, malformed: 0.02 };
const ROWS = 20_000;

const sha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Within 5 standard errors of a Bernoulli rate over n rows (plus a hair for rounding). */
function expectRate(measured: number, rate: number, n: number, what: string): void {
  const tol = 5 * Math.sqrt((rate * (1 - rate)) / n) + 1e-3;
  expect(Math.abs(measured - rate), `${what}: measured ${measured.toFixed(4)}, requested ${rate}`).to.be.at.most(tol);
}

const isDate = (s: string): boolean => {
  const m = /^(\d{2})-(\d{2})-(\d{4})$/.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[3]), Number(m[2]) - 1, Number(m[1])));
  return d.getUTCDate() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1;
};

/** What each line of the file is, decided in Node independently of Spark, with the job's precedence. */
function classify(lines: string[][]) {
  const out = { malformed: 0, badDate: 0, badNumber: 0, missing: 0, outlier: 0, good: [] as string[][] };
  for (const f of lines) {
    if (f.length !== INPUT_COLUMN_NAMES.length) {
      out.malformed++;
      continue;
    }
    if (f.some((v, i) => i > 0 && v === '')) out.missing++;
    if (['1893', '1899', '1900'].includes(f[1]) || f[4] === '666666') out.outlier++;
    if (f[7] !== '' && !isDate(f[7])) {
      out.badDate++;
      continue;
    }
    const badNumber = INPUT_COLUMNS.some((c, i) =>
      c.type === 'int' ? !/^(-?\d+)?$/.test(f[i]) : c.type === 'double' ? !/^(-?\d+(\.\d+)?)?$/.test(f[i]) : false,
    );
    if (badNumber) out.badNumber++;
    else out.good.push(f);
  }
  return out;
}

describe('generate-data (Spark)', function () {
  this.timeout(600_000);
  let spark: SparkSession;
  let tmp: string;
  let file: string;
  let gen: GenerateResult;
  let lines: string[][];

  before(async () => {
    await ensureSpark();
    spark = await SparkSession.builder().remote(sparkRemote()).appName('generate-data-test').getOrCreate();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), `generate-${randomUUID()}-`));
    file = path.join(tmp, 'a.csv');
    gen = await runGenerate(spark, { rows: ROWS, seed: 11, output: file, rates: RATES, partitions: 1 });
    const text = fs.readFileSync(file, 'utf8');
    expect(text.endsWith('\r\n')).to.equal(true);
    lines = text
      .slice(0, -2)
      .split('\r\n')
      .slice(1)
      .map((l) => l.split('\t'));
  });
  after(async () => {
    await spark?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('writes the Kaggle format: same header, tab-separated, CRLF, N rows', () => {
    const text = fs.readFileSync(file, 'utf8');
    const header = text.slice(0, text.indexOf('\r\n'));
    const kaggle = kaggleCsvPath();
    const expectedHeader = kaggle ? fs.readFileSync(kaggle, 'utf8').split('\r\n')[0] : INPUT_COLUMN_NAMES.join('\t');
    expect(header).to.equal(expectedHeader);
    expect(lines).to.have.length(ROWS);
    expect(text.replace(/\r\n/g, '')).to.not.contain('\n');
    expect(gen.layout).to.deep.equal(rowLayout(ROWS, RATES));
  });

  it('gives identical bytes for the same seed (whatever the partitioning) and different bytes for another', async () => {
    const again = path.join(tmp, 'b.csv');
    await runGenerate(spark, { rows: ROWS, seed: 11, output: again, rates: RATES, partitions: 4 });
    expect(sha256(again)).to.equal(sha256(file));
    const other = path.join(tmp, 'c.csv');
    await runGenerate(spark, { rows: ROWS, seed: 12, output: other, rates: RATES });
    expect(sha256(other)).to.not.equal(sha256(file));
  });

  it('has the requested defect rates, within tolerance', () => {
    const c = classify(lines);
    expectRate(c.malformed / ROWS, RATES.malformed, ROWS, 'malformed');
    expectRate((c.badDate + c.badNumber) / ROWS, RATES.badType, ROWS, 'bad type');
    expect(c.badDate).to.be.greaterThan(0);
    expect(c.badNumber).to.be.greaterThan(0);
    expectRate(c.missing / ROWS, RATES.missing, ROWS, 'missing');
    expectRate(c.outlier / ROWS, RATES.outlier, ROWS, 'outlier');
    // A duplicate stays exact unless it or its source drew a row defect.
    const seen = new Set<string>();
    let dups = 0;
    for (const f of c.good) {
      const key = f.slice(1).join('\t');
      if (seen.has(key)) dups++;
      else seen.add(key);
    }
    const survive = (1 - RATES.malformed - RATES.badType) ** 2;
    expectRate(dups / ROWS, RATES.duplicate * survive, ROWS, 'duplicate');
    const ids = new Set(lines.map((f) => f[0]));
    expect(ROWS - ids.size).to.equal(gen.layout.duplicateIds);
  });

  it('is read by preprocess with every defect accounted for, as Node counts them', async () => {
    const out = path.join(tmp, 'out');
    const { report } = await runPreprocess(spark, { input: file, output: out });
    const c = classify(lines);
    expect(report.rows_read).to.equal(ROWS);
    expect(report.quarantine_by_reason).to.deep.equal({
      wrong_field_count: c.malformed,
      unparseable_date: c.badDate,
      unparseable_number: c.badNumber,
    });
    // Content duplicates keep the lowest ID; then an ID seen twice keeps one row.
    const byContent = new Map<string, number>();
    for (const f of c.good) {
      const key = f.slice(1).join('\t');
      byContent.set(key, Math.min(byContent.get(key) ?? Infinity, Number(f[0])));
    }
    expect(report.duplicates_removed).to.equal(c.good.length - byContent.size);
    expect(report.duplicate_ids_removed).to.equal(byContent.size - new Set(byContent.values()).size);
    expect(report.rows_written + report.rows_quarantined + report.duplicates_removed + report.duplicate_ids_removed).to.equal(ROWS);
    expect(report.outliers_handled.Year_Birth).to.be.greaterThan(0);
    expect(report.outliers_handled.Income).to.be.greaterThan(0);
  });
});
