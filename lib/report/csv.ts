import { stringify } from 'csv-stringify/sync';
import { writeFileAtomic } from './files';

/** A value a CSV cell can hold; null and undefined become an empty cell. */
export type CsvValue = string | number | bigint | boolean | null | undefined;

/**
 * CSV text with a header row, through csv-stringify (quoting, embedded separators and newlines are its job).
 * `columns` fixes the order and the set of columns; by default, the keys of the first row.
 */
export function toCsv(rows: ReadonlyArray<Readonly<Record<string, CsvValue>>>, columns?: readonly string[]): string {
  const cols = columns ?? (rows.length ? Object.keys(rows[0]) : []);
  const cell = (v: CsvValue): string | number | boolean | null =>
    v === undefined || v === null ? null : typeof v === 'bigint' ? v.toString() : v;
  return stringify(
    rows.map((r) => cols.map((c) => cell(r[c]))),
    { header: true, columns: [...cols], cast: { boolean: (b) => (b ? 'true' : 'false') } },
  );
}

export function writeCsv(file: string, rows: ReadonlyArray<Readonly<Record<string, CsvValue>>>, columns?: readonly string[]): void {
  writeFileAtomic(file, toCsv(rows, columns));
}
