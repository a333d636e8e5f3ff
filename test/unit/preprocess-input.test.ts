import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeKaggleCsvCandidates, findKaggleCsv, kaggleCsvCandidates } from '../../lib/preprocess/input';

describe('preprocess: where the Kaggle file is looked for', () => {
  let base: string;
  let root: string;
  before(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'kaggle-input-'));
    root = path.join(base, 'project');
    fs.mkdirSync(path.join(root, 'data', 'raw'), { recursive: true });
    fs.mkdirSync(path.join(base, 'shared', 'data'), { recursive: true });
  });
  after(() => fs.rmSync(base, { recursive: true, force: true }));

  it('tries data/raw/, then ../shared/data/ beside the project; SPARK_TS_KAGGLE_CSV alone when set', () => {
    expect(kaggleCsvCandidates({}, root)).to.deep.equal([
      path.join(root, 'data', 'raw', 'marketing_campaign.csv'),
      path.join(base, 'shared', 'data', 'marketing_campaign.csv'),
    ]);
    expect(kaggleCsvCandidates({ SPARK_TS_KAGGLE_CSV: '/x/y.csv' }, root)).to.deep.equal(['/x/y.csv']);
    expect(describeKaggleCsvCandidates({}, root)).to.equal(
      `data/raw/marketing_campaign.csv or ${path.join('..', 'shared', 'data', 'marketing_campaign.csv')}`,
    );
  });

  it('finds the first that exists, and nothing when none does', () => {
    expect(findKaggleCsv({}, root)).to.equal(undefined);
    const shared = path.join(base, 'shared', 'data', 'marketing_campaign.csv');
    fs.writeFileSync(shared, 'x');
    expect(findKaggleCsv({}, root)).to.equal(shared);
    const raw = path.join(root, 'data', 'raw', 'marketing_campaign.csv');
    fs.writeFileSync(raw, 'x');
    expect(findKaggleCsv({}, root)).to.equal(raw);
    expect(findKaggleCsv({ SPARK_TS_KAGGLE_CSV: path.join(base, 'absent.csv') }, root)).to.equal(undefined);
  });
});
