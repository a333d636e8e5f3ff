import type { ColumnScale } from './scaler';

/** DIR/quality-report.json. The keys the issue pins come first; the rest explain them. */
export interface QualityReport {
  rows_read: number;
  rows_quarantined: number;
  quarantine_by_reason: Record<string, number>;
  /** Rows removed because they repeat another row in every column but ID (the lowest ID is kept). */
  duplicates_removed: number;
  /** Rows removed because another row has the same ID and a later Dt_Customer. */
  duplicate_ids_removed: number;
  rows_written: number;
  /** Values filled, per column (only columns with at least one fill). */
  nulls_imputed: Record<string, number>;
  /** Values judged implausible and replaced, per column (see `rules`). */
  outliers_handled: Record<string, number>;
  columns_dropped: string[];
  feature_stats: Record<string, ColumnScale>;
  /** The value each imputed column was filled with. */
  imputation_values: Record<string, number | string>;
  /** Category values rewritten, per column: "from -> to": count. */
  values_normalized: Record<string, Record<string, number>>;
  /** yyyy-MM-dd: the latest Dt_Customer, where Age and Tenure_Days are measured. */
  reference_date: string;
  rules: {
    median: string;
    year_birth: string;
    income: string;
    income_fences: [number, number];
    marital_status: Record<string, string>;
    education_level: Record<string, number>;
  };
  input: { path: string; delimiter: string; line_ending: string; columns: string[] };
}

export type ReportCounts = Pick<
  QualityReport,
  'rows_read' | 'rows_written' | 'rows_quarantined' | 'duplicates_removed' | 'duplicate_ids_removed' | 'quarantine_by_reason'
>;

/** What was read is what was written plus what was set aside, and the reasons add up to the quarantine. */
export function invariantViolations(r: ReportCounts): string[] {
  const out: string[] = [];
  const accounted = r.rows_written + r.rows_quarantined + r.duplicates_removed + r.duplicate_ids_removed;
  if (accounted !== r.rows_read) {
    out.push(
      `rows_read (${r.rows_read}) != rows_written (${r.rows_written}) + rows_quarantined (${r.rows_quarantined}) + ` +
        `duplicates_removed (${r.duplicates_removed}) + duplicate_ids_removed (${r.duplicate_ids_removed}) = ${accounted}`,
    );
  }
  const byReason = Object.values(r.quarantine_by_reason).reduce((a, b) => a + b, 0);
  if (byReason !== r.rows_quarantined) out.push(`quarantine_by_reason sums to ${byReason}, rows_quarantined is ${r.rows_quarantined}`);
  for (const [k, v] of Object.entries(r)) {
    if (typeof v === 'number' && (!Number.isInteger(v) || v < 0)) out.push(`${k} is not a count: ${v}`);
  }
  return out;
}

export class InvariantError extends Error {
  constructor(readonly violations: string[]) {
    super(`quality report invariant broken:\n  ${violations.join('\n  ')}`);
    this.name = 'InvariantError';
  }
}

export function assertInvariant(r: ReportCounts): void {
  const v = invariantViolations(r);
  if (v.length) throw new InvariantError(v);
}

const fmtCounts = (o: Record<string, number>): string => {
  const e = Object.entries(o);
  return e.length ? e.map(([k, v]) => `${k} ${v}`).join(', ') : 'none';
};

/** The short human summary the job prints. */
export function formatSummary(r: QualityReport, outputDir: string): string {
  return [
    `preprocess: ${r.rows_read} rows read -> ${r.rows_written} written, ${r.rows_quarantined} quarantined, ` +
      `${r.duplicates_removed} duplicates and ${r.duplicate_ids_removed} duplicate IDs removed (invariant holds)`,
    `  quarantine:      ${fmtCounts(r.quarantine_by_reason)}`,
    `  imputed:         ${fmtCounts(r.nulls_imputed)}`,
    `  outliers:        ${fmtCounts(r.outliers_handled)}`,
    `  dropped columns: ${r.columns_dropped.join(', ') || 'none'}`,
    `  reference date:  ${r.reference_date} (Age, Tenure_Days)`,
    `  output:          ${outputDir}/{customers/, customers.csv, quarantine/, scaler.json, quality-report.json}`,
  ].join('\n');
}
