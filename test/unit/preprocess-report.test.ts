import { expect } from 'chai';
import {
  assertInvariant,
  formatSummary,
  invariantViolations,
  InvariantError,
  type QualityReport,
  type ReportCounts,
} from '../../lib/preprocess/report';
import { buildScaler, normalize, parseScaler, standardize } from '../../lib/preprocess/scaler';

const ok: ReportCounts = {
  rows_read: 2240,
  rows_written: 2058,
  rows_quarantined: 0,
  duplicates_removed: 182,
  duplicate_ids_removed: 0,
  quarantine_by_reason: {},
};

describe('preprocess quality report and scaler.json', () => {
  it('accepts counts that add up', () => {
    expect(invariantViolations(ok)).to.deep.equal([]);
    expect(() =>
      assertInvariant({
        ...ok,
        rows_read: 2250,
        rows_quarantined: 10,
        quarantine_by_reason: { wrong_field_count: 4, unparseable_number: 6 },
      }),
    ).to.not.throw();
  });

  it('names every term when rows do not add up', () => {
    const v = invariantViolations({ ...ok, rows_written: 2057 });
    expect(v).to.have.length(1);
    expect(v[0]).to.contain('rows_read (2240)').and.contain('rows_written (2057)').and.contain('= 2239');
    expect(() => assertInvariant({ ...ok, rows_written: 2057 })).to.throw(InvariantError, /invariant broken/);
  });

  it('checks the reasons sum to the quarantine, and counts are whole and non-negative', () => {
    expect(invariantViolations({ ...ok, rows_written: 2057, rows_quarantined: 1, quarantine_by_reason: {} })[0]).to.contain('sums to 0');
    expect(invariantViolations({ ...ok, rows_written: 2058.5, rows_read: 2240.5 }).join()).to.contain('rows_written is not a count');
  });

  it('prints a short summary with the counts and where the files are', () => {
    const report = {
      ...ok,
      rows_read: 2250,
      rows_quarantined: 10,
      quarantine_by_reason: { wrong_field_count: 4, unparseable_number: 6 },
      nulls_imputed: { Income: 25 },
      outliers_handled: { Year_Birth: 3, Income: 1 },
      columns_dropped: ['Z_CostContact', 'Z_Revenue'],
      reference_date: '2014-06-29',
    } as unknown as QualityReport;
    const s = formatSummary(report, '/out');
    expect(s.split('\n')).to.have.length(7);
    expect(s).to.contain('2250 rows read -> 2058 written, 10 quarantined, 182 duplicates');
    expect(s)
      .to.contain('wrong_field_count 4, unparseable_number 6')
      .and.contain('Income 25')
      .and.contain('2014-06-29')
      .and.contain('/out/{customers/');
  });

  it('scales with min-max and population z-score, and 0 for a constant column', () => {
    const p = { min: 10, max: 30, mean: 20, sd: 5 };
    expect(normalize(10, p)).to.equal(0);
    expect(normalize(30, p)).to.equal(1);
    expect(standardize(25, p)).to.equal(1);
    const constant = { min: 3, max: 3, mean: 3, sd: 0 };
    expect(normalize(3, constant)).to.equal(0);
    expect(standardize(3, constant)).to.equal(0);
  });

  it('round-trips scaler.json and rejects a bad one', () => {
    const s = buildScaler('2014-06-29', 2058, { Income: { min: 1730, max: 162397, mean: 51000.5, sd: 21000.25 } });
    expect(parseScaler(JSON.stringify(s))).to.deep.equal(s);
    expect(() => parseScaler(JSON.stringify({ ...s, reference_date: 'June' }))).to.throw(/reference_date/);
    expect(() => parseScaler(JSON.stringify({ ...s, columns: { Income: { min: 1, max: 0, mean: 0, sd: 1 } } }))).to.throw(/max < min/);
    expect(() => parseScaler(JSON.stringify({ ...s, columns: { Income: { min: 1, max: 2, mean: null, sd: 1 } } }))).to.throw(
      /Income\.mean/,
    );
  });
});
