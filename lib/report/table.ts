import Table from 'cli-table3';

export type TableCell = string | number | bigint | boolean | null | undefined;

export interface TableOptions {
  /** Column indexes to right-align (numbers). */
  alignRight?: readonly number[];
  /** Plain ASCII borders without colour codes, for logs and files. Default: colour only on a TTY. */
  plain?: boolean;
}

/** A printed table (cli-table3). null/undefined cells print as "—" so a missing value never reads as 0. */
export function renderTable(head: readonly string[], rows: ReadonlyArray<readonly TableCell[]>, opts: TableOptions = {}): string {
  const plain = opts.plain ?? !process.stdout.isTTY;
  const right = new Set(opts.alignRight ?? []);
  const table = new Table({
    head: [...head],
    // compact: no rule between body rows (the rule under the header stays), so a long table stays readable.
    style: plain ? { head: [], border: [], compact: true } : { compact: true },
    colAligns: head.map((_h, i) => (right.has(i) ? 'right' : 'left')),
  });
  for (const row of rows) table.push(row.map((c) => (c === null || c === undefined ? '—' : String(c))));
  return table.toString();
}

/** The same table as Markdown (for summary.md files and READMEs); "|" in a cell is escaped, missing values are "—". */
export function renderMarkdownTable(
  head: readonly string[],
  rows: ReadonlyArray<readonly TableCell[]>,
  opts: Pick<TableOptions, 'alignRight'> = {},
): string {
  const right = new Set(opts.alignRight ?? []);
  const cell = (c: TableCell) => (c === null || c === undefined ? '—' : String(c).replace(/\|/g, '\\|').replace(/\n/g, ' '));
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return (
    [line(head.map(cell)), line(head.map((_h, i) => (right.has(i) ? '---:' : '---'))), ...rows.map((r) => line(r.map(cell)))].join('\n') +
    '\n'
  );
}
