import { expect } from 'chai';
import { DEFAULT_DEFECT_RATES, generatorPlan, rowLayout, uniformSql, validateRates, weightedPickSql } from '../../lib/preprocess/defects';
import { INPUT_COLUMN_NAMES } from '../../lib/preprocess/schema';

describe('preprocess generator: defect model', () => {
  it('accepts the defaults and rejects rates out of range', () => {
    expect(validateRates(DEFAULT_DEFECT_RATES)).to.equal(undefined);
    expect(validateRates({ ...DEFAULT_DEFECT_RATES, missing: 1 })).to.match(/missing must be in \[0, 1\)/);
    expect(validateRates({ ...DEFAULT_DEFECT_RATES, outlier: -0.1 })).to.match(/outlier/);
    expect(validateRates({ ...DEFAULT_DEFECT_RATES, badType: Number.NaN })).to.match(/badType/);
    expect(validateRates({ ...DEFAULT_DEFECT_RATES, duplicate: 0.4, duplicateId: 0.2 })).to.match(/below 0.5/);
  });

  it('lays out base rows, then exact duplicates, then duplicate IDs', () => {
    expect(rowLayout(10_000, { ...DEFAULT_DEFECT_RATES, duplicate: 0.08, duplicateId: 0.005 })).to.deep.equal({
      rows: 10_000,
      base: 9150,
      duplicates: 800,
      duplicateIds: 50,
    });
    expect(rowLayout(0, DEFAULT_DEFECT_RATES)).to.deep.equal({ rows: 0, base: 0, duplicates: 0, duplicateIds: 0 });
  });

  it('draws from a hash of (seed, key, salt), not from rand(), so partitioning cannot change a value', () => {
    const u = uniformSql(7, 'k', 'income');
    expect(u).to.contain("xxhash64(CAST(7 AS BIGINT), k, 'income')").and.not.contain('rand(');
    expect(uniformSql(8, 'k', 'income')).to.not.equal(u);
  });

  it('picks categories by cumulative weight', () => {
    const sql = weightedPickSql('u', [
      ['a', 1],
      ['b', 1],
      ['c', 2],
    ]);
    expect(sql).to.equal("CASE WHEN u < 0.250000000000 THEN 'a' WHEN u < 0.500000000000 THEN 'b' ELSE 'c' END");
  });

  it('builds three stages ending in one tab-separated line, with every column and each defect kind', () => {
    const plan = generatorPlan(1000, 1, DEFAULT_DEFECT_RATES, INPUT_COLUMN_NAMES);
    expect(plan.stages).to.have.length(3);
    const [s1, s2, s3] = plan.stages;
    expect(s1).to.have.length(3);
    for (const c of INPUT_COLUMN_NAMES) expect(s2.join('\n')).to.contain(`AS \`${c}\``);
    expect(s3).to.have.length(1);
    expect(s3[0])
      .to.match(/ AS value$/)
      .and.contain("concat_ws('\\t'")
      .and.contain("'extra'");
    for (const marker of ["'666666'", 'outlier_year', 'bad_number', 'bad_date', "missing_col = 'Income'"]) expect(s3[0]).to.contain(marker);
  });
});
