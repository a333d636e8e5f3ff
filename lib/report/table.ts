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
